/*
 * The gate's entry points, one per op.  Each one checks the subjects its caller
 * established, establishes the object (for files: by verifying the
 * signature against exactly the keys the policy names), builds one
 * struct kxp_request from proven facts only, lets kxp_decide() decide, and
 * records the decision before returning it.
 *
 * Library names and file bytes may come from a guest: untrusted.  Names are
 * checked before use and only ever compared, hashed or escaped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager/gate/internal.h"

/* More keys than this for one app or library is a policy nobody wrote. */
#define GATE_KEYS_MAX 4096

const char *gate_sig_status_name(enum gate_sig_status status)
{
	static const char *const names[] = {
		[GATE_SIG_NONE] = "none",           [GATE_SIG_OK] = "ok",
		[GATE_SIG_UNSIGNED] = "unsigned",   [GATE_SIG_WRONG_KEY] = "wrong-key",
		[GATE_SIG_TAMPERED] = "tampered",   [GATE_SIG_BAD] = "bad-signature",
		[GATE_SIG_MALFORMED] = "malformed", [GATE_SIG_NO_KEYS] = "no-keys",
	};
	return (unsigned)status < sizeof(names) / sizeof(names[0]) ? names[status] : "unknown";
}

const char *gate_stage_name(enum gate_stage stage)
{
	static const char *const names[] = {
		[GATE_STAGE_REQUEST] = "request", [GATE_STAGE_SIGNATURE] = "signature",
		[GATE_STAGE_METADATA] = "metadata", [GATE_STAGE_POLICY] = "policy",
		[GATE_STAGE_AUDIT] = "audit",
	};
	return (unsigned)stage < sizeof(names) / sizeof(names[0]) ? names[stage] : "unknown";
}

/* ---- opening and closing ---------------------------------------------------- */

