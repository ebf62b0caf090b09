/*
 * The checks of an app's top-level sections: memory, revoked, keys (loading
 * each key file through the key source), family, recycle and resources, and
 * the manifest as a whole.  Libraries are in library.c, files rules in
 * mount.c, network rules in network.c, the checks across manifests in
 * check.c.  Input nodes are untrusted (see manifest.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy-lang/front.h"

/* ---- memory --------------------------------------------------------------------- */

#define MEMORY_MIN (1ull << 20)
#define MEMORY_MAX (64ull << 30)
#define PAGE_SIZE_BYTES 4096ull

/* ---- revoked ------------------------------------------------------------------------ */

struct hexid {
	uint8_t bytes[KXSIG_DIGEST_BYTES];
	struct pm_src src;
};

static int cmp_hexid(const void *a, const void *b)
{
	return memcmp(((const struct hexid *)a)->bytes, ((const struct hexid *)b)->bytes,
		      KXSIG_DIGEST_BYTES);
}

/* A list of hex ids of `size` bytes, unique, sorted; *out has one entry per
 * valid item. */
static void get_hexids(struct pm_check *c, const struct pm_node *n, const char *what,
		       size_t size, const char *format, struct hexid **out, size_t *count)
{
	char q[PM_QUOTE_MAX];
	struct hexid *ids;
	size_t k = 0;

	*out = NULL;
	*count = 0;
	if (!pm_get_seq(c, n, what) || n->nchild == 0)
		return;
	ids = calloc(n->nchild, sizeof(*ids)); /* nchild <= PM_LIST_MAX */
	if (ids == NULL) {
		*c->f->nomem = true;
		return;
	}
	for (size_t i = 0; i < n->nchild; i++) {
		const struct pm_node *item = n->child[i];

		if (!pm_want_scalar(c, item, what))
			continue;
		if (item->len != 2 * size || kxsig_hex_parse(item->text, ids[k].bytes, size) != 0) {
			pm_errorf(c, item, NULL, "expected %s in %s, got '%s'", format, what,
				  pm_quote(q, item->text, item->len));
			continue;
		}
		pm_set_src(c, item, &ids[k].src);
		for (size_t j = 0; j < k; j++) {
			if (memcmp(ids[j].bytes, ids[k].bytes, size) == 0) {
				pm_errorf(c, item, NULL, "'%s' is listed twice in %s (first at line %u)",
					  pm_quote(q, item->text, item->len), what,
					  (unsigned)ids[j].src.line);
				k--;
				break;
			}
		}
		k++;
	}
	qsort(ids, k, sizeof(*ids), cmp_hexid);
	*out = ids;
	*count = k;
}

/* Copy count ids of size bytes and their positions into fresh arrays. */
static int store_ids(const struct hexid *ids, size_t count, size_t size, uint8_t **bytes,
		     struct pm_src **src)
{
	*bytes = calloc(count, size); /* count <= PM_LIST_MAX, size <= 32 */
	*src = calloc(count, sizeof(**src));
	if (*bytes == NULL || *src == NULL) {
		free(*bytes);
		free(*src);
		*bytes = NULL;
		*src = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		memcpy(*bytes + i * size, ids[i].bytes, size);
		(*src)[i] = ids[i].src;
	}
	return 0;
}

static void check_revoked(struct pm_check *c, const struct pm_node *n, struct pm_app *app)
{
	static const struct pm_field fields[] = {{"keys", false}, {"digests", false}};
	static const struct {
		const char *what, *format;
		size_t size;
	} lists[2] = {
		{"'revoked.keys'", "a key id of 16 hex digits (as kxsign prints it)",
		 KXSIG_KEYID_BYTES},
		{"'revoked.digests'", "a digest of 64 hex digits (as kxsign show prints it)",
		 KXSIG_DIGEST_BYTES},
	};
	const struct pm_node *v[2];
	uint8_t *bytes[2] = {NULL, NULL};
	struct pm_src *src[2] = {NULL, NULL};
	size_t count[2] = {0, 0};
	struct pm_revoked *r = &app->revoked;

	if (!pm_get_map(c, n, "'revoked'", fields, 2, v))
		return;
	for (size_t i = 0; i < 2; i++) {
		struct hexid *ids = NULL;

		if (v[i] == NULL)
			continue;
		get_hexids(c, v[i], lists[i].what, lists[i].size, lists[i].format, &ids, &count[i]);
		if (count[i] > 0 && store_ids(ids, count[i], lists[i].size, &bytes[i], &src[i]) < 0) {
			*c->f->nomem = true;
			count[i] = 0;
		}
		free(ids);
	}
	r->keyids = (uint8_t(*)[KXSIG_KEYID_BYTES])bytes[0];
	r->keyid_src = src[0];
	r->nkeyids = count[0];
	r->digests = (uint8_t(*)[KXSIG_DIGEST_BYTES])bytes[1];
	r->digest_src = src[1];
	r->ndigests = count[1];
}

