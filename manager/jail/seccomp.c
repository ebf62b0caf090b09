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
#include <linux/futex.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "manager/jail/jail.h"

/* How a row pins its arguments. */
enum arg_rule {
	ARGS_ANY,    /* every argument allowed */
	ARGS_IOCTL,  /* arg1 one of the backend's request codes */
	ARGS_NOEXEC, /* mmap: PROT_EXEC clear in arg2 */
	ARGS_FORK,   /* clone: exactly the flags of hv's fork wrapper, or of a
		      * glibc thread (net.c's network thread) */
	ARGS_THREAD, /* clone: exactly the flags of a glibc thread */
	ARGS_FCNTL,  /* arg1 one of fcntl_cmds */
	ARGS_FUTEX,  /* arg1 one of futex_ops */
	ARGS_SOCKOPT, /* getsockopt(fd, SOL_SOCKET, SO_TYPE, ...) */
	ARGS_DEATHSIG, /* prctl(PR_SET_PDEATHSIG, SIGKILL) */
};

#define T_VCPU (1u << JAIL_THREAD_VCPU)
#define T_XEN  (1u << JAIL_THREAD_XEN)
/* The KVM monitor's thread and the Xen backend's: mostly the same calls,
 * the ioctl codes differing (each backend's own, jail_backend_profile);
 * Xen has no fork (hv's fork stops at the backend's fork_prepare), so the
 * rows only a fork or a forked child needs are the KVM monitor's. */
#define T_MON (T_VCPU | T_XEN)

struct row {
	int nr;
	unsigned threads; /* T_* bits */
	enum arg_rule args;
};

/* The one table.  Keep it sorted by what the monitor uses it for. */
static const struct row rows[] = {
	/* The vCPU and the VM: KVM_RUN and the rest, by request code. */
	{SYS_ioctl, T_MON, ARGS_IOCTL},
	/* Memory: guest memory, library and IpC memfds from kxd, malloc. */
	{SYS_mmap, T_MON, ARGS_NOEXEC},
	{SYS_munmap, T_MON, ARGS_ANY},
	{SYS_mremap, T_MON, ARGS_ANY},
	{SYS_brk, T_MON, ARGS_ANY},
	{SYS_fallocate, T_VCPU, ARGS_ANY}, /* punch out guest pages given back (KVM) */
	/* File descriptors the monitor holds: console, channel, memfds. */
	{SYS_write, T_MON, ARGS_ANY},
	{SYS_close, T_MON, ARGS_ANY},
	{SYS_dup2, T_MON, ARGS_ANY}, /* a recycled pVM's console */
	{SYS_fcntl, T_MON, ARGS_FCNTL},
	{SYS_newfstatat, T_MON, ARGS_ANY}, /* fstat of a memfd (no path: an empty root) */
	/* The channel to kxd. */
	{SYS_recvmsg, T_MON, ARGS_ANY},
	{SYS_sendto, T_MON, ARGS_ANY},
	{SYS_getsockopt, T_VCPU, ARGS_SOCKOPT}, /* a forked child (no fork on Xen) */
	{SYS_poll, T_MON, ARGS_ANY},
	/* IpC: futex wait/wake on shared words. */
	{SYS_futex, T_MON, ARGS_FUTEX},
	/* Signals: kicks (SIGIO), the timeout (SIGALRM), update retries. */
	{SYS_rt_sigprocmask, T_MON, ARGS_ANY},
	{SYS_rt_sigreturn, T_MON, ARGS_ANY},
	{SYS_restart_syscall, T_MON, ARGS_ANY},
	{SYS_setitimer, T_MON, ARGS_ANY},
	{SYS_getitimer, T_VCPU, ARGS_ANY}, /* before a fork (none on Xen) */
	{SYS_timer_create, T_MON, ARGS_ANY},
	{SYS_timer_settime, T_MON, ARGS_ANY},
	{SYS_timer_delete, T_MON, ARGS_ANY},
	/* Time and waiting. */
	{SYS_clock_gettime, T_MON, ARGS_ANY},
	{SYS_sysinfo, T_MON, ARGS_ANY}, /* glibc qsort sizes its buffer by the RAM (update) */
	/* Process: pVM fork (clone), its pid for kxd, the end. */
	{SYS_clone, T_VCPU, ARGS_FORK},
	{SYS_clone, T_XEN, ARGS_THREAD}, /* Xen: no fork, the network thread only */
	{SYS_prctl, T_VCPU, ARGS_DEATHSIG}, /* a forked monitor dies with kxd */
	{SYS_getpid, T_MON, ARGS_ANY},
	{SYS_getppid, T_VCPU, ARGS_ANY}, /* a forked monitor checks kxd is its parent */
	{SYS_exit_group, T_MON, ARGS_ANY},
	{SYS_wait4, T_XEN, ARGS_ANY}, /* Xen: its domain's reaper, reaped at the end */
	/* The POSIX layer's host half (hv/posix.c): HALT sleeps in ppoll, host
	 * entropy, the console's input. */
	{SYS_ppoll, T_MON, ARGS_ANY},
	{SYS_futex_waitv, T_VCPU, ARGS_ANY}, /* HALT_WATCH (KVM; on Xen it is ENOSYS) */
	{SYS_getrandom, T_MON, ARGS_ANY},
	{SYS_read, T_MON, ARGS_ANY},
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
	/* The packet device (hv/net.c): its network thread, started after the
	 * jail with this filter (clone with glibc's thread flags, a stack
	 * never executable), waits in poll on the TAP and an eventfd. */
	{SYS_eventfd2, T_MON, ARGS_ANY},
	{SYS_mprotect, T_MON, ARGS_NOEXEC},
	{SYS_madvise, T_MON, ARGS_ANY}, /* a thread's stack given back at its end */
	{SYS_set_robust_list, T_MON, ARGS_ANY},
	{SYS_rseq, T_MON, ARGS_ANY},
	{SYS_exit, T_MON, ARGS_ANY},
	{SYS_rt_sigaction, T_MON, ARGS_ANY}, /* glibc's first pthread_create */
	{SYS_sched_yield, T_MON, ARGS_ANY},  /* the network thread between polls */
#if JAIL_SANITIZED
	/* make SANITIZE=1 builds only: the runtime takes down its signal stack
	 * at exit, and registers a new thread (the network thread) by its tid. */
	{SYS_sigaltstack, T_MON, ARGS_ANY},
	{SYS_gettid, T_MON, ARGS_ANY},
	{SYS_sched_getaffinity, T_MON, ARGS_ANY},
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
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The flags of hv's fork (proc.c: a new process, kxd its parent). */
#define FORK_FLAGS (CLONE_PARENT | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD)
/* The flags of glibc's pthread_create (a thread: no new namespace, no new
 * process); clone3, which glibc tries first, is ENOSYS so it falls back to
 * clone, whose flags a filter can see. */
#define THREAD_FLAGS                                                                        \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_SIGHAND | CLONE_THREAD |   \
	 CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)

