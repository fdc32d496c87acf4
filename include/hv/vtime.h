/* Time for the virtual platform devices (vPIT, vPM, vRTC). None of them reads a clock: every
 * call takes the current time as an input, `now_ns`, in nanoseconds on a clock the caller keeps
 * (the hypervisor derives it from the TSC). A device counter of frequency `hz` then reads
 * floor(now_ns * hz / 1e9): exact integer arithmetic, no drift, no rounding that accumulates.
 * Each device remembers the latest time it has seen and treats an earlier `now_ns` (two vCPUs
 * whose clocks differ by a few nanoseconds) as that latest time: device time never runs back. */
#ifndef BH_HV_VTIME_H
#define BH_HV_VTIME_H

#include "types.h"

#define NS_PER_SEC 1000000000ull
/* "No such event": a deadline that never comes. */
#define VTIME_NEVER UINT64_MAX

/* Ticks of a clock of `hz` (1..1e9) counted from time 0 to `ns`: floor(ns * hz / 1e9), with no
 * intermediate overflow for any `ns`. */
static inline u64 vtime_ns_to_ticks(u64 ns, u64 hz)
{
	return (ns / NS_PER_SEC) * hz + (ns % NS_PER_SEC) * hz / NS_PER_SEC;
}

/* The first nanosecond at which vtime_ns_to_ticks(ns, hz) reaches `ticks`:
 * ceil(ticks * 1e9 / hz). VTIME_NEVER if that is beyond what a u64 of nanoseconds holds. */
static inline u64 vtime_ticks_to_ns(u64 ticks, u64 hz)
{
	u64 whole = ticks / hz, part = ticks % hz;
	u64 part_ns = (part * NS_PER_SEC + hz - 1) / hz;

	if (whole > (VTIME_NEVER - NS_PER_SEC) / NS_PER_SEC)
		return VTIME_NEVER;
	return whole * NS_PER_SEC + part_ns;
}

#endif
