/* Unit tests of hv/vpit.c, the virtual 8254 PIT and port 0x61: the sequences Linux uses (TSC
 * calibration against channel 2, the i8253 clock event in periodic and one-shot mode), every
 * counter mode to the exact clock pulse, latches and read-back, and a check that advancing the
 * model by many pulses at once gives what single pulses give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "types.h"
#include "hv/vpit.h"
#include "hv/vtime.h"

#define T0 (7 * VPIT_HZ + 12345) /* the PIT tick the tests start in */

/* The first nanosecond of PIT tick t, and a time well inside it. */
static u64 at(u64 t)
{
	return vtime_ticks_to_ns(t, VPIT_HZ);
}

static u64 mid(u64 t)
{
	return at(t) + 400; /* a tick lasts ~838 ns */
}

static u8 in(struct vpit *p, u16 port, u64 ns)
{
	return vpit_read(p, port, ns);
}

static void out(struct vpit *p, u16 port, u8 v, u64 ns)
{
	vpit_write(p, port, v, ns);
}

/* Counter latch and 16-bit read of a channel in LSB/MSB mode. */
static u16 latched(struct vpit *p, u32 ch, u64 ns)
{
	u16 lo, hi;

	out(p, VPIT_PORT_CTRL, (u8)(ch << 6), ns);
	lo = in(p, (u16)(VPIT_PORT_CH0 + ch), ns);
	hi = in(p, (u16)(VPIT_PORT_CH0 + ch), ns);
	return (u16)(lo | (hi << 8));
}

/* Read-back status of one channel. */
static u8 status(struct vpit *p, u32 ch, u64 ns)
{
	out(p, VPIT_PORT_CTRL, (u8)(0xe0 | (2u << ch)), ns);
	return in(p, (u16)(VPIT_PORT_CH0 + ch), ns);
}

static void program(struct vpit *p, u32 ch, u8 mode, u16 count, u64 ns)
{
	out(p, VPIT_PORT_CTRL, (u8)((ch << 6) | 0x30 | (mode << 1)), ns);
	out(p, (u16)(VPIT_PORT_CH0 + ch), (u8)count, ns);
	out(p, (u16)(VPIT_PORT_CH0 + ch), (u8)(count >> 8), ns);
}

static void gate2(struct vpit *p, bool on, u64 ns)
{
	u8 v = in(p, VPIT_PORT_B, ns);

	out(p, VPIT_PORT_B, (u8)(on ? (v | 1) : (v & ~1)), ns);
}

static bool out2(struct vpit *p, u64 ns)
{
	return in(p, VPIT_PORT_B, ns) & VPIT_PORTB_OUT2;
}

/* ---- time conversion (hv/vtime.h) ------------------------------------------------------- */

static void test_time_conversion_is_exact(void **state)
{
	static const u64 rates[] = { VPIT_HZ, 3579545, 32768, 1, 1000000000 };
	u64 seed = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (size_t r = 0; r < ARRAY_SIZE(rates); r++) {
		u64 hz = rates[r];

		for (int i = 0; i < 20000; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			u64 ns = i < 10000 ? seed >> (i % 64) : (u64)i;
			unsigned __int128 exact = (unsigned __int128)ns * hz / 1000000000u;

			assert_true(vtime_ns_to_ticks(ns, hz) == (u64)exact);
			/* the first nanosecond of a tick is where the count reaches it */
			u64 t = (u64)exact;
			u64 first = vtime_ticks_to_ns(t, hz);

			if (first == VTIME_NEVER)
				continue;
			assert_true(vtime_ns_to_ticks(first, hz) == t);
			if (first > 0)
				assert_true(vtime_ns_to_ticks(first - 1, hz) == t - 1 || t == 0);
			assert_true(first <= ns);
		}
	}
	assert_true(vtime_ns_to_ticks(UINT64_MAX, VPIT_HZ) ==
		    (u64)((unsigned __int128)UINT64_MAX * VPIT_HZ / 1000000000u));
	assert_true(vtime_ticks_to_ns(UINT64_MAX, VPIT_HZ) == VTIME_NEVER);
	assert_true(vtime_ticks_to_ns(VPIT_HZ, VPIT_HZ) == 1000000000ull);
	assert_true(vtime_ticks_to_ns(1, VPIT_HZ) == 839); /* 838.095... ns, rounded up */
}

/* ---- power-on state --------------------------------------------------------------------- */

static void test_power_on_state(void **state)
{
	struct vpit p;
	u64 t0 = mid(T0);

	(void)state;
	vpit_init(&p, t0);
	/* channel 0: mode 3, LSB/MSB, binary; the count is loaded on the next pulse */
	assert_int_equal(status(&p, 0, t0), 0x80 | 0x40 | 0x30 | 0x06);
	assert_int_equal(status(&p, 0, mid(T0 + 1)), 0x80 | 0x30 | 0x06);
	/* 18.2 Hz: OUT0 rises every 65536 pulses */
	assert_true(vpit_irq0_next_ns(&p, mid(T0 + 1)) == at(T0 + 1 + 65536));
	assert_int_equal(vpit_irq0_take(&p, mid(T0 + 1)), 0);
	assert_int_equal(vpit_irq0_take(&p, at(T0 + 1 + 65536)), 1);
	assert_int_equal(vpit_irq0_take(&p, at(T0 + 1 + 10 * 65536)), 9);
	/* channel 1: mode 2, LSB only, count 18 */
	assert_int_equal(status(&p, 1, mid(T0 + 2)) & 0x3f, 0x10 | 0x04);
	/* channel 2: mode 3, no count, gate off: OUT high, idle */
	assert_int_equal(status(&p, 2, mid(T0 + 2)), 0x80 | 0x40 | 0x30 | 0x06);
	assert_int_equal(in(&p, VPIT_PORT_B, mid(T0 + 2)) & 0xef, VPIT_PORTB_OUT2);
}

