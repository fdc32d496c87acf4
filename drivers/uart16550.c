/* 16550 UART, polled. */
#include "drivers/uart.h"
#include "arch/x86.h"

enum {
	UART_THR = 0, UART_RBR = 0, UART_DLL = 0,
	UART_IER = 1, UART_DLM = 1,
	UART_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_SCR = 7,
};

#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define MCR_DTR_RTS_OUT2 0x0b
#define FCR_ENABLE_CLEAR 0x07
#define UART_CLOCK_DIV 115200u
/* A transmitter at 9600 baud empties a byte in ~1 ms; this bound covers far slower lines while
 * keeping a dead UART from hanging the hypervisor. */
#define TX_SPIN_LIMIT 1000000u

static bool scratch_probe(u16 port)
{
	outb(port + UART_SCR, 0x5a);
	if (inb(port + UART_SCR) != 0x5a)
		return false;
	outb(port + UART_SCR, 0xa5);
	return inb(port + UART_SCR) == 0xa5;
}

bool uart_init(struct uart *u, u16 port, u32 baud)
{
	u16 divisor = (u16)(UART_CLOCK_DIV / (baud ? baud : 115200));

	u->port = port;
	u->present = scratch_probe(port);
	if (!u->present)
		return false;
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + UART_DLL, (u8)divisor);
	outb(port + UART_DLM, (u8)(divisor >> 8));
	outb(port + UART_LCR, LCR_8N1);
	outb(port + UART_FCR, FCR_ENABLE_CLEAR);
	outb(port + UART_MCR, MCR_DTR_RTS_OUT2);
	return true;
}

void uart_putc(struct uart *u, char c)
{
	if (!u->present)
		return;
	for (u32 i = 0; i < TX_SPIN_LIMIT; i++) {
		if (inb(u->port + UART_LSR) & LSR_THR_EMPTY)
			break;
		cpu_relax();
	}
	outb(u->port + UART_THR, (u8)c);
}

void uart_write(struct uart *u, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			uart_putc(u, '\r');
		uart_putc(u, s[i]);
	}
}

int uart_getc(struct uart *u)
{
	if (!u->present || !(inb(u->port + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(u->port + UART_RBR);
}
