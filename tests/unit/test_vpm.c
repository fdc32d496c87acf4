/* Unit tests of hv/vpm.c: the ACPI PM timer as Linux reads it (clocksource checks, TSC
 * calibration reference), PM1 status/enable/control as ACPICA drives them (S5 power-off), the
 * reset control register as Linux's reboot code uses it, and the absent keyboard controller
 * as Linux's i8042 driver and reboot path see it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "types.h"
#include "hv/vpm.h"
#include "hv/vtime.h"

#define MS 1000000ull
#define SEC 1000000000ull

static u64 at(u64 tick)
{
	return vtime_ticks_to_ns(tick, VPM_TIMER_HZ);
}

/* ---- the PM timer ----------------------------------------------------------------------- */

static void test_timer_counts_at_3_579545_mhz(void **state)
{
	struct vpm pm;

	(void)state;
	vpm_init(&pm, true, 0);
	assert_int_equal(vpm_timer(&pm, 0), 0);
	assert_int_equal(vpm_timer(&pm, 279), 0);   /* a tick is 279.37 ns */
	assert_int_equal(vpm_timer(&pm, 280), 1);
	assert_int_equal(vpm_timer(&pm, SEC), 3579545);
	assert_int_equal(vpm_timer(&pm, 10 * SEC + 5), 35795450);
	/* the register reads the same, at any width */
	assert_int_equal(vpm_read(&pm, VPM_PM_TMR, 4, 100 * SEC), 357954500);
	assert_int_equal(vpm_read(&pm, VPM_PM_TMR, 2, 100 * SEC), 357954500 & 0xffff);
	assert_int_equal(vpm_read(&pm, VPM_PM_TMR + 2, 2, 100 * SEC), 357954500 >> 16);
	assert_int_equal(vpm_read(&pm, VPM_PM_TMR + 3, 1, 100 * SEC), 357954500 >> 24);
	/* read-only */
	vpm_write(&pm, VPM_PM_TMR, 4, 0, 100 * SEC);
	assert_int_equal(vpm_timer(&pm, 100 * SEC), 357954500);
}

static void test_timer_widths(void **state)
{
	struct vpm pm24, pm32;
	u64 t = 3600 * SEC; /* 12,886,362,000 ticks */

	(void)state;
	vpm_init(&pm24, false, 0);
	vpm_init(&pm32, true, 0);
	/* the 24-bit timer wraps after 2^24 ticks (4.69 s) */
	assert_int_equal(vpm_timer(&pm24, at(1u << 24) - 1), 0xffffff);
	assert_int_equal(vpm_timer(&pm24, at(1u << 24)), 0);
	assert_int_equal(vpm_timer(&pm32, at(1u << 24)), 1u << 24);
	/* the 32-bit timer wraps after 2^32 ticks (20 min) */
	assert_int_equal(vpm_timer(&pm32, at(1ull << 32) - 1), 0xffffffffu);
	assert_int_equal(vpm_timer(&pm32, at(1ull << 32)), 0);
	assert_int_equal(vpm_timer(&pm24, t), 12886362000ull & 0xffffff);
	assert_int_equal(vpm_timer(&pm32, t), (u32)12886362000ull);
	assert_int_equal(vpm_read(&pm24, VPM_PM_TMR + 3, 1, t), 0); /* top byte reads 0 */
}

/* drivers/clocksource/acpi_pm.c: the timer must move forward between close reads, and the
 * TSC calibration (calc_pmtimer_ref) measures a span across a wrap with a 24-bit mask. */
