/* Unit tests of hv/plan.c, the partition plan: every message, with its line, and which
 * partitions stay valid. The configurations go through the real parser (hv/config.c). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "types.h"
#include "lib/error.h"
#include "hv/config.h"
#include "hv/plan.h"

static struct config cfg; /* large: not on the stack */

/* A fake boot volume: path -> size or error. */
struct fake_file {
	const char *path;
	s64 size;
};

static const struct fake_file default_files[] = {
	{ "guests/web.elf", 4096 },
	{ "guests/db.elf", 8192 },
	{ "guests/initrd.img", 1000 },
	{ "guests/empty.elf", 0 },
	{ "guests/empty.img", 0 },
	{ "guests/mod.bin", 16 },
	{ "guests/locked.elf", BH_EINVAL },
	{ NULL, 0 },
};

static unsigned int lookups;

static s64 fake_file_size(void *ctx, const char *path)
{
	const struct fake_file *f = ctx;

	lookups++;
	for (; f->path; f++)
		if (!strcmp(f->path, path))
			return f->size;
	return BH_ENOENT;
}

static struct plan_machine machine(u32 cpus, u64 free_memory)
{
	return (struct plan_machine){
		.cpu_count = cpus,
		.free_memory = free_memory,
		.file_size = fake_file_size,
		.ctx = (void *)default_files,
	};
}

static void dump_errors(void)
{
	for (u32 i = 0; i < MIN(cfg.error_count, (u32)CFG_MAX_ERRORS); i++)
		print_message("  line %u: %s\n", cfg.errors[i].line, cfg.errors[i].msg);
}

static u32 plan(const char *text, const struct plan_machine *m)
{
	config_parse(&cfg, text, strlen(text));
	return plan_check(&cfg, m);
}

static void expect_errors(const u32 *lines, const char *const *msgs, u32 count)
{
	bool same = cfg.error_count == count;

	for (u32 i = 0; same && i < count; i++)
		same = cfg.errors[i].line == lines[i] && !strcmp(cfg.errors[i].msg, msgs[i]);
	if (!same)
		dump_errors();
	assert_int_equal(cfg.error_count, count);
	for (u32 i = 0; i < count; i++) {
		assert_string_equal(cfg.errors[i].msg, msgs[i]);
		assert_int_equal(cfg.errors[i].line, lines[i]);
	}
}

static void expect_one(u32 line, const char *msg)
{
	expect_errors(&line, &msg, 1);
}

static bool valid(const char *name)
{
	for (u32 i = 0; i < cfg.partition_count; i++)
		if (!strcmp(cfg.partitions[i].name, name))
			return cfg.partitions[i].valid;
	fail_msg("no partition '%s'", name);
	return false;
}

#define WEB "[partition web]\ncpus = 1-2\nmemory = 256M\nkernel = guests/web.elf\n"

/* ---- good plans ------------------------------------------------------------------------- */

static void test_good_plan(void **state)
{
	struct plan_machine m = machine(4, 1 * GiB);

	(void)state;
	lookups = 0;
	assert_int_equal(plan(WEB
			      "[partition db]\n"
			      "cpus = 3\n"
			      "memory = 768M\n"
			      "kernel = guests/db.elf root=/dev/ram0\n"
			      "initrd = guests/initrd.img\n"
			      "module = guests/mod.bin\n"
			      "module = guests/empty.img\n",
			      &m),
			 2);
	expect_errors(NULL, NULL, 0);
	assert_true(valid("web"));
	assert_true(valid("db"));
	assert_int_equal(lookups, 5);
}

static void test_no_partitions(void **state)
{
	struct plan_machine m = machine(4, GiB);

	(void)state;
	assert_int_equal(plan("log_level = debug\n", &m), 0);
	expect_errors(NULL, NULL, 0);
}

static void test_unknown_machine_checks_only_the_file(void **state)
{
	struct plan_machine m = { 0 };

	(void)state;
	/* no CPU count, no memory size, no files: CPUs 5-9 and 64G are fine */
	assert_int_equal(plan("[partition big]\ncpus = 5-9\nmemory = 64G\nkernel = nowhere.elf\n",
			      &m),
			 1);
	expect_errors(NULL, NULL, 0);
}

static void test_service_cpu_elsewhere(void **state)
{
	struct plan_machine m = machine(4, GiB);

	(void)state;
	assert_int_equal(plan("service_cpu = 3\n"
			      "[partition web]\ncpus = 0-2\nmemory = 2M\nkernel = guests/web.elf\n",
			      &m),
			 1);
	expect_errors(NULL, NULL, 0);
}

