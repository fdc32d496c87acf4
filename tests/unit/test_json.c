/* Unit tests of lib/json.c, the console's JSON writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "types.h"
#include "lib/json.h"

static void test_nested_object(void **state)
{
	char buf[256];
	struct json j;

	(void)state;
	json_init(&j, buf, sizeof(buf));
	json_object_begin(&j);
	json_kv_bool(&j, "ok", true);
	json_kv_string(&j, "name", "hello");
	json_key(&j, "cpus");
	json_array_begin(&j);
	json_u64(&j, 1);
	json_u64(&j, 2);
	json_array_end(&j);
	json_key(&j, "empty");
	json_array_begin(&j);
	json_array_end(&j);
	json_key(&j, "inner");
	json_object_begin(&j);
	json_kv_u64(&j, "a", 18446744073709551615ull);
	json_key(&j, "b");
	json_s64(&j, -5);
	json_key(&j, "c");
	json_null(&j);
	json_object_end(&j);
	json_kv_hex(&j, "rip", 0x100000);
	json_object_end(&j);
	assert_string_equal(json_finish(&j),
			    "{\"ok\":true,\"name\":\"hello\",\"cpus\":[1,2],\"empty\":[],"
			    "\"inner\":{\"a\":18446744073709551615,\"b\":-5,\"c\":null},"
			    "\"rip\":\"0x100000\"}");
}

static void test_array_of_objects(void **state)
{
	char buf[128];
	struct json j;

	(void)state;
	json_init(&j, buf, sizeof(buf));
	json_array_begin(&j);
	for (int i = 0; i < 3; i++) {
		json_object_begin(&j);
		json_kv_u64(&j, "i", (u64)i);
		json_object_end(&j);
	}
	json_array_end(&j);
	assert_string_equal(json_finish(&j), "[{\"i\":0},{\"i\":1},{\"i\":2}]");
}

static void test_string_escapes(void **state)
{
	char buf[128];
	struct json j;
	const char raw[] = "a\"b\\c\nd\re\tf\x01g\x7fh\xffi";

	(void)state;
	json_init(&j, buf, sizeof(buf));
	json_string_n(&j, raw, sizeof(raw) - 1);
	assert_string_equal(json_finish(&j),
			    "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u007fh\\u00ffi\"");
	/* A NUL inside a counted string is escaped, not a terminator. */
	json_init(&j, buf, sizeof(buf));
	json_string_n(&j, "x\0y", 3);
	assert_string_equal(json_finish(&j), "\"x\\u0000y\"");
	json_init(&j, buf, sizeof(buf));
	json_string(&j, NULL);
	assert_string_equal(json_finish(&j), "\"\"");
}

static void test_overflow_never_writes_past_the_buffer(void **state)
{
	char buf[32];
	struct json j;

	(void)state;
	for (size_t size = 0; size < 24; size++) {
		memset(buf, 'Z', sizeof(buf));
		json_init(&j, buf, size);
		json_object_begin(&j);
		json_kv_string(&j, "key", "a longer value than fits");
		json_object_end(&j);
		assert_null(json_finish(&j));
		for (size_t i = size; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 'Z');
		if (size)
			assert_true(memchr(buf, '\0', size) != NULL);
	}
	/* Exactly enough room (with the NUL) succeeds. */
	json_init(&j, buf, 8);
	json_string(&j, "abcde");
	assert_string_equal(json_finish(&j), "\"abcde\"");
	json_init(&j, buf, 7);
	json_string(&j, "abcde");
	assert_null(json_finish(&j));
}

static void test_bad_nesting_fails(void **state)
{
	char buf[64];
	struct json j;

	(void)state;
	json_init(&j, buf, sizeof(buf));
	json_object_begin(&j);
	assert_null(json_finish(&j));           /* unclosed */
	json_init(&j, buf, sizeof(buf));
	json_array_end(&j);
	assert_null(json_finish(&j));           /* end without begin */
	json_init(&j, buf, sizeof(buf));
	json_object_begin(&j);
	json_key(&j, "a");
	json_object_end(&j);
	assert_null(json_finish(&j));           /* key without value */
	json_init(&j, buf, sizeof(buf));
	for (int i = 0; i < JSON_MAX_DEPTH + 2; i++)
		json_array_begin(&j);
	for (int i = 0; i < JSON_MAX_DEPTH + 2; i++)
		json_array_end(&j);
	assert_null(json_finish(&j));           /* too deep */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_object),
		cmocka_unit_test(test_array_of_objects),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_overflow_never_writes_past_the_buffer),
		cmocka_unit_test(test_bad_nesting_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
