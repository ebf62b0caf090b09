/*
 * The verify half: decode a `.kxsig` section, check its Ed25519 signature,
 * and compare the regions it covers with the file.  All input is untrusted
 * (buf, len); this file holds no secret-key code (it is in libkxsig.a, which
 * the manager links).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "signer/internal.h"

_Static_assert(KXSIG_MAX_REGIONS == KXSIG_ABI_MAX_REGIONS, "region limits agree");
_Static_assert(KXSIG_NAME_MAX + 1 == KXSIG_ABI_NAME_FIELD, "name field");
_Static_assert(KXSIG_VERSION_MAX + 1 == KXSIG_ABI_VERSION_FIELD, "version field");
_Static_assert(KXSIG_COMMENT_MAX + 1 == KXSIG_ABI_COMMENT_FIELD, "comment field");
_Static_assert(KXSIG_SIG_BYTES == crypto_sign_BYTES, "Ed25519 signature size");
_Static_assert(KXSIG_PUBKEY_BYTES == crypto_sign_PUBLICKEYBYTES, "Ed25519 key size");

int kxsig_init(void)
{
	return sodium_init() < 0 ? -ENOMEM : 0;
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

/* A fixed text field: NUL-terminated inside the field, zero-padded after. */
static int field_ok(const char *f, size_t size)
{
	const char *nul = memchr(f, '\0', size);

	return nul && all_zero(nul, size - (size_t)(nul - f));
}

static int decode_regions(const struct kxsig_abi_section *s, struct kx_error *err)
{
	if (s->region_count == 0 || s->region_count > KXSIG_ABI_MAX_REGIONS)
		return kx_err(err, -ENOEXEC,
			      "signature section: %u regions (need 1..%d)", s->region_count,
			      KXSIG_ABI_MAX_REGIONS);
	for (size_t i = 0; i < s->region_count; i++) {
		const struct kxsig_abi_region *r = &s->regions[i];

		if (r->kind < KXSIG_REGION_EHDR || r->kind > KXSIG_REGION_PTRMAP || r->reserved)
			return kx_err(err, -ENOEXEC,
				      "signature section: region %zu has unknown kind %u", i,
				      r->kind);
	}
	if (!all_zero(&s->regions[s->region_count],
		      (KXSIG_ABI_MAX_REGIONS - s->region_count) * sizeof(s->regions[0])))
		return kx_err(err, -ENOEXEC,
			      "signature section: unused region slots are not zero");
	return 0;
}

int kxsig_section_decode(const uint8_t *buf, size_t len, struct kxsig_abi_section *out,
			 struct kx_error *err)
{
	if (len != sizeof(*out))
		return kx_err(err, -ENOEXEC, "signature section is %zu bytes, not %zu",
			      len, sizeof(*out));
	memcpy(out, buf, sizeof(*out));
	if (memcmp(out->magic, KXSIG_ABI_MAGIC, KXSIG_ABI_MAGIC_BYTES) != 0)
		return kx_err(err, -ENOEXEC, "signature section: bad magic");
	if (out->format_version != KXSIG_ABI_VERSION)
		return kx_err(err, -ENOEXEC,
			      "signature section: unsupported format version %u",
			      out->format_version);
	if (out->sig_alg != KXSIG_ABI_SIG_ALG_ED25519 || out->hash_alg != KXSIG_ABI_HASH_ALG_BLAKE2B)
		return kx_err(err, -ENOEXEC,
			      "signature section: unknown algorithms (%u, %u)", out->sig_alg,
			      out->hash_alg);
	if (out->section_size != sizeof(*out) || out->reserved != 0)
		return kx_err(err, -ENOEXEC, "signature section: bad header");
	if (!field_ok(out->name, sizeof(out->name)) || !kxsig_name_ok(out->name, KXSIG_NAME_MAX) ||
	    !field_ok(out->version, sizeof(out->version)) ||
	    !kxsig_name_ok(out->version, KXSIG_VERSION_MAX) ||
	    !field_ok(out->trusted_comment, sizeof(out->trusted_comment)) ||
	    !kxsig_text_ok(out->trusted_comment, KXSIG_COMMENT_MAX))
		return kx_err(err, -ENOEXEC,
			      "signature section: bad name, version or trusted comment");
	return decode_regions(out, err);
}

void kxsig_section_message(const struct kxsig_abi_section *sec, uint8_t *out)
{
	memcpy(out, KXSIG_ABI_SIG_DOMAIN, sizeof(KXSIG_ABI_SIG_DOMAIN));
	memcpy(out + sizeof(KXSIG_ABI_SIG_DOMAIN), sec, offsetof(struct kxsig_abi_section, signature));
}

/* Parse the file, find and decode its signature section, and compute the
 * regions the file has now. */
struct signed_file {
	struct kxsig_elf elf;
	struct kxsig_abi_section sec;
	struct kxsig_abi_region regions[KXSIG_ABI_MAX_REGIONS];
	size_t nregions;
};

