/*
 * proc.c — the process around the program: ids, uname, resource limits,
 * sysinfo, getrusage, times, getrandom, arch_prctl, wait4/waitid.
 *
 * A pVM is one process that nobody else shares a kernel with.  Until pVM
 * fork and pVM ids reach this layer (phase 2) its identity is fixed: pid 1
 * (also its process group and session), parent 0 (outside its name space,
 * as Linux reports a parent in another pid namespace), uid and gid 0 — the
 * only user there is; changing ids fails with EPERM.  It has no children:
 * wait4 and waitid answer ECHILD.
 *
 * getrandom reads the CPU's RDRAND (hardware entropy the guest reaches
 * without an exit) when CPUID offers it, and the host's getrandom through
 * the monitor (KX_HC_ENTROPY) otherwise.  Nothing is cached or made up in
 * software, so a forked pVM never replays its parent's stream.
 */
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "guest/posix/kxposix.h"
#include "guest/posix/posix.h"

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

KX_SYS(getpid)
{
	(void)a;
	return KX_PID;
}

KX_SYS(getppid)
{
	(void)a;
	return KX_PPID;
}

KX_SYS(getuid)
{
	(void)a;
	return KX_UID;
}

KX_SYS(getgid)
{
	(void)a;
	return KX_GID;
}

KX_SYS(getresuid)
{
	for (int i = 0; i < 3; i++)
		((uid_t *)a[i])[0] = KX_UID;
	return 0;
}

KX_SYS(getresgid)
{
	for (int i = 0; i < 3; i++)
		((gid_t *)a[i])[0] = KX_GID;
	return 0;
}

/* setuid(0), setresuid(-1, 0, ...): no change, fine; any other id: EPERM. */
static long same_id(const long *a, int count, long id)
{
	for (int i = 0; i < count; i++)
		if ((int)a[i] != -1 && (int)a[i] != id)
			return -EPERM;
	return 0;
}

KX_SYS(setuid)
{
	return same_id(a, 1, KX_UID);
}

KX_SYS(setgid)
{
	return same_id(a, 1, KX_GID);
}

KX_SYS(setreuid)
{
	return same_id(a, 2, KX_UID);
}

KX_SYS(setregid)
{
	return same_id(a, 2, KX_GID);
}

KX_SYS(setresuid)
{
	return same_id(a, 3, KX_UID);
}

KX_SYS(setresgid)
{
	return same_id(a, 3, KX_GID);
}

KX_SYS(getgroups)
{
	(void)a;
	return 0; /* no supplementary groups */
}

KX_SYS(setgroups)
{
	return a[0] == 0 ? 0 : -EPERM;
}

static int is_self(long pid)
{
	return pid == 0 || pid == KX_PID;
}

KX_SYS(getpgid)
{
	return is_self(a[0]) ? KX_PID : -ESRCH;
}

KX_SYS(getpgrp)
{
	(void)a;
	return KX_PID;
}

KX_SYS(getsid)
{
	return is_self(a[0]) ? KX_PID : -ESRCH;
}

KX_SYS(setsid)
{
	(void)a;
	return -EPERM; /* it leads its session already */
}

KX_SYS(setpgid)
{
	if (!is_self(a[0]))
		return -ESRCH;
	return is_self(a[1]) ? 0 : -EPERM;
}

KX_SYS(wait4)
{
	(void)a;
	return -ECHILD;
}

KX_SYS(waitid)
{
	(void)a;
	return -ECHILD;
}

KX_SYS(uname)
{
	struct utsname *u = (struct utsname *)a[0];

	memset(u, 0, sizeof(*u));
	/* The ABI is Linux's, and programs test for it by this name. */
	strcpy(u->sysname, "Linux");
	strcpy(u->nodename, "kx");
	strcpy(u->release, "6.1.0-kx");
	strcpy(u->version, "#1 kx pVM");
	strcpy(u->machine, "x86_64");
	strcpy(u->domainname, "(none)");
	return 0;
}

static struct rlimit limits[RLIM_NLIMITS];

void kx_limits_init(const struct kx_boot_info *boot)
{
	for (int i = 0; i < RLIM_NLIMITS; i++)
		limits[i] = (struct rlimit){RLIM_INFINITY, RLIM_INFINITY};
	limits[RLIMIT_NOFILE] = (struct rlimit){KX_FD_MAX, KX_FD_MAX};
	limits[RLIMIT_STACK] = (struct rlimit){boot->stack_size, boot->stack_size};
	limits[RLIMIT_DATA] = limits[RLIMIT_AS] =
		(struct rlimit){boot->heap_size, boot->heap_size};
	limits[RLIMIT_CORE] = (struct rlimit){0, 0};
	limits[RLIMIT_NPROC] = (struct rlimit){128, 128};
	limits[RLIMIT_SIGPENDING] = (struct rlimit){64, 64};
}

static long do_prlimit(long pid, long res, const struct rlimit *want, struct rlimit *old)
{
	if (!is_self(pid))
		return -ESRCH;
	if (res < 0 || res >= RLIM_NLIMITS)
		return -EINVAL;
	if (want) {
		if (want->rlim_cur > want->rlim_max)
			return -EINVAL;
		if (want->rlim_max > limits[res].rlim_max)
			return -EPERM; /* what the pVM has is all there is */
	}
	if (old)
		*old = limits[res];
	if (want)
		limits[res] = *want;
	return 0;
}

