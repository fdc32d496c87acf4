/* Partition lifecycle decisions (see hv/lifecycle.h). Pure: no hardware, no clock, no log. */
#include "hv/lifecycle.h"
#include "lib/error.h"
#include "lib/format.h"

/* The answer to a command the state does not allow. */
static int refuse(int err, char *why, size_t why_len, const char *reason)
{
	fmt_snprintf(why, why_len, "%s", reason);
	return err;
}

/* What a partition that is not where a command needs it is doing instead. */
static int busy_or_absent(enum partition_state state, char *why, size_t why_len)
{
	switch (state) {
	case PART_REFUSED:
		return refuse(BH_ENOTSUP, why, why_len, "refused at boot: it never runs");
	case PART_CONFIGURED:
		return refuse(BH_EBUSY, why, why_len, "not started yet");
	case PART_STOPPING:
		return refuse(BH_EBUSY, why, why_len, "already stopping");
	case PART_STARTING:
		return refuse(BH_EBUSY, why, why_len, "already starting");
	default:
		return refuse(BH_EINVAL, why, why_len, "in an unknown state");
	}
}

int lifecycle_check(enum partition_state state, enum lifecycle_op op, bool restart_scheduled,
		    char *why, size_t why_len)
{
	bool down = state == PART_STOPPED || state == PART_FAILED;

	if (why_len)
		why[0] = '\0';
	switch (op) {
	case LIFECYCLE_STOP:
		/* Stopping a failed partition cancels the restart its policy scheduled. */
		if (state == PART_RUNNING || (state == PART_FAILED && restart_scheduled))
			return 0;
		if (down)
			return refuse(BH_EINVAL, why, why_len, "not running");
		return busy_or_absent(state, why, why_len);
	case LIFECYCLE_RESTART:
		/* A failed partition waiting for its restart may be restarted now. */
		if (state == PART_RUNNING || (state == PART_FAILED && restart_scheduled))
			return 0;
		if (down)
			return refuse(BH_EINVAL, why, why_len, "not running (start it instead)");
		return busy_or_absent(state, why, why_len);
	case LIFECYCLE_START:
		if (down)
			return 0;
		if (state == PART_RUNNING)
			return refuse(BH_EBUSY, why, why_len, "already running");
		return busy_or_absent(state, why, why_len);
	default:
		return refuse(BH_EINVAL, why, why_len, "not a command");
	}
}

u64 lifecycle_crash_delay(struct lifecycle_backoff *b, u64 ran_ns)
{
	u64 delay = LIFECYCLE_BACKOFF_FIRST_NS;

	if (ran_ns >= LIFECYCLE_STABLE_NS)
		b->streak = 0; /* it ran stably: this crash starts a new streak */
	if (b->streak < ~0u)
		b->streak++;
	if (b->streak == 1)
		return 0;
	/* 1 s << (streak - 2), without shifting past the cap. */
	for (u32 i = 2; i < b->streak && delay < LIFECYCLE_BACKOFF_MAX_NS; i++)
		delay *= 2;
	return delay < LIFECYCLE_BACKOFF_MAX_NS ? delay : LIFECYCLE_BACKOFF_MAX_NS;
}

bool lifecycle_crash_continues(const struct lifecycle_backoff *b, u64 ran_ns)
{
	return b->streak > 0 && ran_ns < LIFECYCLE_STABLE_NS;
}

bool lifecycle_watchdog_expired(u64 timeout_ns, u64 last_output_ns, u64 now_ns)
{
	return timeout_ns && now_ns > last_output_ns && now_ns - last_output_ns >= timeout_ns;
}
