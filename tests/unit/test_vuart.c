/* Unit tests of hv/vuart.c, the virtual 16550A UART: the register sequences of Linux's 8250
 * driver (probe, startup, interrupt handler) and of polled firmware-style drivers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "types.h"
#include "hv/vuart.h"

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4,
       LSR = 5, MSR = 6, SCR = 7 };

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IIR_NONE 0x01

struct bench {
	struct vuart u;
	u8 tx[256];
	unsigned int tx_len;
	bool level;
	unsigned int irq_calls;
};

static void on_tx(void *ctx, u8 byte)
{
	struct bench *b = ctx;

	assert_true(b->tx_len < sizeof(b->tx));
	b->tx[b->tx_len++] = byte;
}

static void on_irq(void *ctx, bool level)
{
	struct bench *b = ctx;

	/* called only on a change */
	assert_true(level != b->level);
	b->level = level;
	b->irq_calls++;
}

static struct bench *bench_new(void)
{
	static struct bench b;

	memset(&b, 0, sizeof(b));
	vuart_init(&b.u, on_tx, on_irq, &b);
	return &b;
}

static u8 rd(struct bench *b, u16 reg)
{
	return vuart_read(&b->u, reg);
}

static void wr(struct bench *b, u16 reg, u8 value)
{
	vuart_write(&b->u, reg, value);
}

/* ---- power-on state --------------------------------------------------------------------- */

static void test_reset_state(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	assert_int_equal(rd(b, IER), 0);
	assert_int_equal(rd(b, IIR), IIR_NONE);
	assert_int_equal(rd(b, LCR), 0);
	assert_int_equal(rd(b, MCR), 0);
	assert_int_equal(rd(b, LSR), LSR_THRE | LSR_TEMT);
	assert_int_equal(rd(b, MSR), 0xb0); /* CTS, DSR, DCD: a cable is present */
	assert_int_equal(rd(b, RBR), 0);   /* nothing received */
	assert_int_equal(vuart_rx_room(&b->u), VUART_RX_FIFO);
	assert_int_equal(b->irq_calls, 0);
	assert_false(b->level);
}

static void test_reset_keeps_callbacks_and_drops_line(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	wr(b, MCR, MCR_OUT2);
	wr(b, IER, IER_THRI);
	assert_true(b->level);
	wr(b, LCR, 0x83);
	wr(b, SCR, 0x5a);
	vuart_receive(&b->u, 'x');
	vuart_reset(&b->u);
	assert_false(b->level);
	assert_int_equal(b->irq_calls, 2);
	assert_int_equal(rd(b, LCR), 0);
	assert_int_equal(rd(b, SCR), 0);
	assert_int_equal(rd(b, LSR), LSR_THRE | LSR_TEMT);
	assert_int_equal(rd(b, IER), 0);
	wr(b, THR, 'k');
	assert_int_equal(b->tx_len, 1);
	assert_int_equal(b->tx[0], 'k');
}

/* ---- Linux 8250 probe: autoconfig() and autoconfig_16550a() ---------------------------- */