/* ---- keys ------------------------------------------------------------------------------ */

static int cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct pm_key *)a)->name, ((const struct pm_key *)b)->name);
}

static const struct pm_src *revoked_src(const struct pm_revoked *r, const uint8_t *keyid)
{
	for (size_t i = 0; i < r->nkeyids; i++)
		if (memcmp(r->keyids[i], keyid, KXSIG_KEYID_BYTES) == 0)
			return &r->keyid_src[i];
	return NULL;
}

/* A date of key validity (date.c's forms). */
static bool get_date(struct pm_check *c, const struct pm_node *n, const char *what,
		     int64_t *out)
{
	char q[PM_QUOTE_MAX];

	if (!pm_want_scalar(c, n, what))
		return false;
	if (pm_date_parse(n->text, n->len, out) == 0)
		return true;
	pm_errorf(c, n, "YYYY-MM-DD (midnight UTC) or YYYY-MM-DDTHH:MM:SSZ",
		  "%s: '%s' is not a date from 1970 on", what, pm_quote(q, n->text, n->len));
	return false;
}

/* A key's value: its file (a path), or for a key being rotated in or out
 * {file: PATH, from: DATE, until: DATE}: trusted from `from` (inclusive)
 * until `until` (exclusive), either end optional.  The file node, or NULL
 * after a diagnostic. */
static const struct pm_node *key_value(struct pm_check *c, const struct pm_node *value,
				       struct pm_key *key)
{
	enum { K_FILE, K_FROM, K_UNTIL, K_COUNT };
	static const struct pm_field fields[K_COUNT] = {
		[K_FILE] = {"file", true}, [K_FROM] = {"from", false}, [K_UNTIL] = {"until", false},
	};
	const struct pm_node *v[K_COUNT];
	char a[PM_DATE_TEXT_MAX], b[PM_DATE_TEXT_MAX];

	if (value->kind != PM_NODE_MAP)
		return value;
	if (!pm_get_map(c, value, "a key", fields, K_COUNT, v) || v[K_FILE] == NULL)
		return NULL;
	if (v[K_FROM] != NULL && !get_date(c, v[K_FROM], "'from'", &key->from))
		key->from = 0; /* from 1970-01-01 is 0: open, the same thing */
	if (v[K_UNTIL] != NULL && get_date(c, v[K_UNTIL], "'until'", &key->until) &&
	    key->until == 0) /* 0 means open in the tables: the opposite */
		pm_errorf(c, v[K_UNTIL], NULL, "key '%s' is valid until 1970-01-01: never",
			  key->name);
	if (key->from != 0 && key->until != 0 && key->from >= key->until) {
		pm_date_format(key->from, a);
		pm_date_format(key->until, b);
		pm_errorf(c, v[K_UNTIL], NULL, "key '%s' is valid from %s until %s: an empty "
			  "period", key->name, a, b);
		key->from = key->until = 0;
	}
	return v[K_FILE];
}

/* Load one key file; a key that cannot be loaded is still declared (so
 * signed-by does not also complain) but keeps a zero key. */
