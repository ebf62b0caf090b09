/*
 * futex.c — futex (FUTEX_WAIT, FUTEX_WAKE, their BITSET forms, FUTEX_REQUEUE,
 * FUTEX_CMP_REQUEUE) on the scheduler's kx_block/kx_unblock/kx_requeue,
 * keyed by the word's address (one pVM: private and shared futexes are the
 * same), and the answers of a pVM with one vCPU: sched_getaffinity,
 * sched_setaffinity, getcpu.
 */
#include <string.h>
#include <sys/syscall.h>

#include "guest/posix/posix.h"

/* Linux's futex operations (linux/futex.h; musl has no such header). */
#define FUTEX_WAIT	     0
#define FUTEX_WAKE	     1
#define FUTEX_REQUEUE	     3
#define FUTEX_CMP_REQUEUE    4
#define FUTEX_WAIT_BITSET    9
#define FUTEX_WAKE_BITSET    10
#define FUTEX_PRIVATE_FLAG   128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK	     (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))

KX_SYS(futex)
{
	volatile uint32_t *uaddr = (volatile uint32_t *)a[0];
	int op = (int)a[1], cmd = op & FUTEX_CMD_MASK;
	const struct timespec *ts = (const struct timespec *)a[3];
	uint64_t deadline;
	long rc, woken;

	if ((uintptr_t)uaddr % 4 != 0)
		return -EINVAL;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		if (cmd == FUTEX_WAIT_BITSET && (uint32_t)a[5] == 0)
			return -EINVAL;
		if (!ts)
			deadline = KX_NO_DEADLINE;
		else if (cmd == FUTEX_WAIT)
			rc = kx_deadline_rel(ts, &deadline);
		else
			rc = kx_deadline_abs((op & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME
								 : CLOCK_MONOTONIC,
					     ts, &deadline);
		if (ts && rc != 0)
			return rc;
		if (*uaddr != (uint32_t)a[2])
			return -EAGAIN;
		return kx_block((const void *)uaddr, deadline);
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
		if (cmd == FUTEX_WAKE_BITSET && (uint32_t)a[5] == 0)
			return -EINVAL;
		return kx_unblock((const void *)uaddr, a[2] < 0 ? 0 : (int)a[2]);
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
		if ((uintptr_t)a[4] % 4 != 0 || (int)a[2] < 0 || (int)a[3] < 0)
			return -EINVAL;
		if (cmd == FUTEX_CMP_REQUEUE && *uaddr != (uint32_t)a[5])
			return -EAGAIN;
		woken = kx_unblock((const void *)uaddr, (int)a[2]);
		return woken + kx_requeue((const void *)uaddr, (const void *)a[4], (int)a[3]);
	default:
		return kx_enosys(SYS_futex);
	}
}

/* One vCPU: CPU 0. */
KX_SYS(sched_getaffinity)
{
	size_t size = (size_t)a[1];
	unsigned char *mask = (unsigned char *)a[2];

	if (a[0] != 0 && !kx_thread_sig_of(a[0]) && a[0] != kx_pid())
		return -ESRCH;
	if (size < sizeof(unsigned long) || size % sizeof(unsigned long) != 0)
		return -EINVAL;
	memset(mask, 0, sizeof(unsigned long));
	mask[0] = 1;
	return (long)sizeof(unsigned long);
}

KX_SYS(sched_setaffinity)
{
	const unsigned char *mask = (const unsigned char *)a[2];

	if (a[0] != 0 && !kx_thread_sig_of(a[0]) && a[0] != kx_pid())
		return -ESRCH;
	return a[1] > 0 && (mask[0] & 1) ? 0 : -EINVAL;
}

KX_SYS(getcpu)
{
	if (a[0])
		*(unsigned *)a[0] = 0;
	if (a[1])
		*(unsigned *)a[1] = 0;
	return 0;
}
