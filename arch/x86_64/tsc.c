/* TSC calibration against the PIT or the ACPI PM timer, and delays built on the TSC. */
#include "arch/tsc.h"
#include "arch/x86.h"
#include "lib/error.h"

#define PIT_HZ 1193182ull
#define PM_TIMER_HZ 3579545ull
#define CALIBRATION_MS 40ull
/* Upper bound on TSC ticks to wait for a timer that may not exist: ~2 s even at 10 GHz. */
#define TIMER_WAIT_LIMIT 20000000000ull

static u64 origin_tsc;
static u64 ticks_per_second;

void tsc_set_origin(u64 tsc)
{
	origin_tsc = tsc;
}

u64 tsc_origin(void)
{
	return origin_tsc;
}

u64 tsc_hz(void)
{
	return ticks_per_second;
}

/* One reading of a reference counter, bracketed by two TSC reads. The TSC moment of the reading
 * is known only to within the bracket: a CPU interrupted, or an emulator's thread descheduled,
 * between the two TSC reads widens it, so a sample keeps the narrowest of a few tries. Once the
 * brackets are narrow, a delay between the two samples of a measurement costs nothing: both
 * clocks see it. (A single timed wait for the counter would count such a delay in one clock
 * only; under a loaded emulator that made the TSC rate come out 18 % high.) */
struct tsc_sample {
	u64 tsc;   /* middle of the bracket */
	u64 width; /* TSC ticks between the two reads */
	u32 count; /* the reference counter */
};

/* A measured rate with its uncertainty from the two brackets, in parts per million; hz 0 is a
 * measurement to repeat, `absent` a reference counter that does not count at all. */
struct tsc_rate {
	u64 hz;
	u64 ppm;
	bool absent;
};

static const struct tsc_rate RATE_ABSENT = { .hz = 0, .ppm = UINT64_MAX, .absent = true };
static const struct tsc_rate RATE_RETRY = { .hz = 0, .ppm = UINT64_MAX, .absent = false };

#define SAMPLE_TRIES 5
#define CALIBRATION_TRIES 5
#define GOOD_ENOUGH_PPM 500

static struct tsc_sample sample_counter(u32 (*read)(u16 port), u16 port)
{
	struct tsc_sample best = { .width = UINT64_MAX };

	for (int i = 0; i < SAMPLE_TRIES; i++) {
		u64 before = rdtsc();
		u32 count = read(port);
		u64 after = rdtsc();

		if (after - before < best.width)
			best = (struct tsc_sample){ .tsc = before + (after - before) / 2,
						    .width = after - before, .count = count };
	}
	return best;
}

/* The TSC rate from samples `a` and `b`, `ref_ticks` ticks of a `ref_hz` counter apart. */
static struct tsc_rate rate_between(struct tsc_sample a, struct tsc_sample b, u64 ref_ticks,
				    u64 ref_hz)
{
	u64 span = b.tsc - a.tsc;
	struct tsc_rate r = RATE_RETRY;

	if (!ref_ticks || !span)
		return r;
	r.hz = span / ref_ticks * ref_hz + (span % ref_ticks) * ref_hz / ref_ticks;
	r.ppm = (a.width + b.width) / 2 * 1000000 / span;
	return r;
}

/* Measures up to CALIBRATION_TRIES times and keeps the rate with the narrowest brackets. */
static int calibrate(struct tsc_rate (*measure)(const void *ctx), const void *ctx)
{
	struct tsc_rate best = { .hz = 0, .ppm = UINT64_MAX };

	for (int i = 0; i < CALIBRATION_TRIES && best.ppm > GOOD_ENOUGH_PPM; i++) {
		struct tsc_rate r = measure(ctx);

		if (r.absent)
			break;
		if (r.hz && r.ppm < best.ppm)
			best = r;
	}
	if (!best.hz)
		return BH_ETIMEDOUT;
	ticks_per_second = best.hz;
	return 0;
}