static void load_key(struct pm_check *c, const struct pm_node *value, struct pm_key *key,
		     const struct pm_revoked *revoked)
{
	struct kxsig_pubkey pk;
	char why[KX_ERR_MAX] = "", q[PM_QUOTE_MAX], hex[2 * KXSIG_KEYID_BYTES + 1];
	const struct pm_src *rev;
	int rc;

	value = key_value(c, value, key);
	if (value == NULL ||
	    !pm_get_string(c, value, "a key file path", PM_PATH_MAX, &key->path))
		return;
	memset(&pk, 0, sizeof(pk));
	rc = c->keys->load(c->keys->ctx, c->manifest, key->path, &pk, why, sizeof(why));
	if (rc == -ENOMEM) {
		*c->f->nomem = true;
		return;
	}
	if (rc != 0) {
		pm_errorf(c, value, NULL, "%s key file '%s' for key '%s': %s",
			  rc == -EBADMSG ? "malformed" : "cannot read",
			  pm_quote(q, value->text, value->len), key->name, why);
		return;
	}
	memcpy(key->keyid, pk.keyid, sizeof(key->keyid));
	memcpy(key->pk, pk.pk, sizeof(key->pk));
	rev = revoked_src(revoked, key->keyid);
	if (rev != NULL) {
		kxsig_keyid_hex(key->keyid, hex);
		pm_errorf(c, value, "remove it from keys, or take it out of revoked.keys",
			  "key '%s' (id %s) is revoked (revoked.keys, line %u) but still trusted",
			  key->name, hex, (unsigned)rev->line);
	}
}

static void check_keys(struct pm_check *c, const struct pm_node *n, struct pm_app *app)
{
	if (n->bad)
		return;
	if (n->kind != PM_NODE_MAP || n->nchild == 0) {
		pm_errorf(c, n, "keys: { name: path/to/key.pub, ... }",
			  "'keys' must map at least one key name to its public key file, got %s",
			  pm_node_kind_name(n));
		return;
	}
	if (n->nchild / 2 > PM_LIST_MAX) {
		pm_errorf(c, n, NULL, "'keys' has %zu entries, more than the limit of %u",
			  n->nchild / 2, (unsigned)PM_LIST_MAX);
		return;
	}
	app->keys = calloc(n->nchild / 2, sizeof(*app->keys));
	if (app->keys == NULL) {
		*c->f->nomem = true;
		return;
	}
	for (size_t p = 0; p + 1 < n->nchild; p += 2) {
		struct pm_key *key = &app->keys[app->nkeys];
		size_t dup;

		if (!pm_get_name(c, n->child[p], "a key name", &key->name))
			continue;
		for (dup = 0; dup < app->nkeys && strcmp(app->keys[dup].name, key->name); dup++)
			;
		if (dup < app->nkeys) {
			pm_errorf(c, n->child[p], NULL, "key '%s' is declared twice (first at line %u)",
				  key->name, (unsigned)app->keys[dup].src.line);
			free(key->name);
			key->name = NULL;
			continue;
		}
		pm_set_src(c, n->child[p], &key->src);
		app->nkeys++;
		load_key(c, n->child[p + 1], key, &app->revoked);
	}
	qsort(app->keys, app->nkeys, sizeof(*app->keys), cmp_key);
	for (size_t i = 0; i < app->nkeys; i++) {
		for (size_t j = i + 1; j < app->nkeys; j++) {
			char hex[2 * KXSIG_KEYID_BYTES + 1];
			static const uint8_t none[KXSIG_KEYID_BYTES];

			if (memcmp(app->keys[i].keyid, app->keys[j].keyid, KXSIG_KEYID_BYTES) != 0 ||
			    memcmp(app->keys[i].keyid, none, KXSIG_KEYID_BYTES) == 0)
				continue;
			kxsig_keyid_hex(app->keys[i].keyid, hex);
			pm_diag(c->f, PM_WARNING, app->keys[j].src.line, app->keys[j].src.col, NULL,
				"keys '%s' and '%s' are the same key (id %s)", app->keys[i].name,
				app->keys[j].name, hex);
		}
	}
}

/* ---- family and recycle ------------------------------------------------------------ */

static int cmp_trust(const void *a, const void *b)
{
	return strcmp(((const struct pm_trust *)a)->peer, ((const struct pm_trust *)b)->peer);
}

