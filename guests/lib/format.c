/* A small printf engine. 64-bit numbers are converted with 32-bit arithmetic only, so 32-bit
 * guests need no libgcc (__udivdi3). */
#include "guest.h"

/* n / 10 with the remainder in *rem, using only 32-bit divisions (each dividend < 2^32). */
static u64 divmod10(u64 n, u32 *rem)
{
	u32 hi = (u32)(n >> 32), lo = (u32)n;
	u32 qhi = hi / 10, r = hi % 10;
	u32 x = (r << 16) | (lo >> 16);
	u32 q1 = x / 10;

	r = x % 10;
	x = (r << 16) | (lo & 0xffff);
	*rem = x % 10;
	return ((u64)qhi << 32) | ((u64)q1 << 16) | (x / 10);
}

/* Digits of v in base 10 or 16, least significant first; returns how many. */
static int to_digits(u64 v, unsigned int base, bool upper, char *out)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;

	do {
		u32 d;

		if (base == 16) {
			d = (u32)(v & 0xf);
			v >>= 4;
		} else {
			v = divmod10(v, &d);
		}
		out[n++] = digits[d];
	} while (v);
	return n;
}

struct out {
	void (*put)(void *ctx, char c);
	void *ctx;
	int count;
};

static void emit(struct out *o, char c)
{
	o->put(o->ctx, c);
	o->count++;
}

static void emit_padded(struct out *o, const char *rev, int n, const char *prefix, bool negative,
			int width, bool left, bool zero)
{
	int plen = (int)strlen(prefix) + (negative ? 1 : 0);
	int pad = width > n + plen ? width - n - plen : 0;

	if (!left && !zero)
		for (; pad > 0; pad--)
			emit(o, ' ');
	if (negative)
		emit(o, '-');
	for (; *prefix; prefix++)
		emit(o, *prefix);
	if (!left && zero)
		for (; pad > 0; pad--)
			emit(o, '0');
	while (n > 0)
		emit(o, rev[--n]);
	for (; pad > 0; pad--)
		emit(o, ' ');
}

int vformat(void (*put)(void *ctx, char c), void *ctx, const char *fmt, va_list ap)
{
	struct out o = { put, ctx, 0 };

	for (; *fmt; fmt++) {
		bool left = false, zero = false, negative = false;
		int width = 0, longs = 0;
		char buf[24];
		const char *prefix = "";
		u64 v;
		int n;

		if (*fmt != '%') {
			emit(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				zero = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		for (;; fmt++) {
			if (*fmt == 'l')
				longs++;
			else if (*fmt == 'z')
				longs = sizeof(size_t) == 8 ? 2 : 0;
			else
				break;
		}
		switch (*fmt) {
		case '\0':
			return o.count;
		case '%':
			emit(&o, '%');
			continue;
		case 'c':
			buf[0] = (char)va_arg(ap, int);
			emit_padded(&o, buf, 1, "", false, width, left, false);
			continue;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int len;

			if (!s)
				s = "(null)";
			len = (int)strlen(s);
			if (!left)
				for (; width > len; width--)
					emit(&o, ' ');
			for (; *s; s++)
				emit(&o, *s);
			for (; width > len; width--)
				emit(&o, ' ');
			continue;
		}
		case 'd':
		case 'i': {
			s64 sv = longs >= 2 ? va_arg(ap, long long)
					    : longs == 1 ? va_arg(ap, long) : va_arg(ap, int);

			negative = sv < 0;
			v = negative ? (u64)0 - (u64)sv : (u64)sv;
			n = to_digits(v, 10, false, buf);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
			v = longs >= 2 ? va_arg(ap, unsigned long long)
				       : longs == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
			n = to_digits(v, *fmt == 'u' ? 10 : 16, *fmt == 'X', buf);
			break;
		case 'p':
			v = (uptr)va_arg(ap, void *);
			prefix = "0x";
			n = to_digits(v, 16, false, buf);
			break;
		default: /* unknown conversion: print it as written */
			emit(&o, '%');
			emit(&o, *fmt);
			continue;
		}
		emit_padded(&o, buf, n, prefix, negative, width, left, zero);
	}
	return o.count;
}

struct buffer {
	char *buf;
	size_t size, len;
};

static void put_buffer(void *ctx, char c)
{
	struct buffer *b = ctx;

	if (b->size && b->len < b->size - 1)
		b->buf[b->len++] = c;
}

int snformat(char *buf, size_t size, const char *fmt, ...)
{
	struct buffer b = { buf, size, 0 };
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vformat(put_buffer, &b, fmt, ap);
	va_end(ap);
	if (size)
		buf[b.len] = '\0';
	return n;
}
