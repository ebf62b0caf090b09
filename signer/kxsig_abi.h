/*
 * kxsig_abi.h — on-disk formats of kxsign: the `.kxsig` ELF section and the
 * public and secret key files.  Self-contained (C99 headers only) so that any
 * tool can read these formats; docs/signature-format.md describes the same
 * bytes in prose, and the `_Static_assert`s below pin every size and offset.
 *
 * All integers are little-endian (kx only handles ELF64 x86-64, and these
 * structs are read and written with memcpy on little-endian hosts only).
 * Every struct is naturally aligned: no padding, no packing pragmas.
 */
#ifndef KX_SIGNER_KXSIG_ABI_H
#define KX_SIGNER_KXSIG_ABI_H

#include <stddef.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "kxsig_abi.h: the on-disk formats are little-endian; this host is not"
#endif
#endif

#define KXSIG_ABI_VERSION 1

/* ---- the signature section -------------------------------------------- */

#define KXSIG_ABI_SECTION_NAME  ".kxsig"
/* A private section type (SHT_LOUSER range): no tool gives it a meaning. */
#define KXSIG_ABI_SECTION_TYPE  0x80004b58u /* SHT_LOUSER | "KX" */
#define KXSIG_ABI_SECTION_ALIGN 8
#define KXSIG_ABI_MAGIC         "KXSIG\0v1" /* 8 bytes, the NUL included */
#define KXSIG_ABI_MAGIC_BYTES   8
#define KXSIG_ABI_SIG_ALG_ED25519   1
#define KXSIG_ABI_HASH_ALG_BLAKE2B  1 /* BLAKE2b, 32-byte output, no key */

/* Domain-separation prefixes (the bytes of the string including its NUL).
 * The Ed25519 message of a library signature is SIG_DOMAIN followed by the
 * section bytes from offset 0 up to `signature`.  Detached signatures
 * (compiled policies) sign DETACHED_DOMAIN followed by the message.  The
 * content digest starts with CONTENT_DOMAIN. */
#define KXSIG_ABI_SIG_DOMAIN      "KXSIG-ELF-SIGNATURE-V1"
#define KXSIG_ABI_DETACHED_DOMAIN "KXSIG-DETACHED-SIGNATURE-V1"
#define KXSIG_ABI_CONTENT_DOMAIN  "KXSIG-CONTENT-DIGEST-V1"

/* Region kinds: the parts of the file that the signature covers. */
enum kxsig_abi_region_kind {
	KXSIG_REGION_EHDR = 1,     /* the 64-byte ELF header; index 0 */
	KXSIG_REGION_PHDRS = 2,    /* the program header table; index 0 */
	KXSIG_REGION_LOAD = 3,     /* file bytes of a PT_LOAD; index = ordinal among PT_LOADs */
	KXSIG_REGION_SHDRS = 4,    /* the section header table; index 0 */
	KXSIG_REGION_SHSTRTAB = 5, /* the section-name string table; index = section index */
	KXSIG_REGION_SYMTAB = 6,   /* an SHT_SYMTAB section; index = section index */
	KXSIG_REGION_STRTAB = 7,   /* the string table a SYMTAB links to; index = section index */
	KXSIG_REGION_PTRMAP = 8,   /* the pointer map section (below); index = section index */
};

#define KXSIG_ABI_MAX_REGIONS 32
#define KXSIG_ABI_HASH_BYTES  32
#define KXSIG_ABI_NAME_FIELD     64  /* NUL-terminated, NUL-padded */
#define KXSIG_ABI_VERSION_FIELD  32
#define KXSIG_ABI_COMMENT_FIELD  256

struct kxsig_abi_region {
	uint16_t kind;     /* enum kxsig_abi_region_kind */
	uint16_t reserved; /* 0 */
	uint32_t index;
	uint64_t offset;   /* file offset of the region */
	uint64_t size;     /* bytes */
	uint8_t hash[KXSIG_ABI_HASH_BYTES]; /* BLAKE2b-256 of those bytes */
};

struct kxsig_abi_section {
	uint8_t magic[KXSIG_ABI_MAGIC_BYTES];
	uint16_t format_version; /* KXSIG_ABI_VERSION */
	uint16_t sig_alg;        /* KXSIG_ABI_SIG_ALG_ED25519 */
	uint16_t hash_alg;       /* KXSIG_ABI_HASH_ALG_BLAKE2B */
	uint16_t region_count;   /* 1..KXSIG_ABI_MAX_REGIONS; the rest are all-zero */
	uint32_t section_size;   /* sizeof(struct kxsig_abi_section) */
	uint32_t reserved;       /* 0 */
	uint8_t keyid[8];
	uint64_t timestamp;      /* seconds since the epoch */
	char name[KXSIG_ABI_NAME_FIELD];
	char version[KXSIG_ABI_VERSION_FIELD];
	char trusted_comment[KXSIG_ABI_COMMENT_FIELD];
	struct kxsig_abi_region regions[KXSIG_ABI_MAX_REGIONS];
	uint8_t signature[64];   /* Ed25519 over SIG_DOMAIN || bytes [0, 2184) */
};

