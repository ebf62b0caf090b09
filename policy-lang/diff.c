/*
 * `kxpolicy diff`: compares what two policies allow, not their bytes.  Each
 * policy is normalised to a set of permission facts (one line each), the
 * sets are compared, and the facts only in OLD are printed with "-", those
 * only in NEW with "+".  Normalising means:
 *   - keys by key id, never by name or file; a revoked key is not trusted
 *     (revocations of keys change no decision beyond that; revoked digests
 *     are facts of their own);
 *   - version ranges as merged half-open intervals over the 4-part version
 *     space, so "> 1.0" and ">= 1.0.0.1", or "< 2 || 2.*" and "< 2.1", are
 *     the same fact;
 *   - the rollback setting only for libraries that may be updated, the pool
 *     only for apps that may be recycled;
 *   - cross-family trust once per pair and kind (it is mutual);
 *   - files rules by mount point, network rules by interface, each listen
 *     port and connect peer a fact of its own (peers as written, in
 *     canonical form: a peer inside another is a compiler warning).
 * Provenance, key names, paths of key files and constraint spelling are not
 * permissions and are not compared.
 */
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "policy-lang/back.h"

struct facts {
	char **v;
	size_t n, cap;
	int rc; /* first error; later adds are ignored */
};

__attribute__((format(printf, 2, 3)))
static void fact(struct facts *f, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (f->rc < 0)
		return;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		char **nv = realloc(f->v, cap * sizeof(*nv));

		if (nv == NULL) {
			f->rc = -ENOMEM;
			return;
		}
		f->v = nv;
		f->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		f->rc = -ENOMEM;
	else
		f->v[f->n++] = s;
	va_end(ap);
}

static void facts_free(struct facts *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i]);
	free(f->v);
}

/* ---- canonical versions: 4 x uint32 tuples, half-open intervals --------- */

struct tuple {
	uint32_t part[KXP_ABI_VERSION_PARTS];
};

static int tuple_cmp(const struct tuple *a, const struct tuple *b)
{
	for (size_t i = 0; i < KXP_ABI_VERSION_PARTS; i++)
		if (a->part[i] != b->part[i])
			return a->part[i] < b->part[i] ? -1 : 1;
	return 0;
}

/* The next version; false past the largest one. */
static bool tuple_succ(struct tuple *t)
{
	for (size_t i = KXP_ABI_VERSION_PARTS; i-- > 0;) {
		if (t->part[i] != UINT32_MAX) {
			t->part[i]++;
			return true;
		}
		t->part[i] = 0;
	}
	return false;
}

static void tuple_format(const struct tuple *t, char *buf, size_t size)
{
	struct pm_version v = {.nparts = KXP_ABI_VERSION_PARTS};

	memcpy(v.part, t->part, sizeof(v.part));
	while (v.nparts > 1 && v.part[v.nparts - 1] == 0)
		v.nparts--; /* 2.0.0.0 prints as 2 */
	pm_version_format(&v, buf, size);
}

/* [lo, hi), hi_inf meaning +inf. */
struct span {
	struct tuple lo, hi;
	bool hi_inf;
};

/* The interval as a half-open span; false when it holds no version. */
static bool span_of(const struct kxp_abi_interval *iv, struct span *s)
{
	memset(s, 0, sizeof(*s));
	if (!(iv->lo.flags & KXP_ABI_BOUND_UNBOUNDED)) {
		memcpy(s->lo.part, iv->lo.part, sizeof(s->lo.part));
		if (!(iv->lo.flags & KXP_ABI_BOUND_INCLUSIVE) && !tuple_succ(&s->lo))
			return false;
	}
	if (iv->hi.flags & KXP_ABI_BOUND_UNBOUNDED) {
		s->hi_inf = true;
		return true;
	}
	memcpy(s->hi.part, iv->hi.part, sizeof(s->hi.part));
	if ((iv->hi.flags & KXP_ABI_BOUND_INCLUSIVE) && !tuple_succ(&s->hi))
		s->hi_inf = true;
	return s->hi_inf || tuple_cmp(&s->lo, &s->hi) < 0;
}

static void span_fact(struct facts *f, const char *prefix, const struct span *s)
{
	static const struct tuple zero;
	char lo[PM_VERSION_TEXT_MAX], hi[PM_VERSION_TEXT_MAX];
	bool from_zero = tuple_cmp(&s->lo, &zero) == 0;

	tuple_format(&s->lo, lo, sizeof(lo));
	tuple_format(&s->hi, hi, sizeof(hi));
	if (from_zero && s->hi_inf)
		fact(f, "%s: version any", prefix);
	else if (from_zero)
		fact(f, "%s: version < %s", prefix, hi);
	else if (s->hi_inf)
		fact(f, "%s: version >= %s", prefix, lo);
	else
		fact(f, "%s: version >= %s && < %s", prefix, lo, hi);
}

