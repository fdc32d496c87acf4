/* Unit tests of hv/config.c, the configuration parser: good files, and every message it can
 * report, with its exact line number and text. Run from the repository root (one test reads
 * guests/bulkhead.cfg). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types.h"
#include "hv/config.h"

static struct config cfg; /* large: not on the stack */

static u32 parse(const char *text)
{
	return config_parse(&cfg, text, strlen(text));
}

static void dump_errors(void)
{
	for (u32 i = 0; i < MIN(cfg.error_count, (u32)CFG_MAX_ERRORS); i++)
		print_message("  line %u: %s\n", cfg.errors[i].line, cfg.errors[i].msg);
}

static void expect_clean(const char *text)
{
	if (parse(text))
		dump_errors();
	assert_int_equal(cfg.error_count, 0);
}

static void expect_error(const char *text, u32 line, const char *msg)
{
	parse(text);
	if (cfg.error_count != 1 || cfg.errors[0].line != line || strcmp(cfg.errors[0].msg, msg))
		dump_errors();
	assert_int_equal(cfg.error_count, 1);
	assert_string_equal(cfg.errors[0].msg, msg);
	assert_int_equal(cfg.errors[0].line, line);
}

static const struct cfg_partition *find(const char *name)
{
	for (u32 i = 0; i < cfg.partition_count; i++)
		if (!strcmp(cfg.partitions[i].name, name))
			return &cfg.partitions[i];
	fail_msg("no partition '%s'", name);
	return NULL;
}

/* A string of n copies of c (static buffer, one at a time). */
static const char *repeat(char c, size_t n)
{
	static char buf[2048];

	assert_true(n < sizeof(buf));
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

/* ---- good files ------------------------------------------------------------------------- */

static void test_defaults(void **state)
{
	(void)state;
	expect_clean("");
	assert_int_equal(cfg.console_port, 0x3f8);
	assert_int_equal(cfg.baud, 115200);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_false(cfg.poweroff_when_ready);
	assert_int_equal(cfg.service_cpu, 0);
	assert_int_equal(cfg.debug_fault_cpu, -1);
	assert_int_equal(cfg.debug_phantom_cpu, -1);
	assert_int_equal(cfg.partition_count, 0);

	/* config_defaults() alone gives the same */
	memset(&cfg, 0x5a, sizeof(cfg));
	config_defaults(&cfg);
	assert_int_equal(cfg.console_port, 0x3f8);
	assert_int_equal(cfg.error_count, 0);
	assert_int_equal(cfg.debug_fault_cpu, -1);
}

static void test_console_hotkey(void **state)
{
	(void)state;
	parse("");
	assert_int_equal(cfg.console_hotkey, 0x1c);
	expect_clean("console_hotkey = ctrl-\\\n");
	assert_int_equal(cfg.console_hotkey, 0x1c);
	expect_clean("console_hotkey = ctrl-b\n");
	assert_int_equal(cfg.console_hotkey, 0x02);
	expect_clean("console_hotkey = Ctrl-_\n");
	assert_int_equal(cfg.console_hotkey, 0x1f);
	expect_error("console_hotkey = ctrl-a\n", 1,
		     "bad console_hotkey 'ctrl-a': ctrl-a is QEMU's escape key");
	expect_error("console_hotkey = ctrl-]\n", 1,
		     "bad console_hotkey 'ctrl-]': ctrl-] is telnet's escape key");
	expect_error("console_hotkey = ctrl-c\n", 1,
		     "bad console_hotkey 'ctrl-c': ctrl-c interrupts programs in the guests");
	expect_error("console_hotkey = ctrl-m\n", 1,
		     "bad console_hotkey 'ctrl-m': the console uses that key for editing "
		     "(Backspace, Tab, Enter, Ctrl-U, Escape)");
	expect_error("console_hotkey = x\n", 1,
		     "bad console_hotkey 'x': expected ctrl- and a letter or one of @ [ \\ ] ^ _, "
		     "e.g. ctrl-\\");
	expect_error("console_hotkey = ctrl-1\n", 1,
		     "bad console_hotkey 'ctrl-1': expected ctrl- and a letter or one of @ [ \\ ] "
		     "^ _, e.g. ctrl-\\");
}

static void test_global_settings(void **state)
{
	(void)state;
	expect_clean("console = com2\n"
		     "baud = 9600\n"
		     "log_level = debug\n"
		     "poweroff_when_ready = yes\n"
		     "service_cpu = 3\n"
		     "debug_fault_cpu = 2\n"
		     "debug_phantom_cpu = 0x1f\n");
	assert_int_equal(cfg.console_port, 0x2f8);
	assert_int_equal(cfg.baud, 9600);
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_true(cfg.poweroff_when_ready);
	assert_int_equal(cfg.service_cpu, 3);
	assert_int_equal(cfg.debug_fault_cpu, 2);
	assert_int_equal(cfg.debug_phantom_cpu, 0x1f);
}

static void test_value_forms(void **state)
{
	static const struct { const char *text; u16 port; } consoles[] = {
		{ "console = com1", 0x3f8 }, { "console = com3", 0x3e8 },
		{ "console = com4", 0x2e8 }, { "console = 0x2F8", 0x2f8 },
		{ "console = 1016", 0x3f8 },
	};
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	char line[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(consoles); i++) {
		expect_clean(consoles[i].text);
		assert_int_equal(cfg.console_port, consoles[i].port);
	}
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		snprintf(line, sizeof(line), "poweroff_when_ready = %s", yes[i]);
		expect_clean(line);
		assert_true(cfg.poweroff_when_ready);
		snprintf(line, sizeof(line), "poweroff_when_ready = %s", no[i]);
		expect_clean(line);
		assert_false(cfg.poweroff_when_ready);
	}
	for (int l = LOG_ERROR; l <= LOG_DEBUG; l++) {
		snprintf(line, sizeof(line), "log_level = %s", log_level_name((enum log_level)l));
		expect_clean(line);
		assert_int_equal(cfg.log_level, l);
	}
	static const u32 bauds[] = { 115200, 57600, 38400, 19200, 9600, 2400, 50 };
	for (size_t i = 0; i < ARRAY_SIZE(bauds); i++) {
		snprintf(line, sizeof(line), "baud = %u", bauds[i]);
		expect_clean(line);
		assert_int_equal(cfg.baud, bauds[i]);
	}
}

