/*
 * Group commit in kxd's loop (docs/audit-log.md section 3, SECURITY.md).
 * kxd answers requests from one thread, so the gate's group commit alone
 * (threads sharing a flush) would still flush once per decision.  With
 * --audit-sync group, kxd holds the gate (gate_audit_hold): the decisions
 * of the requests that arrived together in one round of the loop are
 * written without a flush, and what kxd would send because of them --
 * channel messages to kxmon (link, fork, IpC, signal, mount answers) and
 * answers to kxctl -- waits in a queue.  At the end of the round one
 * fdatasync() makes all of their records durable, and only then does the
 * queue go out, in order: a decision is still answered only after its
 * record is durable.  Before kxd starts a monitor (a boot: an act, not a
 * message) it commits at once (kxd_audit_durable).
 *
 * When that flush fails, the gate cuts the records off and counts their
 * decisions unlogged; none of the queued answers may go out (some may be
 * ALLOWs): each pVM with a queued message is ended and each client with a
 * queued answer is dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager/kxd/internal.h"

struct kxd_held_msg {
	uint64_t pvm_id; /* the pVM whose channel it goes on */
	int chan;
	int fds[KXD_MAX_FDS]; /* dups: the sender closes its own */
	int nfds;
	size_t len;
	unsigned char bytes[sizeof(struct kxmon_msg)];
};

/* Held: something sent now would reveal a decision whose record is not
 * durable yet, or overtake a message queued before it. */
bool kxd_audit_holding(struct kxd *d)
{
	return d->held_len > 0 || (d->gate != NULL && gate_audit_pending(d->gate));
}

static void close_fds(struct kxd_held_msg *h)
{
	while (h->nfds > 0)
		close(h->fds[--h->nfds]);
}

int kxd_chan_send(struct kxd *d, const struct kxd_pvm *p, const void *msg, size_t len,
		  const int *fds, int nfds)
{
	struct kxd_held_msg *h;

	if (!kxd_audit_holding(d))
		return kxd_send(p->chan, msg, len, fds, nfds);
	if (p->chan < 0 || len > sizeof(h->bytes) || nfds < 0 || nfds > KXD_MAX_FDS)
		return -EINVAL;
	if (d->held_len == d->held_cap) {
		size_t cap = d->held_cap ? 2 * d->held_cap : 16;
		struct kxd_held_msg *grown = realloc(d->held, cap * sizeof(*grown));

		if (grown == NULL)
			return -ENOMEM;
		d->held = grown;
		d->held_cap = cap;
	}
	h = &d->held[d->held_len];
	h->pvm_id = p->id;
	h->chan = p->chan;
	h->len = len;
	memcpy(h->bytes, msg, len);
	for (h->nfds = 0; h->nfds < nfds; h->nfds++) {
		h->fds[h->nfds] = dup(fds[h->nfds]);
		if (h->fds[h->nfds] < 0) {
			int rc = -errno;

			close_fds(h);
			return rc;
		}
	}
	d->held_len++;
	return 0;
}

/* After the flush: send what waited, in order; or, when it failed, end
 * every pVM and drop every client that was to be answered. */
static void release(struct kxd *d, bool durable)
{
	struct kxd_held_msg *q = d->held;
	size_t n = d->held_len;

	/* taken out first: ending a pVM below may send at once */
	d->held = NULL;
	d->held_len = d->held_cap = 0;
	for (size_t i = 0; i < n; i++) {
		struct kxd_pvm *p = kxd_pvm_find(d, q[i].pvm_id);

		/* a pVM ended meanwhile (its channel closed, the number
		 * perhaps reused) gets nothing */
		if (p != NULL && p->chan == q[i].chan) {
			if (!durable)
				kxd_pvm_end(d, p, "ended by kxd: the audit records of its "
					    "requests could not be made durable");
			else if (kxd_send(q[i].chan, q[i].bytes, q[i].len, q[i].fds,
					  q[i].nfds) != 0)
				kxd_pvm_end(d, p, "ended by kxd: cannot answer on its channel");
		}
		close_fds(&q[i]);
	}
	free(q);
	for (int ci = 0; ci < KXD_MAX_CLIENTS; ci++) {
		if (d->clients[ci].fd < 0 || !d->clients[ci].held)
			continue;
		d->clients[ci].held = false;
		if (!durable)
			kxd_client_close(d, ci);
		else if (kxd_client_pending(d, ci))
			kxd_client_writable(d, ci);
	}
}

int kxd_audit_durable(struct kxd *d)
{
	int rc = 0;

	if (d->gate != NULL && gate_audit_pending(d->gate)) {
		rc = gate_audit_commit(d->gate);
		if (rc != 0)
			kxd_log("audit log %s: flush failed (%s): the decisions since the last "
				"flush are refused, their pVMs ended and clients dropped",
				d->audit_path, strerror(-rc));
	}
	release(d, rc == 0);
	return rc;
}

void kxd_audit_commit_close(struct kxd *d)
{
	if (d->gate != NULL) {
		kxd_audit_durable(d);
		gate_audit_hold(d->gate, false);
	}
	for (size_t i = 0; i < d->held_len; i++)
		close_fds(&d->held[i]);
	free(d->held);
	d->held = NULL;
	d->held_len = d->held_cap = 0;
}
