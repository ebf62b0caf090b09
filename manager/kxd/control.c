/*
 * Control requests from kxctl.  The peer's uid (SO_PEERCRED, taken once at
 * accept) is the operator's identity; only kxd's own uid and root may talk
 * to it.  Requests are untrusted datagrams: checked by kxd_check_req before
 * anything reads a field; a malformed one closes that connection.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "manager/kxd/internal.h"

/* One waiting connection: false when there was none. */
static bool accept_one(struct kxd *d)
{
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t clen = sizeof(cred);
	int fd, slot = -1;

	fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    (cred.uid != d->owner && cred.uid != 0)) {
		kxd_log("refused a client (uid %d)", (int)cred.uid);
		close(fd);
		return true;
	}
	for (int i = 0; i < KXD_MAX_CLIENTS; i++)
		if (d->clients[i].fd < 0) {
			slot = i;
			break;
		}
	if (slot < 0) {
		kxd_log("too many clients");
		close(fd);
		return true;
	}
	d->clients[slot] = (struct kxd_client){ .fd = fd, .uid = cred.uid };
	return true;
}

/* Every connection waiting (at most a table's worth): their requests are
 * read in the same round of the loop, and their decisions share a flush
 * (audit_commit.c). */
void kxd_client_accept(struct kxd *d)
{
	for (int i = 0; i < KXD_MAX_CLIENTS && accept_one(d); i++)
		;
}

void kxd_client_close(struct kxd *d, int ci)
{
	struct kxd_client *c = &d->clients[ci];

	if (c->fd < 0)
		return;
	close(c->fd);
	free(c->queue);
	*c = (struct kxd_client){ .fd = -1 };
	kxd_pvm_forget_client(d, ci);
}

bool kxd_client_pending(const struct kxd *d, int ci)
{
	return d->clients[ci].fd >= 0 && d->clients[ci].qlen > 0;
}

/* Send queued answers until the socket is full.  0, -EAGAIN (some left),
 * or -errno (the client is gone: the caller drops it). */
static int flush(struct kxd_client *c)
{
	while (c->qlen > 0) {
		int rc = kxd_send(c->fd, &c->queue[c->qhead], sizeof(c->queue[0]), NULL, 0);

		if (rc != 0)
			return rc;
		c->qhead = (c->qhead + 1) % KXD_CLIENT_QUEUE_MAX;
		c->qlen--;
	}
	return 0;
}

void kxd_client_writable(struct kxd *d, int ci)
{
	int rc;

	/* An answer queued this round may wait for this round's records: the
	 * flush after the commit sends it (release), not the socket's POLLOUT
	 * (a review finding: an earlier slot of the same round could queue a
	 * held answer that POLLOUT then sent before its record was durable). */
	if (d->clients[ci].held && kxd_audit_holding(d))
		return;
	rc = flush(&d->clients[ci]);

	if (rc != 0 && rc != -EAGAIN)
		kxd_client_close(d, ci);
}

/* Send r now, or queue it behind what the client has not taken yet.  A
 * client that stopped reading is dropped once its queue is full: kxd never
 * waits for one (docs/kxd.md "The control protocol"). */
static int send_or_queue(struct kxd *d, int ci, const struct kxd_resp *r)
{
	struct kxd_client *c = &d->clients[ci];
	/* held: queued until the records it may depend on are durable */
	bool hold = kxd_audit_holding(d);
	int rc = c->qlen > 0 || hold ? -EAGAIN : kxd_send(c->fd, r, sizeof(*r), NULL, 0);

	if (rc != -EAGAIN)
		return rc;
	if (c->queue == NULL && (c->queue = calloc(KXD_CLIENT_QUEUE_MAX, sizeof(*r))) == NULL)
		return -ENOMEM;
	if (c->qlen == KXD_CLIENT_QUEUE_MAX) {
		kxd_log("client uid %u: %d answers not read: dropped", c->uid,
			KXD_CLIENT_QUEUE_MAX);
		return -ENOBUFS;
	}
	c->queue[(c->qhead + c->qlen) % KXD_CLIENT_QUEUE_MAX] = *r;
	c->qlen++;
	c->held = c->held || hold;
	return 0;
}

static void fill_pvm(struct kxd_resp *r, const struct kxd_pvm *p)
{
	r->pvm_id = p->id;
	r->pid = p->pid;
	r->started = p->started;
	r->status = p->status;
	r->state = p->state;
	r->nlibs = (uint32_t)p->nlibs;
	r->parent_id = p->parent_id <= UINT32_MAX ? (uint32_t)p->parent_id : UINT32_MAX;
	snprintf(r->app, sizeof(r->app), "%s", p->app);
	if (p->pooled && p->state != KXD_PVM_EXITED) { /* empty: the app whose pool it is in */
		snprintf(r->app, sizeof(r->app), "%s", p->pool_app);
		r->state = p->state == KXD_PVM_POOLED ? KXD_PVM_POOLED : KXD_PVM_POOL_BOOTING;
	}
}

