/*
 * seccomp.c — the allowlists, one table for every thread kind (docs/jail.md
 * explains each row).  Anything else kills the whole monitor
 * (SCMP_ACT_KILL_PROCESS): kxd sees it end by SIGSYS and says so.
 *
 * To extend: add a row with the thread kinds that need the call and, where
 * an argument can be pinned, an argument rule; then a line in docs/jail.md.
 * A thread started after the jail inherits the filter of the thread that
 * started it and adds its own, so a call it makes must be allowed by both.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/futex.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "manager/jail/jail.h"

/* How a row pins its arguments. */
enum arg_rule {
	ARGS_ANY,    /* every argument allowed */
	ARGS_IOCTL,  /* arg1 one of the backend's request codes */
	ARGS_NOEXEC, /* mmap, mprotect: PROT_EXEC clear in arg2 */
	ARGS_FORK,   /* clone: exactly the flags of hv's fork wrapper */
	ARGS_THREAD, /* clone: exactly the flags of a glibc thread (net.c's) */
	ARGS_FCNTL,  /* arg1 one of fcntl_cmds */
	ARGS_FUTEX,  /* arg1 one of futex_ops */
	ARGS_FUTEX_WAKE, /* arg1 FUTEX_WAKE(_PRIVATE) only */
	ARGS_SOCKOPT, /* getsockopt(fd, SOL_SOCKET, SO_TYPE, ...) */
	ARGS_DEATHSIG, /* prctl(PR_SET_PDEATHSIG, SIGKILL) */
	ARGS_SIGBLOCK, /* rt_sigprocmask(SIG_BLOCK, ...): more blocked, never fewer */
	ARGS_FILTER, /* seccomp(SECCOMP_SET_MODE_FILTER, 0, ...): one more, narrower */
};

/* Who needs a row.  T_VCPU: the KVM monitor's vCPU thread, which is also
 * its main and event thread (the run loop, the channel, fork).  T_NET: the
 * packet device's network thread.  T_START: only while the vCPU thread may
 * still start the network thread, the calls that starting it takes and the
 * calls the new thread makes before its own filter is loaded (glibc's
 * thread start) or that its own list has and the starter's must have too
 * (a thread inherits its starter's filter: the entry filter is every KVM
 * row).  T_XEN: the Xen backend's monitor in dom0, one filter for all its
 * threads (the KVM monitor's union without fork's calls, and wait4); no
 * per-thread narrowing there yet (docs/jail.md). */
#define T_VCPU	(1u << JAIL_THREAD_VCPU)
#define T_NET	(1u << JAIL_THREAD_NET)
#define T_START (1u << JAIL_THREAD_ENTRY)
#define T_XEN	(1u << JAIL_THREAD_XEN)
/* The vCPU thread's calls that the Xen monitor makes too. */
#define T_MON (T_VCPU | T_XEN)

struct row {
	int nr;
	unsigned threads; /* T_* bits */
	enum arg_rule args;
};

