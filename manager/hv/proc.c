/*
 * proc.c — the module "proc": pVM fork and wait (KX_HC_FORK, KX_HC_WAIT,
 * KX_HC_WAITX; docs/guest-abi.md "Fork and wait", docs/signals.md).
 *
 * A fork is a fork of the monitor process, after kxd allowed it
 * (FORK_REQ / FORK_RESP, gate_fork): guest memory is a private mapping, so
 * parent and child then hold copy-on-write views of it, and the backend
 * rebuilds the child's VM over it (fork_prepare before, fork_child after).
 * The child must be kxd's child (kxd reaps it and sees how it ended), so
 * the monitor forks with clone(CLONE_PARENT): one process copy, kxd its
 * parent at once.  Not fork() in a vfork() child (undefined), and not two
 * fork()s (a middle process that exits at once: a second page-table copy
 * of the whole monitor; docs/kvm-backend.md "Fork" has both measured).
 * The raw clone keeps glibc right: CLONE_CHILD_SETTID writes the child's
 * tid where glibc caches it (the thread's set_tid_address, read back with
 * PR_GET_TID_ADDRESS), so raise(), abort() and glibc's locks name the child
 * and not its parent.  The jail's filter allows clone with exactly these
 * flags and no other (docs/jail.md).
 *
 * kx_wait and kx_waitx: WAIT_REQ, then the answer; a no-hang call, a
 * timeout or a signal for the guest sends WAIT_CANCEL and kxd answers at
 * once (-EINTR if no child had ended).  A status that arrives after a
 * cancel is still the guest's: nothing is lost.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "manager/hv/internal.h"

#define ANSWER_WAIT_MS 30000 /* the longest wait for kxd's answer to a cancel */

/* Why the backend could not build the child's VM (hc_fork's report). */
static struct kx_error fork_err;