static void test_linux_reads(void **state)
{
	struct vpm pm;
	u64 t = 4 * SEC + 123456;

	(void)state;
	vpm_init(&pm, false, 0);
	/* init_acpi_pm_clocksource(): 10 000 reads for a change, a few times over */
	for (int j = 0; j < 3; j++) {
		u32 v1 = vpm_read(&pm, VPM_PM_TMR, 4, t) & 0xffffff, v2 = v1;
		int i;

		for (i = 0; i < 10000 && v2 == v1; i++) {
			t += 100; /* reads 100 ns apart: a change every third read */
			v2 = vpm_read(&pm, VPM_PM_TMR, 4, t) & 0xffffff;
		}
		assert_true(i < 10000);
		assert_true(v2 > v1 || v2 < 0xfff);
	}
	/* a 50 ms calibration span over the wrap at 2^24 ticks */
	u64 t1 = at(1u << 24) - 20 * MS, t2 = t1 + 50 * MS;
	u64 pm1 = vpm_read(&pm, VPM_PM_TMR, 4, t1) & 0xffffff;
	u64 pm2 = vpm_read(&pm, VPM_PM_TMR, 4, t2) & 0xffffff;

	assert_true(pm2 < pm1);
	pm2 += 1u << 24;
	u64 measured_ns = (pm2 - pm1) * SEC / VPM_TIMER_HZ;

	assert_true(measured_ns >= 50 * MS - 280 && measured_ns <= 50 * MS + 280); /* one tick */
}

/* ---- TMR_STS and the SCI ---------------------------------------------------------------- */

static void test_timer_status_and_sci(void **state)
{
	struct vpm pm;
	u64 carry = 1ull << 23;

	(void)state;
	vpm_init(&pm, false, 0);
	assert_int_equal(vpm_read(&pm, VPM_PM1_STS, 2, at(carry) - 1), 0);
	assert_int_equal(vpm_read(&pm, VPM_PM1_STS, 2, at(carry)), VPM_TMR_STS);
	assert_false(vpm_sci_level(&pm, at(carry))); /* not enabled */
	assert_true(vpm_next_event_ns(&pm, at(carry)) == VTIME_NEVER);
	/* write one to clear; writing zero clears nothing */
	vpm_write(&pm, VPM_PM1_STS, 2, 0, at(carry));
	assert_int_equal(vpm_read(&pm, VPM_PM1_STS, 2, at(carry)), VPM_TMR_STS);
	vpm_write(&pm, VPM_PM1_STS, 2, VPM_TMR_STS, at(carry));
	assert_int_equal(vpm_read(&pm, VPM_PM1_STS, 2, at(carry)), 0);
	/* enabled: the SCI rises at the next change of bit 23 */
	vpm_write(&pm, VPM_PM1_EN, 2, VPM_TMR_EN, at(carry));
	assert_true(vpm_next_event_ns(&pm, at(carry)) == at(2 * carry));
	assert_false(vpm_sci_level(&pm, at(2 * carry) - 1));
	assert_true(vpm_sci_level(&pm, at(2 * carry)));
	assert_true(vpm_next_event_ns(&pm, at(2 * carry)) == VTIME_NEVER); /* already up */
	/* SCI_EN off: no SCI, status still set */
	vpm_write(&pm, VPM_PM1_CNT, 2, 0, at(2 * carry));
	assert_false(vpm_sci_level(&pm, at(2 * carry)));
	assert_int_equal(vpm_read(&pm, VPM_PM1_STS, 2, at(2 * carry)), VPM_TMR_STS);
	/* many carries while set: still one status bit, cleared by one write */
	vpm_write(&pm, VPM_PM1_CNT, 2, VPM_SCI_EN, at(2 * carry));
	vpm_write(&pm, VPM_PM1_STS, 2, 0xffff, at(10 * carry) + 5);
	assert_false(vpm_sci_level(&pm, at(10 * carry) + 5));
	assert_true(vpm_next_event_ns(&pm, at(10 * carry) + 5) == at(11 * carry));
}

static void test_timer_status_32bit(void **state)
{
	struct vpm pm;
	u64 carry = 1ull << 31;

	(void)state;
	vpm_init(&pm, true, at(5));
	assert_int_equal(vpm_read(&pm, VPM_PM1_STS, 2, at(1u << 23)), 0);
	assert_int_equal(vpm_read(&pm, VPM_PM1_STS, 2, at(carry) - 1), 0);
	assert_int_equal(vpm_read(&pm, VPM_PM1_STS, 2, at(carry)), VPM_TMR_STS);
}