int kxd_reply(struct kxd *d, int ci, enum kxd_resp_type type, const struct kxd_pvm *p,
	      const char *fmt, ...)
{
	struct kxd_resp r;
	va_list ap;
	int rc;

	if (ci < 0 || d->clients[ci].fd < 0)
		return -EBADF;
	memset(&r, 0, sizeof(r));
	r.type = type;
	r.size = sizeof(r);
	r.status = -1;
	if (p)
		fill_pvm(&r, p);
	va_start(ap, fmt);
	vsnprintf(r.text, sizeof(r.text), fmt, ap);
	va_end(ap);
	rc = send_or_queue(d, ci, &r);
	if (rc != 0)
		kxd_client_close(d, ci);
	return rc;
}

/* posix-mon: the line "enosys: N N ...\n" of a LIST row (kxctl list), when
 * the pVM needed system calls its layer lacks; bytes used of size. */
static size_t list_enosys(const struct kxd_pvm *p, char *buf, size_t size)
{
	size_t used = 0;
	int n;

	for (uint32_t nr = 0; nr < KXMON_ENOSYS_MAX; nr++) {
		if (!(p->enosys[nr / 64] & (1ull << (nr % 64))))
			continue;
		n = snprintf(buf + used, size - used, "%s %u", used ? "" : KXD_LIST_ENOSYS, nr);
		if (n < 0 || (size_t)n >= size - used - 1)
			break;
		used += (size_t)n;
	}
	if (used > 0 && used < size - 1)
		buf[used++] = '\n';
	if (used < size)
		buf[used] = '\0';
	return used;
}

static void do_list(struct kxd *d, int ci)
{
	for (int i = 0; i < KXD_MAX_PVMS; i++) {
		const struct kxd_pvm *p = &d->pvms[i];
		char libs[KXD_TEXT_MAX] = "";
		size_t used = 0;

		if (!p->used)
			continue;
		for (size_t l = 0; l < p->nlibs; l++) {
			char hex[2 * KXSIG_DIGEST_BYTES + 1];
			int n;

			kxsig_digest_hex(p->libs[l].digest, hex);
			n = snprintf(libs + used, sizeof(libs) - used, "%s %s %s\n",
				     p->libs[l].name, p->libs[l].version, hex);
			if (n < 0 || (size_t)n >= sizeof(libs) - used)
				break;
			used += (size_t)n;
		}
		used += kxd_audit_list_note(p, libs + used, sizeof(libs) - used); /* audit.c */
		used += list_enosys(p, libs + used, sizeof(libs) - used); /* posix-mon */
		if (kxd_reply(d, ci, KXD_RESP_PVM, p, "%s", libs) != 0)
			return;
	}
	kxd_reply(d, ci, KXD_RESP_END, NULL, "%s", "");
}

static void do_run(struct kxd *d, int ci, struct kxd_req *req, const int *fds)
{
	char *argv[KXD_ARGC_MAX + 1], *env[KXD_ENVC_MAX + 1] = {NULL};
	char why[KXD_TEXT_MAX] = "";
	struct kxd_pvm *p = NULL;

	kxd_split_args(req->args, req->argc, argv);
	if (req->flags & KXD_RUN_RECYCLE) { /* recycle.c */
		if (kxd_recycle_run(d, ci, req->app, fds[0], fds[1], fds[2], argv, &p, why,
				    sizeof(why)) != 0)
			kxd_reply(d, ci, KXD_RESP_ERROR, NULL, "%s", why);
		else
			kxd_reply(d, ci, KXD_RESP_STARTED, p, "%s", "");
		return;
	}
	if (req->flags & KXD_RUN_ENV) /* posix-mon */
		kxd_split_env(req->args, req->args_len, req->argc, env);
	if (kxd_pvm_run(d, ci, req->app, fds[0], fds[1], fds[2], argv, env, &p, why,
			sizeof(why)) != 0)
		kxd_reply(d, ci, KXD_RESP_ERROR, NULL, "%s", why);
	else
		kxd_reply(d, ci, KXD_RESP_STARTED, p, "%s", "");
}

/* kxctl link [--as REQ] ID LIB.  The requester is the operator, or the
 * running pVM as_pvm_id: the gate derives the relation (self, app, any)
 * from the two subjects, so the library's loader class decides. */