/* ---- missing keys ----------------------------------------------------------------------- */

static void test_no_kernel(void **state)
{
	struct plan_machine m = machine(4, GiB);

	(void)state;
	assert_int_equal(plan(WEB "\n[partition db]\ncpus = 3\nmemory = 2M\n", &m), 1);
	expect_one(6, "partition 'db' has no kernel");
	assert_false(valid("db"));
	assert_true(valid("web"));
}

static void test_no_cpus(void **state)
{
	struct plan_machine m = machine(4, GiB);

	(void)state;
	assert_int_equal(plan("[partition db]\nmemory = 2M\nkernel = guests/db.elf\n", &m), 0);
	expect_one(1, "no 'cpus' for partition 'db'");
}

static void test_no_memory(void **state)
{
	struct plan_machine m = machine(4, GiB);

	(void)state;
	assert_int_equal(plan("\n[partition db]\ncpus = 1\nkernel = guests/db.elf\n", &m), 0);
	expect_one(2, "no 'memory' for partition 'db'");
}

static void test_empty_section(void **state)
{
	struct plan_machine m = machine(4, GiB);
	static const u32 lines[] = { 3, 3, 3 };
	static const char *const msgs[] = {
		"no 'cpus' for partition 'db'",
		"no 'memory' for partition 'db'",
		"partition 'db' has no kernel",
	};

	(void)state;
	assert_int_equal(plan("# nothing in it\n\n[partition db]\n", &m), 0);
	expect_errors(lines, msgs, 3);
}

/* ---- CPUs ------------------------------------------------------------------------------- */

static void test_service_cpu(void **state)
{
	struct plan_machine m = machine(4, GiB);

	(void)state;
	assert_int_equal(plan("[partition web]\nmemory = 2M\ncpus = 0-1\nkernel = guests/web.elf\n",
			      &m),
			 0);
	expect_one(3, "CPU 0 is the service CPU and cannot be given to a partition");
}

static void test_service_cpu_moved(void **state)
{
	struct plan_machine m = machine(4, GiB);

	(void)state;
	assert_int_equal(plan("service_cpu = 2\n" WEB, &m), 0);
	expect_one(3, "CPU 2 is the service CPU and cannot be given to a partition");
}

static void test_cpu_does_not_exist(void **state)
{
	struct plan_machine m = machine(4, GiB);

	(void)state;
	assert_int_equal(plan("[partition web]\ncpus = 1,5\nmemory = 2M\nkernel = guests/web.elf\n",
			      &m),
			 0);
	expect_one(2, "CPU 5 does not exist (this machine has 4 CPUs: 0-3)");
}

static void test_cpus_do_not_exist(void **state)
{
	struct plan_machine m = machine(4, GiB);

	(void)state;
	assert_int_equal(plan("[partition web]\ncpus = 2-7,9\nmemory = 2M\nkernel = guests/web.elf\n",
			      &m),
			 0);
	expect_one(2, "CPUs 4-7,9 do not exist (this machine has 4 CPUs: 0-3)");
}

static void test_one_cpu_machine(void **state)
{
	struct plan_machine m = machine(1, GiB);
	static const u32 lines[] = { 2, 2 };
	static const char *const msgs[] = {
		"CPU 0 is the service CPU and cannot be given to a partition",
		"CPU 1 does not exist (this machine has 1 CPU: 0)",
	};

	(void)state;
	assert_int_equal(plan("[partition web]\ncpus = 0-1\nmemory = 2M\nkernel = guests/web.elf\n",
			      &m),
			 0);
	expect_errors(lines, msgs, 2);
}

static void test_large_machine(void **state)
{
	struct plan_machine m = machine(64, GiB);

	(void)state;
	assert_int_equal(plan("[partition web]\ncpus = 1-63\nmemory = 2M\nkernel = guests/web.elf\n",
			      &m),
			 1);
	expect_errors(NULL, NULL, 0);
}

static void test_cpu_conflict(void **state)
{
	struct plan_machine m = machine(8, GiB);

	(void)state;
	assert_int_equal(plan("# two partitions want CPU 2\n"
			      "\n" WEB
			      "[partition db]\ncpus = 2\nmemory = 2M\nkernel = guests/db.elf\n",
			      &m),
			 1);
	expect_one(8, "CPU 2 is already given to partition 'web' (line 4)");
	assert_true(valid("web"));
	assert_false(valid("db"));
}

