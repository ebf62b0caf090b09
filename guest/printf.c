/*
 * printf.c — the printf family.  One formatter writes into a sink: a
 * caller's buffer (snprintf) or a stack buffer flushed to the console when
 * full and at the end (printf: one hypercall per call for short output).
 */
#include "guest/kxguest.h"

#define CONSOLE_BUF 512

struct sink {
	char *buf;
	size_t cap;   /* bytes buf can hold (snprintf: size - 1, for the NUL) */
	size_t used;  /* bytes in buf */
	size_t total; /* bytes produced, written or not */
	int console;  /* flush to the console instead of dropping */
};

static void flush(struct sink *s)
{
	if (s->console && s->used > 0)
		kx_console_write(s->buf, s->used);
	s->used = 0;
}

static void put(struct sink *s, char c)
{
	if (s->used == s->cap && s->console)
		flush(s);
	if (s->used < s->cap)
		s->buf[s->used++] = c;
	s->total++;
}

static void put_repeat(struct sink *s, char c, int n)
{
	while (n-- > 0)
		put(s, c);
}

struct spec {
	int left;  /* '-' */
	int zero;  /* '0' */
	char sign; /* '+' or ' ' for signed conversions, else 0 */
	int width;
	int precision; /* -1: none */
};

/* Body (digits or string) with sign/prefix, padded to the width. */
static void put_field(struct sink *s, const struct spec *sp, const char *prefix, const char *body,
		      int len, int zeros)
{
	int plen = (int)strlen(prefix), pad = sp->width - plen - zeros - len;

	if (!sp->left && !sp->zero)
		put_repeat(s, ' ', pad);
	for (int i = 0; i < plen; i++)
		put(s, prefix[i]);
	if (!sp->left && sp->zero)
		put_repeat(s, '0', pad);
	put_repeat(s, '0', zeros);
	for (int i = 0; i < len; i++)
		put(s, body[i]);
	if (sp->left)
		put_repeat(s, ' ', pad);
}

static void put_number(struct sink *s, const struct spec *sp, unsigned long long v, int negative,
		       unsigned base, int upper, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24], *end = tmp + sizeof(tmp), *p = end;
	char pre[4];
	int zeros = 0, n = 0;

	if (v == 0 && sp->precision != 0)
		*--p = '0';
	while (v != 0) {
		*--p = digits[v % base];
		v /= base;
	}
	if (sp->precision > end - p)
		zeros = sp->precision - (int)(end - p);
	if (negative)
		pre[n++] = '-';
	else if (sp->sign)
		pre[n++] = sp->sign;
	for (; *prefix != '\0' && n < 3; prefix++)
		pre[n++] = *prefix;
	pre[n] = '\0';
	struct spec field = *sp;
	if (sp->precision >= 0)
		field.zero = 0; /* C: a precision turns off the 0 flag */
	put_field(s, &field, pre, p, (int)(end - p), zeros);
}

static int parse_int(const char **fmt)
{
	int v = 0;

	while (**fmt >= '0' && **fmt <= '9') {
		if (v < 100000)
			v = v * 10 + (**fmt - '0');
		(*fmt)++;
	}
	return v;
}

/* Length modifiers, as the number of 'l's (z, j, t count as l). */
static int parse_length(const char **fmt)
{
	int len = 0;

	for (;; (*fmt)++) {
		switch (**fmt) {
		case 'h':
			len--;
			continue;
		case 'l':
			len++;
			continue;
		case 'z':
		case 'j':
		case 't':
			len = 1;
			continue;
		}
		return len;
	}
}

static unsigned long long arg_unsigned(va_list *ap, int len)
{
	if (len >= 2)
		return va_arg(*ap, unsigned long long);
	if (len == 1)
		return va_arg(*ap, unsigned long);
	unsigned int v = va_arg(*ap, unsigned int);
	return len == -1 ? (unsigned short)v : len <= -2 ? (unsigned char)v : v;
}

static long long arg_signed(va_list *ap, int len)
{
	if (len >= 2)
		return va_arg(*ap, long long);
	if (len == 1)
		return va_arg(*ap, long);
	int v = va_arg(*ap, int);
	return len == -1 ? (short)v : len <= -2 ? (signed char)v : v;
}

static void format(struct sink *s, const char *fmt, va_list ap_in)
{
	va_list ap;

	va_copy(ap, ap_in);
	for (; *fmt != '\0'; fmt++) {
		struct spec sp = {.precision = -1};
		int len;

		if (*fmt != '%') {
			put(s, *fmt);
			continue;
		}
		for (fmt++;; fmt++) {
			if (*fmt == '-')
				sp.left = 1;
			else if (*fmt == '0')
				sp.zero = 1;
			else if (*fmt == '+' || (*fmt == ' ' && sp.sign != '+'))
				sp.sign = *fmt;
			else
				break;
		}
		if (*fmt == '*') {
			sp.width = va_arg(ap, int);
			if (sp.width < 0) {
				sp.left = 1;
				sp.width = -sp.width;
			}
			fmt++;
		} else {
			sp.width = parse_int(&fmt);
		}
		if (*fmt == '.') {
			fmt++;
			if (*fmt == '*') {
				sp.precision = va_arg(ap, int);
				fmt++;
			} else {
				sp.precision = parse_int(&fmt);
			}
		}
		len = parse_length(&fmt);
		switch (*fmt) {
		case 'd':
		case 'i': {
			long long v = arg_signed(&ap, len);
			unsigned long long mag =
				v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
			put_number(s, &sp, mag, v < 0, 10, 0, "");
			break;
		}
		case 'u':
			sp.sign = 0;
			put_number(s, &sp, arg_unsigned(&ap, len), 0, 10, 0, "");
			break;
		case 'x':
		case 'X':
			sp.sign = 0;
			put_number(s, &sp, arg_unsigned(&ap, len), 0, 16, *fmt == 'X', "");
			break;
		case 'o':
			sp.sign = 0;
			put_number(s, &sp, arg_unsigned(&ap, len), 0, 8, 0, "");
			break;
		case 'p':
			sp.sign = 0;
			put_number(s, &sp, (uintptr_t)va_arg(ap, void *), 0, 16, 0, "0x");
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			sp.zero = 0;
			put_field(s, &sp, "", &c, 1, 0);
			break;
		}
		case 's': {
			const char *str = va_arg(ap, const char *);
			size_t n;
			if (str == NULL)
				str = "(null)";
			n = sp.precision >= 0 ? strnlen(str, (size_t)sp.precision) : strlen(str);
			sp.zero = 0;
			put_field(s, &sp, "", str, (int)n, 0);
			break;
		}
		case '%':
			put(s, '%');
			break;
		case '\0':
			fmt--; /* a lone '%' at the end */
			break;
		default:
			put(s, '%');
			put(s, *fmt);
			break;
		}
	}
	va_end(ap);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = {.buf = buf, .cap = size > 0 ? size - 1 : 0};

	format(&s, fmt, ap);
	if (size > 0)
		buf[s.used] = '\0';
	return s.total > 0x7fffffff ? -1 : (int)s.total;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int vprintf(const char *fmt, va_list ap)
{
	char buf[CONSOLE_BUF];
	struct sink s = {.buf = buf, .cap = sizeof(buf), .console = 1};

	format(&s, fmt, ap);
	flush(&s);
	return s.total > 0x7fffffff ? -1 : (int)s.total;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	return printf("%s\n", s);
}

int putchar(int c)
{
	char ch = (char)c;

	return kx_console_write(&ch, 1) == 1 ? (unsigned char)ch : -1;
}