static void test_power_button(void **state)
{
	struct vpm pm;

	(void)state;
	vpm_init(&pm, true, 0);
	vpm_power_button(&pm);
	assert_int_equal(vpm_read(&pm, VPM_PM1_STS, 2, 10), VPM_PWRBTN_STS);
	assert_false(vpm_sci_level(&pm, 10));
	vpm_write(&pm, VPM_PM1_EN, 2, VPM_PWRBTN_EN, 10);
	assert_true(vpm_sci_level(&pm, 10));
	/* the handler clears the status: the SCI drops */
	vpm_write(&pm, VPM_PM1_STS, 2, VPM_PWRBTN_STS, 20);
	assert_false(vpm_sci_level(&pm, 20));
	/* the byte holding bit 8 alone */
	vpm_power_button(&pm);
	assert_int_equal(vpm_read(&pm, VPM_PM1_STS + 1, 1, 30), VPM_PWRBTN_STS >> 8);
	vpm_write(&pm, VPM_PM1_STS, 1, 0xff, 30); /* the low byte does not hold it */
	assert_true(vpm_sci_level(&pm, 30));
	vpm_write(&pm, VPM_PM1_STS + 1, 1, 0x01, 30);
	assert_false(vpm_sci_level(&pm, 30));
}

/* ---- enable and control ----------------------------------------------------------------- */

static void test_enable_register(void **state)
{
	struct vpm pm;

	(void)state;
	vpm_init(&pm, true, 0);
	assert_int_equal(vpm_read(&pm, VPM_PM1_EN, 2, 0), 0);
	vpm_write(&pm, VPM_PM1_EN, 2, 0xffff, 0);
	assert_int_equal(vpm_read(&pm, VPM_PM1_EN, 2, 0),
			 VPM_TMR_EN | VPM_GBL_EN | VPM_PWRBTN_EN | VPM_SLPBTN_EN | VPM_RTC_EN);
	/* a 32-bit write over status and enable: each lane to its register */
	vpm_power_button(&pm);
	vpm_write(&pm, VPM_PM1_STS, 4, (u32)VPM_PWRBTN_EN << 16 | VPM_PWRBTN_STS, 0);
	assert_int_equal(vpm_read(&pm, VPM_PM1_STS, 4, 0), (u32)VPM_PWRBTN_EN << 16);
	vpm_write(&pm, VPM_PM1_EN + 1, 1, 0, 0);
	assert_int_equal(vpm_read(&pm, VPM_PM1_EN, 2, 0), 0);
}

static void test_control_register(void **state)
{
	struct vpm pm;

	(void)state;
	vpm_init(&pm, true, 0);
	assert_int_equal(vpm_read(&pm, VPM_PM1_CNT, 2, 0), VPM_SCI_EN); /* ACPI mode only */
	assert_int_equal(vpm_write(&pm, VPM_PM1_CNT, 2, 0xffff & ~VPM_SLP_EN, 0), VPM_EV_NONE);
	/* SLP_EN and GBL_RLS are write-only, bits 3-9 and 14-15 reserved */
	assert_int_equal(vpm_read(&pm, VPM_PM1_CNT, 2, 0),
			 VPM_SCI_EN | VPM_BM_RLD | VPM_SLP_TYP_MASK);
	/* beyond the 2-byte control block: nothing */
	assert_int_equal(vpm_read(&pm, VPM_PM1_CNT, 4, 0),
			 0xffff0000u | VPM_SCI_EN | VPM_BM_RLD | VPM_SLP_TYP_MASK);
	assert_int_equal(vpm_read(&pm, 6, 1, 0), 0xff);
	assert_int_equal(vpm_read(&pm, VPM_BLOCK_LEN, 4, 0), 0xffffffffu);
	assert_int_equal(vpm_write(&pm, 6, 2, 0xffff, 0), VPM_EV_NONE);
}