/* The library's intervals are ascending; merge the spans that touch. */
static void version_facts(struct facts *f, const struct kxp_policy *p,
			  const struct kxp_abi_lib *lib, const char *prefix)
{
	struct span cur, next;
	bool have = false;

	for (uint32_t i = 0; i < lib->intervals.count; i++) {
		if (!span_of(&p->intervals[lib->intervals.first + i], &next))
			continue;
		if (have && !cur.hi_inf && tuple_cmp(&next.lo, &cur.hi) <= 0) {
			if (next.hi_inf || tuple_cmp(&next.hi, &cur.hi) > 0) {
				cur.hi = next.hi;
				cur.hi_inf = next.hi_inf;
			}
			continue;
		}
		if (have)
			span_fact(f, prefix, &cur);
		cur = next;
		have = true;
	}
	if (have)
		span_fact(f, prefix, &cur);
	else
		fact(f, "%s: version none", prefix);
}

/* ---- facts of one policy ---------------------------------------------- */

static void lib_facts(struct facts *f, const struct kxp_policy *p, uint32_t a,
		      const struct kxp_abi_lib *lib)
{
	char prefix[KXP_RULE_DESC_MAX], id[2 * KXSIG_KEYID_BYTES + 1];

	snprintf(prefix, sizeof(prefix), "app %s: lib %s", kxp_str(p, p->apps[a].name),
		 kxp_str(p, lib->name));
	fact(f, "%s", prefix);
	for (uint32_t s = 0; s < lib->signers.count; s++) {
		const struct kxp_abi_key *k = &p->keys[p->lib_signers[lib->signers.first + s]];

		if (kxp_key_revoked(p, a, k->keyid, NULL))
			continue;
		kxsig_keyid_hex(k->keyid, id);
		fact(f, "%s: signer %s", prefix, id);
	}
	version_facts(f, p, lib, prefix);
	fact(f, "%s: loader %s", prefix, kxp_loader_names[lib->loader]);
	fact(f, "%s: update %s", prefix, lib->update ? "allow" : "deny");
	if (lib->update)
		fact(f, "%s: rollback %s", prefix, lib->allow_downgrade ? "allow" : "deny");
	fact(f, "%s: bind %s", prefix, kxp_bind_names[lib->bind]);
}

/* resources, files and network */
static void io_facts(struct facts *f, const struct kxp_policy *p, uint32_t a)
{
	const struct kxp_abi_app *app = &p->apps[a];
	const char *name = kxp_str(p, app->name);
	char addr[PM_IPV4_TEXT_MAX], peer[PM_PEER_TEXT_MAX];

	if (p->resources[a].cpu_milli != 0)
		fact(f, "app %s: resources cpu %u.%03u", name, p->resources[a].cpu_milli / 1000,
		     p->resources[a].cpu_milli % 1000);
	else
		fact(f, "app %s: resources cpu default", name);
	if (p->resources[a].pids != 0)
		fact(f, "app %s: resources pids %u", name, p->resources[a].pids);
	else
		fact(f, "app %s: resources pids default", name);
	if (p->resources[a].audit_rate != 0)
		fact(f, "app %s: audit rate %u, burst %u", name, p->resources[a].audit_rate,
		     p->resources[a].audit_burst);
	for (uint32_t i = app->files.first; i < app->files.first + app->files.count; i++) {
		const struct kxp_abi_file *r = &p->files[i];
		const char *guest = kxp_str(p, r->guest);

		if (r->kind == KXP_ABI_FILE_IMAGE)
			fact(f, "app %s: file %s: the image's tree, ro", name, guest);
		else if (r->mode == KXP_ABI_MODE_RW)
			fact(f, "app %s: file %s: host %s, rw, max %llu", name, guest,
			     kxp_str(p, r->host), (unsigned long long)r->max);
		else
			fact(f, "app %s: file %s: host %s, ro", name, guest, kxp_str(p, r->host));
	}
	for (uint32_t i = app->ifaces.first; i < app->ifaces.first + app->ifaces.count; i++) {
		const struct kxp_abi_iface *e = &p->ifaces[i];
		const char *iface = kxp_str(p, e->name);

		pm_ipv4_format(e->addr, addr);
		fact(f, "app %s: iface %s: address %s/%u", name, iface, addr, e->prefix);
		pm_ipv4_format(e->gateway, addr);
		fact(f, "app %s: iface %s: gateway %s", name, iface, e->gateway ? addr : "none");
		for (uint32_t l = e->listen.first; l < e->listen.first + e->listen.count; l++)
			fact(f, "app %s: iface %s: listen %s/%u", name, iface,
			     pm_proto_name(p->listen[l].proto), p->listen[l].port);
		for (uint32_t c = e->peers.first; c < e->peers.first + e->peers.count; c++) {
			pm_peer_format(p->peers[c].proto, p->peers[c].addr, p->peers[c].prefix,
				       p->peers[c].port, peer, sizeof(peer));
			fact(f, "app %s: iface %s: connect %s", name, iface, peer);
		}
	}
}

