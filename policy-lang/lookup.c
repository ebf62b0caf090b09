/*
 * Lookups over an open (validated) policy: binary searches on the sorted
 * tables, and the manager-facing queries of kxpolicy.h.  Everything here may
 * trust the tables because kxp_open() checked them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy-lang/back.h"

const char *const kxp_loader_names[3] = {"self", "app", "any"};
const char *const kxp_bind_names[2] = {"lazy", "now"};

int64_t kxp_app_index(const struct kxp_policy *p, const char *name)
{
	uint32_t lo = 0, hi = p->napps;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, kxp_str(p, p->apps[mid].name));

		if (c == 0)
			return mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

const struct kxp_abi_lib *kxp_lib_find(const struct kxp_policy *p, uint32_t app,
				       const char *name)
{
	uint32_t lo = p->apps[app].libs.first, hi = lo + p->apps[app].libs.count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, kxp_str(p, p->libs[mid].name));

		if (c == 0)
			return &p->libs[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Keys are sorted by name, and an app has few: a linear scan by id. */
const struct kxp_abi_key *kxp_key_by_id(const struct kxp_policy *p, uint32_t app,
					const uint8_t keyid[KXSIG_KEYID_BYTES])
{
	const struct kxp_abi_range *r = &p->apps[app].keys;

	for (uint32_t k = r->first; k < r->first + r->count; k++)
		if (memcmp(p->keys[k].keyid, keyid, KXSIG_KEYID_BYTES) == 0)
			return &p->keys[k];
	return NULL;
}

/* Binary search over an app's sorted revocation run (entries of `stride`
 * bytes that start with `width` bytes of id, then the provenance index). */
static bool revoked_find(const uint8_t *base, size_t stride, size_t width,
			 const struct kxp_abi_range *r, const uint8_t *id, uint32_t *prov)
{
	uint32_t lo = r->first, hi = r->first + r->count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const uint8_t *e = base + (size_t)mid * stride;
		int c = memcmp(id, e, width);

		if (c == 0) {
			if (prov != NULL)
				memcpy(prov, e + width, sizeof(*prov));
			return true;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

bool kxp_key_revoked(const struct kxp_policy *p, uint32_t app,
		     const uint8_t keyid[KXSIG_KEYID_BYTES], uint32_t *prov)
{
	return revoked_find((const uint8_t *)p->revoked_keys, sizeof(*p->revoked_keys),
			    KXP_ABI_KEYID_BYTES, &p->apps[app].revoked_keys, keyid, prov);
}

bool kxp_digest_revoked(const struct kxp_policy *p, uint32_t app,
			const uint8_t digest[KXSIG_DIGEST_BYTES], uint32_t *prov)
{
	return revoked_find((const uint8_t *)p->revoked_digests, sizeof(*p->revoked_digests),
			    KXP_ABI_DIGEST_BYTES, &p->apps[app].revoked_digests, digest, prov);
}

void kxp_version_from_abi(const struct kxp_abi_version *in, struct pm_version *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->part, in->part, sizeof(out->part));
	out->nparts = in->nparts;
}

static void bound_from_abi(const struct kxp_abi_version *in, struct pm_bound *out)
{
	kxp_version_from_abi(in, &out->v);
	out->inclusive = (in->flags & KXP_ABI_BOUND_INCLUSIVE) != 0;
	out->unbounded = (in->flags & KXP_ABI_BOUND_UNBOUNDED) != 0;
}

bool kxp_lib_version_ok(const struct kxp_policy *p, const struct kxp_abi_lib *lib,
			const struct pm_version *v)
{
	for (uint32_t i = 0; i < lib->intervals.count; i++) {
		const struct kxp_abi_interval *abi = &p->intervals[lib->intervals.first + i];
		struct pm_interval iv;
		struct pm_range one = {.iv = &iv, .n = 1};

		bound_from_abi(&abi->lo, &iv.lo);
		bound_from_abi(&abi->hi, &iv.hi);
		if (pm_range_contains(&one, v))
			return true;
	}
	return false;
}

static void bound_format(const struct kxp_abi_version *b, const char *inf, char *buf,
			 size_t size)
{
	struct pm_version v;

	if (b->flags & KXP_ABI_BOUND_UNBOUNDED) {
		snprintf(buf, size, "%s", inf);
		return;
	}
	kxp_version_from_abi(b, &v);
	pm_version_format(&v, buf, size);
}

void kxp_interval_format(const struct kxp_abi_interval *iv, char *buf, size_t size)
{
	char lo[PM_VERSION_TEXT_MAX], hi[PM_VERSION_TEXT_MAX];

	bound_format(&iv->lo, "-inf", lo, sizeof(lo));
	bound_format(&iv->hi, "+inf", hi, sizeof(hi));
	snprintf(buf, size, "%c%s, %s%c", iv->lo.flags & KXP_ABI_BOUND_INCLUSIVE ? '[' : '(', lo,
		 hi, iv->hi.flags & KXP_ABI_BOUND_INCLUSIVE ? ']' : ')');
}

void kxp_kinds_format(uint32_t kinds, char *buf, size_t size)
{
	size_t used = 0;

	snprintf(buf, size, "none");
	for (uint32_t bit = 1; bit <= KXP_ABI_IPC_SHM; bit <<= 1) {
		if (!(kinds & bit))
			continue;
		used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? "," : "",
					 kxp_ipc_kind_name(bit));
		if (used >= size)
			return;
	}
}

