/*
 * kxmon/signal.c — signals of one pVM on kxmon's side (docs/signals.md):
 * kx_kill as KILL_REQ/KILL_RESP through kxd, dispositions, SIGNAL messages
 * kept pending until a safe point, delivery (a handler through the
 * backend's signal_enter, or the default action), kx_pause, and kx_wait
 * with any child, no-hang, a timeout and interruption by a signal.
 *
 * SIGNAL and KILL_RESP bodies come from kxd and are checked like every
 * other message (chan_check_from_kxd) before use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "manager/kxmon/kxmon.h"

volatile sig_atomic_t kxmon_sig_timed_out;

static const char *const sig_names[KX_NSIG] = {
	[KX_SIGHUP] = "SIGHUP",	  [KX_SIGINT] = "SIGINT",   [KX_SIGKILL] = "SIGKILL",
	[KX_SIGUSR1] = "SIGUSR1", [KX_SIGUSR2] = "SIGUSR2", [KX_SIGTERM] = "SIGTERM",
	[KX_SIGCHLD] = "SIGCHLD",
};

void kxmon_signal_queue(struct kxmon_client *c, const struct kxmon_msg *m)
{
	c->sig.pending |= 1u << m->u.sig.sig;
	c->sig.from[m->u.sig.sig] = m->u.sig.pvm_id;
}

static int ignored(const struct kxmon_sig_state *s, unsigned sig)
{
	return s->handler[sig] == KX_SIG_IGN ||
	       (s->handler[sig] == KX_SIG_DFL && sig == KX_SIGCHLD);
}

/* A pending signal that will do something: a blocking call returns -EINTR. */
static int deliverable(const struct kxmon_sig_state *s)
{
	for (unsigned sig = 1; sig < KX_NSIG; sig++)
		if ((s->pending & (1u << sig)) && !ignored(s, sig))
			return 1;
	return 0;
}

/* One signal at a time, the lowest number first (as Linux's standard
 * signals): ignored ones are dropped, a default action pauses the vCPU so
 * that kxmon ends the pVM with 128+N, a handler waits while another runs. */
void kxmon_signal_deliver(struct kxmon_client *c, struct hv_vm *vm)
{
	struct kxmon_sig_state *s = &c->sig;
	struct hv_error err = {{0}};

	for (unsigned sig = 1; sig < KX_NSIG && s->pending != 0 && s->ended_by == 0; sig++) {
		uint32_t bit = 1u << sig;
		int rc;

		if (!(s->pending & bit))
			continue;
		if (ignored(s, sig)) {
			s->pending &= ~bit;
			continue;
		}
		if (s->handler[sig] == KX_SIG_DFL) {
			s->pending &= ~bit;
			s->ended_by = sig;
			s->ended_from = s->from[sig];
			c->ops->pause(vm);
			return;
		}
		rc = c->ops->signal_enter(vm, sig, s->handler[sig], s->trampoline, &err);
		if (rc == -EBUSY)
			return;
		s->pending &= ~bit;
		s->handled = 1;
		if (rc != 0) {
			snprintf(c->reason, sizeof(c->reason),
				 "cannot enter the handler of signal %u: %.400s", sig, err.msg);
			c->broken = 1;
			c->ops->pause(vm);
		}
		return;
	}
}

int kxmon_signal_report(const struct kxmon_client *c, char *line, size_t size)
{
	const char *name = sig_names[c->sig.ended_by];

	if (c->sig.ended_from != 0)
		snprintf(line, size, "ended by signal %u (%s) from pVM %llu", c->sig.ended_by,
			 name ? name : "no default name", (unsigned long long)c->sig.ended_from);
	else
		snprintf(line, size, "ended by signal %u (%s)", c->sig.ended_by,
			 name ? name : "no default name");
	return 128 + (int)c->sig.ended_by;
}

int kxmon_signal_interrupted(void *ctx)
{
	struct kxmon_client *c = ctx;
	struct kxmon_msg m;
	int fds[4], nfds;

	while (kxmon_client_answer(c, 0, 0, &m, fds, &nfds) == 2)
		;
	return kxmon_sig_timed_out || deliverable(&c->sig);
}

static int sig_kill(void *ctx, uint64_t pvm_id, uint32_t sig)
{
	struct kxmon_client *c = ctx;
	struct kxmon_msg m;
	uint64_t seq;
	int fds[4], nfds, rc;

	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_KILL_REQ;
	m.seq = seq = c->next_seq++;
	m.u.sig.pvm_id = pvm_id;
	m.u.sig.sig = sig;
	if (kxmon_client_send(c, &m) != 0)
		return -EPIPE;
	do
		rc = kxmon_client_answer(c, seq, KXMON_CLIENT_WAIT_MS, &m, fds, &nfds);
	while (rc == 2 || (rc == 0 && !c->broken && !kxmon_sig_timed_out));
	if (rc != 1 || m.type != KXMON_MSG_KILL_RESP) {
		if (!c->broken)
			snprintf(c->reason, sizeof(c->reason), "channel to kxd: no KILL_RESP");
		c->broken = 1;
		return -EPIPE;
	}
	return m.u.sig.result;
}