int gate_open(const struct kxp_policy *policy, const char *log_path,
	      const struct gate_opts *opts, struct gate **out, struct kx_error *err)
{
	struct gate *g = NULL;
	size_t cap = opts && opts->cache_entries ? opts->cache_entries : GATE_CACHE_DEFAULT;
	int rc;

	*out = NULL;
	if (policy == NULL || log_path == NULL || cap > GATE_CACHE_MAX)
		return kx_err(err, -EINVAL,
			      "no policy, no audit log, or a cache of more than %d entries",
			      GATE_CACHE_MAX);
	if (opts != NULL && opts->backend != NULL &&
	    (opts->backend[0] == '\0' || strlen(opts->backend) >= GATE_BACKEND_MAX ||
	     strspn(opts->backend, "abcdefghijklmnopqrstuvwxyz0123456789") !=
		     strlen(opts->backend)))
		return kx_err(err, -EINVAL, "backend name: want 1..%d bytes of [a-z0-9]",
			      GATE_BACKEND_MAX - 1);
	if (kxsig_init() != 0)
		return kx_err(err, -ENOMEM, "libsodium failed to initialise");
	g = calloc(1, sizeof(*g));
	if (g == NULL || (rc = -pthread_mutex_init(&g->lock, NULL)) != 0) {
		free(g);
		return kx_err(err, -ENOMEM, "out of memory");
	}
	pthread_cond_init(&g->synced, NULL);
	pthread_cond_init(&g->flusher_wake, NULL);
	/* from here on gate_close() undoes whatever was done */
	g->log_fd = -1;
	g->policy = policy;
	g->clock = opts ? opts->clock : NULL;
	if (opts != NULL && opts->backend != NULL)
		memcpy(g->backend, opts->backend, strlen(opts->backend) + 1);
	g->cache_cap = cap;
	g->cache = calloc(cap, sizeof(*g->cache));
	g->line = malloc(GATE_LINE_BUF);
	if (g->cache == NULL || g->line == NULL) {
		rc = kx_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = gate_audit_open(g, log_path, opts, err);
out:
	if (rc < 0)
		gate_close(g);
	else
		*out = g;
	return rc;
}

void gate_close(struct gate *gate)
{
	if (gate == NULL)
		return;
	gate_audit_close(gate);
	pthread_cond_destroy(&gate->synced);
	pthread_cond_destroy(&gate->flusher_wake);
	pthread_mutex_destroy(&gate->lock);
	free(gate->log_path);
	free(gate->cache);
	free(gate->line);
	free(gate);
}

void gate_set_policy(struct gate *gate, const struct kxp_policy *policy)
{
	pthread_mutex_lock(&gate->lock);
	gate->policy = policy;
	pthread_mutex_unlock(&gate->lock);
}

/* ---- subjects and names ------------------------------------------------------ */

static bool subject_ok(const struct gate_subject *s)
{
	return s != NULL && (s->kind == GATE_SUBJECT_PVM || s->kind == GATE_SUBJECT_OPERATOR);
}

static bool app_pvm(const struct gate_subject *s)
{
	return s != NULL && s->kind == GATE_SUBJECT_PVM && s->app != NULL;
}

static bool same_pvm(const struct gate_subject *a, const struct gate_subject *b)
{
	return a->kind == GATE_SUBJECT_PVM && b->kind == GATE_SUBJECT_PVM && a->pvm_id == b->pvm_id;
}

static bool same_app(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* The requester's relation to the target pVM, and the app it speaks for
 * (NULL for an operator or an empty pVM).  false when the subjects
 * contradict each other (one pVM id, two apps). */
static bool relation_of(const struct gate_subject *req, const struct gate_subject *target,
			enum kxp_relation *rel, const char **req_app)
{
	*req_app = NULL;
	*rel = KXP_REL_ANY;
	if (req->kind == GATE_SUBJECT_OPERATOR)
		return true;
	*req_app = req->app;
	if (same_pvm(req, target)) {
		*rel = KXP_REL_SELF;
		return same_app(req->app, target->app);
	}
	if (same_app(req->app, target->app))
		*rel = KXP_REL_APP;
	return true;
}

/* "" or ".N" repeated: what may follow ".so" in a soname. */
static bool soname_suffix(const char *s)
{
	while (*s != '\0') {
		if (s[0] != '.' || s[1] < '0' || s[1] > '9')
			return false;
		s++;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return true;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '+' || c == '-';
}

/* The library a request names: the requested name less a ".so" or
 * ".so.N[.N...]" suffix (so that a DT_NEEDED soname names its library), then
 * a name as kxsign writes them: 1..KXSIG_NAME_MAX bytes of [A-Za-z0-9._+-],
 * not starting with '.'.  At most one ".so" can start a valid suffix (a
 * suffix holds no 's'), so the split is unambiguous. */
static bool library_name(const char *requested, char out[KXSIG_NAME_MAX + 1])
{
	size_t n = strnlen(requested, GATE_AUDIT_FIELD_MAX), base = n;

	if (n == GATE_AUDIT_FIELD_MAX)
		return false;
	for (size_t p = 0; p + 3 <= n; p++) {
		if (memcmp(requested + p, ".so", 3) == 0 && soname_suffix(requested + p + 3)) {
			base = p;
			break;
		}
	}
	if (base == 0 || base > KXSIG_NAME_MAX || requested[0] == '.')
		return false;
	for (size_t i = 0; i < base; i++)
		if (!name_char(requested[i]))
			return false;
	memcpy(out, requested, base);
	out[base] = '\0';
	return true;
}

/* ---- the policy's keys and the object's signature ------------------------------ */

/* The keys the policy names for lib of app (lib NULL: the app's own keys),
 * revoked ones left out: malloc'd into *keys (NULL when there are none, as
 * for an unknown app or library).  0, -E2BIG or -ENOMEM. */
static int policy_keys(const struct kxp_policy *p, const char *app, const char *lib,
		       struct kxsig_pubkey **keys, size_t *n)
{
	size_t count = 0;
	int rc;

	*keys = NULL;
	*n = 0;
	rc = lib ? kxp_lib_trusted_keys(p, app, lib, NULL, 0, &count)
		 : kxp_app_trusted_keys(p, app, NULL, 0, &count);
	if (rc == -ENOENT || count == 0)
		return 0;
	if (count > GATE_KEYS_MAX)
		return -E2BIG;
	*keys = calloc(count, sizeof(**keys));
	if (*keys == NULL)
		return -ENOMEM;
	rc = lib ? kxp_lib_trusted_keys(p, app, lib, *keys, count, n)
		 : kxp_app_trusted_keys(p, app, *keys, count, n);
	if (rc < 0) {
		free(*keys);
		*keys = NULL;
		*n = 0;
		return rc;
	}
	return 0;
}

/* The metadata the policy may see: proven, else (unverified) claimed, which
 * can only ever explain a DENY; NULL when there is neither. */
static const struct kxsig_meta *sig_meta(const struct gate_sig_check *s)
{
	return s->proven ? &s->meta : s->claimed ? &s->claim : NULL;
}

/* Signer and digest of the object for the policy.  The signer is the proven
 * one; for a key the policy does not accept here (or when it names no key)
 * the claimed one, so that kxp_decide can say why (revoked, not trusted,
 * not in signed-by) -- it cannot allow it, that key being outside the set.
 * Otherwise an unverified file has no signer.  The content digest is a fact
 * about the bytes, verified or not. */
static void sig_attrs(const struct gate_sig_check *s, struct kxp_request *kr)
{
	const struct kxsig_meta *m = sig_meta(s);

	if (m != NULL && (s->proven || s->status == GATE_SIG_WRONG_KEY ||
			  s->status == GATE_SIG_NO_KEYS)) {
		kr->has_signer = true;
		memcpy(kr->signer, m->keyid, sizeof(kr->signer));
	}
	if (s->has_digest) {
		kr->has_digest = true;
		memcpy(kr->digest, s->digest, sizeof(kr->digest));
	}
}

/* ---- deciding and recording ------------------------------------------------- */

/* Reasons are for people: cut at the buffer's size is fine. */
__attribute__((format(printf, 3, 4)))
static void text(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

static void decision_init(struct gate_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->verdict = KXP_DENY;
}

static void note_signature(const struct gate_req *r, struct gate_decision *d)
{
	if (!r->has_sig)
		return;
	d->sig = r->sig.status;
	d->sig_cached = r->sig.cached;
	d->has_meta = r->sig.proven;
	if (d->has_meta)
		d->meta = r->sig.meta;
}

/* A DENY the gate decides itself (request, signature or metadata stage). */
__attribute__((format(printf, 5, 6)))
static int deny(struct gate *g, const struct gate_req *r, struct gate_decision *d,
		enum gate_stage stage, const char *fmt, ...)
{
	va_list ap;

	d->verdict = KXP_DENY;
	d->stage = stage;
	d->has_rule = false;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
	note_signature(r, d);
	return gate_audit_append(g, r, d);
}

/* An object whose signature did not verify is never allowed, whatever the
 * policy made of its claims; the reason says what the signature check found,
 * and the policy's rule for the object is kept. */
static void weigh_signature(const struct gate_req *r, struct gate_decision *d)
{
	const struct gate_sig_check *s = &r->sig;
	char policy[KXP_REASON_MAX];

	if (!r->has_sig || s->status == GATE_SIG_OK || d->stage == GATE_STAGE_REQUEST)
		return;
	if (s->status == GATE_SIG_NO_KEYS && d->verdict == KXP_DENY)
		return; /* the policy's own DENY (unknown app or library) says it */
	text(policy, sizeof(policy), "%s", d->reason);
	if (s->status == GATE_SIG_WRONG_KEY && d->verdict == KXP_DENY)
		text(d->reason, sizeof(d->reason), "%s (signature: %s)", policy, s->msg);
	else
		text(d->reason, sizeof(d->reason), "signature %s: %s",
		     gate_sig_status_name(s->status), s->msg);
	d->verdict = KXP_DENY;
	d->stage = GATE_STAGE_SIGNATURE;
}

/* kxp_decide() decides; the decision is recorded and returned. */
static int decide(struct gate *g, const struct gate_req *r, struct kxp_request *kr,
		  struct gate_decision *d)
{
	struct kxp_decision kd;
	struct timespec now;
	int rc;

	/* keys are trusted from/until dates: on the gate's clock (the records'
	 * clock, which tests inject through gate_opts.clock) */
	if ((g->clock ? g->clock(&now) : clock_gettime(CLOCK_REALTIME, &now)) != 0 ||
	    now.tv_sec <= 0)
		return deny(g, r, d, GATE_STAGE_REQUEST, "no clock to check keys' validity by");
	kr->now = (int64_t)now.tv_sec;
	rc = kxp_decide(g->policy, kr, &kd);

	d->verdict = rc == 0 ? kd.verdict : KXP_DENY;
	d->stage = rc == 0 ? GATE_STAGE_POLICY : GATE_STAGE_REQUEST;
	text(d->reason, sizeof(d->reason), "%s", kd.reason);
	d->has_rule = kd.has_rule;
	d->rule = kd.rule;
	note_signature(r, d);
	weigh_signature(r, d);
	return gate_audit_append(g, r, d);
}

/* Check the object file's signature against the keys the policy names for
 * lib of app (lib NULL: for app's image), into r->sig.  0 to go on; else
 * -errno, the request refused (and recorded, as far as that still works). */
static int check_object(struct gate *g, struct gate_req *r, const char *app, const char *lib,
			const void *bytes, size_t len, struct gate_decision *d)
{
	struct kxsig_pubkey *keys = NULL;
	size_t nkeys = 0;
	int rc = policy_keys(g->policy, app, lib, &keys, &nkeys);

	if (rc == 0) {
		r->has_sig = true;
		rc = gate_sig_check(g, bytes, len, keys, nkeys, &r->sig);
	}
	free(keys);
	if (rc < 0) {
		r->has_sig = false;
		(void)deny(g, r, d, GATE_STAGE_REQUEST, "the signature could not be checked: %s",
			   strerror(-rc));
	}
	return rc;
}

/* ---- boot and recycle: an app's image ------------------------------------------ */

/* Verify the image of r->app against the app's keys; it must be signed as the
 * app (one owner's key may sign several apps' images); then decide kr. */
static int decide_app_image(struct gate *g, struct gate_req *r, struct kxp_request *kr,
			    const void *bytes, size_t len, struct gate_decision *d)
{
	int rc = check_object(g, r, r->app, NULL, bytes, len, d);

	if (rc < 0)
		return rc;
	if (r->sig.proven && strcmp(r->sig.meta.name, r->app) != 0)
		return deny(g, r, d, GATE_STAGE_METADATA, "the image is signed as '%s', not as app "
			    "'%s'", r->sig.meta.name, r->app);
	kr->app = r->app;
	sig_attrs(&r->sig, kr);
	return decide(g, r, kr, d);
}

int gate_boot(struct gate *gate, const struct gate_subject *requester, const char *app,
	      const void *image, size_t len, struct gate_decision *out)
{
	struct gate_req r = {.op = KXP_OP_BOOT, .subject = requester, .app = app};
	struct kxp_request kr = {.op = KXP_OP_BOOT};

	if (gate == NULL || out == NULL)
		return -EINVAL;
	decision_init(out);
	if (!subject_ok(requester) || app == NULL || (image == NULL && len != 0))
		return deny(gate, &r, out, GATE_STAGE_REQUEST, "boot needs a requester, an app and "
			    "its image");
	return decide_app_image(gate, &r, &kr, image, len, out);
}

int gate_recycle(struct gate *gate, const struct gate_subject *loader,
		 const struct gate_subject *empty, const char *app, const void *bytes, size_t len,
		 struct gate_decision *out)
{
	struct gate_req r = {.op = KXP_OP_RECYCLE, .subject = loader, .target = empty, .app = app};
	struct kxp_request kr = {.op = KXP_OP_RECYCLE, .has_relation = true};

	if (gate == NULL || out == NULL)
		return -EINVAL;
	decision_init(out);
	if (!subject_ok(loader) || empty == NULL || empty->kind != GATE_SUBJECT_PVM ||
	    app == NULL || (bytes == NULL && len != 0))
		return deny(gate, &r, out, GATE_STAGE_REQUEST, "recycle needs a loader, an empty "
			    "pVM, an app and its image");
	if (empty->app != NULL)
		return deny(gate, &r, out, GATE_STAGE_REQUEST, "pVM %llu runs app '%s': only an "
			    "empty pVM can be recycled", (unsigned long long)empty->pvm_id,
			    empty->app);
	/* the policy admits only the empty pVM loading the app itself */
	r.has_relation = true;
	r.relation = kr.relation = same_pvm(loader, empty) ? KXP_REL_SELF : KXP_REL_ANY;
	return decide_app_image(gate, &r, &kr, bytes, len, out);
}

/* ---- link and update: a library ------------------------------------------------ */

static int decide_library(struct gate *g, struct gate_req *r, const void *bytes, size_t len,
			  struct gate_decision *d)
{
	struct kxp_request kr = {.op = r->op, .has_relation = true};
	char lib[KXSIG_NAME_MAX + 1];
	const struct kxsig_meta *m;
	int rc;

	if (!subject_ok(r->subject) || !app_pvm(r->target) || r->requested == NULL ||
	    (bytes == NULL && len != 0))
		return deny(g, r, d, GATE_STAGE_REQUEST, "%s needs a requester, a target pVM "
			    "running an app, a library name and its file", kxp_op_name(r->op));
	if (!library_name(r->requested, lib))
		return deny(g, r, d, GATE_STAGE_REQUEST, "the requested name is not a library "
			    "name (1-%d bytes of A-Z a-z 0-9 . _ + -, optionally then .so or "
			    ".so.N...)", KXSIG_NAME_MAX);
	r->lib = lib;
	r->has_relation = true;
	if (!relation_of(r->subject, r->target, &r->relation, &kr.requester))
		return deny(g, r, d, GATE_STAGE_REQUEST, "requester and target are pVM %llu with "
			    "two different apps", (unsigned long long)r->target->pvm_id);
	if (r->op == KXP_OP_UPDATE &&
	    (r->old == NULL || memchr(r->old->name, '\0', sizeof(r->old->name)) == NULL ||
	     memchr(r->old->version, '\0', sizeof(r->old->version)) == NULL ||
	     strcmp(r->old->name, lib) != 0 ||
	     kxp_version_parse(r->old->version, &kr.old_version) < 0))
		return deny(g, r, d, GATE_STAGE_REQUEST, "the running copy is not a verified "
			    "library %s with a version", lib);
	kr.has_old_version = r->op == KXP_OP_UPDATE;
	kr.by_operator = r->subject->kind == GATE_SUBJECT_OPERATOR;
	kr.has_relation = !kr.by_operator;
	kr.relation = r->relation;
	kr.app = r->target->app;
	kr.lib = lib;

	if ((rc = check_object(g, r, kr.app, lib, bytes, len, d)) < 0)
		return rc;
	if (r->sig.proven && strcmp(r->sig.meta.name, lib) != 0)
		return deny(g, r, d, GATE_STAGE_METADATA, "the file is signed as library '%s', not "
			    "'%s'", r->sig.meta.name, lib);
	m = sig_meta(&r->sig);
	kr.has_version = m != NULL && kxp_version_parse(m->version, &kr.version) == 0;
	if (r->sig.proven && !kr.has_version)
		return deny(g, r, d, GATE_STAGE_METADATA, "signed version '%s' is not a version "
			    "the policy can compare (1-4 numbers separated by dots)", m->version);
	/* Nothing proven and nothing claimed: no request to put to the policy. */
	if (!kr.has_version && r->sig.status == GATE_SIG_NO_KEYS)
		return deny(g, r, d, GATE_STAGE_SIGNATURE, "app %s has no key for library %s (no "
			    "rule for it, or all its signers revoked), and the file carries no "
			    "readable signature", kr.app, lib);
	if (!kr.has_version)
		return deny(g, r, d, GATE_STAGE_SIGNATURE, "signature %s: %s",
			    gate_sig_status_name(r->sig.status), r->sig.msg);
	sig_attrs(&r->sig, &kr);
	return decide(g, r, &kr, d);
}

int gate_link(struct gate *gate, const struct gate_subject *requester,
	      const struct gate_subject *target, const char *lib, const void *bytes, size_t len,
	      struct gate_decision *out)
{
	struct gate_req r = {.op = KXP_OP_LINK, .subject = requester, .target = target,
			     .requested = lib};

	if (gate == NULL || out == NULL)
		return -EINVAL;
	decision_init(out);
	return decide_library(gate, &r, bytes, len, out);
}

int gate_update(struct gate *gate, const struct gate_subject *requester,
		const struct gate_subject *target, const char *lib, const struct kxsig_meta *old,
		const void *bytes, size_t len, struct gate_decision *out)
{
	struct gate_req r = {.op = KXP_OP_UPDATE, .subject = requester, .target = target,
			     .requested = lib, .old = old};

	if (gate == NULL || out == NULL)
		return -EINVAL;
	decision_init(out);
	return decide_library(gate, &r, bytes, len, out);
}

/* ---- fork and IpC: no file, only the policy ------------------------------------ */

int gate_fork(struct gate *gate, const struct gate_subject *parent,
	      const struct gate_family_counts *counts, struct gate_decision *out)
{
	struct gate_req r = {.op = KXP_OP_FORK, .subject = parent};
	struct kxp_request kr = {.op = KXP_OP_FORK};

	if (gate == NULL || out == NULL)
		return -EINVAL;
	decision_init(out);
	if (!app_pvm(parent) || counts == NULL)
		return deny(gate, &r, out, GATE_STAGE_REQUEST, "fork needs a parent pVM running an "
			    "app and its family's counts");
	r.counts = *counts;
	kr.app = parent->app;
	kr.depth = parent->depth;
	kr.children = counts->children;
	kr.members = counts->members;
	return decide(gate, &r, &kr, out);
}

int gate_ipc(struct gate *gate, const struct gate_subject *a, const struct gate_subject *b,
	     uint32_t kind, struct gate_decision *out)
{
	struct gate_req r = {.op = KXP_OP_IPC, .subject = a, .target = b, .ipc_kind = kind};
	struct kxp_request kr = {.op = KXP_OP_IPC, .ipc_kind = kind};

	if (gate == NULL || out == NULL)
		return -EINVAL;
	decision_init(out);
	if (!app_pvm(a) || !app_pvm(b))
		return deny(gate, &r, out, GATE_STAGE_REQUEST, "ipc needs two pVMs running apps");
	r.same_family = kr.same_family = a->family_id == b->family_id;
	kr.app = a->app;
	kr.peer = b->app;
	return decide(gate, &r, &kr, out);
}

/* ---- file and net: what a pVM reaches outside itself --------------------------- */

int gate_file(struct gate *gate, const struct gate_subject *pvm, const char *guest,
	      const char *host, bool writable, struct gate_decision *out)
{
	struct gate_req r = {.op = KXP_OP_FILE, .subject = pvm, .target = pvm, .guest = guest,
			     .host = host, .writable = writable};
	struct kxp_request kr = {.op = KXP_OP_FILE, .guest = guest, .host = host,
				 .image = host == NULL,
				 .mode = writable ? KXP_MODE_RW : KXP_MODE_RO};

	if (gate == NULL || out == NULL)
		return -EINVAL;
	decision_init(out);
	if (!app_pvm(pvm) || guest == NULL)
		return deny(gate, &r, out, GATE_STAGE_REQUEST, "file needs a pVM running an app "
			    "and a guest path");
	kr.app = pvm->app;
	return decide(gate, &r, &kr, out);
}

int gate_net_dropped(struct gate *gate, const struct gate_subject *pvm, const char *iface,
		     const struct gate_net_drop *drop, struct gate_decision *out)
{
	struct gate_req r = {.op = KXP_OP_NET, .subject = pvm, .target = pvm, .iface = iface};
	struct kxp_request kr = {.op = KXP_OP_NET, .iface = iface};
	struct kxp_decision kd;

	if (gate == NULL || out == NULL)
		return -EINVAL;
	decision_init(out);
	if (!app_pvm(pvm) || iface == NULL || drop == NULL || drop->kind == NULL ||
	    drop->what == NULL || drop->query > KXP_NET_CONNECT)
		return deny(gate, &r, out, GATE_STAGE_REQUEST, "a dropped frame needs a pVM "
			    "running an app, an interface, a kind and a description");
	kr.app = pvm->app;
	kr.net_query = drop->query;
	kr.proto = drop->proto;
	kr.port = drop->port;
	kr.net_addr = drop->addr;
	if (kxp_decide(gate->policy, &kr, &kd) != 0)
		return deny(gate, &r, out, GATE_STAGE_REQUEST, "the monitor dropped %s: %s",
			    drop->kind, drop->what);
	out->verdict = KXP_DENY;
	out->stage = GATE_STAGE_POLICY;
	out->has_rule = kd.has_rule;
	out->rule = kd.rule;
	if (drop->query == KXP_NET_ATTACH) /* not a policy question: the interface's rule */
		text(out->reason, sizeof(out->reason), "the monitor dropped %s: %s", drop->kind,
		     drop->what);
	else
		text(out->reason, sizeof(out->reason), "the monitor dropped %s: %s (%s)",
		     drop->kind, drop->what, kd.reason);
	return gate_audit_append(gate, &r, out);
}

int gate_net(struct gate *gate, const struct gate_subject *pvm, const char *iface,
	     struct kxp_net_rules *rules, struct gate_decision *out)
{
	struct gate_req r = {.op = KXP_OP_NET, .subject = pvm, .target = pvm, .iface = iface};
	struct kxp_request kr = {.op = KXP_OP_NET, .iface = iface, .net_query = KXP_NET_ATTACH};
	int rc;

	if (rules != NULL)
		memset(rules, 0, sizeof(*rules));
	if (gate == NULL || out == NULL)
		return -EINVAL;
	decision_init(out);
	if (!app_pvm(pvm) || iface == NULL)
		return deny(gate, &r, out, GATE_STAGE_REQUEST, "net needs a pVM running an app "
			    "and an interface name");
	kr.app = pvm->app;
	rc = decide(gate, &r, &kr, out);
	/* the policy is borrowed and read-only: the rules decided on are the
	 * rules handed over */
	if (rc == 0 && out->verdict == KXP_ALLOW && rules != NULL &&
	    kxp_net_rules(gate->policy, pvm->app, iface, rules) < 0) {
		memset(rules, 0, sizeof(*rules));
		return -EIO; /* cannot happen: the decision found the interface */
	}
	return rc;
}