static void test_layout_comments_blanks_crlf(void **state)
{
	(void)state;
	expect_clean("\xef\xbb\xbf# a byte order mark, then a comment\r\n"
		     "\r\n"
		     "   # indented comment\n"
		     "\t baud\t=\t57600 \r\n"
		     "log_level=warn\n"
		     "\n"
		     "[partition  web ]\r\n"
		     "  cpus=1\r\n"
		     "memory   =   64M");
	assert_int_equal(cfg.baud, 57600);
	assert_int_equal(cfg.log_level, LOG_WARN);
	assert_int_equal(cfg.partition_count, 1);
	assert_string_equal(cfg.partitions[0].name, "web");
	assert_int_equal(cfg.partitions[0].line, 7);
	assert_int_equal(cfg.partitions[0].cpus, 1ULL << 1);
	assert_int_equal(cfg.partitions[0].memory, 64 * MiB);
	assert_int_equal(cfg.partitions[0].memory_line, 9);
}

static void test_partitions(void **state)
{
	const struct cfg_partition *web, *db;

	(void)state;
	expect_clean("# two partitions\n"
		     "[partition web]\n"
		     "cpus = 1,3\n"
		     "memory = 512M\n"
		     "kernel = guests/web/bzImage console=ttyS0 quiet\n"
		     "initrd = guests/web/initrd.img\n"
		     "cmdline = root=/dev/ram0 init=/sbin/init\n"
		     "on_crash = restart\n"
		     "watchdog = 30\n"
		     "\n"
		     "[partition db-2_b]\n"
		     "cpus = 4-6, 8 , 0x3f\n"
		     "memory = 1G\n"
		     "kernel = \\guests\\db.elf\n"
		     "module = mods/a.bin one two\n"
		     "module = mods/b.bin\n"
		     "on_crash = stop\n");
	assert_int_equal(cfg.partition_count, 2);
	web = find("web");
	assert_true(web->valid);
	assert_int_equal(web->line, 2);
	assert_int_equal(web->cpus, (1ULL << 1) | (1ULL << 3));
	assert_int_equal(web->cpus_line, 3);
	assert_int_equal(web->memory, 512 * MiB);
	assert_int_equal(web->memory_line, 4);
	assert_string_equal(web->kernel.path, "guests/web/bzImage");
	assert_string_equal(web->kernel.args, "console=ttyS0 quiet");
	assert_int_equal(web->kernel.line, 5);
	assert_string_equal(web->initrd.path, "guests/web/initrd.img");
	assert_string_equal(web->initrd.args, "");
	assert_int_equal(web->initrd.line, 6);
	assert_string_equal(web->cmdline, "root=/dev/ram0 init=/sbin/init");
	assert_int_equal(web->on_crash, CFG_ON_CRASH_RESTART);
	assert_int_equal(web->watchdog_s, 30);
	assert_int_equal(web->module_count, 0);

	db = find("db-2_b");
	assert_true(db->valid);
	assert_int_equal(db->line, 11);
	assert_int_equal(db->cpus, (7ULL << 4) | (1ULL << 8) | (1ULL << 63));
	assert_int_equal(db->memory, GiB);
	assert_string_equal(db->kernel.path, "\\guests\\db.elf");
	assert_int_equal(db->module_count, 2);
	assert_string_equal(db->modules[0].path, "mods/a.bin");
	assert_string_equal(db->modules[0].args, "one two");
	assert_int_equal(db->modules[0].line, 15);
	assert_string_equal(db->modules[1].path, "mods/b.bin");
	assert_int_equal(db->modules[1].line, 16);
	assert_int_equal(db->on_crash, CFG_ON_CRASH_STOP);
	assert_int_equal(db->watchdog_s, 0); /* none unless given */
	assert_string_equal(db->initrd.path, "");
	assert_string_equal(db->cmdline, "");
}