static int sig_action(void *ctx, uint32_t sig, uint64_t handler, uint64_t trampoline)
{
	struct kxmon_client *c = ctx;

	if (sig == 0 || sig >= KX_NSIG || sig == KX_SIGKILL ||
	    (handler > KX_SIG_IGN && trampoline == 0))
		return -EINVAL;
	c->sig.handler[sig] = handler;
	if (handler > KX_SIG_IGN)
		c->sig.trampoline = trampoline;
	if (ignored(&c->sig, sig))
		c->sig.pending &= ~(1u << sig);
	return 0;
}

static int sig_pause(void *ctx)
{
	struct kxmon_client *c = ctx;
	struct kxmon_msg m;
	int fds[4], nfds;

	/* A handler that ran just before the call counts: `while (!flag)
	 * kx_pause();` cannot sleep through the signal that set flag. */
	while (!c->sig.handled && !kxmon_sig_timed_out && !deliverable(&c->sig))
		if (kxmon_client_answer(c, 0, -1, &m, fds, &nfds) < 0)
			return -EPIPE;
	c->sig.handled = 0;
	return -EINTR;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int send_wait(struct kxmon_client *c, uint32_t type, uint64_t seq, uint64_t child_id)
{
	struct kxmon_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.seq = seq;
	m.u.wait.child_id = child_id;
	return kxmon_client_send(c, &m);
}

/* What to do next: 0 keep waiting (*wait_ms), or why to cancel the wait. */
static int wait_verdict(const struct kxmon_client *c, uint64_t deadline, int *wait_ms)
{
	uint64_t now;

	if (kxmon_sig_timed_out || deliverable(&c->sig))
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

/*
 * WAIT_REQ, then the answer.  kxd answers when a child ends; a no-hang
 * call, a timeout or a signal sends WAIT_CANCEL and kxd answers at once
 * (-EINTR if no child had ended: the cancel's own reason is returned).  A
 * status that arrives after a cancel is still the guest's: nothing is lost.
 */
static int sig_waitx(void *ctx, uint64_t child_id, uint32_t flags, uint64_t timeout_ns,
		     uint64_t *waited, int64_t *status)
{
	struct kxmon_client *c = ctx;
	uint64_t seq = c->next_seq++, deadline = 0, answer_by = 0;
	struct kxmon_msg m;
	int fds[4], nfds, cancel = 0, wait_ms = -1, rc;

	if (timeout_ns != 0 && __builtin_add_overflow(now_ns(), timeout_ns, &deadline))
		deadline = UINT64_MAX;
	if (send_wait(c, KXMON_MSG_WAIT_REQ, seq, child_id) != 0)
		return -EPIPE;
	if (flags & KX_WNOHANG)
		cancel = -EAGAIN;
	for (;;) {
		if (cancel == 0)
			cancel = wait_verdict(c, deadline, &wait_ms);
		if (cancel != 0 && answer_by == 0) {
			if (send_wait(c, KXMON_MSG_WAIT_CANCEL, seq, child_id) != 0)
				return -EPIPE;
			answer_by = now_ns() + KXMON_CLIENT_WAIT_MS * 1000000ull;
			wait_ms = KXMON_CLIENT_WAIT_MS;
		}
		rc = kxmon_client_answer(c, seq, wait_ms, &m, fds, &nfds);
		if (rc < 0 || (rc == 1 && m.type != KXMON_MSG_WAIT_RESP) ||
		    (rc == 0 && answer_by != 0 && now_ns() >= answer_by))
			break;
		if (rc != 1)
			continue; /* kept a signal or a push, or kxmon got a signal */
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
	if (!c->broken)
		snprintf(c->reason, sizeof(c->reason), "channel to kxd: bad or no WAIT_RESP");
	c->broken = 1;
	return -EPIPE;
}

int kxmon_client_wait(void *ctx, uint64_t child_id, int64_t *status)
{
	uint64_t waited = 0;

	return sig_waitx(ctx, child_id, 0, 0, &waited, status);
}

const struct hv_sig_hooks kxmon_sig_hooks = {
	.kill = sig_kill,
	.action = sig_action,
	.pause = sig_pause,
	.waitx = sig_waitx,
};
