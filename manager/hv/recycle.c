/*
 * recycle.c — the module "recycle": an empty, booted pVM takes an app
 * (docs/recycle.md).
 *
 * A pooled pVM runs the placeholder image, which waits in
 * KX_HC_RECYCLE_WAIT.  Only then does the monitor say RECYCLE_READY, so kxd
 * never hands an app to a pVM that is not waiting for one.  kxd answers,
 * once gate_recycle allowed an app, with RECYCLE_CONSOLE (the client's
 * stdout and stderr, which replace the monitor's own: the app's console and
 * the monitor's reports go to whoever ran `kxctl run --recycle`) and
 * RECYCLE_APP (the app library as a sealed memfd, and its argv).  Either
 * message outside that wait breaks the channel: it is never taken for a
 * pushed link, which would link an app without a gate_link decision.  The
 * app library is linked like an operator's push (its DT_NEEDED through the
 * manager, i.e. the gate), bound now, and its `app_entry` must lie in an
 * executable page.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager/hv/internal.h"

/* The argv of a recycled start always fits KX_RECYCLE_BUF_MIN bytes: the
 * pointer array first, then the strings. */
_Static_assert((KXMON_RECYCLE_ARGC_MAX + 1) * 8 + KXMON_RECYCLE_ARGS_MAX <= KX_RECYCLE_BUF_MIN,
	       "recycled argv fits the placeholder's buffer");
_Static_assert(KXMON_NAME_MAX == KX_HC_NAME_MAX + 1, "library names");

struct hv_recycle {
	bool waiting; /* the placeholder waits in KX_HC_RECYCLE_WAIT */
	bool console, app; /* what the wait collected */
	struct kxmon_msg msg;
	int fd;
};

static int recycle_push(struct hv_pvm *p, const struct kxmon_msg *m, const int *fds, int nfds)
{
	struct hv_recycle *r = p->recycle;

	if (r == NULL || !r->waiting)
		goto refuse;
	if (m->type == KXMON_MSG_RECYCLE_CONSOLE && !r->console && nfds == 2) {
		/* The client's console becomes the pVM's and the monitor's. */
		if (p->mgr->ops->console(p->mgr->ctx, fds[0], fds[1]) != 0)
			return -EPROTO;
		r->console = true;
		return 0;
	}
	if (m->type == KXMON_MSG_RECYCLE_APP && r->console && !r->app && nfds == 1) {
		r->msg = *m;
		r->fd = fds[0];
		r->app = true;
		return 0;
	}
refuse:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	return -EPROTO;
}

/* RECYCLE_READY, then the console and the app: 0, or -errno with why. */
static int take_app(struct hv_pvm *p, struct hv_recycle *r, char *why, size_t whylen)
{
	struct kxmon_msg m;
	int fds[KXMON_MAX_FDS], nfds, rc;

	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_RECYCLE_READY;
	r->waiting = true;
	rc = hv_mgr_send(p, &m);
	while (rc == 0 && !r->app) {
		rc = hv_mgr_next(p, 0, -1, &m, fds, &nfds);
		if (rc == 1) { /* an answer: there is no request */
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
			rc = -EPROTO;
		} else if (rc >= 0) {
			rc = 0;
		}
	}
	r->waiting = false;
	if (rc != 0)
		snprintf(why, whylen, "%s", hv_mgr_reason(p)[0] ? hv_mgr_reason(p)
								 : "channel to kxd: no app");
	return rc;
}

/* Link the app: 0 with *entry (app_entry), or -errno with why. */
static int start_app(struct hv_pvm *p, struct hv_recycle *r, uint64_t *entry, char *why,
		     size_t whylen)
{
	struct kx_error err = {{0}};
	uint64_t handle = 0;
	int rc;

	rc = hv_link(p, r->msg.u.recycle.name, r->fd, HV_BIND_NOW, &handle, &err);
	r->fd = -1;
	if (rc != 0) {
		snprintf(why, whylen, "%s", err.msg);
		return rc;
	}
	rc = hv_link_dlsym(p, handle, "app_entry", entry);
	if (rc != 0 || *entry >= p->mem.size ||
	    !(p->mem.page_prot[*entry / KX_PAGE_SIZE] & HV_PROT_EXEC)) {
		snprintf(why, whylen, "%s: no function app_entry", r->msg.u.recycle.name);
		return -ENOENT;
	}
	return 0;
}