static void test_memory_sizes(void **state)
{
	static const struct { const char *v; u64 bytes; } sizes[] = {
		{ "2M", 2 * MiB }, { "2m", 2 * MiB }, { "2048K", 2 * MiB }, { "2048k", 2 * MiB },
		{ "4G", 4 * GiB }, { "1g", GiB }, { "2097152", 2 * MiB }, { "0x200000", 2 * MiB },
		{ "0x40M", 64 * MiB },
	};
	char text[128];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		snprintf(text, sizeof(text), "[partition p]\nmemory = %s\n", sizes[i].v);
		expect_clean(text);
		assert_int_equal(cfg.partitions[0].memory, sizes[i].bytes);
	}
}

static void test_limits_accepted(void **state)
{
	char text[8192];
	size_t n = 0;

	(void)state;
	/* the longest name, path and cmdline; 8 modules; 16 partitions */
	n += (size_t)snprintf(text + n, sizeof(text) - n, "[partition %s]\n", repeat('n', 31));
	n += (size_t)snprintf(text + n, sizeof(text) - n, "kernel = %s\n", repeat('k', 127));
	n += (size_t)snprintf(text + n, sizeof(text) - n, "cmdline = %s\n", repeat('c', 511));
	for (int m = 0; m < CFG_MAX_MODULES; m++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "module = m%d\n", m);
	for (int p = 1; p < CFG_MAX_PARTITIONS; p++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[partition p%d]\n", p);
	assert_true(n < sizeof(text) - 1);
	expect_clean(text);
	assert_int_equal(cfg.partition_count, CFG_MAX_PARTITIONS);
	assert_int_equal(strlen(cfg.partitions[0].name), 31);
	assert_int_equal(strlen(cfg.partitions[0].kernel.path), 127);
	assert_int_equal(strlen(cfg.partitions[0].cmdline), 511);
	assert_int_equal(cfg.partitions[0].module_count, CFG_MAX_MODULES);
	assert_string_equal(cfg.partitions[0].modules[7].path, "m7");
}

struct seen {
	const char *paths[32];
	u32 lines[32];
	unsigned int count;
};

static void collect(const struct cfg_file *f, void *ctx)
{
	struct seen *s = ctx;

	assert_true(s->count < 32);
	s->paths[s->count] = f->path;
	s->lines[s->count++] = f->line;
}

static void test_for_each_file(void **state)
{
	struct seen s = { 0 };

	(void)state;
	expect_clean("[partition a]\n"
		     "module = a/m1\n"
		     "kernel = a/k\n"
		     "initrd = a/i\n"
		     "module = a/m2\n"
		     "[partition b]\n"
		     "cpus = 2\n"
		     "[partition c]\n"
		     "kernel = c/k\n");
	config_for_each_file(&cfg, collect, &s);
	assert_int_equal(s.count, 5);
	/* per partition: kernel, initrd, modules */
	assert_string_equal(s.paths[0], "a/k");
	assert_int_equal(s.lines[0], 3);
	assert_string_equal(s.paths[1], "a/i");
	assert_string_equal(s.paths[2], "a/m1");
	assert_string_equal(s.paths[3], "a/m2");
	assert_string_equal(s.paths[4], "c/k");
	assert_int_equal(s.lines[4], 9);
}

static void test_log_level_names(void **state)
{
	(void)state;
	assert_string_equal(log_level_name(LOG_ERROR), "error");
	assert_string_equal(log_level_name(LOG_WARN), "warn");
	assert_string_equal(log_level_name(LOG_INFO), "info");
	assert_string_equal(log_level_name(LOG_DEBUG), "debug");
	assert_string_equal(log_level_name((enum log_level)7), "?");
}

static void test_not_nul_terminated(void **state)
{
	char text[] = "baud = 9600XXXX";

	(void)state;
	/* only the first 11 bytes are the file */
	assert_int_equal(config_parse(&cfg, text, 11), 0);
	assert_int_equal(cfg.baud, 9600);
	assert_int_equal(config_parse(&cfg, NULL, 0), 0);
}

static void test_example_configuration(void **state)
{
	FILE *f = fopen("guests/bulkhead.cfg", "rb");
	static char text[65536];
	size_t n;

	(void)state;
	assert_non_null(f);
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (config_parse(&cfg, text, n))
		dump_errors();
	assert_int_equal(cfg.error_count, 0);
}

/* ---- how errors are recorded ------------------------------------------------------------ */

static void test_errors_go_on_and_mark_only_their_partition(void **state)
{
	(void)state;
	parse("baud = 7\n"              /* 1 */
	      "[partition a]\n"         /* 2 */
	      "cpus = 1\n"              /* 3 */
	      "[partition b]\n"         /* 4 */
	      "memory = lots\n"         /* 5 */
	      "cpus = 2\n"              /* 6 */
	      "on_crash = explode\n"    /* 7 */
	      "[partition c]\n"         /* 8 */
	      "cpus = 3\n");            /* 9 */
	assert_int_equal(cfg.error_count, 3);
	assert_int_equal(cfg.errors[0].line, 1);
	assert_int_equal(cfg.errors[1].line, 5);
	assert_int_equal(cfg.errors[2].line, 7);
	assert_int_equal(cfg.partition_count, 3);
	assert_true(find("a")->valid);
	assert_false(find("b")->valid);
	assert_int_equal(find("b")->cpus, 1ULL << 2); /* parsing went on */
	assert_true(find("c")->valid);
}

static void test_error_table_overflow(void **state)
{
	char text[4096];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "bogus%d = 1\n", i);
	assert_int_equal(parse(text), 40);
	assert_int_equal(cfg.error_count, 40);
	assert_int_equal(cfg.errors[CFG_MAX_ERRORS - 1].line, CFG_MAX_ERRORS);
	assert_string_equal(cfg.errors[CFG_MAX_ERRORS - 1].msg, "unknown key 'bogus31'");
}

