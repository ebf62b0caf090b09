/*
 * update.c — online library update in kxd (docs/update.md).
 *
 * `kxctl update ID NEW_LIB OLD_LIB` sends the new library's file as an fd
 * and the linked library's name.  kxd reads the file (bounded), gives it to
 * gate_update with the verified metadata it recorded when the old library
 * was linked (signature, trusted key, not revoked, version in range,
 * `update: allow`, no downgrade unless `rollback: allow`; audited), and on
 * ALLOW sends the verified bytes' sealed memfd to the pVM's kxmon
 * (UPDATE_PUSH).  kxmon answers UPDATE_DONE once the update is applied or
 * refused; only then does the registry change and kxctl get its answer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manager/kxd/internal.h"

/* The linked library `asked` names ("libupd", "libupd.so", "libupd.so.1"). */
static struct kxd_linked *linked_named(struct kxd_pvm *p, const char *asked, size_t *index)
{
	size_t n = strlen(asked);
	const char *so = strstr(asked, ".so");

	if (so != NULL && (so[3] == '\0' || so[3] == '.'))
		n = (size_t)(so - asked);
	for (size_t i = 0; i < p->nlibs; i++)
		if (strlen(p->libs[i].name) == n && strncmp(p->libs[i].name, asked, n) == 0) {
			*index = i;
			return &p->libs[i];
		}
	return NULL;
}

/* Decide; on ALLOW push.  0, or -errno with why (the client's answer). */
static int decide_and_push(struct kxd *d, int ci, struct kxd_pvm *p, const struct kxd_req *req,
			   int lib_fd, char *why, size_t whylen)
{
	struct gate_subject requester = {.kind = GATE_SUBJECT_OPERATOR, .uid = d->clients[ci].uid};
	struct gate_subject target;
	struct gate_decision dec;
	struct kxsig_meta old;
	struct kxd_linked *lib;
	struct kxmon_msg msg;
	uint8_t *bytes = NULL;
	size_t len = 0, index = 0;
	uint32_t deadline = req->flags >> KXD_UPDATE_DEADLINE_SHIFT;
	char what[KXMON_NAME_MAX + KXMON_VERSION_MAX + KXD_APP_MAX + 64];
	int memfd, rc;

	lib = linked_named(p, req->name, &index);
	if (lib == NULL) {
		snprintf(why, whylen, "pVM %llu has no library %s linked",
			 (unsigned long long)p->id, req->name);
		return -ENOENT;
	}
	rc = kxd_read_fd(lib_fd, KXD_LIB_MAX, &bytes, &len);
	if (rc != 0) {
		snprintf(why, whylen, "the new library: %s", strerror(-rc));
		return rc;
	}
	memset(&old, 0, sizeof(old));
	snprintf(old.name, sizeof(old.name), "%s", lib->name);
	snprintf(old.version, sizeof(old.version), "%s", lib->version);
	memcpy(old.digest, lib->digest, sizeof(old.digest));
	kxd_pvm_subject(p, &target);
	rc = gate_update(d->gate, &requester, &target, lib->name, &old, bytes, len, &dec);
	if (rc != 0 || dec.verdict != KXP_ALLOW) {
		snprintf(what, sizeof(what), "update of %s %s in pVM %llu (%s)", lib->name,
			 lib->version, (unsigned long long)p->id, p->app);
		kxd_describe_denial(&dec, rc, what, why, whylen);
		rc = -EACCES;
		goto out;
	}
	memfd = kxd_lib_memfd(d, &dec.meta, bytes, len);
	if (memfd < 0) {
		rc = memfd;
		snprintf(why, whylen, "library %s: cannot keep it: %s", lib->name, strerror(-rc));
		goto out;
	}
	memset(&msg, 0, sizeof(msg));
	msg.type = KXMON_MSG_UPDATE_PUSH;
	msg.size = sizeof(msg);
	msg.seq = d->next_seq++;
	msg.u.update.flags = (req->flags & KXD_UPDATE_LAZY) ? KXMON_UPDATE_LAZY : 0;
	msg.u.update.deadline_ms = deadline ? deadline : KXD_UPDATE_DEADLINE_DEFAULT;
	snprintf(msg.u.update.old_name, sizeof(msg.u.update.old_name), "%s", lib->name);
	snprintf(msg.u.update.version, sizeof(msg.u.update.version), "%s", dec.meta.version);
	memcpy(msg.u.update.digest, dec.meta.digest, sizeof(msg.u.update.digest));
	rc = kxd_chan_send(d, p, &msg, sizeof(msg), &memfd, 1);
	if (rc != 0) {
		snprintf(why, whylen, "pVM %llu: %s", (unsigned long long)p->id, strerror(-rc));
		goto out;
	}
	p->update_seq = msg.seq;
	p->update_client = ci;
	p->update_index = index;
	snprintf(p->update_lib.name, sizeof(p->update_lib.name), "%s", dec.meta.name);
	snprintf(p->update_lib.version, sizeof(p->update_lib.version), "%s", dec.meta.version);
	memcpy(p->update_lib.digest, dec.meta.digest, sizeof(p->update_lib.digest));
out:
	free(bytes);
	return rc;
}

