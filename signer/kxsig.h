/*
 * kxsig — library signatures for kx (the signer module's public header).
 *
 * Two archives are built from this module:
 *   libkxsig.a       verify-only: key-file parsing, signature-section parsing,
 *                    verification.  This is what the manager links; it holds
 *                    no secret-key code.
 *   libkxsig_sign.a  secret keys, passphrases, signing; for kxsign and
 *                    `kxpolicy compile -s`.
 *
 * Every function that takes bytes takes (buf, len) and treats them as
 * untrusted.  Functions print nothing: they return 0 or -errno (the table
 * below) and, when a struct kx_error is given, fill in a one-line
 * human-readable reason that the caller may print.  The on-disk layout of
 * the signature section is in kxsig_abi.h; docs/signature-format.md
 * documents every signed byte.
 */
#ifndef KX_SIGNER_KXSIG_H
#define KX_SIGNER_KXSIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/kxelf_limits.h"
#include "common/kxerr.h"
#include "common/kxptrmap.h"

#define KXSIG_KEYID_BYTES   8
#define KXSIG_PUBKEY_BYTES  32  /* Ed25519 public key */
#define KXSIG_SIG_BYTES     64  /* Ed25519 signature */
#define KXSIG_DIGEST_BYTES  32  /* BLAKE2b-256 content digest */
#define KXSIG_NAME_MAX      63  /* library name, bytes, excluding NUL */
#define KXSIG_VERSION_MAX   31  /* version string, bytes, excluding NUL */
#define KXSIG_COMMENT_MAX   255 /* trusted / untrusted comment, excluding NUL */

/*
 * Errors: every function returns 0 or -errno, one errno per kind, and a
 * one-line reason in the struct kx_error it is given:
 *
 *   verification failed (kxsign exits 1; kxsig_err_is_verify() is true)
 *     -ENODATA       unsigned: a valid ELF without a signature section
 *     -ENOKEY        unknown key: signed by a key id not among those given
 *     -EBADMSG       tampered: a covered region differs from what was signed
 *     -EKEYREJECTED  bad signature: the Ed25519 check failed (signature or
 *                    metadata altered)
 *   usage, I/O or malformed input (kxsign exits 2)
 *     -ENOEXEC       malformed input: a bad ELF file, signature section or
 *                    key file
 *     -EFBIG         a file larger than the caller's limit
 *     -EACCES        passphrase: wrong, or none available (opening a file
 *                    may also give EACCES: the message tells)
 *     -EINVAL        invalid argument (name too long, ...)
 *     -ENOMEM        out of memory
 *     any other      I/O: the errno of the failed open, read, write, ...
 *
 * The verification errnos are those of Linux's module signature check
 * (unsigned, key not found, signature rejected); EBADMSG is what fs-verity
 * returns when file bytes do not match what was measured.  ENOEXEC is what
 * the loader (manager/elf) returns for a malformed ELF file too.
 */

/* Nonzero when rc is a verification failure (exit 1), as opposed to an
 * input, usage or I/O error (exit 2) or 0. */
int kxsig_err_is_verify(int rc);
/* The word for an error kind: "unsigned", "unknown key", "tampered", "bad
 * signature", "malformed input", "too large", "passphrase", "invalid
 * argument", "out of memory", "i/o error" ("ok" for 0). */
const char *kxsig_err_name(int rc);

struct kxsig_pubkey {
	uint8_t keyid[KXSIG_KEYID_BYTES];
	uint8_t pk[KXSIG_PUBKEY_BYTES];
	char comment[KXSIG_COMMENT_MAX + 1]; /* the untrusted comment line */
};

/* What a signature section says (and, after kxsig_verify, what was proven). */
struct kxsig_meta {
	char name[KXSIG_NAME_MAX + 1];
	char version[KXSIG_VERSION_MAX + 1];
	uint8_t keyid[KXSIG_KEYID_BYTES];
	uint64_t timestamp; /* seconds since the epoch, signer's clock */
	char trusted_comment[KXSIG_COMMENT_MAX + 1];
	uint8_t digest[KXSIG_DIGEST_BYTES]; /* content digest: what revocation names */
};

