/*
 * The table writer: a checked struct pm_policy (model.h) -> .kxp bytes
 * (kxp_abi.h).  Deterministic: the output depends only on the model (no
 * time, no addresses, no uninitialised padding: every buffer starts zeroed),
 * and every list is written in the order the ABI header prescribes.
 *
 * The model comes from the front end's checker, but the writer does not let
 * an inconsistent model make it write out of bounds: every index it follows
 * is checked, and `kxpolicy compile` re-opens the result with the reader
 * before it writes the file.
 */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "policy-lang/back.h"

/* ---- string pool: deduplicated, in order of first use ------------------- */

struct strpool {
	char *buf;
	size_t size, cap;
	uint32_t *slots; /* open addressing: offset + 1, 0 = empty */
	size_t nslots, used;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static int pool_rehash(struct strpool *sp)
{
	size_t n = sp->nslots ? sp->nslots * 2 : 1024;
	uint32_t *slots = calloc(n, sizeof(*slots));

	if (slots == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < sp->nslots; i++) {
		uint32_t v = sp->slots[i];
		size_t j;

		if (v == 0)
			continue;
		j = str_hash(sp->buf + v - 1) & (n - 1);
		while (slots[j] != 0)
			j = (j + 1) & (n - 1);
		slots[j] = v;
	}
	free(sp->slots);
	sp->slots = slots;
	sp->nslots = n;
	return 0;
}

static int pool_add(struct strpool *sp, const char *s, uint32_t *off)
{
	size_t len, j;
	int rc;

	if (s == NULL)
		s = "";
	if (*s == '\0') {
		*off = 0; /* the pool starts with the empty string */
		return 0;
	}
	if ((sp->used + 1) * 2 > sp->nslots && (rc = pool_rehash(sp)) < 0)
		return rc;
	j = str_hash(s) & (sp->nslots - 1);
	for (; sp->slots[j] != 0; j = (j + 1) & (sp->nslots - 1)) {
		if (strcmp(sp->buf + sp->slots[j] - 1, s) == 0) {
			*off = sp->slots[j] - 1;
			return 0;
		}
	}
	len = strlen(s) + 1;
	if (len > KXP_FILE_MAX || sp->size + len > KXP_FILE_MAX)
		return -EFBIG;
	if (sp->size + len > sp->cap) {
		size_t cap = sp->cap ? sp->cap : 4096;
		char *nb;

		while (cap < sp->size + len)
			cap *= 2;
		nb = realloc(sp->buf, cap);
		if (nb == NULL)
			return -ENOMEM;
		sp->buf = nb;
		sp->cap = cap;
	}
	memcpy(sp->buf + sp->size, s, len);
	*off = (uint32_t)sp->size;
	sp->slots[j] = (uint32_t)sp->size + 1;
	sp->size += len;
	sp->used++;
	return 0;
}

/* ---- the tables being built --------------------------------------------- */

struct table {
	void *data;
	size_t count, entry_size;
};

struct writer {
	const struct pm_policy *pol;
	struct strpool pool;
	struct table t[KXP_TABLE_COUNT];
	struct kx_error *err;
};

static int table_alloc(struct writer *w, enum kxp_abi_table id, size_t count, size_t entry_size)
{
	w->t[id].count = count;
	w->t[id].entry_size = entry_size;
	if (count > UINT32_MAX)
		return kx_err(w->err, -EFBIG, "table %d: %zu entries is too many", (int)id, count);
	w->t[id].data = calloc(count ? count : 1, entry_size);
	return w->t[id].data ? 0 : -ENOMEM;
}

static int add_str(struct writer *w, const char *s, uint32_t *off)
{
	int rc = pool_add(&w->pool, s, off);

	if (rc == -EFBIG)
		kx_err(w->err, rc, "string pool exceeds %u bytes", KXP_FILE_MAX);
	return rc;
}

static int add_prov(struct writer *w, size_t *next, const struct pm_src *src, uint32_t *index)
{
	struct kxp_abi_prov *pv = (struct kxp_abi_prov *)w->t[KXP_T_PROV].data + *next;
	int rc = add_str(w, src->file, &pv->file);

	if (rc < 0)
		return rc;
	pv->line = src->line;
	pv->col = src->col;
	*index = (uint32_t)(*next)++;
	return 0;
}

static int version_to_abi(const struct pm_bound *b, struct kxp_abi_version *out)
{
	memset(out, 0, sizeof(*out));
	if (b->unbounded) {
		out->flags = KXP_ABI_BOUND_UNBOUNDED;
		return 0;
	}
	if (b->v.nparts < 1 || b->v.nparts > KXP_ABI_VERSION_PARTS)
		return -EINVAL;
	for (size_t i = 0; i < b->v.nparts; i++)
		out->part[i] = b->v.part[i];
	out->nparts = b->v.nparts;
	out->flags = b->inclusive ? KXP_ABI_BOUND_INCLUSIVE : 0;
	return 0;
}

/* Revocation lists are sorted (and deduplicated) here, not by the front end. */
struct revoked_item {
	const uint8_t *bytes;
	const struct pm_src *src;
	size_t order;
};
static int revoked_cmp(const void *a, const void *b, void *width)
{
	const struct revoked_item *x = a, *y = b;
	int c = memcmp(x->bytes, y->bytes, *(const size_t *)width);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Sort n items of width bytes (with their sources) and append the unique
 * ones to table id; returns the run in *range. */
static int write_revoked(struct writer *w, size_t *nprov, enum kxp_abi_table id,
			 const uint8_t *bytes, size_t width, const struct pm_src *srcs, size_t n,
			 struct kxp_abi_range *range, size_t *next)
{
	struct revoked_item *items = NULL;
	int rc = 0;

	range->first = (uint32_t)*next;
	range->count = 0;
	if (n == 0)
		goto out;
	items = calloc(n, sizeof(*items));
	if (items == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		items[i] = (struct revoked_item){bytes + i * width, &srcs[i], i};
	qsort_r(items, n, sizeof(*items), revoked_cmp, &width);
	for (size_t i = 0; i < n; i++) {
		uint8_t *e;
		uint32_t prov;

		if (i > 0 && memcmp(items[i].bytes, items[i - 1].bytes, width) == 0)
			continue;
		rc = add_prov(w, nprov, items[i].src, &prov);
		if (rc < 0)
			goto out;
		e = (uint8_t *)w->t[id].data + *next * w->t[id].entry_size;
		memcpy(e, items[i].bytes, width);
		memcpy(e + width, &prov, sizeof(prov)); /* prov follows the bytes */
		(*next)++;
		range->count++;
	}
out:
	free(items);
	return rc;
}
_Static_assert(offsetof(struct kxp_abi_revoked_key, prov) == KXP_ABI_KEYID_BYTES,
	       "write_revoked: prov follows the key id");
_Static_assert(offsetof(struct kxp_abi_revoked_digest, prov) == KXP_ABI_DIGEST_BYTES,
	       "write_revoked: prov follows the digest");

/* Everything kxp_write needs to count before it allocates. */
struct counts {
	size_t keys, libs, signers, intervals, trust, revoked_keys, revoked_digests, prov;
	size_t files, ifaces, listen, peers;
};

static int count_model(struct writer *w, struct counts *c)
{
	const struct pm_policy *pol = w->pol;
	size_t prov_items = 0;

	memset(c, 0, sizeof(*c));
	if (pol->napps > KXP_APPS_MAX)
		return kx_err(w->err, -EFBIG, "%zu apps: at most %u fit in one policy", pol->napps,
			      KXP_APPS_MAX);
	for (size_t a = 0; a < pol->napps; a++) {
		const struct pm_app *app = &pol->apps[a];
		size_t lib_items = 0;

		for (size_t l = 0; l < app->nlibs; l++)
			if (__builtin_add_overflow(lib_items, app->libs[l].nsigners, &lib_items) ||
			    __builtin_add_overflow(c->intervals, app->libs[l].version.n,
						   &c->intervals))
				goto too_big;
		for (size_t i = 0; i < app->nifaces; i++)
			if (__builtin_add_overflow(c->listen, app->ifaces[i].nlisten, &c->listen) ||
			    __builtin_add_overflow(c->peers, app->ifaces[i].npeers, &c->peers))
				goto too_big;
		if (__builtin_add_overflow(c->files, app->nfiles, &c->files) ||
		    __builtin_add_overflow(c->ifaces, app->nifaces, &c->ifaces) ||
		    __builtin_add_overflow(c->signers, lib_items, &c->signers) ||
		    __builtin_add_overflow(c->keys, app->nkeys, &c->keys) ||
		    __builtin_add_overflow(c->libs, app->nlibs, &c->libs) ||
		    __builtin_add_overflow(c->trust, app->ntrust, &c->trust) ||
		    __builtin_add_overflow(c->revoked_keys, app->revoked.nkeyids,
					   &c->revoked_keys) ||
		    __builtin_add_overflow(c->revoked_digests, app->revoked.ndigests,
					   &c->revoked_digests))
			goto too_big;
	}
	/* one provenance entry per app, ipc, fork, recycle, resources, key,
	 * lib, trust rule, revocation, files rule, interface, port and peer */
	if (__builtin_mul_overflow(pol->napps, (size_t)5, &prov_items) ||
	    __builtin_add_overflow(prov_items, c->files, &prov_items) ||
	    __builtin_add_overflow(prov_items, c->ifaces, &prov_items) ||
	    __builtin_add_overflow(prov_items, c->listen, &prov_items) ||
	    __builtin_add_overflow(prov_items, c->peers, &prov_items) ||
	    __builtin_add_overflow(prov_items, c->keys, &prov_items) ||
	    __builtin_add_overflow(prov_items, c->libs, &prov_items) ||
	    __builtin_add_overflow(prov_items, c->trust, &prov_items) ||
	    __builtin_add_overflow(prov_items, c->revoked_keys, &prov_items) ||
	    __builtin_add_overflow(prov_items, c->revoked_digests, &prov_items))
		goto too_big;
	c->prov = prov_items;
	return 0;
too_big:
	return kx_err(w->err, -EFBIG, "policy too large");
}

static int find_app(const struct pm_policy *pol, const char *name, uint32_t *index)
{
	size_t lo = 0, hi = pol->napps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, pol->apps[mid].name);

		if (c == 0) {
			*index = (uint32_t)mid;
			return 0;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -ENOENT;
}

/* Cursors into every per-entry table while apps are written in order. */
struct cursors {
	size_t prov, key, lib, signer, interval, trust, revoked_key, revoked_digest;
	size_t file, iface, listen, peer;
};

static int write_lib(struct writer *w, struct cursors *cur, const struct pm_app *app,
		     uint32_t keys_first, const struct pm_library *lib)
{
	struct kxp_abi_lib *e = (struct kxp_abi_lib *)w->t[KXP_T_LIBS].data + cur->lib++;
	uint32_t *signers = w->t[KXP_T_LIB_SIGNERS].data;
	struct kxp_abi_interval *iv = w->t[KXP_T_INTERVALS].data;
	int rc;

	if ((rc = add_str(w, lib->name, &e->name)) < 0 ||
	    (rc = add_str(w, lib->version_text, &e->version_text)) < 0 ||
	    (rc = add_prov(w, &cur->prov, &lib->src, &e->prov)) < 0)
		return rc;
	if ((unsigned)lib->loader > KXP_ABI_LOADER_ANY || (unsigned)lib->bind > KXP_ABI_BIND_NOW)
		goto bad;
	e->loader = (uint8_t)lib->loader;
	e->update = lib->update;
	e->allow_downgrade = lib->allow_downgrade;
	e->bind = (uint8_t)lib->bind;
	e->signers = (struct kxp_abi_range){(uint32_t)cur->signer, (uint32_t)lib->nsigners};
	for (size_t s = 0; s < lib->nsigners; s++) {
		if (lib->signers[s] >= app->nkeys)
			goto bad;
		signers[cur->signer++] = keys_first + (uint32_t)lib->signers[s];
	}
	e->intervals = (struct kxp_abi_range){(uint32_t)cur->interval, (uint32_t)lib->version.n};
	for (size_t i = 0; i < lib->version.n; i++, cur->interval++)
		if (version_to_abi(&lib->version.iv[i].lo, &iv[cur->interval].lo) < 0 ||
		    version_to_abi(&lib->version.iv[i].hi, &iv[cur->interval].hi) < 0)
			goto bad;
	return 0;
bad:
	return kx_err(w->err, -EINVAL,
		      "app '%s' library '%s': inconsistent model (signer index, loader, "
		      "bind or version out of range)",
		      app->name, lib->name);
}

static int write_files(struct writer *w, struct cursors *cur, const struct pm_app *app,
		       struct kxp_abi_range *range)
{
	int rc;

	*range = (struct kxp_abi_range){(uint32_t)cur->file, (uint32_t)app->nfiles};
	for (size_t i = 0; i < app->nfiles; i++) {
		const struct pm_file_rule *r = &app->files[i];
		struct kxp_abi_file *e =
			(struct kxp_abi_file *)w->t[KXP_T_FILES].data + cur->file++;

		if ((rc = add_str(w, r->guest, &e->guest)) < 0 ||
		    (rc = add_str(w, r->host, &e->host)) < 0 ||
		    (rc = add_prov(w, &cur->prov, &r->src, &e->prov)) < 0)
			return rc;
		e->kind = r->host != NULL ? KXP_ABI_FILE_HOST : KXP_ABI_FILE_IMAGE;
		e->mode = r->mode == PM_MODE_RW ? KXP_ABI_MODE_RW : KXP_ABI_MODE_RO;
		e->max = r->mode == PM_MODE_RW ? r->max : 0;
	}
	return 0;
}

static int write_iface(struct writer *w, struct cursors *cur, const struct pm_iface *ifc)
{
	struct kxp_abi_iface *e = (struct kxp_abi_iface *)w->t[KXP_T_IFACES].data + cur->iface++;
	int rc;

	if ((rc = add_str(w, ifc->name, &e->name)) < 0 ||
	    (rc = add_prov(w, &cur->prov, &ifc->src, &e->prov)) < 0)
		return rc;
	e->addr = ifc->addr;
	e->gateway = ifc->gateway;
	e->prefix = ifc->prefix;
	e->listen = (struct kxp_abi_range){(uint32_t)cur->listen, (uint32_t)ifc->nlisten};
	for (size_t i = 0; i < ifc->nlisten; i++) {
		struct kxp_abi_listen *l =
			(struct kxp_abi_listen *)w->t[KXP_T_LISTEN].data + cur->listen++;

		if ((rc = add_prov(w, &cur->prov, &ifc->listen[i].src, &l->prov)) < 0)
			return rc;
		l->port = ifc->listen[i].port;
		l->proto = ifc->listen[i].proto;
	}
	e->peers = (struct kxp_abi_range){(uint32_t)cur->peer, (uint32_t)ifc->npeers};
	for (size_t i = 0; i < ifc->npeers; i++) {
		struct kxp_abi_peer *p =
			(struct kxp_abi_peer *)w->t[KXP_T_PEERS].data + cur->peer++;

		if ((rc = add_prov(w, &cur->prov, &ifc->peers[i].src, &p->prov)) < 0)
			return rc;
		p->addr = ifc->peers[i].addr;
		p->prefix = ifc->peers[i].prefix;
		p->proto = ifc->peers[i].proto;
		p->port = ifc->peers[i].port;
	}
	return 0;
}

static int write_app(struct writer *w, struct cursors *cur, uint32_t a)
{
	const struct pm_policy *pol = w->pol;
	const struct pm_app *app = &pol->apps[a];
	struct kxp_abi_app *e = (struct kxp_abi_app *)w->t[KXP_T_APPS].data + a;
	struct kxp_abi_fork *fk = (struct kxp_abi_fork *)w->t[KXP_T_FORK].data + a;
	struct kxp_abi_recycle *rc_e = (struct kxp_abi_recycle *)w->t[KXP_T_RECYCLE].data + a;
	struct kxp_abi_resources *res = (struct kxp_abi_resources *)w->t[KXP_T_RESOURCES].data + a;
	uint8_t *matrix = w->t[KXP_T_IPC].data;
	int rc;

	if ((rc = add_str(w, app->name, &e->name)) < 0 ||
	    (rc = add_str(w, app->image, &e->image)) < 0 ||
	    (rc = add_prov(w, &cur->prov, &app->src, &e->prov)) < 0 ||
	    (rc = add_prov(w, &cur->prov, &app->ipc_src, &e->ipc_prov)) < 0 ||
	    (rc = add_prov(w, &cur->prov, &app->fork.src, &fk->prov)) < 0 ||
	    (rc = add_prov(w, &cur->prov, &app->recycle.src, &rc_e->prov)) < 0 ||
	    (rc = add_prov(w, &cur->prov, &app->resources.src, &res->prov)) < 0)
		return rc;
	res->cpu_milli = app->resources.cpu_milli;
	res->pids = app->resources.pids;
	_Static_assert(PM_AUDIT_RATE_MAX == KXP_ABI_AUDIT_RATE_MAX, "one audit rate limit");
	if (app->audit.rate > KXP_ABI_AUDIT_RATE_MAX || app->audit.burst > KXP_ABI_AUDIT_RATE_MAX ||
	    (app->audit.rate == 0) != (app->audit.burst == 0))
		return kx_err(w->err, -EINVAL, "app %s: audit rate %u, burst %u", app->name,
			      app->audit.rate, app->audit.burst);
	res->audit_rate = (uint16_t)app->audit.rate;
	res->audit_burst = (uint16_t)app->audit.burst;
	e->memory = app->memory;
	e->ipc_kinds = app->ipc_kinds;
	_Static_assert(PM_IPC_OBJECTS_MAX == KXP_ABI_IPC_OBJECTS_MAX, "one IpC object cap");
	if (app->ipc_objects > KXP_ABI_IPC_OBJECTS_MAX)
		return kx_err(w->err, -EINVAL, "app %s: ipc-objects %u", app->name, app->ipc_objects);
	e->ipc_objects = (uint16_t)app->ipc_objects;
	e->ipc_flags = app->ipc_persist ? KXP_ABI_IPC_PERSIST : 0;
	fk->max_children = app->fork.max_children;
	fk->max_depth = app->fork.max_depth;
	fk->max_members = app->fork.max_members;
	rc_e->allow = app->recycle.allow;
	rc_e->pool = app->recycle.pool;

	e->keys = (struct kxp_abi_range){(uint32_t)cur->key, (uint32_t)app->nkeys};
	for (size_t k = 0; k < app->nkeys; k++) {
		struct kxp_abi_key *ke = (struct kxp_abi_key *)w->t[KXP_T_KEYS].data + cur->key++;

		if ((rc = add_str(w, app->keys[k].name, &ke->name)) < 0 ||
		    (rc = add_str(w, app->keys[k].path, &ke->path)) < 0 ||
		    (rc = add_prov(w, &cur->prov, &app->keys[k].src, &ke->prov)) < 0)
			return rc;
		memcpy(ke->keyid, app->keys[k].keyid, sizeof(ke->keyid));
		memcpy(ke->pk, app->keys[k].pk, sizeof(ke->pk));
		ke->from = app->keys[k].from;
		ke->until = app->keys[k].until;
	}
	e->libs = (struct kxp_abi_range){(uint32_t)cur->lib, (uint32_t)app->nlibs};
	for (size_t l = 0; l < app->nlibs; l++)
		if ((rc = write_lib(w, cur, app, e->keys.first, &app->libs[l])) < 0)
			return rc;
	e->trust = (struct kxp_abi_range){(uint32_t)cur->trust, (uint32_t)app->ntrust};
	for (size_t t = 0; t < app->ntrust; t++) {
		struct kxp_abi_trust *te =
			(struct kxp_abi_trust *)w->t[KXP_T_TRUST].data + cur->trust++;

		if (find_app(pol, app->trust[t].peer, &te->peer) < 0)
			return kx_err(w->err, -EINVAL,
				      "app '%s': trust peer '%s' is not in the policy", app->name,
				      app->trust[t].peer);
		if ((rc = add_prov(w, &cur->prov, &app->trust[t].src, &te->prov)) < 0)
			return rc;
		te->kinds = app->trust[t].kinds;
		matrix[(size_t)a * pol->napps + te->peer] |= (uint8_t)(te->kinds & KXP_ABI_IPC_ALL);
	}
	if ((rc = write_files(w, cur, app, &e->files)) < 0)
		return rc;
	e->ifaces = (struct kxp_abi_range){(uint32_t)cur->iface, (uint32_t)app->nifaces};
	for (size_t i = 0; i < app->nifaces; i++)
		if ((rc = write_iface(w, cur, &app->ifaces[i])) < 0)
			return rc;
	if ((rc = write_revoked(w, &cur->prov, KXP_T_REVOKED_KEYS, (const uint8_t *)app->revoked.keyids,
				KXP_ABI_KEYID_BYTES, app->revoked.keyid_src, app->revoked.nkeyids,
				&e->revoked_keys, &cur->revoked_key)) < 0)
		return rc;
	return write_revoked(w, &cur->prov, KXP_T_REVOKED_DIGESTS, (const uint8_t *)app->revoked.digests,
			     KXP_ABI_DIGEST_BYTES, app->revoked.digest_src, app->revoked.ndigests,
			     &e->revoked_digests, &cur->revoked_digest);
}

static size_t align_up(size_t n)
{
	return (n + KXP_TABLE_ALIGN - 1) & ~(size_t)(KXP_TABLE_ALIGN - 1);
}

/* Lay the tables out after the header and directory, digest the body. */
static int assemble(struct writer *w, uint8_t **out, size_t *len)
{
	struct kxp_abi_table_desc dir[KXP_TABLE_COUNT];
	struct kxp_abi_header hdr;
	size_t size = sizeof(hdr) + sizeof(dir);
	uint8_t *buf;

	memset(dir, 0, sizeof(dir));
	for (int i = 0; i < KXP_TABLE_COUNT; i++) {
		size = align_up(size);
		dir[i].offset = size;
		dir[i].count = (uint32_t)w->t[i].count;
		dir[i].entry_size = (uint32_t)w->t[i].entry_size;
		size += w->t[i].count * w->t[i].entry_size; /* each <= KXP_FILE_MAX */
		if (size > KXP_FILE_MAX)
			return kx_err(w->err, -EFBIG, "compiled policy exceeds %u bytes",
				      KXP_FILE_MAX);
	}
	size = align_up(size);
	buf = calloc(1, size);
	if (buf == NULL)
		return -ENOMEM;
	memcpy(buf + sizeof(hdr), dir, sizeof(dir));
	for (int i = 0; i < KXP_TABLE_COUNT; i++)
		if (w->t[i].count > 0)
			memcpy(buf + dir[i].offset, w->t[i].data, w->t[i].count * w->t[i].entry_size);

	memset(&hdr, 0, sizeof(hdr));
	memcpy(hdr.magic, KXP_MAGIC, KXP_MAGIC_BYTES);
	hdr.format_version = KXP_FORMAT_VERSION;
	hdr.header_size = sizeof(hdr);
	hdr.table_count = KXP_TABLE_COUNT;
	hdr.body_size = size - sizeof(hdr);
	crypto_generichash(hdr.body_digest, sizeof(hdr.body_digest), buf + sizeof(hdr),
			   hdr.body_size, NULL, 0);
	memcpy(buf, &hdr, sizeof(hdr));
	*out = buf;
	*len = size;
	return 0;
}

int kxp_write(const struct pm_policy *policy, uint8_t **out, size_t *len, struct kx_error *err)
{
	struct writer w = {.pol = policy, .err = err};
	struct cursors cur = {0};
	struct counts c;
	size_t napps2;
	int rc;

	*out = NULL;
	*len = 0;
	if (sodium_init() < 0) {
		rc = kx_err(err, -EIO, "libsodium failed to initialise");
		goto out;
	}
	if ((rc = count_model(&w, &c)) < 0)
		goto out;
	napps2 = policy->napps * policy->napps; /* napps <= KXP_APPS_MAX */
	if ((rc = table_alloc(&w, KXP_T_PROV, c.prov, sizeof(struct kxp_abi_prov))) < 0 ||
	    (rc = table_alloc(&w, KXP_T_APPS, policy->napps, sizeof(struct kxp_abi_app))) < 0 ||
	    (rc = table_alloc(&w, KXP_T_KEYS, c.keys, sizeof(struct kxp_abi_key))) < 0 ||
	    (rc = table_alloc(&w, KXP_T_LIBS, c.libs, sizeof(struct kxp_abi_lib))) < 0 ||
	    (rc = table_alloc(&w, KXP_T_LIB_SIGNERS, c.signers, sizeof(uint32_t))) < 0 ||
	    (rc = table_alloc(&w, KXP_T_INTERVALS, c.intervals,
			      sizeof(struct kxp_abi_interval))) < 0 ||
	    (rc = table_alloc(&w, KXP_T_FORK, policy->napps, sizeof(struct kxp_abi_fork))) < 0 ||
	    (rc = table_alloc(&w, KXP_T_RECYCLE, policy->napps,
			      sizeof(struct kxp_abi_recycle))) < 0 ||
	    (rc = table_alloc(&w, KXP_T_TRUST, c.trust, sizeof(struct kxp_abi_trust))) < 0 ||
	    (rc = table_alloc(&w, KXP_T_IPC, napps2, 1)) < 0 ||
	    (rc = table_alloc(&w, KXP_T_REVOKED_KEYS, c.revoked_keys,
			      sizeof(struct kxp_abi_revoked_key))) < 0 ||
	    (rc = table_alloc(&w, KXP_T_REVOKED_DIGESTS, c.revoked_digests,
			      sizeof(struct kxp_abi_revoked_digest))) < 0 ||
	    (rc = table_alloc(&w, KXP_T_META, 1, sizeof(struct kxp_abi_meta))) < 0 ||
	    (rc = table_alloc(&w, KXP_T_RESOURCES, policy->napps,
			      sizeof(struct kxp_abi_resources))) < 0 ||
	    (rc = table_alloc(&w, KXP_T_FILES, c.files, sizeof(struct kxp_abi_file))) < 0 ||
	    (rc = table_alloc(&w, KXP_T_IFACES, c.ifaces, sizeof(struct kxp_abi_iface))) < 0 ||
	    (rc = table_alloc(&w, KXP_T_LISTEN, c.listen, sizeof(struct kxp_abi_listen))) < 0 ||
	    (rc = table_alloc(&w, KXP_T_PEERS, c.peers, sizeof(struct kxp_abi_peer))) < 0)
		goto out;
	/* offset 0 is the empty string */
	w.pool.buf = calloc(1, 4096);
	if (w.pool.buf == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	w.pool.cap = 4096;
	w.pool.size = 1;
	((struct kxp_abi_meta *)w.t[KXP_T_META].data)->serial = policy->serial;
	for (uint32_t a = 0; a < policy->napps; a++)
		if ((rc = write_app(&w, &cur, a)) < 0)
			goto out;
	/* revocations may have been deduplicated: trim their tables */
	w.t[KXP_T_REVOKED_KEYS].count = cur.revoked_key;
	w.t[KXP_T_REVOKED_DIGESTS].count = cur.revoked_digest;
	w.t[KXP_T_PROV].count = cur.prov;
	w.t[KXP_T_STRINGS] = (struct table){w.pool.buf, w.pool.size, 1};
	rc = assemble(&w, out, len);
out:
	if (rc == -ENOMEM)
		kx_err(err, rc, "out of memory");
	for (int i = 0; i < KXP_TABLE_COUNT; i++)
		if (i != KXP_T_STRINGS)
			free(w.t[i].data);
	free(w.pool.buf);
	free(w.pool.slots);
	return rc;
}