static void test_reset_forgets_programming(void **state)
{
	struct vpit p;

	(void)state;
	vpit_init(&p, mid(T0));
	program(&p, 0, 0, 100, mid(T0 + 5));
	out(&p, VPIT_PORT_B, 0x03, mid(T0 + 5));
	vpit_reset(&p, mid(T0 + 10));
	assert_int_equal(in(&p, VPIT_PORT_B, mid(T0 + 10)) & 0x0f, 0);
	assert_int_equal(status(&p, 0, mid(T0 + 11)), 0x80 | 0x30 | 0x06);
	assert_true(vpit_irq0_next_ns(&p, mid(T0 + 11)) == at(T0 + 11 + 65536));
}

/* ---- Linux: TSC calibration ------------------------------------------------------------- */

/* arch/x86/kernel/tsc.c pit_calibrate_tsc(): gate on, speaker off, mode 0 on channel 2, then
 * poll port 0x61 bit 5. OUT2 must rise exactly latch + 1 pulses after the count is written. */
static void test_linux_pit_calibrate_tsc(void **state)
{
	static const u16 latches[] = { 11931, 1193 * 50, 1, 2, 0xffff };
	struct vpit p;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(latches); i++) {
		u16 latch = latches[i];
		u64 w = T0 + 1000 * i;

		vpit_init(&p, mid(w - 10));
		out(&p, VPIT_PORT_B, (u8)((in(&p, VPIT_PORT_B, mid(w)) & ~0x02) | 0x01), mid(w));
		out(&p, VPIT_PORT_CTRL, 0xb0, mid(w));
		out(&p, VPIT_PORT_CH2, (u8)latch, mid(w));
		out(&p, VPIT_PORT_CH2, (u8)(latch >> 8), mid(w));
		assert_false(out2(&p, mid(w)));
		assert_false(out2(&p, at(w + latch + 1) - 1));
		assert_true(out2(&p, at(w + latch + 1)));
		assert_true(out2(&p, mid(w + latch + 100)));
		/* the speaker stayed off, the gate on */
		assert_int_equal(in(&p, VPIT_PORT_B, mid(w + latch + 100)) & 0x03, 0x01);
	}
}

/* The same loop as Linux runs it: reads at a fixed pace, the TSC standing in as ns. */
static void test_linux_pit_calibrate_tsc_loop(void **state)
{
	const u16 latch = 11931; /* CAL_LATCH: 10 ms */
	struct vpit p;
	u64 t = mid(T0), start, loops = 0;

	(void)state;
	vpit_init(&p, t);
	out(&p, VPIT_PORT_B, (u8)((in(&p, VPIT_PORT_B, t) & ~0x02) | 0x01), t);
	out(&p, VPIT_PORT_CTRL, 0xb0, t);
	out(&p, VPIT_PORT_CH2, latch & 0xff, t);
	out(&p, VPIT_PORT_CH2, latch >> 8, t);
	start = t;
	while (!(in(&p, VPIT_PORT_B, t) & 0x20)) {
		t += 1500; /* one exit per read */
		loops++;
		assert_true(loops < 100000);
	}
	/* (latch + 1) / 1193182 s = 10.0003 ms, measured to within one read */
	u64 exact = at(T0 + latch + 1) - start;

	assert_true(t - start >= exact && t - start < exact + 1500);
	assert_true(loops > 1000); /* Linux's loopmin */
}

/* quick_pit_calibrate(): mode 0 from 0xffff, the counter read without latching, LSB then MSB;
 * the MSB must step down exactly every 256 pulses. */
static void test_linux_quick_pit_calibrate(void **state)
{
	struct vpit p;
	u64 w = T0;

	(void)state;
	vpit_init(&p, mid(w));
	out(&p, VPIT_PORT_B, (u8)((in(&p, VPIT_PORT_B, mid(w)) & ~0x02) | 0x01), mid(w));
	out(&p, VPIT_PORT_CTRL, 0xb0, mid(w));
	out(&p, VPIT_PORT_CH2, 0xff, mid(w));
	out(&p, VPIT_PORT_CH2, 0xff, mid(w));
	/* pit_verify_msb(0): a first LSB/MSB pair as a delay */
	in(&p, VPIT_PORT_CH2, mid(w));
	in(&p, VPIT_PORT_CH2, mid(w));
	for (u32 k = 1; k < 200; k++) {
		/* pulse w+1 loads 0xffff and each later pulse counts one: the MSB is 0xff-(k-1)
		 * up to pulse w+256k, and 0xff-k from the next one */
		u64 last_of_k = w + 256 * (u64)k;
		u8 lsb, msb;

		lsb = in(&p, VPIT_PORT_CH2, mid(last_of_k));
		msb = in(&p, VPIT_PORT_CH2, mid(last_of_k));
		assert_int_equal(msb, 0xff - (k - 1));
		assert_int_equal(lsb, 0x00);
		lsb = in(&p, VPIT_PORT_CH2, mid(last_of_k + 1));
		msb = in(&p, VPIT_PORT_CH2, mid(last_of_k + 1));
		assert_int_equal(msb, 0xff - k);
		assert_int_equal(lsb, 0xff);
	}
}

/* ---- mode 0 ----------------------------------------------------------------------------- */

