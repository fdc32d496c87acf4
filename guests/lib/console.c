/* COM1 output, polled: wait for LSR bit 5 (transmit holding register empty), then write THR. */
#include "guest.h"
#include "io.h"

#define UART_THR 0
#define UART_IER 1
#define UART_DLL 0
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define LCR_8N1 0x03
#define LCR_DLAB 0x80

/* Far more than a byte needs at any speed, even with one VM exit per LSR read. */
#define THRE_SPINS 200000

static u32 stalls;

void con_init(void)
{
	outb(COM1_BASE + UART_IER, 0x00);
	outb(COM1_BASE + UART_LCR, LCR_DLAB);
	outb(COM1_BASE + UART_DLL, 1); /* 115200 baud */
	outb(COM1_BASE + UART_DLM, 0);
	outb(COM1_BASE + UART_LCR, LCR_8N1);
	outb(COM1_BASE + UART_FCR, 0x07); /* FIFOs on and cleared */
	outb(COM1_BASE + UART_MCR, 0x03); /* DTR, RTS; OUT2 off: no interrupts */
}

void con_putc(char c)
{
	u32 spins = 0;

	while (!(inb(COM1_BASE + UART_LSR) & LSR_THRE)) {
		if (++spins == THRE_SPINS) {
			stalls++;
			break;
		}
		cpu_relax();
	}
	outb(COM1_BASE + UART_THR, (u8)c);
}

void con_write(const char *s)
{
	while (*s)
		con_putc(*s++);
}

u32 con_take_stalls(void)
{
	u32 n = stalls;

	stalls = 0;
	return n;
}

static void put_console(void *ctx, char c)
{
	(void)ctx;
	con_putc(c);
}

int con_vprintf(const char *fmt, va_list ap)
{
	return vformat(put_console, NULL, fmt, ap);
}

int con_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = con_vprintf(fmt, ap);
	va_end(ap);
	return n;
}