static void check_trust(struct pm_check *c, const struct pm_node *n, struct pm_app *app)
{
	static const struct pm_field fields[] = {{"app", true}, {"ipc", true}};

	if (!pm_get_seq(c, n, "'family.trust'") || n->nchild == 0)
		return;
	app->trust = calloc(n->nchild, sizeof(*app->trust));
	if (app->trust == NULL) {
		*c->f->nomem = true;
		return;
	}
	for (size_t i = 0; i < n->nchild; i++) {
		struct pm_trust *t = &app->trust[app->ntrust];
		const struct pm_node *v[2];
		size_t dup;

		if (!pm_get_map(c, n->child[i], "a trust rule", fields, 2, v) || v[0] == NULL)
			continue;
		if (v[1] != NULL)
			pm_get_ipc_kinds(c, v[1], "the trust rule's 'ipc'", true, &t->kinds);
		if (!pm_get_name(c, v[0], "'app' of a trust rule", &t->peer))
			continue;
		if (app->name != NULL && strcmp(t->peer, app->name) == 0) {
			pm_errorf(c, v[0], "family.ipc lists the kinds allowed inside the family",
				  "a trust rule cannot name the app itself");
		}
		for (dup = 0; dup < app->ntrust && strcmp(app->trust[dup].peer, t->peer); dup++)
			;
		if (dup < app->ntrust) {
			pm_errorf(c, v[0], "list all kinds in one rule",
				  "a second trust rule for '%s' (first at line %u)", t->peer,
				  (unsigned)app->trust[dup].src.line);
			free(t->peer);
			t->peer = NULL;
			continue;
		}
		pm_set_src(c, n->child[i], &t->src);
		app->ntrust++;
	}
	qsort(app->trust, app->ntrust, sizeof(*app->trust), cmp_trust);
}

#define MAX_CHILDREN 1024
#define MAX_DEPTH 64
#define MAX_MEMBERS 65536

static void check_fork(struct pm_check *c, const struct pm_node *n, struct pm_app *app)
{
	static const struct pm_field fields[] = {
		{"max-children", false}, {"max-depth", false}, {"max-members", false}};
	static const uint64_t max[] = {MAX_CHILDREN, MAX_DEPTH, MAX_MEMBERS};
	uint32_t *dst[] = {&app->fork.max_children, &app->fork.max_depth, &app->fork.max_members};
	const struct pm_node *v[3];
	struct pm_fork_limits *f = &app->fork;

	pm_set_src(c, n, &f->src);
	if (!pm_get_map(c, n, "'family.fork'", fields, 3, v))
		return;
	for (size_t i = 0; i < 3; i++) {
		char what[40];
		uint64_t x;

		snprintf(what, sizeof(what), "'%s'", fields[i].key);
		if (v[i] != NULL && pm_get_uint(c, v[i], what, i == 2 ? 1 : 0, max[i], &x))
			*dst[i] = (uint32_t)x;
	}
	/* Some limit opens the door and another keeps it shut: say so. */
	if ((f->max_children > 0 || f->max_depth > 0 || f->max_members > 1) &&
	    !(f->max_children > 0 && f->max_depth > 0 && f->max_members > 1))
		pm_warnf(c, n, "a fork needs max-children >= 1, max-depth >= 1 and max-members >= 2",
			 "these fork limits allow no fork at all (max-children %u, max-depth %u, max-members %u)",
			 (unsigned)f->max_children, (unsigned)f->max_depth, (unsigned)f->max_members);
}

static void check_family(struct pm_check *c, const struct pm_node *n, struct pm_app *app)
{
	static const struct pm_field fields[] = {{"fork", false},
						 {"ipc", false},
						 {"trust", false},
						 {"ipc-objects", false},
						 {"ipc-persist", false}};
	const struct pm_node *v[5];
	uint64_t objects;

	if (!pm_get_map(c, n, "'family'", fields, 5, v))
		return;
	if (v[3] != NULL &&
	    pm_get_uint(c, v[3], "'family.ipc-objects'", 1, PM_IPC_OBJECTS_MAX, &objects))
		app->ipc_objects = (uint32_t)objects;
	if (v[4] != NULL)
		pm_get_bool(c, v[4], "'family.ipc-persist'", &app->ipc_persist);
	if (v[0] != NULL)
		check_fork(c, v[0], app);
	if (v[1] != NULL) {
		pm_set_src(c, v[1], &app->ipc_src);
		pm_get_ipc_kinds(c, v[1], "'family.ipc'", false, &app->ipc_kinds);
	}
	if (v[2] != NULL)
		check_trust(c, v[2], app);
}