/* The one table.  Keep it sorted by what the monitor uses it for. */
static const struct row rows[] = {
	/* The vCPU and the VM: KVM_RUN and the rest, by request code.  The
	 * network thread has no ioctl at all. */
	{SYS_ioctl, T_MON, ARGS_IOCTL},
	/* Memory: guest memory, library and IpC memfds from kxd, malloc. */
	{SYS_mmap, T_MON, ARGS_NOEXEC},
	{SYS_munmap, T_MON, ARGS_ANY},
	{SYS_mremap, T_MON, ARGS_ANY},
	{SYS_brk, T_MON, ARGS_ANY},
	{SYS_fallocate, T_VCPU, ARGS_ANY}, /* punch out guest pages given back (KVM) */
	/* File descriptors the monitor holds: console, channel, memfds; the
	 * network thread's TAP. */
	{SYS_write, T_MON | T_NET, ARGS_ANY},
	{SYS_close, T_MON, ARGS_ANY},
	{SYS_dup2, T_MON, ARGS_ANY}, /* a recycled pVM's console */
	{SYS_fcntl, T_MON, ARGS_FCNTL},
	{SYS_newfstatat, T_MON, ARGS_ANY}, /* fstat of a memfd (no path: an empty root) */
	/* The channel to kxd. */
	{SYS_recvmsg, T_MON, ARGS_ANY},
	{SYS_sendto, T_MON, ARGS_ANY},
	{SYS_getsockopt, T_VCPU, ARGS_SOCKOPT}, /* a forked child (no fork on Xen) */
	{SYS_poll, T_MON | T_NET, ARGS_ANY}, /* kxd's answer; the TAP and the eventfd */
	/* IpC: futex wait/wake on shared words; the network thread wakes the
	 * vCPU waiting for frames. */
	{SYS_futex, T_MON, ARGS_FUTEX},
	{SYS_futex, T_NET, ARGS_FUTEX_WAKE},
	/* Signals: kicks (SIGIO), the timeout (SIGALRM), update retries. */
	{SYS_rt_sigprocmask, T_MON | T_START, ARGS_ANY}, /* + glibc's thread start */
	{SYS_rt_sigprocmask, T_NET, ARGS_SIGBLOCK}, /* glibc blocks all at a thread's end */
	{SYS_rt_sigreturn, T_MON, ARGS_ANY},
	{SYS_restart_syscall, T_MON, ARGS_ANY},
	{SYS_setitimer, T_MON, ARGS_ANY},
	{SYS_getitimer, T_VCPU, ARGS_ANY}, /* before a fork (none on Xen) */
	{SYS_timer_create, T_MON, ARGS_ANY},
	{SYS_timer_settime, T_MON, ARGS_ANY},
	{SYS_timer_delete, T_MON, ARGS_ANY},
	/* Time and waiting. */
	{SYS_clock_gettime, T_MON | T_NET, ARGS_ANY},
	{SYS_sysinfo, T_MON, ARGS_ANY}, /* glibc qsort sizes its buffer by the RAM (update) */
	/* Process: pVM fork (clone), its pid for kxd, the end. */
	{SYS_clone, T_VCPU, ARGS_FORK},
	{SYS_prctl, T_VCPU, ARGS_DEATHSIG}, /* a forked monitor dies with kxd */
	{SYS_getpid, T_MON, ARGS_ANY},
	{SYS_getppid, T_VCPU, ARGS_ANY}, /* a forked monitor checks kxd is its parent */
	{SYS_exit_group, T_MON, ARGS_ANY},
	{SYS_wait4, T_XEN, ARGS_ANY}, /* Xen: its domain's reaper, reaped at the end */
	/* The POSIX layer's host half (hv/posix.c): HALT sleeps in ppoll (and
	 * HALT_WATCH in futex_waitv, on shared IpC words), host entropy, the
	 * console's input; the network thread's TAP and eventfd. */
	{SYS_ppoll, T_MON, ARGS_ANY},
	{SYS_futex_waitv, T_VCPU, ARGS_ANY},
	{SYS_getrandom, T_MON, ARGS_ANY},
	{SYS_read, T_MON | T_NET, ARGS_ANY},
	/* Host directories (hv/fs.c): every path resolved by openat2 beneath a
	 * granted directory fd (there is no other path: the root is empty). */
	{SYS_openat2, T_MON, ARGS_ANY},
	{SYS_fstat, T_MON, ARGS_ANY},
	{SYS_pread64, T_MON, ARGS_ANY},
	{SYS_pwrite64, T_MON, ARGS_ANY},
	{SYS_lseek, T_MON, ARGS_ANY},
	{SYS_getdents64, T_MON, ARGS_ANY},
	{SYS_mkdirat, T_MON, ARGS_ANY},
	{SYS_unlinkat, T_MON, ARGS_ANY},
	{SYS_renameat, T_MON, ARGS_ANY},
	{SYS_renameat2, T_MON, ARGS_ANY},
	{SYS_ftruncate, T_MON, ARGS_ANY},
	{SYS_fsync, T_MON, ARGS_ANY},
	{SYS_fdatasync, T_MON, ARGS_ANY},
	/* ... and confined beneath those directories by Landlock once they are
	 * known (landlock.c): calls that can only take rights away. */
	{SYS_landlock_create_ruleset, T_MON, ARGS_ANY},
	{SYS_landlock_add_rule, T_MON, ARGS_ANY},
	{SYS_landlock_restrict_self, T_MON, ARGS_ANY},
	/* Starting the network thread (hv/net.c, once, when kxd attaches an
	 * interface): its eventfd, clone with glibc's thread flags, a stack
	 * never executable, glibc's first pthread_create installing its
	 * handler; the new thread's start before its own filter. */
	{SYS_eventfd2, T_START | T_XEN, ARGS_ANY},
	{SYS_clone, T_START | T_XEN, ARGS_THREAD},
	{SYS_mprotect, T_START | T_XEN, ARGS_NOEXEC},
	{SYS_rt_sigaction, T_START | T_XEN, ARGS_ANY},
	{SYS_set_robust_list, T_START | T_XEN, ARGS_ANY},
	{SYS_rseq, T_START | T_XEN, ARGS_ANY},
	/* Each KVM monitor thread then narrows itself with its own filter. */
	{SYS_seccomp, T_START, ARGS_FILTER},
	/* The network thread: between polls, and its end (its stack given
	 * back, then exit). */
	{SYS_sched_yield, T_NET | T_XEN, ARGS_ANY},
	{SYS_madvise, T_NET | T_XEN, ARGS_ANY},
	{SYS_exit, T_NET | T_XEN, ARGS_ANY},
#if JAIL_SANITIZED
	/* make SANITIZE=1 builds only: the runtime takes down a thread's
	 * signal stack at its end, registers a new thread by its tid, and
	 * madvises its shadow memory. */
	{SYS_sigaltstack, T_MON | T_NET, ARGS_ANY},
	{SYS_gettid, T_MON | T_NET, ARGS_ANY},
	{SYS_sched_getaffinity, T_START | T_XEN, ARGS_ANY},
	{SYS_madvise, T_VCPU, ARGS_ANY},
	{SYS_munmap, T_NET, ARGS_ANY},
	{SYS_mmap, T_NET, ARGS_NOEXEC},
#endif
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

static const int fcntl_cmds[] = {F_GETFL, F_SETFL, F_SETOWN, F_GET_SEALS, F_DUPFD_CLOEXEC,
				 F_SETFD /* fdopendir (hv/fs.c) */};
static const int futex_ops[] = {FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_PRIVATE, FUTEX_WAKE_PRIVATE,
				/* glibc: pthread_join (shared, the kernel clears the tid),
				 * its timed waits */
				FUTEX_WAIT_BITSET, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME,
				FUTEX_WAIT_BITSET_PRIVATE,
				FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME};
static const int futex_wake_ops[] = {FUTEX_WAKE, FUTEX_WAKE_PRIVATE};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The flags of hv's fork (proc.c: a new process, kxd its parent). */
#define FORK_FLAGS (CLONE_PARENT | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD)
/* The flags of glibc's pthread_create (a thread: no new namespace, no new
 * process); clone3, which glibc tries first, is ENOSYS so it falls back to
 * clone, whose flags a filter can see. */
#define THREAD_FLAGS                                                                        \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_SIGHAND | CLONE_THREAD |   \
	 CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)

