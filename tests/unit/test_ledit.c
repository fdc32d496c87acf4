/* Unit tests of lib/ledit.c, the console's line editor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "types.h"
#include "lib/ledit.h"

static struct ledit ed;
static struct ledit_echo echo;

/* Feeds a string; returns the last event that was not LEDIT_NONE (or LEDIT_NONE). */
static enum ledit_event feed(const char *s)
{
	enum ledit_event last = LEDIT_NONE;

	echo.len = 0;
	for (; *s; s++) {
		enum ledit_event ev = ledit_feed(&ed, (u8)*s, &echo);

		if (ev != LEDIT_NONE)
			last = ev;
	}
	echo.buf[echo.len < sizeof(echo.buf) ? echo.len : sizeof(echo.buf) - 1] = '\0';
	return last;
}

static int setup(void **state)
{
	(void)state;
	ledit_init(&ed);
	return 0;
}

static void test_typing_and_enter(void **state)
{
	(void)state;
	assert_int_equal(feed("list"), LEDIT_NONE);
	assert_string_equal(echo.buf, "list");
	assert_int_equal(feed("\r"), LEDIT_LINE);
	assert_string_equal(ledit_line(&ed), "list");
	assert_string_equal(echo.buf, "\r\n");
	/* LF alone ends a line too; CR LF is one Enter, not two. */
	assert_int_equal(feed("a\n"), LEDIT_LINE);
	assert_string_equal(ledit_line(&ed), "a");
	assert_int_equal(feed("b\r\n"), LEDIT_LINE);
	assert_string_equal(ledit_line(&ed), "b");
	assert_int_equal(feed("\n"), LEDIT_LINE);
	assert_string_equal(ledit_line(&ed), "");
}

static void test_backspace_both_codes(void **state)
{
	(void)state;
	feed("lisx\x7f");
	assert_string_equal(echo.buf, "lisx\b \b");
	feed("\x08\x08t");
	assert_int_equal(feed("\r"), LEDIT_LINE);
	assert_string_equal(ledit_line(&ed), "lt");
	/* Backspace on an empty line does nothing. */
	assert_int_equal(feed("\x7f\x08"), LEDIT_NONE);
	assert_int_equal(echo.len, 0);
}

static void test_ctrl_c_and_ctrl_u(void **state)
{
	(void)state;
	assert_int_equal(feed("reboot\x03"), LEDIT_CANCEL);
	assert_int_equal(feed("\r"), LEDIT_LINE);
	assert_string_equal(ledit_line(&ed), "");
	feed("poweroff\x15");
	assert_int_equal(feed("ls\r"), LEDIT_LINE);
	assert_string_equal(ledit_line(&ed), "ls");
}

static void test_control_bytes_and_unknown_escapes_ignored(void **state)
{
	(void)state;
	feed("l\tis\x01\x1b[1;5Ct\x1b[D\x1bOC");
	assert_int_equal(feed("\r"), LEDIT_LINE);
	assert_string_equal(ledit_line(&ed), "list");
}

static void test_history_up_down(void **state)
{
	(void)state;
	feed("list\r");
	feed("info hello\r");
	feed("info hello\r");       /* a repeat is stored once */
	feed("ver");
	feed("\x1b[A");             /* up: newest */
	assert_int_equal(feed("\r"), LEDIT_LINE);
	assert_string_equal(ledit_line(&ed), "info hello");
	feed("x\x1b[A\x1b[A");      /* two up: list (the repeat was not stored) */
	assert_int_equal(feed("\r"), LEDIT_LINE);
	assert_string_equal(ledit_line(&ed), "list");
	/* Up past the oldest rings the bell; down past the newest brings back the draft. */
	feed("dra");
	feed("\x1bOA\x1bOA\x1bOA\x1bOA");
	assert_non_null(memchr(echo.buf, '\a', echo.len));
	feed("\x1b[B\x1b[B\x1b[B\x1b[B");
	assert_int_equal(feed("ft\r"), LEDIT_LINE);
	assert_string_equal(ledit_line(&ed), "draft");
}

static void test_history_keeps_the_newest(void **state)
{
	char want[16];

	(void)state;
	for (int i = 0; i < LEDIT_HISTORY + 5; i++) {
		char line[16];

		snprintf(line, sizeof(line), "cmd%d\r", i);
		feed(line);
	}
	for (int i = 0; i < LEDIT_HISTORY + 3; i++)
		feed("\x1b[A");
	feed("\r");
	snprintf(want, sizeof(want), "cmd%d", 5);    /* the oldest still kept */
	assert_string_equal(ledit_line(&ed), want);
}

static void test_overlong_line_is_refused_whole(void **state)
{
	char big[LEDIT_LINE_MAX + 40];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	feed(big);
	assert_non_null(memchr(echo.buf, '\a', echo.len));
	feed("\x7f");   /* deleting a character does not make it whole again */
	assert_int_equal(feed("\r"), LEDIT_OVERLONG);
	/* The next line is fine, and the overlong one is not in the history. */
	assert_int_equal(feed("ok\r"), LEDIT_LINE);
	assert_string_equal(ledit_line(&ed), "ok");
	feed("\x1b[A\x1b[A\r");
	assert_string_equal(ledit_line(&ed), "ok");
	/* The longest line that fits is kept entire. */
	memset(big, 'y', LEDIT_LINE_MAX - 1);
	big[LEDIT_LINE_MAX - 1] = '\r';
	big[LEDIT_LINE_MAX] = '\0';
	assert_int_equal(feed(big), LEDIT_LINE);
	assert_int_equal(strlen(ledit_line(&ed)), LEDIT_LINE_MAX - 1);
}

static void test_every_byte_is_safe(void **state)
{
	(void)state;
	for (int round = 0; round < 50; round++)
		for (int c = 0; c < 256; c++) {
			u32 len;

			echo.len = 0;
			ledit_feed(&ed, (u8)(c * 7 + round), &echo);
			assert_true(echo.len <= sizeof(echo.buf));
			assert_true(strlen(ledit_current(&ed, &len)) == len);
			assert_true(len < LEDIT_LINE_MAX);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_typing_and_enter, setup),
		cmocka_unit_test_setup(test_backspace_both_codes, setup),
		cmocka_unit_test_setup(test_ctrl_c_and_ctrl_u, setup),
		cmocka_unit_test_setup(test_control_bytes_and_unknown_escapes_ignored, setup),
		cmocka_unit_test_setup(test_history_up_down, setup),
		cmocka_unit_test_setup(test_history_keeps_the_newest, setup),
		cmocka_unit_test_setup(test_overlong_line_is_refused_whole, setup),
		cmocka_unit_test_setup(test_every_byte_is_safe, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
