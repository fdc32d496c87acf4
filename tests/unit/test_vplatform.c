/* Unit tests of hv/vplatform.c: which ports and addresses belong to the platform, wide
 * accesses, events (power-off, reset), interrupts from the PIT, RTC, SCI and an outside device
 * through the vIOAPIC, EOI, deadlines, and a partition restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "types.h"
#include "hv/vplatform.h"
#include "hv/vtime.h"

#define SEC 1000000000ull
#define MS 1000000ull
#define UNIX_BASE (1709214330ull * SEC) /* 2024-02-29 13:45:30 UTC at now_ns == 0 */
#define T0 (100 * SEC + 123)            /* the partition starts */

static struct vplatform plat;
static struct vplatform_out out;

static struct vplatform *fresh(void)
{
	vplatform_init(&plat, 0, UNIX_BASE, T0);
	return &plat;
}

static u32 in(struct vplatform *p, u16 port, u8 size, u64 t)
{
	u32 v = 0xdeadbeef;

	assert_true(vplatform_io(p, port, size, true, &v, t));
	return v;
}

static void outp(struct vplatform *p, u16 port, u8 size, u32 v, u64 t)
{
	assert_true(vplatform_io(p, port, size, false, &v, t));
}

static u32 mmio_read(struct vplatform *p, u64 off, u64 t)
{
	u64 v = 0;

	assert_true(vplatform_mmio(p, VIOAPIC_BASE + off, 4, false, &v, t));
	return (u32)v;
}

static void mmio_write(struct vplatform *p, u64 off, u32 v, u64 t)
{
	u64 w = v;

	assert_true(vplatform_mmio(p, VIOAPIC_BASE + off, 4, true, &w, t));
}

static void route(struct vplatform *p, u32 pin, u32 low, u8 dest, u64 t)
{
	mmio_write(p, VIOAPIC_IOREGSEL, 0x11 + 2 * pin, t);
	mmio_write(p, VIOAPIC_IOWIN, (u32)dest << 24, t);
	mmio_write(p, VIOAPIC_IOREGSEL, 0x10 + 2 * pin, t);
	mmio_write(p, VIOAPIC_IOWIN, low, t);
}

static void poll(struct vplatform *p, u64 t)
{
	memset(&out, 0xcc, sizeof(out));
	vplatform_poll(p, t, &out);
}

/* ---- routing ----------------------------------------------------------------------------- */

static void test_port_map(void **state)
{
	static const u16 ours[] = { 0x40, 0x41, 0x42, 0x43, 0x61, 0x60, 0x64, 0x70, 0x71, 0x80,
				    0xcf9, 0x600, 0x601, 0x602, 0x604, 0x608, 0x60b };
	static const u16 others[] = { 0x3f8, 0x3fd, 0x2f8, 0x20, 0x21, 0xa0, 0xa1, 0x44, 0x62,
				      0x72, 0x73, 0xcf8, 0xcfc, 0x5ff, 0x60c, 0x4d0, 0xed, 0x0 };
	struct vplatform *p = fresh();
	u32 v;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ours); i++) {
		v = 0;
		assert_true(vplatform_io(p, ours[i], 1, true, &v, T0));
	}
	for (size_t i = 0; i < ARRAY_SIZE(others); i++) {
		v = 0;
		assert_false(vplatform_io(p, others[i], 1, true, &v, T0));
		assert_false(vplatform_io(p, others[i], 1, false, &v, T0));
	}
	/* 0xCF8-0xCFF as dwords or words: PCI configuration, not the reset register */
	assert_false(vplatform_io(p, 0xcf8, 4, true, &v, T0));
	assert_false(vplatform_io(p, 0xcf9, 2, false, &v, T0));
	/* only sizes 1, 2, 4 */
	assert_false(vplatform_io(p, 0x40, 3, true, &v, T0));
	assert_false(vplatform_io(p, 0x40, 0, true, &v, T0));
	/* the POST port swallows Linux's I/O delay writes */
	outp(p, 0x80, 1, 0x00, T0);
	assert_int_equal(in(p, 0x80, 1, T0), 0xff);
	poll(p, T0);
	assert_int_equal(out.events, 0);
	assert_int_equal(out.msg_count, 0);
}

