/*
 * Messages on a pVM's channel (manager/chan/chan.h).  The channel is the
 * pVM's identity: a LINK_REQ is decided for the pVM whose socket it came
 * on, whatever it says.  Every message is checked (chan_check_from_kxmon) before
 * a field is read; a malformed one, or one out of turn, ends that pVM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "manager/kxd/internal.h"

static void malformed(struct kxd *d, struct kxd_pvm *p, const char *why)
{
	char report[KXMON_TEXT_MAX];

	kxd_log("pVM %llu (%s): malformed message on its channel: %s; ending it",
		(unsigned long long)p->id, p->app, why);
	snprintf(report, sizeof(report), "ended by kxd: malformed channel message: %s", why);
	kxd_pvm_end(d, p, report);
	close(p->chan);
	p->chan = -1;
}

/*
 * Is in the mount request kxd expects?  Only a monitor booting its app's
 * image asks, mount 0, 1, ... in order, until kxd answers "no more" or
 * denies one (files.c): each is one audited gate decision, so the signed
 * policy's rules bound them and they are not charged to the audit rate.
 * Anything else is refused as malformed: a request after the boot (its
 * Landlock wall is raised over the directories it had then, docs/jail.md),
 * one by a forked child (it inherits its parent's mounts and wall) or by a
 * pool pVM (recycled or not: it gets no mounts and no wall) — each a way
 * for a monitor its guest took over to get a directory fd outside its
 * wall, or to flood the audit log with decisions.
 */
static bool mount_expected(const struct kxd_pvm *p, const struct kxmon_msg *in)
{
	return !p->forked && p->pool_app[0] == '\0' && !p->mounts_settled &&
	       in->u.fs_mount_req.index == p->mounts_next;
}

/*
 * Is an at_boot LINK_REQ one kxd expects?  Links of the image's DT_NEEDED
 * tree are neither charged to the audit rate nor refused by it (the signed
 * image bounds them), but the at_boot flag is the monitor's word: one its
 * guest took over could mark every request so and flood the audit log
 * uncharged.  The monitor links the tree before its modules' setup asks for
 * the mounts (manager/hv/core.c hv_load), so a boot link comes before the
 * mounts are settled, never from a forked child (it links nothing at boot),
 * and at most KXD_BOOT_LINKS_MAX of them; anything else is malformed.
 */
static bool boot_link_expected(const struct kxd_pvm *p)
{
	return !p->forked && !p->mounts_settled && p->boot_links < KXD_BOOT_LINKS_MAX;
}

static void record_lib(struct kxd_pvm *p, const struct kxd_linked *lib)
{
	for (size_t i = 0; i < p->nlibs; i++)
		if (memcmp(p->libs[i].digest, lib->digest, sizeof(lib->digest)) == 0 &&
		    strcmp(p->libs[i].name, lib->name) == 0)
			return;
	if (p->nlibs < KXD_MAX_LINKED)
		p->libs[p->nlibs++] = *lib;
}

/* Fill a LINK_RESP / LINK_PUSH body from a decision. */
static void fill_link(struct kxd *d, const struct kxd_pvm *p, const char *name,
		      const struct gate_decision *dec, const char *why, struct kxmon_link *out)
{
	struct kxp_lib_info info;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name);
	if (dec && dec->verdict == KXP_ALLOW) {
		out->allow = 1;
		out->bind = KXMON_BIND_LAZY;
		if (kxp_lib_lookup(d->policy, p->app, dec->meta.name, &info) == 0 &&
		    info.bind == KXP_BIND_NOW)
			out->bind = KXMON_BIND_NOW;
		snprintf(out->version, sizeof(out->version), "%s", dec->meta.version);
		memcpy(out->digest, dec->meta.digest, sizeof(out->digest));
	} else {
		snprintf(out->reason, sizeof(out->reason), "%s", why);
	}
}

/* What the registry keeps: the signed name and version, the digest. */
static void linked_of(const struct gate_decision *dec, struct kxd_linked *out)
{
	snprintf(out->name, sizeof(out->name), "%s", dec->meta.name);
	snprintf(out->version, sizeof(out->version), "%s", dec->meta.version);
	memcpy(out->digest, dec->meta.digest, sizeof(out->digest));
}