/* ACPICA acpi_hw_legacy_sleep(ACPI_STATE_S5): SLP_TYP first, then SLP_TYP | SLP_EN. */
static void test_acpica_s5_power_off(void **state)
{
	struct vpm pm;
	u16 cnt;

	(void)state;
	vpm_init(&pm, true, 0);
	vpm_write(&pm, VPM_PM1_STS, 2, VPM_WAK_STS, 0); /* clear WAK_STS */
	cnt = (u16)vpm_read(&pm, VPM_PM1_CNT, 2, 0);
	cnt &= (u16)~(VPM_SLP_TYP_MASK | VPM_SLP_EN);
	cnt |= VPM_SLP_TYP_S5 << VPM_SLP_TYP_SHIFT;
	assert_int_equal(vpm_write(&pm, VPM_PM1_CNT, 2, cnt, 0), VPM_EV_NONE);
	cnt |= VPM_SLP_EN;
	assert_int_equal(vpm_write(&pm, VPM_PM1_CNT, 2, cnt, 0), VPM_EV_POWER_OFF);
	/* a byte write to the upper half, and a 32-bit write, work the same */
	assert_int_equal(vpm_write(&pm, VPM_PM1_CNT + 1, 1, (VPM_SLP_EN | (7 << 10)) >> 8, 0),
			 VPM_EV_POWER_OFF);
	assert_int_equal(vpm_write(&pm, VPM_PM1_CNT, 4, VPM_SLP_EN | (7 << 10) | 1, 0),
			 VPM_EV_POWER_OFF);
	/* a 32-bit write starting at the enable register reaches the control register too */
	assert_int_equal(vpm_write(&pm, VPM_PM1_EN, 4, (u32)(VPM_SLP_EN | (7 << 10)) << 16, 0),
			 VPM_EV_POWER_OFF);
}

static void test_other_sleep_types_do_nothing(void **state)
{
	struct vpm pm;

	(void)state;
	vpm_init(&pm, true, 0);
	for (u16 typ = 0; typ < 8; typ++) {
		if (typ == VPM_SLP_TYP_S5)
			continue;
		assert_int_equal(vpm_write(&pm, VPM_PM1_CNT, 2,
					   VPM_SCI_EN | VPM_SLP_EN | (typ << VPM_SLP_TYP_SHIFT), 0),
				 VPM_EV_NONE);
	}
	/* S5 type without SLP_EN: nothing */
	assert_int_equal(vpm_write(&pm, VPM_PM1_CNT, 2, VPM_SCI_EN | (7 << 10), 0), VPM_EV_NONE);
	/* SLP_EN written in a byte that does not hold it: nothing */
	assert_int_equal(vpm_write(&pm, VPM_PM1_CNT, 1, 0xff, 0), VPM_EV_NONE);
}

static void test_reset_state(void **state)
{
	struct vpm pm;

	(void)state;
	vpm_init(&pm, false, 0);
	vpm_write(&pm, VPM_PM1_EN, 2, 0xffff, 0);
	vpm_write(&pm, VPM_PM1_CNT, 2, VPM_SLP_TYP_MASK, 0);
	vpm_power_button(&pm);
	vpm_reset_write(&pm, 0x0a);
	vpm_reset(&pm, 20 * SEC);
	assert_int_equal(vpm_read(&pm, VPM_PM1_STS, 4, 20 * SEC), 0);
	assert_int_equal(vpm_read(&pm, VPM_PM1_CNT, 2, 20 * SEC), VPM_SCI_EN);
	assert_int_equal(vpm_reset_read(&pm), 0);
	assert_int_equal(vpm_timer(&pm, 20 * SEC), (20 * 3579545) & 0xffffff); /* free running */
	assert_int_equal(vpm_read(&pm, VPM_PM_TMR + 3, 1, 20 * SEC), 0); /* still 24 bits */
}

