/* The error convention of kxerr.h: messages set, wrapped and cut safely. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/kxerr.h"

int kx_err(struct kx_error *e, int rc, const char *fmt, ...)
{
	char msg[sizeof(e->msg)];
	va_list ap;

	if (e == NULL)
		return rc;
	/* Made apart from e->msg: fmt's arguments may point into it. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(e->msg, msg, sizeof(msg));
	return rc;
}

/* Append s to dst (len bytes used of size), cutting at the end. */
static void append(char *dst, size_t size, size_t *len, const char *s)
{
	size_t n = strnlen(s, size - 1 - *len);

	memcpy(dst + *len, s, n);
	*len += n;
	dst[*len] = '\0';
}

int kx_err_wrap(struct kx_error *e, int rc, const char *fmt, ...)
{
	char context[sizeof(e->msg)], old[sizeof(e->msg)];
	size_t len = 0;
	va_list ap;

	if (e == NULL)
		return rc;
	/* Both halves are made apart from e->msg: fmt's arguments may point
	 * into it. */
	memcpy(old, e->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	e->msg[0] = '\0';
	append(e->msg, sizeof(e->msg), &len, context);
	if (old[0] != '\0') {
		append(e->msg, sizeof(e->msg), &len, ": ");
		append(e->msg, sizeof(e->msg), &len, old);
	}
	return rc;
}

int kx_bad_msg(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && size > 0) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}
