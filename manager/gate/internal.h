/*
 * Internals of manager/gate/, shared by its files only:
 *   gate.c         the entry points: subjects, names, kxp_request, kxp_decide
 *   sigcheck.c     signature verification and its cache
 *   audit_write.c  one JSON line per decision, chained, whole or not at all;
 *                  the open record, seals, rotation
 *   audit_sync.c   whole records or nothing, allocated ahead; when they become
 *                  durable: group commit, always, interval
 *   audit_event.c  records without a policy decision: unresolved links,
 *                  suppressed requests
 *   json.c         a bounded JSON reader (and the UTF-8 decoder both sides use)
 *   audit_read.c   audit-log lines -> records (kxctl audit)
 *   audit_verify.c the chain and its seals checked (kxctl audit verify)
 *   audit_format.c the human view of a record
 */
#ifndef KX_MANAGER_GATE_INTERNAL_H
#define KX_MANAGER_GATE_INTERNAL_H

#include <pthread.h>

#include "manager/gate/gate.h"

/* ---- the signature cache (sigcheck.c) ------------------------------------ */

/* One verified file: keyed by the BLAKE2b-256 of all its bytes, valid for a
 * request whose trusted keys include the key (id and public key) that
 * verified it.  last_use 0 marks a free slot. */
struct gate_cache_entry {
	uint8_t file_hash[KXSIG_DIGEST_BYTES];
	uint8_t keyid[KXSIG_KEYID_BYTES];
	uint8_t pk[KXSIG_PUBKEY_BYTES];
	struct kxsig_meta meta;
	uint64_t last_use;
};

/* The write buffer: a decision's record, with room before it for the record
 * of decisions denied unlogged. */
#define GATE_LINE_BUF (2 * GATE_AUDIT_LINE_MAX)
#define GATE_PREALLOC ((off_t)256 << 10) /* the log is allocated ahead in these steps */

/* What the file holds up to its last durable byte (group commit rewinds
 * to it when a flush fails). */
struct gate_durable {
	off_t size;
	uint64_t seq, unsealed;
	uint8_t chain[GATE_AUDIT_HASH_BYTES];
};

struct gate {
	const struct kxp_policy *policy;
	pthread_mutex_t lock; /* cache, stats, seq, line, the log */
	int log_fd;
	char *log_path;
	bool log_sync;        /* fdatasync after each record */
	bool log_regular;     /* a regular file: a failed write can be cut back */
	bool log_dirty;       /* a failed write is not cut back yet: write nothing more */
	off_t log_size;       /* bytes of whole records in the file */
	off_t prealloc_end;   /* allocated ahead up to here (FALLOC_FL_KEEP_SIZE) */
	bool prealloc_off;    /* the file system cannot, or GATE_OPT_NO_PREALLOC */
	unsigned flags;       /* GATE_OPT_* */
	int (*clock)(struct timespec *now);
	char backend[GATE_BACKEND_MAX]; /* "" when the records name none */
	uint64_t seq;         /* of the last record in the log */
	uint8_t chain[GATE_AUDIT_HASH_BYTES]; /* hash of the last record in the log */
	uint64_t unsealed;    /* records since the last seal */
	uint64_t unlogged;    /* decisions denied unlogged, not yet reported in the log */
	uint64_t denials;     /* DENY decisions, recorded or not */
	int unlogged_errno;   /* why the last of them was */
	const struct kxsig_seckey *seal_key;
	/* durability (GATE_SYNC_*) */
	enum gate_sync_mode sync_mode;
	unsigned sync_ms;           /* interval */
	struct gate_durable durable;
	bool syncing;               /* a flush runs outside the lock */
	int flush_errno;            /* of the last flush, 0 when it worked */
	uint64_t epoch;             /* moves on when records not yet durable are cut off */
	uint64_t flushes;           /* fdatasync() calls on the log */
	/* gate_audit_hold(): group mode answers before the flush; the
	 * caller commits (one flush for every decision since) */
	bool held;
	uint64_t held_decisions;    /* written while held, not yet durable */
	uint64_t held_reported;     /* unlogged counts their "unlogged" records reported */
	pthread_cond_t synced;      /* a flush ended */
	pthread_cond_t flusher_wake;
	pthread_t flusher;
	bool flusher_running, flusher_stop;
	char *line;           /* GATE_LINE_BUF: the records being written */
	struct gate_cache_entry *cache;
	size_t cache_cap;
	uint64_t tick;        /* LRU clock */
	struct gate_cache_stats stats;
};

/* The outcome of checking an object file's signature. */
struct gate_sig_check {
	enum gate_sig_status status;
	char msg[KX_ERR_MAX]; /* why, when not GATE_SIG_OK */
	bool cached;
	bool proven;             /* status OK: meta is proven */
	struct kxsig_meta meta;
	bool claimed;            /* not verified, but the section parses: claim */
	struct kxsig_meta claim; /* unverified; only ever used to explain a DENY */
	bool has_digest;         /* content digest of the bytes (a fact, not a claim) */
	uint8_t digest[KXSIG_DIGEST_BYTES];
};

/* Verify bytes against keys (nkeys 0: GATE_SIG_NO_KEYS), through the cache.
 * Returns 0 (look at out->status) or -ENOMEM. */
