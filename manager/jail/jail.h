/*
 * jail.h — the monitor's jail (docs/jail.md; DESIGN.md "The monitor's jail").
 *
 * kxmon is where guest-controlled input meets host syscalls.  Once it holds
 * every fd it needs (the VM, the image, the channel, the console) and before
 * the guest's first instruction — before the loader reads a byte of the
 * image — it calls jail_enter(), after which it is:
 *   - in a cgroup of its own (kx/NAME: memory, cpu, pids; v1 or v2),
 *   - in new mount, ipc, net and uts namespaces (no pid namespace: a pVM
 *     fork makes the child kxd's child with its host pid; docs/jail.md),
 *   - rooted in an empty read-only tmpfs it cannot leave (pivot_root, the
 *     old root detached; over an initramfs root, which cannot be pivoted,
 *     moved onto it and chrooted into),
 *   - under rlimits (files, no locked memory, no core),
 *   - an unprivileged uid/gid of its own with no supplementary groups and
 *     no capabilities, PR_SET_NO_NEW_PRIVS,
 *   - under seccomp filters that kill the process on any syscall outside
 *     its thread's allowlist (seccomp.c, one table, a list per thread
 *     kind), ioctl limited to the request codes the backend issues
 *     (struct hv_backend's ioctls) and, on KVM, to the vCPU thread;
 *   - and, once the pVM's host directories are known (while its image
 *     loads), under Landlock: files only beneath them (landlock.c).
 * Every step must succeed or jail_enter fails: the caller then exits, it
 * never runs a guest half-jailed.
 *
 * The cgroup functions are also kxd's: a forked monitor is already jailed
 * and cannot make a cgroup, so kxd makes its child's and moves it there.
 */
#ifndef KX_MANAGER_JAIL_H
#define KX_MANAGER_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/filter.h>

#include "common/kxerr.h"

/* The ids a monitor gets when no range is given (kxd --jail-ids, kxmon
 * --jail-id): 65536 ids high above any login or subordinate id range. */
#define JAIL_IDS_DEFAULT_LO 1879048192u /* 0x70000000 */
#define JAIL_IDS_DEFAULT_HI 1879113727u /* + 65535 */
/* What a monitor uses besides its guest's memory (its code, the image, the
 * loader's tables): the memory limit is the guest's memory plus this. */
#define JAIL_MEMORY_OVERHEAD ((uint64_t)64 << 20)
/* Open files of a jailed monitor. */
#define JAIL_NOFILE 1024
/* Defaults when the manifest's `resources` does not say. */
#define JAIL_PIDS_DEFAULT 64
#define JAIL_CGROUP_NAME_MAX 64

/* An ASan build (make SANITIZE=1): its runtime needs madvise in the
 * filter, and LeakSanitizer's check at exit cannot run in the jail (it
 * needs /proc and ptrace), so it runs as the jail closes (docs/jail.md). */
#if defined(__SANITIZE_ADDRESS__)
#define JAIL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JAIL_SANITIZED 1
#endif
#endif
#ifndef JAIL_SANITIZED
#define JAIL_SANITIZED 0
#endif

/* The filters, one per thread kind (docs/jail.md).  Filters stack: a
 * thread runs under every filter loaded on it and on the thread that
 * started it, the stricter winning.  So for the KVM monitor jail_enter
 * loads the entry filter, every KVM row, on kxmon's one thread; then each
 * thread narrows itself with
 * its own list: the network thread first thing, the vCPU thread once it
 * will start no more threads (what it starts inherits its filter, so until
 * then the entry filter must hold the new thread's calls). */
enum jail_thread {
	JAIL_THREAD_ENTRY, /* the KVM monitor's union, and starting a thread:
			    * what jail_enter loads for JAIL_THREAD_VCPU */
	JAIL_THREAD_VCPU,  /* kxmon's vCPU thread, also its main and event
			    * thread: the run loop, the channel, fork */
	JAIL_THREAD_NET,   /* the packet device's network thread (hv/net.c) */
	JAIL_THREAD_XEN,   /* the Xen backend's monitor in dom0: one filter
			    * for all its threads, loaded by jail_enter */
	JAIL_THREAD_COUNT
};

struct jail_limits {
	uint64_t memory;    /* bytes; 0: no limit */
	uint32_t cpu_milli; /* thousandths of a CPU; 0: no limit */
	uint32_t pids;      /* 0: no limit */
};

