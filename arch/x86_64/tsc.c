/* TSC calibration against the PIT or the ACPI PM timer, and delays built on the TSC. */
#include "arch/tsc.h"
#include "arch/x86.h"
#include "lib/error.h"

#define PIT_HZ 1193182ull
#define PM_TIMER_HZ 3579545ull
#define CALIBRATION_MS 50ull
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

int tsc_calibrate_pit(void)
{
	u16 count = (u16)(PIT_HZ * CALIBRATION_MS / 1000);
	u8 gate = inb(0x61);
	u64 start, end;

	/* Channel 2, gate on, speaker off; mode 0 counts down once and raises OUT2 (port 0x61
	 * bit 5) at terminal count. Toggling the gate restarts the count. */
	outb(0x61, (u8)((gate & ~0x03) | 0x00));
	outb(0x43, 0xb0);
	outb(0x42, (u8)count);
	outb(0x42, (u8)(count >> 8));
	outb(0x61, (u8)((gate & ~0x02) | 0x01));
	start = rdtsc();
	while (!(inb(0x61) & 0x20)) {
		if (rdtsc() - start > TIMER_WAIT_LIMIT) {
			outb(0x61, gate);
			return BH_ETIMEDOUT;
		}
	}
	end = rdtsc();
	outb(0x61, gate);
	if (end - start < 1000)
		return BH_ETIMEDOUT; /* OUT2 was already high: no working PIT behind the port */
	ticks_per_second = (end - start) * 1000 / CALIBRATION_MS;
	return 0;
}

int tsc_calibrate_pm_timer(u16 port, bool is_32bit)
{
	u32 mask = is_32bit ? 0xffffffffu : 0x00ffffffu;
	u32 target = (u32)(PM_TIMER_HZ * CALIBRATION_MS / 1000);
	u32 begin = inl(port) & mask, elapsed = 0;
	u64 start = rdtsc(), end;

	while (elapsed < target) {
		elapsed = ((inl(port) & mask) - begin) & mask;
		if (rdtsc() - start > TIMER_WAIT_LIMIT)
			return BH_ETIMEDOUT;
	}
	end = rdtsc();
	ticks_per_second = (end - start) * PM_TIMER_HZ / elapsed;
	return 0;
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