int gate_sig_check(struct gate *g, const void *bytes, size_t len, const struct kxsig_pubkey *keys,
		   size_t nkeys, struct gate_sig_check *out);

/* ---- one request in flight (gate.c fills it, audit_write.c records it) --- */

struct gate_req {
	enum kxp_op op;
	const struct gate_subject *subject; /* who asks (fork: the parent; ipc: end a) */
	const struct gate_subject *target;  /* the pVM acted on (ipc: end b); may be NULL */
	const char *app;                    /* the object's app (boot, recycle: the one loaded) */
	const char *requested;              /* link, update: the name as asked */
	const char *lib;                    /* link, update: the library name, when valid */
	const struct kxsig_meta *old;       /* update: the running copy */
	bool has_sig;
	struct gate_sig_check sig;
	bool has_relation;
	enum kxp_relation relation;
	uint32_t ipc_kind;
	bool same_family;
	struct gate_family_counts counts;
	const char *guest, *host;           /* file: host NULL for the image's tree */
	bool writable;
	const char *iface;                  /* net */
};

/* Open (create) the log for appending; see gate_open().  0 or -errno. */
int gate_audit_open(struct gate *g, const char *path, const struct gate_opts *opts,
		    struct kx_error *err);

/* Append a record of the log itself (op "audit": event, subject, count,
 * reason) and make it durable.  0 or -errno. */
int gate_audit_event(struct gate *g, const char *event, const struct gate_subject *subject,
		     uint64_t count, const char *reason);

/* Stop the interval flusher, flush, close the log (gate_close). */
void gate_audit_close(struct gate *g);

/* Durability (audit_sync.c), with the lock held: everything in the file is
 * durable now; wait until it is durable up to `end` (group commit: 0, or
 * -errno when the flush failed and the record was cut off); start the
 * interval flusher. */
void gate_mark_durable(struct gate *g);
int gate_group_sync(struct gate *g, off_t end, uint64_t epoch);
int gate_flusher_start(struct gate *g, struct kx_error *err);
/* Cut the file back to its whole records (log_size), after a failure. */
int gate_log_cut_back(struct gate *g);
/* Append buf (whole records) where the file ends and, with sync_now, make
 * it durable; on failure nothing of it stays.  0 or -errno. */
int gate_log_commit(struct gate *g, const char *buf, size_t len, bool sync_now);

/* Append r's record with decision d and make it durable; sets d->seq.  On
 * failure nothing stays in the log, d becomes a DENY at GATE_STAGE_AUDIT
 * (d->seq 0), the decision is counted unlogged, and -errno is returned. */
int gate_audit_append(struct gate *g, const struct gate_req *r, struct gate_decision *d);

/* Parse one line (untrusted, without its newline) into rec; false with why.
 * doc->scratch must hold len + 1 bytes.  rec's strings point into doc. */
struct json_doc;
bool gate_audit_parse_line(struct json_doc *doc, const char *line, size_t len,
			   struct gate_audit_record *rec, char *why, size_t why_size);

/* The hash of a record's line (without its newline): the next one's "prev". */
void gate_audit_hash(const void *line, size_t len, uint8_t out[GATE_AUDIT_HASH_BYTES]);

/* The signed message of a seal line: the line up to its "sig" member, which
 * must end it as ,"sig":"<128 hex digits>"}.  Its length, or 0 when the line
 * does not end so (then *sig is untouched). */
#define GATE_SEAL_SIG_MEMBER ",\"sig\":\""
size_t gate_seal_message(const char *line, size_t len, uint8_t sig[KXSIG_SIG_BYTES]);

/* ---- UTF-8 and JSON (json.c) ----------------------------------------------- */

/* Length (1..4) of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlong forms, surrogates or code points above U+10FFFF) and its code
 * point; 0 when the bytes there are not one. */
size_t gate_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Code points shown escaped (JSON \u, human view \x / \u{}) rather than
 * raw: C0 and C1 controls, DEL, line/paragraph separators and the bidi
 * controls that reorder terminal text. */
bool gate_cp_is_unsafe(uint32_t cp);

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_OBJECT, JSON_ARRAY };

struct json_node {
	enum json_type type;
	uint32_t child;  /* first member or element (0: none; node 0 is the root) */
	uint32_t next;   /* next sibling (0: none) */
	const char *key; /* member name, decoded; NULL for elements and the root */
	const char *str; /* JSON_STRING, decoded, NUL-terminated, no NUL inside */
	uint64_t num;    /* JSON_NUMBER: only integers 0..UINT64_MAX are accepted */
	bool boolean;
};

#define JSON_MAX_NODES 512
#define JSON_MAX_DEPTH 16

struct json_doc {
	struct json_node node[JSON_MAX_NODES];
	uint32_t count;
	char *scratch; /* decoded strings; at least len + 1 bytes for a len-byte text */
	size_t scratch_size, scratch_used;
	char error[128];
};

/* Parse one JSON text (untrusted: buf, len) into doc; node 0 is its value.
 * Duplicate member names are refused.  Returns 0 or -EBADMSG (doc->error
 * says why and where). */
int json_parse(struct json_doc *doc, const char *buf, size_t len);
/* Member `key` of object node obj, or NULL. */
const struct json_node *json_member(const struct json_doc *doc, const struct json_node *obj,
				    const char *key);

#endif /* KX_MANAGER_GATE_INTERNAL_H */
