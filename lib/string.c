/* Memory and string functions. The compiler emits calls to memcpy/memset/memmove/memcmp on its
 * own (structure copies, zeroing), so these keep their standard names. */
#include "lib/string.h"

/* The 32-bit test guests build this file too: their word is 4 bytes. */
#ifdef __x86_64__
#define REP_MOVS_WORD "rep movsq"
#define REP_STOS_WORD "rep stosq"
#else
#define REP_MOVS_WORD "rep movsl"
#define REP_STOS_WORD "rep stosl"
#endif

/* memcpy and memset fill whole partitions (hundreds of MiB at a start): REP MOVSQ/STOSQ move
 * eight bytes a step (and CPUs with fast strings whole cache lines), the byte forms finish the
 * tail. The ABI guarantees DF = 0 on entry, so they count upwards. */
void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	size_t words = n / sizeof(long), bytes = n % sizeof(long);

	__asm__ volatile(REP_MOVS_WORD "; mov %3, %2; rep movsb"
			 : "+D"(d), "+S"(src), "+c"(words)
			 : "r"(bytes)
			 : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	if (d == s || n == 0)
		return dst;
	if (d < s) {
		while (n--)
			*d++ = *s++;
	} else {
		d += n;
		s += n;
		while (n--)
			*--d = *--s;
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	size_t words = n / sizeof(long), bytes = n % sizeof(long);
	unsigned long pattern = (unsigned char)c * (~0ul / 0xff); /* the byte in every lane */

	__asm__ volatile(REP_STOS_WORD "; mov %3, %1; rep stosb"
			 : "+D"(d), "+c"(words)
			 : "a"(pattern), "r"(bytes)
			 : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (int)(u8)*a - (int)(u8)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (int)(u8)*a - (int)(u8)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

void *memchr(const void *s, int c, size_t n)
{
	const u8 *p = s;

	for (; n; n--, p++)
		if (*p == (u8)c)
			return (void *)p;
	return NULL;
}