static void test_mode0_counts_and_wraps(void **state)
{
	struct vpit p;
	u64 w = T0;

	(void)state;
	vpit_init(&p, mid(w));
	program(&p, 0, 0, 1000, mid(w));
	assert_int_equal(vpit_irq0_take(&p, mid(w)), 0);
	assert_int_equal(status(&p, 0, mid(w)), 0x40 | 0x30); /* OUT low, null count */
	assert_int_equal(latched(&p, 0, mid(w + 1)), 1000);   /* loaded, not yet counted */
	assert_int_equal(latched(&p, 0, mid(w + 2)), 999);
	assert_int_equal(latched(&p, 0, mid(w + 1000)), 1);
	assert_false(vpit_out(&p, 0, mid(w + 1000)));
	assert_int_equal(latched(&p, 0, mid(w + 1001)), 0);
	assert_true(vpit_out(&p, 0, at(w + 1001)));
	assert_int_equal(status(&p, 0, mid(w + 1001)), 0x80 | 0x30);
	/* counting goes on through 0xffff; OUT stays high */
	assert_int_equal(latched(&p, 0, mid(w + 1002)), 0xffff);
	assert_int_equal(latched(&p, 0, mid(w + 1002 + 70000)), (u16)(0xffff - 70000));
	assert_true(vpit_out(&p, 0, mid(w + 1002 + 70000)));
	assert_int_equal(vpit_irq0_take(&p, mid(w + 200000)), 1); /* one edge only */
	assert_true(vpit_irq0_next_ns(&p, mid(w + 200000)) == VTIME_NEVER);
}

static void test_mode0_count_zero_is_65536(void **state)
{
	struct vpit p;

	(void)state;
	vpit_init(&p, mid(T0));
	program(&p, 0, 0, 0, mid(T0));
	assert_true(vpit_irq0_next_ns(&p, mid(T0)) == at(T0 + 65537));
	assert_int_equal(latched(&p, 0, mid(T0 + 1)), 0);
	assert_int_equal(latched(&p, 0, mid(T0 + 2)), 0xffff);
	assert_false(vpit_out(&p, 0, at(T0 + 65537) - 1));
	assert_true(vpit_out(&p, 0, at(T0 + 65537)));
}

static void test_mode0_gate_pauses(void **state)
{
	struct vpit p;
	u64 w = T0;

	(void)state;
	vpit_init(&p, mid(w));
	program(&p, 2, 0, 100, mid(w)); /* gate 2 is off: loaded, but not counting */
	assert_int_equal(latched(&p, 2, mid(w + 50)), 100);
	gate2(&p, true, mid(w + 50));
	assert_int_equal(latched(&p, 2, mid(w + 60)), 90);
	gate2(&p, false, mid(w + 60));
	assert_int_equal(latched(&p, 2, mid(w + 500)), 90);
	assert_false(out2(&p, mid(w + 500)));
	gate2(&p, true, mid(w + 500));
	assert_false(out2(&p, mid(w + 589)));
	assert_true(out2(&p, at(w + 590)));
}

static void test_mode0_first_byte_stops_count(void **state)
{
	struct vpit p;
	u64 w = T0;

	(void)state;
	vpit_init(&p, mid(w));
	program(&p, 0, 0, 10, mid(w));
	assert_true(vpit_out(&p, 0, mid(w + 20)));
	vpit_irq0_take(&p, mid(w + 20));
	out(&p, VPIT_PORT_CH0, 50, mid(w + 20)); /* LSB: OUT drops, counting stops */
	assert_false(vpit_out(&p, 0, mid(w + 20)));
	u16 held = latched(&p, 0, mid(w + 20));

	assert_int_equal(latched(&p, 0, mid(w + 40)), held);
	out(&p, VPIT_PORT_CH0, 0, mid(w + 40)); /* MSB: count 50 loads on the next pulse */
	assert_int_equal(latched(&p, 0, mid(w + 41)), 50);
	assert_false(vpit_out(&p, 0, at(w + 91) - 1));
	assert_true(vpit_out(&p, 0, at(w + 91)));
	assert_int_equal(vpit_irq0_take(&p, mid(w + 100)), 1);
}

/* Linux's clockevent shutdown: mode 0, count 0 (drivers/clocksource/i8253.c). It gives one
 * more IRQ 0, 65537 pulses later, as the real chip does. */
static void test_linux_pit_shutdown(void **state)
{
	struct vpit p;

	(void)state;
	vpit_init(&p, mid(T0));
	vpit_irq0_take(&p, mid(T0 + 5));
	out(&p, VPIT_PORT_CTRL, 0x30, mid(T0 + 5));
	out(&p, VPIT_PORT_CH0, 0, mid(T0 + 5));
	out(&p, VPIT_PORT_CH0, 0, mid(T0 + 5));
	assert_true(vpit_irq0_next_ns(&p, mid(T0 + 5)) == at(T0 + 5 + 65537));
	assert_int_equal(vpit_irq0_take(&p, mid(T0 + 5 + 65537)), 1);
	assert_true(vpit_irq0_next_ns(&p, mid(T0 + 5 + 65537)) == VTIME_NEVER);
	assert_int_equal(vpit_irq0_take(&p, mid(T0 + 1000000)), 0);
}

/* ---- mode 2 ----------------------------------------------------------------------------- */

/* The i8253 clock event in periodic mode: 0x34, LATCH = (1193182 + HZ/2) / HZ. */
static void test_mode2_linux_periodic(void **state)
{
	const u16 latch = (1193182 + 125) / 250;
	struct vpit p;
	u64 w = T0;

	(void)state;
	vpit_init(&p, mid(w));
	vpit_irq0_take(&p, mid(w));
	out(&p, VPIT_PORT_CTRL, 0x34, mid(w));
	out(&p, VPIT_PORT_CH0, latch & 0xff, mid(w));
	out(&p, VPIT_PORT_CH0, latch >> 8, mid(w));
	vpit_irq0_take(&p, mid(w));
	for (u32 k = 1; k <= 20; k++) {
		u64 edge = w + 1 + (u64)k * latch;

		assert_true(vpit_irq0_next_ns(&p, mid(edge - latch)) == at(edge));
		assert_true(vpit_out(&p, 0, mid(edge - 2)));
		assert_false(vpit_out(&p, 0, mid(edge - 1))); /* low for one pulse */
		assert_int_equal(vpit_irq0_take(&p, at(edge) - 1), 0);
		assert_int_equal(vpit_irq0_take(&p, at(edge)), 1);
		assert_true(vpit_out(&p, 0, at(edge)));
	}
	/* a long gap: every period counted */
	assert_int_equal(vpit_irq0_take(&p, mid(w + 1 + 1020ull * latch)), 1000);
}

