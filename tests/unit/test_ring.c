/* Unit tests of lib/ring.c, the overwrite-oldest byte ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "types.h"
#include "lib/ring.h"

static void write_str(struct ring *r, const char *s)
{
	ring_write(r, s, strlen(s));
}

/* Reads everything from *pos on into a string. */
static u64 read_all(const struct ring *r, u64 *pos, char *out, u64 size, u64 *missed)
{
	u64 n = ring_read(r, pos, out, size - 1, missed);

	out[n] = '\0';
	return n;
}

static void test_empty(void **state)
{
	u8 buf[8];
	char out[16];
	struct ring r;
	u64 pos = 0, missed = 99;

	(void)state;
	ring_init(&r, buf, sizeof(buf));
	assert_int_equal(r.written, 0);
	assert_int_equal(ring_oldest(&r), 0);
	assert_int_equal(ring_read(&r, &pos, out, sizeof(out), &missed), 0);
	assert_int_equal(pos, 0);
	assert_int_equal(missed, 0);
}

static void test_write_then_read(void **state)
{
	u8 buf[16];
	char out[32];
	struct ring r;
	u64 pos = 0, missed = 99;

	(void)state;
	ring_init(&r, buf, sizeof(buf));
	write_str(&r, "hello");
	assert_int_equal(read_all(&r, &pos, out, sizeof(out), &missed), 5);
	assert_string_equal(out, "hello");
	assert_int_equal(pos, 5);
	assert_int_equal(missed, 0);
	/* caught up: nothing more */
	assert_int_equal(read_all(&r, &pos, out, sizeof(out), &missed), 0);
	write_str(&r, " world");
	assert_int_equal(read_all(&r, &pos, out, sizeof(out), &missed), 6);
	assert_string_equal(out, " world");
	assert_int_equal(pos, 11);
	assert_int_equal(ring_oldest(&r), 0);
}

static void test_two_readers_keep_own_positions(void **state)
{
	u8 buf[16];
	char out[32];
	struct ring r;
	u64 a = 0, b = 0;

	(void)state;
	ring_init(&r, buf, sizeof(buf));
	write_str(&r, "abc");
	assert_int_equal(read_all(&r, &a, out, sizeof(out), NULL), 3);
	write_str(&r, "def");
	assert_int_equal(read_all(&r, &b, out, sizeof(out), NULL), 6);
	assert_string_equal(out, "abcdef");
	assert_int_equal(read_all(&r, &a, out, sizeof(out), NULL), 3);
	assert_string_equal(out, "def");
}

static void test_short_reads(void **state)
{
	u8 buf[8];
	char out[4];
	struct ring r;
	u64 pos = 0;

	(void)state;
	ring_init(&r, buf, sizeof(buf));
	write_str(&r, "abcdefg");
	assert_int_equal(ring_read(&r, &pos, out, 3, NULL), 3);
	assert_memory_equal(out, "abc", 3);
	assert_int_equal(ring_read(&r, &pos, out, 3, NULL), 3);
	assert_memory_equal(out, "def", 3);
	assert_int_equal(ring_read(&r, &pos, out, 3, NULL), 1);
	assert_memory_equal(out, "g", 1);
	assert_int_equal(pos, 7);
	assert_int_equal(ring_read(&r, &pos, out, 0, NULL), 0);
}

static void test_wrap_around(void **state)
{
	u8 buf[8];
	char out[16];
	struct ring r;
	u64 pos = 0, missed = 0;

	(void)state;
	ring_init(&r, buf, sizeof(buf));
	write_str(&r, "01234");
	assert_int_equal(read_all(&r, &pos, out, sizeof(out), &missed), 5);
	write_str(&r, "56789"); /* wraps: buf holds 89234567 */
	assert_int_equal(r.written, 10);
	assert_int_equal(ring_oldest(&r), 2);
	assert_int_equal(read_all(&r, &pos, out, sizeof(out), &missed), 5);
	assert_string_equal(out, "56789");
	assert_int_equal(missed, 0);
	/* a new reader starts at the oldest byte and learns what it missed */
	pos = 0;
	assert_int_equal(read_all(&r, &pos, out, sizeof(out), &missed), 8);
	assert_string_equal(out, "23456789");
	assert_int_equal(missed, 2);
	assert_int_equal(pos, 10);
}

static void test_reader_overtaken(void **state)
{
	u8 buf[4];
	char out[16];
	struct ring r;
	u64 pos = 0, missed = 0;

	(void)state;
	ring_init(&r, buf, sizeof(buf));
	write_str(&r, "ab");
	assert_int_equal(read_all(&r, &pos, out, sizeof(out), &missed), 2);
	write_str(&r, "cdefghij"); /* the reader was at 2; 2..5 are gone */
	assert_int_equal(ring_oldest(&r), 6);
	assert_int_equal(read_all(&r, &pos, out, sizeof(out), &missed), 4);
	assert_string_equal(out, "ghij");
	assert_int_equal(missed, 4);
	/* reading nothing still moves a lagging position and reports the loss */
	pos = 1;
	assert_int_equal(ring_read(&r, &pos, out, 0, &missed), 0);
	assert_int_equal(missed, 5);
	assert_int_equal(pos, 6);
}

