/* A virtual 16550A UART. Transmission is instantaneous: a byte written to THR leaves through
 * tx() at once, so THR and the transmitter are always empty (LSR.THRE and LSR.TEMT stay set).
 * Nothing depends on time: the baud rate is stored but has no effect, and the receive FIFO's
 * "character timeout" interrupt (IIR 0x0c), which the chip raises when fewer bytes than the
 * trigger level have waited for a while, is pending at once. The receive buffer holds 16 bytes
 * even with the FIFO disabled (a real 16450-mode chip holds one; holding more only helps).
 *
 * The interrupt line follows the PC wiring: the chip's output reaches the interrupt controller
 * only while MCR.OUT2 is set. */
#include "hv/vuart.h"
#include "lib/string.h"

/* Register offsets */
#define REG_RBR_THR 0 /* DLL when LCR.DLAB */
#define REG_IER 1     /* DLM when LCR.DLAB */
#define REG_IIR_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define REG_MSR 6
#define REG_SCR 7

#define IER_RDI 0x01  /* received data available */
#define IER_THRI 0x02 /* transmitter holding register empty */
#define IER_RLSI 0x04 /* receiver line status */
#define IER_MSI 0x08  /* modem status */
#define IER_MASK 0x0f /* bits 4-7 are always 0 on a 16550A */

#define IIR_NONE 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFO 0xc0 /* both bits set: FIFOs enabled (16550A) */

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_DMA 0x08
#define FCR_TRIGGER 0xc0
#define FCR_KEEP (FCR_ENABLE | FCR_DMA | FCR_TRIGGER) /* bits 1-2 clear themselves */

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRORS 0x1e /* OE, PE, FE, BI: reported as a line status interrupt */

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_DELTAS 0x0f
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
/* Outside loopback: a cable with a listening terminal at the other end. */
#define MSR_CABLE (MSR_CTS | MSR_DSR | MSR_DCD)

static bool loopback(const struct vuart *u)
{
	return u->mcr & MCR_LOOP;
}

/* Receive-FIFO trigger level from FCR bits 6-7. */
static u32 rx_trigger(const struct vuart *u)
{
	static const u8 levels[4] = { 1, 4, 8, 14 };

	return levels[(u->fcr & FCR_TRIGGER) >> 6];
}