static void test_mode2_counter_values(void **state)
{
	struct vpit p;
	u64 w = T0;

	(void)state;
	vpit_init(&p, mid(w));
	program(&p, 0, 2, 5, mid(w));
	/* loaded on w+1: 5 4 3 2 1 5 4 ... OUT low at 1 */
	static const u16 want[] = { 5, 4, 3, 2, 1, 5, 4, 3, 2, 1, 5 };
	for (u32 i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(latched(&p, 0, mid(w + 1 + i)), want[i]);
		assert_true(vpit_out(&p, 0, mid(w + 1 + i)) == (want[i] != 1));
	}
}

static void test_mode2_new_count_waits_for_period_end(void **state)
{
	struct vpit p;
	u64 w = T0;

	(void)state;
	vpit_init(&p, mid(w));
	program(&p, 0, 2, 100, mid(w));
	vpit_irq0_take(&p, mid(w));
	/* halfway through the first period, a new count without a control word */
	out(&p, VPIT_PORT_CH0, 10, mid(w + 50));
	out(&p, VPIT_PORT_CH0, 0, mid(w + 50));
	assert_int_equal(status(&p, 0, mid(w + 50)) & 0x40, 0x40); /* null count until used */
	assert_int_equal(latched(&p, 0, mid(w + 51)), 50);
	assert_true(vpit_irq0_next_ns(&p, mid(w + 51)) == at(w + 101));
	assert_int_equal(latched(&p, 0, mid(w + 101)), 10);
	assert_int_equal(status(&p, 0, mid(w + 101)) & 0x40, 0);
	assert_true(vpit_irq0_next_ns(&p, mid(w + 101)) == mid(w + 101)); /* an edge is waiting */
	assert_int_equal(vpit_irq0_take(&p, mid(w + 101)), 1);
	assert_true(vpit_irq0_next_ns(&p, mid(w + 101)) == at(w + 111));
	assert_int_equal(vpit_irq0_take(&p, mid(w + 1 + 100 + 10 * 10)), 10);
}

static void test_mode2_control_word_rises_out(void **state)
{
	struct vpit p;

	(void)state;
	vpit_init(&p, mid(T0));
	program(&p, 0, 0, 1000, mid(T0)); /* OUT0 low, counting */
	vpit_irq0_take(&p, mid(T0 + 10));
	out(&p, VPIT_PORT_CTRL, 0x34, mid(T0 + 10)); /* mode 2: OUT high at once */
	assert_int_equal(vpit_irq0_take(&p, mid(T0 + 10)), 1);
	assert_true(vpit_irq0_next_ns(&p, mid(T0 + 10)) == VTIME_NEVER); /* no count yet */
}

/* ---- mode 3 ----------------------------------------------------------------------------- */

static void check_square(struct vpit *p, u64 load, u32 n, u32 periods)
{
	u32 hi = (n + 1) / 2;

	for (u64 k = 0; k < (u64)n * periods; k++) {
		bool want = (k % n) < hi;

		assert_true(vpit_out(p, 0, mid(load + k)) == want);
	}
}

static void test_mode3_square_wave(void **state)
{
	static const u32 counts[] = { 2, 3, 10, 7, 101 };
	struct vpit p;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(counts); i++) {
		u32 n = counts[i];

		vpit_init(&p, mid(T0));
		program(&p, 0, 3, (u16)n, mid(T0));
		vpit_irq0_take(&p, mid(T0));
		check_square(&p, T0 + 1, n, 4);
		assert_int_equal(vpit_irq0_take(&p, mid(T0 + 1 + 4 * n)), 4);
		assert_true(vpit_irq0_next_ns(&p, mid(T0 + 1 + 4 * n)) == at(T0 + 1 + 5 * n));
	}
}

static void test_mode3_counter_counts_by_two(void **state)
{
	struct vpit p;

	(void)state;
	vpit_init(&p, mid(T0));
	program(&p, 0, 3, 8, mid(T0));
	static const u16 even[] = { 8, 6, 4, 2, 8, 6, 4, 2, 8 };
	for (u32 i = 0; i < ARRAY_SIZE(even); i++)
		assert_int_equal(latched(&p, 0, mid(T0 + 1 + i)), even[i]);
	program(&p, 0, 3, 7, mid(T0 + 100));
	static const u16 odd[] = { 6, 4, 2, 0, 6, 4, 2, 6 };
	for (u32 i = 0; i < ARRAY_SIZE(odd); i++)
		assert_int_equal(latched(&p, 0, mid(T0 + 101 + i)), odd[i]);
}

/* The PC speaker: channel 2 in mode 3, gate and speaker bits in port 0x61. */
static void test_mode3_speaker_and_gate(void **state)
{
	struct vpit p;
	u64 w = T0;

	(void)state;
	vpit_init(&p, mid(w));
	out(&p, VPIT_PORT_CTRL, 0xb6, mid(w));
	out(&p, VPIT_PORT_CH2, 20, mid(w));
	out(&p, VPIT_PORT_CH2, 0, mid(w));
	assert_true(out2(&p, mid(w + 30))); /* gate off: not counting, OUT high */
	out(&p, VPIT_PORT_B, 0x03, mid(w + 30));
	/* loaded on w+31: high 10, low 10 */
	assert_true(out2(&p, mid(w + 40)));
	assert_false(out2(&p, mid(w + 41)));
	assert_false(out2(&p, mid(w + 50)));
	assert_true(out2(&p, mid(w + 51)));
	assert_false(out2(&p, mid(w + 63)));
	/* gate low: OUT high at once, counting stops */
	out(&p, VPIT_PORT_B, 0x02, mid(w + 63));
	assert_true(out2(&p, mid(w + 63)));
	u16 held = latched(&p, 2, mid(w + 63));

	assert_int_equal(latched(&p, 2, mid(w + 500)), held);
	/* gate high again: the period restarts on the next pulse */
	out(&p, VPIT_PORT_B, 0x03, mid(w + 500));
	assert_true(out2(&p, mid(w + 510)));
	assert_false(out2(&p, mid(w + 511)));
	assert_int_equal(in(&p, VPIT_PORT_B, mid(w + 511)) & 0x0f, 0x03);
}

