/* Partition lifecycle decisions, pure (host unit-tested): which command a partition's state
 * allows, and how long a partition that keeps crashing waits before its policy restarts it.
 * hv/partition.c carries the decisions out (taking vCPUs back, scrubbing, reloading).
 *
 *   RUNNING --stop/restart/guest power-off/reset/failure--> STOPPING (every vCPU taken back)
 *   STOPPING --all vCPUs back--> STOPPED | FAILED (parked, or a restart scheduled) | STARTING
 *   STOPPED, FAILED --start--> STARTING;  FAILED --its scheduled restart comes--> STARTING
 *   STARTING (RAM scrubbed, images reloaded from the boot copies) --> RUNNING (vCPU 0 only)
 */
#ifndef BH_HV_LIFECYCLE_H
#define BH_HV_LIFECYCLE_H

#include "types.h"

enum partition_state {
	PART_CONFIGURED = 0,
	PART_RUNNING,
	PART_STOPPED,   /* the guest powered off or halted every vCPU, or a stop command */
	PART_FAILED,    /* failed and parked (or waiting for the restart its policy scheduled) */
	PART_REFUSED,   /* the configuration or the load was invalid: never started */
	PART_STOPPING,  /* its vCPUs are being taken back; then it stops, fails or restarts */
	PART_STARTING,  /* its RAM is scrubbed and its images reloaded; then vCPU 0 starts */
};

enum lifecycle_op {
	LIFECYCLE_NONE = 0,
	LIFECYCLE_STOP,    /* the operator's stop, or the guest powered off or halted */
	LIFECYCLE_RESTART, /* the operator's restart, or the guest reset its machine */
	LIFECYCLE_START,   /* the operator's start of a stopped or failed partition */
	LIFECYCLE_FAIL,    /* the guest failed: on_crash decides */
};

/* Whether `op` (STOP, RESTART or START: the commands) may be asked of a partition in `state`;
 * `restart_scheduled`: it is FAILED and its policy will restart it. 0, or BH_EBUSY (it is
 * already doing something) / BH_EINVAL (not in a state for it) / BH_ENOTSUP (refused at boot)
 * with a short reason in why ("not running", "already stopping", ...). */
int lifecycle_check(enum partition_state state, enum lifecycle_op op, bool restart_scheduled,
		    char *why, size_t why_len);

/* Crash back-off. A crash within LIFECYCLE_STABLE_NS of the partition's last start continues a
 * streak; the first crash of a streak restarts at once, the next ones wait 1 s, 2 s, 4 s, ...
 * up to LIFECYCLE_BACKOFF_MAX_NS. A crash after a stable run starts a new streak. */
#define LIFECYCLE_STABLE_NS (60ull * 1000000000ull)
#define LIFECYCLE_BACKOFF_FIRST_NS (1ull * 1000000000ull)
#define LIFECYCLE_BACKOFF_MAX_NS (60ull * 1000000000ull)

struct lifecycle_backoff {
	u32 streak; /* crashes in a row, each soon after the start before it */
};

/* A crash after the partition ran `ran_ns` since its last start: the delay before its restart
 * (0: at once). Updates the streak. */
u64 lifecycle_crash_delay(struct lifecycle_backoff *b, u64 ran_ns);

/* Whether a crash after `ran_ns` continues the streak (it is not the first of its streak), as
 * lifecycle_crash_delay will count it: a crash loop is logged more briefly. */
bool lifecycle_crash_continues(const struct lifecycle_backoff *b, u64 ran_ns);

/* The watchdog: true when a partition with a watchdog of `timeout_ns` (0: none) has printed
 * nothing on its console since `last_output_ns` until `now_ns`. */
bool lifecycle_watchdog_expired(u64 timeout_ns, u64 last_output_ns, u64 now_ns);

#endif