static void test_linux_probe(void **state)
{
	struct bench *b = bench_new();
	u8 save_ier, save_mcr, save_lcr, scratch2, scratch3, status1, status2;

	(void)state;
	/* IER test: bits 0-3 can be cleared and set */
	save_ier = rd(b, IER);
	wr(b, IER, 0);
	scratch2 = rd(b, IER) & 0x0f;
	wr(b, IER, 0x0f);
	scratch3 = rd(b, IER) & 0x0f;
	wr(b, IER, save_ier);
	assert_int_equal(scratch2, 0);
	assert_int_equal(scratch3, 0x0f);

	/* loopback test: MSR follows MCR (RTS -> CTS, OUT2 -> DCD) */
	save_mcr = rd(b, MCR);
	save_lcr = rd(b, LCR);
	wr(b, MCR, MCR_LOOP | 0x0a);
	status1 = rd(b, MSR) & 0xf0;
	wr(b, MCR, save_mcr);
	assert_int_equal(status1, 0x90);

	/* EFR probe (LCR 0xBF puts an EFR at offset 2 on 16650s; here it is FCR) */
	wr(b, LCR, 0xbf);
	wr(b, 2, 0);
	wr(b, LCR, 0);
	/* FIFO detection: IIR bits 6-7 both set once FCR.0 is set */
	wr(b, FCR, 0x01);
	assert_int_equal(rd(b, IIR) >> 6, 3);

	/* autoconfig_16550a: no EFR behind DLAB (offset 2 reads non-zero) */
	wr(b, LCR, 0x80);
	assert_int_not_equal(rd(b, 2), 0);
	wr(b, LCR, 0xbf);
	assert_int_not_equal(rd(b, 2), 0);
	/* not a 16750: IIR bit 5 does not follow FCR bit 5 */
	wr(b, LCR, 0);
	wr(b, FCR, 0x01 | 0x20);
	status1 = rd(b, IIR) >> 5;
	wr(b, FCR, 0x01);
	wr(b, LCR, 0x80);
	wr(b, FCR, 0x01 | 0x20);
	status2 = rd(b, IIR) >> 5;
	wr(b, FCR, 0x01);
	wr(b, LCR, 0);
	assert_int_equal(status1, 6);
	assert_int_equal(status2, 6);
	/* not an XScale UART: IER bit 6 (UUE) does not stick */
	save_ier = rd(b, IER);
	wr(b, IER, save_ier & ~0x40);
	assert_int_equal(rd(b, IER) & 0x40, 0);
	wr(b, IER, save_ier | 0x40);
	assert_int_equal(rd(b, IER) & 0x40, 0);
	wr(b, IER, save_ier);

	/* restore, clear FIFOs, drain RX */
	wr(b, LCR, save_lcr);
	wr(b, MCR, save_mcr);
	wr(b, FCR, 0x01);
	wr(b, FCR, 0x07);
	wr(b, FCR, 0);
	rd(b, RBR);
	wr(b, IER, 0);
	assert_int_equal(rd(b, IIR), IIR_NONE);
	assert_int_not_equal(rd(b, LSR), 0xff); /* "LSR safety check" */
	assert_int_equal(b->tx_len, 0);
	assert_int_equal(b->irq_calls, 0); /* OUT2 never set: the line stayed low */
}

