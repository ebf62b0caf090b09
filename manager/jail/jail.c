/*
 * jail.c — entering the jail (jail.h), in the only order that works:
 * the cgroup and the namespaces need root, the new root needs the mount
 * namespace, the ids drop root, and the filter comes last (it would refuse
 * the calls before it).  Every step's failure ends jail_enter with the step
 * named; the caller never runs a guest half-jailed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdbool.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "manager/jail/jail.h"

/* Where the empty root is first mounted (inside the new mount namespace
 * only: the host's /tmp is untouched). */
#define NEW_ROOT "/tmp"

int jail_ids_parse(const char *text, uint32_t *lo, uint32_t *hi)
{
	unsigned long long a, b;
	char *end;

	if (text == NULL || text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	a = strtoull(text, &end, 10);
	if (errno != 0 || *end != '-' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	b = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0' || a == 0 || a > b || b >= UINT32_MAX)
		return -EINVAL;
	*lo = (uint32_t)a;
	*hi = (uint32_t)b;
	return 0;
}

/* An empty read-only tmpfs as /, the old root detached: nothing of the host
 * file system is reachable by path any more. */
static int empty_root(struct kx_error *err)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return kx_err(err, -errno, "making the mounts private: %s", strerror(errno));
	if (mount("kxjail", NEW_ROOT, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=4k,nr_inodes=2,mode=0555") != 0)
		return kx_err(err, -errno, "tmpfs on " NEW_ROOT ": %s", strerror(errno));
	if (chdir(NEW_ROOT) != 0)
		return kx_err(err, -errno, "chdir " NEW_ROOT ": %s", strerror(errno));
	/* pivot_root(".", "."): the old root is stacked under the new one,
	 * then detached from it. */
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) != 0)
			return kx_err(err, -errno, "detaching the old root: %s", strerror(errno));
	} else if (errno == EINVAL) {
		/* The root is the initial ramfs (a host, such as a Xen dom0,
		 * running from its initramfs), which cannot be pivoted away:
		 * the new root is moved over it and becomes the root (chroot).
		 * The initramfs stays below, covered: no path reaches it. */
		if (mount(".", "/", NULL, MS_MOVE, NULL) != 0)
			return kx_err(err, -errno, "moving the new root over the initramfs: %s",
				      strerror(errno));
		if (chroot(".") != 0)
			return kx_err(err, -errno, "chroot: %s", strerror(errno));
	} else {
		return kx_err(err, -errno, "pivot_root: %s", strerror(errno));
	}
	if (chdir("/") != 0)
		return kx_err(err, -errno, "chdir /: %s", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
				     MS_NOEXEC, NULL) != 0)
		return kx_err(err, -errno, "the new root read-only: %s", strerror(errno));
	return 0;
}

static int limit(int resource, rlim_t value, const char *name, struct kx_error *err)
{
	struct rlimit rl = {value, value};

	if (setrlimit(resource, &rl) != 0)
		return kx_err(err, -errno, "setrlimit %s: %s", name, strerror(errno));
	return 0;
}

/* Root no more: the pVM's own ids, no groups, no capabilities (a non-root
 * uid after setresuid keeps none), no way back. */
static int drop_ids(uid_t uid, gid_t gid, struct kx_error *err)
{
	int deathsig = 0;
	pid_t parent = getppid();

	/* The kernel clears the parent-death signal when the ids change; kxd
	 * starts its monitors with one (they must not outlive it). */
	prctl(PR_GET_PDEATHSIG, &deathsig);
	if (setgroups(0, NULL) != 0)
		return kx_err(err, -errno, "setgroups: %s", strerror(errno));
	if (setresgid(gid, gid, gid) != 0)
		return kx_err(err, -errno, "setresgid %u: %s", (unsigned)gid, strerror(errno));
	if (setresuid(uid, uid, uid) != 0)
		return kx_err(err, -errno, "setresuid %u: %s", (unsigned)uid, strerror(errno));
	if (setresuid(0, 0, 0) == 0 || geteuid() == 0)
		return kx_err(err, -EPERM, "root could be regained after setresuid");
	if (deathsig != 0) {
		if (prctl(PR_SET_PDEATHSIG, deathsig) != 0)
			return kx_err(err, -errno, "PR_SET_PDEATHSIG: %s", strerror(errno));
		if (getppid() != parent) /* it died meanwhile */
			return kx_err(err, -ESRCH, "the parent ended while the jail closed");
	}
	return 0;
}

