/*
 * The sign half: detached signatures, and embedding a `.kxsig` section in an
 * ELF file.  The layout is settled first (a zero-filled section of fixed size,
 * its header and name), then the regions are hashed from the final bytes,
 * then the section is filled in and signed, and finally the result is
 * verified with the public half before it is handed back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "signer/sign_internal.h"

int kxsig_sign_detached(const struct kxsig_seckey *key, const void *msg, size_t len,
			uint8_t sig[KXSIG_SIG_BYTES], struct kx_error *err)
{
	uint8_t m[KXSIG_DETACHED_MSG_BYTES];
	struct kxsig_pubkey pub;

	if (!key || !sig || (!msg && len))
		return kx_err(err, -EINVAL, "no key, signature buffer or message");
	kxsig_detached_message(msg, len, m);
	crypto_sign_detached(sig, NULL, m, sizeof(m), key->sk);
	kxsig_seckey_pubkey(key, &pub);
	return kxsig_verify_detached(&pub, msg, len, sig, err);
}

static uint64_t align8(uint64_t x)
{
	return (x + 7) & ~(uint64_t)7;
}

/* A section header of ours: never allocated, never mapped. */
static Elf64_Shdr kx_shdr(uint64_t name, uint32_t type, uint64_t off, uint64_t size)
{
	Elf64_Shdr sh;

	memset(&sh, 0, sizeof(sh));
	sh.sh_name = (Elf64_Word)name;
	sh.sh_type = type;
	sh.sh_offset = off;
	sh.sh_size = size;
	sh.sh_addralign = KXSIG_ABI_SECTION_ALIGN;
	return sh;
}

/* The file with the pointer map (when there is one) and an empty signature
 * section added: the old section header table is dropped when it is the
 * last thing in the file, the section-name table is extended in place when
 * it comes last (else copied to the end), and the map, the zeroed section
 * and the new header table follow.  Nothing the old file placed elsewhere
 * moves, so PT_LOAD bytes keep their offsets. */
static int add_sections(const struct kxsig_elf *elf, const uint8_t *map, size_t map_len,
			uint8_t **out, size_t *out_len, struct kx_error *err)
{
	static const char map_name[] = KXPTRMAP_SECTION_NAME, sig_name[] = KXSIG_ABI_SECTION_NAME;
	const Elf64_Ehdr *eh = &elf->eh;
	uint64_t shdrs_size = (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr);
	uint64_t names = (map_len ? sizeof(map_name) : 0) + sizeof(sig_name);
	unsigned added = map_len ? 2 : 1;
	uint64_t cut, str_off, map_off, sig_off, shoff, total;
	Elf64_Shdr sh, ours[2];
	Elf64_Ehdr neh = *eh;
	uint8_t *buf = NULL;

	if (eh->e_shnum + added > KXELF_MAX_SHNUM)
		return kx_err(err, -ENOEXEC, "no room for another section%s",
			      added > 1 ? " (the pointer map and the signature)" : "");
	cut = (eh->e_shoff + shdrs_size == elf->len && eh->e_shoff >= elf->end) ? eh->e_shoff
										: elf->len;
	/* Alignment padding after a trailing name table is not worth keeping. */
	if (cut == eh->e_shoff && elf->shstr_off + elf->shstr_size == elf->end)
		cut = elf->end;
	str_off = (elf->shstr_off + elf->shstr_size == cut) ? elf->shstr_off : cut;
	map_off = align8((str_off == cut ? cut + elf->shstr_size : cut) + names);
	sig_off = align8(map_off + map_len);
	shoff = align8(sig_off + sizeof(struct kxsig_abi_section));
	total = shoff + shdrs_size + added * sizeof(Elf64_Shdr);
	if (map_len > KXSIG_FILE_MAX || total > KXSIG_FILE_MAX)
		return kx_err(err, -EFBIG, "file too large to sign");
	buf = calloc(1, (size_t)total);
	if (!buf)
		return kx_err(err, -ENOMEM, "out of memory");
	memcpy(buf, elf->buf, (size_t)cut);
	if (str_off == cut)
		memcpy(buf + cut, elf->buf + elf->shstr_off, (size_t)elf->shstr_size);
	if (map_len) {
		memcpy(buf + str_off + elf->shstr_size, map_name, sizeof(map_name));
		memcpy(buf + map_off, map, map_len);
		ours[0] = kx_shdr(elf->shstr_size, KXPTRMAP_SECTION_TYPE, map_off, map_len);
	}
	memcpy(buf + str_off + elf->shstr_size + names - sizeof(sig_name), sig_name,
	       sizeof(sig_name));
	ours[added - 1] = kx_shdr(elf->shstr_size + names - sizeof(sig_name),
				  KXSIG_ABI_SECTION_TYPE, sig_off, sizeof(struct kxsig_abi_section));
	/* Section headers: the old ones, the name table's updated, ours last. */
	memcpy(buf + shoff, elf->buf + eh->e_shoff, (size_t)shdrs_size);
	kxsig_elf_shdr(elf, eh->e_shstrndx, &sh);
	sh.sh_offset = str_off;
	sh.sh_size = elf->shstr_size + names;
	memcpy(buf + shoff + (uint64_t)eh->e_shstrndx * sizeof(sh), &sh, sizeof(sh));
	memcpy(buf + shoff + shdrs_size, ours, added * sizeof(Elf64_Shdr));
	neh.e_shoff = shoff;
	neh.e_shnum = (Elf64_Half)(eh->e_shnum + added);
	memcpy(buf, &neh, sizeof(neh));
	*out = buf;
	*out_len = (size_t)total;
	return 0;
}