#define MAX_POOL 1024

static void check_recycle(struct pm_check *c, const struct pm_node *n, struct pm_app *app)
{
	static const struct pm_field fields[] = {{"allow", false}, {"pool", false}};
	const struct pm_node *v[2];
	uint64_t pool;

	pm_set_src(c, n, &app->recycle.src);
	if (!pm_get_map(c, n, "'recycle'", fields, 2, v))
		return;
	if (v[0] != NULL)
		pm_get_bool(c, v[0], "'recycle.allow'", &app->recycle.allow);
	if (v[1] != NULL && pm_get_uint(c, v[1], "'recycle.pool'", 0, MAX_POOL, &pool))
		app->recycle.pool = (uint32_t)pool;
	if (app->recycle.pool > 0 && !app->recycle.allow)
		pm_warnf(c, v[1], "set recycle.allow: true, or drop the pool",
			 "recycle.pool is %u but recycle.allow is false: the pool is never used",
			 (unsigned)app->recycle.pool);
}

/* ---- resources ---------------------------------------------------------------------- */

#define CPU_MILLI_MIN 10u      /* 0.01 CPU */
#define CPU_MILLI_MAX 256000u  /* 256 CPUs */
#define PIDS_MAX 4194304u      /* Linux's largest pid_max */

/* "1", "0.5", "2.25": CPUs with up to three decimals, as thousandths. */
static bool get_cpu(struct pm_check *c, const struct pm_node *n, uint32_t *milli)
{
	const char *dot;
	char q[PM_QUOTE_MAX];
	size_t whole, frac;
	uint64_t w = 0, f = 0;
	bool overflow = false;

	if (!pm_want_scalar(c, n, "'resources.cpu'"))
		return false;
	dot = memchr(n->text, '.', n->len);
	whole = dot ? (size_t)(dot - n->text) : n->len;
	frac = dot ? n->len - whole - 1 : 0;
	if (!n->plain || !pm_parse_digits(n->text, whole, &w, &overflow) || overflow ||
	    (dot && (frac < 1 || frac > 3 || !pm_parse_digits(dot + 1, frac, &f, &overflow)))) {
		pm_errorf(c, n, "like 1, 0.5 or 2.25 (at most three decimals)",
			  "expected a number of CPUs for 'resources.cpu', got '%s'",
			  pm_quote(q, n->text, n->len));
		return false;
	}
	for (size_t i = frac; i < 3; i++)
		f *= 10;
	if (w > CPU_MILLI_MAX / 1000 || w * 1000 + f < CPU_MILLI_MIN ||
	    w * 1000 + f > CPU_MILLI_MAX) {
		pm_errorf(c, n, NULL, "'resources.cpu' must be between 0.01 and 256, got '%s'",
			  pm_quote(q, n->text, n->len));
		return false;
	}
	*milli = (uint32_t)(w * 1000 + f);
	return true;
}

static void check_resources(struct pm_check *c, const struct pm_node *n, struct pm_app *app)
{
	static const struct pm_field fields[] = {{"cpu", false}, {"pids", false},
						 {"memory", false}};
	const struct pm_node *v[3];
	uint64_t pids;

	pm_set_src(c, n, &app->resources.src);
	if (!pm_get_map(c, n, "'resources'", fields, 3, v))
		return;
	if (v[2] != NULL)
		pm_errorf(c, v[2], "write memory: SIZE at the top of the manifest",
			  "'resources' has no 'memory': the pVM's memory (and its cgroup's) is the "
			  "top-level 'memory'");
	if (v[0] != NULL)
		get_cpu(c, v[0], &app->resources.cpu_milli);
	if (v[1] != NULL && pm_get_uint(c, v[1], "'resources.pids'", 1, PIDS_MAX, &pids))
		app->resources.pids = (uint32_t)pids;
}

/* ---- audit ------------------------------------------------------------------------- */

/* audit: {rate: N, burst: M}: kxd refuses (and counts) the audited requests
 * of a pVM that had more than M refusals at once, refilled at N a second;
 * burst defaults to rate. */