struct jail_config {
	uid_t uid; /* the monitor's uid and gid: never 0 */
	gid_t gid;
	const char *cgroup; /* kx/<cgroup>, made and joined here; NULL: none */
	struct jail_limits limits;
	/* The backend's ioctl request codes, the only ones the filter lets
	 * through (by number, any fd). */
	const unsigned long *ioctls;
	size_t nioctls;
	/* Whose allowlist: JAIL_THREAD_VCPU, the KVM monitor's (the entry
	 * filter now, each thread's own later: jail_thread_enter), or
	 * JAIL_THREAD_XEN (that filter, for good). */
	enum jail_thread thread;
};

/* Enter the jail (root needed: the caller is kxmon, started by kxd or by
 * hand as root).  0, or -errno with the step that failed in err. */
int jail_enter(const struct jail_config *cfg, struct kx_error *err);

/* The jail profile of a backend whose monitor has no ioctl list of its own
 * (struct hv_backend's ioctls empty): "xen" (xen.c: the privcmd and
 * evtchn codes libxenctrl, libxencall, libxenforeignmemory and
 * libxenevtchn issue after the jail).  0, or -ENOENT: none. */
int jail_backend_profile(const char *backend, enum jail_thread *thread,
			 const unsigned long **ioctls, size_t *nioctls);

/* "LO-HI" (decimal, 1 <= LO <= HI < 2^32 - 1).  0 or -EINVAL. */
int jail_ids_parse(const char *text, uint32_t *lo, uint32_t *hi);

/* A cgroup name is 1..JAIL_CGROUP_NAME_MAX-1 bytes of [A-Za-z0-9._-], not
 * "." or "..".  Make kx/NAME under every controller (v1: memory, cpu,
 * pids; v2: one group) with limits; an existing group is reused with the
 * new limits.  0 or -errno. */
int jail_cgroup_make(const char *name, const struct jail_limits *limits, struct kx_error *err);
/* Move process pid (0: the caller) into kx/NAME.  0 or -errno. */
int jail_cgroup_join(const char *name, pid_t pid, struct kx_error *err);
/* Remove kx/NAME (it must be empty: its processes ended).  0 or -errno;
 * -ENOENT when there was none. */
int jail_cgroup_remove(const char *name);
/* Remove the groups of monitors and kxds that are gone: kx/kxmon-PID
 * (kxmon run by hand cannot remove its own: it is jailed when it ends) and
 * kx/kxd-PID-ID, whose PID no longer exists.  Groups still in use stay. */
void jail_cgroup_sweep(void);
/* The path of kx/NAME's file FILE under controller (v1: "memory", "cpu",
 * "pids"; v2: ignored), for tests and `kxctl` to read.  0 or -errno. */
int jail_cgroup_file(const char *name, const char *controller, const char *file, char *out,
		     size_t size);

/* Landlock (landlock.c): from now on the calling thread and all it starts
 * reach files only beneath dirfds[0..n) (O_PATH directory fds are fine),
 * reading there, and where writable[i] also making, writing, truncating,
 * removing and renaming files and directories — nothing else anywhere
 * (n = 0: no file at all).  After no_new_privs.  0; -EOPNOTSUPP when the
 * kernel's Landlock is missing or older than ABI 2 (nothing changed);
 * else -errno.  jail_landlock_abi: the kernel's ABI version, 0 for none. */
int jail_confine_beneath(const int *dirfds, const bool *writable, size_t n,
			 struct kx_error *err);
int jail_landlock_abi(void);

/* The allowlist of a thread kind, for docs and tests: the syscall numbers
 * (at most max written), their count returned. */
size_t jail_allowlist(enum jail_thread thread, int *nrs, size_t max);
/* Load the thread's filter on the calling thread (after no_new_privs).
 * 0 or -errno. */
int jail_seccomp_load(enum jail_thread thread, const unsigned long *ioctls, size_t nioctls,
		      struct kx_error *err);
/* A filter compiled before the jail, loaded later by a thread on itself
 * with the one call the entry filter leaves for that. */
struct jail_bpf {
	struct sock_fprog prog; /* filter: malloc'd; NULL: none */
};
int jail_seccomp_compile(enum jail_thread thread, const unsigned long *ioctls, size_t nioctls,
			 struct jail_bpf *out, struct kx_error *err);
int jail_seccomp_install(const struct jail_bpf *bpf, struct kx_error *err);
/* Narrow the calling thread of a jailed process to its own list (kxmon
 * calls it through struct hv_config's jail_thread): JAIL_THREAD_NET first
 * thing on the network thread, JAIL_THREAD_VCPU on the vCPU thread once it
 * starts no more threads.  1: the filter was loaded now; 0: nothing to do
 * (the process is not jailed, or the vCPU filter is already there, as in
 * a forked child, which inherits it, or the Xen monitor, whose one filter
 * is for good); -errno on failure. */
int jail_thread_enter(enum jail_thread thread, struct kx_error *err);

#endif /* KX_MANAGER_JAIL_H */