/* Is row r in thread kind t's filter?  The entry filter has every row of
 * the KVM monitor's threads. */
static bool in_filter(const struct row *r, enum jail_thread t)
{
	if (t == JAIL_THREAD_ENTRY)
		return (r->threads & ~T_XEN) != 0;
	return (r->threads & (1u << t)) != 0;
}

size_t jail_allowlist(enum jail_thread thread, int *nrs, size_t max)
{
	size_t n = 0;

	if ((unsigned)thread >= JAIL_THREAD_COUNT)
		return 0;
	for (size_t i = 0; i < N_ROWS; i++) {
		bool seen = false;

		if (!in_filter(&rows[i], thread))
			continue;
		/* a call with two rows (clone, futex) counts once */
		for (size_t j = 0; j < i && !seen; j++)
			seen = rows[j].nr == rows[i].nr && in_filter(&rows[j], thread);
		if (seen)
			continue;
		if (n < max)
			nrs[n] = rows[i].nr;
		n++;
	}
	return n;
}

/* One seccomp_rule_add per allowed value of arg (ORed rows). */
static int add_values(scmp_filter_ctx ctx, int nr, unsigned arg, const unsigned long *vals,
		      size_t n)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
				      SCMP_CMP(arg, SCMP_CMP_EQ, (scmp_datum_t)vals[i]));
	return rc;
}

static int add_ints(scmp_filter_ctx ctx, int nr, unsigned arg, const int *vals, size_t n)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
				      SCMP_CMP(arg, SCMP_CMP_EQ, (scmp_datum_t)(unsigned)vals[i]));
	return rc;
}

static int add_row(scmp_filter_ctx ctx, const struct row *r, const unsigned long *ioctls,
		   size_t nioctls)
{
	switch (r->args) {
	case ARGS_ANY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 0);
	case ARGS_IOCTL:
		return add_values(ctx, r->nr, 1, ioctls, nioctls);
	case ARGS_NOEXEC:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case ARGS_FORK:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					SCMP_A0(SCMP_CMP_EQ, FORK_FLAGS));
	case ARGS_THREAD:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					SCMP_A0(SCMP_CMP_EQ, THREAD_FLAGS));
	case ARGS_FCNTL:
		return add_ints(ctx, r->nr, 1, fcntl_cmds, N_OF(fcntl_cmds));
	case ARGS_FUTEX:
		return add_ints(ctx, r->nr, 1, futex_ops, N_OF(futex_ops));
	case ARGS_FUTEX_WAKE:
		return add_ints(ctx, r->nr, 1, futex_wake_ops, N_OF(futex_wake_ops));
	case ARGS_DEATHSIG:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 2,
					SCMP_A0(SCMP_CMP_EQ, PR_SET_PDEATHSIG),
					SCMP_A1(SCMP_CMP_EQ, SIGKILL));
	case ARGS_SIGBLOCK:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					SCMP_A0(SCMP_CMP_EQ, SIG_BLOCK));
	case ARGS_FILTER:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 2,
					SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER),
					SCMP_A1(SCMP_CMP_EQ, 0));
	case ARGS_SOCKOPT:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 2,
					SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
					SCMP_A2(SCMP_CMP_EQ, SO_TYPE));
	}
	return -EINVAL;
}

