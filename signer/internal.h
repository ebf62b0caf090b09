/*
 * Private to signer/: the minimal ELF walker, region hashing and small
 * helpers shared by the verify and sign halves.  Nothing outside signer/
 * includes this; the public contract is kxsig.h (+ kxsig_abi.h).
 */
#ifndef KX_SIGNER_INTERNAL_H
#define KX_SIGNER_INTERNAL_H

#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "signer/kxsig.h"
#include "signer/kxsig_abi.h"
#include "common/kxptrmap.h"

/* Limits on untrusted input; each one is far above what a real library has.
 * The ELF ones are the loader's too (common/kxelf_limits.h). */
#define KXSIG_KEYFILE_MAX 4096 /* bytes of a key file */

/* A validated view of an ELF64 little-endian x86-64 ET_DYN/ET_EXEC file.  The
 * buffer is borrowed; every offset reachable through this struct has been
 * checked against len. */
struct kxsig_elf {
	const uint8_t *buf;
	size_t len;
	Elf64_Ehdr eh;
	size_t nloads;     /* PT_LOAD entries */
	size_t sig_index;  /* section index of .kxsig, 0 when unsigned */
	size_t ptrmap_index; /* section index of .kxptrmap, 0 when none */
	uint64_t shstr_off, shstr_size;
	uint64_t end;      /* end of the program headers, PT_LOADs and sections
			    * (the section header table aside) */
};

int kxsig_elf_parse(struct kxsig_elf *elf, const void *buf, size_t len, struct kx_error *err);
void kxsig_elf_phdr(const struct kxsig_elf *elf, size_t i, Elf64_Phdr *out);
void kxsig_elf_shdr(const struct kxsig_elf *elf, size_t i, Elf64_Shdr *out);
/* Name of a section (checked NUL-terminated inside .shstrtab). */
const char *kxsig_elf_section_name(const struct kxsig_elf *elf, const Elf64_Shdr *sh);

/* The regions a signature over this file must cover, in canonical order, with
 * their hashes.  Returns 0 or MALFORMED (too many regions). */
int kxsig_elf_regions(const struct kxsig_elf *elf, struct kxsig_abi_region out[KXSIG_ABI_MAX_REGIONS],
		  size_t *count, struct kx_error *err);
/* "PT_LOAD[1] (offset 0x1000, 4096 bytes)" and friends. */
void kxsig_region_describe(const struct kxsig_abi_region *r, char *out, size_t size);
const char *kxsig_region_kind_name(uint16_t kind);

/* Content digest from an already computed region list (see kxsig_abi.h). */
void kxsig_digest_regions(const struct kxsig_elf *elf, const struct kxsig_abi_region *regions,
			  size_t count, uint8_t out[KXSIG_DIGEST_BYTES]);

/* Decode and check a signature section (untrusted bytes). */
int kxsig_section_decode(const uint8_t *buf, size_t len, struct kxsig_abi_section *out,
			 struct kx_error *err);
/* Ed25519 message of a section: SIG_DOMAIN || section bytes before the
 * signature.  out must hold KXSIG_SIGNED_MSG_BYTES. */
#define KXSIG_SIGNED_MSG_BYTES \
	(sizeof(KXSIG_ABI_SIG_DOMAIN) + offsetof(struct kxsig_abi_section, signature))
void kxsig_section_message(const struct kxsig_abi_section *sec, uint8_t *out);

/* Ed25519 message of a detached signature (see verify.c). */
#define KXSIG_DETACHED_MSG_BYTES \
	(sizeof(KXSIG_ABI_DETACHED_DOMAIN) + sizeof(uint64_t) + KXSIG_ABI_HASH_BYTES)
void kxsig_detached_message(const void *msg, size_t len, uint8_t out[KXSIG_DETACHED_MSG_BYTES]);

/* Key-file text: "untrusted comment: ...\n<base64>\n".  Decodes exactly
 * want bytes into out and copies the comment.  Untrusted input. */
int kxsig_keyfile_decode(const void *buf, size_t len, void *out, size_t want,
			 char comment[KXSIG_COMMENT_MAX + 1], struct kx_error *err);
/* Key id of a public key (BLAKE2b, 8-byte output). */
void kxsig_keyid_of(const uint8_t pk[KXSIG_PUBKEY_BYTES], uint8_t keyid[KXSIG_KEYID_BYTES]);

/* Printable, single-line text for names, versions and comments. */
int kxsig_text_ok(const char *s, size_t max);
int kxsig_name_ok(const char *s, size_t max);

#endif /* KX_SIGNER_INTERNAL_H */