/* What jail_thread_enter needs after jail_enter: the process is jailed,
 * with these ioctl codes; whether the vCPU thread has narrowed itself
 * (copied into a forked child with the rest of the memory, as the filter
 * itself is). */
static struct {
	bool entered;
	bool vcpu_narrowed;
	struct jail_bpf vcpu, net; /* compiled before the jail */
} jailed;

int jail_thread_enter(enum jail_thread thread, struct kx_error *err)
{
	int rc;

	if (!jailed.entered || (thread != JAIL_THREAD_VCPU && thread != JAIL_THREAD_NET))
		return 0;
	if (thread == JAIL_THREAD_VCPU && jailed.vcpu_narrowed)
		return 0;
	rc = jail_seccomp_install(thread == JAIL_THREAD_VCPU ? &jailed.vcpu : &jailed.net, err);
	if (rc != 0)
		return kx_err_wrap(err, rc, "jail: the %s thread's filter",
				   thread == JAIL_THREAD_VCPU ? "vCPU" : "network");
	if (thread == JAIL_THREAD_VCPU)
		jailed.vcpu_narrowed = true;
	return 1;
}

#if JAIL_SANITIZED
/* LeakSanitizer: check now, and not again at exit (where it would need
 * ptrace and /proc, and be killed by the filter). */
extern void __lsan_do_leak_check(void) __attribute__((weak));
#endif

int jail_enter(const struct jail_config *cfg, struct kx_error *err)
{
	int rc;

#if JAIL_SANITIZED
	if (__lsan_do_leak_check != NULL)
		__lsan_do_leak_check();
#endif
	if (cfg->uid == 0 || cfg->gid == 0)
		return kx_err(err, -EINVAL, "jail: the monitor's uid and gid must not be 0");
	if (cfg->cgroup != NULL) {
		rc = jail_cgroup_make(cfg->cgroup, &cfg->limits, err);
		if (rc == 0)
			rc = jail_cgroup_join(cfg->cgroup, 0, err);
		if (rc != 0)
			return kx_err_wrap(err, rc, "jail");
	}
	if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS) != 0)
		return kx_err(err, -errno, "jail: unshare: %s", strerror(errno));
	rc = empty_root(err);
	if (rc == 0)
		rc = limit(RLIMIT_NOFILE, JAIL_NOFILE, "NOFILE", err);
	if (rc == 0)
		rc = limit(RLIMIT_MEMLOCK, 0, "MEMLOCK", err);
	if (rc == 0)
		rc = limit(RLIMIT_CORE, 0, "CORE", err);
	if (rc == 0)
		rc = drop_ids(cfg->uid, cfg->gid, err);
	if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		rc = kx_err(err, -errno, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if (rc == 0 && cfg->thread != JAIL_THREAD_VCPU) {
		/* Xen's monitor: its one filter, for good. */
		rc = jail_seccomp_load(cfg->thread, cfg->ioctls, cfg->nioctls, err);
		return rc == 0 ? 0 : kx_err_wrap(err, rc, "jail");
	}
	/* The KVM monitor's threads' own filters, compiled while libseccomp
	 * may still allocate and probe; loaded by each thread later. */
	if (rc == 0)
		rc = jail_seccomp_compile(JAIL_THREAD_VCPU, cfg->ioctls, cfg->nioctls, &jailed.vcpu,
					  err);
	if (rc == 0)
		rc = jail_seccomp_compile(JAIL_THREAD_NET, NULL, 0, &jailed.net, err);
	if (rc == 0)
		rc = jail_seccomp_load(JAIL_THREAD_ENTRY, cfg->ioctls, cfg->nioctls, err);
	if (rc != 0)
		return kx_err_wrap(err, rc, "jail");
	jailed.entered = true;
	return 0;
}