KX_SYS(prlimit64)
{
	return do_prlimit(a[0], a[1], (const struct rlimit *)a[2], (struct rlimit *)a[3]);
}

KX_SYS(getrlimit)
{
	return do_prlimit(0, a[0], NULL, (struct rlimit *)a[1]);
}

KX_SYS(setrlimit)
{
	return do_prlimit(0, a[0], (const struct rlimit *)a[1], NULL);
}

KX_SYS(sysinfo)
{
	struct sysinfo *s = (struct sysinfo *)a[0];
	const struct kx_boot_info *b = kx_boot_info();

	memset(s, 0, sizeof(*s));
	s->uptime = (long)(kx_uptime_ns() / 1000000000ull);
	s->totalram = b->mem_size;
	s->freeram = kx_mem_free_bytes();
	s->procs = (unsigned short)kx_thread_count();
	s->mem_unit = 1;
	return 0;
}

KX_SYS(getrusage)
{
	struct rusage *ru = (struct rusage *)a[1];
	uint64_t up = kx_uptime_ns();
	const struct kx_boot_info *b = kx_boot_info();

	if (a[0] != RUSAGE_SELF && a[0] != RUSAGE_CHILDREN && a[0] != RUSAGE_THREAD)
		return -EINVAL;
	memset(ru, 0, sizeof(*ru));
	if (a[0] == RUSAGE_CHILDREN)
		return 0;
	/* The pVM's time since boot counts as user time (time.c). */
	ru->ru_utime.tv_sec = (time_t)(up / 1000000000ull);
	ru->ru_utime.tv_usec = (suseconds_t)(up % 1000000000ull / 1000);
	ru->ru_maxrss = (long)((b->heap_size - kx_mem_free_bytes()) / 1024);
	return 0;
}

KX_SYS(times)
{
	struct tms *t = (struct tms *)a[0];
	clock_t ticks = (clock_t)(kx_uptime_ns() / 10000000ull); /* USER_HZ 100 */

	if (t)
		*t = (struct tms){.tms_utime = ticks};
	return (long)ticks;
}

static int has_rdrand(void)
{
	static int known = -1;

	if (known < 0) {
		unsigned a, b, c, d;

		__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
		known = (c >> 30) & 1;
	}
	return known;
}

/* 64 bits of hardware entropy; Intel advises ten tries before giving up. */
static int rdrand64(uint64_t *v)
{
	for (int i = 0; i < 10; i++) {
		unsigned char ok;

		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return 1;
	}
	return 0;
}

/* The host's entropy, KX_ENTROPY_MAX bytes per exit. */
static long host_random(unsigned char *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		size_t n = len - done < KX_ENTROPY_MAX ? len - done : KX_ENTROPY_MAX;
		struct kx_hc_entropy e = {.buf = (uint64_t)(uintptr_t)(p + done), .len = n};
		int64_t rc = kx_hcall(&e.hdr, KX_HC_ENTROPY);

		if (rc <= 0)
			return done > 0 ? (long)done : -EAGAIN;
		done += (size_t)rc;
	}
	return (long)done;
}

long kx_posix_host_entropy(void *buf, unsigned long len)
{
	return host_random(buf, len);
}

long kx_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t done = 0;

	if (!has_rdrand())
		return host_random(p, len);
	while (done < len) {
		uint64_t v;
		size_t n = len - done < sizeof(v) ? len - done : sizeof(v);

		if (!rdrand64(&v))
			return done > 0 ? (long)done : -EAGAIN;
		memcpy(p + done, &v, n);
		done += n;
	}
	return (long)done;
}

KX_SYS(getrandom)
{
	if (a[2] & ~(long)(GRND_NONBLOCK | GRND_RANDOM | 0x4 /* GRND_INSECURE */))
		return -EINVAL;
	return kx_random((void *)a[0], (size_t)a[1] > 33554431 ? 33554431 : (size_t)a[1]);
}

KX_SYS(arch_prctl)
{
	uint64_t v;

	switch ((int)a[0]) {
	case ARCH_SET_FS:
	case ARCH_SET_GS:
		/* No exit, no privilege: the monitor enabled CR4.FSGSBASE. */
		if (!(kx_boot_info()->features & KX_BOOT_FSGSBASE))
			return kx_enosys(SYS_arch_prctl);
		if ((int)a[0] == ARCH_SET_FS) {
			__asm__ volatile("wrfsbase %0" : : "r"((uint64_t)a[1]) : "memory");
			kx_thread_set_fs((uint64_t)a[1]);
		} else {
			__asm__ volatile("wrgsbase %0" : : "r"((uint64_t)a[1]) : "memory");
		}
		return 0;
	case ARCH_GET_FS:
	case ARCH_GET_GS:
		if (!(kx_boot_info()->features & KX_BOOT_FSGSBASE))
			return kx_enosys(SYS_arch_prctl);
		if ((int)a[0] == ARCH_GET_FS)
			__asm__ volatile("rdfsbase %0" : "=r"(v));
		else
			__asm__ volatile("rdgsbase %0" : "=r"(v));
		*(uint64_t *)a[1] = v;
		return 0;
	default:
		return -EINVAL;
	}
}