static void test_write_larger_than_ring(void **state)
{
	u8 buf[5];
	char out[16];
	struct ring r;
	u64 pos = 0, missed = 0;

	(void)state;
	ring_init(&r, buf, sizeof(buf));
	write_str(&r, "xy");
	write_str(&r, "0123456789abc"); /* 15 written; the last 5 survive */
	assert_int_equal(r.written, 15);
	assert_int_equal(ring_oldest(&r), 10);
	assert_int_equal(read_all(&r, &pos, out, sizeof(out), &missed), 5);
	assert_string_equal(out, "89abc");
	assert_int_equal(missed, 10);
}

static void test_exactly_full(void **state)
{
	u8 buf[4];
	char out[8];
	struct ring r;
	u64 pos = 0, missed = 1;

	(void)state;
	ring_init(&r, buf, sizeof(buf));
	write_str(&r, "abcd");
	assert_int_equal(ring_oldest(&r), 0);
	assert_int_equal(read_all(&r, &pos, out, sizeof(out), &missed), 4);
	assert_string_equal(out, "abcd");
	assert_int_equal(missed, 0);
	write_str(&r, "e");
	assert_int_equal(ring_oldest(&r), 1);
	pos = 0;
	assert_int_equal(read_all(&r, &pos, out, sizeof(out), &missed), 4);
	assert_string_equal(out, "bcde");
	assert_int_equal(missed, 1);
}

static void test_size_one(void **state)
{
	u8 buf[1];
	char out[4];
	struct ring r;
	u64 pos = 0, missed = 0;

	(void)state;
	ring_init(&r, buf, sizeof(buf));
	write_str(&r, "abc");
	assert_int_equal(read_all(&r, &pos, out, sizeof(out), &missed), 1);
	assert_string_equal(out, "c");
	assert_int_equal(missed, 2);
}

static void test_empty_write(void **state)
{
	u8 buf[4];
	struct ring r;

	(void)state;
	ring_init(&r, buf, sizeof(buf));
	ring_write(&r, "", 0);
	ring_write(&r, NULL, 0);
	assert_int_equal(r.written, 0);
}

static void test_position_from_the_future(void **state)
{
	u8 buf[4];
	char out[8];
	struct ring r;
	u64 pos = 100, missed = 1;

	(void)state;
	ring_init(&r, buf, sizeof(buf));
	write_str(&r, "ab");
	assert_int_equal(ring_read(&r, &pos, out, sizeof(out), &missed), 0);
	assert_int_equal(pos, 2);
	assert_int_equal(missed, 0);
}

static void test_never_touches_outside_buffer(void **state)
{
	u8 mem[3 + 7 + 3];
	struct ring r;
	u8 data[20];

	(void)state;
	memset(mem, 0xee, sizeof(mem));
	for (unsigned int i = 0; i < sizeof(data); i++)
		data[i] = (u8)i;
	ring_init(&r, mem + 3, 7);
	for (unsigned int len = 0; len <= sizeof(data); len++)
		ring_write(&r, data, len);
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(mem[i], 0xee);
		assert_int_equal(mem[sizeof(mem) - 1 - i], 0xee);
	}
}

/* Random writes and reads of random sizes, against a plain array of everything written. */
static void test_random_against_model(void **state)
{
	enum { SIZE = 37, TOTAL = 20000 };
	static u8 all[TOTAL + 256];
	u8 buf[SIZE], out[64];
	struct ring r;
	u64 seed = 12345, pos = 0, written = 0, missed;

	(void)state;
	ring_init(&r, buf, SIZE);
	while (written < TOTAL) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		u64 wlen = (seed >> 33) % 90, rlen = (seed >> 13) % 64;
		u64 expect_from = pos;

		for (u64 i = 0; i < wlen; i++)
			all[written + i] = (u8)((seed >> 7) + i * 31);
		ring_write(&r, all + written, wlen);
		written += wlen;
		assert_int_equal(r.written, written);
		assert_int_equal(ring_oldest(&r), written > SIZE ? written - SIZE : 0);

		u64 n = ring_read(&r, &pos, out, rlen, &missed);

		if (expect_from < ring_oldest(&r)) {
			assert_int_equal(missed, ring_oldest(&r) - expect_from);
			expect_from = ring_oldest(&r);
		} else {
			assert_int_equal(missed, 0);
		}
		assert_int_equal(n, MIN(rlen, written - expect_from));
		assert_memory_equal(out, all + expect_from, n);
		assert_int_equal(pos, expect_from + n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_write_then_read),
		cmocka_unit_test(test_two_readers_keep_own_positions),
		cmocka_unit_test(test_short_reads),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_reader_overtaken),
		cmocka_unit_test(test_write_larger_than_ring),
		cmocka_unit_test(test_exactly_full),
		cmocka_unit_test(test_size_one),
		cmocka_unit_test(test_empty_write),
		cmocka_unit_test(test_position_from_the_future),
		cmocka_unit_test(test_never_touches_outside_buffer),
		cmocka_unit_test(test_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
