/*
 * kxp_abi.h — the on-disk layout of a compiled kx policy (.kxp), format 2.
 *
 * Self-contained (C99 headers only): the writer (kxpolicy compile), the
 * table reader the manager links, and any independent tool share exactly
 * this header.  docs/policy-format.md explains every field.
 *
 * All integers are little-endian.  A file is:
 *
 *   header      struct kxp_abi_header (192 bytes), not covered by the body
 *               digest; its first KXP_SIGNED_BYTES bytes are what the
 *               optional admin signature covers, and they include the
 *               body digest
 *   body        everything after the header, BLAKE2b-256 in the header:
 *     directory KXP_TABLE_COUNT x struct kxp_abi_table_desc, in enum order
 *     tables    in enum order, each starting at the next multiple of 8
 *               after the previous one; padding bytes are zero; the file
 *               ends at the 8-aligned end of the last table
 *
 * Strings are offsets into the STRINGS table (a pool of NUL-terminated
 * UTF-8 strings that starts with an empty string at offset 0).  Entries
 * refer to each other by index; per-app entries are contiguous runs
 * described by a struct kxp_abi_range, and the runs of consecutive apps
 * follow each other without gaps (so they partition the table).  Every
 * reserved byte is zero; every list is sorted as its comment says, so the
 * same policy always gives the same bytes.
 */
#ifndef KX_POLICY_KXP_ABI_H
#define KX_POLICY_KXP_ABI_H

#include <stddef.h>
#include <stdint.h>

#define KXP_MAGIC "KXPOLICY" /* 8 bytes, no NUL stored */
#define KXP_MAGIC_BYTES 8
#define KXP_FORMAT_VERSION 2u

#define KXP_FLAG_SIGNED 0x1u /* admin_keyid and signature are set */
#define KXP_FLAGS_KNOWN KXP_FLAG_SIGNED

/* The admin signature covers header bytes [0, KXP_SIGNED_BYTES): magic,
 * format version, flags (with KXP_FLAG_SIGNED), sizes, the body digest and
 * the admin key id.  It is a kxsig detached signature of those bytes (Ed25519
 * over a domain-separated message, docs/signature-format.md section 7). */
#define KXP_SIGNED_BYTES 128u
#define KXP_ABI_KEYID_BYTES 8
#define KXP_ABI_DIGEST_BYTES 32
#define KXP_ABI_PUBKEY_BYTES 32
#define KXP_ABI_SIG_BYTES 64

/* Limits a reader enforces (and the writer respects). */
#define KXP_FILE_MAX (64u << 20) /* bytes */
#define KXP_APPS_MAX 4096u       /* the IpC matrix is napps^2 bytes */
#define KXP_TABLE_ALIGN 8u

struct kxp_abi_header {
	uint8_t magic[KXP_MAGIC_BYTES];
	uint32_t format_version;
	uint32_t flags;
	uint32_t header_size; /* sizeof(struct kxp_abi_header) */
	uint32_t table_count; /* KXP_TABLE_COUNT */
	uint64_t body_size;   /* file size - header_size */
	uint8_t body_digest[KXP_ABI_DIGEST_BYTES]; /* BLAKE2b-256, unkeyed */
	uint8_t admin_keyid[KXP_ABI_KEYID_BYTES];  /* zero when unsigned */
	uint8_t reserved[56];
	uint8_t signature[KXP_ABI_SIG_BYTES]; /* zero when unsigned */
};

enum kxp_abi_table {
	KXP_T_STRINGS,         /* char, count = pool size in bytes */
	KXP_T_PROV,            /* struct kxp_abi_prov */
	KXP_T_APPS,            /* struct kxp_abi_app, sorted by name (strcmp) */
	KXP_T_KEYS,            /* struct kxp_abi_key, per app, sorted by name */
	KXP_T_LIBS,            /* struct kxp_abi_lib, per app, sorted by name */
	KXP_T_LIB_SIGNERS,     /* uint32_t index into KEYS (the lib's app), per lib, ascending */
	KXP_T_INTERVALS,       /* struct kxp_abi_interval, per lib, ascending, disjoint */
	KXP_T_FORK,            /* struct kxp_abi_fork, one per app, app order */
	KXP_T_RECYCLE,         /* struct kxp_abi_recycle, one per app, app order */
	KXP_T_TRUST,           /* struct kxp_abi_trust, per app, ascending peer index */
	KXP_T_IPC,             /* uint8_t kinds, napps x napps, row = app, column = peer */
	KXP_T_REVOKED_KEYS,    /* struct kxp_abi_revoked_key, per app, ascending key id */
	KXP_T_REVOKED_DIGESTS, /* struct kxp_abi_revoked_digest, per app, ascending digest */
	KXP_T_META,            /* struct kxp_abi_meta, exactly one */
	KXP_T_RESOURCES,       /* struct kxp_abi_resources, one per app, app order */
	KXP_T_FILES,           /* struct kxp_abi_file, per app, sorted by guest path (strcmp) */
	KXP_T_IFACES,          /* struct kxp_abi_iface, per app, sorted by name */
	KXP_T_LISTEN,          /* struct kxp_abi_listen, per iface, ascending (proto, port) */
	KXP_T_PEERS,           /* struct kxp_abi_peer, per iface, ascending (proto, addr, ...) */
	KXP_TABLE_COUNT
};