/*
 * The buffer is checked before the wait (the app is linked by then, and a
 * failure after it would leave the pVM half changed); the argv kxd sent
 * was checked (chan_check_from_kxd: argc strings in args_len bytes).
 */
static void hc_recycle_wait(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kx_hc_recycle_wait *r = &b->recycle_wait;
	const struct kxmon_recycle_app *app;
	struct hv_recycle *state;
	size_t starts[KXMON_RECYCLE_ARGC_MAX];
	char why[KXMON_TEXT_MAX] = "";
	uint64_t *ptrs, entry = 0;
	char *strings;
	size_t off = 0;
	int rc;

	if (!p->pool || p->mgr == NULL || p->linker == NULL) {
		b->hdr.ret = -KX_EPERM;
		return;
	}
	if (r->buf % 8 != 0 || r->size < KX_RECYCLE_BUF_MIN || r->size > HV_ARGS_MAX ||
	    hv_guest_ptr(&p->mem, r->buf, r->size, HV_ACCESS_WRITE) == NULL) {
		hv_bad(res, "recycle: argv buffer too small or outside writable guest memory");
		return;
	}
	if (p->recycle != NULL) { /* one app per pVM: a second wait gets nothing */
		b->hdr.ret = -KX_EPERM;
		return;
	}
	state = p->recycle = calloc(1, sizeof(*state));
	if (state == NULL) {
		hv_bad(res, "recycle: out of memory");
		return;
	}
	state->fd = -1;
	app = &state->msg.u.recycle;
	rc = take_app(p, state, why, sizeof(why));
	if (rc == 0)
		rc = start_app(p, state, &entry, why, sizeof(why));
	p->mgr->ops->recycled(p->mgr->ctx, rc, why);
	if (rc != 0 || app->argc > KXMON_RECYCLE_ARGC_MAX || app->args_len > KXMON_RECYCLE_ARGS_MAX) {
		hv_bad(res, "recycle: the app could not be started");
		return;
	}
	/* Where each string starts, all checked before anything is written. */
	for (uint32_t i = 0; i < app->argc; i++) {
		const char *nul = off < app->args_len
					  ? memchr(app->args + off, '\0', app->args_len - off)
					  : NULL;

		if (nul == NULL) {
			hv_bad(res, "recycle: malformed argv from the manager");
			return;
		}
		starts[i] = off;
		off = (size_t)(nul - app->args) + 1;
	}
	ptrs = hv_guest_ptr(&p->mem, r->buf, r->size, HV_ACCESS_WRITE);
	if (ptrs == NULL) { /* linking never maps over a mapped page: cannot happen */
		hv_bad(res, "recycle: argv buffer no longer writable");
		return;
	}
	strings = (char *)(ptrs + app->argc + 1);
	memcpy(strings, app->args, app->args_len);
	for (uint32_t i = 0; i < app->argc; i++)
		ptrs[i] = r->buf + (uint64_t)(app->argc + 1) * 8 + starts[i];
	ptrs[app->argc] = 0;
	r->entry = entry;
	r->argc = app->argc;
	r->argv = r->buf;
	b->hdr.ret = 0;
}

static void recycle_destroy(struct hv_pvm *p)
{
	if (p->recycle != NULL && p->recycle->fd >= 0)
		close(p->recycle->fd);
	free(p->recycle);
	p->recycle = NULL;
}

static const struct hv_hcall_desc hcalls[] = {
	{KX_HC_RECYCLE_WAIT, sizeof(struct kx_hc_recycle_wait), hc_recycle_wait},
};

static const uint32_t pushes[] = {KXMON_MSG_RECYCLE_CONSOLE, KXMON_MSG_RECYCLE_APP};

const struct hv_module hv_mod_recycle = {
	.name = "recycle",
	.hcalls = hcalls,
	.nhcalls = sizeof(hcalls) / sizeof(hcalls[0]),
	.push_types = pushes,
	.npush_types = sizeof(pushes) / sizeof(pushes[0]),
	.push = recycle_push,
	.destroy = recycle_destroy,
};