static void test_mode3_new_count_at_half_period(void **state)
{
	struct vpit p;

	(void)state;
	vpit_init(&p, mid(T0));
	program(&p, 0, 3, 100, mid(T0)); /* high T0+1..T0+50, low T0+51..T0+100 */
	out(&p, VPIT_PORT_CH0, 10, mid(T0 + 20));
	out(&p, VPIT_PORT_CH0, 0, mid(T0 + 20));
	assert_true(vpit_out(&p, 0, mid(T0 + 50)));
	/* the high half ends at T0+51 with the old count; the new count's low half follows */
	assert_false(vpit_out(&p, 0, mid(T0 + 51)));
	assert_false(vpit_out(&p, 0, mid(T0 + 55)));
	assert_true(vpit_out(&p, 0, mid(T0 + 56)));
	vpit_irq0_take(&p, mid(T0 + 56));
	assert_true(vpit_irq0_next_ns(&p, mid(T0 + 56)) == at(T0 + 66));
}

/* ---- modes 4, 1, 5 ---------------------------------------------------------------------- */

/* The i8253 clock event in one-shot mode: 0x38, then each event writes LSB and MSB. */
static void test_mode4_linux_oneshot(void **state)
{
	struct vpit p;
	u64 w = T0;

	(void)state;
	vpit_init(&p, mid(w));
	out(&p, VPIT_PORT_CTRL, 0x38, mid(w));
	vpit_irq0_take(&p, mid(w));
	assert_true(vpit_irq0_next_ns(&p, mid(w)) == VTIME_NEVER);
	for (u32 k = 0; k < 5; k++) {
		u16 delta = (u16)(100 + 37 * k);

		out(&p, VPIT_PORT_CH0, (u8)delta, mid(w));
		out(&p, VPIT_PORT_CH0, (u8)(delta >> 8), mid(w));
		assert_true(vpit_irq0_next_ns(&p, mid(w)) == at(w + delta + 2));
		assert_true(vpit_out(&p, 0, mid(w + delta)));
		assert_false(vpit_out(&p, 0, mid(w + delta + 1))); /* the strobe */
		assert_int_equal(vpit_irq0_take(&p, at(w + delta + 2) - 1), 0);
		assert_int_equal(vpit_irq0_take(&p, at(w + delta + 2)), 1);
		assert_true(vpit_out(&p, 0, mid(w + delta + 2)));
		assert_true(vpit_irq0_next_ns(&p, mid(w + delta + 2)) == VTIME_NEVER);
		/* the counter wraps and goes on, without another strobe */
		assert_int_equal(vpit_irq0_take(&p, mid(w + delta + 2 + 200000)), 0);
		w += delta + 2 + 200000;
	}
}

static void test_mode4_rewrite_retriggers(void **state)
{
	struct vpit p;

	(void)state;
	vpit_init(&p, mid(T0));
	program(&p, 0, 4, 100, mid(T0));
	vpit_irq0_take(&p, mid(T0));
	program(&p, 0, 4, 100, mid(T0 + 50)); /* before the strobe: starts over */
	assert_true(vpit_irq0_next_ns(&p, mid(T0 + 50)) == at(T0 + 152));
	assert_int_equal(vpit_irq0_take(&p, mid(T0 + 300)), 1);
}

static void test_mode4_gate(void **state)
{
	struct vpit p;

	(void)state;
	vpit_init(&p, mid(T0));
	program(&p, 2, 4, 10, mid(T0)); /* gate off: loaded, held */
	assert_int_equal(latched(&p, 2, mid(T0 + 100)), 10);
	gate2(&p, true, mid(T0 + 100));
	assert_true(out2(&p, mid(T0 + 109)));
	assert_false(out2(&p, mid(T0 + 110)));
	assert_true(out2(&p, mid(T0 + 111)));
}

static void test_mode1_gate_triggered_one_shot(void **state)
{
	struct vpit p;

	(void)state;
	vpit_init(&p, mid(T0));
	program(&p, 2, 1, 10, mid(T0));
	assert_true(out2(&p, mid(T0 + 50)));   /* waits for a trigger */
	gate2(&p, true, mid(T0 + 50));         /* rising gate: load on the next pulse */
	assert_true(out2(&p, mid(T0 + 50)));
	assert_false(out2(&p, mid(T0 + 51)));
	assert_int_equal(latched(&p, 2, mid(T0 + 51)), 10);
	assert_false(out2(&p, mid(T0 + 60)));
	assert_true(out2(&p, mid(T0 + 61)));
	/* the gate level does not matter, only its rising edge: retrigger */
	gate2(&p, false, mid(T0 + 70));
	assert_true(out2(&p, mid(T0 + 80)));
	gate2(&p, true, mid(T0 + 80));
	gate2(&p, false, mid(T0 + 85)); /* counting goes on with the gate low */
	assert_false(out2(&p, mid(T0 + 90)));
	assert_true(out2(&p, mid(T0 + 91)));
}

static void test_mode5_gate_triggered_strobe(void **state)
{
	struct vpit p;

	(void)state;
	vpit_init(&p, mid(T0));
	program(&p, 2, 5, 10, mid(T0));
	assert_true(out2(&p, mid(T0 + 50)));
	gate2(&p, true, mid(T0 + 50));
	assert_true(out2(&p, mid(T0 + 60)));
	assert_false(out2(&p, mid(T0 + 61)));
	assert_true(out2(&p, mid(T0 + 62)));
	assert_true(out2(&p, mid(T0 + 70000)));
}