_Static_assert(sizeof(struct kxsig_abi_region) == 56, "region size");
_Static_assert(offsetof(struct kxsig_abi_region, offset) == 8, "region.offset");
_Static_assert(offsetof(struct kxsig_abi_region, hash) == 24, "region.hash");
_Static_assert(offsetof(struct kxsig_abi_section, format_version) == 8, "format_version");
_Static_assert(offsetof(struct kxsig_abi_section, region_count) == 14, "region_count");
_Static_assert(offsetof(struct kxsig_abi_section, section_size) == 16, "section_size");
_Static_assert(offsetof(struct kxsig_abi_section, keyid) == 24, "keyid");
_Static_assert(offsetof(struct kxsig_abi_section, timestamp) == 32, "timestamp");
_Static_assert(offsetof(struct kxsig_abi_section, name) == 40, "name");
_Static_assert(offsetof(struct kxsig_abi_section, version) == 104, "version");
_Static_assert(offsetof(struct kxsig_abi_section, trusted_comment) == 136, "comment");
_Static_assert(offsetof(struct kxsig_abi_section, regions) == 392, "regions");
_Static_assert(offsetof(struct kxsig_abi_section, signature) == 2184, "signature");
_Static_assert(sizeof(struct kxsig_abi_section) == 2248, "section size");

/* The pointer map (region KXSIG_REGION_PTRMAP) has its own format, shared
 * by the signer that writes it and the loader that reads it:
 * common/kxptrmap.h. */

/* ---- key files ---------------------------------------------------------
 * Both key files are text: a line "untrusted comment: <text>", then one line
 * of standard base64 (with padding) of the struct below, then a newline.
 * The key id is BLAKE2b with an 8-byte output (not a truncation of a longer
 * BLAKE2b) of the 32-byte public key. */

#define KXSIG_ABI_COMMENT_PREFIX "untrusted comment: "
#define KXSIG_ABI_KEY_ALG "Ed" /* 2 bytes, no NUL */

struct kxsig_abi_pubkey {
	uint8_t alg[2];   /* "Ed" */
	uint8_t keyid[8];
	uint8_t pk[32];
};
_Static_assert(sizeof(struct kxsig_abi_pubkey) == 42, "pubkey size");

#define KXSIG_ABI_KDF_NONE     "NO" /* unencrypted (kxsign keygen --no-passphrase) */
#define KXSIG_ABI_KDF_ARGON2ID "A2" /* crypto_pwhash Argon2id v1.3 + crypto_secretbox */
#define KXSIG_ABI_SALT_BYTES   16
#define KXSIG_ABI_NONCE_BYTES  24
#define KXSIG_ABI_MAC_BYTES    16
#define KXSIG_ABI_SK_BYTES     64 /* libsodium's Ed25519 secret key: seed || pk */

/* The secret part: keyid again (bound under the MAC) and the secret key. */
struct kxsig_abi_seckey_secret {
	uint8_t keyid[8];
	uint8_t sk[KXSIG_ABI_SK_BYTES];
};

struct kxsig_abi_seckey {
	uint8_t alg[2];   /* "Ed" */
	uint8_t kdf[2];   /* KXSIG_ABI_KDF_* */
	uint8_t keyid[8];
	uint8_t salt[KXSIG_ABI_SALT_BYTES]; /* all zero when unencrypted */
	uint8_t reserved[4];                /* 0 */
	uint64_t opslimit;                  /* 0 when unencrypted */
	uint64_t memlimit;                  /* bytes; 0 when unencrypted */
	uint8_t nonce[KXSIG_ABI_NONCE_BYTES];
	uint8_t mac[KXSIG_ABI_MAC_BYTES];   /* secretbox MAC, zero when unencrypted */
	uint8_t secret[sizeof(struct kxsig_abi_seckey_secret)]; /* encrypted or plain */
};
_Static_assert(sizeof(struct kxsig_abi_seckey_secret) == 72, "secret size");
_Static_assert(offsetof(struct kxsig_abi_seckey, reserved) == 28, "reserved");
_Static_assert(offsetof(struct kxsig_abi_seckey, opslimit) == 32, "opslimit");
_Static_assert(offsetof(struct kxsig_abi_seckey, mac) == 72, "mac");
_Static_assert(sizeof(struct kxsig_abi_seckey) == 160, "seckey size");

#endif /* KX_SIGNER_KXSIG_ABI_H */