static void link_req(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in)
{
	struct kxmon_msg msg;
	struct gate_subject self;
	struct gate_decision dec;
	char why[KXMON_TEXT_MAX] = "";
	const char *name = in->u.link_req.name;
	int memfd = -1, rc;

	memset(&msg, 0, sizeof(msg));
	msg.type = KXMON_MSG_LINK_RESP;
	msg.size = sizeof(msg);
	msg.seq = in->seq;
	kxd_pvm_subject(p, &self);
	rc = kxd_lib_decide(d, &self, p, name, &dec, &memfd, why, sizeof(why));
	fill_link(d, p, name, rc == 0 ? &dec : NULL, why, &msg.u.link);
	if (msg.u.link.allow) {
		struct kxd_linked lib;

		linked_of(&dec, &lib);
		record_lib(p, &lib);
	} else {
		kxd_log("pVM %llu (%s): link %s: %s", (unsigned long long)p->id, p->app, name,
			msg.u.link.reason);
	}
	rc = kxd_chan_send(d, p, &msg, sizeof(msg), &memfd, memfd >= 0 ? 1 : 0);
	if (rc != 0)
		malformed(d, p, "cannot answer on the channel");
}

static void link_done(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in)
{
	int ci = p->push_client;

	if (p->push_seq == 0 || in->seq != p->push_seq) {
		malformed(d, p, "LINK_DONE without a LINK_PUSH");
		return;
	}
	p->push_seq = 0;
	p->push_client = -1;
	if (in->u.done.result == 0)
		record_lib(p, &p->push_lib);
	if (ci < 0)
		return;
	if (in->u.done.result == 0)
		kxd_reply(d, ci, KXD_RESP_OK, p, "linked %s %s into pVM %llu", p->push_lib.name,
			  p->push_lib.version, (unsigned long long)p->id);
	else
		kxd_reply(d, ci, KXD_RESP_ERROR, p, "pVM %llu could not map %s: %s (%s)",
			  (unsigned long long)p->id, p->push_lib.name, in->u.done.message,
			  strerror(-in->u.done.result)); /* checked: -errno */
}

static void fork_req(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in)
{
	struct gate_family_counts counts;
	struct gate_subject parent;
	struct gate_decision dec;
	struct kxd_pvm *child = NULL;
	struct kxmon_msg msg;
	char why[KXMON_TEXT_MAX] = "";
	int child_fd = -1, rc;

	memset(&msg, 0, sizeof(msg));
	msg.type = KXMON_MSG_FORK_RESP;
	msg.size = sizeof(msg);
	msg.seq = in->seq;
	kxd_pvm_subject(p, &parent);
	kxd_family_counts(d, p, &counts);
	rc = gate_fork(d->gate, &parent, &counts, &dec);
	if (rc != 0 || dec.verdict != KXP_ALLOW) {
		kxd_describe_denial(&dec, rc, "fork", why, sizeof(why));
		msg.u.fork.error = -EACCES;
	} else if ((rc = kxd_ipc_fork_check(d, p, why, sizeof(why))) != 0) {
		msg.u.fork.error = rc; /* an IpC object the child would inherit */
	} else if (kxd_pvm_fork(d, p, &child, &child_fd, why, sizeof(why)) != 0) {
		msg.u.fork.error = -EAGAIN;
	} else {
		msg.u.fork.allow = 1;
		msg.u.fork.child_id = child->id;
		kxd_ipc_fork(d, p, child);
	}
	if (!msg.u.fork.allow) {
		snprintf(msg.u.fork.reason, sizeof(msg.u.fork.reason), "%s", why);
		kxd_log("pVM %llu (%s): %s", (unsigned long long)p->id, p->app, why);
	}
	rc = kxd_chan_send(d, p, &msg, sizeof(msg), &child_fd, child_fd >= 0 ? 1 : 0);
	if (child_fd >= 0)
		close(child_fd); /* only the child keeps its end */
	if (rc != 0)
		malformed(d, p, "cannot answer on the channel");
	else if (msg.u.fork.allow)
		kxd_jail_forked(d, child); /* while the parent forks: joined at HELLO */
}

void kxd_wait_answer(struct kxd *d, struct kxd_pvm *p, struct kxd_pvm *c)
{
	struct kxmon_msg msg;

	memset(&msg, 0, sizeof(msg));
	msg.type = KXMON_MSG_WAIT_RESP;
	msg.size = sizeof(msg);
	msg.seq = p->wait_seq;
	msg.u.wait.child_id = c ? c->id : p->wait_child;
	msg.u.wait.result = c ? 0 : -ECHILD;
	msg.u.wait.status = c ? c->status : 0;
	if (c)
		c->waited = true;
	p->wait_seq = 0;
	p->wait_child = 0;
	if (p->chan >= 0 && kxd_chan_send(d, p, &msg, sizeof(msg), NULL, 0) != 0)
		malformed(d, p, "cannot answer on the channel");
}

