/*
 * signal.c — signals between pVMs and from operators, and the parts of
 * exit/wait built on them (docs/signals.md):
 *   KILL_REQ     a guest's kx_kill: the sender is the pVM on the channel;
 *                gate_ipc(sender, target, signal) decides and audits
 *   SIGNAL       kxd -> the target's kxmon (KX_SIGKILL never goes there:
 *                kxd ends the pVM itself, so it cannot be caught)
 *   SIGCHLD      to a parent when a child ends
 *   WAIT_CANCEL  answers a WAIT_REQ in flight at once (-EINTR)
 *   zombies      an ended child its parent has not waited for keeps its
 *                slot and counts toward the fork limits, as on Linux
 * The gate decides (and audits) the first signal from one pVM to another,
 * like opening a channel; while that pair stays the sender's last allowed
 * one, later signals reuse the decision (the policy cannot change while
 * kxd runs, and pVM ids are never reused).  Denials are decided every time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <string.h>

#include "guest/kx_hcall_abi.h"
#include "manager/kxd/internal.h"

bool kxd_pvm_zombie(const struct kxd *d, const struct kxd_pvm *p)
{
	const struct kxd_pvm *parent;

	if (!p->used || p->state != KXD_PVM_EXITED || p->parent_id == 0 || p->waited)
		return false;
	for (int i = 0; i < KXD_MAX_PVMS; i++) {
		parent = &d->pvms[i];
		if (parent->used && parent->id == p->parent_id)
			return parent->state != KXD_PVM_EXITED;
	}
	return false;
}

/* Deliver sig (1..KX_NSIG-1) to a running pVM, sent by `from` (0: kxd or
 * an operator).  0, or -errno. */
static int deliver(struct kxd *d, struct kxd_pvm *target, uint32_t sig, uint64_t from)
{
	struct kxmon_msg msg;
	char why[KXMON_TEXT_MAX];

	/* A forked child whose HELLO (its pid) has not come yet gets it as a
	 * message: kxmon never lets a guest catch or ignore KX_SIGKILL. */
	if (sig == KX_SIGKILL && target->pid > 0) {
		if (from)
			snprintf(why, sizeof(why), "killed by signal 9 (SIGKILL) from pVM %llu",
				 (unsigned long long)from);
		else
			snprintf(why, sizeof(why), "killed by signal 9 (SIGKILL)");
		kxd_pvm_end(d, target, why);
		return 0;
	}
	if (target->chan < 0)
		return -ESRCH;
	memset(&msg, 0, sizeof(msg));
	msg.type = KXMON_MSG_SIGNAL;
	msg.size = sizeof(msg);
	msg.u.sig.sig = sig;
	msg.u.sig.pvm_id = from;
	return kxd_chan_send(d, target, &msg, sizeof(msg), NULL, 0);
}

static struct kxd_pvm *running(struct kxd *d, uint64_t id)
{
	struct kxd_pvm *p = kxd_pvm_find(d, id);

	/* a forked child not yet started has no pid, but a channel */
	return p && p->state != KXD_PVM_EXITED && (p->pid > 0 || p->chan >= 0) ? p : NULL;
}

/* May p signal target?  0, or -EACCES (logged; the gate audited it). */
static int may_signal(struct kxd *d, struct kxd_pvm *p, struct kxd_pvm *target)
{
	struct gate_subject sender, receiver;
	struct gate_decision dec;
	char why[KXMON_TEXT_MAX];
	int rc;

	if (p->sig_allowed == target->id)
		return 0;
	kxd_pvm_subject(p, &sender);
	kxd_pvm_subject(target, &receiver);
	rc = gate_ipc(d->gate, &sender, &receiver, KXP_IPC_SIGNAL, &dec);
	if (rc != 0 || dec.verdict != KXP_ALLOW) {
		kxd_describe_denial(&dec, rc, "signal", why, sizeof(why));
		kxd_log("pVM %llu (%s): kill pVM %llu: %s", (unsigned long long)p->id, p->app,
			(unsigned long long)target->id, why);
		return -EACCES;
	}
	p->sig_allowed = target->id;
	return 0;
}