struct kxp_abi_table_desc {
	uint64_t offset;     /* from the start of the file */
	uint32_t count;      /* entries */
	uint32_t entry_size; /* bytes per entry, exactly the size below */
};

/* A run of entries in another table. */
struct kxp_abi_range {
	uint32_t first;
	uint32_t count;
};

/* Where an entry came from: manifest path (string), 1-based line and column. */
struct kxp_abi_prov {
	uint32_t file;
	uint32_t line;
	uint32_t col;
	uint32_t reserved;
};

/* IpC kinds (bits), shared by apps.ipc_kinds, trust.kinds and the matrix. */
#define KXP_ABI_IPC_PIPE 0x1u
#define KXP_ABI_IPC_SIGNAL 0x2u
#define KXP_ABI_IPC_MSGQ 0x4u
#define KXP_ABI_IPC_SHM 0x8u
#define KXP_ABI_IPC_ALL 0xfu

struct kxp_abi_app {
	uint32_t name;  /* string, non-empty, unique */
	uint32_t image; /* string */
	uint64_t memory; /* bytes */
	struct kxp_abi_range keys;            /* KEYS */
	struct kxp_abi_range libs;            /* LIBS */
	struct kxp_abi_range trust;           /* TRUST */
	struct kxp_abi_range revoked_keys;    /* REVOKED_KEYS */
	struct kxp_abi_range revoked_digests; /* REVOKED_DIGESTS */
	struct kxp_abi_range files;           /* FILES */
	struct kxp_abi_range ifaces;          /* IFACES */
	uint32_t ipc_kinds; /* kinds allowed inside the app's families */
	uint32_t prov;      /* the manifest */
	uint32_t ipc_prov;  /* family.ipc */
	uint16_t ipc_objects; /* IpC objects its pVMs may have in the manager at once,
			       * 1..KXP_ABI_IPC_OBJECTS_MAX; 0: the default (64) */
	uint8_t ipc_flags;    /* KXP_ABI_IPC_PERSIST */
	uint8_t reserved;
};
#define KXP_ABI_IPC_OBJECTS_MAX 256u
#define KXP_ABI_IPC_OBJECTS_DEFAULT 64u
/* Keyed objects its pVMs made outlive its last running pVM (else the
 * manager removes them then). */
#define KXP_ABI_IPC_PERSIST 0x1u

/* A trusted key, valid from `from` (inclusive) until `until` (exclusive),
 * seconds since the epoch (UTC); 0 leaves that end open.  When both are set,
 * from < until. */
struct kxp_abi_key {
	uint32_t name; /* string, non-empty, unique within the app */
	uint32_t path; /* string: the key file as the manifest names it */
	uint8_t keyid[KXP_ABI_KEYID_BYTES];
	uint8_t pk[KXP_ABI_PUBKEY_BYTES]; /* Ed25519 */
	uint32_t prov;
	uint32_t reserved;
	int64_t from;
	int64_t until;
};

/* Loader classes, ordered: a request whose relation is <= the class passes. */
#define KXP_ABI_LOADER_SELF 0u
#define KXP_ABI_LOADER_APP 1u
#define KXP_ABI_LOADER_ANY 2u
#define KXP_ABI_BIND_LAZY 0u
#define KXP_ABI_BIND_NOW 1u

struct kxp_abi_lib {
	uint32_t name;         /* string, non-empty, unique within the app */
	uint32_t version_text; /* string: the constraint as written */
	struct kxp_abi_range signers;   /* LIB_SIGNERS, count >= 1 */
	struct kxp_abi_range intervals; /* INTERVALS, count >= 1 */
	uint8_t loader;          /* KXP_ABI_LOADER_* */
	uint8_t update;          /* 0 deny, 1 allow */
	uint8_t allow_downgrade; /* 0: anti-rollback on */
	uint8_t bind;            /* KXP_ABI_BIND_* */
	uint32_t prov;
};

