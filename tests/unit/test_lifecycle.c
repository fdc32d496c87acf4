/* Unit tests of hv/lifecycle.c: which commands each partition state allows (and the reasons
 * the console shows), the crash back-off, and the watchdog's expiry rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "types.h"
#include "hv/lifecycle.h"
#include "lib/error.h"

#define SEC 1000000000ull

static int check(enum partition_state s, enum lifecycle_op op, bool scheduled, char *why)
{
	return lifecycle_check(s, op, scheduled, why, 64);
}

static void test_running_partition_takes_stop_and_restart(void **state)
{
	char why[64];

	(void)state;
	assert_int_equal(check(PART_RUNNING, LIFECYCLE_STOP, false, why), 0);
	assert_string_equal(why, "");
	assert_int_equal(check(PART_RUNNING, LIFECYCLE_RESTART, false, why), 0);
	assert_int_equal(check(PART_RUNNING, LIFECYCLE_START, false, why), BH_EBUSY);
	assert_string_equal(why, "already running");
}

static void test_stopped_and_failed_partitions_take_start(void **state)
{
	char why[64];

	(void)state;
	assert_int_equal(check(PART_STOPPED, LIFECYCLE_START, false, why), 0);
	assert_int_equal(check(PART_FAILED, LIFECYCLE_START, false, why), 0);
	assert_int_equal(check(PART_FAILED, LIFECYCLE_START, true, why), 0);
	assert_int_equal(check(PART_STOPPED, LIFECYCLE_STOP, false, why), BH_EINVAL);
	assert_string_equal(why, "not running");
	assert_int_equal(check(PART_FAILED, LIFECYCLE_STOP, false, why), BH_EINVAL);
	assert_int_equal(check(PART_STOPPED, LIFECYCLE_RESTART, false, why), BH_EINVAL);
	assert_string_equal(why, "not running (start it instead)");
}

static void test_failed_partition_waiting_for_its_restart(void **state)
{
	char why[64];

	(void)state;
	/* stop cancels the scheduled restart; restart brings it forward */
	assert_int_equal(check(PART_FAILED, LIFECYCLE_STOP, true, why), 0);
	assert_int_equal(check(PART_FAILED, LIFECYCLE_RESTART, true, why), 0);
}

static void test_partitions_in_transition_are_busy(void **state)
{
	char why[64];

	(void)state;
	for (int op = LIFECYCLE_STOP; op <= LIFECYCLE_START; op++) {
		assert_int_equal(check(PART_STOPPING, op, false, why), BH_EBUSY);
		assert_string_equal(why, "already stopping");
		assert_int_equal(check(PART_STARTING, op, false, why), BH_EBUSY);
		assert_string_equal(why, "already starting");
		assert_int_equal(check(PART_CONFIGURED, op, false, why), BH_EBUSY);
		assert_string_equal(why, "not started yet");
	}
}

static void test_refused_partition_never_runs(void **state)
{
	char why[64];

	(void)state;
	for (int op = LIFECYCLE_STOP; op <= LIFECYCLE_START; op++) {
		assert_int_equal(check(PART_REFUSED, op, false, why), BH_ENOTSUP);
		assert_string_equal(why, "refused at boot: it never runs");
	}
}

static void test_fail_and_none_are_not_commands(void **state)
{
	char why[64];

	(void)state;
	assert_int_equal(check(PART_RUNNING, LIFECYCLE_FAIL, false, why), BH_EINVAL);
	assert_int_equal(check(PART_RUNNING, LIFECYCLE_NONE, false, why), BH_EINVAL);
	/* a short buffer still gets a terminated reason */
	assert_int_equal(lifecycle_check(PART_STOPPING, LIFECYCLE_STOP, false, why, 4), BH_EBUSY);
	assert_string_equal(why, "alr");
	assert_int_equal(lifecycle_check(PART_RUNNING, LIFECYCLE_STOP, false, NULL, 0), 0);
}

static void test_backoff_doubles_while_it_keeps_crashing(void **state)
{
	struct lifecycle_backoff b = { 0 };
	static const u64 expect[] = { 0, 1, 2, 4, 8, 16, 32, 60, 60, 60 };

	(void)state;
	for (unsigned i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		assert_int_equal(lifecycle_crash_delay(&b, 2 * SEC), expect[i] * SEC);
	assert_int_equal(b.streak, 10);
}

static void test_backoff_resets_after_a_stable_run(void **state)
{
	struct lifecycle_backoff b = { 0 };

	(void)state;
	assert_int_equal(lifecycle_crash_delay(&b, 0), 0);
	assert_int_equal(lifecycle_crash_delay(&b, LIFECYCLE_STABLE_NS - 1), 1 * SEC);
	assert_int_equal(lifecycle_crash_delay(&b, 5 * SEC), 2 * SEC);
	/* a minute of running: the next crash restarts at once, and the streak starts over */
	assert_int_equal(lifecycle_crash_delay(&b, LIFECYCLE_STABLE_NS), 0);
	assert_int_equal(b.streak, 1);
	assert_int_equal(lifecycle_crash_delay(&b, SEC), 1 * SEC);
}

static void test_crash_continues_its_streak(void **state)
{
	struct lifecycle_backoff b = { 0 };

	(void)state;
	/* the first crash ever, and the first after a stable run, start a streak */
	assert_false(lifecycle_crash_continues(&b, SEC));
	lifecycle_crash_delay(&b, SEC);
	assert_true(lifecycle_crash_continues(&b, SEC));
	assert_false(lifecycle_crash_continues(&b, LIFECYCLE_STABLE_NS));
}

static void test_backoff_streak_does_not_wrap(void **state)
{
	struct lifecycle_backoff b = { ~0u - 1 };

	(void)state;
	assert_int_equal(lifecycle_crash_delay(&b, 0), LIFECYCLE_BACKOFF_MAX_NS);
	assert_int_equal(lifecycle_crash_delay(&b, 0), LIFECYCLE_BACKOFF_MAX_NS);
	assert_int_equal(b.streak, ~0u);
}

static void test_watchdog(void **state)
{
	(void)state;
	assert_false(lifecycle_watchdog_expired(0, 0, 1000 * SEC));       /* none configured */
	assert_false(lifecycle_watchdog_expired(10 * SEC, 5 * SEC, 14 * SEC));
	assert_true(lifecycle_watchdog_expired(10 * SEC, 5 * SEC, 15 * SEC));
	assert_true(lifecycle_watchdog_expired(10 * SEC, 5 * SEC, 100 * SEC));
	/* output stamped after the caller's clock reading: not expired */
	assert_false(lifecycle_watchdog_expired(10 * SEC, 20 * SEC, 15 * SEC));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_running_partition_takes_stop_and_restart),
		cmocka_unit_test(test_stopped_and_failed_partitions_take_start),
		cmocka_unit_test(test_failed_partition_waiting_for_its_restart),
		cmocka_unit_test(test_partitions_in_transition_are_busy),
		cmocka_unit_test(test_refused_partition_never_runs),
		cmocka_unit_test(test_fail_and_none_are_not_commands),
		cmocka_unit_test(test_backoff_doubles_while_it_keeps_crashing),
		cmocka_unit_test(test_backoff_resets_after_a_stable_run),
		cmocka_unit_test(test_crash_continues_its_streak),
		cmocka_unit_test(test_backoff_streak_does_not_wrap),
		cmocka_unit_test(test_watchdog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
