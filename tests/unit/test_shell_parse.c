/* Unit tests of hv/shell_parse.c, the console shell's grammar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "types.h"
#include "hv/shell_parse.h"
#include "lib/error.h"

static char why[128];

static int parse(const char *text, struct shell_request *req)
{
	static char line[256];

	snprintf(line, sizeof(line), "%s", text);
	why[0] = '\0';
	return shell_parse(line, req, why, sizeof(why));
}

static void test_commands_and_arguments(void **state)
{
	struct shell_request r;

	(void)state;
	assert_int_equal(parse("list", &r), 0);
	assert_int_equal(r.cmd, SHELL_LIST);
	assert_false(r.json);
	assert_int_equal(r.argc, 0);
	assert_int_equal(parse("  console\t hello  ", &r), 0);
	assert_int_equal(r.cmd, SHELL_CONSOLE);
	assert_int_equal(r.argc, 1);
	assert_string_equal(r.argv[0], "hello");
	assert_int_equal(parse("log", &r), 0);
	assert_int_equal(parse("log 50", &r), 0);
	assert_string_equal(r.argv[0], "50");
	for (int i = 0; i < SHELL_CMD_COUNT; i++) {
		char line[64];

		snprintf(line, sizeof(line), "%s%s", shell_commands[i].name,
			 shell_commands[i].min_args ? " x" : "");
		assert_int_equal(parse(line, &r), 0);
		assert_int_equal(r.cmd, i);
	}
}

static void test_json_anywhere(void **state)
{
	struct shell_request r;

	(void)state;
	assert_int_equal(parse("list --json", &r), 0);
	assert_true(r.json);
	assert_int_equal(parse("--json info memcheck", &r), 0);
	assert_true(r.json);
	assert_int_equal(r.cmd, SHELL_INFO);
	assert_string_equal(r.argv[0], "memcheck");
	assert_int_equal(parse("info --json memcheck", &r), 0);
	assert_string_equal(r.argv[0], "memcheck");
}

static void test_empty_line(void **state)
{
	struct shell_request r;

	(void)state;
	assert_int_equal(parse("", &r), BH_ENOENT);
	assert_int_equal(parse("  \t ", &r), BH_ENOENT);
	assert_int_equal(parse("--json", &r), BH_EINVAL);
	assert_true(r.json);
	assert_string_equal(why, "no command (try 'help')");
}

static void test_errors_are_one_clear_line(void **state)
{
	struct shell_request r;

	(void)state;
	assert_int_equal(parse("frobnicate", &r), BH_EINVAL);
	assert_string_equal(why, "unknown command 'frobnicate' (try 'help')");
	assert_int_equal(parse("console", &r), BH_EINVAL);
	assert_string_equal(why, "usage: console NAME");
	assert_int_equal(parse("list extra --json", &r), BH_EINVAL);
	assert_string_equal(why, "usage: list");
	assert_true(r.json);
	assert_int_equal(parse("log 1 2", &r), BH_EINVAL);
	assert_string_equal(why, "usage: log [LINES]");
	assert_int_equal(parse("list --yaml", &r), BH_EINVAL);
	assert_string_equal(why, "unknown option '--yaml' (only --json)");
	assert_int_equal(parse("a b c d e f g h i j --json", &r), BH_EINVAL);
	assert_string_equal(why, "too many words (at most 8)");
	assert_true(r.json);
	assert_null(strchr(why, '\n'));
}

static void test_long_words_are_cut_in_the_message(void **state)
{
	struct shell_request r;
	char line[200];

	(void)state;
	memset(line, 'q', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(parse(line, &r), BH_EINVAL);
	assert_true(strlen(why) < 80);
}

static void test_parse_uint(void **state)
{
	u32 v;

	(void)state;
	assert_true(shell_parse_uint("20", 1, 500, &v));
	assert_int_equal(v, 20);
	assert_false(shell_parse_uint("0", 1, 500, &v));
	assert_false(shell_parse_uint("501", 1, 500, &v));
	assert_false(shell_parse_uint("99999999999999999999999", 1, 500, &v));
	assert_false(shell_parse_uint("-1", 1, 500, &v));
	assert_false(shell_parse_uint("1x", 1, 500, &v));
	assert_false(shell_parse_uint("", 1, 500, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands_and_arguments),
		cmocka_unit_test(test_json_anywhere),
		cmocka_unit_test(test_empty_line),
		cmocka_unit_test(test_errors_are_one_clear_line),
		cmocka_unit_test(test_long_words_are_cut_in_the_message),
		cmocka_unit_test(test_parse_uint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
