/* A virtual 16550A UART (the partition's COM1). Pure device model: register reads and writes
 * come from the exit handler, transmitted bytes leave through `tx`, received bytes come in with
 * vuart_receive, and the interrupt line is reported through `irq`. Good enough for polled and
 * interrupt-driven drivers (Linux 8250, firmware-style polled output): FIFO control, LSR (DR,
 * THRE, TEMT, OE), IER, IIR priorities (line status > RX data > THR empty > modem status), LCR
 * with DLAB and the divisor latch, MCR (loopback), MSR, SCR. */
#ifndef BH_HV_VUART_H
#define BH_HV_VUART_H

#include "types.h"

#define VUART_COM1_BASE 0x3f8
#define VUART_COM1_IRQ 4
#define VUART_PORTS 8
#define VUART_RX_FIFO 16

struct vuart {
	u8 ier, lcr, mcr, lsr, msr, scr, fcr;
	u8 dll, dlm;
	bool thr_empty_irq;   /* THRE interrupt pending (cleared by reading IIR or writing THR) */
	u8 rx[VUART_RX_FIFO];
	u8 rx_head, rx_count;
	bool irq_level;       /* last level given to irq() */

	void (*tx)(void *ctx, u8 byte);     /* a byte the guest transmitted */
	void (*irq)(void *ctx, bool level); /* the interrupt line changed */
	void *ctx;
};

void vuart_init(struct vuart *u, void (*tx)(void *ctx, u8 byte),
		void (*irq)(void *ctx, bool level), void *ctx);
/* Reset state (as after power-on), keeping the callbacks. */
void vuart_reset(struct vuart *u);

/* An access to register `offset` (0-7) of size 1. Reads return the value in *value. */
void vuart_write(struct vuart *u, u16 offset, u8 value);
u8 vuart_read(struct vuart *u, u16 offset);

/* A byte typed at the console for this partition. Returns false if the FIFO was full (the byte
 * is dropped and the overrun bit set, as on the real chip), or if the UART is in loopback mode
 * (its serial input is disconnected then; the byte is dropped). */
bool vuart_receive(struct vuart *u, u8 byte);
/* Room left in the receive FIFO (0 in loopback mode): a caller that keeps bytes back while this
 * is 0 loses none. */
u32 vuart_rx_room(const struct vuart *u);

#endif