void kxd_sig_kill_req(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in)
{
	/* 0: the parent (a family's root has none) */
	uint64_t id = in->u.sig.pvm_id ? in->u.sig.pvm_id : p->parent_id;
	struct kxd_pvm *target = id ? running(d, id) : NULL;
	struct kxmon_msg msg;
	int result = target ? may_signal(d, p, target) : -ESRCH;

	/* a target whose channel is gone is ending */
	if (result == 0 && in->u.sig.sig != 0 && deliver(d, target, in->u.sig.sig, p->id) != 0)
		result = -ESRCH;
	memset(&msg, 0, sizeof(msg));
	msg.type = KXMON_MSG_KILL_RESP;
	msg.size = sizeof(msg);
	msg.seq = in->seq;
	msg.u.sig = in->u.sig;
	msg.u.sig.result = result;
	if (p->chan >= 0 && kxd_chan_send(d, p, &msg, sizeof(msg), NULL, 0) != 0)
		kxd_pvm_end(d, p, "ended by kxd: cannot answer on its channel");
}

/*
 * EXIT comes just before kxmon exits with that status; tearing its VM down
 * then takes milliseconds.  The pVM has ended: the parent's kx_wait, its
 * `kxctl run` and its children (the orphan rule) are told now.  Its kxmon
 * gets SIGKILL all the same, so that nothing that said it ended runs on
 * unsupervised; kxd reaps it later without looking at it again.
 */
void kxd_sig_exit_msg(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in)
{
	siginfo_t si;

	/* Already reaped: kxd_reap's own ended() is reading what was left. */
	if (p->state != KXD_PVM_RUNNING || p->pid <= 0 || in->u.exit.status < 0 ||
	    in->u.exit.status > 255 ||
	    waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
		return;
	kill(p->pid, SIGKILL);
	kxd_pvm_ended(d, p, in->u.exit.status << 8);
}

void kxd_sig_wait_cancel(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in)
{
	struct kxmon_msg msg;

	/* Already answered (a child ended first): the answer is on its way. */
	if (p->wait_seq == 0 || p->wait_seq != in->seq)
		return;
	memset(&msg, 0, sizeof(msg));
	msg.type = KXMON_MSG_WAIT_RESP;
	msg.size = sizeof(msg);
	msg.seq = p->wait_seq;
	msg.u.wait.child_id = p->wait_child;
	msg.u.wait.result = -EINTR;
	p->wait_seq = 0;
	p->wait_child = 0;
	if (p->chan >= 0 && kxd_chan_send(d, p, &msg, sizeof(msg), NULL, 0) != 0)
		kxd_pvm_end(d, p, "ended by kxd: cannot answer on its channel");
}

void kxd_sig_wait_any(struct kxd *d, struct kxd_pvm *p)
{
	struct kxd_pvm *live = NULL;

	for (int i = 0; i < KXD_MAX_PVMS; i++) {
		struct kxd_pvm *c = &d->pvms[i];

		if (!c->used || c->parent_id != p->id || c->waited)
			continue;
		if (c->state == KXD_PVM_EXITED) {
			kxd_wait_answer(d, p, c);
			return;
		}
		live = c;
	}
	if (!live)
		kxd_wait_answer(d, p, NULL); /* no children left: -ECHILD */
	/* else: answered when one ends (registry.c) */
}

void kxd_sig_child_ended(struct kxd *d, struct kxd_pvm *child)
{
	struct kxd_pvm *parent = child->parent_id ? running(d, child->parent_id) : NULL;

	if (parent)
		deliver(d, parent, KX_SIGCHLD, child->id);
}

void kxd_sig_operator(struct kxd *d, int ci, const struct kxd_req *req)
{
	struct kxd_pvm *p = running(d, req->pvm_id);

	if (!p) {
		kxd_reply(d, ci, KXD_RESP_ERROR, NULL, "no running pVM %llu",
			  (unsigned long long)req->pvm_id);
		return;
	}
	kxd_log("operator uid %u: signal %d to pVM %llu (%s)", d->clients[ci].uid, req->sig,
		(unsigned long long)p->id, p->app);
	if (deliver(d, p, (uint32_t)req->sig, 0) != 0)
		kxd_reply(d, ci, KXD_RESP_ERROR, p, "pVM %llu: its channel is closed",
			  (unsigned long long)p->id);
	else
		kxd_reply(d, ci, KXD_RESP_OK, p, "%s", "");
}
