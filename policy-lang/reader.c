/*
 * The .kxp table reader.  Its input is UNTRUSTED: a file from disk that may
 * be truncated, corrupt, hostile or signed by the wrong key.  kxp_open()
 * copies it into aligned private memory, then checks, before any lookup may
 * run: the header, the admin signature (when a key is given), the body
 * digest, every table's offset, count and entry size against the buffer
 * (64-bit arithmetic on 32-bit fields, so nothing overflows), every string
 * offset (inside the pool, at the start of a string, valid UTF-8 without
 * control characters), every index, every per-app run, every sort order the
 * lookups' binary searches rely on, every interval, the IpC matrix against
 * the trust rules, the files and network rules (reader_io.c), and that every
 * reserved and padding byte is zero.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "policy-lang/back.h"

static const char *const table_names[KXP_TABLE_COUNT] = {
	"strings", "provenance", "apps", "keys", "libs", "lib-signers", "intervals",
	"fork", "recycle", "trust", "ipc", "revoked-keys", "revoked-digests", "meta", "resources",
	"files", "ifaces", "listen", "peers",
};

static const uint32_t entry_sizes[KXP_TABLE_COUNT] = {
	1, sizeof(struct kxp_abi_prov), sizeof(struct kxp_abi_app), sizeof(struct kxp_abi_key),
	sizeof(struct kxp_abi_lib), sizeof(uint32_t), sizeof(struct kxp_abi_interval),
	sizeof(struct kxp_abi_fork), sizeof(struct kxp_abi_recycle), sizeof(struct kxp_abi_trust),
	1, sizeof(struct kxp_abi_revoked_key), sizeof(struct kxp_abi_revoked_digest),
	sizeof(struct kxp_abi_meta), sizeof(struct kxp_abi_resources), sizeof(struct kxp_abi_file),
	sizeof(struct kxp_abi_iface), sizeof(struct kxp_abi_listen), sizeof(struct kxp_abi_peer),
};

/* "table 'libs' entry 12: ..." and -EBADMSG. */
int kxp_check_bad(struct kxp_check *c, enum kxp_abi_table t, uint64_t entry, const char *fmt, ...)
{
	char what[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return kx_err(c->err, -EBADMSG, "table '%s' entry %llu: %s", table_names[t],
		      (unsigned long long)entry, what);
}

bool kxp_all_zero(const void *buf, size_t n)
{
	const uint8_t *b = buf;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* ---- header, signature, digest ------------------------------------------ */

static int check_signature(struct kxp_check *c, const struct kxp_abi_header *h,
			   const struct kxsig_pubkey *admin)
{
	char want[2 * KXSIG_KEYID_BYTES + 1], got[2 * KXSIG_KEYID_BYTES + 1];

	if (!(h->flags & KXP_FLAG_SIGNED))
		return kx_err(c->err, -EKEYREJECTED,
			      "policy is not signed, but an admin key was given");
	if (memcmp(h->admin_keyid, admin->keyid, KXSIG_KEYID_BYTES) != 0) {
		kxsig_keyid_hex(admin->keyid, want);
		kxsig_keyid_hex(h->admin_keyid, got);
		return kx_err(c->err, -EKEYREJECTED,
			      "policy is signed by key %s, not by the admin key %s", got, want);
	}
	if (kxsig_verify_detached(admin, h, KXP_SIGNED_BYTES, h->signature, NULL) != 0) {
		kxsig_keyid_hex(h->admin_keyid, got);
		return kx_err(c->err, -EKEYREJECTED, "admin signature by key %s does not verify",
			      got);
	}
	return 0;
}

static int check_header(struct kxp_check *c, const struct kxsig_pubkey *admin)
{
	struct kxp_policy *p = c->p;
	const struct kxp_abi_header *h = (const struct kxp_abi_header *)p->buf;
	uint8_t digest[KXP_ABI_DIGEST_BYTES];
	int rc;

	if (memcmp(h->magic, KXP_MAGIC, KXP_MAGIC_BYTES) != 0)
		return kx_err(c->err, -EBADMSG, "not a kx policy (bad magic)");
	if (h->format_version != KXP_FORMAT_VERSION)
		return kx_err(c->err, -EBADMSG, "format version %u; this reader knows version %u",
			      h->format_version, KXP_FORMAT_VERSION);
	if (h->flags & ~KXP_FLAGS_KNOWN)
		return kx_err(c->err, -EBADMSG, "unknown header flags 0x%x",
			      h->flags & ~KXP_FLAGS_KNOWN);
	if (h->header_size != sizeof(*h) || h->table_count != KXP_TABLE_COUNT)
		return kx_err(c->err, -EBADMSG,
			      "header size %u and table count %u; expected %zu and %d",
			      h->header_size, h->table_count, sizeof(*h), KXP_TABLE_COUNT);
	if (h->body_size != p->len - sizeof(*h))
		return kx_err(c->err, -EBADMSG,
			      "header says the body is %llu bytes, the file has %zu "
			      "(truncated or extended)",
			      (unsigned long long)h->body_size, p->len - sizeof(*h));
	if (!kxp_all_zero(h->reserved, sizeof(h->reserved)))
		return kx_err(c->err, -EBADMSG, "reserved header bytes are not zero");
	if (!(h->flags & KXP_FLAG_SIGNED) &&
	    !(kxp_all_zero(h->admin_keyid, sizeof(h->admin_keyid)) &&
	      kxp_all_zero(h->signature, sizeof(h->signature)))) {
		return kx_err(c->err, -EBADMSG, "unsigned policy carries a key id or signature");
	}
	if ((h->flags & KXP_FLAG_SIGNED) && kxp_all_zero(h->signature, sizeof(h->signature)))
		return kx_err(c->err, -EBADMSG,
			      "policy is flagged as signed but carries no signature");
	if (admin != NULL && (rc = check_signature(c, h, admin)) < 0)
		return rc;
	crypto_generichash(digest, sizeof(digest), p->buf + sizeof(*h), h->body_size, NULL, 0);
	if (memcmp(digest, h->body_digest, sizeof(digest)) != 0)
		return kx_err(c->err, -EBADMSG,
			      "body digest mismatch: the tables were modified or corrupted");
	p->sig.is_signed = (h->flags & KXP_FLAG_SIGNED) != 0;
	p->sig.verified = admin != NULL;
	memcpy(p->sig.keyid, h->admin_keyid, sizeof(p->sig.keyid));
	return 0;
}

/* ---- directory ---------------------------------------------------------- */

static uint64_t align_up(uint64_t n)
{
	return (n + KXP_TABLE_ALIGN - 1) & ~(uint64_t)(KXP_TABLE_ALIGN - 1);
}

static int check_directory(struct kxp_check *c, const void *table[KXP_TABLE_COUNT],
			   uint32_t count[KXP_TABLE_COUNT])
{
	struct kxp_policy *p = c->p;
	uint64_t pos = sizeof(struct kxp_abi_header) + KXP_TABLE_COUNT *
		       sizeof(struct kxp_abi_table_desc);
	const struct kxp_abi_table_desc *dir =
		(const struct kxp_abi_table_desc *)(p->buf + sizeof(struct kxp_abi_header));

	if (p->len < pos)
		return kx_err(c->err, -EBADMSG,
			      "truncated: %zu bytes cannot hold the table directory", p->len);
	for (int i = 0; i < KXP_TABLE_COUNT; i++) {
		uint64_t start = align_up(pos), size, end;

		if (dir[i].entry_size != entry_sizes[i])
			return kx_err(c->err, -EBADMSG, "table '%s': entry size %u, expected %u",
				      table_names[i], dir[i].entry_size, entry_sizes[i]);
		/* tables follow each other in enum order, 8-aligned, no gaps */
		if (dir[i].offset != start || !kxp_all_zero(p->buf + pos, start - pos))
			return kx_err(c->err, -EBADMSG,
				      "table '%s': offset 0x%llx, expected 0x%llx after "
				      "zero padding",
				      table_names[i], (unsigned long long)dir[i].offset,
				      (unsigned long long)start);
		size = (uint64_t)dir[i].count * dir[i].entry_size; /* 32x32 bits: fits */
		if (__builtin_add_overflow(start, size, &end) || end > p->len)
			return kx_err(c->err, -EBADMSG,
				      "table '%s': %u entries at offset 0x%llx run past the end "
				      "of the file (%zu bytes)",
				      table_names[i], dir[i].count, (unsigned long long)start,
				      p->len);
		table[i] = p->buf + start;
		count[i] = dir[i].count;
		pos = end;
	}
	if (align_up(pos) != p->len || !kxp_all_zero(p->buf + pos, p->len - pos))
		return kx_err(c->err, -EBADMSG,
			      "%zu bytes after the last table (expected %llu, zero padded)", p->len,
			      (unsigned long long)align_up(pos));
	return 0;
}

/* ---- strings and provenance --------------------------------------------- */

/* Length of the UTF-8 sequence starting at s (at most n bytes available),
 * or 0 if it is invalid, overlong, a surrogate, above U+10FFFF, or a control
 * character (C0, DEL, C1): the strings reach terminals and JSON. */
static size_t utf8_char(const uint8_t *s, size_t n)
{
	uint8_t b = s[0];
	size_t len;
	uint8_t lo = 0x80, hi = 0xbf;

	if (b < 0x80)
		return b >= 0x20 && b != 0x7f ? 1 : 0;
	if (b >= 0xc2 && b <= 0xdf)
		len = 2;
	else if (b >= 0xe0 && b <= 0xef)
		len = 3;
	else if (b >= 0xf0 && b <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	if (b == 0xc2)
		lo = 0xa0; /* U+0080..U+009F: C1 controls */
	else if (b == 0xe0)
		lo = 0xa0;
	else if (b == 0xed)
		hi = 0x9f;
	else if (b == 0xf0)
		lo = 0x90;
	else if (b == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static int check_pool(struct kxp_check *c)
{
	const uint8_t *s = (const uint8_t *)c->p->strings;
	size_t n = c->p->strings_size;

	if (n == 0 || s[0] != '\0' || s[n - 1] != '\0')
		return kxp_check_bad(c, KXP_T_STRINGS, 0, "the pool must start and end with NUL");
	for (size_t i = 0; i < n;) {
		size_t len = s[i] == '\0' ? 1 : utf8_char(s + i, n - i);

		if (len == 0)
			return kxp_check_bad(c, KXP_T_STRINGS, i,
					     "byte 0x%02x is not printable UTF-8", s[i]);
		i += len;
	}
	return 0;
}

/* A string reference: inside the pool and at the start of a string. */
int kxp_check_str(struct kxp_check *c, enum kxp_abi_table t, uint64_t entry, const char *field,
		  uint32_t off, bool nonempty)
{
	const struct kxp_policy *p = c->p;

	if (off >= p->strings_size)
		return kxp_check_bad(c, t, entry,
				     "%s: string offset 0x%x out of range (pool is 0x%x bytes)",
				     field, off, p->strings_size);
	if (off > 0 && p->strings[off - 1] != '\0')
		return kxp_check_bad(c, t, entry, "%s: string offset 0x%x is inside another string",
				     field, off);
	if (nonempty && p->strings[off] == '\0')
		return kxp_check_bad(c, t, entry, "%s: empty name", field);
	return 0;
}

int kxp_check_prov(struct kxp_check *c, enum kxp_abi_table t, uint64_t entry, uint32_t prov)
{
	if (prov >= c->p->nprov)
		return kxp_check_bad(c, t, entry, "provenance index %u out of range (%u entries)",
				     prov, c->p->nprov);
	return 0;
}

static int check_provs(struct kxp_check *c)
{
	for (uint32_t i = 0; i < c->p->nprov; i++) {
		const struct kxp_abi_prov *pv = &c->p->prov[i];
		int rc = kxp_check_str(c, KXP_T_PROV, i, "file", pv->file, false);

		if (rc < 0)
			return rc;
		if (pv->reserved != 0)
			return kxp_check_bad(c, KXP_T_PROV, i, "reserved field is not zero");
	}
	return 0;
}

/* A per-owner run must start where the previous owner's ended. */
int kxp_check_run(struct kxp_check *c, enum kxp_abi_table t, uint64_t entry, const char *field,
		  const struct kxp_abi_range *r, uint64_t *cursor, uint32_t total)
{
	if (r->first != *cursor || (uint64_t)r->first + r->count > total)
		return kxp_check_bad(c, t, entry,
				     "%s run %u+%u does not continue at %llu within %u entries",
				     field, r->first, r->count, (unsigned long long)*cursor, total);
	*cursor += r->count;
	return 0;
}

/* ---- versions and intervals ---------------------------------------------- */

static bool bound_ok(const struct kxp_abi_version *v)
{
	if (!kxp_all_zero(v->reserved, sizeof(v->reserved)))
		return false;
	if (v->flags == KXP_ABI_BOUND_UNBOUNDED)
		return v->nparts == 0 && kxp_all_zero(v->part, sizeof(v->part));
	if (v->flags & ~KXP_ABI_BOUND_INCLUSIVE)
		return false;
	if (v->nparts < 1 || v->nparts > KXP_ABI_VERSION_PARTS)
		return false;
	for (size_t i = v->nparts; i < KXP_ABI_VERSION_PARTS; i++)
		if (v->part[i] != 0)
			return false;
	return true;
}

static int vcmp(const struct kxp_abi_version *a, const struct kxp_abi_version *b)
{
	for (size_t i = 0; i < KXP_ABI_VERSION_PARTS; i++)
		if (a->part[i] != b->part[i])
			return a->part[i] < b->part[i] ? -1 : 1;
	return 0;
}

#define UNBOUNDED(v) ((v)->flags & KXP_ABI_BOUND_UNBOUNDED)
#define INCLUSIVE(v) ((v)->flags & KXP_ABI_BOUND_INCLUSIVE)

static int check_intervals(struct kxp_check *c, const struct kxp_abi_range *r)
{
	for (uint32_t i = r->first; i < r->first + r->count; i++) {
		const struct kxp_abi_interval *iv = &c->p->intervals[i];
		const struct kxp_abi_interval *prev = i > r->first ? iv - 1 : NULL;
		int cmp;

		if (!bound_ok(&iv->lo) || !bound_ok(&iv->hi))
			return kxp_check_bad(c, KXP_T_INTERVALS, i, "malformed version bound");
		if ((UNBOUNDED(&iv->lo) && prev) ||
		    (UNBOUNDED(&iv->hi) && i + 1 < r->first + r->count))
			return kxp_check_bad(c, KXP_T_INTERVALS, i, "unbounded end inside a range");
		if (!UNBOUNDED(&iv->lo) && !UNBOUNDED(&iv->hi)) {
			cmp = vcmp(&iv->lo, &iv->hi);
			if (cmp > 0 || (cmp == 0 && !(INCLUSIVE(&iv->lo) && INCLUSIVE(&iv->hi))))
				return kxp_check_bad(c, KXP_T_INTERVALS, i, "empty interval");
		}
		if (prev) {
			/* ascending, disjoint, not adjacent: prev.hi < lo, or equal with
			 * that one version excluded by both */
			cmp = vcmp(&prev->hi, &iv->lo);
			if (cmp > 0 || (cmp == 0 && (INCLUSIVE(&prev->hi) || INCLUSIVE(&iv->lo))))
				return kxp_check_bad(c, KXP_T_INTERVALS, i,
						     "intervals overlap, touch or are "
						     "out of order");
		}
	}
	return 0;
}

/* ---- per-app contents ----------------------------------------------------- */

/* Two entries of one app with the same key id: the compiler refuses them
 * ("are the same key"), and the decision would rely on whichever comes
 * first, its dates and name, whatever the other says.  Sorted copies of
 * the ids, so a huge list costs n log n, not n^2. */
struct key_slot {
	uint8_t keyid[KXP_ABI_KEYID_BYTES];
	uint32_t index;
};

static int key_slot_cmp(const void *a, const void *b)
{
	const struct key_slot *x = a, *y = b;
	int cmp = memcmp(x->keyid, y->keyid, sizeof(x->keyid));

	return cmp != 0 ? cmp : (x->index > y->index) - (x->index < y->index);
}

static int check_key_ids_unique(struct kxp_check *c, const struct kxp_abi_app *app)
{
	struct key_slot *slots;
	int rc = 0;

	if (app->keys.count < 2)
		return 0;
	slots = calloc(app->keys.count, sizeof(*slots));
	if (slots == NULL)
		return kxp_check_bad(c, KXP_T_KEYS, app->keys.first, "out of memory checking key ids");
	for (uint32_t i = 0; i < app->keys.count; i++) {
		memcpy(slots[i].keyid, c->p->keys[app->keys.first + i].keyid, sizeof(slots[i].keyid));
		slots[i].index = app->keys.first + i;
	}
	qsort(slots, app->keys.count, sizeof(*slots), key_slot_cmp);
	for (uint32_t i = 1; i < app->keys.count && rc == 0; i++)
		if (memcmp(slots[i - 1].keyid, slots[i].keyid, sizeof(slots[i].keyid)) == 0)
			rc = kxp_check_bad(c, KXP_T_KEYS, slots[i].index,
					   "key id also that of entry %u of the same app (one key "
					   "listed twice)", slots[i - 1].index);
	free(slots);
	return rc;
}

static int check_keys(struct kxp_check *c, const struct kxp_abi_app *app)
{
	for (uint32_t k = app->keys.first; k < app->keys.first + app->keys.count; k++) {
		const struct kxp_abi_key *key = &c->p->keys[k];
		int rc;

		if ((rc = kxp_check_str(c, KXP_T_KEYS, k, "name", key->name, true)) < 0 ||
		    (rc = kxp_check_str(c, KXP_T_KEYS, k, "path", key->path, false)) < 0 ||
		    (rc = kxp_check_prov(c, KXP_T_KEYS, k, key->prov)) < 0)
			return rc;
		if (key->reserved != 0)
			return kxp_check_bad(c, KXP_T_KEYS, k, "reserved field is not zero");
		if (key->from < 0 || key->until < 0 ||
		    (key->from != 0 && key->until != 0 && key->from >= key->until))
			return kxp_check_bad(c, KXP_T_KEYS, k, "validity from %lld until %lld is "
					     "negative or empty", (long long)key->from,
					     (long long)key->until);
		if (k > app->keys.first &&
		    strcmp(kxp_str(c->p, key[-1].name), kxp_str(c->p, key->name)) >= 0)
			return kxp_check_bad(c, KXP_T_KEYS, k,
					     "keys not sorted by name (or duplicated)");
	}
	return check_key_ids_unique(c, app);
}

static int check_lib(struct kxp_check *c, const struct kxp_abi_app *app, uint32_t l,
		     uint64_t *signer_cur, uint64_t *interval_cur)
{
	const struct kxp_abi_lib *lib = &c->p->libs[l];
	int rc;

	if ((rc = kxp_check_str(c, KXP_T_LIBS, l, "name", lib->name, true)) < 0 ||
	    (rc = kxp_check_str(c, KXP_T_LIBS, l, "version text", lib->version_text, false)) < 0 ||
	    (rc = kxp_check_prov(c, KXP_T_LIBS, l, lib->prov)) < 0 ||
	    (rc = kxp_check_run(c, KXP_T_LIBS, l, "signers", &lib->signers, signer_cur,
				c->p->nlib_signers)) < 0 ||
	    (rc = kxp_check_run(c, KXP_T_LIBS, l, "intervals", &lib->intervals, interval_cur,
				c->p->nintervals)) < 0)
		return rc;
	if (lib->loader > KXP_ABI_LOADER_ANY || lib->update > 1 || lib->allow_downgrade > 1 ||
	    lib->bind > KXP_ABI_BIND_NOW)
		return kxp_check_bad(c, KXP_T_LIBS, l,
				     "loader, update, rollback or bind out of range");
	if (lib->signers.count == 0 || lib->intervals.count == 0)
		return kxp_check_bad(c, KXP_T_LIBS, l, "no signer or no version interval");
	if (l > app->libs.first &&
	    strcmp(kxp_str(c->p, lib[-1].name), kxp_str(c->p, lib->name)) >= 0)
		return kxp_check_bad(c, KXP_T_LIBS, l,
				     "libraries not sorted by name (or duplicated)");
	for (uint32_t s = lib->signers.first; s < lib->signers.first + lib->signers.count; s++) {
		uint32_t key = c->p->lib_signers[s];

		if (key < app->keys.first || key - app->keys.first >= app->keys.count)
			return kxp_check_bad(c, KXP_T_LIB_SIGNERS, s,
					     "key index %u is not a key of the "
					     "library's app",
					     key);
		if (s > lib->signers.first && c->p->lib_signers[s - 1] >= key)
			return kxp_check_bad(c, KXP_T_LIB_SIGNERS, s, "signers not ascending");
	}
	return check_intervals(c, &lib->intervals);
}

/* Sorted, unique byte strings of `width` at `stride` (revocation lists). */
static int check_revoked(struct kxp_check *c, enum kxp_abi_table t, const struct kxp_abi_range *r,
			 const uint8_t *base, size_t stride, size_t width)
{
	for (uint32_t i = r->first; i < r->first + r->count; i++) {
		const uint8_t *e = base + (size_t)i * stride;
		uint32_t prov, reserved;
		int rc;

		memcpy(&prov, e + width, sizeof(prov));
		memcpy(&reserved, e + width + sizeof(prov), sizeof(reserved));
		if ((rc = kxp_check_prov(c, t, i, prov)) < 0)
			return rc;
		if (reserved != 0)
			return kxp_check_bad(c, t, i, "reserved field is not zero");
		if (i > r->first && memcmp(e - stride, e, width) >= 0)
			return kxp_check_bad(c, t, i, "revocations not ascending (or duplicated)");
	}
	return 0;
}

static int check_trust(struct kxp_check *c, uint32_t a, const struct kxp_abi_app *app)
{
	const struct kxp_policy *p = c->p;
	const uint8_t *row = p->ipc + (size_t)a * p->napps;
	uint32_t t = app->trust.first, end = app->trust.first + app->trust.count;
	int rc;

	for (uint32_t i = t; i < end; i++) {
		const struct kxp_abi_trust *tr = &p->trust[i];

		if ((rc = kxp_check_prov(c, KXP_T_TRUST, i, tr->prov)) < 0)
			return rc;
		if (tr->peer >= p->napps || (i > t && tr[-1].peer >= tr->peer))
			return kxp_check_bad(c, KXP_T_TRUST, i,
					     "peer %u out of range or not ascending", tr->peer);
		if (tr->kinds == 0 || (tr->kinds & ~KXP_ABI_IPC_ALL) || tr->reserved != 0)
			return kxp_check_bad(c, KXP_T_TRUST, i, "bad kinds 0x%x or reserved field",
					     tr->kinds);
	}
	/* the app's matrix row holds exactly its trust rules; symmetry below
	 * then makes every rule mutual */
	for (uint32_t peer = 0; peer < p->napps; peer++) {
		uint8_t want = 0;

		if (t < end && p->trust[t].peer == peer)
			want = (uint8_t)p->trust[t++].kinds;
		if (row[peer] != want)
			return kxp_check_bad(c, KXP_T_IPC, (uint64_t)a * p->napps + peer,
					     "kinds 0x%x disagree with the trust rules (0x%x)",
					     row[peer], want);
		if (row[peer] != p->ipc[(size_t)peer * p->napps + a])
			return kxp_check_bad(c, KXP_T_IPC, (uint64_t)a * p->napps + peer,
					     "trust of app %u with app %u is not mutual", a, peer);
	}
	return 0;
}

static int check_app(struct kxp_check *c, uint32_t a, uint64_t cur[KXP_TABLE_COUNT])
{
	const struct kxp_policy *p = c->p;
	const struct kxp_abi_app *app = &p->apps[a];
	int rc;

	if ((rc = kxp_check_str(c, KXP_T_APPS, a, "name", app->name, true)) < 0 ||
	    (rc = kxp_check_str(c, KXP_T_APPS, a, "image", app->image, false)) < 0 ||
	    (rc = kxp_check_prov(c, KXP_T_APPS, a, app->prov)) < 0 ||
	    (rc = kxp_check_prov(c, KXP_T_APPS, a, app->ipc_prov)) < 0 ||
	    (rc = kxp_check_prov(c, KXP_T_FORK, a, p->fork[a].prov)) < 0 ||
	    (rc = kxp_check_prov(c, KXP_T_RECYCLE, a, p->recycle[a].prov)) < 0 ||
	    (rc = kxp_check_run(c, KXP_T_APPS, a, "keys", &app->keys, &cur[KXP_T_KEYS],
				p->nkeys)) < 0 ||
	    (rc = kxp_check_run(c, KXP_T_APPS, a, "libs", &app->libs, &cur[KXP_T_LIBS],
				p->nlibs)) < 0 ||
	    (rc = kxp_check_run(c, KXP_T_APPS, a, "trust", &app->trust, &cur[KXP_T_TRUST],
				p->ntrust)) < 0 ||
	    (rc = kxp_check_run(c, KXP_T_APPS, a, "revoked keys", &app->revoked_keys,
				&cur[KXP_T_REVOKED_KEYS], p->nrevoked_keys)) < 0 ||
	    (rc = kxp_check_run(c, KXP_T_APPS, a, "revoked digests", &app->revoked_digests,
				&cur[KXP_T_REVOKED_DIGESTS], p->nrevoked_digests)) < 0)
		return rc;
	if ((app->ipc_kinds & ~KXP_ABI_IPC_ALL) || app->reserved != 0 ||
	    app->ipc_objects > KXP_ABI_IPC_OBJECTS_MAX || (app->ipc_flags & ~KXP_ABI_IPC_PERSIST))
		return kxp_check_bad(c, KXP_T_APPS, a, "bad ipc kinds 0x%x, objects %u, flags 0x%x "
				     "or reserved field", app->ipc_kinds, app->ipc_objects,
				     app->ipc_flags);
	if (a > 0 && strcmp(kxp_str(p, app[-1].name), kxp_str(p, app->name)) >= 0)
		return kxp_check_bad(c, KXP_T_APPS, a, "apps not sorted by name (or duplicated)");
	if (p->recycle[a].allow > 1 || !kxp_all_zero(p->recycle[a].reserved, 3) ||
	    p->recycle[a].reserved2 != 0)
		return kxp_check_bad(c, KXP_T_RECYCLE, a, "bad allow flag or reserved field");
	if ((rc = check_keys(c, app)) < 0)
		return rc;
	for (uint32_t l = app->libs.first; l < app->libs.first + app->libs.count; l++)
		if ((rc = check_lib(c, app, l, &cur[KXP_T_LIB_SIGNERS],
				    &cur[KXP_T_INTERVALS])) < 0)
			return rc;
	if ((rc = check_trust(c, a, app)) < 0 || (rc = kxp_check_app_io(c, a, cur)) < 0 ||
	    (rc = check_revoked(c, KXP_T_REVOKED_KEYS, &app->revoked_keys,
				(const uint8_t *)p->revoked_keys, sizeof(*p->revoked_keys),
				KXP_ABI_KEYID_BYTES)) < 0)
		return rc;
	return check_revoked(c, KXP_T_REVOKED_DIGESTS, &app->revoked_digests,
			     (const uint8_t *)p->revoked_digests, sizeof(*p->revoked_digests),
			     KXP_ABI_DIGEST_BYTES);
}

static int check_tables(struct kxp_check *c)
{
	struct kxp_policy *p = c->p;
	const void *table[KXP_TABLE_COUNT];
	uint32_t count[KXP_TABLE_COUNT];
	uint64_t cur[KXP_TABLE_COUNT] = {0};
	int rc;

	if ((rc = check_directory(c, table, count)) < 0)
		return rc;
	p->strings = table[KXP_T_STRINGS];
	p->strings_size = count[KXP_T_STRINGS];
	p->prov = table[KXP_T_PROV];
	p->nprov = count[KXP_T_PROV];
	p->apps = table[KXP_T_APPS];
	p->napps = count[KXP_T_APPS];
	p->keys = table[KXP_T_KEYS];
	p->nkeys = count[KXP_T_KEYS];
	p->libs = table[KXP_T_LIBS];
	p->nlibs = count[KXP_T_LIBS];
	p->lib_signers = table[KXP_T_LIB_SIGNERS];
	p->nlib_signers = count[KXP_T_LIB_SIGNERS];
	p->intervals = table[KXP_T_INTERVALS];
	p->nintervals = count[KXP_T_INTERVALS];
	p->fork = table[KXP_T_FORK];
	p->recycle = table[KXP_T_RECYCLE];
	p->trust = table[KXP_T_TRUST];
	p->ntrust = count[KXP_T_TRUST];
	p->ipc = table[KXP_T_IPC];
	p->revoked_keys = table[KXP_T_REVOKED_KEYS];
	p->nrevoked_keys = count[KXP_T_REVOKED_KEYS];
	p->revoked_digests = table[KXP_T_REVOKED_DIGESTS];
	p->nrevoked_digests = count[KXP_T_REVOKED_DIGESTS];
	p->resources = table[KXP_T_RESOURCES];
	p->files = table[KXP_T_FILES];
	p->nfiles = count[KXP_T_FILES];
	p->ifaces = table[KXP_T_IFACES];
	p->nifaces = count[KXP_T_IFACES];
	p->listen = table[KXP_T_LISTEN];
	p->nlisten = count[KXP_T_LISTEN];
	p->peers = table[KXP_T_PEERS];
	p->npeers = count[KXP_T_PEERS];

	if (p->napps > KXP_APPS_MAX)
		return kxp_check_bad(c, KXP_T_APPS, 0, "%u apps; at most %u", p->napps,
				     KXP_APPS_MAX);
	if (count[KXP_T_META] != 1 ||
	    ((const struct kxp_abi_meta *)table[KXP_T_META])->reserved != 0)
		return kxp_check_bad(c, KXP_T_META, 0, "%u entries (one expected) or a reserved "
				     "field", count[KXP_T_META]);
	p->serial = ((const struct kxp_abi_meta *)table[KXP_T_META])->serial;
	if (count[KXP_T_FORK] != p->napps || count[KXP_T_RECYCLE] != p->napps ||
	    count[KXP_T_RESOURCES] != p->napps ||
	    count[KXP_T_IPC] != (uint64_t)p->napps * p->napps)
		return kxp_check_bad(c, KXP_T_APPS, 0, "fork, recycle, resources and ipc tables "
				     "must match %u apps", p->napps);
	if ((rc = check_pool(c)) < 0 || (rc = check_provs(c)) < 0)
		return rc;
	for (uint32_t a = 0; a < p->napps; a++)
		if ((rc = check_app(c, a, cur)) < 0)
			return rc;
	/* every run continued where the previous ended; they must also end
	 * exactly at the end of their table */
	if (cur[KXP_T_KEYS] != p->nkeys || cur[KXP_T_LIBS] != p->nlibs ||
	    cur[KXP_T_TRUST] != p->ntrust || cur[KXP_T_REVOKED_KEYS] != p->nrevoked_keys ||
	    cur[KXP_T_REVOKED_DIGESTS] != p->nrevoked_digests ||
	    cur[KXP_T_LIB_SIGNERS] != p->nlib_signers || cur[KXP_T_INTERVALS] != p->nintervals ||
	    cur[KXP_T_FILES] != p->nfiles || cur[KXP_T_IFACES] != p->nifaces ||
	    cur[KXP_T_LISTEN] != p->nlisten || cur[KXP_T_PEERS] != p->npeers) {
		return kx_err(c->err, -EBADMSG, "tables hold entries that no app or library owns");
	}
	return 0;
}

int kxp_open(const void *buf, size_t len, const struct kxsig_pubkey *admin,
	     struct kxp_policy **out, struct kx_error *err)
{
	struct kxp_policy *p = NULL;
	struct kxp_check c = {.err = err};
	int rc;

	*out = NULL;
	if (buf == NULL && len > 0)
		return -EINVAL;
	if (len < sizeof(struct kxp_abi_header))
		return kx_err(err, -EBADMSG, "truncated: %zu bytes, a policy header needs %zu", len,
			      sizeof(struct kxp_abi_header));
	if (len > KXP_FILE_MAX)
		return kx_err(err, -EBADMSG, "%zu bytes: larger than any policy (%u)", len,
			      KXP_FILE_MAX);
	if (sodium_init() < 0)
		return kx_err(err, -EIO, "libsodium failed to initialise");
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->buf = malloc(len)) == NULL) { /* malloc: aligned for every table */
		rc = kx_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(p->buf, buf, len);
	p->len = len;
	c.p = p;
	if ((rc = check_header(&c, admin)) < 0 || (rc = check_tables(&c)) < 0)
		goto out;
	*out = p;
	p = NULL;
out:
	kxp_close(p);
	return rc;
}

int kxp_open_file(const char *path, const struct kxsig_pubkey *admin,
		  struct kxp_policy **out, struct kx_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = kxsig_read_file(path, KXP_FILE_MAX, &buf, &len, err);
	if (rc != 0) {
		/* Larger than any policy: corrupt; any other failure to read it: -EIO. */
		rc = rc == -ENOMEM ? rc : rc == -EFBIG ? -EBADMSG : -EIO;
		return kx_err_wrap(err, rc, "%s", path);
	}
	rc = kxp_open(buf, len, admin, out, err);
	if (rc < 0)
		kx_err_wrap(err, rc, "%s", path);
	free(buf);
	return rc;
}

void kxp_close(struct kxp_policy *policy)
{
	if (policy == NULL)
		return;
	free(policy->buf);
	free(policy);
}

void kxp_signature(const struct kxp_policy *policy, struct kxp_signature_info *out)
{
	*out = policy->sig;
}

uint64_t kxp_serial(const struct kxp_policy *policy)
{
	return policy->serial;
}

void kxp_body_digest(const struct kxp_policy *policy, uint8_t out[KXSIG_DIGEST_BYTES])
{
	_Static_assert(KXSIG_DIGEST_BYTES == KXP_ABI_DIGEST_BYTES, "one digest size");
	memcpy(out, policy->buf + offsetof(struct kxp_abi_header, body_digest),
	       KXSIG_DIGEST_BYTES);
}