/* serial8250_do_startup(): THRE re-assertion test and the TXEN test. */
static void test_linux_startup_thre_tests(void **state)
{
	struct bench *b = bench_new();
	u8 iir1, iir, lsr;

	(void)state;
	wr(b, LCR, 0x03);
	/* UART_BUG_THRE test: THRE must be re-asserted when IER.THRI is enabled again */
	assert_true(rd(b, LSR) & LSR_THRE);
	wr(b, IER, IER_THRI);
	iir1 = rd(b, IIR);
	wr(b, IER, 0);
	wr(b, IER, IER_THRI);
	iir = rd(b, IIR);
	wr(b, IER, 0);
	assert_int_equal(iir1 & 0x0f, 0x02);
	assert_int_equal(iir & 0x0f, 0x02);

	/* set_mctrl, then the TXEN test: enabling THRI gives an interrupt at once */
	wr(b, MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	wr(b, IER, IER_THRI);
	lsr = rd(b, LSR);
	iir = rd(b, IIR);
	wr(b, IER, 0);
	assert_true(lsr & LSR_TEMT);
	assert_int_equal(iir & IIR_NONE, 0);
	assert_false(b->level);
	assert_int_equal(b->irq_calls, 2); /* up on IER write, down on the IIR read */
}

/* ---- transmit --------------------------------------------------------------------------- */

static void test_polled_tx(void **state)
{
	struct bench *b = bench_new();
	const char *msg = "Hello, partition!\r\n";

	(void)state;
	wr(b, LCR, 0x03);
	for (const char *p = msg; *p; p++) {
		int spins = 0;

		while (!(rd(b, LSR) & LSR_THRE))
			assert_true(++spins < 2);
		wr(b, THR, (u8)*p);
		assert_int_equal(rd(b, LSR), LSR_THRE | LSR_TEMT); /* sent at once */
	}
	assert_int_equal(b->tx_len, strlen(msg));
	assert_memory_equal(b->tx, msg, strlen(msg));
	assert_int_equal(b->irq_calls, 0);
	assert_int_equal(rd(b, IIR), IIR_NONE); /* THRE interrupt not enabled */
}

static void test_interrupt_driven_tx(void **state)
{
	struct bench *b = bench_new();
	const char *msg = "abc";
	unsigned int sent = 0, interrupts = 0;

	(void)state;
	wr(b, LCR, 0x03);
	wr(b, FCR, 0xc1);
	wr(b, MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	/* start_tx: enable THRI; the empty THR raises the line at once */
	wr(b, IER, IER_RDI | IER_THRI);
	while (b->level) {
		u8 iir;

		interrupts++;
		assert_true(interrupts < 10);
		/* serial8250_handle_irq */
		iir = rd(b, IIR);
		assert_int_equal(iir, 0xc2);
		assert_false(b->level); /* the IIR read acknowledged THRE */
		if (rd(b, LSR) & LSR_THRE) {
			if (msg[sent])
				wr(b, THR, (u8)msg[sent++]);
			else
				wr(b, IER, IER_RDI); /* stop_tx */
		}
	}
	assert_int_equal(sent, 3);
	assert_int_equal(interrupts, 4); /* one per byte, and the final "empty" one */
	assert_int_equal(b->tx_len, 3);
	assert_memory_equal(b->tx, "abc", 3);
	assert_int_equal(rd(b, IIR), 0xc1);
}

static void test_thr_write_raises_thre_each_time(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	wr(b, MCR, MCR_OUT2);
	wr(b, IER, IER_THRI);
	assert_true(b->level);
	assert_int_equal(rd(b, IIR), 0x02);
	assert_false(b->level);
	assert_int_equal(rd(b, IIR), IIR_NONE); /* acknowledged */
	wr(b, IER, IER_THRI);                    /* already enabled: no new interrupt */
	assert_false(b->level);
	wr(b, THR, 'x');
	assert_true(b->level);
	wr(b, THR, 'y'); /* still pending: no second call */
	assert_int_equal(b->irq_calls, 3);
	wr(b, IER, 0); /* masked */
	assert_false(b->level);
	assert_int_equal(rd(b, IIR), IIR_NONE);
}

static void test_out2_gates_the_line(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	wr(b, IER, IER_THRI);
	assert_false(b->level);
	assert_int_equal(rd(b, IIR), 0x02); /* pending, but not wired to the PIC */
	wr(b, THR, 'a');
	assert_false(b->level);
	wr(b, MCR, MCR_OUT2);
	assert_true(b->level);
	wr(b, MCR, 0);
	assert_false(b->level);
	assert_int_equal(b->irq_calls, 2);
}

/* ---- receive ---------------------------------------------------------------------------- */

static void test_polled_rx(void **state)
{
	struct bench *b = bench_new();
	char got[8];
	unsigned int n = 0;

	(void)state;
	assert_true(vuart_receive(&b->u, 'o'));
	assert_true(vuart_receive(&b->u, 'k'));
	assert_int_equal(vuart_rx_room(&b->u), VUART_RX_FIFO - 2);
	while (rd(b, LSR) & LSR_DR)
		got[n++] = (char)rd(b, RBR);
	assert_int_equal(n, 2);
	assert_memory_equal(got, "ok", 2);
	assert_int_equal(rd(b, LSR), LSR_THRE | LSR_TEMT);
	assert_int_equal(b->irq_calls, 0);
}

static void test_interrupt_driven_rx(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	wr(b, MCR, MCR_OUT2);
	wr(b, IER, IER_RDI | IER_RLSI);
	assert_false(b->level);
	vuart_receive(&b->u, 'a');
	assert_true(b->level);
	assert_int_equal(rd(b, IIR), 0x04); /* FIFO off: received data available */
	assert_true(b->level);              /* reading IIR does not acknowledge RX data */
	assert_int_equal(rd(b, LSR), LSR_DR | LSR_THRE | LSR_TEMT);
	vuart_receive(&b->u, 'b');
	assert_int_equal(rd(b, RBR), 'a');
	assert_true(b->level);
	assert_int_equal(rd(b, RBR), 'b');
	assert_false(b->level);
	assert_int_equal(rd(b, IIR), IIR_NONE);
	assert_int_equal(b->irq_calls, 2);
}

static void test_rx_fifo_trigger_level(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	wr(b, FCR, 0x81); /* FIFO on, trigger at 8 bytes, as Linux sets a 16550A */
	wr(b, IER, IER_RDI);
	wr(b, MCR, MCR_OUT2);
	for (int i = 0; i < 7; i++)
		vuart_receive(&b->u, (u8)('0' + i));
	/* below the trigger: character timeout (no time is modelled: pending at once) */
	assert_true(b->level);
	assert_int_equal(rd(b, IIR), 0xcc);
	vuart_receive(&b->u, '7');
	assert_int_equal(rd(b, IIR), 0xc4);
	for (int i = 0; i < 8; i++)
		assert_int_equal(rd(b, RBR), '0' + i);
	assert_int_equal(rd(b, IIR), 0xc1);
	assert_false(b->level);
	/* trigger level 1: any byte is "data available" */
	wr(b, FCR, 0x01);
	vuart_receive(&b->u, 'z');
	assert_int_equal(rd(b, IIR), 0xc4);
}

static void test_fifo_full_and_overrun(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	wr(b, FCR, 0x01);
	for (int i = 0; i < VUART_RX_FIFO; i++)
		assert_true(vuart_receive(&b->u, (u8)i));
	assert_int_equal(vuart_rx_room(&b->u), 0);
	assert_int_equal(rd(b, LSR), LSR_DR | LSR_THRE | LSR_TEMT);
	assert_false(vuart_receive(&b->u, 0xaa)); /* dropped */
	assert_int_equal(rd(b, LSR), LSR_DR | LSR_OE | LSR_THRE | LSR_TEMT);
	assert_int_equal(rd(b, LSR), LSR_DR | LSR_THRE | LSR_TEMT); /* OE cleared by reading */
	for (int i = 0; i < VUART_RX_FIFO; i++)
		assert_int_equal(rd(b, RBR), i);
	assert_int_equal(rd(b, LSR), LSR_THRE | LSR_TEMT);
	assert_int_equal(vuart_rx_room(&b->u), VUART_RX_FIFO);
	/* the FIFO wraps around its storage */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 11; i++)
			assert_true(vuart_receive(&b->u, (u8)(round * 16 + i)));
		for (int i = 0; i < 11; i++)
			assert_int_equal(rd(b, RBR), round * 16 + i);
	}
}