/* Thread kind thread's filter, built (not loaded) in *out. */
static int build(enum jail_thread thread, const unsigned long *ioctls, size_t nioctls,
		 scmp_filter_ctx *out, struct kx_error *err)
{
	scmp_filter_ctx ctx;
	int rc = 0;

	if ((unsigned)thread >= JAIL_THREAD_COUNT)
		return kx_err(err, -EINVAL, "seccomp: no thread kind %d", (int)thread);
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return kx_err(err, -ENOMEM, "seccomp_init failed");
	/* The filter is for this architecture only: a call through another
	 * ABI (x32, i386 int 0x80) is not in it and kills. */
	for (size_t i = 0; rc == 0 && i < N_ROWS; i++) {
		if (!in_filter(&rows[i], thread))
			continue;
		rc = add_row(ctx, &rows[i], ioctls, nioctls);
		if (rc != 0)
			kx_err(err, rc, "seccomp: rule for syscall %d: %s", rows[i].nr,
			       strerror(-rc));
	}
	if (rc == 0) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
		if (rc != 0)
			kx_err(err, rc, "seccomp: clone3: %s", strerror(-rc));
	}
	if (rc != 0) {
		seccomp_release(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

int jail_seccomp_load(enum jail_thread thread, const unsigned long *ioctls, size_t nioctls,
		      struct kx_error *err)
{
	scmp_filter_ctx ctx;
	int rc = build(thread, ioctls, nioctls, &ctx, err);

	if (rc != 0)
		return rc;
	rc = seccomp_load(ctx);
	if (rc != 0)
		kx_err(err, rc, "seccomp_load: %s", strerror(-rc));
	seccomp_release(ctx);
	return rc;
}

/*
 * A thread narrows itself after the jail, when its filter allows no more
 * than seccomp(SECCOMP_SET_MODE_FILTER): so its program is compiled before
 * the jail (libseccomp then probes the kernel and allocates freely) and
 * kept as BPF, loaded later with that one call.  libseccomp 2.5 exports
 * to an fd only: a pipe, read back (a filter is a few KiB, a pipe holds
 * 64).
 */
int jail_seccomp_compile(enum jail_thread thread, const unsigned long *ioctls, size_t nioctls,
			 struct jail_bpf *out, struct kx_error *err)
{
	scmp_filter_ctx ctx;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	int pipefd[2] = {-1, -1};
	int rc = build(thread, ioctls, nioctls, &ctx, err);

	if (rc != 0)
		return rc;
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = kx_err(err, -errno, "seccomp: pipe: %s", strerror(errno));
		goto out;
	}
	rc = seccomp_export_bpf(ctx, pipefd[1]);
	if (rc != 0) {
		kx_err(err, rc, "seccomp_export_bpf: %s", strerror(-rc));
		goto out;
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	for (;;) {
		ssize_t got;

		if (cap - len < 4096) {
			uint8_t *more = realloc(buf, cap + 16384);

			if (more == NULL) {
				rc = kx_err(err, -ENOMEM, "out of memory");
				goto out;
			}
			buf = more;
			cap += 16384;
		}
		got = read(pipefd[0], buf + len, cap - len);
		if (got == 0)
			break;
		if (got < 0) {
			rc = kx_err(err, -errno, "seccomp: reading the filter: %s",
				    strerror(errno));
			goto out;
		}
		len += (size_t)got;
	}
	if (len == 0 || len % sizeof(struct sock_filter) != 0 ||
	    len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		rc = kx_err(err, -EPROTO, "seccomp: an exported filter of %zu bytes", len);
		goto out;
	}
	out->prog.len = (unsigned short)(len / sizeof(struct sock_filter));
	out->prog.filter = (struct sock_filter *)buf;
	buf = NULL;
out:
	free(buf);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	seccomp_release(ctx);
	return rc;
}

int jail_seccomp_install(const struct jail_bpf *bpf, struct kx_error *err)
{
	if (bpf->prog.filter == NULL)
		return kx_err(err, -EINVAL, "seccomp: no filter compiled");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &bpf->prog) != 0)
		return kx_err(err, -errno, "seccomp: loading the thread's filter: %s",
			      strerror(errno));
	return 0;
}
