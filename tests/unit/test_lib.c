/* Unit tests for lib/: format.c against the host's printf family, string.c (built as lib_*
 * through rename.h) against the host's string functions and fixed expectations, error.c. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "types.h"
#include "lib/error.h"
#include "lib/format.h"

/* lib/string.c under the names tests/unit/rename.h gives it */
void *lib_memcpy(void *dst, const void *src, size_t n);
void *lib_memmove(void *dst, const void *src, size_t n);
void *lib_memset(void *dst, int c, size_t n);
int lib_memcmp(const void *a, const void *b, size_t n);
size_t lib_strlen(const char *s);
size_t lib_strnlen(const char *s, size_t max);
int lib_strcmp(const char *a, const char *b);
int lib_strncmp(const char *a, const char *b, size_t n);
char *lib_strchr(const char *s, int c);
size_t lib_strlcpy(char *dst, const char *src, size_t size);
void *lib_memchr(const void *s, int c, size_t n);

static u64 rng_state;

static u64 rng(void)
{
	u64 z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/* ---------------------------------------------------------------------------------------- */
/* format: comparison with the host */

#define OUT_MAX 1200

static unsigned long checks, mismatches;

static void report(const char *fmt, const char *want, int wn, const char *got, int gn)
{
	if (++mismatches <= 25)
		print_error("format \"%s\": host \"%s\" (%d), fmt \"%s\" (%d)\n", fmt, want, wn, got,
			    gn);
}

/* Formats with the host's vsnprintf and with fmt_vsnprintf into large buffers and compares
 * the text, the terminator and the return value. */
static void PRINTF_LIKE(1, 2) cmp(const char *fmt, ...)
{
	static char want[OUT_MAX], got[OUT_MAX];
	va_list ap, ap2;
	int wn, gn;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	wn = vsnprintf(want, sizeof(want), fmt, ap);
	gn = fmt_vsnprintf(got, sizeof(got), fmt, ap2);
	va_end(ap2);
	va_end(ap);
	checks++;
	assert_true(wn >= 0 && wn < OUT_MAX);
	if (wn != gn || memcmp(want, got, (size_t)wn + 1) != 0)
		report(fmt, want, wn, got, gn);
}

/* Like cmp, but at every buffer size from 0 to past the full length: same return value, same
 * bytes, terminated, and nothing written at or after buf[size]. */
static void PRINTF_LIKE(1, 2) cmp_sizes(const char *fmt, ...)
{
	char want[300], got[300];
	va_list ap, ap2;
	int full;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	full = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	assert_true(full >= 0 && full + 3 < (int)sizeof(want));
	for (size_t size = 0; size <= (size_t)full + 2; size++) {
		int wn, gn;

		memset(want, 0x5A, sizeof(want));
		memset(got, 0x5A, sizeof(got));
		va_copy(ap2, ap);
		wn = vsnprintf(want, size, fmt, ap2);
		va_end(ap2);
		va_copy(ap2, ap);
		gn = fmt_vsnprintf(got, size, fmt, ap2);
		va_end(ap2);
		checks++;
		assert_int_equal(wn, full);
		if (gn != full || memcmp(want, got, sizeof(got)) != 0) {
			report(fmt, want, wn, got, gn);
			print_error("  at size %zu\n", size);
		}
		if (size)
			assert_int_equal(got[size - 1 < (size_t)full ? size - 1 : (size_t)full], '\0');
		for (size_t i = size; i < sizeof(got); i++)
			assert_int_equal((unsigned char)got[i], 0x5A);
	}
	/* size 0 with no buffer at all */
	va_copy(ap2, ap);
	assert_int_equal(fmt_vsnprintf(NULL, 0, fmt, ap2), full);
	va_end(ap2);
	va_end(ap);
}

static void finish(void)
{
	if (mismatches)
		fail_msg("%lu of %lu comparisons differ", mismatches, checks);
	print_message("    %lu comparisons\n", checks);
	checks = mismatches = 0;
}

static const char *const int_flags[] = {
	"", "-", "0", "+", " ", "#", "-0", "-+", "- ", "-#", "0+", "0 ", "0#", "+ ", "+#", " #",
	"-0+", "-0 ", "-0#", "-+ ", "-+#", "- #", "0+ ", "0+#", "0 #", "+ #", "-0+ ", "-0+#",
	"-0 #", "-+ #", "0+ #", "-0+ #",
};
static const char *const widths[] = { "", "1", "6", "23", "*" };
static const char *const precisions[] = { "", ".", ".0", ".1", ".4", ".23", ".*" };
static const int star_widths[] = { 9, -9, 0, 30 };
static const int star_precisions[] = { 5, 0, -1, 25 };

static const u64 int_values[] = {
	0, 1, 2, 7, 8, 9, 10, 15, 16, 42, 100, 127, 128, 255, 256, 1000, 4095, 32767, 32768,
	65535, 65536, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x100000000ULL, 0xDEADBEEFCAFEULL,
	0x123456789ABCDEF0ULL, 0x7FFFFFFFFFFFFFFFULL, 0x8000000000000000ULL,
	0xFFFFFFFFFFFFFFFFULL, (u64)-2, (u64)-10, (u64)-128, (u64)-129, (u64)-32768,
	(u64)-1000000, (u64)-4294967296LL,
};

/* Calls cmp with the '*' arguments the format needs, then the value as type T. */
#define CMP_STAR(f, sw, sp, w, p, T, v)                                                 \
	do {                                                                            \
		if ((sw) && (sp))                                                       \
			cmp((f), (w), (p), (T)(v));                                     \
		else if (sw)                                                            \
			cmp((f), (w), (T)(v));                                          \
		else if (sp)                                                            \
			cmp((f), (p), (T)(v));                                          \
		else                                                                    \
			cmp((f), (T)(v));                                               \
	} while (0)

static void test_format_integers(void **state)
{
	(void)state;
	static const char convs[] = "diuxXo";
	static const char *const lengths[] = { "hh", "h", "", "l", "ll", "z" };
	char f[32];
	unsigned int n = 0;

	for (const char *c = convs; *c; c++) {
		bool is_signed = *c == 'd' || *c == 'i';

		for (unsigned int li = 0; li < ARRAY_SIZE(lengths); li++)
			for (unsigned int fi = 0; fi < ARRAY_SIZE(int_flags); fi++) {
				/* '#' is undefined for d, i and u */
				if (*c == 'd' || *c == 'i' || *c == 'u')
					if (strchr(int_flags[fi], '#'))
						continue;
				for (unsigned int wi = 0; wi < ARRAY_SIZE(widths); wi++)
					for (unsigned int pi = 0; pi < ARRAY_SIZE(precisions); pi++) {
						bool sw = widths[wi][0] == '*';
						bool sp = strchr(precisions[pi], '*') != NULL;
						int w = star_widths[n % ARRAY_SIZE(star_widths)];
						int p = star_precisions[(n / 4) % ARRAY_SIZE(star_precisions)];
						const char *len = lengths[li];

						n++;
						snprintf(f, sizeof(f), "<%%%s%s%s%s%c>", int_flags[fi],
							 widths[wi], precisions[pi], len, *c);
						for (unsigned int vi = 0; vi < ARRAY_SIZE(int_values); vi++) {
							u64 v = int_values[vi];

							if (!strcmp(len, "l") && is_signed)
								CMP_STAR(f, sw, sp, w, p, long, v);
							else if (!strcmp(len, "l"))
								CMP_STAR(f, sw, sp, w, p, unsigned long, v);
							else if (!strcmp(len, "ll") && is_signed)
								CMP_STAR(f, sw, sp, w, p, long long, v);
							else if (!strcmp(len, "ll"))
								CMP_STAR(f, sw, sp, w, p, unsigned long long, v);
							else if (!strcmp(len, "z"))
								CMP_STAR(f, sw, sp, w, p, size_t, v);
							else if (is_signed)
								CMP_STAR(f, sw, sp, w, p, int, (s64)v);
							else
								CMP_STAR(f, sw, sp, w, p, unsigned int, v);
						}
					}
			}
	}
	finish();
}

static void test_format_strings_chars(void **state)
{
	(void)state;
	static const char *const flags[] = { "", "-" };
	static const char *const svals[] = { "", "a", "hello", "Bulkhead hypervisor",
					     "\xe9t\xe9", "tab\there" };
	static const int cvals[] = { 'a', ' ', '~', 0xE9, 0x141, '\n', 0 };
	char f[32];
	unsigned int n = 0;

	for (unsigned int fi = 0; fi < ARRAY_SIZE(flags); fi++)
		for (unsigned int wi = 0; wi < ARRAY_SIZE(widths); wi++) {
			bool sw = widths[wi][0] == '*';
			int w = star_widths[n++ % ARRAY_SIZE(star_widths)];

			for (unsigned int pi = 0; pi < ARRAY_SIZE(precisions); pi++) {
				bool sp = strchr(precisions[pi], '*') != NULL;
				int p = star_precisions[n++ % ARRAY_SIZE(star_precisions)];

				snprintf(f, sizeof(f), "[%%%s%s%ss]", flags[fi], widths[wi],
					 precisions[pi]);
				for (unsigned int vi = 0; vi < ARRAY_SIZE(svals); vi++)
					CMP_STAR(f, sw, sp, w, p, const char *, svals[vi]);
			}
			snprintf(f, sizeof(f), "[%%%s%sc]", flags[fi], widths[wi]);
			for (unsigned int vi = 0; vi < ARRAY_SIZE(cvals); vi++)
				CMP_STAR(f, sw, false, w, 0, int, cvals[vi]);
		}
	finish();
}

static void test_format_pointers(void **state)
{
	(void)state;
	static const char *const flags[] = { "", "-" };
	static const char *const pwidths[] = { "", "4", "25", "*" };
	int local;
	void *ptrs[] = { (void *)1, (void *)0xDEADBEEF, &local, (void *)UINTPTR_MAX,
			 (void *)0xFFFF800000000000ULL };
	char f[32];

	for (unsigned int fi = 0; fi < ARRAY_SIZE(flags); fi++)
		for (unsigned int wi = 0; wi < ARRAY_SIZE(pwidths); wi++) {
			snprintf(f, sizeof(f), "(%%%s%sp)", flags[fi], pwidths[wi]);
			for (unsigned int i = 0; i < ARRAY_SIZE(ptrs); i++) {
				if (pwidths[wi][0] == '*')
					cmp(f, 20, ptrs[i]);
				else
					cmp(f, ptrs[i]);
			}
		}
	finish();
}

static void test_format_mixed(void **state)
{
	(void)state;

	const char *empty = ""; /* not a literal: keeps -Wformat-zero-length quiet */

	cmp(empty, 0); /* an argument too: only a literal format without one is suspicious */
	cmp("no conversions at all");
	cmp("%%");
	cmp("100%% sure, %d%%", 50);
	cmp("x=%d y=%s z=%#x %c%%", -12, "str", 0xBEEFU, '!');
	cmp("%5d|%-5d|%05d|%+d|% d", 42, 42, 42, 42, 42);
	cmp("%s%s%s", "a", "", "bc");
	cmp("%c%c%c", 'x', 'y', 'z');
	cmp("%llu %lld %llx", ULLONG_MAX, LLONG_MIN, 0x1234567890ABCDEFULL);
	cmp("%ld %lu %lx", LONG_MIN, ULONG_MAX, 0xFUL);
	cmp("%hhd %hhu %hd %hu", (signed char)-56, (unsigned char)200, (short)-25536,
	    (unsigned short)40000);
	cmp("%zu %zx %zd", (size_t)12345, (size_t)0xABC, (size_t)-5);
	cmp("%d %i", INT_MIN, INT_MAX);
	cmp("%u %o %X", UINT_MAX, UINT_MAX, UINT_MAX);
	cmp("[%*d] [%-*d] [%.*d] [%*.*d]", 6, 1, 6, 1, 3, 1, 8, 4, -1);
	cmp("[%*s] [%.*s]", -10, "neg", -3, "negative precision");
	cmp("%016llx:%08x", 0xFFFFFFFFFFFFULL, 0x1U);
	cmp("%#o %#o %#.0o %#.3o %#5o %#-5o| %#05o", 0U, 8U, 0U, 8U, 8U, 8U, 8U);
	cmp("%#x %#X %#.0x %#5.0x| %#010x %#-10x|", 0U, 0xABU, 0U, 0U, 0x1FU, 0x1FU);
	cmp("%.0d|%5.0d|%+.0d|% .0d|%-3.0d|", 0, 0, 0, 0, 0);
	cmp("%300d|", 7);
	cmp("%-300s|", "left");
	cmp("%.300d|", -7);
	cmp("%*d|", 1000, 1);
	finish();
}

static void test_format_truncation(void **state)
{
	(void)state;

	const char *empty = "";

	cmp_sizes(empty, 0);
	cmp_sizes("a");
	cmp_sizes("hello, world");
	cmp_sizes("%d", -123456);
	cmp_sizes("%s|%s", "left", "right");
	cmp_sizes("%-12s|%8.3x|%+5d|%05d", "pad", 0xABCU, 7, -3);
	cmp_sizes("%#llx %llu", 0xFEDCBA9876543210ULL, 18446744073709551615ULL);
	cmp_sizes("%c%c%c%c", 'a', 0, 'b', 0);
	cmp_sizes("%%%%%d%%", 1);
	cmp_sizes("%100d", 42);
	finish();

	/* the return value is the full length, even far past the buffer */
	char small[8];
	assert_int_equal(fmt_snprintf(small, sizeof(small), "%*d", 1000, 5), 1000);
	assert_string_equal(small, "       ");
	assert_int_equal(fmt_snprintf(small, sizeof(small), "%s", "0123456789"), 10);
	assert_string_equal(small, "0123456");
	assert_int_equal(fmt_snprintf(small, 1, "%s", "0123456789"), 10);
	assert_string_equal(small, "");
	small[0] = 'X';
	assert_int_equal(fmt_snprintf(small, 0, "%s", "abc"), 3);
	assert_int_equal(small[0], 'X');
	assert_int_equal(fmt_snprintf(NULL, 0, "%d-%d", 10, 20), 5);
}

static void test_format_null_and_odd(void **state)
{
	(void)state;
	char buf[64];
	const char *volatile nul = NULL; /* keeps the compiler from seeing a literal NULL */

	assert_int_equal(fmt_snprintf(buf, sizeof(buf), "%s", nul), 6);
	assert_string_equal(buf, "(null)");
	assert_int_equal(fmt_snprintf(buf, sizeof(buf), "[%10s]", nul), 12);
	assert_string_equal(buf, "[    (null)]");
	assert_int_equal(fmt_snprintf(buf, sizeof(buf), "[%-8s]", nul), 10);
	assert_string_equal(buf, "[(null)  ]");
	/* the host prints the same for these */
	cmp("%s|%10s|%-8s|", nul, nul, nul);
	finish();

	/* %p of NULL: glibc says "(nil)"; lib/ prints it as a number */
	int n = fmt_snprintf(buf, sizeof(buf), "%p", (void *)0);
	assert_int_equal(n, (int)strlen(buf));
	assert_true(!strcmp(buf, "0x0") || !strcmp(buf, "(nil)"));

	/* conversions outside the subset, a lone '%' at the end: output stays consistent with
	 * the return value and is terminated */
	static const char *const odd[] = { "%", "abc%", "%q", "x%yz", "%5", "%-", "%ll", "%.", "%hh" };
	for (unsigned int i = 0; i < ARRAY_SIZE(odd); i++) {
		memset(buf, 0x5A, sizeof(buf));
		n = fmt_snprintf(buf, sizeof(buf), odd[i], 0);
		assert_true(n >= 0 && n < (int)sizeof(buf));
		assert_int_equal((int)strlen(buf), n);
	}
	const char *unknown = "a%qb", *trailing = "end%";
	fmt_snprintf(buf, sizeof(buf), unknown, 0);
	assert_string_equal(buf, "a%qb");
	fmt_snprintf(buf, sizeof(buf), trailing, 0);
	assert_string_equal(buf, "end%");
}

/* fmt_vsnprintf leaves the caller's va_list usable through va_copy, and consumes exactly the
 * arguments its conversions name. */
static int PRINTF_LIKE(3, 4) twice(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap, ap2;
	char other[64];
	int a, b;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	a = fmt_vsnprintf(buf, size, fmt, ap);
	b = fmt_vsnprintf(other, sizeof(other), fmt, ap2);
	va_end(ap2);
	va_end(ap);
	assert_int_equal(a, b);
	assert_string_equal(buf, other);
	return a;
}

static void test_format_vsnprintf(void **state)
{
	(void)state;
	char buf[64];

	assert_int_equal(twice(buf, sizeof(buf), "%d %s %llx %c", 1, "two", 3ULL, '4'), 9);
	assert_string_equal(buf, "1 two 3 4");
	assert_int_equal(twice(buf, sizeof(buf), "%*.*d|%%|%.*s", 5, 3, 7, 2, "abc"), 10);
	assert_string_equal(buf, "  007|%|ab");
}

/* ---------------------------------------------------------------------------------------- */
/* string */

static void test_memcpy_memset(void **state)
{
	(void)state;
	u8 a[64], b[64];

	for (unsigned int i = 0; i < sizeof(a); i++)
		a[i] = (u8)(i * 7 + 1);
	memset(b, 0, sizeof(b));
	assert_ptr_equal(lib_memcpy(b + 3, a, 40), b + 3);
	assert_memory_equal(b + 3, a, 40);
	assert_int_equal(b[2], 0);
	assert_int_equal(b[43], 0);
	assert_ptr_equal(lib_memcpy(b, a, 0), b);

	assert_ptr_equal(lib_memset(b, 0x1FF, 10), b); /* c is converted to unsigned char */
	for (int i = 0; i < 10; i++)
		assert_int_equal(b[i], 0xFF);
	assert_int_equal(b[10], a[7]);
	lib_memset(b + 5, -1, 1);
	assert_int_equal(b[5], 0xFF);
	lib_memset(b, 'z', 0);
	assert_int_equal(b[0], 0xFF);

	/* Every length and misalignment around the word steps: the tail and the neighbours. */
	for (unsigned int off = 0; off < 9; off++) {
		for (unsigned int n = 0; n < 40; n++) {
			memset(b, 0, sizeof(b));
			lib_memset(b + off, 0x5a, n);
			for (unsigned int i = 0; i < sizeof(b); i++)
				assert_int_equal(b[i], i >= off && i < off + n ? 0x5a : 0);
			memset(b, 0, sizeof(b));
			lib_memcpy(b + off, a + 1, n);
			for (unsigned int i = 0; i < sizeof(b); i++)
				assert_int_equal(b[i], i >= off && i < off + n ? a[1 + i - off] : 0);
		}
	}
}

static void test_memmove(void **state)
{
	(void)state;
	char buf[16];

	/* forwards overlap: destination above source */
	strcpy(buf, "0123456789");
	assert_ptr_equal(lib_memmove(buf + 2, buf, 6), buf + 2);
	assert_string_equal(buf, "0101234589");
	/* backwards overlap: destination below source */
	strcpy(buf, "0123456789");
	assert_ptr_equal(lib_memmove(buf, buf + 2, 6), buf);
	assert_string_equal(buf, "2345676789");
	/* same place, zero length, by one */
	strcpy(buf, "abcdef");
	lib_memmove(buf, buf, 6);
	lib_memmove(buf + 1, buf, 0);
	assert_string_equal(buf, "abcdef");
	lib_memmove(buf + 1, buf, 5);
	assert_string_equal(buf, "aabcde");
	lib_memmove(buf, buf + 1, 5);
	assert_string_equal(buf, "abcdee");

	/* random overlapping moves against the host */
	u8 mine[256], host[256];
	rng_state = 7;
	for (unsigned int i = 0; i < sizeof(mine); i++)
		mine[i] = host[i] = (u8)rng();
	for (int round = 0; round < 20000; round++) {
		size_t n = rng() % 129, from = rng() % (sizeof(mine) - n + 1),
		       to = rng() % (sizeof(mine) - n + 1);

		lib_memmove(mine + to, mine + from, n);
		memmove(host + to, host + from, n);
		assert_memory_equal(mine, host, sizeof(mine));
	}
}

static void test_memcmp(void **state)
{
	(void)state;

	assert_int_equal(lib_memcmp("abc", "abc", 3), 0);
	assert_int_equal(lib_memcmp("abc", "abd", 0), 0);
	assert_int_equal(lib_memcmp("abc", "abd", 2), 0);
	assert_true(lib_memcmp("abc", "abd", 3) < 0);
	assert_true(lib_memcmp("abd", "abc", 3) > 0);
	/* bytes compare as unsigned */
	assert_true(lib_memcmp("\x80", "\x01", 1) > 0);
	assert_true(lib_memcmp("\x01", "\xff", 1) < 0);
	/* embedded NULs are ordinary bytes */
	assert_true(lib_memcmp("a\0b", "a\0c", 3) < 0);
	assert_int_equal(lib_memcmp("a\0b", "a\0c", 2), 0);

	u8 x[32], y[32];
	rng_state = 99;
	for (int round = 0; round < 20000; round++) {
		size_t n = rng() % 33;

		for (unsigned int i = 0; i < sizeof(x); i++)
			x[i] = y[i] = (u8)rng();
		if (n && rng() % 4)
			y[rng() % n] = (u8)rng();
		assert_int_equal(sign(lib_memcmp(x, y, n)), sign(memcmp(x, y, n)));
	}
}

static void test_strlen_strnlen(void **state)
{
	(void)state;

	assert_int_equal(lib_strlen(""), 0);
	assert_int_equal(lib_strlen("a"), 1);
	assert_int_equal(lib_strlen("hello\0world"), 5);
	assert_int_equal(lib_strnlen("hello", 0), 0);
	assert_int_equal(lib_strnlen("hello", 3), 3);
	assert_int_equal(lib_strnlen("hello", 5), 5);
	assert_int_equal(lib_strnlen("hello", 6), 5);
	assert_int_equal(lib_strnlen("hello", SIZE_MAX), 5);
	/* strnlen must not read past max: an unterminated buffer */
	char *raw = malloc(4);
	assert_non_null(raw);
	memcpy(raw, "abcd", 4);
	assert_int_equal(lib_strnlen(raw, 4), 4);
	free(raw);
}

static void test_strcmp_strncmp(void **state)
{
	(void)state;

	assert_int_equal(lib_strcmp("", ""), 0);
	assert_int_equal(lib_strcmp("abc", "abc"), 0);
	assert_true(lib_strcmp("abc", "abd") < 0);
	assert_true(lib_strcmp("abd", "abc") > 0);
	assert_true(lib_strcmp("ab", "abc") < 0);
	assert_true(lib_strcmp("abc", "ab") > 0);
	assert_true(lib_strcmp("", "a") < 0);
	assert_true(lib_strcmp("\xe9", "e") > 0); /* unsigned char comparison */
	assert_true(lib_strcmp("e", "\xe9") < 0);

	/* strncmp: the limit */
	assert_int_equal(lib_strncmp("abc", "abd", 0), 0);
	assert_int_equal(lib_strncmp("abc", "xyz", 0), 0);
	assert_int_equal(lib_strncmp("abc", "abd", 2), 0);
	assert_true(lib_strncmp("abc", "abd", 3) < 0);
	assert_true(lib_strncmp("abc", "abd", 100) < 0);
	assert_int_equal(lib_strncmp("ab", "abc", 2), 0);
	assert_true(lib_strncmp("ab", "abc", 3) < 0);
	assert_true(lib_strncmp("abc", "ab", 3) > 0);
	assert_int_equal(lib_strncmp("abc", "abc", SIZE_MAX), 0);
	/* nothing is compared after the terminators */
	assert_int_equal(lib_strncmp("ab\0x", "ab\0y", 4), 0);
	assert_true(lib_strncmp("\x80", "\x7f", 1) > 0);
	/* a limit shorter than unterminated buffers */
	char *a = malloc(3), *b = malloc(3);
	assert_non_null(a);
	assert_non_null(b);
	memcpy(a, "xyz", 3);
	memcpy(b, "xyw", 3);
	assert_int_equal(lib_strncmp(a, b, 2), 0);
	assert_true(lib_strncmp(a, b, 3) > 0);
	free(a);
	free(b);

	/* random short strings over a small alphabet (with a high byte) against the host */
	static const char alpha[] = "ab\xe9";
	rng_state = 1234;
	for (int round = 0; round < 20000; round++) {
		char x[8], y[8];
		size_t lx = rng() % 7, ly = rng() % 7, n = rng() % 9;

		for (size_t i = 0; i < lx; i++)
			x[i] = alpha[rng() % 3];
		for (size_t i = 0; i < ly; i++)
			y[i] = alpha[rng() % 3];
		x[lx] = y[ly] = '\0';
		assert_int_equal(sign(lib_strcmp(x, y)), sign(strcmp(x, y)));
		assert_int_equal(sign(lib_strncmp(x, y, n)), sign(strncmp(x, y, n)));
	}
}

static void test_strchr_memchr(void **state)
{
	(void)state;
	const char *s = "hello, w\xe9rld";

	assert_ptr_equal(lib_strchr(s, 'h'), s);
	assert_ptr_equal(lib_strchr(s, 'l'), s + 2);
	assert_ptr_equal(lib_strchr(s, 'd'), s + 11);
	assert_null(lib_strchr(s, 'z'));
	assert_ptr_equal(lib_strchr(s, '\0'), s + 12); /* the terminator is part of the string */
	assert_ptr_equal(lib_strchr(s, 0xE9), s + 8);  /* c is converted to char */
	assert_ptr_equal(lib_strchr(s, (char)0xE9), s + 8);
	assert_ptr_equal(lib_strchr(s, 0x100 + 'w'), s + 7);
	const char *empty = "";
	assert_ptr_equal(lib_strchr(empty, '\0'), empty);
	assert_null(lib_strchr("", 'a'));

	const char *m = "a\0b\0c";
	assert_ptr_equal(lib_memchr(m, '\0', 5), m + 1);
	assert_ptr_equal(lib_memchr(m, 'c', 5), m + 4);
	assert_null(lib_memchr(m, 'c', 4));
	assert_null(lib_memchr(m, 'a', 0));
	const char *ff = "x\xff";
	assert_ptr_equal(lib_memchr(ff, -1, 2), ff + 1); /* c is converted to unsigned char */
	assert_ptr_equal(lib_memchr(ff, 0x1FF, 2), ff + 1);
}

static void test_strlcpy(void **state)
{
	(void)state;
	char buf[16];

	/* fits */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(lib_strlcpy(buf, "hello", sizeof(buf)), 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(buf[6], 'X'); /* nothing written after the terminator */
	/* exactly fits: size = len + 1 */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(lib_strlcpy(buf, "hello", 6), 5);
	assert_string_equal(buf, "hello");
	/* truncated by one: size = len */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(lib_strlcpy(buf, "hello", 5), 5);
	assert_string_equal(buf, "hell");
	assert_int_equal(buf[5], 'X');
	/* size 1: only the terminator */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(lib_strlcpy(buf, "hello", 1), 5);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'X');
	/* size 0: nothing written, still the source length */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(lib_strlcpy(buf, "hello", 0), 5);
	assert_int_equal(buf[0], 'X');
	assert_int_equal(lib_strlcpy(NULL, "hello", 0), 5);
	/* empty source */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(lib_strlcpy(buf, "", sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* long source into a small buffer: truncation is detectable from the return value */
	const char *longs = "a long string that does not fit";
	assert_int_equal(lib_strlcpy(buf, longs, sizeof(buf)), strlen(longs));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_memory_equal(buf, longs, sizeof(buf) - 1);
	/* every size against the definition */
	for (size_t size = 0; size <= sizeof(buf); size++) {
		memset(buf, 'X', sizeof(buf));
		assert_int_equal(lib_strlcpy(buf, "0123456789", size), 10);
		if (size) {
			size_t n = size - 1 < 10 ? size - 1 : 10;

			assert_memory_equal(buf, "0123456789", n);
			assert_int_equal(buf[n], '\0');
			for (size_t i = n + 1; i < sizeof(buf); i++)
				assert_int_equal(buf[i], 'X');
		}
	}
}

/* ---------------------------------------------------------------------------------------- */
/* error */

static void test_strerror(void **state)
{
	(void)state;
	static const int codes[] = { BH_OK, BH_EINVAL, BH_ENOMEM, BH_ENOENT, BH_ERANGE,
				     BH_ECHECKSUM, BH_EBUSY, BH_ETIMEDOUT, BH_ENOTSUP };

	for (unsigned int i = 0; i < ARRAY_SIZE(codes); i++) {
		const char *s = bh_strerror(codes[i]);

		assert_non_null(s);
		assert_true(strlen(s) > 0);
		for (unsigned int j = 0; j < i; j++)
			assert_string_not_equal(s, bh_strerror(codes[j]));
	}
	assert_non_null(bh_strerror(-1000));
	assert_non_null(bh_strerror(1));
	assert_non_null(bh_strerror(INT_MIN));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_integers),
		cmocka_unit_test(test_format_strings_chars),
		cmocka_unit_test(test_format_pointers),
		cmocka_unit_test(test_format_mixed),
		cmocka_unit_test(test_format_truncation),
		cmocka_unit_test(test_format_null_and_odd),
		cmocka_unit_test(test_format_vsnprintf),
		cmocka_unit_test(test_memcpy_memset),
		cmocka_unit_test(test_memmove),
		cmocka_unit_test(test_memcmp),
		cmocka_unit_test(test_strlen_strnlen),
		cmocka_unit_test(test_strcmp_strncmp),
		cmocka_unit_test(test_strchr_memchr),
		cmocka_unit_test(test_strlcpy),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