static void test_overrun_line_status_interrupt(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	wr(b, MCR, MCR_OUT2);
	wr(b, IER, IER_RDI | IER_RLSI);
	for (int i = 0; i <= VUART_RX_FIFO; i++)
		vuart_receive(&b->u, 'x');
	assert_true(b->level);
	assert_int_equal(rd(b, IIR), 0x06); /* line status outranks RX data */
	assert_int_equal(rd(b, LSR) & LSR_OE, LSR_OE);
	assert_int_equal(rd(b, IIR), 0x04);
	while (rd(b, LSR) & LSR_DR)
		rd(b, RBR);
	assert_false(b->level);
}

static void test_fcr_clears_and_disables(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	wr(b, FCR, 0x01);
	vuart_receive(&b->u, '1');
	vuart_receive(&b->u, '2');
	wr(b, FCR, 0x01 | 0x02); /* clear RX FIFO */
	assert_int_equal(rd(b, LSR) & LSR_DR, 0);
	assert_int_equal(rd(b, IIR), 0xc1);
	vuart_receive(&b->u, '3');
	wr(b, FCR, 0x00); /* FIFOs off: emptied, IIR bits 6-7 clear */
	assert_int_equal(rd(b, LSR) & LSR_DR, 0);
	assert_int_equal(rd(b, IIR), IIR_NONE);
	wr(b, FCR, 0xc0); /* without bit 0 nothing is programmed */
	assert_int_equal(rd(b, IIR), IIR_NONE);
	wr(b, FCR, 0x04); /* clear TX: nothing to clear, harmless */
	assert_int_equal(rd(b, LSR), LSR_THRE | LSR_TEMT);
}