static void test_long_message_truncated(void **state)
{
	char text[700];

	(void)state;
	snprintf(text, sizeof(text), "log_level = %s\n", repeat('v', 300));
	parse(text);
	assert_int_equal(cfg.error_count, 1);
	assert_int_equal(strlen(cfg.errors[0].msg), CFG_MSG_MAX - 1);
	assert_memory_equal(cfg.errors[0].msg, "bad log_level 'vvv", 18);
}

static void test_keys_of_a_bad_section_are_skipped(void **state)
{
	(void)state;
	expect_error("[partition a.b]\n"
		     "cpus = nonsense\n"
		     "whatever = 1\n",
		     1, "bad partition name 'a.b' (letters, digits, '-' and '_')");
	assert_int_equal(cfg.partition_count, 0);
}

static void test_config_error_helper(void **state)
{
	(void)state;
	config_defaults(&cfg);
	config_error(&cfg, 12, "CPU %u and %s", 3, "more");
	assert_int_equal(cfg.error_count, 1);
	assert_int_equal(cfg.errors[0].line, 12);
	assert_string_equal(cfg.errors[0].msg, "CPU 3 and more");
	for (int i = 0; i < 40; i++)
		config_error(&cfg, 0, "x");
	assert_int_equal(cfg.error_count, 41);
}

