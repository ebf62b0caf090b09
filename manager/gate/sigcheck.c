/*
 * Signature checks for boot, link, update and recycle, and their cache.
 *
 * The file bytes are untrusted; kxsig_verify() does the checking.  The cache
 * only saves repeating it for the same bytes.  Why its key is what it is:
 *
 *   - The content digest alone is NOT a sound key.  By design it covers the
 *     bytes kx uses (headers and PT_LOAD contents) and leaves out the
 *     `.kxsig` section and the section headers, so one build has one digest
 *     whether it is signed by a trusted key or a revoked one, as libfoo 1.2
 *     or as libbar 9.0, or carries a corrupted signature.  A cache keyed by
 *     the digest would let any of those ride an earlier verification.
 *   - The BLAKE2b-256 of the whole file binds every byte, the signature
 *     section included, so equal hashes mean equal files (up to a BLAKE2b
 *     collision) and kxsig_verify() would give the same answer for the same
 *     key.  The content digest is a function of those bytes, so it is stored
 *     in the entry (it is what the policy's revocation list names) but adds
 *     nothing to the key.  Hashing the file costs one pass; computing the
 *     content digest first would cost an ELF parse and the region hashes,
 *     most of what a verification costs.
 *   - A verification proves "these bytes carry a valid signature by key K".
 *     Whether K is acceptable depends on the request (the app, the library's
 *     signed-by list, revocations), so an entry remembers K (key id AND public
 *     key) and a hit needs K among the keys the policy gives this request:
 *     a revoked key or another library's key set misses and is re-verified,
 *     and fails there with its own reason.
 *   - Policy decisions are never cached: revocation of a digest, versions and
 *     loader classes are decided by kxp_decide() on every request, from the
 *     metadata the cache returns.
 *   - Failures are not cached: a hostile file costs its sender a
 *     verification each time, and cannot evict entries either.
 * The cache is bounded (least recently used entry evicted).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "manager/gate/internal.h"

_Static_assert(crypto_generichash_BYTES == KXSIG_DIGEST_BYTES, "BLAKE2b-256 file hash");

static const struct kxsig_pubkey *key_in_set(const struct kxsig_pubkey *keys, size_t nkeys,
					     const uint8_t *keyid, const uint8_t *pk)
{
	for (size_t i = 0; i < nkeys; i++)
		if (memcmp(keys[i].keyid, keyid, KXSIG_KEYID_BYTES) == 0 &&
		    (pk == NULL || sodium_memcmp(keys[i].pk, pk, KXSIG_PUBKEY_BYTES) == 0))
			return &keys[i];
	return NULL;
}

/* Under g->lock. */
static bool cache_lookup(struct gate *g, const uint8_t *hash, const struct kxsig_pubkey *keys,
			 size_t nkeys, struct kxsig_meta *meta)
{
	for (size_t i = 0; i < g->cache_cap; i++) {
		struct gate_cache_entry *e = &g->cache[i];

		if (e->last_use == 0 || memcmp(e->file_hash, hash, sizeof(e->file_hash)) != 0)
			continue;
		if (key_in_set(keys, nkeys, e->keyid, e->pk) == NULL)
			return false;
		e->last_use = ++g->tick;
		*meta = e->meta;
		return true;
	}
	return false;
}

/* Under g->lock.  Replaces an entry for the same bytes, else a free slot,
 * else the least recently used one. */
static void cache_insert(struct gate *g, const uint8_t *hash, const struct kxsig_pubkey *key,
			 const struct kxsig_meta *meta)
{
	struct gate_cache_entry *slot = NULL;

	for (size_t i = 0; i < g->cache_cap; i++) {
		struct gate_cache_entry *e = &g->cache[i];

		if (e->last_use != 0 && memcmp(e->file_hash, hash, sizeof(e->file_hash)) == 0) {
			slot = e;
			break;
		}
		if (slot == NULL || (slot->last_use != 0 && e->last_use < slot->last_use))
			slot = e;
	}
	if (slot->last_use == 0)
		g->stats.entries++;
	else if (memcmp(slot->file_hash, hash, sizeof(slot->file_hash)) != 0)
		g->stats.evictions++;
	memcpy(slot->file_hash, hash, sizeof(slot->file_hash));
	memcpy(slot->keyid, key->keyid, sizeof(slot->keyid));
	memcpy(slot->pk, key->pk, sizeof(slot->pk));
	slot->meta = *meta;
	slot->last_use = ++g->tick;
}

static enum gate_sig_status status_of(int kxsig_rc)
{
	switch (kxsig_rc) {
	case 0: return GATE_SIG_OK;
	case -ENODATA: return GATE_SIG_UNSIGNED;
	case -ENOKEY: return GATE_SIG_WRONG_KEY;
	case -EBADMSG: return GATE_SIG_TAMPERED;
	case -EKEYREJECTED: return GATE_SIG_BAD;
	}
	return GATE_SIG_MALFORMED;
}

/* After a failed or impossible verification: what the bytes claim (to
 * explain the DENY) and their content digest (a fact: revocation applies
 * to unverifiable files too). */
static void describe_unverified(const void *bytes, size_t len, struct gate_sig_check *out)
{
	struct kx_error err;

	out->claimed = kxsig_read(bytes, len, &out->claim, &err) == 0;
	out->has_digest = kxsig_content_digest(bytes, len, out->digest, &err) == 0;
}

int gate_sig_check(struct gate *g, const void *bytes, size_t len, const struct kxsig_pubkey *keys,
		   size_t nkeys, struct gate_sig_check *out)
{
	uint8_t hash[KXSIG_DIGEST_BYTES];
	struct kx_error err = {0};
	const struct kxsig_pubkey *key;
	bool hit;
	int rc;

	memset(out, 0, sizeof(*out));
	if (nkeys == 0) {
		out->status = GATE_SIG_NO_KEYS;
		snprintf(out->msg, sizeof(out->msg), "the policy names no key to verify it with");
		describe_unverified(bytes, len, out);
		return 0;
	}
	crypto_generichash(hash, sizeof(hash), bytes, len, NULL, 0);
	pthread_mutex_lock(&g->lock);
	hit = cache_lookup(g, hash, keys, nkeys, &out->meta);
	if (hit)
		g->stats.hits++;
	else
		g->stats.misses++;
	pthread_mutex_unlock(&g->lock);
	if (hit) {
		out->status = GATE_SIG_OK;
		out->cached = out->proven = out->has_digest = true;
		memcpy(out->digest, out->meta.digest, sizeof(out->digest));
		return 0;
	}

	rc = kxsig_verify(bytes, len, keys, nkeys, &out->meta, &err);
	if (rc == -ENOMEM)
		return -ENOMEM;
	out->status = status_of(rc);
	if (rc != 0) {
		memset(&out->meta, 0, sizeof(out->meta));
		snprintf(out->msg, sizeof(out->msg), "%s", err.msg);
		describe_unverified(bytes, len, out);
		return 0;
	}
	out->proven = out->has_digest = true;
	memcpy(out->digest, out->meta.digest, sizeof(out->digest));
	key = key_in_set(keys, nkeys, out->meta.keyid, NULL);
	if (key != NULL) {
		pthread_mutex_lock(&g->lock);
		cache_insert(g, hash, key, &out->meta);
		pthread_mutex_unlock(&g->lock);
	}
	return 0;
}

void gate_cache_stats(struct gate *gate, struct gate_cache_stats *out)
{
	pthread_mutex_lock(&gate->lock);
	*out = gate->stats;
	out->capacity = gate->cache_cap;
	pthread_mutex_unlock(&gate->lock);
}