static int open_signed(struct signed_file *sf, const void *buf, size_t len,
		       struct kx_error *err)
{
	Elf64_Shdr sh;
	int rc;

	rc = kxsig_elf_parse(&sf->elf, buf, len, err);
	if (rc)
		return rc;
	if (sf->elf.sig_index == 0)
		return kx_err(err, -ENODATA, "not signed (no %s section)",
			      KXSIG_ABI_SECTION_NAME);
	kxsig_elf_shdr(&sf->elf, sf->elf.sig_index, &sh);
	rc = kxsig_section_decode(sf->elf.buf + sh.sh_offset, sh.sh_size, &sf->sec, err);
	if (rc)
		return rc;
	return kxsig_elf_regions(&sf->elf, sf->regions, &sf->nregions, err);
}

static void fill_meta(const struct signed_file *sf, struct kxsig_meta *meta)
{
	memset(meta, 0, sizeof(*meta));
	memcpy(meta->name, sf->sec.name, sizeof(meta->name));
	memcpy(meta->version, sf->sec.version, sizeof(meta->version));
	memcpy(meta->keyid, sf->sec.keyid, sizeof(meta->keyid));
	meta->timestamp = sf->sec.timestamp;
	memcpy(meta->trusted_comment, sf->sec.trusted_comment, sizeof(meta->trusted_comment));
	kxsig_digest_regions(&sf->elf, sf->regions, sf->nregions, meta->digest);
}

static void region_info(const struct kxsig_abi_region *r, struct kxsig_region_info *out)
{
	out->kind = kxsig_region_kind_name(r->kind);
	out->kind_id = r->kind;
	out->index = r->index;
	out->offset = r->offset;
	out->size = r->size;
	memcpy(out->hash, r->hash, sizeof(out->hash));
}

int kxsig_covered_regions(const void *elf, size_t len,
			  struct kxsig_region_info regions[KXSIG_MAX_REGIONS], size_t *nregions,
			  struct kx_error *err)
{
	struct kxsig_abi_region abi[KXSIG_ABI_MAX_REGIONS];
	struct kxsig_elf parsed;
	size_t n = 0;
	int rc;

	_Static_assert(KXSIG_MAX_REGIONS == KXSIG_ABI_MAX_REGIONS, "region arrays");
	*nregions = 0;
	rc = kxsig_elf_parse(&parsed, elf, len, err);
	if (!rc)
		rc = kxsig_elf_regions(&parsed, abi, &n, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		region_info(&abi[i], &regions[i]);
	*nregions = n;
	return 0;
}

int kxsig_read_regions(const void *elf, size_t len, struct kxsig_meta *meta,
		       struct kxsig_region_info regions[KXSIG_MAX_REGIONS], size_t *nregions,
		       struct kx_error *err)
{
	struct signed_file sf;
	int rc;

	memset(meta, 0, sizeof(*meta));
	if (nregions)
		*nregions = 0;
	rc = open_signed(&sf, elf, len, err);
	if (rc)
		return rc;
	fill_meta(&sf, meta);
	for (size_t i = 0; regions && nregions && i < sf.sec.region_count; i++) {
		region_info(&sf.sec.regions[i], &regions[i]);
		*nregions = i + 1;
	}
	return 0;
}

int kxsig_read(const void *elf, size_t len, struct kxsig_meta *meta, struct kx_error *err)
{
	return kxsig_read_regions(elf, len, meta, NULL, NULL, err);
}

static const struct kxsig_pubkey *find_key(const struct kxsig_pubkey *keys, size_t nkeys,
					   const uint8_t keyid[KXSIG_KEYID_BYTES])
{
	for (size_t i = 0; i < nkeys; i++)
		if (memcmp(keys[i].keyid, keyid, KXSIG_KEYID_BYTES) == 0)
			return &keys[i];
	return NULL;
}

static int wrong_key(const struct kxsig_pubkey *keys, size_t nkeys, const uint8_t *keyid,
		     struct kx_error *err)
{
	char hex[2 * KXSIG_KEYID_BYTES + 1];
	size_t used;

	kxsig_keyid_hex(keyid, hex);
	kx_err(err, -ENOKEY, "signed by key %s, expected one of:", hex);
	for (size_t i = 0; err && i < nkeys; i++) {
		used = strlen(err->msg);
		kxsig_keyid_hex(keys[i].keyid, hex);
		snprintf(err->msg + used, sizeof(err->msg) - used, "%s %s", i ? "," : "", hex);
	}
	return -ENOKEY;
}

static void append(char *msg, size_t size, const char *text)
{
	size_t used = strlen(msg);

	snprintf(msg + used, size - used, "%s%s", used ? "; " : "", text);
}

static const struct kxsig_abi_region *find_region(const struct kxsig_abi_region *r, size_t n,
						  uint16_t kind, uint32_t index)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].kind == kind && r[i].index == index)
			return &r[i];
	return NULL;
}

/* Every signed region against the file, then every file region against the
 * signature; the message lists each difference (as many as fit). */