static void test_cpu_conflicts_with_two_partitions(void **state)
{
	struct plan_machine m = machine(8, GiB);
	static const u32 lines[] = { 10, 10 };
	static const char *const msgs[] = {
		"CPUs 1-2 are already given to partition 'web' (line 2)",
		"CPU 4 is already given to partition 'db' (line 6)",
	};

	(void)state;
	assert_int_equal(plan(WEB
			      "[partition db]\ncpus = 3-4\nmemory = 2M\nkernel = guests/db.elf\n"
			      "[partition x]\ncpus = 1-2,4-5\nmemory = 2M\nkernel = guests/db.elf\n",
			      &m),
			 2);
	expect_errors(lines, msgs, 2);
	assert_false(valid("x"));
}

static void test_refused_partition_still_holds_its_cpus(void **state)
{
	struct plan_machine m = machine(8, GiB);
	static const u32 lines[] = { 1, 5 };
	static const char *const msgs[] = {
		"partition 'a' has no kernel",
		"CPU 3 is already given to partition 'a' (line 2)",
	};

	(void)state;
	/* a's CPUs are in the file even though a is refused: b is told about the clash */
	assert_int_equal(plan("[partition a]\ncpus = 3\nmemory = 2M\n"
			      "[partition b]\ncpus = 3\nmemory = 2M\nkernel = guests/db.elf\n",
			      &m),
			 0);
	expect_errors(lines, msgs, 2);
}

static void test_all_cpu_problems_at_once(void **state)
{
	struct plan_machine m = machine(4, GiB);
	static const u32 lines[] = { 6, 6, 6 };
	static const char *const msgs[] = {
		"CPU 0 is the service CPU and cannot be given to a partition",
		"CPUs 4-5 do not exist (this machine has 4 CPUs: 0-3)",
		"CPU 2 is already given to partition 'web' (line 2)",
	};

	(void)state;
	assert_int_equal(plan(WEB "[partition db]\ncpus = 0,2-5\nmemory = 2M\n"
				  "kernel = guests/db.elf\n",
			      &m),
			 1);
	expect_errors(lines, msgs, 3);
}

static void test_service_cpu_does_not_exist(void **state)
{
	struct plan_machine m = machine(2, GiB);

	(void)state;
	assert_int_equal(plan("service_cpu = 5\n[partition web]\ncpus = 1\nmemory = 2M\n"
			      "kernel = guests/web.elf\n",
			      &m),
			 1);
	expect_one(0, "service CPU 5 does not exist (this machine has 2 CPUs: 0-1)");
}

/* ---- files ------------------------------------------------------------------------------ */

static void test_kernel_not_found(void **state)
{
	struct plan_machine m = machine(4, GiB);

	(void)state;
	assert_int_equal(plan("[partition db]\ncpus = 1\nmemory = 2M\n\nkernel = guests/x.elf a b\n",
			      &m),
			 0);
	expect_one(5, "kernel 'guests/x.elf' not found");
}

static void test_kernel_empty(void **state)
{
	struct plan_machine m = machine(4, GiB);

	(void)state;
	assert_int_equal(plan("[partition db]\nkernel = guests/empty.elf\ncpus = 1\nmemory = 2M\n",
			      &m),
			 0);
	expect_one(2, "kernel 'guests/empty.elf' is empty");
}

static void test_kernel_unreadable(void **state)
{
	struct plan_machine m = machine(4, GiB);

	(void)state;
	assert_int_equal(plan("[partition db]\nkernel = guests/locked.elf\ncpus = 1\nmemory = 2M\n",
			      &m),
			 0);
	expect_one(2, "kernel 'guests/locked.elf' cannot be read (invalid input)");
}

static void test_initrd_and_modules_not_found(void **state)
{
	struct plan_machine m = machine(4, GiB);
	static const u32 lines[] = { 5, 7 };
	static const char *const msgs[] = {
		"initrd 'guests/none.img' not found",
		"module 'guests/none.bin' not found",
	};

	(void)state;
	assert_int_equal(plan(WEB "initrd = guests/none.img\nmodule = guests/mod.bin\n"
				  "module = guests/none.bin x=1\n",
			      &m),
			 0);
	expect_errors(lines, msgs, 2);
}

static void test_files_not_checked_without_lookup(void **state)
{
	struct plan_machine m = machine(4, GiB);

	(void)state;
	m.file_size = NULL;
	assert_int_equal(plan("[partition db]\ncpus = 1\nmemory = 2M\nkernel = guests/x.elf\n", &m),
			 1);
	expect_errors(NULL, NULL, 0);
}

