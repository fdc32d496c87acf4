/* 16550 UART on an I/O port: the hypervisor's physical console. */
#ifndef BH_DRIVERS_UART_H
#define BH_DRIVERS_UART_H

#include "types.h"

struct uart {
	u16 port;
	bool present; /* a scratch-register probe found a UART */
};

/* Programs 8N1 at `baud` with FIFOs on and interrupts off. Returns false if nothing answers at
 * `port` (writes are then dropped instead of spinning forever on LSR). */
bool uart_init(struct uart *u, u16 port, u32 baud);
void uart_putc(struct uart *u, char c);
void uart_write(struct uart *u, const char *s, size_t n);
/* Returns a received byte, or -1 if none is waiting. */
int uart_getc(struct uart *u);

#endif
