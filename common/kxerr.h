/*
 * kxerr.h — the one error convention of kx's libraries (common/, the lowest
 * module: it includes nothing of kx, and every program links libkxcommon.a).
 *
 * A library function returns 0 or -errno and prints nothing.  When the
 * caller passes a struct kx_error, the function also leaves a one-line
 * reason there, naming what it was looking at ("program header 3: p_filesz
 * 0x2000 > p_memsz 0x1000").  As the error travels up, each layer may put
 * its own context in front with kx_err_wrap ("libfoo.so: " + the reason),
 * the way crun's crun_error_wrap does; only a CLI's main decides what to
 * print and which exit code that means.  The errno says what kind of
 * failure it was (each library's header lists the values it returns); the
 * message says where.
 *
 * Every function here accepts e == NULL (the caller wants no message) and
 * never writes past KX_ERR_MAX: a long message is cut, never overflowed.
 */
#ifndef KX_COMMON_KXERR_H
#define KX_COMMON_KXERR_H

#include <stddef.h>

/* Room for the longest chain kx builds: a caller's prefix, a module name
 * and a loader or signer message that quotes a file name. */
#define KX_ERR_MAX 512

struct kx_error {
	char msg[KX_ERR_MAX]; /* NUL-terminated; "" when no reason was given */
};

/* Set e's message (if e) and return rc: `return kx_err(e, -ENOEXEC, ...)`.
 * The arguments may point into e->msg. */
int kx_err(struct kx_error *e, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put a context in front of e's message, separated by ": " (just the
 * context when the message is empty), and return rc.  The message is cut at
 * the end when the whole does not fit. */
int kx_err_wrap(struct kx_error *e, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The checks of messages from a peer (kxd <-> kxmon) report with a plain
 * buffer the caller sends on or logs: write the reason into why[0..size)
 * and return -EBADMSG, the one answer to a malformed message.
 */
int kx_bad_msg(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* KX_COMMON_KXERR_H */