/* ---- memory ----------------------------------------------------------------------------- */

static void test_memory_over_committed(void **state)
{
	struct plan_machine m = machine(8, 812 * MiB);

	(void)state;
	assert_int_equal(plan("[partition web]\ncpus = 1\nmemory = 512M\nkernel = guests/web.elf\n"
			      "[partition db]\ncpus = 2\nkernel = guests/db.elf\nmemory = 512M\n",
			      &m),
			 1);
	expect_one(8, "memory over-committed: partition 'db' needs 512 MiB, only 300 MiB left of "
		      "812 MiB free");
	assert_true(valid("web"));
	assert_false(valid("db"));
}

static void test_memory_first_fit_in_file_order(void **state)
{
	struct plan_machine m = machine(8, GiB);
	static const u32 lines[] = { 7, 15 };
	static const char *const msgs[] = {
		"memory over-committed: partition 'b' needs 1024 MiB, only 512 MiB left of "
		"1024 MiB free",
		"memory over-committed: partition 'd' needs 2 MiB, only 0 MiB left of "
		"1024 MiB free",
	};

	(void)state;
	assert_int_equal(plan("[partition a]\ncpus = 1\nkernel = guests/db.elf\nmemory = 512M\n"
			      "[partition b]\ncpus = 2\nmemory = 1G\nkernel = guests/db.elf\n"
			      "[partition c]\ncpus = 3\nmemory = 512M\nkernel = guests/db.elf\n"
			      "[partition d]\ncpus = 4\nmemory = 2M\nkernel = guests/db.elf\n",
			      &m),
			 2);
	expect_errors(lines, msgs, 2);
	assert_true(valid("a"));
	assert_false(valid("b"));
	assert_true(valid("c")); /* exactly what was left */
	assert_false(valid("d"));
}

static void test_memory_nothing_left(void **state)
{
	struct plan_machine m = machine(8, 1 * GiB + 1 * MiB);

	(void)state;
	assert_int_equal(plan("[partition a]\ncpus = 1\nkernel = guests/db.elf\nmemory = 1G\n"
			      "[partition b]\ncpus = 2\nmemory = 2M\nkernel = guests/db.elf\n",
			      &m),
			 1);
	expect_one(7, "memory over-committed: partition 'b' needs 2 MiB, only 1 MiB left of "
		      "1025 MiB free");
}

static void test_refused_partitions_take_no_memory(void **state)
{
	struct plan_machine m = machine(8, 512 * MiB);

	(void)state;
	assert_int_equal(plan("[partition a]\ncpus = 1\nkernel = guests/x.elf\nmemory = 512M\n"
			      "[partition b]\ncpus = 2\nmemory = 512M\nkernel = guests/db.elf\n",
			      &m),
			 1);
	expect_one(3, "kernel 'guests/x.elf' not found");
	assert_true(valid("b"));
}

/* ---- partitions that did not parse ------------------------------------------------------ */

static void test_parse_errors_are_kept_and_not_planned_again(void **state)
{
	struct plan_machine m = machine(4, GiB);
	static const u32 lines[] = { 4, 5 };
	static const char *const msgs[] = {
		"bad on_crash 'explode' (restart or stop)",
		"partition 'db' has no kernel",
	};

	(void)state;
	/* web has a parse error and would clash on CPU 0 and miss its kernel: only the parse
	 * error is reported, and its CPUs stay free for db */
	assert_int_equal(plan("[partition web]\n"
			      "cpus = 0-2\n"
			      "memory = 2M\n"
			      "on_crash = explode\n"
			      "[partition db]\n"
			      "cpus = 1-2\n"
			      "memory = 2M\n",
			      &m),
			 0);
	/* db: no kernel, reported at its header */
	expect_errors(lines, msgs, 2);
	assert_false(valid("web"));
	assert_false(valid("db"));
}

static void test_returns_valid_count(void **state)
{
	struct plan_machine m = machine(16, 4 * GiB);
	char text[4096];
	size_t n = 0;

	(void)state;
	for (int p = 1; p <= 10; p++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "[partition p%d]\ncpus = %d\nmemory = 256M\nkernel = %s\n", p, p,
				      p % 3 ? "guests/web.elf" : "guests/gone.elf");
	assert_int_equal(plan(text, &m), 7);
	assert_int_equal(cfg.error_count, 3);
}