/* ---- manager-facing lookups (kxpolicy.h) -------------------------------- */

int kxp_app_lookup(const struct kxp_policy *policy, const char *app, struct kxp_app_info *out)
{
	int64_t a = kxp_app_index(policy, app);
	const struct kxp_abi_app *e;

	if (a < 0)
		return -ENOENT;
	e = &policy->apps[a];
	*out = (struct kxp_app_info){
		.name = kxp_str(policy, e->name),
		.image = kxp_str(policy, e->image),
		.memory = e->memory,
		.ipc_kinds = e->ipc_kinds,
		.max_children = policy->fork[a].max_children,
		.max_depth = policy->fork[a].max_depth,
		.max_members = policy->fork[a].max_members,
		.recycle_allow = policy->recycle[a].allow != 0,
		.recycle_pool = policy->recycle[a].pool,
		.cpu_milli = policy->resources[a].cpu_milli,
		.pids = policy->resources[a].pids,
		.audit_rate = policy->resources[a].audit_rate,
		.audit_burst = policy->resources[a].audit_burst,
		.ipc_objects = e->ipc_objects ? e->ipc_objects : KXP_ABI_IPC_OBJECTS_DEFAULT,
		.ipc_persist = (e->ipc_flags & KXP_ABI_IPC_PERSIST) != 0,
		.nkeys = e->keys.count,
		.nlibs = e->libs.count,
		.nfiles = e->files.count,
		.nifaces = e->ifaces.count,
	};
	return 0;
}

const char *kxp_app_name_at(const struct kxp_policy *policy, size_t index)
{
	return index < policy->napps ? kxp_str(policy, policy->apps[index].name) : NULL;
}

static const struct kxp_abi_lib *find_lib(const struct kxp_policy *p, const char *app,
					  const char *lib, uint32_t *app_index)
{
	int64_t a = kxp_app_index(p, app);

	if (a < 0)
		return NULL;
	*app_index = (uint32_t)a;
	return kxp_lib_find(p, (uint32_t)a, lib);
}

int kxp_lib_lookup(const struct kxp_policy *policy, const char *app, const char *lib,
		   struct kxp_lib_info *out)
{
	uint32_t a;
	const struct kxp_abi_lib *e = find_lib(policy, app, lib, &a);

	if (e == NULL)
		return -ENOENT;
	*out = (struct kxp_lib_info){
		.name = kxp_str(policy, e->name),
		.version_text = kxp_str(policy, e->version_text),
		.loader = (enum kxp_relation)e->loader,
		.update = e->update != 0,
		.allow_downgrade = e->allow_downgrade != 0,
		.bind = (enum kxp_bind)e->bind,
		.nsigners = e->signers.count,
	};
	return 0;
}

int kxp_file_at(const struct kxp_policy *policy, const char *app, size_t index,
		struct kxp_file_info *out)
{
	int64_t a = kxp_app_index(policy, app);
	const struct kxp_abi_file *f;

	if (a < 0 || index >= policy->apps[a].files.count)
		return -ENOENT;
	f = &policy->files[policy->apps[a].files.first + index];
	*out = (struct kxp_file_info){
		.guest = kxp_str(policy, f->guest),
		.host = f->kind == KXP_ABI_FILE_HOST ? kxp_str(policy, f->host) : NULL,
		.mode = f->mode == KXP_ABI_MODE_RW ? KXP_MODE_RW : KXP_MODE_RO,
		.max = f->max,
	};
	return 0;
}