/* Key ids print as 16 lowercase hex digits (big-endian byte order as stored). */
void kxsig_keyid_hex(const uint8_t keyid[KXSIG_KEYID_BYTES], char out[2 * KXSIG_KEYID_BYTES + 1]);
void kxsig_digest_hex(const uint8_t digest[KXSIG_DIGEST_BYTES], char out[2 * KXSIG_DIGEST_BYTES + 1]);
/* Parse 2*n hex digits into n bytes; returns 0 or -EINVAL. */
int kxsig_hex_parse(const char *hex, uint8_t *out, size_t n);

/* ---- verify side (libkxsig.a) ------------------------------------------ */

/* Must be called once before anything else (wraps sodium_init). */
int kxsig_init(void);

/* Public key file (untrusted bytes / a path). */
int kxsig_pubkey_parse(const void *buf, size_t len, struct kxsig_pubkey *out,
		       struct kx_error *err);
int kxsig_pubkey_load(const char *path, struct kxsig_pubkey *out, struct kx_error *err);

/* Read the signature section of an ELF file without checking it against any
 * key: for `kxsign show` and `kxctl inspect`.  Returns -ENODATA if
 * the file is a valid ELF with no signature. */
int kxsig_read(const void *elf, size_t len, struct kxsig_meta *meta, struct kx_error *err);

/* Verify an ELF file's embedded signature against a set of trusted keys.
 * On success fills *meta with the proven metadata and the content digest. On
 * failure err->msg names the reason: the changed region, or the expected key
 * ids and the signing key id. */
int kxsig_verify(const void *elf, size_t len, const struct kxsig_pubkey *keys, size_t nkeys,
		 struct kxsig_meta *meta, struct kx_error *err);

/* Content digest of an ELF file (signed or not) as kxsig computes it: the
 * value a policy's `revoked.digests` list names. */
int kxsig_content_digest(const void *elf, size_t len, uint8_t out[KXSIG_DIGEST_BYTES],
			 struct kx_error *err);

/* Read a whole regular file of at most max bytes into a malloc'd buffer
 * (the caller frees it).  KXSIG_FILE_MAX is kxsign's limit for ELF files,
 * the loader's (common/kxelf_limits.h). */
#define KXSIG_FILE_MAX KXELF_MAX_FILE_SIZE
int kxsig_read_file(const char *path, size_t max, uint8_t **buf, size_t *len,
		    struct kx_error *err);

/* One covered region of a signed file, for `kxsign show` (kind names as in
 * docs/signature-format.md: "ELF header", "PT_LOAD", ...). */
struct kxsig_region_info {
	const char *kind;  /* static string */
	uint16_t kind_id;  /* KXSIG_REGION_* of kxsig_abi.h */
	uint32_t index;
	uint64_t offset, size;
	uint8_t hash[KXSIG_DIGEST_BYTES];
};
#define KXSIG_MAX_REGIONS 32
/* Like kxsig_read, and also lists the regions the signature covers (as
 * recorded in the section; unverified).  regions may be NULL. */
int kxsig_read_regions(const void *elf, size_t len, struct kxsig_meta *meta,
		       struct kxsig_region_info regions[KXSIG_MAX_REGIONS], size_t *nregions,
		       struct kx_error *err);

/* The regions a signature over this file covers, computed from the file
 * itself (signed or not): what `kxsign sign` records, and the bytes the
 * loader may read (tests/unit/test_elf_signed_reads.c, fuzz_elf_signed). */
int kxsig_covered_regions(const void *elf, size_t len,
			  struct kxsig_region_info regions[KXSIG_MAX_REGIONS], size_t *nregions,
			  struct kx_error *err);

/* Detached Ed25519 over an arbitrary message (compiled policy files). */
int kxsig_verify_detached(const struct kxsig_pubkey *key, const void *msg, size_t len,
			  const uint8_t sig[KXSIG_SIG_BYTES], struct kx_error *err);

/* ---- sign side (libkxsig_sign.a) --------------------------------------- */

struct kxsig_seckey; /* opaque; lives in sodium-guarded memory */

/* Load a secret key file.  If it is passphrase-protected, the passphrase is
 * read from the file named by $KXSIGN_PASSPHRASE_FILE, else from the
 * terminal; -EACCES if wrong or unavailable. */