/* ---- latches and read-back -------------------------------------------------------------- */

static void test_counter_latch(void **state)
{
	struct vpit p;
	u8 lo, hi;

	(void)state;
	vpit_init(&p, mid(T0));
	program(&p, 0, 2, 1000, mid(T0));
	out(&p, VPIT_PORT_CTRL, 0x00, mid(T0 + 11)); /* latch: 990 */
	out(&p, VPIT_PORT_CTRL, 0x00, mid(T0 + 21)); /* ignored: the first is still unread */
	lo = in(&p, VPIT_PORT_CH0, mid(T0 + 300));
	hi = in(&p, VPIT_PORT_CH0, mid(T0 + 400));
	assert_int_equal(lo | (hi << 8), 990);
	/* unlatched again: the live counter, byte by byte */
	lo = in(&p, VPIT_PORT_CH0, mid(T0 + 401));
	hi = in(&p, VPIT_PORT_CH0, mid(T0 + 401));
	assert_int_equal(lo | (hi << 8), 600);
}

static void test_readback_status_and_count(void **state)
{
	struct vpit p;

	(void)state;
	vpit_init(&p, mid(T0));
	program(&p, 0, 2, 300, mid(T0));
	program(&p, 1, 0, 300, mid(T0));
	/* before the load pulse: null count */
	assert_int_equal(status(&p, 0, mid(T0)), 0x80 | 0x40 | 0x30 | 0x04);
	/* status and count of channel 0: status first */
	out(&p, VPIT_PORT_CTRL, 0xc2, mid(T0 + 9));
	assert_int_equal(in(&p, VPIT_PORT_CH0, mid(T0 + 10)), 0x80 | 0x30 | 0x04);
	assert_int_equal(in(&p, VPIT_PORT_CH0, mid(T0 + 10)), 292 & 0xff);
	assert_int_equal(in(&p, VPIT_PORT_CH0, mid(T0 + 10)), 292 >> 8);
	/* count of channels 0 and 1 at once */
	out(&p, VPIT_PORT_CTRL, 0xd6, mid(T0 + 11));
	assert_int_equal(in(&p, VPIT_PORT_CH1, mid(T0 + 50)), 290 & 0xff);
	assert_int_equal(in(&p, VPIT_PORT_CH1, mid(T0 + 50)), 290 >> 8);
	assert_int_equal(in(&p, VPIT_PORT_CH0, mid(T0 + 50)), 290 & 0xff);
	assert_int_equal(in(&p, VPIT_PORT_CH0, mid(T0 + 50)), 290 >> 8);
	/* status only, of channel 1 (mode 0, OUT low, loaded) */
	out(&p, VPIT_PORT_CTRL, 0xe4, mid(T0 + 50));
	assert_int_equal(in(&p, VPIT_PORT_CH1, mid(T0 + 50)), 0x30);
	/* a second status latch is ignored until the first is read */
	out(&p, VPIT_PORT_CTRL, 0xe4, mid(T0 + 60));
	out(&p, VPIT_PORT_CTRL, 0xe4, mid(T0 + 400));
	assert_int_equal(in(&p, VPIT_PORT_CH1, mid(T0 + 400)), 0x30);
	assert_int_equal(status(&p, 1, mid(T0 + 400)), 0x80 | 0x30);
	/* read-back with a latched count pending keeps that count */
	out(&p, VPIT_PORT_CTRL, 0x00, mid(T0 + 500));
	out(&p, VPIT_PORT_CTRL, 0xc2, mid(T0 + 510));
	assert_int_equal(in(&p, VPIT_PORT_CH0, mid(T0 + 520)), 0x80 | 0x30 | 0x04);
	u16 c = in(&p, VPIT_PORT_CH0, mid(T0 + 520));

	c |= (u16)(in(&p, VPIT_PORT_CH0, mid(T0 + 520)) << 8);
	assert_int_equal(c, 300 - ((500 - 1) % 300));
}

static void test_status_bits(void **state)
{
	struct vpit p;

	(void)state;
	vpit_init(&p, mid(T0));
	out(&p, VPIT_PORT_CTRL, 0xab, mid(T0)); /* ch 2, MSB only, mode 5, BCD */
	assert_int_equal(status(&p, 2, mid(T0)), 0x80 | 0x40 | 0x20 | 0x0a | 0x01);
	out(&p, VPIT_PORT_CTRL, 0x5c, mid(T0)); /* ch 1, LSB only, mode 6 (= 2) */
	assert_int_equal(status(&p, 1, mid(T0)), 0x80 | 0x40 | 0x10 | 0x0c);
	out(&p, VPIT_PORT_CH1, 4, mid(T0));
	assert_int_equal(latched(&p, 1, mid(T0 + 1)) & 0xff, 4);
	/* mode 6 behaves as mode 2: one low pulse every 4 */
	assert_false(vpit_out(&p, 1, mid(T0 + 4)));
	assert_true(vpit_out(&p, 1, mid(T0 + 5)));
}

/* ---- access modes, BCD ------------------------------------------------------------------ */

static void test_lsb_only_and_msb_only(void **state)
{
	struct vpit p;

	(void)state;
	vpit_init(&p, mid(T0));
	out(&p, VPIT_PORT_CTRL, 0x10, mid(T0)); /* ch 0, LSB only, mode 0 */
	out(&p, VPIT_PORT_CH0, 200, mid(T0));
	assert_int_equal(in(&p, VPIT_PORT_CH0, mid(T0 + 1)), 200);
	assert_int_equal(in(&p, VPIT_PORT_CH0, mid(T0 + 2)), 199);
	assert_true(vpit_irq0_next_ns(&p, mid(T0 + 2)) == at(T0 + 201));
	out(&p, VPIT_PORT_CTRL, 0x20, mid(T0 + 10)); /* MSB only: count = value << 8 */
	out(&p, VPIT_PORT_CH0, 2, mid(T0 + 10));
	assert_int_equal(in(&p, VPIT_PORT_CH0, mid(T0 + 11)), 2);
	assert_int_equal(in(&p, VPIT_PORT_CH0, mid(T0 + 12)), 1); /* 0x01ff */
	assert_true(vpit_irq0_next_ns(&p, mid(T0 + 12)) == at(T0 + 10 + 513));
}