/* A child of this pVM (by the channel it came on), not yet waited for. */
static void wait_req(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in)
{
	struct kxd_pvm *c = kxd_pvm_find(d, in->u.wait.child_id);

	if (p->wait_seq != 0) {
		malformed(d, p, "a second WAIT_REQ while one is in flight");
		return;
	}
	p->wait_seq = in->seq;
	p->wait_child = in->u.wait.child_id;
	if (p->wait_child == 0) {
		kxd_sig_wait_any(d, p); /* signal.c */
		return;
	}
	if (!c || c->parent_id != p->id || c->waited)
		kxd_wait_answer(d, p, NULL);
	else if (c->state == KXD_PVM_EXITED)
		kxd_wait_answer(d, p, c);
	/* else: answered when the child ends (registry.c) */
}

/* posix-mon: this pVM's ids, for its getpid and getppid. */
static void self_req(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in)
{
	struct kxmon_msg msg;

	memset(&msg, 0, sizeof(msg));
	msg.type = KXMON_MSG_SELF_RESP;
	msg.size = sizeof(msg);
	msg.seq = in->seq;
	msg.u.self.pvm_id = p->id;
	msg.u.self.parent_id = p->parent_id;
	if (kxd_chan_send(d, p, &msg, sizeof(msg), NULL, 0) != 0)
		malformed(d, p, "cannot answer on the channel");
}

/* posix-mon: a system call the pVM needed and its layer lacks, logged and
 * kept for `kxctl list` once per number (the monitor sends each once; a
 * monitor that repeats itself changes nothing). */
static void posix_enosys(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in)
{
	uint32_t nr = in->u.enosys.nr;
	uint64_t bit = 1ull << (nr % 64);

	(void)d;
	if (p->enosys[nr / 64] & bit)
		return;
	p->enosys[nr / 64] |= bit;
	kxd_log("pVM %llu (%s): system call %u is not implemented (ENOSYS)",
		(unsigned long long)p->id, p->app, nr);
}

/*
 * A forked pVM's HELLO: kxd did not fork its monitor, so the pid is the one
 * the kernel names as the sender (SO_PASSCRED on the channel, registry.c),
 * never the number in the message.  kxd moves that process into the
 * child's cgroup and kills it when the child ends: a monitor its guest took
 * over used to name any pid — an unrelated process, kxd itself — and have
 * root kxd move and kill it (a review finding).  The message's pid must
 * agree; a sender the kernel does not name is refused.
 */
static void hello(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in, pid_t sender)
{
	struct kxd_pvm *parent;
	struct kxmon_msg ready;
	char why[KXMON_TEXT_MAX];

	if (p->state != KXD_PVM_STARTING) {
		malformed(d, p, "second HELLO");
		return;
	}
	if (p->forked) {
		if (sender <= 1 || in->u.hello.pid != (uint32_t)sender) {
			malformed(d, p, "HELLO's pid is not its sender's");
			return;
		}
		p->pid = sender;
		parent = kxd_pvm_find(d, p->parent_id);
		if (!parent || parent->state == KXD_PVM_EXITED) {
			p->state = KXD_PVM_RUNNING;
			kxd_pvm_end(d, p, "ended by kxd: its parent pVM ended before it started");
			return;
		}
		if (kxd_jail_child(d, p, why, sizeof(why)) != 0) {
			p->state = KXD_PVM_RUNNING;
			kxd_pvm_end(d, p, why);
			return;
		}
		memset(&ready, 0, sizeof(ready)); /* its guest may run on */
		ready.type = KXMON_MSG_JAIL_READY;
		ready.size = sizeof(ready);
		ready.seq = in->seq;
		if (kxd_chan_send(d, p, &ready, sizeof(ready), NULL, 0) != 0) {
			malformed(d, p, "cannot answer on the channel");
			return;
		}
	}
	p->state = KXD_PVM_RUNNING;
}