/* A dotted version: parts beyond nparts are zero; missing parts compare
 * as zero.  An unbounded end has nparts 0, all parts zero, not inclusive. */
#define KXP_ABI_VERSION_PARTS 4
#define KXP_ABI_BOUND_INCLUSIVE 0x1u
#define KXP_ABI_BOUND_UNBOUNDED 0x2u
struct kxp_abi_version {
	uint32_t part[KXP_ABI_VERSION_PARTS];
	uint8_t nparts; /* 1..4, or 0 when unbounded */
	uint8_t flags;  /* KXP_ABI_BOUND_* */
	uint8_t reserved[2];
};

/* A non-empty interval lo..hi.  The intervals of one library are ascending,
 * disjoint and not adjacent (they could not be merged into fewer). */
struct kxp_abi_interval {
	struct kxp_abi_version lo;
	struct kxp_abi_version hi;
};

/* Fork limits, checked as "after the fork every count is within its limit". */
struct kxp_abi_fork {
	uint32_t max_children; /* per pVM */
	uint32_t max_depth;    /* root is depth 0 */
	uint32_t max_members;  /* per family, root included */
	uint32_t prov;
};

struct kxp_abi_recycle {
	uint8_t allow; /* 0 or 1 */
	uint8_t reserved[3];
	uint32_t pool; /* empty pVMs kept ready */
	uint32_t prov;
	uint32_t reserved2;
};

/* A cross-family trust rule of one app with a peer; the matrix holds the
 * same kinds at [app][peer] and [peer][app] (trust is mutual). */
struct kxp_abi_trust {
	uint32_t peer;  /* index into APPS */
	uint32_t kinds; /* non-zero subset of KXP_ABI_IPC_ALL */
	uint32_t prov;
	uint32_t reserved;
};

struct kxp_abi_revoked_key {
	uint8_t keyid[KXP_ABI_KEYID_BYTES];
	uint32_t prov;
	uint32_t reserved;
};

struct kxp_abi_revoked_digest {
	uint8_t digest[KXP_ABI_DIGEST_BYTES];
	uint32_t prov;
	uint32_t reserved;
};

/* The policy as a whole.  In the body, so the body digest (and through it
 * the admin signature) covers it. */
struct kxp_abi_meta {
	uint64_t serial; /* a manager refuses a policy with a lower serial than it loaded */
	uint64_t reserved;
};

/* cgroup limits of an app's monitors; 0: not given (the manager's default). */
struct kxp_abi_resources {
	uint32_t cpu_milli; /* CPU time, in thousandths of one CPU */
	uint32_t pids;      /* processes and threads */
	uint32_t prov;      /* `resources`, or the manifest when absent */
	/* The rate limit of the refusals kxd records for each pVM of the app
	 * (`audit: {rate, burst}`): audit_rate a second, at most audit_burst
	 * at once, each 1..KXP_ABI_AUDIT_RATE_MAX; both 0: not given (the
	 * manager's default).  Were the reserved field (always 0): a policy
	 * without the key is byte-for-byte what it was. */
	uint16_t audit_rate;
	uint16_t audit_burst;
};
#define KXP_ABI_AUDIT_RATE_MAX 65535u

/* A file tree a pVM of the app may mount at `guest`: a host directory, or the
 * read-only tree packed into the signed image.  Paths are absolute and
 * normalised (no empty, "." or ".." component, no trailing '/'); the guest
 * paths of one app never nest. */
#define KXP_ABI_FILE_HOST 0u
#define KXP_ABI_FILE_IMAGE 1u
#define KXP_ABI_MODE_RO 0u
#define KXP_ABI_MODE_RW 1u
struct kxp_abi_file {
	uint32_t guest; /* string */
	uint32_t host;  /* string; "" for an image tree */
	uint64_t max;   /* bytes a writable mount may hold; 0 when read-only */
	uint8_t kind;   /* KXP_ABI_FILE_* */
	uint8_t mode;   /* KXP_ABI_MODE_*; an image tree is read-only */
	uint8_t reserved[2];
	uint32_t prov;
};

/* A network interface of the app's pVMs and what may pass through it.
 * IPv4 addresses are numbers: 10.0.0.2 is 0x0a000002. */