const char *kxp_iface_name_at(const struct kxp_policy *policy, const char *app, size_t index)
{
	int64_t a = kxp_app_index(policy, app);

	if (a < 0 || index >= policy->apps[a].ifaces.count)
		return NULL;
	return kxp_str(policy, policy->ifaces[policy->apps[a].ifaces.first + index].name);
}

const struct kxp_abi_iface *kxp_iface_find(const struct kxp_policy *p, uint32_t app,
					   const char *name)
{
	const struct kxp_abi_range *r = &p->apps[app].ifaces;

	for (uint32_t i = r->first; i < r->first + r->count; i++) /* at most 8 */
		if (strcmp(name, kxp_str(p, p->ifaces[i].name)) == 0)
			return &p->ifaces[i];
	return NULL;
}

void kxp_net_rules_of(const struct kxp_policy *p, const struct kxp_abi_iface *f,
		      struct kxp_net_rules *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->iface, sizeof(out->iface), "%s", kxp_str(p, f->name));
	out->addr = f->addr;
	out->gateway = f->gateway;
	out->prefix = f->prefix;
	out->nlisten = f->listen.count; /* the reader checked the limits */
	for (uint32_t i = 0; i < f->listen.count; i++) {
		const struct kxp_abi_listen *l = &p->listen[f->listen.first + i];

		out->listen[i] = (struct kxp_net_port){.port = l->port, .proto = l->proto};
	}
	out->npeers = f->peers.count;
	for (uint32_t i = 0; i < f->peers.count; i++) {
		const struct kxp_abi_peer *e = &p->peers[f->peers.first + i];

		out->peers[i] = (struct kxp_net_peer){e->addr, e->port, e->prefix, e->proto};
	}
}

int kxp_net_rules(const struct kxp_policy *policy, const char *app, const char *iface,
		  struct kxp_net_rules *out)
{
	int64_t a = kxp_app_index(policy, app);
	const struct kxp_abi_iface *f = a < 0 ? NULL : kxp_iface_find(policy, (uint32_t)a, iface);

	if (f == NULL)
		return -ENOENT;
	kxp_net_rules_of(policy, f, out);
	return 0;
}

/* Append key k unless revoked; counts every candidate in *n. */
static void add_key(const struct kxp_policy *p, uint32_t app, const struct kxp_abi_key *k,
		    struct kxsig_pubkey *keys, size_t max, size_t *n)
{
	if (kxp_key_revoked(p, app, k->keyid, NULL))
		return;
	if (*n < max) {
		struct kxsig_pubkey *out = &keys[*n];

		memset(out, 0, sizeof(*out));
		memcpy(out->keyid, k->keyid, sizeof(out->keyid));
		memcpy(out->pk, k->pk, sizeof(out->pk));
		snprintf(out->comment, sizeof(out->comment), "kxpolicy: app %s key %s",
			 kxp_str(p, p->apps[app].name), kxp_str(p, k->name));
	}
	(*n)++;
}

int kxp_app_trusted_keys(const struct kxp_policy *policy, const char *app,
			 struct kxsig_pubkey *keys, size_t max, size_t *n)
{
	int64_t a = kxp_app_index(policy, app);
	const struct kxp_abi_range *r;

	*n = 0;
	if (a < 0)
		return -ENOENT;
	r = &policy->apps[a].keys;
	for (uint32_t k = r->first; k < r->first + r->count; k++)
		add_key(policy, (uint32_t)a, &policy->keys[k], keys, max, n);
	return *n > max ? -ENOSPC : 0;
}

int kxp_lib_trusted_keys(const struct kxp_policy *policy, const char *app, const char *lib,
			 struct kxsig_pubkey *keys, size_t max, size_t *n)
{
	uint32_t a;
	const struct kxp_abi_lib *e = find_lib(policy, app, lib, &a);

	*n = 0;
	if (e == NULL)
		return -ENOENT;
	for (uint32_t s = e->signers.first; s < e->signers.first + e->signers.count; s++)
		add_key(policy, a, &policy->keys[policy->lib_signers[s]], keys, max, n);
	return *n > max ? -ENOSPC : 0;
}

_Static_assert(KXP_IPC_OBJECTS_DEFAULT == KXP_ABI_IPC_OBJECTS_DEFAULT, "one default");

uint32_t kxp_ipc_trust_kinds(const struct kxp_policy *policy, const char *app, const char *peer)
{
	int64_t a = kxp_app_index(policy, app), b = kxp_app_index(policy, peer);

	if (a < 0 || b < 0 || a == b)
		return 0;
	return policy->ipc[(size_t)a * policy->napps + (size_t)b];
}