/* ---- every message ---------------------------------------------------------------------- */

#define ERROR_TEST(name, text, line, msg)              \
	static void test_msg_##name(void **state)      \
	{                                              \
		(void)state;                           \
		expect_error(text, line, msg);         \
	}

/* global settings */
ERROR_TEST(bad_console, "baud = 9600\nconsole = com5\n", 2,
	   "bad console 'com5' (com1-com4 or an I/O port)")
ERROR_TEST(bad_console_port, "console = 0xfff9\n", 1,
	   "bad console '0xfff9' (com1-com4 or an I/O port)")
ERROR_TEST(bad_baud, "baud = 100000\n", 1, "bad baud rate '100000' (a divisor of 115200)")
ERROR_TEST(bad_baud_too_slow, "baud = 25\n", 1, "bad baud rate '25' (a divisor of 115200)")
ERROR_TEST(bad_log_level, "log_level = verbose\n", 1,
	   "bad log_level 'verbose' (error, warn, info or debug)")
ERROR_TEST(bad_poweroff, "poweroff_when_ready = maybe\n", 1,
	   "bad value 'maybe' for poweroff_when_ready (yes or no)")
ERROR_TEST(bad_service_cpu, "service_cpu = 64\n", 1, "bad service_cpu '64' (a CPU number 0-63)")
ERROR_TEST(bad_debug_fault_cpu, "debug_fault_cpu = one\n", 1,
	   "bad debug_fault_cpu 'one' (a CPU number 0-63)")
ERROR_TEST(bad_debug_phantom_cpu, "debug_phantom_cpu = -1\n", 1,
	   "bad debug_phantom_cpu '-1' (an APIC ID)")
ERROR_TEST(unknown_global_key, "\n\ncolour = blue\n", 3, "unknown key 'colour'")
ERROR_TEST(unknown_long_key, "a_key_far_longer_than_any_real_key_is = 1\n", 1,
	   "unknown key 'a_key_far_longer_than_any_real_key_is'")
ERROR_TEST(partition_key_in_global_section, "log_level = info\ncpus = 1\n", 2,
	   "'cpus' belongs in a [partition NAME] section")
ERROR_TEST(global_given_twice, "baud = 9600\n# again\nbaud = 57600\n", 3,
	   "'baud' is given twice (first at line 1)")

/* lines */
ERROR_TEST(expected_key_value, "baud = 9600\nverbose\n", 2, "expected 'key = value'")
ERROR_TEST(missing_key, "= 5\n", 1, "missing key before '='")
ERROR_TEST(missing_value, "\nbaud =   \n", 2, "missing value for 'baud'")
static void test_msg_nul_byte(void **state)
{
	static const char text[] = "baud = 9600\nlog\0_level = info\nbogus\n";

	(void)state;
	assert_int_equal(config_parse(&cfg, text, sizeof(text) - 1), 1); /* parsing stops */
	assert_int_equal(cfg.errors[0].line, 2);
	assert_string_equal(cfg.errors[0].msg, "NUL byte in configuration (is this a text file?)");
}

/* section headers */
ERROR_TEST(bad_header_word, "[partitions web]\n", 1,
	   "bad section header '[partitions web]' (expected [partition NAME])")
ERROR_TEST(bad_header_unclosed, "\n[partition web\ncpus = 1\n", 2,
	   "bad section header '[partition web' (expected [partition NAME])")
ERROR_TEST(bad_header_no_name, "[partition]\n", 1,
	   "bad section header '[partition]' (expected [partition NAME])")