static void test_time_never_runs_back(void **state)
{
	struct vpm pm;

	(void)state;
	vpm_init(&pm, true, 0);
	assert_int_equal(vpm_timer(&pm, SEC), 3579545);
	assert_int_equal(vpm_timer(&pm, SEC - 1000), 3579545);
	assert_int_equal(vpm_timer(&pm, SEC + 280), 3579546);
}

/* ---- reset control register ------------------------------------------------------------- */

/* arch/x86/kernel/reboot.c, BOOT_CF9_FORCE. */
static void test_linux_cf9_reboot(void **state)
{
	struct vpm pm;
	u8 code = 0x06, cf9;

	(void)state;
	vpm_init(&pm, true, 0);
	cf9 = vpm_reset_read(&pm) & (u8)~code;
	assert_int_equal(vpm_reset_write(&pm, cf9 | 2), VPM_EV_NONE); /* request hard reset */
	assert_int_equal(vpm_reset_read(&pm), 0x02);
	assert_int_equal(vpm_reset_write(&pm, cf9 | code), VPM_EV_RESET);
	/* the cold variant, and RST_CPU read back as 0 */
	assert_int_equal(vpm_reset_write(&pm, 0x0e), VPM_EV_RESET);
	assert_int_equal(vpm_reset_read(&pm), 0x0a);
	assert_int_equal(vpm_reset_write(&pm, 0x08), VPM_EV_NONE);
	assert_int_equal(vpm_reset_read(&pm), 0x08);
	assert_int_equal(vpm_reset_write(&pm, 0xf1), VPM_EV_NONE);
	assert_int_equal(vpm_reset_read(&pm), 0x00);
}

/* ---- keyboard controller ---------------------------------------------------------------- */

static void test_kbc_absent_for_linux_i8042(void **state)
{
	int flushed = 0;

	(void)state;
	/* i8042_flush(): drain while OBF is set, give up after I8042_BUFFER_SIZE bytes; giving
	 * up is how i8042_controller_check() decides there is no controller */
	while (vpm_kbc_read(VPM_PORT_KBC_CMD) & 0x01) {
		if (flushed++ >= 16)
			break;
		assert_int_equal(vpm_kbc_read(VPM_PORT_KBC_DATA), 0xff);
	}
	assert_int_equal(flushed, 17);
	/* kb_wait(): the input buffer is never full */
	assert_int_equal(vpm_kbc_read(VPM_PORT_KBC_CMD) & 0x02, 0);
	assert_int_equal(vpm_kbc_read(VPM_PORT_KBC_CMD), VPM_KBC_STATUS);
}

static void test_kbc_reset_pulse(void **state)
{
	(void)state;
	/* Linux BOOT_KBD: outb(0xfe, 0x64) */
	assert_int_equal(vpm_kbc_write(VPM_PORT_KBC_CMD, 0xfe), VPM_EV_RESET);
	for (u32 cmd = 0; cmd < 256; cmd++) {
		bool resets = cmd >= 0xf0 && !(cmd & 1);

		assert_int_equal(vpm_kbc_write(VPM_PORT_KBC_CMD, (u8)cmd),
				 resets ? VPM_EV_RESET : VPM_EV_NONE);
		assert_int_equal(vpm_kbc_write(VPM_PORT_KBC_DATA, (u8)cmd), VPM_EV_NONE);
	}
	assert_int_equal(vpm_kbc_read(0x61), 0xff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_counts_at_3_579545_mhz),
		cmocka_unit_test(test_timer_widths),
		cmocka_unit_test(test_linux_reads),
		cmocka_unit_test(test_timer_status_and_sci),
		cmocka_unit_test(test_timer_status_32bit),
		cmocka_unit_test(test_power_button),
		cmocka_unit_test(test_enable_register),
		cmocka_unit_test(test_control_register),
		cmocka_unit_test(test_acpica_s5_power_off),
		cmocka_unit_test(test_other_sleep_types_do_nothing),
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_time_never_runs_back),
		cmocka_unit_test(test_linux_cf9_reboot),
		cmocka_unit_test(test_kbc_absent_for_linux_i8042),
		cmocka_unit_test(test_kbc_reset_pulse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