/* The highest-priority pending interrupt, as IIR bits 0-3. */
static u8 pending(const struct vuart *u)
{
	if ((u->ier & IER_RLSI) && (u->lsr & LSR_ERRORS))
		return IIR_RLSI;
	if ((u->ier & IER_RDI) && u->rx_count) {
		if ((u->fcr & FCR_ENABLE) && u->rx_count < rx_trigger(u))
			return IIR_TIMEOUT;
		return IIR_RDI;
	}
	if ((u->ier & IER_THRI) && u->thr_empty_irq)
		return IIR_THRI;
	if ((u->ier & IER_MSI) && (u->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NONE;
}

static void update_irq(struct vuart *u)
{
	bool level = (u->mcr & MCR_OUT2) && pending(u) != IIR_NONE;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->irq)
		u->irq(u->ctx, level);
}

/* Status lines seen by MSR bits 4-7: looped back from MCR, or a connected cable. */
static void set_modem_status(struct vuart *u)
{
	u8 old = u->msr, now = MSR_CABLE;

	if (loopback(u)) {
		now = 0;
		if (u->mcr & MCR_RTS)
			now |= MSR_CTS;
		if (u->mcr & MCR_DTR)
			now |= MSR_DSR;
		if (u->mcr & MCR_OUT1)
			now |= MSR_RI;
		if (u->mcr & MCR_OUT2)
			now |= MSR_DCD;
	}
	u8 changed = (u8)(old ^ now);
	u8 deltas = old & MSR_DELTAS;

	if (changed & MSR_CTS)
		deltas |= MSR_DCTS;
	if (changed & MSR_DSR)
		deltas |= MSR_DDSR;
	if ((old & MSR_RI) && !(now & MSR_RI)) /* trailing edge only */
		deltas |= MSR_TERI;
	if (changed & MSR_DCD)
		deltas |= MSR_DDCD;
	u->msr = (u8)(now | deltas);
}

static bool rx_push(struct vuart *u, u8 byte)
{
	if (u->rx_count == VUART_RX_FIFO) {
		u->lsr |= LSR_OE;
		return false;
	}
	u->rx[(u->rx_head + u->rx_count) % VUART_RX_FIFO] = byte;
	u->rx_count++;
	return true;
}

static u8 rx_pop(struct vuart *u)
{
	u8 byte;

	if (!u->rx_count)
		return 0;
	byte = u->rx[u->rx_head];
	u->rx_head = (u8)((u->rx_head + 1) % VUART_RX_FIFO);
	u->rx_count--;
	return byte;
}

void vuart_init(struct vuart *u, void (*tx)(void *ctx, u8 byte),
		void (*irq)(void *ctx, bool level), void *ctx)
{
	memset(u, 0, sizeof(*u));
	u->tx = tx;
	u->irq = irq;
	u->ctx = ctx;
	vuart_reset(u);
}

void vuart_reset(struct vuart *u)
{
	u->ier = 0;
	u->lcr = 0;
	u->mcr = 0;
	u->lsr = 0;
	u->msr = MSR_CABLE;
	u->scr = 0;
	u->fcr = 0;
	u->dll = 12; /* 9600 baud, as PC firmware leaves it */
	u->dlm = 0;
	u->thr_empty_irq = false;
	u->rx_head = 0;
	u->rx_count = 0;
	update_irq(u);
}

static void write_fcr(struct vuart *u, u8 value)
{
	if ((value ^ u->fcr) & FCR_ENABLE) {
		u->rx_count = 0; /* switching the FIFOs on or off empties them */
		u->rx_head = 0;
	}
	if (!(value & FCR_ENABLE)) {
		u->fcr = 0; /* the other bits are only written together with bit 0 */
		return;
	}
	if (value & FCR_CLEAR_RX) {
		u->rx_count = 0;
		u->rx_head = 0;
	}
	/* FCR_CLEAR_TX: the transmitter is always empty. */
	u->fcr = value & FCR_KEEP;
}

void vuart_write(struct vuart *u, u16 offset, u8 value)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (offset) {
	case REG_RBR_THR:
		if (dlab) {
			u->dll = value;
			return;
		}
		if (loopback(u))
			rx_push(u, value);
		else if (u->tx)
			u->tx(u->ctx, value);
		u->thr_empty_irq = true; /* sent at once: THR is empty again */
		break;
	case REG_IER:
		if (dlab) {
			u->dlm = value;
			return;
		}
		/* Enabling the THRE interrupt while THR is empty raises it, as the chip does. */
		if ((value & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_empty_irq = true;
		u->ier = value & IER_MASK;
		break;
	case REG_IIR_FCR:
		write_fcr(u, value);
		break;
	case REG_LCR:
		u->lcr = value;
		return;
	case REG_MCR:
		u->mcr = value & MCR_MASK;
		set_modem_status(u);
		break;
	case REG_SCR:
		u->scr = value;
		return;
	default: /* LSR and MSR: factory test registers, writes ignored; beyond 7: no register */
		return;
	}
	update_irq(u);
}

u8 vuart_read(struct vuart *u, u16 offset)
{
	bool dlab = u->lcr & LCR_DLAB;
	u8 value;

	switch (offset) {
	case REG_RBR_THR:
		if (dlab)
			return u->dll;
		value = rx_pop(u);
		break;
	case REG_IER:
		return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR:
		value = pending(u);
		if (value == IIR_THRI)
			u->thr_empty_irq = false; /* reading IIR acknowledges THRE */
		if (u->fcr & FCR_ENABLE)
			value |= IIR_FIFO;
		break;
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		value = LSR_THRE | LSR_TEMT | (u->lsr & LSR_ERRORS);
		if (u->rx_count)
			value |= LSR_DR;
		u->lsr &= (u8)~LSR_ERRORS; /* reading LSR clears the error bits */
		break;
	case REG_MSR:
		value = u->msr;
		u->msr &= (u8)~MSR_DELTAS;
		break;
	case REG_SCR:
		return u->scr;
	default:
		return 0xff; /* no register: the bus floats */
	}
	update_irq(u);
	return value;
}

bool vuart_receive(struct vuart *u, u8 byte)
{
	bool ok;

	if (loopback(u))
		return false; /* the serial input is disconnected in loopback mode */
	ok = rx_push(u, byte);
	update_irq(u);
	return ok;
}

u32 vuart_rx_room(const struct vuart *u)
{
	return loopback(u) ? 0 : VUART_RX_FIFO - u->rx_count;
}