/* In the new child process: its own VM, its own channel, kxd its parent. */
static int become_child(struct hv_pvm *p, int chan)
{
	struct kx_error *err = &fork_err;
	sigset_t all, before;
	int rc;

	/* Until rebuilt there is no vCPU for a kick or the timeout to reach:
	 * every signal waits until there is. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &before);
	rc = p->be->fork_child(p->vm, err) == 0 ? 0 : -EIO;
	hv_core_fork_child(p);
	memset(&p->stats, 0, sizeof(p->stats));
	if (rc == 0 && p->mgr->ops->child(p->mgr->ctx, chan) != 0)
		rc = -EPIPE;
	sigprocmask(SIG_SETMASK, &before, NULL);
	return rc;
}

/*
 * fork() with the caller's parent as the child's parent: the child's pid in
 * the parent, 0 in the child, -errno.  The flags are the jail's
 * (manager/jail/seccomp.c FORK_FLAGS): change both together.  glibc's
 * atfork handlers do not run (the monitor registers none) and the child is
 * single-threaded like the monitor.
 */
static pid_t *tid_cache; /* where glibc keeps the main thread's tid */

/* Asked at start-up, before the jail (whose filter has no prctl). */
__attribute__((constructor)) static void find_tid_cache(void)
{
	if (prctl(PR_GET_TID_ADDRESS, &tid_cache) != 0)
		tid_cache = NULL;
}

static pid_t fork_sibling(void)
{
	long rc;

	if (tid_cache == NULL)
		return -ENOSYS;
	rc = syscall(SYS_clone, CLONE_PARENT | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD,
		     NULL, NULL, tid_cache, 0);
	return rc < 0 ? -errno : (pid_t)rc;
}

/* 0 with *child_id (0 in the child), -errno for the guest (-EACCES denied,
 * -EAGAIN), or -EPIPE / -EIO (the pVM cannot go on). */
static int proc_fork(struct hv_pvm *p, uint64_t *child_id)
{
	struct kxmon_msg m;
	struct itimerval timeout_left;
	int fds[KXMON_MAX_FDS], nfds, chan;
	pid_t child;

	*child_id = 0;
	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_FORK_REQ;
	if (hv_mgr_call(p, &m, KXMON_MSG_FORK_RESP, fds, &nfds) != 0)
		return -EPIPE;
	if (!m.u.fork.allow) {
		p->stats.denials++;
		return m.u.fork.error;
	}
	chan = fds[0];
	/* Only once the gate allowed it: on Xen this builds the child's
	 * domain (a copy of all memory), which a denied fork must not cost. */
	if (p->be->fork_prepare(p->vm, &fork_err) != 0) {
		close(chan);
		return -EIO;
	}
	/* The time left of the monitor's timeout: a new process has no timers. */
	getitimer(ITIMER_REAL, &timeout_left);
	hv_core_fork_parent(p, false);
	child = fork_sibling();
	if (child == 0) {
		setitimer(ITIMER_REAL, &timeout_left, NULL); /* its parent's deadline */
		return become_child(p, chan);
	}
	close(chan); /* kxd sees the child's channel close if it never started */
	if (child < 0) {
		hv_core_fork_parent(p, true);
		return -EAGAIN;
	}
	*child_id = m.u.fork.child_id;
	return 0;
}

/* In the child the block is written back into its own (copied) memory. */
static void hc_fork(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	uint64_t child_id = 0;
	int rc;

	if (p->mgr == NULL) {
		b->hdr.ret = -KX_EPERM;
		return;
	}
	rc = proc_fork(p, &child_id);
	if (rc == -EPIPE || rc == -EIO) {
		static char why[KX_ERR_MAX + 64];

		snprintf(why, sizeof(why), "kx_fork: the child's VM could not be built: %s",
			 fork_err.msg);
		hv_bad(res, rc == -EPIPE ? "kx_fork: the channel to the manager broke" : why);
		return;
	}
	b->hdr.ret = rc == 0 ? (int64_t)child_id : hv_guest_errno(rc);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int send_wait(struct hv_pvm *p, uint32_t type, uint64_t seq, uint64_t child_id)
{
	struct kxmon_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.seq = seq;
	m.u.wait.child_id = child_id;
	return hv_mgr_send(p, &m);
}

/* What to do next: 0 keep waiting (*wait_ms), or why to cancel the wait. */
static int wait_verdict(struct hv_pvm *p, uint64_t deadline, int *wait_ms)
{
	uint64_t now;

	if (hv_interrupted(p))
		return -EINTR;
	*wait_ms = -1;
	if (deadline == 0)
		return 0;
	now = now_ns();
	if (now >= deadline)
		return -ETIMEDOUT;
	*wait_ms = (int)((deadline - now + 999999) / 1000000);
	return 0;
}

int hv_proc_waitx(struct hv_pvm *p, uint64_t child_id, uint32_t flags, uint64_t timeout_ns,
		  uint64_t *waited, int64_t *status)
{
	uint64_t seq, deadline = 0, answer_by = 0;
	struct kxmon_msg m;
	int fds[KXMON_MAX_FDS], nfds, cancel = 0, wait_ms = -1, rc;

	seq = p->mgr->ops->seq(p->mgr->ctx);
	if (timeout_ns != 0 && __builtin_add_overflow(now_ns(), timeout_ns, &deadline))
		deadline = UINT64_MAX;
	if (send_wait(p, KXMON_MSG_WAIT_REQ, seq, child_id) != 0)
		return -EPIPE;
	if (flags & KX_WNOHANG)
		cancel = -EAGAIN;
	for (;;) {
		if (cancel == 0)
			cancel = wait_verdict(p, deadline, &wait_ms);
		if (cancel != 0 && answer_by == 0) {
			if (send_wait(p, KXMON_MSG_WAIT_CANCEL, seq, child_id) != 0)
				return -EPIPE;
			answer_by = now_ns() + ANSWER_WAIT_MS * 1000000ull;
			wait_ms = ANSWER_WAIT_MS;
		}
		rc = hv_mgr_next(p, seq, wait_ms, &m, fds, &nfds);
		if (rc < 0 || (rc == 1 && m.type != KXMON_MSG_WAIT_RESP) ||
		    (rc == 0 && answer_by != 0 && now_ns() >= answer_by))
			break;
		if (rc != 1)
			continue; /* kept a signal or a push, or the monitor got a signal */
		if ((child_id != 0 && m.u.wait.child_id != child_id) ||
		    (m.u.wait.result == -EINTR && cancel == 0))
			break;
		if (m.u.wait.result == -EINTR) {
			*waited = 0;
			return cancel == -EAGAIN ? 0 : cancel;
		}
		if (m.u.wait.result != 0)
			return m.u.wait.result;
		*waited = m.u.wait.child_id;
		*status = m.u.wait.status;
		return 0;
	}
	return -EPIPE;
}

static void hc_wait(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	uint64_t waited = 0;
	int64_t status = 0;
	int rc;

	if (p->mgr == NULL) {
		b->hdr.ret = -KX_EPERM;
		return;
	}
	rc = hv_proc_waitx(p, b->wait.child_id, 0, 0, &waited, &status);
	if (rc == -EPIPE) {
		hv_bad(res, "kx_wait: the channel to the manager broke");
		return;
	}
	b->wait.status = rc == 0 ? status : 0;
	b->hdr.ret = rc == 0 ? 0 : hv_guest_errno(rc);
}

static void hc_waitx(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kx_hc_waitx *w = &b->waitx;
	uint64_t waited = 0;
	int64_t status = 0;
	int rc = -EPERM;

	if (p->mgr != NULL)
		rc = w->flags & ~(uint64_t)KX_WNOHANG
			     ? -EINVAL
			     : hv_proc_waitx(p, w->child_id, (uint32_t)w->flags, w->timeout_ns,
					     &waited, &status);
	if (rc == -EPIPE) {
		hv_bad(res, "kx_waitx: the channel to the manager broke");
		return;
	}
	w->status = rc == 0 ? status : 0;
	b->hdr.ret = rc == 0 ? (int64_t)waited : hv_guest_errno(rc);
}

static const struct hv_hcall_desc hcalls[] = {
	{KX_HC_FORK, sizeof(struct kx_hc_fork), hc_fork},
	{KX_HC_WAIT, sizeof(struct kx_hc_wait), hc_wait},
	{KX_HC_WAITX, sizeof(struct kx_hc_waitx), hc_waitx},
};

const struct hv_module hv_mod_proc = {
	.name = "proc",
	.hcalls = hcalls,
	.nhcalls = sizeof(hcalls) / sizeof(hcalls[0]),
};