ERROR_TEST(empty_partition_name, "[partition  ]\n", 1, "partition name must be 1-31 characters")
ERROR_TEST(long_partition_name, "[partition abcdefghijklmnopqrstuvwxyz0123456]\n", 1,
	   "partition name must be 1-31 characters")
ERROR_TEST(bad_partition_name, "[partition web.1]\n", 1,
	   "bad partition name 'web.1' (letters, digits, '-' and '_')")
ERROR_TEST(partition_defined_twice,
	   "[partition web]\ncpus = 1\n[partition db]\ncpus = 2\n[partition web]\ncpus = 3\n", 5,
	   "partition 'web' already defined at line 1")

static void test_msg_too_many_partitions(void **state)
{
	char text[1024];
	size_t n = 0;

	(void)state;
	for (int p = 0; p <= CFG_MAX_PARTITIONS; p++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[partition p%d]\ncpus = %d\n", p,
				      p + 1);
	expect_error(text, 2 * CFG_MAX_PARTITIONS + 1, "too many partitions (at most 16)");
	assert_int_equal(cfg.partition_count, CFG_MAX_PARTITIONS);
}

/* partition keys */
ERROR_TEST(unknown_partition_key, "[partition web]\ncpus = 1\ncolour = blue\n", 3,
	   "unknown key 'colour' in partition 'web'")
ERROR_TEST(global_key_in_partition, "[partition web]\nbaud = 9600\n", 2,
	   "'baud' is a global setting: put it before the first [partition] section")
ERROR_TEST(partition_key_given_twice, "[partition web]\ncpus = 1\nmemory = 2M\ncpus = 2\n", 4,
	   "'cpus' is given twice in partition 'web' (first at line 2)")
ERROR_TEST(kernel_given_twice, "[partition web]\nkernel = a\n\nkernel = b\n", 4,
	   "'kernel' is given twice in partition 'web' (first at line 2)")
ERROR_TEST(bad_memory_size, "[partition web]\nmemory = 256MB\n", 2,
	   "bad memory size '256MB' (e.g. 256M or 1G)")
ERROR_TEST(zero_memory_size, "[partition web]\nmemory = 0M\n", 2,
	   "bad memory size '0M' (e.g. 256M or 1G)")
ERROR_TEST(memory_not_2m_multiple, "[partition web]\nmemory = 3M\n", 2,
	   "memory size '3M' is not a multiple of 2M")
ERROR_TEST(bad_on_crash, "[partition web]\non_crash = reboot\n", 2,
	   "bad on_crash 'reboot' (restart or stop)")
ERROR_TEST(bad_watchdog, "[partition web]\nwatchdog = 10s\n", 2,
	   "bad watchdog '10s' (seconds, 0 for none, at most 86400)")
ERROR_TEST(watchdog_too_long, "[partition web]\nwatchdog = 86401\n", 2,
	   "bad watchdog '86401' (seconds, 0 for none, at most 86400)")
ERROR_TEST(watchdog_given_twice, "[partition web]\nwatchdog = 5\nwatchdog = 0\n", 3,
	   "'watchdog' is given twice in partition 'web' (first at line 2)")

/* CPU lists */
ERROR_TEST(cpu_list_bad_item, "[partition web]\ncpus = 1,x\n", 2,
	   "bad CPU list item 'x' (a CPU number or a range such as 2-5)")
ERROR_TEST(cpu_list_open_range, "[partition web]\ncpus = 1-\n", 2,
	   "bad CPU list item '1-' (a CPU number or a range such as 2-5)")
ERROR_TEST(cpu_list_double_range, "[partition web]\ncpus = 1-2-3\n", 2,
	   "bad CPU list item '1-2-3' (a CPU number or a range such as 2-5)")
ERROR_TEST(cpu_list_empty_item, "[partition web]\ncpus = 1,,2\n", 2,
	   "empty item in CPU list '1,,2'")
ERROR_TEST(cpu_list_trailing_comma, "[partition web]\ncpus = 1,\n", 2,
	   "empty item in CPU list '1,'")
ERROR_TEST(cpu_range_backwards, "[partition web]\ncpus = 5-2\n", 2,
	   "bad CPU range '5-2' (the first CPU is above the last)")