static void test_wide_accesses(void **state)
{
	struct vplatform *p = fresh();

	(void)state;
	/* outw 0x70: index to 0x70, data to 0x71 */
	outp(p, 0x70, 2, 0x5a20, T0);
	outp(p, 0x70, 1, 0x20, T0);
	assert_int_equal(in(p, 0x71, 1, T0), 0x5a);
	assert_int_equal(in(p, 0x70, 2, T0), 0x5aff); /* index reads 0xff, data 0x5a */
	/* inw 0x61: port B, then 0x62, which is nobody's */
	assert_int_equal(in(p, 0x61, 2, T0) & 0xff00, 0xff00);
	/* a dword read of the PM timer, and of PM1 status + enable */
	assert_int_equal(in(p, 0x608, 4, T0), (u32)vtime_ns_to_ticks(T0, VPM_TIMER_HZ));
	assert_int_equal(in(p, 0x600, 4, T0), 0);
	assert_int_equal(in(p, 0x604, 2, T0), VPM_SCI_EN);
	/* the results are zero-extended */
	assert_int_equal(in(p, 0x60, 1, T0), 0xff);
	assert_int_equal(in(p, 0x64, 1, T0), VPM_KBC_STATUS);
}

static void test_mmio_map(void **state)
{
	struct vplatform *p = fresh();
	u64 v = 0;

	(void)state;
	assert_false(vplatform_mmio(p, VIOAPIC_BASE - 4, 4, false, &v, T0));
	assert_false(vplatform_mmio(p, VIOAPIC_BASE + VIOAPIC_MMIO_SIZE, 4, false, &v, T0));
	assert_false(vplatform_mmio(p, 0xfee00000, 4, false, &v, T0));
	mmio_write(p, VIOAPIC_IOREGSEL, VIOAPIC_REG_VER, T0);
	assert_int_equal(mmio_read(p, VIOAPIC_IOWIN, T0), 0x00170011);
}

/* ---- events ------------------------------------------------------------------------------ */

static void test_power_off(void **state)
{
	struct vplatform *p = fresh();

	(void)state;
	outp(p, 0x604, 2, VPM_SCI_EN | (VPM_SLP_TYP_S5 << VPM_SLP_TYP_SHIFT), T0);
	poll(p, T0);
	assert_int_equal(out.events, 0);
	outp(p, 0x604, 2, VPM_SCI_EN | (VPM_SLP_TYP_S5 << VPM_SLP_TYP_SHIFT) | VPM_SLP_EN, T0);
	poll(p, T0);
	assert_int_equal(out.events, VPLATFORM_EV_POWER_OFF);
	poll(p, T0);
	assert_int_equal(out.events, 0); /* taken */
}

static void test_reset_requests(void **state)
{
	struct vplatform *p = fresh();

	(void)state;
	outp(p, 0xcf9, 1, 0x02, T0);
	poll(p, T0);
	assert_int_equal(out.events, 0);
	assert_int_equal(in(p, 0xcf9, 1, T0), 0x02);
	outp(p, 0xcf9, 1, 0x06, T0);
	poll(p, T0);
	assert_int_equal(out.events, VPLATFORM_EV_RESET);
	/* Linux's BOOT_KBD: kb_wait() then the pulse */
	assert_int_equal(in(p, 0x64, 1, T0) & 0x02, 0);
	outp(p, 0x64, 1, 0xfe, T0);
	outp(p, 0x80, 1, 0, T0);
	poll(p, T0);
	assert_int_equal(out.events, VPLATFORM_EV_RESET);
}

/* A reboot: devices back to power-on, the RTC keeps the time the guest set. */
static void test_partition_restart(void **state)
{
	struct vplatform *p = fresh();
	u64 t = T0 + SEC;

	(void)state;
	/* the guest sets its clock one hour ahead (a single register, the clock running) */
	outp(p, 0x70, 1, VRTC_HOURS, t);
	outp(p, 0x71, 1, 0x14, t);
	assert_true(vplatform_rtc_unix_ns(p, t) == UNIX_BASE + t + 3600 * SEC);
	outp(p, 0x70, 1, 0x40, t);
	outp(p, 0x71, 1, 0x77, t); /* CMOS RAM */
	route(p, 2, 0x30, 0, t);
	outp(p, 0x43, 1, 0x30, t); /* PIT channel 0: mode 0 */
	outp(p, 0x604, 2, 0, t);   /* SCI_EN off */
	outp(p, 0xcf9, 1, 0x06, t);
	vplatform_reset(p, t + 10);
	poll(p, t + 10);
	assert_int_equal(out.events, 0);
	assert_int_equal(out.msg_count, 0);
	assert_true(out.deadline_ns == VTIME_NEVER); /* pin 2 masked again */
	assert_int_equal(in(p, 0x604, 2, t + 10), VPM_SCI_EN);
	assert_int_equal(in(p, 0xcf9, 1, t + 10), 0);
	mmio_write(p, VIOAPIC_IOREGSEL, 0x10 + 2 * 2, t + 10);
	assert_int_equal(mmio_read(p, VIOAPIC_IOWIN, t + 10), VIOAPIC_RTE_MASKED);
	/* the PIT: firmware state again (mode 3 on channel 0) */
	outp(p, 0x43, 1, 0xe2, t + 10);
	assert_int_equal(in(p, 0x40, 1, t + 10) & 0x3f, 0x36);
	/* the RTC: still one hour ahead, RAM kept */
	assert_true(vplatform_rtc_unix_ns(p, t + 10) == UNIX_BASE + t + 10 + 3600 * SEC);
	outp(p, 0x70, 1, 0x40, t + 10);
	assert_int_equal(in(p, 0x71, 1, t + 10), 0x77);
}

