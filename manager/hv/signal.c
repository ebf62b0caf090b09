/*
 * signal.c — the module "signal": signals of one pVM (docs/signals.md).
 *
 * kx_kill is KILL_REQ / KILL_RESP through kxd (gate_ipc decides); kxd
 * pushes SIGNAL messages, which stay pending until a safe point.  There,
 * one signal at a time, the lowest number first (as Linux's standard
 * signals): an ignored one is dropped, a default action ends the pVM with
 * 128+N, a handler is entered — while another runs, it waits.
 *
 * Entering a handler keeps the interrupted vCPU state — every general
 * register, RIP, RFLAGS and the x87/SSE state — in the monitor, and
 * KX_HC_SIGRETURN restores exactly that.  Nothing is read back from guest
 * memory, so a handler cannot forge a frame (its own RFLAGS, another RIP):
 * the worst it can do is run on, which it could anyway.
 *
 * A backend that cannot redirect the vCPU (be->signal_mark: Xen PV) hands
 * the handler to the guest instead, which runs it after the answer to a
 * hypercall and keeps the interrupted state itself, as an ordinary call
 * does: then KX_HC_SIGRETURN only ends the handler for the monitor.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manager/hv/internal.h"

/* Below the interrupted stack: skip a red zone (the runtime is built
 * without one, but an app need not be) and keep the ABI's 16-byte
 * alignment at the trampoline's entry, which then `call`s the handler. */
#define SIG_RED_ZONE 128u

struct hv_signals {
	uint32_t pending;	   /* bit N: signal N waits for a safe point */
	uint64_t handler[KX_NSIG]; /* KX_SIG_DFL, KX_SIG_IGN or the guest's handler */
	uint64_t trampoline;	   /* where a handler is entered (the guest runtime's) */
	uint64_t from[KX_NSIG];	   /* the sender of each pending signal */
	int handled;		   /* a handler ran since kx_pause last returned */
	bool in_handler;	   /* a handler runs: the state it interrupted is kept */
	bool guest_frame;	   /* ... by the guest (signal_mark), not in frame */
	struct hv_vcpu frame;
};

static struct hv_signals *sig_of(struct hv_pvm *p)
{
	if (p->sig == NULL)
		p->sig = calloc(1, sizeof(*p->sig));
	return p->sig;
}

static bool ignored(const struct hv_signals *s, unsigned sig)
{
	/* SIGCHLD's default action is to ignore it, as on Linux. */
	return s->handler[sig] == KX_SIG_IGN ||
	       (sig == KX_SIGCHLD && s->handler[sig] == KX_SIG_DFL);
}

bool hv_signal_deliverable(const struct hv_pvm *p)
{
	const struct hv_signals *s = p->sig;

	for (unsigned sig = 1; s != NULL && sig < KX_NSIG; sig++)
		if ((s->pending & (1u << sig)) && !ignored(s, sig))
			return true;
	return false;
}

bool hv_signal_interrupted_state(const struct hv_pvm *p, uint64_t *rip, uint64_t *rbp)
{
	if (p->sig == NULL || !p->sig->in_handler || p->sig->guest_frame)
		return false;
	*rip = p->sig->frame.rip;
	*rbp = p->sig->frame.gpr[5];
	return true;
}

/* Keep the vCPU state and enter trampoline(sig, handler) on the guest's
 * stack.  -EBUSY while a handler runs or the vCPU is not where the guest
 * runs (the signal stays pending). */
static int enter_handler(struct hv_pvm *p, uint32_t sig, struct kx_error *err)
{
	struct hv_signals *s = p->sig;
	struct hv_vcpu st;
	int rc;

	if (s->in_handler)
		return kx_err(err, -EBUSY, "a signal handler is running");
	if (p->be->signal_mark != NULL) {
		rc = p->be->signal_mark(p->vm, sig, s->handler[sig], err);
		s->in_handler = rc == 0;
		s->guest_frame = rc == 0;
		p->handler_entered |= rc == 0;
		return rc;
	}
	/* A kick can stop the vCPU inside a backend's own code (the ring-0
	 * fault stubs of a backend), on its way to report a fault: entering the
	 * handler there would run guest code in the monitor's ring.  Only
	 * where the guest itself runs. */
	rc = hv_get_vcpu(p, &st, HV_VCPU_REGS | HV_VCPU_SEGS | HV_VCPU_FPU, err);
	if (rc != 0)
		return rc;
	if (!st.user)
		return kx_err(err, -EBUSY, "the vCPU is not at CPL3");
	s->frame = st;
	st.rip = s->trampoline;
	st.gpr[7] = sig;		 /* rdi */
	st.gpr[6] = s->handler[sig];	 /* rsi */
	st.gpr[4] = (st.gpr[4] - SIG_RED_ZONE) & ~15ull;
	rc = hv_set_vcpu(p, &st, HV_VCPU_REGS, err);
	if (rc == 0)
		s->in_handler = p->handler_entered = true;
	return rc;
}

int hv_test_signal_enter(struct hv_pvm *p, uint32_t sig, uint64_t handler, uint64_t trampoline,
			 struct kx_error *err)
{
	struct hv_signals *s = sig_of(p);

	if (s == NULL || sig == 0 || sig >= KX_NSIG)
		return kx_err(err, -EINVAL, "no such signal");
	s->handler[sig] = handler;
	s->trampoline = trampoline;
	return enter_handler(p, sig, err);
}

static int leave_handler(struct hv_pvm *p)
{
	struct hv_signals *s = p->sig;
	struct kx_error err;

	if (s == NULL || !s->in_handler)
		return -EINVAL;
	s->in_handler = false;
	if (s->guest_frame) {
		s->guest_frame = false;
		return 0;
	}
	return hv_set_vcpu(p, &s->frame, HV_VCPU_FPU | HV_VCPU_REGS, &err) != 0 ? -EIO : 0;
}