#define KXP_ABI_PROTO_TCP 6u  /* IANA protocol numbers */
#define KXP_ABI_PROTO_UDP 17u
struct kxp_abi_iface {
	uint32_t name;    /* string: 1..15 bytes of [a-z0-9], starting with a letter */
	uint32_t addr;    /* the pVM's address: not the network's first or last address */
	uint32_t gateway; /* inside the subnet; 0: none */
	uint8_t prefix;   /* 1..32 */
	uint8_t reserved[3];
	struct kxp_abi_range listen; /* LISTEN */
	struct kxp_abi_range peers;  /* PEERS */
	uint32_t prov;
	uint32_t reserved2;
};

/* A port the pVM may accept connections (TCP) or datagrams (UDP) on. */
struct kxp_abi_listen {
	uint16_t port; /* 1..65535 */
	uint8_t proto; /* KXP_ABI_PROTO_* */
	uint8_t reserved;
	uint32_t prov;
};

/* Peers the pVM may connect (TCP) or send (UDP) to: addr/prefix, port (0:
 * any).  The address has no bits set beyond its prefix. */
struct kxp_abi_peer {
	uint32_t addr;
	uint8_t prefix; /* 0..32 */
	uint8_t proto;  /* KXP_ABI_PROTO_* */
	uint16_t port;
	uint32_t prov;
	uint32_t reserved;
};

/* Pin the layout: no implicit padding anywhere, sizes as documented. */
_Static_assert(sizeof(struct kxp_abi_header) == 192, "kxp header size");
_Static_assert(offsetof(struct kxp_abi_header, body_size) == 24, "kxp header layout");
_Static_assert(offsetof(struct kxp_abi_header, body_digest) == 32, "kxp header layout");
_Static_assert(offsetof(struct kxp_abi_header, admin_keyid) == 64, "kxp header layout");
_Static_assert(offsetof(struct kxp_abi_header, signature) == KXP_SIGNED_BYTES,
	       "the signature follows the signed bytes");
_Static_assert(sizeof(struct kxp_abi_table_desc) == 16, "kxp directory entry size");
_Static_assert(sizeof(struct kxp_abi_prov) == 16, "kxp prov size");
_Static_assert(sizeof(struct kxp_abi_app) == 88, "kxp app size");
_Static_assert(offsetof(struct kxp_abi_app, ipc_kinds) == 72, "kxp app layout");
_Static_assert(offsetof(struct kxp_abi_app, ipc_objects) == 84, "kxp app layout");
_Static_assert(sizeof(struct kxp_abi_key) == 72, "kxp key size");
_Static_assert(offsetof(struct kxp_abi_key, from) == 56, "kxp key layout");
_Static_assert(sizeof(struct kxp_abi_lib) == 32, "kxp lib size");
_Static_assert(sizeof(struct kxp_abi_version) == 20, "kxp version size");
_Static_assert(sizeof(struct kxp_abi_interval) == 40, "kxp interval size");
_Static_assert(sizeof(struct kxp_abi_fork) == 16, "kxp fork size");
_Static_assert(sizeof(struct kxp_abi_recycle) == 16, "kxp recycle size");
_Static_assert(sizeof(struct kxp_abi_trust) == 16, "kxp trust size");
_Static_assert(sizeof(struct kxp_abi_revoked_key) == 16, "kxp revoked key size");
_Static_assert(sizeof(struct kxp_abi_revoked_digest) == 40, "kxp revoked digest size");
_Static_assert(sizeof(struct kxp_abi_meta) == 16, "kxp meta size");
_Static_assert(sizeof(struct kxp_abi_resources) == 16, "kxp resources size");
_Static_assert(sizeof(struct kxp_abi_file) == 24, "kxp file size");
_Static_assert(offsetof(struct kxp_abi_file, max) == 8, "kxp file layout");
_Static_assert(sizeof(struct kxp_abi_iface) == 40, "kxp iface size");
_Static_assert(offsetof(struct kxp_abi_iface, listen) == 16, "kxp iface layout");
_Static_assert(sizeof(struct kxp_abi_listen) == 8, "kxp listen size");
_Static_assert(sizeof(struct kxp_abi_peer) == 16, "kxp peer size");
_Static_assert(sizeof(struct kxp_abi_header) % KXP_TABLE_ALIGN == 0, "tables stay aligned");

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "kxp_abi.h: the .kxp format is little-endian; this host is not"
#endif

#endif /* KX_POLICY_KXP_ABI_H */