/* ---- interrupts -------------------------------------------------------------------------- */

static void test_pit_irq0_through_ioapic(void **state)
{
	struct vplatform *p = fresh();
	const u16 latch = 4773; /* HZ = 250 */
	u64 t = T0 + MS, tick;

	(void)state;
	outp(p, 0x43, 1, 0x34, t);
	outp(p, 0x40, 1, latch & 0xff, t);
	outp(p, 0x40, 1, latch >> 8, t);
	poll(p, t);
	assert_true(out.deadline_ns == VTIME_NEVER); /* pin 2 masked: no need to wake up */
	route(p, 2, 0x30, 1, t);
	poll(p, t);
	tick = vtime_ns_to_ticks(t, VPIT_HZ);
	assert_true(out.deadline_ns == vtime_ticks_to_ns(tick + 1 + latch, VPIT_HZ));
	assert_int_equal(out.msg_count, 0);
	/* the timer fires */
	u64 due = out.deadline_ns;

	poll(p, due - 1);
	assert_int_equal(out.msg_count, 0);
	assert_true(out.deadline_ns == due);
	poll(p, due);
	assert_int_equal(out.msg_count, 1);
	assert_int_equal(out.msgs[0].vector, 0x30);
	assert_int_equal(out.msgs[0].dest, 1);
	assert_int_equal(out.msgs[0].pin, 2);
	assert_false(out.msgs[0].level);
	assert_true(out.deadline_ns == vtime_ticks_to_ns(tick + 1 + 2 * latch, VPIT_HZ));
	/* a late timer: several edges, one interrupt */
	poll(p, due + 100 * MS);
	assert_int_equal(out.msg_count, 1);
	/* masking the pin stops the wake-ups */
	route(p, 2, 0x30 | VIOAPIC_RTE_MASKED, 1, due + 100 * MS);
	poll(p, due + 100 * MS);
	assert_true(out.deadline_ns == VTIME_NEVER);
	poll(p, due + 200 * MS);
	assert_int_equal(out.msg_count, 0);
}

static void test_rtc_update_interrupt(void **state)
{
	struct vplatform *p = fresh();
	u64 t = T0 + 10 * MS;
	u64 boundary = (UNIX_BASE + T0) / SEC * SEC + SEC - UNIX_BASE; /* next second, now_ns */

	(void)state;
	route(p, 8, 0x38, 0, t);
	outp(p, 0x70, 1, VRTC_REG_A, t);
	outp(p, 0x71, 1, 0x20, t); /* no periodic flag from now on */
	outp(p, 0x70, 1, VRTC_REG_C, t);
	in(p, 0x71, 1, t);         /* the ones of the first 10 ms */
	outp(p, 0x70, 1, VRTC_REG_B, t);
	outp(p, 0x71, 1, VRTC_B_24H | VRTC_B_UIE, t);
	poll(p, t);
	assert_true(out.deadline_ns == boundary);
	poll(p, boundary);
	assert_int_equal(out.msg_count, 1);
	assert_int_equal(out.msgs[0].vector, 0x38);
	assert_int_equal(out.msgs[0].pin, 8);
	assert_true(out.deadline_ns == VTIME_NEVER); /* until register C is read */
	/* the handler reads C: the line drops, the next second is due */
	outp(p, 0x70, 1, VRTC_REG_C, boundary + 1000);
	assert_int_equal(in(p, 0x71, 1, boundary + 1000), VRTC_C_IRQF | VRTC_C_UF);
	poll(p, boundary + 1000);
	assert_int_equal(out.msg_count, 0);
	assert_true(out.deadline_ns == boundary + SEC);
	poll(p, boundary + SEC);
	assert_int_equal(out.msg_count, 1);
}