/* Re-signing keeps the layout, so it keeps the map the file has: a map
 * built now must be that one (the same build), or none at all. */
static int same_map(const struct kxsig_elf *elf, const uint8_t *map, size_t map_len,
		    struct kx_error *err)
{
	Elf64_Shdr sh;

	if (map_len == 0)
		return 0;
	if (elf->ptrmap_index == 0)
		return kx_err(err, -EEXIST,
			      "the file is signed already, without a pointer map; re-signing keeps "
			      "its layout: sign the unsigned build to add one (or use --no-ptrmap)");
	kxsig_elf_shdr(elf, elf->ptrmap_index, &sh);
	if (sh.sh_size != map_len || memcmp(elf->buf + sh.sh_offset, map, map_len) != 0)
		return kx_err(err, -EEXIST,
			      "the file is signed already with a different pointer map; sign the "
			      "unsigned build");
	return 0;
}

static int check_opts(const struct kxsig_sign_opts *opts, struct kx_error *err)
{
	if (!opts->name || !kxsig_name_ok(opts->name, KXSIG_NAME_MAX))
		return kx_err(err, -EINVAL,
			      "library name must be 1..%d characters of [A-Za-z0-9._+-], not starting with '.'",
			      KXSIG_NAME_MAX);
	if (!opts->version || !kxsig_name_ok(opts->version, KXSIG_VERSION_MAX))
		return kx_err(err, -EINVAL,
			      "version must be 1..%d characters of [A-Za-z0-9._+-], not starting with '.'",
			      KXSIG_VERSION_MAX);
	if (opts->trusted_comment && !kxsig_text_ok(opts->trusted_comment, KXSIG_COMMENT_MAX))
		return kx_err(err, -EINVAL,
			      "trusted comment must be at most %d printable ASCII characters",
			      KXSIG_COMMENT_MAX);
	if (opts->ptrmap_len) {
		struct kxptrmap map;
		int rc = kxptrmap_decode(&map, opts->ptrmap, opts->ptrmap_len, err);

		if (rc)
			return kx_err_wrap(err, -EINVAL, "the pointer map to add");
	}
	return 0;
}

/* Hash the final layout's regions and sign them with the metadata. */
static int fill_section(const struct kxsig_seckey *key, uint8_t *buf, size_t len,
			const struct kxsig_sign_opts *opts, struct kx_error *err)
{
	struct kxsig_abi_section sec;
	uint8_t msg[KXSIG_SIGNED_MSG_BYTES];
	struct kxsig_elf elf;
	Elf64_Shdr sh;
	size_t n = 0;
	int rc;

	rc = kxsig_elf_parse(&elf, buf, len, err);
	if (rc)
		return rc;
	memset(&sec, 0, sizeof(sec));
	rc = kxsig_elf_regions(&elf, sec.regions, &n, err);
	if (rc)
		return rc;
	memcpy(sec.magic, KXSIG_ABI_MAGIC, KXSIG_ABI_MAGIC_BYTES);
	sec.format_version = KXSIG_ABI_VERSION;
	sec.sig_alg = KXSIG_ABI_SIG_ALG_ED25519;
	sec.hash_alg = KXSIG_ABI_HASH_ALG_BLAKE2B;
	sec.region_count = (uint16_t)n;
	sec.section_size = sizeof(sec);
	memcpy(sec.keyid, key->keyid, sizeof(sec.keyid));
	sec.timestamp = opts->timestamp;
	memcpy(sec.name, opts->name, strlen(opts->name));
	memcpy(sec.version, opts->version, strlen(opts->version));
	if (opts->trusted_comment)
		memcpy(sec.trusted_comment, opts->trusted_comment, strlen(opts->trusted_comment));
	kxsig_section_message(&sec, msg);
	crypto_sign_detached(sec.signature, NULL, msg, sizeof(msg), key->sk);
	/* The section's own bytes are in no region, so this changes no hash. */
	kxsig_elf_shdr(&elf, elf.sig_index, &sh);
	memcpy(buf + sh.sh_offset, &sec, sizeof(sec));
	return 0;
}

int kxsig_sign_elf(const struct kxsig_seckey *key, const void *in, size_t len,
		   const struct kxsig_sign_opts *opts, uint8_t **out, size_t *out_len,
		   struct kx_error *err)
{
	struct kxsig_pubkey pub;
	struct kxsig_meta meta;
	struct kxsig_elf elf;
	uint8_t *buf = NULL;
	size_t buf_len = 0;
	int rc;

	*out = NULL;
	*out_len = 0;
	rc = check_opts(opts, err);
	if (!rc)
		rc = kxsig_elf_parse(&elf, in, len, err);
	if (rc)
		goto out;
	if (elf.sig_index != 0) {
		/* Re-signing: the layout is settled already; the section is replaced. */
		rc = same_map(&elf, opts->ptrmap, opts->ptrmap_len, err);
		if (rc)
			goto out;
		buf = malloc(len ? len : 1);
		if (!buf) {
			rc = kx_err(err, -ENOMEM, "out of memory");
			goto out;
		}
		memcpy(buf, in, len);
		buf_len = len;
	} else {
		rc = add_sections(&elf, opts->ptrmap, opts->ptrmap_len, &buf, &buf_len, err);
		if (rc)
			goto out;
	}
	rc = fill_section(key, buf, buf_len, opts, err);
	if (rc)
		goto out;
	kxsig_seckey_pubkey(key, &pub);
	rc = kxsig_verify(buf, buf_len, &pub, 1, &meta, err);
	if (rc) {
		kx_err_wrap(err, rc, "the new signature does not verify");
		goto out;
	}
	*out = buf;
	*out_len = buf_len;
	buf = NULL;
out:
	free(buf);
	return rc;
}