static void test_bcd_counting(void **state)
{
	struct vpit p;

	(void)state;
	vpit_init(&p, mid(T0));
	out(&p, VPIT_PORT_CTRL, 0x31, mid(T0)); /* ch 0, LSB/MSB, mode 0, BCD */
	out(&p, VPIT_PORT_CH0, 0x34, mid(T0));
	out(&p, VPIT_PORT_CH0, 0x12, mid(T0)); /* 1234 */
	assert_int_equal(latched(&p, 0, mid(T0 + 1)), 0x1234);
	assert_int_equal(latched(&p, 0, mid(T0 + 6)), 0x1229);
	assert_true(vpit_irq0_next_ns(&p, mid(T0 + 6)) == at(T0 + 1235));
	assert_int_equal(latched(&p, 0, mid(T0 + 1236)), 0x9999); /* wraps at 10000 */
	/* count 0 is 10000 */
	out(&p, VPIT_PORT_CTRL, 0x35, mid(T0 + 2000)); /* mode 2, BCD */
	out(&p, VPIT_PORT_CH0, 0, mid(T0 + 2000));
	out(&p, VPIT_PORT_CH0, 0, mid(T0 + 2000));
	assert_int_equal(latched(&p, 0, mid(T0 + 2001)), 0x0000);
	assert_int_equal(latched(&p, 0, mid(T0 + 2002)), 0x9999);
	vpit_irq0_take(&p, mid(T0 + 2002));
	assert_true(vpit_irq0_next_ns(&p, mid(T0 + 2002)) == at(T0 + 2001 + 10000));
}

/* ---- port 0x61, odd ports, time --------------------------------------------------------- */

static void test_port_b(void **state)
{
	struct vpit p;
	u32 toggles = 0;
	u8 last;

	(void)state;
	vpit_init(&p, mid(T0));
	out(&p, VPIT_PORT_B, 0xff, mid(T0)); /* bits 4-7 cannot be written */
	assert_int_equal(in(&p, VPIT_PORT_B, mid(T0)) & 0xcf, 0x0f);
	out(&p, VPIT_PORT_B, 0x0c, mid(T0));
	assert_int_equal(in(&p, VPIT_PORT_B, mid(T0)) & 0xcf, 0x0c);
	/* bit 4 toggles every 18 pulses */
	last = in(&p, VPIT_PORT_B, mid(T0)) & VPIT_PORTB_REFRESH;
	for (u64 t = T0; t < T0 + 18 * 100; t++) {
		u8 now = in(&p, VPIT_PORT_B, mid(t)) & VPIT_PORTB_REFRESH;

		toggles += now != last;
		last = now;
	}
	assert_int_equal(toggles, 100);
}

static void test_other_ports(void **state)
{
	struct vpit p;

	(void)state;
	vpit_init(&p, mid(T0));
	assert_int_equal(in(&p, VPIT_PORT_CTRL, mid(T0)), 0xff);
	assert_int_equal(in(&p, 0x44, mid(T0)), 0xff);
	assert_int_equal(in(&p, 0x60, mid(T0)), 0xff);
	out(&p, 0x44, 0x00, mid(T0));
	assert_int_equal(status(&p, 0, mid(T0 + 1)), 0x80 | 0x30 | 0x06);
}

static void test_time_never_runs_back(void **state)
{
	struct vpit p;

	(void)state;
	vpit_init(&p, mid(T0));
	program(&p, 0, 0, 1000, mid(T0));
	assert_int_equal(latched(&p, 0, mid(T0 + 101)), 900);
	/* another vCPU with a clock a little behind */
	assert_int_equal(latched(&p, 0, mid(T0 + 50)), 900);
	assert_int_equal(latched(&p, 0, 0), 900);
	assert_int_equal(latched(&p, 0, mid(T0 + 102)), 899);
}

static void test_far_future(void **state)
{
	struct vpit p;
	const u64 year = 365ull * 24 * 3600 * 1000000000ull;
	u64 base = 30 * year, t;

	(void)state;
	vpit_init(&p, base);
	t = vtime_ns_to_ticks(base, VPIT_HZ) + 1;
	program(&p, 0, 2, 1193, at(t));
	vpit_irq0_take(&p, at(t));
	assert_int_equal(vpit_irq0_take(&p, at(t + 1 + 1193 * 1000000ull)), 1000000);
	assert_true(vpit_irq0_next_ns(&p, at(t + 1 + 1193 * 1000000ull)) ==
		    at(t + 1 + 1193 * 1000001ull));
}

/* ---- advancing by many pulses equals advancing pulse by pulse --------------------------- */

static u64 rng_state;

static u32 rnd(u32 n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (u32)((rng_state >> 33) % n);
}

/* Everything a guest can observe of one channel, without changing what it observes later:
 * read-back of status and count, read out completely. */
static void observe(struct vpit *p, u32 ch, u64 ns, u8 obs[3])
{
	struct vpit_channel *c = &p->ch[ch];
	bool rd = c->rd_msb;

	out(p, VPIT_PORT_CTRL, (u8)(0xc0 | (2u << ch)), ns);
	obs[0] = in(p, (u16)(VPIT_PORT_CH0 + ch), ns);
	obs[1] = in(p, (u16)(VPIT_PORT_CH0 + ch), ns);
	obs[2] = c->rw == 3 ? in(p, (u16)(VPIT_PORT_CH0 + ch), ns) : 0;
	c->rd_msb = rd; /* keep the guest's own flip-flop where it was */
}

