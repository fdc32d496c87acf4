/* I/O port attacks. Every port but the partition's own COM1 (0x3f8-0x3ff) must read all ones
 * and ignore writes, as a PC does for a port with no device.
 *  - probes: write something, read it back; all ones -> blocked, anything else -> ESCAPED;
 *  - power and reset: the write would end the machine, so still running a moment later is the
 *    verdict (they run last: see attacker.c);
 *  - the virtual COM1 itself: garbage in every control register, then restored; it must go on
 *    working (it is ours, so that is `blocked (virtual)`). */
#include "attacker.h"

#define STILL_RUNNING_MS 200 /* how long a power-off or reset gets to take effect */

/* --- probes --------------------------------------------------------------------------------- */

static void io_pci_config(void)
{
	u32 data, addr;

	outl(0xcf8, 0x80000000u); /* 00:00.0, register 0: vendor and device ID */
	data = inl(0xcfc);
	addr = inl(0xcf8);
	outl(0xcf8, 0);
	if (data == 0xffffffffu && addr == 0xffffffffu)
		blocked("0xcfc and 0xcf8 read all ones");
	else
		escaped("00:00.0 ID reads 0x%08x, 0xcf8 reads back 0x%08x", data, addr);
}

static void io_pit(void)
{
	u8 lo, hi, status;

	outb(0x43, 0x34); /* channel 0, lobyte/hibyte, mode 2 */
	outb(0x40, 0x34);
	outb(0x40, 0x12);
	outb(0x43, 0x00); /* latch channel 0 */
	lo = inb(0x40);
	hi = inb(0x40);
	outb(0x43, 0xe2); /* read-back: status of channel 0 */
	status = inb(0x40);
	if (lo == 0xff && hi == 0xff && status == 0xff)
		blocked("counter and status read all ones");
	else
		escaped("channel 0 counter 0x%02x%02x, status 0x%02x", hi, lo, status);
}

static void io_cmos(void)
{
	u8 seconds, index;

	outb(0x70, 0x80 | 0x00); /* seconds; bit 7 would also mask NMIs on a real chipset */
	seconds = inb(0x71);
	index = inb(0x70);
	if (seconds == 0xff && index == 0xff)
		blocked("RTC seconds and index read all ones");
	else
		escaped("RTC seconds read 0x%02x, index 0x%02x", seconds, index);
}

static void io_pic(void)
{
	u8 old1 = inb(0x21), old2 = inb(0xa1), m1, m2;

	outb(0x21, 0xa5);
	outb(0xa1, 0x5a);
	m1 = inb(0x21);
	m2 = inb(0xa1);
	if (m1 == 0xff && m2 == 0xff) {
		blocked("masks written, both PICs read all ones");
		return;
	}
	outb(0x21, old1);
	outb(0xa1, old2);
	escaped("PIC masks read back 0x%02x 0x%02x after writing 0xa5 0x5a", m1, m2);
}

/* The scratch register (+7) of a 16550 that is not ours. */
static void uart_scratch(u16 base)
{
	u8 v;

	outb(base + 7, 0x5a);
	v = inb(base + 7);
	if (v == 0xff)
		blocked("scratch register at 0x%x reads all ones", base + 7);
	else
		escaped("scratch register at 0x%x reads 0x%02x after writing 0x5a", base + 7, v);
}

static void io_com2_scratch(void) { uart_scratch(0x2f8); }
static void io_com3_scratch(void) { uart_scratch(0x3e8); }
static void io_com4_scratch(void) { uart_scratch(0x2e8); }

static void vuart_lcr_garbage(void)
{
	u8 lcr, lsr = 0;
	u32 spins;

	outb(COM1_BASE + 3, 0x80); /* DLAB */
	outb(COM1_BASE + 0, 0x00); /* divisor 0 */
	outb(COM1_BASE + 1, 0x00);
	outb(COM1_BASE + 3, 0xff); /* DLAB, break, stick parity, 8 bits, 2 stop bits */
	outb(COM1_BASE + 4, 0x1f); /* loopback, OUT1, OUT2, RTS, DTR */
	outb(COM1_BASE + 1, 0x0f); /* with DLAB set: divisor high byte */
	outb(COM1_BASE + 2, 0xff); /* FIFO control garbage */
	outb(COM1_BASE + 7, 0xa5);
	con_init();
	lcr = inb(COM1_BASE + 3);
	for (spins = 0; spins < 1000000; spins++) {
		lsr = inb(COM1_BASE + 5);
		if (lsr & 0x20)
			break;
	}
	con_take_stalls();
	if (lcr == 0x03 && (lsr & 0x20))
		blocked("virtual");
	else
		escaped("COM1 does not recover: LCR 0x%02x, LSR 0x%02x", lcr, lsr);
}

/* --- power and reset ------------------------------------------------------------------------ */

static void still_running(const char *what)
{
	spin_ms(STILL_RUNNING_MS);
	blocked("still running after %s", what);
}

static void io_debug_exit(void)
{
	outb(0xf4, 0x31); /* QEMU isa-debug-exit as the test harness configures it */
	outl(0xf4, 0x31);
	outb(0x501, 0x31); /* its default port */
	still_running("writes to the QEMU debug-exit ports 0xf4 and 0x501");
}

static void io_bochs_shutdown(void)
{
	for (const char *s = "Shutdown"; *s; s++)
		outb(0x8900, (u8)*s);
	still_running("\"Shutdown\" to port 0x8900");
}

static void io_acpi_pm_q35(void)
{
	outw(0x604, 0x2000); /* PM1a_CNT: SLP_TYP 0 (S5 on QEMU), SLP_EN */
	still_running("SLP_EN to 0x604");
}

static void io_acpi_pm_bochs(void)
{
	outw(0xb004, 0x2000);
	still_running("SLP_EN to 0xb004");
}

static void io_kbc_reset(void)
{
	outb(0x64, 0xfe); /* pulse the reset line */
	still_running("0xfe to the keyboard controller");
}

static void io_port92_reset(void)
{
	outb(0x92, 0x01); /* system control port A: fast reset */
	still_running("0x01 to port 0x92");
}

static void io_reset_cf9(void)
{
	outb(0xcf9, 0x02);
	outb(0xcf9, 0x06); /* hard reset */
	still_running("0x06 to the reset control register 0xcf9");
}

const struct attack io_probe_attacks[] = {
	{ "vuart-lcr-garbage", vuart_lcr_garbage },
	{ "io-pci-config", io_pci_config },
	{ "io-pit", io_pit },
	{ "io-cmos", io_cmos },
	{ "io-pic", io_pic },
	{ "io-com2-scratch", io_com2_scratch },
	{ "io-com3-scratch", io_com3_scratch },
	{ "io-com4-scratch", io_com4_scratch },
	{ NULL, NULL },
};

const struct attack power_attacks[] = {
	{ "io-debug-exit", io_debug_exit },
	{ "io-bochs-shutdown", io_bochs_shutdown },
	{ "io-acpi-pm-q35", io_acpi_pm_q35 },
	{ "io-acpi-pm-bochs", io_acpi_pm_bochs },
	{ "io-kbc-reset", io_kbc_reset },
	{ "io-port92-reset", io_port92_reset },
	{ "io-reset-cf9", io_reset_cf9 },
	{ NULL, NULL },
};