/* ---- properties under random input ------------------------------------------------------- */

/* Whatever the file says, the partitions left valid form a plan that can run: required keys,
 * disjoint CPU sets that exist and spare the service CPU, files present, memory that fits. */
static void check_plan_invariants(const struct plan_machine *m, u32 returned)
{
	u64 used_cpus = 0, used_memory = 0;
	u32 count = 0;

	for (u32 i = 0; i < cfg.partition_count; i++) {
		const struct cfg_partition *p = &cfg.partitions[i];

		if (!p->valid)
			continue;
		count++;
		assert_true(p->cpus != 0);
		assert_true(p->memory != 0);
		assert_true(p->kernel.path[0] != '\0');
		assert_true(fake_file_size(m->ctx, p->kernel.path) > 0);
		assert_int_equal(p->cpus & used_cpus, 0);
		assert_int_equal(p->cpus & (1ULL << cfg.service_cpu), 0);
		assert_int_equal(p->cpus >> m->cpu_count, 0);
		used_cpus |= p->cpus;
		used_memory += p->memory;
	}
	assert_int_equal(count, returned);
	assert_true(used_memory <= m->free_memory);
	if (count < cfg.partition_count)
		assert_true(cfg.error_count > 0);
}

static void test_random_files_keep_invariants(void **state)
{
	static const char *const lines[] = {
		"[partition a]", "[partition b]", "[partition c]", "[partition d]", "[partition a]",
		"cpus = 1", "cpus = 2-3", "cpus = 0", "cpus = 3-6", "cpus = 1,5", "cpus = 7",
		"memory = 256M", "memory = 512M", "memory = 2M", "memory = 1G", "memory = 3M",
		"kernel = guests/web.elf", "kernel = guests/db.elf", "kernel = guests/empty.elf",
		"kernel = guests/none.elf", "kernel = guests/locked.elf", "initrd = guests/none.img",
		"initrd = guests/initrd.img", "module = guests/mod.bin", "on_crash = restart",
		"service_cpu = 1", "bogus = 1", "cmdline = quiet", "",
	};
	u64 seed = 42;
	char text[2048];

	(void)state;
	for (int round = 0; round < 3000; round++) {
		size_t n = 0;
		int count;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		count = (int)((seed >> 33) % 24);
		for (int l = 0; l < count; l++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\n",
					      lines[(seed >> 35) % ARRAY_SIZE(lines)]);
		}
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		struct plan_machine m = machine((u32)(1 + (seed >> 40) % 8),
						(1 + (seed >> 20) % 2048) * MiB);
		u32 returned = plan(text, &m);

		check_plan_invariants(&m, returned);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_plan),
		cmocka_unit_test(test_no_partitions),
		cmocka_unit_test(test_unknown_machine_checks_only_the_file),
		cmocka_unit_test(test_service_cpu_elsewhere),
		cmocka_unit_test(test_no_kernel),
		cmocka_unit_test(test_no_cpus),
		cmocka_unit_test(test_no_memory),
		cmocka_unit_test(test_empty_section),
		cmocka_unit_test(test_service_cpu),
		cmocka_unit_test(test_service_cpu_moved),
		cmocka_unit_test(test_cpu_does_not_exist),
		cmocka_unit_test(test_cpus_do_not_exist),
		cmocka_unit_test(test_one_cpu_machine),
		cmocka_unit_test(test_large_machine),
		cmocka_unit_test(test_cpu_conflict),
		cmocka_unit_test(test_cpu_conflicts_with_two_partitions),
		cmocka_unit_test(test_refused_partition_still_holds_its_cpus),
		cmocka_unit_test(test_all_cpu_problems_at_once),
		cmocka_unit_test(test_service_cpu_does_not_exist),
		cmocka_unit_test(test_kernel_not_found),
		cmocka_unit_test(test_kernel_empty),
		cmocka_unit_test(test_kernel_unreadable),
		cmocka_unit_test(test_initrd_and_modules_not_found),
		cmocka_unit_test(test_files_not_checked_without_lookup),
		cmocka_unit_test(test_memory_over_committed),
		cmocka_unit_test(test_memory_first_fit_in_file_order),
		cmocka_unit_test(test_memory_nothing_left),
		cmocka_unit_test(test_refused_partitions_take_no_memory),
		cmocka_unit_test(test_parse_errors_are_kept_and_not_planned_again),
		cmocka_unit_test(test_returns_valid_count),
		cmocka_unit_test(test_random_files_keep_invariants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
