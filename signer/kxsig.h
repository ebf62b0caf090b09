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
 * untrusted.  Functions print nothing: they return a kxsig_err code and, when
 * an error struct is given, fill in a one-line human-readable reason that the
 * caller may print.  The on-disk layout of the signature section is in
 * kxsig_abi.h; docs/signature-format.md documents every signed byte.
 */
#ifndef KX_SIGNER_KXSIG_H
#define KX_SIGNER_KXSIG_H

#include <stddef.h>
#include <stdint.h>

#define KXSIG_KEYID_BYTES   8
#define KXSIG_PUBKEY_BYTES  32  /* Ed25519 public key */
#define KXSIG_SIG_BYTES     64  /* Ed25519 signature */
#define KXSIG_DIGEST_BYTES  32  /* BLAKE2b-256 content digest */
#define KXSIG_NAME_MAX      63  /* library name, bytes, excluding NUL */
#define KXSIG_VERSION_MAX   31  /* version string, bytes, excluding NUL */
#define KXSIG_COMMENT_MAX   255 /* trusted / untrusted comment, excluding NUL */
#define KXSIG_MSG_MAX       512 /* kxsig_error.msg, including NUL */

/* Error classes.  CLIs map VERIFY-class codes to exit 1 and the rest to 2. */
enum kxsig_err {
	KXSIG_OK = 0,
	/* verification failed (exit 1) */
	KXSIG_ERR_UNSIGNED,   /* a valid ELF without a signature section */
	KXSIG_ERR_KEY,        /* signed by a key id not among the keys given */
	KXSIG_ERR_TAMPERED,   /* a covered region differs from what was signed */
	KXSIG_ERR_SIGNATURE,  /* Ed25519 check failed (signature or metadata altered) */
	/* usage, I/O or malformed input (exit 2) */
	KXSIG_ERR_IO,         /* could not read or write a file */
	KXSIG_ERR_MALFORMED,  /* bad ELF, bad signature section, bad key file */
	KXSIG_ERR_PASSPHRASE, /* wrong passphrase, or none available */
	KXSIG_ERR_NOMEM,
	KXSIG_ERR_INVAL,      /* invalid argument (name too long, ...) */
};

/* Nonzero when err is a verification failure (exit 1), as opposed to an
 * input or usage error (exit 2). */
int kxsig_err_is_verify(enum kxsig_err err);
const char *kxsig_err_name(enum kxsig_err err);

struct kxsig_error {
	enum kxsig_err code;
	char msg[KXSIG_MSG_MAX];
};

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
/* Parse 2*n hex digits into n bytes; returns 0 or KXSIG_ERR_INVAL. */
int kxsig_hex_parse(const char *hex, uint8_t *out, size_t n);

/* ---- verify side (libkxsig.a) ------------------------------------------ */

/* Must be called once before anything else (wraps sodium_init). */
int kxsig_init(void);

/* Public key file (untrusted bytes / a path). */
int kxsig_pubkey_parse(const void *buf, size_t len, struct kxsig_pubkey *out,
		       struct kxsig_error *err);
int kxsig_pubkey_load(const char *path, struct kxsig_pubkey *out, struct kxsig_error *err);

/* Read the signature section of an ELF file without checking it against any
 * key: for `kxsign show` and `kxctl inspect`.  Returns KXSIG_ERR_UNSIGNED if
 * the file is a valid ELF with no signature. */
int kxsig_read(const void *elf, size_t len, struct kxsig_meta *meta, struct kxsig_error *err);

/* Verify an ELF file's embedded signature against a set of trusted keys.
 * On success fills *meta with the proven metadata and the content digest. On
 * failure err->msg names the reason: the changed region, or the expected key
 * ids and the signing key id. */
int kxsig_verify(const void *elf, size_t len, const struct kxsig_pubkey *keys, size_t nkeys,
		 struct kxsig_meta *meta, struct kxsig_error *err);

/* Content digest of an ELF file (signed or not) as kxsig computes it: the
 * value a policy's `revoked.digests` list names. */
int kxsig_content_digest(const void *elf, size_t len, uint8_t out[KXSIG_DIGEST_BYTES],
			 struct kxsig_error *err);