ERROR_TEST(cpu_out_of_range, "[partition web]\ncpus = 60-64\n", 2,
	   "CPU 64 is out of range (CPUs are numbered 0-63)")
ERROR_TEST(cpu_listed_twice, "[partition web]\ncpus = 1-3, 3\n", 2, "CPU 3 listed twice")

/* values that do not fit */
static void test_msg_cmdline_too_long(void **state)
{
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text), "[partition web]\ncmdline = %s\n", repeat('c', 512));
	expect_error(text, 2, "value of 'cmdline' is too long (512 characters, at most 511)");
	assert_false(cfg.partitions[0].valid);
}

static void test_msg_path_too_long(void **state)
{
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text), "[partition web]\n\nkernel = %s args\n", repeat('p', 128));
	expect_error(text, 3, "path of 'kernel' is too long (128 characters, at most 127)");
	assert_string_equal(cfg.partitions[0].kernel.path, "");
}

static void test_msg_arguments_too_long(void **state)
{
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text), "[partition web]\nmodule = m.bin %s\n", repeat('a', 600));
	expect_error(text, 2, "arguments of 'module' are too long (600 characters, at most 511)");
	assert_int_equal(cfg.partitions[0].module_count, 0);
}

static void test_msg_too_many_modules(void **state)
{
	char text[1024];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "[partition web]\n");
	for (int m = 0; m <= CFG_MAX_MODULES; m++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "module = m%d\n", m);
	expect_error(text, CFG_MAX_MODULES + 2, "too many modules (at most 8)");
	assert_int_equal(cfg.partitions[0].module_count, CFG_MAX_MODULES);
}

#define MSG(name) cmocka_unit_test(test_msg_##name)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_global_settings),
		cmocka_unit_test(test_value_forms),
		cmocka_unit_test(test_layout_comments_blanks_crlf),
		cmocka_unit_test(test_partitions),
		cmocka_unit_test(test_memory_sizes),
		cmocka_unit_test(test_limits_accepted),
		cmocka_unit_test(test_for_each_file),
		cmocka_unit_test(test_log_level_names),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_example_configuration),
		cmocka_unit_test(test_errors_go_on_and_mark_only_their_partition),
		cmocka_unit_test(test_error_table_overflow),
		cmocka_unit_test(test_long_message_truncated),
		cmocka_unit_test(test_keys_of_a_bad_section_are_skipped),
		cmocka_unit_test(test_config_error_helper),
		cmocka_unit_test(test_console_hotkey),
		MSG(bad_console),
		MSG(bad_console_port),
		MSG(bad_baud),
		MSG(bad_baud_too_slow),
		MSG(bad_log_level),
		MSG(bad_poweroff),
		MSG(bad_service_cpu),
		MSG(bad_debug_fault_cpu),
		MSG(bad_debug_phantom_cpu),
		MSG(unknown_global_key),
		MSG(unknown_long_key),
		MSG(partition_key_in_global_section),
		MSG(global_given_twice),
		MSG(expected_key_value),
		MSG(missing_key),
		MSG(missing_value),
		MSG(nul_byte),
		MSG(bad_header_word),
		MSG(bad_header_unclosed),
		MSG(bad_header_no_name),
		MSG(empty_partition_name),
		MSG(long_partition_name),
		MSG(bad_partition_name),
		MSG(partition_defined_twice),
		MSG(too_many_partitions),
		MSG(unknown_partition_key),
		MSG(global_key_in_partition),
		MSG(partition_key_given_twice),
		MSG(kernel_given_twice),
		MSG(bad_memory_size),
		MSG(zero_memory_size),
		MSG(memory_not_2m_multiple),
		MSG(bad_on_crash),
		MSG(bad_watchdog),
		MSG(watchdog_too_long),
		MSG(watchdog_given_twice),
		MSG(cpu_list_bad_item),
		MSG(cpu_list_open_range),
		MSG(cpu_list_double_range),
		MSG(cpu_list_empty_item),
		MSG(cpu_list_trailing_comma),
		MSG(cpu_range_backwards),
		MSG(cpu_out_of_range),
		MSG(cpu_listed_twice),
		MSG(cmdline_too_long),
		MSG(path_too_long),
		MSG(arguments_too_long),
		MSG(too_many_modules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
