/*
 * proc.c — the process around the program: ids, uname, resource limits,
 * sysinfo, getrusage, times, getrandom, arch_prctl, wait4/waitid.
 *
 * A pVM is one process that nobody else shares a kernel with.  Under kxd
 * its pid is its pVM id and its parent's pVM id its ppid (KX_HC_SELF, asked
 * once); alone (kxmon without kxd) it is pid 1, parent 0 (outside its name
 * space, as Linux reports a parent in another pid namespace).  It is its
 * own process group and session.  uid and gid are 0 — the only user there
 * is; changing ids fails with EPERM.
 *
 * fork and vfork copy the pVM (KX_HC_FORK: kxd asks the policy's fork
 * limits; memory copy-on-write); the child keeps only the calling thread,
 * as POSIX says.  wait4 and waitid collect children through KX_HC_WAITX:
 * a kx status 0..127 is an exit status, 128+N a death by signal N.
 *
 * getrandom reads the CPU's RDRAND (hardware entropy the guest reaches
 * without an exit) when CPUID offers it, and the host's getrandom through
 * the monitor (KX_HC_ENTROPY) otherwise.  Nothing is cached or made up in
 * software, so a forked pVM never replays its parent's stream.
 */
#include <signal.h>
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

static long self_id = -1, parent_id = -1;
static int from_kxd;

static void ask_ids(void)
{
	struct kx_hc_self s = {0};

	if (self_id >= 0)
		return;
	if (kx_hcall(&s.hdr, KX_HC_SELF) == 0 && s.pvm_id != 0 && s.pvm_id < INT32_MAX &&
	    s.parent_id < INT32_MAX) {
		self_id = (long)s.pvm_id;
		parent_id = (long)s.parent_id;
		from_kxd = 1;
	} else {
		self_id = KX_PID;
		parent_id = KX_PPID;
	}
}

long kx_pid(void)
{
	ask_ids();
	return self_id;
}

long kx_ppid(void)
{
	ask_ids();
	return parent_id;
}

int kx_under_kxd(void)
{
	ask_ids();
	return from_kxd;
}

void kx_ids_forked(void)
{
	self_id = parent_id = -1;
}

KX_SYS(getpid)
{
	(void)a;
	return kx_pid();
}

KX_SYS(getppid)
{
	(void)a;
	return kx_ppid();
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
	return pid == 0 || pid == kx_pid();
}

KX_SYS(getpgid)
{
	return is_self(a[0]) ? kx_pid() : -ESRCH;
}

KX_SYS(getpgrp)
{
	(void)a;
	return kx_pid();
}

KX_SYS(getsid)
{
	return is_self(a[0]) ? kx_pid() : -ESRCH;
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

/* ---- fork and wait ----------------------------------------------------------------- */

KX_SYS(fork)
{
	long rc;

	(void)a;
	kx_pipes_share(); /* pipes open now are the child's too (pipe.c) */
	rc = kx_fork();
	if (rc == -KX_EPERM)
		return kx_enosys(SYS_fork); /* a pVM alone: no kxd to fork through */
	if (rc < 0)
		return -EAGAIN; /* the fork limits (EACCES) or no room: as RLIMIT_NPROC */
	if (rc == 0) {
		kx_ids_forked();
		kx_threads_forked();
		kx_alarm_forked();
		kx_sock_forked();
		return 0;
	}
	return rc;
}

/* A kx status (0..122 the child's own, 126 the monitor ended it, 128+N a
 * signal) as wait(2) encodes it. */
static int wstatus_of(int kx)
{
	if (kx > 128 && kx < 128 + 65)
		return kx - 128; /* WIFSIGNALED, WTERMSIG */
	return (kx & 0xff) << 8;
}

/* One child (pid > 0) or any (0): its id with *kx_status, 0 with WNOHANG
 * and none ended, or -errno.  With other threads able to run, the vCPU
 * waits in the monitor at most WAIT_SLICE at a time and lets them run in
 * between. */
#define WAIT_SLICE_NS 10000000ull
static long wait_child(long pid, int nohang, int *kx_status)
{
	for (;;) {
		uint64_t slice = kx_thread_count() > 1 && !nohang ? WAIT_SLICE_NS : 0;
		long rc = kx_waitx(pid > 0 ? (uint64_t)pid : 0, nohang ? KX_WNOHANG : 0, slice,
				   kx_status);

		if (rc == -KX_ETIMEDOUT) {
			kx_yield();
			continue;
		}
		if (rc == -KX_EPERM || rc == -KX_ECHILD)
			return -ECHILD;
		if (rc == -KX_EINTR)
			return -EINTR;
		return rc < 0 ? -EINVAL : rc;
	}
}

KX_SYS(wait4)
{
	long pid = a[0];
	int *status = (int *)a[1], kx = 0;
	long options = a[2], rc;

	if (options & ~(long)(WNOHANG | WUNTRACED | WCONTINUED | __WALL | __WCLONE | __WNOTHREAD))
		return -EINVAL;
	/* pid 0 and -pgid name process groups: a pVM's children are all in its. */
	rc = wait_child(pid > 0 ? pid : 0, (options & WNOHANG) != 0, &kx);
	if (rc > 0 && status)
		*status = wstatus_of(kx);
	if (rc >= 0 && a[3])
		memset((void *)a[3], 0, sizeof(struct rusage));
	return rc;
}

KX_SYS(waitid)
{
	int idtype = (int)a[0], kx = 0;
	siginfo_t *info = (siginfo_t *)a[2];
	long options = a[3], rc;

	if ((idtype != P_ALL && idtype != P_PID && idtype != P_PGID) || !(options & WEXITED) ||
	    (options & WNOWAIT) /* a status is collected once: kxd keeps no copy */ ||
	    (idtype == P_PID && a[1] <= 0))
		return -EINVAL;
	rc = wait_child(idtype == P_PID ? a[1] : 0, (options & WNOHANG) != 0, &kx);
	if (rc < 0)
		return rc;
	if (info) {
		memset(info, 0, sizeof(*info));
		if (rc > 0) {
			int ws = wstatus_of(kx);

			info->si_signo = SIGCHLD;
			info->si_pid = (pid_t)rc;
			info->si_code = WIFSIGNALED(ws) ? CLD_KILLED : CLD_EXITED;
			info->si_status = WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws);
		}
	}
	if (a[4])
		memset((void *)a[4], 0, sizeof(struct rusage));
	return 0;
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
	unsigned seg = ((int)a[0] == ARCH_SET_FS || (int)a[0] == ARCH_GET_FS) ? KX_SEG_FS : KX_SEG_GS;
	uint64_t v;
	int rc;

	switch ((int)a[0]) {
	case ARCH_SET_FS:
	case ARCH_SET_GS:
		/* No exit: the platform sets it (guest/platform.h). */
		rc = kx_plat_set_segbase(seg, (uint64_t)a[1]);
		if (rc == -KX_ENOSYS)
			return kx_enosys(SYS_arch_prctl);
		if (rc != 0)
			return -EPERM; /* Linux's answer to a base it cannot load */
		if (seg == KX_SEG_FS)
			kx_thread_set_fs((uint64_t)a[1]);
		return 0;
	case ARCH_GET_FS:
	case ARCH_GET_GS:
		rc = kx_plat_get_segbase(seg, &v);
		if (rc != 0)
			return kx_enosys(SYS_arch_prctl);
		*(uint64_t *)a[1] = v;
		return 0;
	default:
		return -EINVAL;
	}
}