static void app_facts(struct facts *f, const struct kxp_policy *p, uint32_t a)
{
	const struct kxp_abi_app *app = &p->apps[a];
	const char *name = kxp_str(p, app->name);
	char id[2 * KXSIG_DIGEST_BYTES + 1], date[PM_DATE_TEXT_MAX];

	fact(f, "app %s", name);
	fact(f, "app %s: image %s", name, kxp_str(p, app->image));
	fact(f, "app %s: memory %llu", name, (unsigned long long)app->memory);
	for (uint32_t k = app->keys.first; k < app->keys.first + app->keys.count; k++) {
		if (kxp_key_revoked(p, a, p->keys[k].keyid, NULL))
			continue;
		kxsig_keyid_hex(p->keys[k].keyid, id);
		fact(f, "app %s: trusts key %s", name, id);
		if (p->keys[k].from != 0) { /* rotation: a narrower period is a removal */
			pm_date_format(p->keys[k].from, date);
			fact(f, "app %s: trusts key %s from %s", name, id, date);
		}
		if (p->keys[k].until != 0) {
			pm_date_format(p->keys[k].until, date);
			fact(f, "app %s: trusts key %s until %s", name, id, date);
		}
	}
	for (uint32_t l = app->libs.first; l < app->libs.first + app->libs.count; l++)
		lib_facts(f, p, a, &p->libs[l]);
	fact(f, "app %s: fork max-children %u", name, p->fork[a].max_children);
	fact(f, "app %s: fork max-depth %u", name, p->fork[a].max_depth);
	fact(f, "app %s: fork max-members %u", name, p->fork[a].max_members);
	for (uint32_t bit = 1; bit <= KXP_ABI_IPC_SHM; bit <<= 1)
		if (app->ipc_kinds & bit)
			fact(f, "app %s: family ipc %s", name, kxp_ipc_kind_name(bit));
	fact(f, "app %s: ipc objects %u", name,
	     app->ipc_objects ? app->ipc_objects : KXP_ABI_IPC_OBJECTS_DEFAULT);
	if (app->ipc_flags & KXP_ABI_IPC_PERSIST)
		fact(f, "app %s: ipc objects persist", name);
	for (uint32_t t = app->trust.first; t < app->trust.first + app->trust.count; t++) {
		if (p->trust[t].peer < a)
			continue; /* mutual: listed once, from the smaller name */
		for (uint32_t bit = 1; bit <= KXP_ABI_IPC_SHM; bit <<= 1)
			if (p->trust[t].kinds & bit)
				fact(f, "ipc trust %s <-> %s: %s", name,
				     kxp_str(p, p->apps[p->trust[t].peer].name),
				     kxp_ipc_kind_name(bit));
	}
	if (p->recycle[a].allow)
		fact(f, "app %s: recycle allow, pool %u", name, p->recycle[a].pool);
	else
		fact(f, "app %s: recycle deny", name);
	for (uint32_t r = 0; r < app->revoked_digests.count; r++) {
		kxsig_digest_hex(p->revoked_digests[app->revoked_digests.first + r].digest, id);
		fact(f, "app %s: revoked digest %s", name, id);
	}
	io_facts(f, p, a);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int collect(const struct kxp_policy *p, struct facts *f)
{
	for (uint32_t a = 0; a < p->napps; a++)
		app_facts(f, p, a);
	if (f->rc == 0)
		qsort(f->v, f->n, sizeof(*f->v), str_cmp);
	return f->rc;
}

int kxp_diff(FILE *out, const struct kxp_policy *old, const struct kxp_policy *new_,
	     bool *differ, struct kx_error *err)
{
	struct facts a = {0}, b = {0};
	size_t i = 0, j = 0;
	int rc;

	*differ = false;
	if ((rc = collect(old, &a)) < 0 || (rc = collect(new_, &b)) < 0) {
		kx_err(err, rc, "out of memory");
		goto out;
	}
	while (i < a.n || j < b.n) {
		int c = i == a.n ? 1 : j == b.n ? -1 : strcmp(a.v[i], b.v[j]);

		if (c == 0) {
			i++;
			j++;
			continue;
		}
		*differ = true;
		if (c < 0)
			fprintf(out, "- %s\n", a.v[i++]);
		else
			fprintf(out, "+ %s\n", b.v[j++]);
	}
	rc = ferror(out) ? -EIO : 0;
out:
	facts_free(&a);
	facts_free(&b);
	return rc;
}