static int compare_regions(const struct signed_file *sf, struct kx_error *err)
{
	char msg[KX_ERR_MAX] = "", what[160], line[400];
	const struct kxsig_abi_section *sec = &sf->sec;

	for (size_t i = 0; i < sec->region_count; i++) {
		const struct kxsig_abi_region *s = &sec->regions[i];
		const struct kxsig_abi_region *f =
			find_region(sf->regions, sf->nregions, s->kind, s->index);

		kxsig_region_describe(s, what, sizeof(what));
		if (!f) {
			snprintf(line, sizeof(line), "%s is signed but no longer in the file", what);
		} else if (f->offset != s->offset || f->size != s->size) {
			snprintf(line, sizeof(line), "%s moved or resized (now offset 0x%llx, %llu bytes)",
				 what, (unsigned long long)f->offset, (unsigned long long)f->size);
		} else if (sodium_memcmp(f->hash, s->hash, sizeof(f->hash)) != 0) {
			snprintf(line, sizeof(line), "%s changed", what);
		} else {
			continue;
		}
		append(msg, sizeof(msg), line);
	}
	for (size_t i = 0; i < sf->nregions; i++) {
		const struct kxsig_abi_region *f = &sf->regions[i];

		if (find_region(sec->regions, sec->region_count, f->kind, f->index))
			continue;
		kxsig_region_describe(f, what, sizeof(what));
		snprintf(line, sizeof(line), "%s is not covered by the signature", what);
		append(msg, sizeof(msg), line);
	}
	if (msg[0] == '\0')
		return 0;
	return kx_err(err, -EBADMSG, "%s", msg);
}

int kxsig_verify(const void *elf, size_t len, const struct kxsig_pubkey *keys, size_t nkeys,
		 struct kxsig_meta *meta, struct kx_error *err)
{
	struct signed_file sf;
	const struct kxsig_pubkey *key;
	uint8_t msg[KXSIG_SIGNED_MSG_BYTES];
	char hex[2 * KXSIG_KEYID_BYTES + 1];
	int rc;

	memset(meta, 0, sizeof(*meta));
	if (nkeys == 0)
		return kx_err(err, -EINVAL, "no trusted public keys given");
	rc = open_signed(&sf, elf, len, err);
	if (rc)
		return rc;
	key = find_key(keys, nkeys, sf.sec.keyid);
	if (!key)
		return wrong_key(keys, nkeys, sf.sec.keyid, err);
	kxsig_section_message(&sf.sec, msg);
	if (crypto_sign_verify_detached(sf.sec.signature, msg, sizeof(msg), key->pk) != 0) {
		kxsig_keyid_hex(key->keyid, hex);
		return kx_err(err, -EKEYREJECTED,
			      "bad signature by key %s: the signed metadata or region table was altered",
			      hex);
	}
	rc = compare_regions(&sf, err);
	if (rc)
		return rc;
	fill_meta(&sf, meta);
	return 0;
}

int kxsig_content_digest(const void *elf, size_t len, uint8_t out[KXSIG_DIGEST_BYTES],
			 struct kx_error *err)
{
	struct kxsig_elf e;
	struct kxsig_abi_region regions[KXSIG_ABI_MAX_REGIONS];
	size_t n = 0;
	int rc;

	memset(out, 0, KXSIG_DIGEST_BYTES);
	rc = kxsig_elf_parse(&e, elf, len, err);
	if (!rc)
		rc = kxsig_elf_regions(&e, regions, &n, err);
	if (!rc)
		kxsig_digest_regions(&e, regions, n, out);
	return rc;
}

/* The Ed25519 message of a detached signature is fixed-size, so a large
 * policy file needs no second copy: DETACHED_DOMAIN || length (u64 LE) ||
 * BLAKE2b-256(message). */
void kxsig_detached_message(const void *msg, size_t len, uint8_t out[KXSIG_DETACHED_MSG_BYTES])
{
	uint64_t len64 = len;

	memcpy(out, KXSIG_ABI_DETACHED_DOMAIN, sizeof(KXSIG_ABI_DETACHED_DOMAIN));
	out += sizeof(KXSIG_ABI_DETACHED_DOMAIN);
	memcpy(out, &len64, sizeof(len64));
	out += sizeof(len64);
	crypto_generichash(out, KXSIG_ABI_HASH_BYTES, msg, len, NULL, 0);
}

int kxsig_verify_detached(const struct kxsig_pubkey *key, const void *msg, size_t len,
			  const uint8_t sig[KXSIG_SIG_BYTES], struct kx_error *err)
{
	uint8_t m[KXSIG_DETACHED_MSG_BYTES];
	char hex[2 * KXSIG_KEYID_BYTES + 1];

	if (!key || !sig || (!msg && len))
		return kx_err(err, -EINVAL, "no key, signature or message");
	kxsig_detached_message(msg, len, m);
	if (crypto_sign_verify_detached(sig, m, sizeof(m), key->pk) != 0) {
		kxsig_keyid_hex(key->keyid, hex);
		return kx_err(err, -EKEYREJECTED, "bad detached signature by key %s", hex);
	}
	return 0;
}