static void test_interrupt_handler_loop_rx_and_tx(void **state)
{
	struct bench *b = bench_new();
	char echo[8];
	unsigned int echoed = 0, got = 0;

	(void)state;
	wr(b, FCR, 0x01);
	wr(b, MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	wr(b, IER, IER_RDI);
	vuart_receive(&b->u, 'h');
	vuart_receive(&b->u, 'i');
	assert_true(b->level);
	/* an echoing driver: take RX bytes, send them back with THRE interrupts */
	for (int pass = 0; pass < 20 && b->level; pass++) {
		u8 iir = rd(b, IIR);

		if (iir & IIR_NONE)
			break;
		u8 lsr = rd(b, LSR);

		while (lsr & LSR_DR) {
			echo[got++] = (char)rd(b, RBR);
			lsr = rd(b, LSR);
		}
		rd(b, MSR);
		if ((lsr & LSR_THRE) && (rd(b, IER) & IER_THRI)) {
			if (echoed < got)
				wr(b, THR, (u8)echo[echoed++]);
			else
				wr(b, IER, IER_RDI);
		} else if (echoed < got) {
			wr(b, IER, IER_RDI | IER_THRI);
		}
	}
	assert_false(b->level);
	assert_int_equal(b->tx_len, 2);
	assert_memory_equal(b->tx, "hi", 2);
}

/* ---- IIR priorities --------------------------------------------------------------------- */

static void test_iir_priorities(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	wr(b, MCR, MCR_LOOP); /* modem lines change: MSR deltas */
	wr(b, MCR, 0);
	for (int i = 0; i <= VUART_RX_FIFO; i++)
		vuart_receive(&b->u, 'x'); /* RX data and an overrun */
	wr(b, IER, 0x0f);            /* THRI enabled: THR empty pending */
	assert_int_equal(rd(b, IIR), 0x06);
	rd(b, LSR);
	assert_int_equal(rd(b, IIR), 0x04);
	while (rd(b, LSR) & LSR_DR)
		rd(b, RBR);
	assert_int_equal(rd(b, IIR), 0x02);
	assert_int_equal(rd(b, IIR), 0x00); /* THRE acknowledged; modem status left */
	assert_int_equal(rd(b, MSR) & 0x0f, 0x0b); /* DCTS, DDSR, DDCD */
	assert_int_equal(rd(b, IIR), IIR_NONE);
}

static void test_iir_read_only_acks_thre_when_reported(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	wr(b, IER, IER_RDI | IER_THRI);
	vuart_receive(&b->u, 'q');
	assert_int_equal(rd(b, IIR), 0x04); /* RX reported: THRE stays pending */
	assert_int_equal(rd(b, IIR), 0x04);
	rd(b, RBR);
	assert_int_equal(rd(b, IIR), 0x02);
	assert_int_equal(rd(b, IIR), IIR_NONE);
}

/* ---- modem control and loopback -------------------------------------------------------- */

static void test_loopback_data(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	wr(b, MCR, MCR_LOOP);
	wr(b, THR, 'L');
	assert_int_equal(b->tx_len, 0); /* nothing leaves the chip */
	assert_int_equal(rd(b, LSR), LSR_DR | LSR_THRE | LSR_TEMT);
	assert_int_equal(rd(b, RBR), 'L');
	/* the serial input is disconnected */
	assert_int_equal(vuart_rx_room(&b->u), 0);
	assert_false(vuart_receive(&b->u, 'x'));
	assert_int_equal(rd(b, LSR), LSR_THRE | LSR_TEMT);
	wr(b, MCR, 0);
	assert_int_equal(vuart_rx_room(&b->u), VUART_RX_FIFO);
	assert_true(vuart_receive(&b->u, 'y'));
	assert_int_equal(rd(b, RBR), 'y');
	wr(b, THR, 'T');
	assert_int_equal(b->tx_len, 1);
}

static void test_loopback_msr_and_deltas(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	wr(b, MCR, MCR_LOOP);
	assert_int_equal(rd(b, MSR), 0x0b); /* CTS, DSR, DCD dropped: their deltas */
	assert_int_equal(rd(b, MSR), 0x00);
	wr(b, MCR, MCR_LOOP | MCR_DTR);
	assert_int_equal(rd(b, MSR), 0x20 | 0x02);
	wr(b, MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT1 | MCR_OUT2);
	assert_int_equal(rd(b, MSR), 0xf0 | 0x01 | 0x08); /* RI rising: no TERI */
	wr(b, MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT2);
	assert_int_equal(rd(b, MSR), 0xb0 | 0x04); /* RI trailing edge */
	assert_int_equal(rd(b, MCR), MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT2);
	wr(b, MCR, 0);
	assert_int_equal(rd(b, MSR), 0xb0); /* back to the cable, which shows the same lines */
}

static void test_modem_status_interrupt(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	wr(b, IER, IER_MSI);
	wr(b, MCR, MCR_OUT2 | MCR_LOOP);
	/* OUT2 -> DCD stays set, CTS and DSR drop */
	assert_true(b->level);
	assert_int_equal(rd(b, IIR), 0x00);
	assert_true(b->level); /* IIR does not acknowledge modem status */
	assert_int_equal(rd(b, MSR), 0x80 | 0x03);
	assert_false(b->level);
	assert_int_equal(rd(b, IIR), IIR_NONE);
}

static void test_mcr_and_ier_unused_bits_read_zero(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	wr(b, MCR, 0xff & ~MCR_LOOP);
	assert_int_equal(rd(b, MCR), 0x0f);
	wr(b, IER, 0xf0);
	assert_int_equal(rd(b, IER), 0);
}

/* ---- divisor latch, scratch, odd accesses ---------------------------------------------- */

static void test_dlab_divisor_round_trip(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	wr(b, IER, IER_RDI);
	wr(b, LCR, 0x80 | 0x03);
	wr(b, DLL, 0x01);
	wr(b, DLM, 0x02);
	assert_int_equal(rd(b, DLL), 0x01);
	assert_int_equal(rd(b, DLM), 0x02);
	assert_int_equal(rd(b, LCR), 0x83);
	assert_int_equal(b->tx_len, 0); /* DLL writes are not data */
	wr(b, LCR, 0x03);
	assert_int_equal(rd(b, LCR), 0x03);
	assert_int_equal(rd(b, IER), IER_RDI); /* IER kept apart from DLM */
	wr(b, THR, 'd');
	assert_int_equal(b->tx_len, 1);
	wr(b, LCR, 0x83);
	assert_int_equal(rd(b, DLL), 0x01); /* unchanged by the THR write */
	assert_int_equal(rd(b, DLM), 0x02);
	/* received bytes are not read through DLL */
	vuart_receive(&b->u, 'r');
	assert_int_equal(rd(b, DLL), 0x01);
	wr(b, LCR, 0x03);
	assert_int_equal(rd(b, RBR), 'r');
}

static void test_scratch_register(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	for (int v = 0; v < 256; v += 0x55) {
		wr(b, SCR, (u8)v);
		assert_int_equal(rd(b, SCR), v);
	}
	wr(b, SCR, 0xa5);
	wr(b, LCR, 0x80); /* DLAB does not hide SCR */
	assert_int_equal(rd(b, SCR), 0xa5);
}

static void test_read_only_and_missing_registers(void **state)
{
	struct bench *b = bench_new();

	(void)state;
	wr(b, LSR, 0x00); /* LSR and MSR writes are ignored */
	wr(b, MSR, 0x00);
	assert_int_equal(rd(b, LSR), LSR_THRE | LSR_TEMT);
	assert_int_equal(rd(b, MSR), 0xb0);
	/* offset 2 reads IIR, never the write-only FCR */
	wr(b, FCR, 0x81);
	assert_int_equal(rd(b, IIR), 0xc1);
	/* beyond the eight registers: floating bus, writes ignored */
	assert_int_equal(rd(b, 8), 0xff);
	wr(b, 8, 0x12);
	assert_int_equal(b->tx_len, 0);
	assert_int_equal(b->irq_calls, 0);
}

static void test_null_callbacks(void **state)
{
	struct vuart u;

	(void)state;
	vuart_init(&u, NULL, NULL, NULL);
	vuart_write(&u, MCR, MCR_OUT2);
	vuart_write(&u, IER, IER_THRI);
	vuart_write(&u, THR, 'x');
	assert_true(u.irq_level);
	assert_int_equal(vuart_read(&u, IIR), 0x02);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_reset_keeps_callbacks_and_drops_line),
		cmocka_unit_test(test_linux_probe),
		cmocka_unit_test(test_linux_startup_thre_tests),
		cmocka_unit_test(test_polled_tx),
		cmocka_unit_test(test_interrupt_driven_tx),
		cmocka_unit_test(test_thr_write_raises_thre_each_time),
		cmocka_unit_test(test_out2_gates_the_line),
		cmocka_unit_test(test_polled_rx),
		cmocka_unit_test(test_interrupt_driven_rx),
		cmocka_unit_test(test_rx_fifo_trigger_level),
		cmocka_unit_test(test_fifo_full_and_overrun),
		cmocka_unit_test(test_overrun_line_status_interrupt),
		cmocka_unit_test(test_fcr_clears_and_disables),
		cmocka_unit_test(test_interrupt_handler_loop_rx_and_tx),
		cmocka_unit_test(test_iir_priorities),
		cmocka_unit_test(test_iir_read_only_acks_thre_when_reported),
		cmocka_unit_test(test_loopback_data),
		cmocka_unit_test(test_loopback_msr_and_deltas),
		cmocka_unit_test(test_modem_status_interrupt),
		cmocka_unit_test(test_mcr_and_ier_unused_bits_read_zero),
		cmocka_unit_test(test_dlab_divisor_round_trip),
		cmocka_unit_test(test_scratch_register),
		cmocka_unit_test(test_read_only_and_missing_registers),
		cmocka_unit_test(test_null_callbacks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
