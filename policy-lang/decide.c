/*
 * The one decision function: (op, attributes) -> ALLOW | DENY, the reason,
 * and the rule (with its manifest provenance) that decided.  The manager's
 * gate and `kxpolicy explain` both call kxp_decide(), so what an auditor is
 * told is what is enforced.  docs/policy-format.md lists the checks of each
 * op in the order they run; the first failing check decides.
 *
 * The request comes from the manager (or the command line): its strings are
 * only compared and printed with bounds, never trusted for sizes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "policy-lang/back.h"

/* The longest path a request may name (PATH_MAX, NUL included). */
#define PM_PATH_TEXT_MAX 4096

static const char *const op_names[KXP_OP_COUNT] = {
	[KXP_OP_BOOT] = "boot", [KXP_OP_LINK] = "link", [KXP_OP_UPDATE] = "update",
	[KXP_OP_FORK] = "fork", [KXP_OP_IPC] = "ipc", [KXP_OP_RECYCLE] = "recycle",
	[KXP_OP_FILE] = "file", [KXP_OP_NET] = "net",
};

const char *kxp_op_name(enum kxp_op op)
{
	return (unsigned)op < KXP_OP_COUNT ? op_names[op] : "unknown";
}

int kxp_op_parse(const char *name, enum kxp_op *out)
{
	for (int i = 0; i < KXP_OP_COUNT; i++) {
		if (strcmp(name, op_names[i]) == 0) {
			*out = (enum kxp_op)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *kxp_relation_name(enum kxp_relation rel)
{
	return (unsigned)rel <= KXP_REL_ANY ? kxp_loader_names[rel] : "unknown";
}

const char *kxp_ipc_kind_name(uint32_t kind)
{
	switch (kind) {
	case KXP_IPC_PIPE: return "pipe";
	case KXP_IPC_SIGNAL: return "signal";
	case KXP_IPC_MSGQ: return "msgq";
	case KXP_IPC_SHM: return "shm";
	}
	return "unknown";
}

int kxp_version_parse(const char *text, struct kxp_version *out)
{
	struct pm_version v;
	int rc = pm_version_parse(text, &v);

	if (rc < 0)
		return rc;
	memset(out, 0, sizeof(*out));
	memcpy(out->part, v.part, sizeof(out->part));
	out->nparts = v.nparts;
	return 0;
}

_Static_assert(KXP_VERSION_PARTS == PM_VERSION_PARTS, "one version shape");
_Static_assert(KXP_NET_PROTO_TCP == PM_PROTO_TCP && KXP_NET_PROTO_UDP == PM_PROTO_UDP &&
	       KXP_ABI_PROTO_TCP == PM_PROTO_TCP && KXP_ABI_PROTO_UDP == PM_PROTO_UDP,
	       "one set of protocol numbers");
_Static_assert(KXP_IPC_PIPE == PM_IPC_PIPE && KXP_IPC_SHM == PM_IPC_SHM &&
	       KXP_ABI_IPC_MSGQ == PM_IPC_MSGQ && KXP_ABI_IPC_SIGNAL == PM_IPC_SIGNAL,
	       "one set of IpC kind bits");
_Static_assert((int)KXP_REL_ANY == (int)PM_LOADER_ANY && (int)KXP_REL_APP == KXP_ABI_LOADER_APP,
	       "one loader order");

/* ---- building the decision ---------------------------------------------- */

struct ctx {
	const struct kxp_policy *p;
	const struct kxp_request *req;
	struct kxp_decision *d;
	uint32_t app; /* index, once found */
	int64_t now;  /* keys' validity is checked at this time */
};

__attribute__((format(printf, 3, 4)))
static int verdict(struct ctx *c, enum kxp_verdict v, const char *fmt, ...)
{
	va_list ap;

	c->d->verdict = v;
	va_start(ap, fmt);
	vsnprintf(c->d->reason, sizeof(c->d->reason), fmt, ap);
	va_end(ap);
	return 0;
}
#define allow(c, ...) verdict(c, KXP_ALLOW, __VA_ARGS__)
#define deny(c, ...) verdict(c, KXP_DENY, __VA_ARGS__)

/* A malformed request: DENY as well, so a caller ignoring the return value
 * still fails closed. */
__attribute__((format(printf, 2, 3)))
static int malformed(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	c->d->verdict = KXP_DENY;
	c->d->has_rule = false;
	va_start(ap, fmt);
	vsnprintf(c->d->reason, sizeof(c->d->reason), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

__attribute__((format(printf, 3, 4)))
static void rule(struct ctx *c, uint32_t prov, const char *fmt, ...)
{
	const struct kxp_abi_prov *pv = &c->p->prov[prov];
	va_list ap;

	c->d->has_rule = true;
	c->d->rule.file = kxp_str(c->p, pv->file);
	c->d->rule.line = pv->line;
	c->d->rule.col = pv->col;
	va_start(ap, fmt);
	vsnprintf(c->d->rule.desc, sizeof(c->d->rule.desc), fmt, ap);
	va_end(ap);
}

static const char *app_name(const struct ctx *c)
{
	return kxp_str(c->p, c->p->apps[c->app].name);
}

static void lib_rule(struct ctx *c, const struct kxp_abi_lib *lib)
{
	rule(c, lib->prov, "library %s of app %s", kxp_str(c->p, lib->name), app_name(c));
}

/* Looks up req->app; a DENY (with no rule) when it is not in the policy. */
static bool find_app(struct ctx *c)
{
	int64_t a = kxp_app_index(c->p, c->req->app);

	if (a < 0) {
		deny(c, "app '%s' is not in the policy", c->req->app);
		return false;
	}
	c->app = (uint32_t)a;
	return true;
}

static int to_pm_version(const struct kxp_version *in, struct pm_version *out)
{
	if (in->nparts < 1 || in->nparts > KXP_VERSION_PARTS)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < in->nparts; i++)
		out->part[i] = in->part[i];
	out->nparts = in->nparts;
	return 0;
}

/* The requester's relation to the target, from the request; -EINVAL when
 * relation and requester disagree. */
static int relation_of(struct ctx *c, enum kxp_relation *rel)
{
	const struct kxp_request *r = c->req;
	bool other_app = r->requester != NULL && strcmp(r->requester, r->app) != 0;

	if (r->by_operator) { /* a stranger to every app */
		if (r->requester != NULL || (r->has_relation && r->relation != KXP_REL_ANY))
			return malformed(c, "an operator's request names no requester app and has "
					 "loader relation any");
		*rel = KXP_REL_ANY;
		return 0;
	}
	if (!r->has_relation) {
		*rel = other_app ? KXP_REL_ANY : KXP_REL_SELF;
		return 0;
	}
	if ((unsigned)r->relation > KXP_REL_ANY)
		return malformed(c, "loader relation %d is not self, app or any", (int)r->relation);
	if (r->requester != NULL && other_app != (r->relation == KXP_REL_ANY))
		return malformed(c, "requester '%s' and loader=%s disagree (any means another "
				 "app, self and app mean the same app '%s')", r->requester,
				 kxp_relation_name(r->relation), r->app);
	*rel = r->relation;
	return 0;
}

/* ---- the signature part of boot, link, update and recycle --------------- */

/* The signer's key is trusted only within its validity: from (inclusive)
 * until (exclusive), either end open (0).  The key is recorded in the
 * decision either way: explain says which key was relied on, or refused. */
static bool key_valid(struct ctx *c, const struct kxp_abi_key *key, const char *what)
{
	char id[2 * KXSIG_KEYID_BYTES + 1], at[PM_DATE_TEXT_MAX], now[PM_DATE_TEXT_MAX];
	const char *name = kxp_str(c->p, key->name);

	c->d->has_key = true;
	c->d->key.name = name;
	memcpy(c->d->key.keyid, key->keyid, sizeof(c->d->key.keyid));
	c->d->key.from = key->from;
	c->d->key.until = key->until;
	if ((key->from == 0 || c->now >= key->from) && (key->until == 0 || c->now < key->until))
		return true;
	kxsig_keyid_hex(key->keyid, id);
	pm_date_format(c->now, now);
	if (key->until != 0 && c->now >= key->until) {
		pm_date_format(key->until, at);
		deny(c, "%s is signed by key %s (%s), which app %s trusted until %s (now %s): "
		     "re-sign it with a current key (kxsign resign)", what, id, name, app_name(c),
		     at, now);
	} else {
		pm_date_format(key->from, at);
		deny(c, "%s is signed by key %s (%s), which app %s trusts only from %s (now %s)",
		     what, id, name, app_name(c), at, now);
	}
	rule(c, key->prov, "trusted key %s of app %s", name, app_name(c));
	return false;
}

/* The signer must not be revoked, the digest not revoked, and the signer
 * trusted: by the library's signed-by list (lib != NULL) or by the app.
 * Returns true when all pass (the caller goes on), else fills a DENY. */
static bool signature_ok(struct ctx *c, const struct kxp_abi_lib *lib, const char *what)
{
	const struct kxp_request *r = c->req;
	char id[2 * KXSIG_DIGEST_BYTES + 1];
	const struct kxp_abi_key *key;
	uint32_t prov;

	if (!r->has_signer) {
		deny(c, "%s is not signed", what);
		if (lib != NULL)
			lib_rule(c, lib);
		else
			rule(c, c->p->apps[c->app].prov, "app %s", app_name(c));
		return false;
	}
	if (kxp_key_revoked(c->p, c->app, r->signer, &prov)) {
		kxsig_keyid_hex(r->signer, id);
		deny(c, "%s is signed by key %s, which app %s revokes", what, id, app_name(c));
		rule(c, prov, "revoked key %s of app %s", id, app_name(c));
		return false;
	}
	if (r->has_digest && kxp_digest_revoked(c->p, c->app, r->digest, &prov)) {
		kxsig_digest_hex(r->digest, id);
		deny(c, "%s has digest %s, which app %s revokes", what, id, app_name(c));
		rule(c, prov, "revoked digest %.16s... of app %s", id, app_name(c));
		return false;
	}
	kxsig_keyid_hex(r->signer, id);
	key = kxp_key_by_id(c->p, c->app, r->signer);
	if (key == NULL) {
		deny(c, "%s is signed by key %s, which app %s does not trust", what, id,
		     app_name(c));
		if (lib != NULL)
			lib_rule(c, lib);
		else
			rule(c, c->p->apps[c->app].prov, "trusted keys of app %s", app_name(c));
		return false;
	}
	if (lib != NULL) {
		uint32_t index = (uint32_t)(key - c->p->keys);
		uint32_t s;

		for (s = 0; s < lib->signers.count; s++)
			if (c->p->lib_signers[lib->signers.first + s] == index)
				break;
		if (s == lib->signers.count) {
			deny(c, "%s is signed by key %s (%s), which app %s trusts but not for "
			     "library %s (signed-by)", what, id, kxp_str(c->p, key->name),
			     app_name(c), kxp_str(c->p, lib->name));
			lib_rule(c, lib);
			return false;
		}
	}
	return key_valid(c, key, what);
}

/* ---- the six ops ---------------------------------------------------------- */

static int decide_boot(struct ctx *c)
{
	const struct kxp_abi_key *key;
	char id[2 * KXSIG_KEYID_BYTES + 1];

	if (!find_app(c) || !signature_ok(c, NULL, "the image"))
		return 0;
	key = kxp_key_by_id(c->p, c->app, c->req->signer);
	kxsig_keyid_hex(key->keyid, id);
	allow(c, "app %s is in the policy and its image is signed by trusted key %s (%s)",
	      app_name(c), id, kxp_str(c->p, key->name));
	rule(c, key->prov, "trusted key %s of app %s", kxp_str(c->p, key->name), app_name(c));
	return 0;
}

/* link and update */
static int decide_link(struct ctx *c, bool update)
{
	const struct kxp_request *r = c->req;
	const struct kxp_abi_lib *lib;
	struct pm_version v, old;
	enum kxp_relation rel;
	char vt[PM_VERSION_TEXT_MAX], ot[PM_VERSION_TEXT_MAX], what[KXP_RULE_DESC_MAX];
	int rc;

	if (r->lib == NULL || !r->has_version || to_pm_version(&r->version, &v) < 0)
		return malformed(c, "%s needs lib= and a valid version=", kxp_op_name(r->op));
	if (update && (!r->has_old_version || to_pm_version(&r->old_version, &old) < 0))
		return malformed(c, "update needs a valid old-version=");
	if ((rc = relation_of(c, &rel)) < 0)
		return rc;
	if (!find_app(c))
		return 0;
	pm_version_format(&v, vt, sizeof(vt));
	lib = kxp_lib_find(c->p, c->app, r->lib);
	if (lib == NULL) {
		deny(c, "app %s has no rule for library %s", app_name(c), r->lib);
		rule(c, c->p->apps[c->app].prov, "libraries of app %s", app_name(c));
		return 0;
	}
	if (update && !lib->update) {
		deny(c, "library %s of app %s may not be updated online (update: deny)", r->lib,
		     app_name(c));
		lib_rule(c, lib);
		return 0;
	}
	snprintf(what, sizeof(what), "library %s %s", r->lib, vt);
	if (!signature_ok(c, lib, what))
		return 0;
	if (!kxp_lib_version_ok(c->p, lib, &v)) {
		deny(c, "version %s of library %s is outside '%s'", vt, r->lib,
		     kxp_str(c->p, lib->version_text));
		lib_rule(c, lib);
		return 0;
	}
	if (update && !lib->allow_downgrade && pm_version_cmp(&v, &old) < 0) {
		pm_version_format(&old, ot, sizeof(ot));
		deny(c, "anti-rollback: version %s of library %s is older than the running %s",
		     vt, r->lib, ot);
		lib_rule(c, lib);
		return 0;
	}
	/* The loader class says which pVMs may have a library linked; an
	 * operator's update (kxctl update) replaces a copy already linked under
	 * it and is judged by the update rule alone (manifests/README.md). */
	if (update && r->by_operator) {
		allow(c, "library %s %s is signed by a key it accepts (%s) and within '%s'; an "
		      "operator's update is allowed by update: allow (the loader class '%s' "
		      "governs links), %s", r->lib, vt, c->d->key.name,
		      kxp_str(c->p, lib->version_text),
		      kxp_loader_names[lib->loader],
		      lib->allow_downgrade ? "downgrade allowed" : "not a downgrade");
		lib_rule(c, lib);
		return 0;
	}
	if (rel > (enum kxp_relation)lib->loader) {
		deny(c, "a loader of relation '%s' may not %s library %s %s app %s (loader class "
		     "'%s')%s", kxp_relation_name(rel), update ? "replace" : "link", r->lib,
		     update ? "in" : "into", app_name(c), kxp_loader_names[lib->loader],
		     r->by_operator ? "; the operator is a stranger to every app" : "");
		lib_rule(c, lib);
		return 0;
	}
	allow(c, "library %s %s is signed by a key it accepts (%s), within '%s', and loader "
	      "'%s' is within class '%s'%s", r->lib, vt, c->d->key.name,
	      kxp_str(c->p, lib->version_text),
	      kxp_relation_name(rel), kxp_loader_names[lib->loader],
	      update ? (lib->allow_downgrade ? "; update allowed, downgrade allowed"
				            : "; update allowed, not a downgrade") : "");
	lib_rule(c, lib);
	return 0;
}

static int decide_fork(struct ctx *c)
{
	const struct kxp_request *r = c->req;
	const struct kxp_abi_fork *f;

	if (!find_app(c))
		return 0;
	f = &c->p->fork[c->app];
	rule(c, f->prov, "fork limits of app %s", app_name(c));
	/* after the fork: the parent has children+1, the child is at depth+1,
	 * the family has members+1; each must stay within its limit */
	if ((uint64_t)r->children + 1 > f->max_children)
		return deny(c, "the parent already has %u children; max-children is %u",
			    r->children, f->max_children);
	if ((uint64_t)r->depth + 1 > f->max_depth)
		return deny(c, "the child would be at depth %llu; max-depth is %u",
			    (unsigned long long)r->depth + 1, f->max_depth);
	if ((uint64_t)r->members + 1 > f->max_members)
		return deny(c, "the family already has %u members; max-members is %u",
			    r->members, f->max_members);
	return allow(c, "after the fork: %llu/%u children, depth %llu/%u, %llu/%u members",
		     (unsigned long long)r->children + 1, f->max_children,
		     (unsigned long long)r->depth + 1, f->max_depth,
		     (unsigned long long)r->members + 1, f->max_members);
}

static const struct kxp_abi_trust *trust_find(const struct kxp_policy *p, uint32_t app,
					      uint32_t peer)
{
	uint32_t lo = p->apps[app].trust.first, hi = lo + p->apps[app].trust.count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (p->trust[mid].peer == peer)
			return &p->trust[mid];
		if (p->trust[mid].peer > peer)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int decide_ipc(struct ctx *c)
{
	const struct kxp_request *r = c->req;
	const char *kind = kxp_ipc_kind_name(r->ipc_kind);
	const char *peer_name = r->peer != NULL ? r->peer : r->requester;
	const struct kxp_abi_app *app;
	const struct kxp_abi_trust *t;
	char kinds[KXP_KINDS_TEXT_MAX];
	int64_t peer;

	if (peer_name == NULL || r->ipc_kind == 0 || (r->ipc_kind & (r->ipc_kind - 1)) ||
	    r->ipc_kind > KXP_IPC_SHM)
		return malformed(c, "ipc needs peer= and exactly one kind= (pipe, signal, msgq, "
				 "shm)");
	if (r->same_family && strcmp(peer_name, r->app) != 0)
		return malformed(c, "a family holds one app: peer '%s' cannot be in the family "
				 "of app '%s'", peer_name, r->app);
	if (!find_app(c))
		return 0;
	app = &c->p->apps[c->app];
	if (r->same_family) {
		kxp_kinds_format(app->ipc_kinds, kinds, sizeof(kinds));
		rule(c, app->ipc_prov, "family ipc kinds of app %s", app_name(c));
		if (app->ipc_kinds & r->ipc_kind)
			return allow(c, "%s inside a family of app %s is allowed (%s)", kind,
				     app_name(c), kinds);
		return deny(c, "%s inside a family of app %s is not allowed (only %s)", kind,
			    app_name(c), kinds);
	}
	peer = kxp_app_index(c->p, peer_name);
	if (peer < 0)
		return deny(c, "peer app '%s' is not in the policy", peer_name);
	t = trust_find(c->p, c->app, (uint32_t)peer);
	if (t == NULL) {
		rule(c, app->prov, "app %s (no trust rule with %s)", app_name(c), peer_name);
		return deny(c, "apps %s and %s do not trust each other across families",
			    app_name(c), peer_name);
	}
	kxp_kinds_format(t->kinds, kinds, sizeof(kinds));
	rule(c, t->prov, "mutual trust of app %s with %s", app_name(c), peer_name);
	if (c->p->ipc[(size_t)c->app * c->p->napps + (size_t)peer] & r->ipc_kind)
		return allow(c, "%s between apps %s and %s is allowed by mutual trust (%s)", kind,
			     app_name(c), peer_name, kinds);
	return deny(c, "mutual trust of apps %s and %s covers %s, not %s", app_name(c), peer_name,
		    kinds, kind);
}

static int decide_recycle(struct ctx *c)
{
	const struct kxp_abi_recycle *rc_e;
	enum kxp_relation rel;
	int rc;

	if ((rc = relation_of(c, &rel)) < 0)
		return rc;
	if (!find_app(c))
		return 0;
	rc_e = &c->p->recycle[c->app];
	if (!rc_e->allow) {
		deny(c, "app %s may not be recycled into an empty pVM", app_name(c));
		rule(c, rc_e->prov, "recycle rule of app %s", app_name(c));
		return 0;
	}
	if (rel != KXP_REL_SELF) {
		deny(c, "only the empty pVM itself may load app %s when recycling (loader was "
		     "'%s')", app_name(c), kxp_relation_name(rel));
		rule(c, rc_e->prov, "recycle rule of app %s", app_name(c));
		return 0;
	}
	if (!signature_ok(c, NULL, "the app image"))
		return 0;
	allow(c, "app %s may be recycled (pool %u); the empty pVM loads it and its image is "
	      "signed by a trusted key", app_name(c), rc_e->pool);
	rule(c, rc_e->prov, "recycle rule of app %s", app_name(c));
	return 0;
}

/* ---- what a pVM reaches outside itself: host files and the network ------------- */

static bool abs_path(const char *s)
{
	return s != NULL && pm_path_check(s, strnlen(s, PM_PATH_TEXT_MAX)) == PM_PATH_OK &&
	       strnlen(s, PM_PATH_TEXT_MAX) < PM_PATH_TEXT_MAX;
}

static int decide_file(struct ctx *c)
{
	const struct kxp_request *r = c->req;
	const struct kxp_abi_app *app;
	const struct kxp_abi_file *f = NULL;
	const char *rest = "";
	char want[PM_PATH_TEXT_MAX + 1];

	if (!abs_path(r->guest) || r->image == (r->host != NULL) ||
	    (r->host != NULL && !abs_path(r->host)) || (unsigned)r->mode > KXP_MODE_RW)
		return malformed(c, "file needs guest=, and host= or image=true (absolute "
				 "normalised paths, no '..'), and mode=ro|rw");
	if (!find_app(c))
		return 0;
	app = &c->p->apps[c->app];
	for (uint32_t i = app->files.first; f == NULL && i < app->files.first + app->files.count;
	     i++)
		if (pm_path_within(r->guest, kxp_str(c->p, c->p->files[i].guest), &rest))
			f = &c->p->files[i];
	if (f == NULL) {
		rule(c, app->prov, "files rules of app %s", app_name(c));
		return deny(c, "app %s has no files rule for guest path %s", app_name(c), r->guest);
	}
	rule(c, f->prov, "files rule %s of app %s", kxp_str(c->p, f->guest), app_name(c));
	if (f->kind == KXP_ABI_FILE_IMAGE && !r->image)
		return deny(c, "%s is the image's own tree (image: true), not a host directory",
			    kxp_str(c->p, f->guest));
	if (f->kind == KXP_ABI_FILE_HOST && r->image)
		return deny(c, "%s is host directory %s, not the image's tree",
			    kxp_str(c->p, f->guest), kxp_str(c->p, f->host));
	if (f->kind == KXP_ABI_FILE_HOST) {
		/* the same place below the rule's host root as below its mount point */
		snprintf(want, sizeof(want), "%s%s", kxp_str(c->p, f->host), rest);
		if (strcmp(want, r->host) != 0)
			return deny(c, "guest path %s is host path %s under this rule, not %s",
				    r->guest, want, r->host);
	}
	if (r->mode == KXP_MODE_RW && f->mode != KXP_ABI_MODE_RW)
		return deny(c, "%s is read-only (mode: ro): it may not be mounted rw",
			    kxp_str(c->p, f->guest));
	if (f->kind == KXP_ABI_FILE_IMAGE)
		return allow(c, "app %s may mount the image's own tree at %s, read-only",
			     app_name(c), r->guest);
	if (r->mode == KXP_MODE_RW)
		return allow(c, "app %s may mount host %s at %s read-write, at most %llu bytes",
			     app_name(c), r->host, r->guest, (unsigned long long)f->max);
	return allow(c, "app %s may mount host %s at %s read-only%s", app_name(c), r->host,
		     r->guest, f->mode == KXP_ABI_MODE_RW ? " (the rule allows read-write)" : "");
}

static int decide_net(struct ctx *c)
{
	const struct kxp_request *r = c->req;
	const struct kxp_abi_iface *f;
	struct kxp_net_rules rules;
	char addr[PM_IPV4_TEXT_MAX], peer[PM_PEER_TEXT_MAX];
	const char *proto = pm_proto_name(r->proto);
	int i;

	if (r->iface == NULL || (unsigned)r->net_query > KXP_NET_CONNECT ||
	    (r->net_query != KXP_NET_ATTACH &&
	     ((r->proto != KXP_NET_PROTO_TCP && r->proto != KXP_NET_PROTO_UDP) || r->port == 0)))
		return malformed(c, "net needs iface=, and for listen= or connect= a protocol and "
				 "a port 1..65535");
	if (!find_app(c))
		return 0;
	f = kxp_iface_find(c->p, c->app, r->iface);
	if (f == NULL) {
		rule(c, c->p->apps[c->app].prov, "network rules of app %s", app_name(c));
		return deny(c, "app %s has no network interface %s", app_name(c), r->iface);
	}
	kxp_net_rules_of(c->p, f, &rules);
	pm_ipv4_format(f->addr, addr);
	rule(c, f->prov, "interface %s of app %s", r->iface, app_name(c));
	switch (r->net_query) {
	case KXP_NET_ATTACH:
		return allow(c, "app %s may have interface %s, address %s/%u (%u listen ports, %u "
			     "peers)", app_name(c), r->iface, addr, f->prefix, rules.nlisten,
			     rules.npeers);
	case KXP_NET_LISTEN:
		i = kxp_net_listen_match(&rules, r->proto, r->port);
		if (i < 0)
			return deny(c, "app %s does not listen on %s port %u on %s", app_name(c),
				    proto, r->port, r->iface);
		rule(c, c->p->listen[f->listen.first + (uint32_t)i].prov, "listen %s/%u on %s of "
		     "app %s", proto, r->port, r->iface, app_name(c));
		return allow(c, "app %s may accept on %s port %u on %s", app_name(c), proto,
			     r->port, r->iface);
	case KXP_NET_CONNECT:
		pm_peer_format(r->proto, r->net_addr, 32, r->port, peer, sizeof(peer));
		i = kxp_net_connect_match(&rules, r->proto, r->net_addr, r->port);
		if (i < 0)
			return deny(c,
				    "app %s may not reach %s from %s (no connect peer covers it)",
				    app_name(c), peer, r->iface);
		{
			const struct kxp_abi_peer *e = &c->p->peers[f->peers.first + (uint32_t)i];
			char allowed[PM_PEER_TEXT_MAX];

			pm_peer_format(e->proto, e->addr, e->prefix, e->port, allowed,
				       sizeof(allowed));
			rule(c, e->prov, "connect %s on %s of app %s", allowed, r->iface,
			     app_name(c));
			return allow(c, "app %s may reach %s from %s (connect %s)", app_name(c),
				     peer, r->iface, allowed);
		}
	}
	return malformed(c, "unknown net query %d", (int)r->net_query);
}

int kxp_decide(const struct kxp_policy *policy, const struct kxp_request *req,
	       struct kxp_decision *out)
{
	struct ctx c = {.p = policy, .req = req, .d = out};

	memset(out, 0, sizeof(*out));
	out->verdict = KXP_DENY;
	if (policy == NULL || req == NULL)
		return malformed(&c, "no policy or no request");
	c.now = req->now != 0 ? req->now : (int64_t)time(NULL);
	if (c.now < 0)
		return malformed(&c, "the time %lld is before 1970", (long long)c.now);
	if (req->app == NULL)
		return malformed(&c, "%s needs app=", kxp_op_name(req->op));
	switch (req->op) {
	case KXP_OP_BOOT: return decide_boot(&c);
	case KXP_OP_LINK: return decide_link(&c, false);
	case KXP_OP_UPDATE: return decide_link(&c, true);
	case KXP_OP_FORK: return decide_fork(&c);
	case KXP_OP_IPC: return decide_ipc(&c);
	case KXP_OP_RECYCLE: return decide_recycle(&c);
	case KXP_OP_FILE: return decide_file(&c);
	case KXP_OP_NET: return decide_net(&c);
	}
	return malformed(&c, "unknown op %d", (int)req->op);
}