static void test_sci_level_and_eoi(void **state)
{
	struct vplatform *p = fresh();
	u64 t = T0;

	(void)state;
	route(p, 9, 0x41 | VIOAPIC_RTE_LEVEL, 0, t);
	outp(p, 0x602, 2, VPM_PWRBTN_EN, t);
	vplatform_power_button(p, t);
	poll(p, t);
	assert_int_equal(out.msg_count, 1);
	assert_int_equal(out.msgs[0].vector, 0x41);
	assert_int_equal(out.msgs[0].pin, 9);
	assert_true(out.msgs[0].level);
	/* EOI with the status still set: again */
	vplatform_eoi(p, 0x41);
	poll(p, t);
	assert_int_equal(out.msg_count, 1);
	/* the handler clears the status, then EOIs */
	outp(p, 0x600, 2, VPM_PWRBTN_STS, t);
	vplatform_eoi(p, 0x41);
	poll(p, t);
	assert_int_equal(out.msg_count, 0);
	/* PM timer carry with TMR_EN: a deadline */
	outp(p, 0x602, 2, VPM_TMR_EN, t);
	poll(p, t);
	assert_true(out.deadline_ns ==
		    vtime_ticks_to_ns((vtime_ns_to_ticks(t, VPM_TIMER_HZ) >> 31 << 31) + (1ull << 31),
				      VPM_TIMER_HZ));
}

static void test_outside_device_and_coalescing(void **state)
{
	struct vplatform *p = fresh();

	(void)state;
	route(p, 4, 0x24, 0, T0);
	vplatform_set_irq(p, VPLATFORM_GSI_UART, true);
	vplatform_set_irq(p, VPLATFORM_GSI_UART, false);
	vplatform_set_irq(p, VPLATFORM_GSI_UART, true); /* a second edge before the poll */
	poll(p, T0);
	assert_int_equal(out.msg_count, 1);
	assert_int_equal(out.msgs[0].vector, 0x24);
	assert_int_equal(out.msgs[0].pin, 4);
	/* several pins at once come in pin order */
	route(p, 8, 0x38, 0, T0);
	vplatform_set_irq(p, VPLATFORM_GSI_UART, false);
	vplatform_set_irq(p, 8, true);
	vplatform_set_irq(p, VPLATFORM_GSI_UART, true);
	poll(p, T0);
	assert_int_equal(out.msg_count, 2);
	assert_int_equal(out.msgs[0].pin, 4);
	assert_int_equal(out.msgs[1].pin, 8);
	/* an unmask of a level entry with its line up, through MMIO */
	route(p, 5, 0x25 | VIOAPIC_RTE_LEVEL | VIOAPIC_RTE_MASKED, 0, T0);
	vplatform_set_irq(p, 5, true);
	poll(p, T0);
	assert_int_equal(out.msg_count, 0);
	route(p, 5, 0x25 | VIOAPIC_RTE_LEVEL, 0, T0);
	poll(p, T0);
	assert_int_equal(out.msg_count, 1);
	assert_int_equal(out.msgs[0].pin, 5);
}

static void test_linux_tsc_calibration(void **state)
{
	struct vplatform *p = fresh();
	u64 t = T0 + 5 * MS, start;
	u32 pm_start;

	(void)state;
	outp(p, 0x61, 1, (in(p, 0x61, 1, t) & ~0x02u) | 0x01, t);
	outp(p, 0x43, 1, 0xb0, t);
	outp(p, 0x42, 1, 11931 & 0xff, t);
	outp(p, 0x42, 1, 11931 >> 8, t);
	outp(p, 0x80, 1, 0, t);
	start = t;
	pm_start = in(p, 0x608, 4, start);
	while (!(in(p, 0x61, 1, t) & 0x20))
		t += 2000;
	u64 exact = vtime_ticks_to_ns(vtime_ns_to_ticks(start, VPIT_HZ) + 11932, VPIT_HZ) - start;

	assert_true(t - start >= exact && t - start < exact + 2000);
	/* the PM timer moved by the same time */
	assert_int_equal(in(p, 0x608, 4, t) - pm_start,
			 (u32)(vtime_ns_to_ticks(t, VPM_TIMER_HZ) -
			       vtime_ns_to_ticks(start, VPM_TIMER_HZ)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_map),
		cmocka_unit_test(test_wide_accesses),
		cmocka_unit_test(test_mmio_map),
		cmocka_unit_test(test_power_off),
		cmocka_unit_test(test_reset_requests),
		cmocka_unit_test(test_partition_restart),
		cmocka_unit_test(test_pit_irq0_through_ioapic),
		cmocka_unit_test(test_rtc_update_interrupt),
		cmocka_unit_test(test_sci_level_and_eoi),
		cmocka_unit_test(test_outside_device_and_coalescing),
		cmocka_unit_test(test_linux_tsc_calibration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