size_t jail_allowlist(enum jail_thread thread, int *nrs, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < N_ROWS; i++) {
		if (!(rows[i].threads & (1u << thread)))
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
	case ARGS_FORK: {
		static const unsigned long flags[] = {FORK_FLAGS, THREAD_FLAGS};

		return add_values(ctx, r->nr, 0, flags, N_OF(flags));
	}
	case ARGS_THREAD:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					SCMP_A0(SCMP_CMP_EQ, THREAD_FLAGS));
	case ARGS_FCNTL:
		return add_ints(ctx, r->nr, 1, fcntl_cmds, N_OF(fcntl_cmds));
	case ARGS_FUTEX:
		return add_ints(ctx, r->nr, 1, futex_ops, N_OF(futex_ops));
	case ARGS_DEATHSIG:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 2,
					SCMP_A0(SCMP_CMP_EQ, PR_SET_PDEATHSIG),
					SCMP_A1(SCMP_CMP_EQ, SIGKILL));
	case ARGS_SOCKOPT:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 2,
					SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
					SCMP_A2(SCMP_CMP_EQ, SO_TYPE));
	}
	return -EINVAL;
}

int jail_seccomp_load(enum jail_thread thread, const unsigned long *ioctls, size_t nioctls,
		      struct kx_error *err)
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
		if (!(rows[i].threads & (1u << thread)))
			continue;
		rc = add_row(ctx, &rows[i], ioctls, nioctls);
		if (rc != 0)
			kx_err(err, rc, "seccomp: rule for syscall %d: %s", rows[i].nr,
			       strerror(-rc));
	}
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc == 0) {
		rc = seccomp_load(ctx);
		if (rc != 0)
			kx_err(err, rc, "seccomp_load: %s", strerror(-rc));
	}
	seccomp_release(ctx);
	return rc;
}