static void check_audit(struct pm_check *c, const struct pm_node *n, struct pm_app *app)
{
	static const struct pm_field fields[] = {{"rate", true}, {"burst", false}};
	const struct pm_node *v[2];
	uint64_t rate = 0, burst = 0;

	pm_set_src(c, n, &app->audit.src);
	if (!pm_get_map(c, n, "'audit'", fields, 2, v))
		return;
	if (v[0] == NULL || !pm_get_uint(c, v[0], "'audit.rate'", 1, PM_AUDIT_RATE_MAX, &rate))
		return;
	burst = rate;
	if (v[1] != NULL && !pm_get_uint(c, v[1], "'audit.burst'", 1, PM_AUDIT_RATE_MAX, &burst))
		return;
	app->audit.rate = (uint32_t)rate;
	app->audit.burst = (uint32_t)burst;
}

/* ---- the manifest ----------------------------------------------------------------- */

enum {
	F_VERSION, F_APP, F_IMAGE, F_MEMORY, F_KEYS, F_LIBRARIES, F_FAMILY, F_RECYCLE,
	F_REVOKED, F_FILES, F_NETWORK, F_RESOURCES, F_AUDIT, F_COUNT
};

void pm_check_app(struct pm_check *c, const struct pm_node *root, struct pm_app *app)
{
	static const struct pm_field fields[F_COUNT] = {
		[F_VERSION] = {"kx-manifest", true}, [F_APP] = {"app", true},
		[F_IMAGE] = {"image", true},         [F_MEMORY] = {"memory", true},
		[F_KEYS] = {"keys", true},           [F_LIBRARIES] = {"libraries", false},
		[F_FAMILY] = {"family", false},      [F_RECYCLE] = {"recycle", false},
		[F_REVOKED] = {"revoked", false},    [F_FILES] = {"files", false},
		[F_NETWORK] = {"network", false},    [F_RESOURCES] = {"resources", false},
		[F_AUDIT] = {"audit", false},
	};
	const struct pm_node *v[F_COUNT];
	uint64_t version;

	memset(app, 0, sizeof(*app));
	app->fork.max_members = 1; /* defaults: no fork, no IpC, no recycling */
	pm_set_src(c, root, &app->src);
	app->fork.src = app->ipc_src = app->recycle.src = app->resources.src = app->src;
	app->audit.src = app->src;
	if (!pm_get_map(c, root, "the manifest", fields, F_COUNT, v))
		return;
	if (v[F_VERSION] != NULL &&
	    pm_get_uint(c, v[F_VERSION], "'kx-manifest'", 0, UINT64_MAX, &version) &&
	    version != 1)
		pm_errorf(c, v[F_VERSION], "this kxpolicy reads kx-manifest: 1",
			  "unsupported manifest version %llu", (unsigned long long)version);
	if (v[F_APP] != NULL)
		pm_get_name(c, v[F_APP], "'app'", &app->name);
	if (v[F_IMAGE] != NULL)
		pm_get_string(c, v[F_IMAGE], "'image'", PM_PATH_MAX, &app->image);
	if (v[F_MEMORY] != NULL)
		pm_get_size(c, v[F_MEMORY], "'memory'", MEMORY_MIN, MEMORY_MAX, PAGE_SIZE_BYTES,
			    &app->memory);
	if (v[F_REVOKED] != NULL) /* before keys: a revoked key may not be trusted */
		check_revoked(c, v[F_REVOKED], app);
	if (v[F_KEYS] != NULL)
		check_keys(c, v[F_KEYS], app);
	if (v[F_LIBRARIES] != NULL)
		pm_check_libraries(c, v[F_LIBRARIES], app);
	if (v[F_FAMILY] != NULL)
		check_family(c, v[F_FAMILY], app);
	if (v[F_RECYCLE] != NULL)
		check_recycle(c, v[F_RECYCLE], app);
	if (v[F_FILES] != NULL)
		pm_check_files(c, v[F_FILES], app);
	if (v[F_NETWORK] != NULL)
		pm_check_network(c, v[F_NETWORK], app);
	if (v[F_RESOURCES] != NULL)
		check_resources(c, v[F_RESOURCES], app);
	if (v[F_AUDIT] != NULL)
		check_audit(c, v[F_AUDIT], app);
}