static u32 pit2_read(u16 port)
{
	u8 lo, hi;

	(void)port;
	outb(0x43, 0x80); /* latch channel 2 */
	lo = inb(0x42);
	hi = inb(0x42);
	return (u32)hi << 8 | lo;
}

#define PIT_OUT2 0x20 /* port 0x61: channel 2 reached terminal count */

/* PIT channel 2 counting down once from 0xffff in mode 0 (55 ms, of which CALIBRATION_MS are
 * measured). */
static struct tsc_rate pit_measure(const void *ctx)
{
	const u8 gate = *(const u8 *)ctx;
	const u32 target = (u32)(PIT_HZ * CALIBRATION_MS / 1000);
	struct tsc_sample a, b;
	u64 start;
	u32 elapsed = 0;

	outb(0x61, (u8)(gate & ~0x03));
	outb(0x43, 0xb0); /* channel 2, low then high byte, mode 0, binary */
	outb(0x42, 0xff);
	outb(0x42, 0xff);
	outb(0x61, (u8)((gate & ~0x02) | 0x01)); /* gate on, speaker off */
	start = rdtsc();
	do { /* the count is loaded on the first input clock after the gate rises */
		a = sample_counter(pit2_read, 0);
		if (rdtsc() - start > TIMER_WAIT_LIMIT)
			return RATE_ABSENT;
	} while (a.count > 0xfff0);
	for (;;) {
		b = sample_counter(pit2_read, 0);
		if ((inb(0x61) & PIT_OUT2) || b.count > a.count)
			return RATE_RETRY; /* passed 0 while away: the span is unknown */
		elapsed = a.count - b.count;
		if (elapsed >= target)
			return rate_between(a, b, elapsed, PIT_HZ);
		if (rdtsc() - start > TIMER_WAIT_LIMIT)
			return RATE_ABSENT;
	}
}

int tsc_calibrate_pit(void)
{
	u8 gate = inb(0x61);
	int err = calibrate(pit_measure, &gate);

	outb(0x61, gate);
	return err;
}

struct pm_timer {
	u16 port;
	u32 mask;
};

static u32 pm_timer_read(u16 port)
{
	return inl(port);
}

/* The free-running PM timer over CALIBRATION_MS. */
static struct tsc_rate pm_timer_measure(const void *ctx)
{
	const struct pm_timer *pm = ctx;
	const u32 target = (u32)(PM_TIMER_HZ * CALIBRATION_MS / 1000);
	struct tsc_sample a = sample_counter(pm_timer_read, pm->port), b;
	u64 start = rdtsc();
	u32 elapsed = 0;

	while (elapsed < target) {
		b = sample_counter(pm_timer_read, pm->port);
		elapsed = (b.count - a.count) & pm->mask;
		if (rdtsc() - start > TIMER_WAIT_LIMIT)
			return RATE_ABSENT;
	}
	return rate_between(a, b, elapsed, PM_TIMER_HZ);
}

int tsc_calibrate_pm_timer(u16 port, bool is_32bit)
{
	struct pm_timer pm = { .port = port, .mask = is_32bit ? 0xffffffffu : 0x00ffffffu };

	return calibrate(pm_timer_measure, &pm);
}

u64 tsc_uptime_us(void)
{
	if (!ticks_per_second)
		return 0;
	u64 d = rdtsc() - origin_tsc;

	return d / ticks_per_second * 1000000 + (d % ticks_per_second) * 1000000 / ticks_per_second;
}

u64 tsc_uptime_ns(void)
{
	if (!ticks_per_second)
		return 0;
	u64 d = rdtsc() - origin_tsc;

	return d / ticks_per_second * 1000000000ull +
	       (d % ticks_per_second) * 1000000000ull / ticks_per_second;
}

void udelay(u64 us)
{
	if (!ticks_per_second) {
		/* Uncalibrated: an I/O port access takes about a microsecond on a PC. */
		while (us--)
			inb(0x80);
		return;
	}
	u64 end = rdtsc() + us * ticks_per_second / 1000000;

	while ((s64)(rdtsc() - end) < 0)
		cpu_relax();
}
