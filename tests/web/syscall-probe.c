/*
 * syscall-probe.c — __kx_syscall for a native run of a pVM program's
 * objects (tests/web/module.mk: lighttpd-probe; tests/cli/web.bats).
 *
 * kx's musl sends every system call to __kx_syscall, which in a pVM is the
 * POSIX layer.  Linked instead of the layer, this one makes the call on
 * the build host and writes each number the first time it is used to fd
 * 99, when the test opened it ("nr N" lines), so the test learns which
 * calls the program's own objects and kx's musl really make and checks each
 * against the layer's table — without /dev/kvm.  Signals do not work (kx's
 * musl expects the layer's signal delivery): the test kills the probe.
 */
#define PROBE_FD 99
#define NR_MAX	 512

static unsigned char seen[NR_MAX];

static long raw(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;

	__asm__ __volatile__("syscall"
			     : "=a"(ret)
			     : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			     : "rcx", "r11", "memory");
	return ret;
}

/* "nr N\n" to PROBE_FD (no libc here: this runs before musl is set up). */
static void report(long n)
{
	char line[24] = "nr ", digits[20];
	int len = 3, d = 0;

	do
		digits[d++] = (char)('0' + n % 10);
	while ((n /= 10) > 0);
	while (d > 0)
		line[len++] = digits[--d];
	line[len++] = '\n';
	raw(1 /* write */, PROBE_FD, (long)line, len, 0, 0, 0);
}

long __kx_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	if (n >= 0 && n < NR_MAX && !seen[n]) {
		seen[n] = 1;
		report(n);
	}
	return raw(n, a1, a2, a3, a4, a5, a6);
}