int kxsig_seckey_open(const char *path, struct kxsig_seckey **out, struct kx_error *err);
void kxsig_seckey_free(struct kxsig_seckey *key); /* wipes; NULL is fine */
void kxsig_seckey_keyid(const struct kxsig_seckey *key, uint8_t out[KXSIG_KEYID_BYTES]);
void kxsig_seckey_pubkey(const struct kxsig_seckey *key, struct kxsig_pubkey *out);

int kxsig_sign_detached(const struct kxsig_seckey *key, const void *msg, size_t len,
			uint8_t sig[KXSIG_SIG_BYTES], struct kx_error *err);

/* Generate a key pair and write both files atomically (mode 0644 / 0600).
 * Refuses to replace an existing file unless KXSIG_KEYGEN_FORCE.  Without
 * KXSIG_KEYGEN_NO_PASSPHRASE the secret key is encrypted under a passphrase
 * from $KXSIGN_PASSPHRASE_FILE or the terminal (asked twice). */
#define KXSIG_KEYGEN_NO_PASSPHRASE 1u
#define KXSIG_KEYGEN_FORCE         2u
int kxsig_keygen(const char *pub_path, const char *sec_path, const char *comment,
		 unsigned flags, uint8_t keyid[KXSIG_KEYID_BYTES], struct kx_error *err);

/* Parse a secret key file (untrusted bytes).  passphrase is used only if the
 * key is encrypted (NULL then means -EACCES). */
int kxsig_seckey_parse(const void *buf, size_t len, const char *passphrase,
		       struct kxsig_seckey **out, struct kx_error *err);

/* What to put in a library signature. */
struct kxsig_sign_opts {
	const char *name;            /* library name, KXSIG_NAME_MAX */
	const char *version;         /* KXSIG_VERSION_MAX */
	const char *trusted_comment; /* may be NULL; KXSIG_COMMENT_MAX */
	uint64_t timestamp;          /* seconds since the epoch */
	const uint8_t *ptrmap;       /* the pointer map to add (kxsig_ptrmap_build), or NULL */
	size_t ptrmap_len;
};

/* Sign an ELF64 x86-64 shared object or executable: returns a malloc'd copy
 * with a `.kxsig` section (and the pointer map's `.kxptrmap` when opts has
 * one) added, or the existing signature replaced (the file's layout and map
 * are kept then: -EEXIST when opts brings a different map), after verifying
 * the new signature with the key's public half. */
int kxsig_sign_elf(const struct kxsig_seckey *key, const void *elf, size_t len,
		   const struct kxsig_sign_opts *opts, uint8_t **out, size_t *out_len,
		   struct kx_error *err);

/* The pointer map (common/kxptrmap.h) of an ELF library, from DWARF: the
 * library's own, or that of `debug` (a separate debug file of the same
 * build, e.g. `objcopy --only-keep-debug`) when not NULL.  Returns a
 * malloc'd map (checked by kxptrmap_decode) and what it holds; -ENODATA
 * when there is no DWARF, -ENOEXEC for a file that is not ELF, -EINVAL for
 * a debug file of another build. */
struct kxsig_ptrmap_stats {
	size_t vars;              /* writable variables */
	size_t untyped;           /* ... with no type information: copied verbatim */
	size_t pointers, maybe;   /* pointer words; words a union may use as one */
	char untyped_example[64]; /* the name of the first untyped one */
};
int kxsig_ptrmap_build(const void *elf, size_t len, const void *debug, size_t debug_len,
		       uint8_t **map, size_t *map_len, struct kxsig_ptrmap_stats *st,
		       struct kx_error *err);

/* A signed library's pointer map, read back for people (kxsign ptrmap):
 * the decoded map (borrowing elf's bytes) and one entry per var with its
 * name from the symbol tables ("?" when none).  -ENOENT when the file has
 * no map; the map is decoded, not verified. */
struct kxsig_ptrmap_var {
	struct kxptrmap_abi_var var;
	char name[64];
};
int kxsig_ptrmap_describe(const void *elf, size_t len, struct kxsig_ptrmap_var **vars,
			  size_t *count, struct kxptrmap *map, struct kx_error *err);

/* Write a file atomically: temporary file in the same directory, fsync,
 * rename over path (only if overwrite, else -EEXIST when path exists),
 * fsync of the directory.  On failure nothing is left behind. */
int kxsig_write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode,
			    int overwrite, struct kx_error *err);

#endif /* KX_SIGNER_KXSIG_H */