int kxd_chan_readable(struct kxd *d, struct kxd_pvm *p)
{
	struct kxmon_msg msg;
	char why[KXD_TEXT_MAX];
	int fds[KXD_MAX_FDS], nfds = 0, rc;
	pid_t sender;
	size_t len;

	rc = kxd_recv_from(p->chan, &msg, sizeof(msg), &len, fds, &nfds, &sender);
	if (rc == -EAGAIN)
		return 0;
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (rc == -EMSGSIZE || (rc == 0 && len > 0 &&
				chan_check_from_kxmon(&msg, len, nfds, why, sizeof(why)) != 0)) {
		malformed(d, p, rc ? "message too long or too many fds" : why);
		return 0;
	}
	if (rc != 0 || len == 0) { /* kxmon closed it: reaping follows */
		close(p->chan);
		p->chan = -1;
		if (p->forked && p->pid == 0 && p->state != KXD_PVM_EXITED)
			kxd_pvm_lost(d, p); /* nothing to reap */
		return 0;
	}
	if (kxd_audit_limited(d, p, &msg)) /* audit.c: over its rate, answered */
		return 1;
	switch (msg.type) {
	case KXMON_MSG_HELLO:
		hello(d, p, &msg, sender);
		break;
	case KXMON_MSG_FORK_REQ:
		fork_req(d, p, &msg);
		break;
	case KXMON_MSG_WAIT_REQ:
		wait_req(d, p, &msg);
		break;
	case KXMON_MSG_LINK_REQ:
		if (msg.u.link_req.at_boot && !boot_link_expected(p)) {
			malformed(d, p, "LINK_REQ at boot after the boot (the mounts settled, a "
					"forked pVM, or more than a pVM's modules)");
			break;
		}
		p->boot_links += msg.u.link_req.at_boot ? 1 : 0;
		link_req(d, p, &msg);
		break;
	case KXMON_MSG_LINK_DONE:
		link_done(d, p, &msg);
		break;
	case KXMON_MSG_UPDATE_DONE:
		if (kxd_update_done(d, p, &msg) != 0)
			malformed(d, p, "UPDATE_DONE without an UPDATE_PUSH");
		break;
	case KXMON_MSG_IPC_REQ:
		kxd_ipc_req(d, p, &msg);
		break;
	case KXMON_MSG_KILL_REQ:
		kxd_sig_kill_req(d, p, &msg);
		break;
	case KXMON_MSG_WAIT_CANCEL:
		kxd_sig_wait_cancel(d, p, &msg);
		break;
	case KXMON_MSG_EXIT:
		if (!p->ending) /* else kxd's why (kxd_pvm_end) */
			snprintf(p->report, sizeof(p->report), "%s", msg.u.exit.report);
		kxd_sig_exit_msg(d, p, &msg); /* signal.c */
		break;
	case KXMON_MSG_FS_MOUNT_REQ: /* posix-fs: files.c */
		if (!mount_expected(p, &msg))
			malformed(d, p, "FS_MOUNT_REQ out of order, or after the pVM's mounts were "
					"settled at boot");
		else
			kxd_fs_mount_req(d, p, &msg);
		break;
	case KXMON_MSG_NET_REPORT: /* network (net.c) */
		kxd_net_report(d, p, &msg);
		break;
	case KXMON_MSG_SELF_REQ: /* posix-mon */
		self_req(d, p, &msg);
		break;
	case KXMON_MSG_POSIX_ENOSYS: /* posix-mon */
		posix_enosys(d, p, &msg);
		break;
	case KXMON_MSG_RECYCLE_READY: /* its placeholder waits (pool.c) */
		if (!p->pooled || p->state != KXD_PVM_RUNNING)
			malformed(d, p, "RECYCLE_READY from a pVM that is not a new pooled one");
		else
			p->state = KXD_PVM_POOLED;
		break;
	}
	kxd_audit_charge(d, p, &msg); /* audit.c: its requests cost tokens */
	return 1;
}

int kxd_link_push(struct kxd *d, int ci, struct kxd_pvm *p, const struct kxd_pvm *as,
		  const char *lib, char *why, size_t whylen)
{
	struct gate_subject requester = { .kind = GATE_SUBJECT_OPERATOR,
					  .uid = d->clients[ci].uid };
	struct gate_decision dec;
	struct kxmon_msg msg;
	int memfd = -1, rc;

	if (p->chan < 0 || p->state != KXD_PVM_RUNNING) {
		snprintf(why, whylen, "pVM %llu has no channel to link into",
			 (unsigned long long)p->id);
		return -ENOTCONN;
	}
	if (p->push_seq != 0) {
		snprintf(why, whylen, "pVM %llu: a link is already in progress",
			 (unsigned long long)p->id);
		return -EBUSY;
	}
	if (as)
		kxd_pvm_subject(as, &requester);
	rc = kxd_lib_decide(d, &requester, p, lib, &dec, &memfd, why, whylen);
	if (rc != 0)
		return rc;
	if (dec.verdict != KXP_ALLOW)
		return -EACCES;
	memset(&msg, 0, sizeof(msg));
	msg.type = KXMON_MSG_LINK_PUSH;
	msg.size = sizeof(msg);
	msg.seq = d->next_seq++;
	fill_link(d, p, lib, &dec, "", &msg.u.link);
	rc = kxd_chan_send(d, p, &msg, sizeof(msg), &memfd, 1);
	if (rc != 0) {
		snprintf(why, whylen, "pVM %llu: %s", (unsigned long long)p->id, strerror(-rc));
		return rc;
	}
	p->push_seq = msg.seq;
	p->push_client = ci;
	linked_of(&dec, &p->push_lib);
	return 0;
}