void kxd_update_request(struct kxd *d, int ci, const struct kxd_req *req, int lib_fd)
{
	struct kxd_pvm *p = kxd_pvm_find(d, req->pvm_id);
	char why[KXD_TEXT_MAX];

	if (!p || p->state != KXD_PVM_RUNNING || p->chan < 0) {
		kxd_reply(d, ci, KXD_RESP_ERROR, NULL, "no running pVM %llu",
			  (unsigned long long)req->pvm_id);
		return;
	}
	if (p->update_seq != 0) {
		kxd_reply(d, ci, KXD_RESP_ERROR, p, "pVM %llu: an update is already in progress",
			  (unsigned long long)p->id);
		return;
	}
	/* kxmon takes a push with a longer deadline for a broken channel and
	 * ends the pVM: refuse it here, where the operator sees why. */
	if ((req->flags >> KXD_UPDATE_DEADLINE_SHIFT) > KXMON_UPDATE_DEADLINE_MAX) {
		kxd_reply(d, ci, KXD_RESP_ERROR, p, "update deadline %u ms: at most %u ms",
			  req->flags >> KXD_UPDATE_DEADLINE_SHIFT, KXMON_UPDATE_DEADLINE_MAX);
		return;
	}
	if (decide_and_push(d, ci, p, req, lib_fd, why, sizeof(why)) != 0) {
		kxd_log("pVM %llu (%s): %s", (unsigned long long)p->id, p->app, why);
		kxd_reply(d, ci, KXD_RESP_ERROR, p, "%s", why);
	}
}

int kxd_update_done(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in)
{
	const struct kxmon_update_done *r = &in->u.update_done;
	struct kxd_linked *old;
	int ci = p->update_client;
	char phases[160];

	if (p->update_seq == 0 || in->seq != p->update_seq || p->update_index >= p->nlibs)
		return -EBADMSG;
	old = &p->libs[p->update_index];
	p->update_seq = 0;
	p->update_client = -1;
	/* load+resolve+variables: preparing; share+got+unmap: the commit */
	snprintf(phases, sizeof(phases),
		 "quiesce %.1f us, load %.1f, resolve %.1f, variables %.1f, commit %.1f",
		 r->phase_ns[0] / 1e3, r->phase_ns[1] / 1e3, r->phase_ns[2] / 1e3,
		 r->phase_ns[3] / 1e3, (r->phase_ns[4] + r->phase_ns[5] + r->phase_ns[6]) / 1e3);
	if (r->result == 0) {
		kxd_log("pVM %llu (%s): updated %s %s -> %s (%s; %s)", (unsigned long long)p->id,
			p->app, old->name, old->version, p->update_lib.version, r->message, phases);
		if (ci >= 0)
			kxd_reply(d, ci, KXD_RESP_OK, p, "updated %s %s -> %s in pVM %llu: %s; %s",
				  old->name, old->version, p->update_lib.version,
				  (unsigned long long)p->id, r->message, phases);
		*old = p->update_lib;
		return 0;
	}
	kxd_log("pVM %llu (%s): update of %s to %s failed, it keeps %s: %s",
		(unsigned long long)p->id, p->app, old->name, p->update_lib.version, old->version,
		r->message);
	if (ci >= 0)
		kxd_reply(d, ci, KXD_RESP_ERROR, p, "pVM %llu keeps %s %s: %s (%s)",
			  (unsigned long long)p->id, old->name, old->version, r->message,
			  strerror(-r->result)); /* checked: -errno */
	return 0;
}

void kxd_update_ended(struct kxd *d, struct kxd_pvm *p)
{
	if (p->update_seq != 0 && p->update_client >= 0)
		kxd_reply(d, p->update_client, KXD_RESP_ERROR, p,
			  "pVM %llu ended during the update", (unsigned long long)p->id);
	p->update_seq = 0;
	p->update_client = -1;
}

void kxd_update_forget_client(struct kxd_pvm *p, int ci)
{
	if (p->update_seq != 0 && p->update_client == ci)
		p->update_client = -1;
}
