/*
 * syscall.c — __kx_syscall, where musl's every system call arrives
 * (guest/libc/overlay/arch/x86_64/syscall_arch.h), and the table of what
 * the layer implements, by Linux x86-64 number.
 *
 * A number not in the table returns -ENOSYS and is recorded, once per
 * number (kx_posix_unimplemented), and reported to the monitor the first
 * time (KX_HC_POSIX_REPORT: kxmon's log), so a user learns what their
 * program needed.  At the end of every call
 * the calling thread's deliverable signals are delivered (signal.c).
 */
#include <sys/syscall.h>

#include "guest/posix/kxposix.h"
#include "guest/posix/posix.h"

#define ENTRY(name)	     [SYS_##name] = kx_sys_##name,
#define ENTRY_ALIAS(nr, fn) [SYS_##nr] = kx_sys_##fn,
static kx_sysfn *const table[] = {KX_SYSCALLS(ENTRY, ENTRY_ALIAS)};

/* Numbers that answered ENOSYS at least once (Linux's are below 512). */
static uint64_t unimplemented[KX_POSIX_NR_MAX / 64];

long kx_enosys(long nr)
{
	uint64_t bit = 1ull << (nr % 64);

	if (nr >= 0 && nr < KX_POSIX_NR_MAX && !(unimplemented[nr / 64] & bit)) {
		struct kx_hc_posix_report r = {.nr = (uint64_t)nr};

		unimplemented[nr / 64] |= bit;
		kx_hcall(&r.hdr, KX_HC_POSIX_REPORT);
	}
	return -ENOSYS;
}

int kx_posix_unimplemented(unsigned short *nrs, int max)
{
	int count = 0;

	for (int nr = 0; nr < 512; nr++) {
		if (!(unimplemented[nr / 64] & (1ull << (nr % 64))))
			continue;
		if (count < max)
			nrs[count] = (unsigned short)nr;
		count++;
	}
	return count;
}

int kx_posix_implemented(long nr)
{
	return nr >= 0 && (unsigned long)nr < KX_ARRAY_SIZE(table) && table[nr] != NULL;
}

long __kx_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	const long a[6] = {a1, a2, a3, a4, a5, a6};
	long rc;

	kx_runtime_enter();
	rc = kx_posix_implemented(n) ? table[n](a) : kx_enosys(n);
	if (rc == KX_HOSTPATH)
		rc = -EOPNOTSUPP; /* posix-fs: a path into a host directory this call cannot take */
	kx_async_signals();
	if (kx_thread_sig()->pending)
		kx_signals_deliver();
	kx_runtime_leave();
	return rc;
}
