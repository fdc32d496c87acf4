/* A printf subset for the hypervisor's log and console. No floating point (the hypervisor is
 * built with -mgeneral-regs-only). */
#include "lib/format.h"
#include "lib/string.h"

struct out {
	char *buf;
	size_t size;
	size_t len; /* characters the full output has, written or not */
};

struct spec {
	bool left, zero, plus, space, alt;
	int width;
	int precision; /* -1: none */
	int length;    /* 0, 'H' (hh), 'h', 'l', 'L' (ll), 'z' */
	char conv;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_repeat(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

static void put_str(struct out *o, const char *s, size_t n)
{
	while (n--)
		put(o, *s++);
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .precision = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else if (*f == '+')
			sp->plus = true;
		else if (*f == ' ')
			sp->space = true;
		else if (*f == '#')
			sp->alt = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->left = true;
			sp->width = -sp->width;
		}
		f++;
	} else {
		while (*f >= '0' && *f <= '9')
			sp->width = sp->width * 10 + (*f++ - '0');
	}
	if (*f == '.') {
		f++;
		sp->precision = 0;
		if (*f == '*') {
			sp->precision = va_arg(*ap, int);
			if (sp->precision < 0)
				sp->precision = -1;
			f++;
		} else {
			while (*f >= '0' && *f <= '9')
				sp->precision = sp->precision * 10 + (*f++ - '0');
		}
	}
	if (f[0] == 'h' && f[1] == 'h') {
		sp->length = 'H';
		f += 2;
	} else if (f[0] == 'l' && f[1] == 'l') {
		sp->length = 'L';
		f += 2;
	} else if (*f == 'h' || *f == 'l' || *f == 'z') {
		sp->length = *f++;
	}
	sp->conv = *f;
	return *f ? f + 1 : f;
}

static u64 fetch_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 'H': return (u8)va_arg(*ap, unsigned int);
	case 'h': return (u16)va_arg(*ap, unsigned int);
	case 'l': return va_arg(*ap, unsigned long);
	case 'L': return va_arg(*ap, unsigned long long);
	case 'z': return va_arg(*ap, size_t);
	default: return va_arg(*ap, unsigned int);
	}
}

static s64 fetch_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 'H': return (s8)va_arg(*ap, int);
	case 'h': return (s16)va_arg(*ap, int);
	case 'l': return va_arg(*ap, long);
	case 'L': return va_arg(*ap, long long);
	case 'z': return (s64)va_arg(*ap, size_t);
	default: return va_arg(*ap, int);
	}
}

/* Emits one integer: sign/prefix, precision zeros, digits, with width padding. */
static void put_number(struct out *o, const struct spec *sp, u64 v, bool negative, unsigned base)
{
	const char *digits = sp->conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;
	const char *prefix = "";

	while (v) {
		tmp[n++] = digits[v % base];
		v /= base;
	}
	if (n == 0 && sp->precision != 0)
		tmp[n++] = '0';

	if (negative)
		prefix = "-";
	else if (sp->plus && (sp->conv == 'd' || sp->conv == 'i'))
		prefix = "+";
	else if (sp->space && (sp->conv == 'd' || sp->conv == 'i'))
		prefix = " ";
	else if (sp->alt && base == 16 && n && !(n == 1 && tmp[0] == '0'))
		prefix = sp->conv == 'X' ? "0X" : "0x";
	else if (sp->conv == 'p')
		prefix = "0x";
	else if (sp->alt && base == 8 && sp->precision <= n && (n == 0 || tmp[n - 1] != '0'))
		prefix = "0";

	int plen = (int)strlen(prefix);
	int zeros = sp->precision > n ? sp->precision - n : 0;
	int pad = sp->width - plen - zeros - n;

	if (sp->zero && !sp->left && sp->precision < 0) {
		zeros += pad > 0 ? pad : 0;
		pad = 0;
	}
	if (!sp->left)
		put_repeat(o, ' ', pad);
	put_str(o, prefix, (size_t)plen);
	put_repeat(o, '0', zeros);
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		put_repeat(o, ' ', pad);
}

static void put_string(struct out *o, const struct spec *sp, const char *s)
{
	if (!s)
		s = "(null)";
	size_t n = sp->precision >= 0 ? strnlen(s, (size_t)sp->precision) : strlen(s);
	int pad = sp->width - (int)n;

	if (!sp->left)
		put_repeat(o, ' ', pad);
	put_str(o, s, n);
	if (sp->left)
		put_repeat(o, ' ', pad);
}

static void put_conversion(struct out *o, const struct spec *sp, va_list *ap)
{
	switch (sp->conv) {
	case 'd':
	case 'i': {
		s64 v = fetch_signed(sp, ap);
		u64 mag = v < 0 ? (u64)0 - (u64)v : (u64)v;

		put_number(o, sp, mag, v < 0, 10);
		break;
	}
	case 'u':
		put_number(o, sp, fetch_unsigned(sp, ap), false, 10);
		break;
	case 'x':
	case 'X':
		put_number(o, sp, fetch_unsigned(sp, ap), false, 16);
		break;
	case 'o':
		put_number(o, sp, fetch_unsigned(sp, ap), false, 8);
		break;
	case 'p':
		put_number(o, sp, (u64)(uintptr_t)va_arg(*ap, void *), false, 16);
		break;
	case 's':
		put_string(o, sp, va_arg(*ap, const char *));
		break;
	case 'c': {
		char c = (char)va_arg(*ap, int);
		int pad = sp->width - 1;

		if (!sp->left)
			put_repeat(o, ' ', pad);
		put(o, c);
		if (sp->left)
			put_repeat(o, ' ', pad);
		break;
	}
	case '%':
		put(o, '%');
		break;
	default: /* unknown conversion: show it rather than guess at the arguments */
		put(o, '%');
		if (sp->conv)
			put(o, sp->conv);
		break;
	}
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { .buf = buf, .size = size, .len = 0 };
	struct spec sp;
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &sp, &args);
		put_conversion(&o, &sp, &args);
	}
	va_end(args);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