/* Read a whole regular file of at most max bytes into a malloc'd buffer
 * (the caller frees it).  KXSIG_FILE_MAX is kxsign's limit for ELF files. */
#define KXSIG_FILE_MAX ((size_t)1 << 30)
int kxsig_read_file(const char *path, size_t max, uint8_t **buf, size_t *len,
		    struct kxsig_error *err);

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
		       struct kxsig_error *err);

/* The regions a signature over this file covers, computed from the file
 * itself (signed or not): what `kxsign sign` records, and the bytes the
 * loader may read (tests/unit/test_elf_signed_reads.c, fuzz_elf_signed). */
int kxsig_covered_regions(const void *elf, size_t len,
			  struct kxsig_region_info regions[KXSIG_MAX_REGIONS], size_t *nregions,
			  struct kxsig_error *err);

/* Detached Ed25519 over an arbitrary message (compiled policy files). */
int kxsig_verify_detached(const struct kxsig_pubkey *key, const void *msg, size_t len,
			  const uint8_t sig[KXSIG_SIG_BYTES], struct kxsig_error *err);

/* ---- sign side (libkxsig_sign.a) --------------------------------------- */

struct kxsig_seckey; /* opaque; lives in sodium-guarded memory */

/* Load a secret key file.  If it is passphrase-protected, the passphrase is
 * read from the file named by $KXSIGN_PASSPHRASE_FILE, else from the
 * terminal; KXSIG_ERR_PASSPHRASE if wrong or unavailable. */
int kxsig_seckey_open(const char *path, struct kxsig_seckey **out, struct kxsig_error *err);
void kxsig_seckey_free(struct kxsig_seckey *key); /* wipes; NULL is fine */
void kxsig_seckey_keyid(const struct kxsig_seckey *key, uint8_t out[KXSIG_KEYID_BYTES]);
void kxsig_seckey_pubkey(const struct kxsig_seckey *key, struct kxsig_pubkey *out);

int kxsig_sign_detached(const struct kxsig_seckey *key, const void *msg, size_t len,
			uint8_t sig[KXSIG_SIG_BYTES], struct kxsig_error *err);

/* Generate a key pair and write both files atomically (mode 0644 / 0600).
 * Refuses to replace an existing file unless KXSIG_KEYGEN_FORCE.  Without
 * KXSIG_KEYGEN_NO_PASSPHRASE the secret key is encrypted under a passphrase
 * from $KXSIGN_PASSPHRASE_FILE or the terminal (asked twice). */
#define KXSIG_KEYGEN_NO_PASSPHRASE 1u
#define KXSIG_KEYGEN_FORCE         2u
int kxsig_keygen(const char *pub_path, const char *sec_path, const char *comment,
		 unsigned flags, uint8_t keyid[KXSIG_KEYID_BYTES], struct kxsig_error *err);

/* Parse a secret key file (untrusted bytes).  passphrase is used only if the
 * key is encrypted (NULL then means KXSIG_ERR_PASSPHRASE). */
int kxsig_seckey_parse(const void *buf, size_t len, const char *passphrase,
		       struct kxsig_seckey **out, struct kxsig_error *err);

/* What to put in a library signature. */
struct kxsig_sign_opts {
	const char *name;            /* library name, KXSIG_NAME_MAX */
	const char *version;         /* KXSIG_VERSION_MAX */
	const char *trusted_comment; /* may be NULL; KXSIG_COMMENT_MAX */
	uint64_t timestamp;          /* seconds since the epoch */
};

/* Sign an ELF64 x86-64 shared object or executable: returns a malloc'd copy
 * with a `.kxsig` section added (or the existing one replaced), after
 * verifying the new signature with the key's public half. */
int kxsig_sign_elf(const struct kxsig_seckey *key, const void *elf, size_t len,
		   const struct kxsig_sign_opts *opts, uint8_t **out, size_t *out_len,
		   struct kxsig_error *err);

/* Write a file atomically: temporary file in the same directory, fsync,
 * rename over path (only if overwrite, else KXSIG_ERR_IO when path exists),
 * fsync of the directory.  On failure nothing is left behind. */
int kxsig_write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode,
			    int overwrite, struct kxsig_error *err);

#endif /* KX_SIGNER_KXSIG_H */
