/*
 * check.h — the libc conformance programs' few helpers.  Each program is
 * built twice, natively (host gcc, glibc, Linux) and with kx-cc (musl, kx's
 * syscall layer, a pVM), and tests/cli/libc.bats runs both and compares
 * their standard output line by line.  Every check also asserts its own
 * expected value, so a behaviour both sides got wrong the same way still
 * fails: "FAIL ..." lines, a non-zero exit.
 *
 * Output must not depend on where it runs: no pids, addresses, times,
 * directory orders or absolute paths.  argv[1] is a scratch directory the
 * program may fill (natively a fresh temporary directory, in the pVM /tmp).
 */
#ifndef KX_LIBC_CHECK_H
#define KX_LIBC_CHECK_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int checks, failures;

/* "ok WHAT" or "FAIL WHAT (errno NAME)". */
static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static const char *errno_name(int e)
{
	static const struct {
		int e;
		const char *name;
	} names[] = {
		{0, "0"}, {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {ESRCH, "ESRCH"},
		{EINTR, "EINTR"}, {EIO, "EIO"}, {EBADF, "EBADF"}, {ECHILD, "ECHILD"},
		{EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"}, {EACCES, "EACCES"}, {EFAULT, "EFAULT"},
		{EBUSY, "EBUSY"}, {EEXIST, "EEXIST"}, {EXDEV, "EXDEV"}, {ENOTDIR, "ENOTDIR"},
		{EISDIR, "EISDIR"}, {EINVAL, "EINVAL"}, {EMFILE, "EMFILE"}, {ENOTTY, "ENOTTY"},
		{EFBIG, "EFBIG"}, {ENOSPC, "ENOSPC"}, {ESPIPE, "ESPIPE"}, {EPIPE, "EPIPE"},
		{ERANGE, "ERANGE"}, {ENAMETOOLONG, "ENAMETOOLONG"}, {ENOSYS, "ENOSYS"},
		{ENOTEMPTY, "ENOTEMPTY"}, {ETIMEDOUT, "ETIMEDOUT"}, {EOVERFLOW, "EOVERFLOW"},
		{ENXIO, "ENXIO"}, {ENODEV, "ENODEV"}, {EDEADLK, "EDEADLK"}, {EROFS, "EROFS"},
	};
	static char other[32];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == e)
			return names[i].name;
	snprintf(other, sizeof(other), "errno %d", e);
	return other;
}

static void check(int ok, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	checks++;
	fputs(ok ? "ok " : "FAIL ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok) {
		failures++;
		printf(" (errno %s)", errno_name(saved));
	}
	putchar('\n');
	errno = saved;
}

/* A call that must fail with errno `want`: "ok WHAT -> NAME". */
#define CHECK_ERR(call, want, what)                                                           \
	do {                                                                                 \
		long rc_ = (long)(call);                                                     \
		int e_ = errno;                                                              \
		check(rc_ == -1 && e_ == (want), "%s -> %s", what, errno_name(want));        \
		if (rc_ != -1 || e_ != (want))                                               \
			printf("  got rc %ld errno %s\n", rc_, errno_name(rc_ == -1 ? e_ : 0)); \
	} while (0)

/* A call that must succeed (not -1): "ok WHAT". */
#define CHECK_OK(call, what)                                                                  \
	do {                                                                                 \
		errno = 0;                                                                   \
		check((long)(call) != -1, "%s", what);                                       \
	} while (0)

static int summary(void)
{
	printf("%d checks, %d failed\n", checks, failures);
	fflush(stdout);
	return failures ? 1 : 0;
}

/* The scratch directory: argv[1], entered. */
static __attribute__((unused)) void enter_scratch(int argc, char **argv)
{
	if (argc < 2 || chdir(argv[1]) != 0) {
		printf("FAIL usage: %s SCRATCH_DIR\n", argv[0]);
		exit(2);
	}
}

#endif /* KX_LIBC_CHECK_H */