static void random_access(struct vpit *a, struct vpit *b, u64 ns)
{
	u32 ch = rnd(3);
	u16 port = (u16)(VPIT_PORT_CH0 + ch);

	switch (rnd(6)) {
	case 0: { /* control word: any mode, access, BCD */
		u8 cw = (u8)((ch << 6) | ((1 + rnd(3)) << 4) | (rnd(8) << 1) | (rnd(4) == 0));

		out(a, VPIT_PORT_CTRL, cw, ns);
		out(b, VPIT_PORT_CTRL, cw, ns);
		break;
	}
	case 1:
	case 2: { /* a small count byte, so that periods are short */
		u8 v = (u8)(rnd(3) ? rnd(40) : 0);

		out(a, port, v, ns);
		out(b, port, v, ns);
		break;
	}
	case 3: { /* gate 2 */
		u8 v = (u8)rnd(4);

		out(a, VPIT_PORT_B, v, ns);
		out(b, VPIT_PORT_B, v, ns);
		break;
	}
	case 4: /* a latch */
		out(a, VPIT_PORT_CTRL, (u8)(ch << 6), ns);
		out(b, VPIT_PORT_CTRL, (u8)(ch << 6), ns);
		break;
	default: /* a data read */
		assert_int_equal(in(a, port, ns), in(b, port, ns));
		break;
	}
}

static void test_jump_equals_steps(void **state)
{
	static struct vpit a, b;
	u64 total_edges = 0;
	u32 modes_running = 0; /* bit m: a channel was seen counting in mode m */

	(void)state;
	rng_state = 12345;
	for (int round = 0; round < 300; round++) {
		u64 t = T0 + (u64)round * 100000;
		u32 edges_a = 0, edges_b;

		vpit_init(&a, mid(t));
		vpit_init(&b, mid(t));
		vpit_irq0_take(&a, mid(t));
		vpit_irq0_take(&b, mid(t));
		for (int ev = 0; ev < 40; ev++) {
			u32 gap = rnd(4) ? rnd(30) : rnd(3000);
			u64 predicted = vpit_irq0_next_ns(&b, mid(t));
			u64 first_edge = VTIME_NEVER;

			/* a: one pulse at a time; b: the whole gap at once */
			for (u32 k = 1; k <= gap; k++) {
				u32 e = vpit_irq0_take(&a, mid(t + k));

				if (e && first_edge == VTIME_NEVER)
					first_edge = at(t + k);
				assert_true(e <= 1);
				edges_a += e;
				total_edges += e;
			}
			t += gap;
			edges_b = vpit_irq0_take(&b, mid(t));
			if (first_edge != VTIME_NEVER) {
				assert_true(predicted == first_edge);
			} else {
				assert_true(predicted == VTIME_NEVER || predicted > mid(t));
			}
			assert_int_equal(edges_a, edges_b);
			edges_a = 0;
			for (u32 ch = 0; ch < 3; ch++) {
				u8 oa[3], ob[3];

				observe(&a, ch, mid(t), oa);
				observe(&b, ch, mid(t), ob);
				assert_memory_equal(oa, ob, 3);
				if (a.ch[ch].state == VPIT_RUN)
					modes_running |= 1u << a.ch[ch].mode;
				assert_true(vpit_out(&a, ch, mid(t)) == vpit_out(&b, ch, mid(t)));
			}
			int n = 1 + (int)rnd(3);

			for (int i = 0; i < n; i++)
				random_access(&a, &b, mid(t));
			edges_a += vpit_irq0_take(&a, mid(t));
			edges_b = vpit_irq0_take(&b, mid(t));
			assert_int_equal(edges_a, edges_b);
			edges_a = 0;
		}
	}
	/* the random programs did exercise the model */
	assert_true(total_edges > 1000);
	assert_int_equal(modes_running, 0x3f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_conversion_is_exact),
		cmocka_unit_test(test_power_on_state),
		cmocka_unit_test(test_reset_forgets_programming),
		cmocka_unit_test(test_linux_pit_calibrate_tsc),
		cmocka_unit_test(test_linux_pit_calibrate_tsc_loop),
		cmocka_unit_test(test_linux_quick_pit_calibrate),
		cmocka_unit_test(test_mode0_counts_and_wraps),
		cmocka_unit_test(test_mode0_count_zero_is_65536),
		cmocka_unit_test(test_mode0_gate_pauses),
		cmocka_unit_test(test_mode0_first_byte_stops_count),
		cmocka_unit_test(test_linux_pit_shutdown),
		cmocka_unit_test(test_mode2_linux_periodic),
		cmocka_unit_test(test_mode2_counter_values),
		cmocka_unit_test(test_mode2_new_count_waits_for_period_end),
		cmocka_unit_test(test_mode2_control_word_rises_out),
		cmocka_unit_test(test_mode3_square_wave),
		cmocka_unit_test(test_mode3_counter_counts_by_two),
		cmocka_unit_test(test_mode3_speaker_and_gate),
		cmocka_unit_test(test_mode3_new_count_at_half_period),
		cmocka_unit_test(test_mode4_linux_oneshot),
		cmocka_unit_test(test_mode4_rewrite_retriggers),
		cmocka_unit_test(test_mode4_gate),
		cmocka_unit_test(test_mode1_gate_triggered_one_shot),
		cmocka_unit_test(test_mode5_gate_triggered_strobe),
		cmocka_unit_test(test_counter_latch),
		cmocka_unit_test(test_readback_status_and_count),
		cmocka_unit_test(test_status_bits),
		cmocka_unit_test(test_lsb_only_and_msb_only),
		cmocka_unit_test(test_bcd_counting),
		cmocka_unit_test(test_port_b),
		cmocka_unit_test(test_other_ports),
		cmocka_unit_test(test_time_never_runs_back),
		cmocka_unit_test(test_far_future),
		cmocka_unit_test(test_jump_equals_steps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