static void do_link(struct kxd *d, int ci, const struct kxd_req *req)
{
	struct kxd_pvm *p = kxd_pvm_find(d, req->pvm_id), *as = NULL;
	char why[KXD_TEXT_MAX];

	if (!p || p->state == KXD_PVM_EXITED) {
		kxd_reply(d, ci, KXD_RESP_ERROR, NULL, "no running pVM %llu",
			  (unsigned long long)req->pvm_id);
		return;
	}
	if (req->as_pvm_id != 0) {
		as = kxd_pvm_find(d, req->as_pvm_id);
		if (!as || as->state != KXD_PVM_RUNNING) {
			kxd_reply(d, ci, KXD_RESP_ERROR, NULL, "no pVM %llu",
				  (unsigned long long)req->as_pvm_id);
			return;
		}
		/* the audit record names the pVM; who spoke for it goes to kxd's log */
		kxd_log("operator uid %u: link %s into pVM %llu on behalf of pVM %llu (%s)",
			d->clients[ci].uid, req->name, (unsigned long long)p->id,
			(unsigned long long)as->id, as->app);
	}
	if (kxd_link_push(d, ci, p, as, req->name, why, sizeof(why)) != 0)
		kxd_reply(d, ci, KXD_RESP_ERROR, p, "%s", why);
}

void kxd_client_readable(struct kxd *d, int ci)
{
	struct kxd_req req;
	char why[KXD_TEXT_MAX];
	int fds[KXD_MAX_FDS], nfds = 0;
	struct kxd_pvm *p;
	size_t len;
	int rc;

	rc = kxd_recv(d->clients[ci].fd, &req, sizeof(req), &len, fds, &nfds);
	if (rc == -EAGAIN)
		return; /* nothing after all (the fd is non-blocking) */
	if (rc != 0 || len == 0) {
		kxd_client_close(d, ci);
		goto out;
	}
	if (kxd_check_req(&req, len, nfds, why, sizeof(why)) != 0) {
		kxd_log("client uid %u: malformed request: %s", d->clients[ci].uid, why);
		kxd_reply(d, ci, KXD_RESP_ERROR, NULL, "malformed request: %s", why);
		kxd_client_close(d, ci);
		goto out;
	}
	switch (req.type) {
	case KXD_REQ_PING:
		kxd_reply(d, ci, KXD_RESP_OK, NULL, "%s", d->audit_path);
		break;
	case KXD_REQ_RUN:
		do_run(d, ci, &req, fds);
		break;
	case KXD_REQ_LIST:
		do_list(d, ci);
		break;
	case KXD_REQ_LINK:
		do_link(d, ci, &req);
		break;
	case KXD_REQ_UPDATE:
		kxd_update_request(d, ci, &req, fds[0]);
		break;
	case KXD_REQ_KILL:
		if (req.sig != 0) {
			kxd_sig_operator(d, ci, &req); /* signal.c */
			break;
		}
		p = kxd_pvm_find(d, req.pvm_id);
		if (!p || p->state == KXD_PVM_EXITED) {
			kxd_reply(d, ci, KXD_RESP_ERROR, NULL, "no running pVM %llu",
				  (unsigned long long)req.pvm_id);
		} else {
			kxd_pvm_end(d, p, "killed by the operator");
			kxd_reply(d, ci, KXD_RESP_OK, p, "%s", "");
		}
		break;
	case KXD_REQ_POLICY: /* policy.c */
		kxd_policy_info(d, why, sizeof(why));
		kxd_reply(d, ci, KXD_RESP_OK, NULL, "%s", why);
		break;
	case KXD_REQ_RELOAD:
		if (kxd_policy_reload(d, req.argc ? req.args : NULL,
				      req.flags & KXD_RELOAD_ENFORCE, why, sizeof(why)) != 0) {
			kxd_log("operator uid %u: policy not reloaded: %s", d->clients[ci].uid, why);
			kxd_reply(d, ci, KXD_RESP_ERROR, NULL, "%s", why);
		} else
			kxd_reply(d, ci, KXD_RESP_OK, NULL, "%s", why);
		break;
	case KXD_REQ_AUDIT_ROTATE:
		kxd_audit_rotate(d, ci); /* audit.c */
		break;
	case KXD_REQ_NET: /* network (net.c) */
		kxd_net_list(d, ci);
		break;
	case KXD_REQ_STOP:
		d->stopping = true;
		kxd_reply(d, ci, KXD_RESP_OK, NULL, "%s", "");
		break;
	}
out:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}