int hv_test_sigreturn(struct hv_pvm *p)
{
	return leave_handler(p);
}

static void signal_safe_point(struct hv_pvm *p)
{
	struct hv_signals *s = p->sig;
	struct kx_error err = {{0}};

	for (unsigned sig = 1; s != NULL && sig < KX_NSIG && s->pending != 0; sig++) {
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
			hv_stop(p, &(struct hv_end){.reason = HV_END_SIGNAL, .signal = sig,
						    .signal_from = s->from[sig]});
			return;
		}
		rc = enter_handler(p, sig, &err);
		if (rc == -EBUSY)
			return;
		s->pending &= ~bit;
		s->handled = 1;
		if (rc != 0)
			hv_stop_channel(p, "cannot enter the handler of signal %u: %.400s", sig,
					err.msg);
		return;
	}
}

/* SIGNAL from kxd (checked by chan_check_from_kxd): pending until a safe point. */
static int signal_push(struct hv_pvm *p, const struct kxmon_msg *m, const int *fds, int nfds)
{
	struct hv_signals *s = sig_of(p);

	if (s == NULL || nfds != 0)
		return -EPROTO;
	(void)fds;
	s->pending |= 1u << m->u.sig.sig;
	s->from[m->u.sig.sig] = m->u.sig.pvm_id;
	return 0;
}

/* As fork(2): handlers are inherited, pending signals are not. */
static void signal_fork_child(struct hv_pvm *p)
{
	if (p->sig != NULL)
		p->sig->pending = 0;
}

static void signal_destroy(struct hv_pvm *p)
{
	free(p->sig);
	p->sig = NULL;
}

/* ---- hypercalls ----------------------------------------------------------------- */

static void hc_kill(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kxmon_msg m;
	int fds[KXMON_MAX_FDS], nfds, rc;

	if (p->mgr == NULL) {
		b->hdr.ret = -KX_EPERM;
		return;
	}
	if (b->kill.sig >= KX_NSIG) {
		b->hdr.ret = -KX_EINVAL;
		return;
	}
	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_KILL_REQ;
	m.u.sig.pvm_id = b->kill.pvm_id;
	m.u.sig.sig = (uint32_t)b->kill.sig;
	rc = hv_mgr_call(p, &m, KXMON_MSG_KILL_RESP, fds, &nfds);
	if (rc != 0) {
		hv_bad(res, "kx_kill: the channel to the manager broke");
		return;
	}
	b->hdr.ret = m.u.sig.result == 0 ? 0 : hv_guest_errno(m.u.sig.result);
}

static void hc_sigaction(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	const struct kx_hc_sigaction *a = &b->sigaction;
	struct hv_signals *s;

	(void)res;
	if (p->mgr == NULL) {
		b->hdr.ret = -KX_EPERM;
		return;
	}
	s = sig_of(p);
	if (s == NULL || a->sig == 0 || a->sig >= KX_NSIG || a->sig == KX_SIGKILL ||
	    (a->handler > KX_SIG_IGN && a->trampoline == 0)) {
		b->hdr.ret = -KX_EINVAL;
		return;
	}
	s->handler[a->sig] = a->handler;
	if (a->handler > KX_SIG_IGN)
		s->trampoline = a->trampoline;
	if (ignored(s, (unsigned)a->sig))
		s->pending &= ~(1u << a->sig);
	b->hdr.ret = 0;
}

/* On success the vCPU is back where the handler interrupted it: the block
 * written back lies in the handler's dead stack. */
static void hc_sigreturn(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	int rc = leave_handler(p);

	if (rc == -EIO)
		hv_bad(res, "kx_sigreturn: the interrupted state could not be restored");
	b->hdr.ret = rc == 0 ? 0 : -KX_EINVAL;
}

static void hc_pause(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kxmon_msg m;
	int fds[KXMON_MAX_FDS], nfds;

	if (p->mgr == NULL) {
		b->hdr.ret = -KX_EPERM;
		return;
	}
	/* A handler that ran just before the call counts: `while (!flag)
	 * kx_pause();` cannot sleep through the signal that set flag. */
	while ((p->sig == NULL || !p->sig->handled) && !hv_interrupted(p))
		if (hv_mgr_next(p, 0, -1, &m, fds, &nfds) < 0) {
			hv_bad(res, "kx_pause: the channel to the manager broke");
			return;
		}
	if (p->sig != NULL)
		p->sig->handled = 0;
	b->hdr.ret = -KX_EINTR;
}

static const struct hv_hcall_desc hcalls[] = {
	{KX_HC_KILL, sizeof(struct kx_hc_kill), hc_kill},
	{KX_HC_SIGACTION, sizeof(struct kx_hc_sigaction), hc_sigaction},
	{KX_HC_SIGRETURN, sizeof(struct kx_hc_sigreturn), hc_sigreturn},
	{KX_HC_PAUSE, sizeof(struct kx_hc_pause), hc_pause},
};

static const uint32_t pushes[] = {KXMON_MSG_SIGNAL};

const struct hv_module hv_mod_signal = {
	.name = "signal",
	.hcalls = hcalls,
	.nhcalls = sizeof(hcalls) / sizeof(hcalls[0]),
	.push_types = pushes,
	.npush_types = sizeof(pushes) / sizeof(pushes[0]),
	.push = signal_push,
	.safe_point = signal_safe_point,
	.fork_child = signal_fork_child,
	.destroy = signal_destroy,
};
