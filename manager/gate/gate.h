/*
 * gate.h — the gate: the one place where kx's host side asks the compiled
 * policy before a boot, link, update, fork, IpC channel, recycle, mount of a
 * file tree or attach of a network interface, and the audit log that
 * records every one of those decisions.
 *
 * The gate decides nothing itself.  Each entry point turns a request into a
 * struct kxp_request and calls kxp_decide() (policy-lang/kxpolicy.h), the
 * same function `kxpolicy explain` uses.  What the gate adds is what a table
 * lookup cannot know:
 *   - the subject: who asks is established by the caller (kxd, from the
 *     connection), never taken from a guest's message;
 *   - the object's identity: for boot, link, update and recycle the gate
 *     verifies the file's embedded signature (kxsig_verify) against exactly
 *     the keys the policy names for it, and takes the name, version, signer
 *     and content digest from the verified metadata only;
 *   - the audit record: one JSON line per decision, appended whole or not
 *     at all and made durable (group commit by default) before the decision
 *     is returned, chained to the line before it and sealed with kxd's key
 *     (gate_seal).  When the record cannot be written the request is
 *     denied, the file is cut back, and the loss is counted in the log.
 * docs/audit-log.md documents the record format and the guarantees.
 *
 * Library code: functions print nothing; they return 0 or -errno and fill
 * a struct kx_error or struct gate_decision with a one-line reason.
 * A gate may be shared by threads: requests are serialised where they touch
 * the signature cache and the log.
 */
#ifndef KX_MANAGER_GATE_GATE_H
#define KX_MANAGER_GATE_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/kxerr.h"
#include "policy-lang/kxpolicy.h"
#include "signer/kxsig.h"

#define GATE_REASON_MAX 640        /* a policy reason plus a signature reason */
#define GATE_CACHE_DEFAULT 256     /* signature cache entries */
#define GATE_CACHE_MAX 65536
#define GATE_AUDIT_LINE_MAX 65536  /* one record, newline included */
#define GATE_AUDIT_FIELD_MAX 1024  /* bytes of one string kept in a record */
#define GATE_AUDIT_FORMAT 2        /* the "v" of every record written (1: before the chain) */
#define GATE_AUDIT_HASH_BYTES 32   /* BLAKE2b-256 of a record's line: the next one's "prev" */

struct gate; /* opaque */

/* ---- opening --------------------------------------------------------------- */

/* Skip fdatasync() after each record.  For benchmarks only: a decision may
 * then be acted on although its record is lost in a crash. */
#define GATE_OPT_NO_SYNC 1u
/* Do not allocate the log ahead (fallocate FALLOC_FL_KEEP_SIZE), for
 * benchmarks that measure what it saves. */
#define GATE_OPT_NO_PREALLOC 2u

/* When a record is made durable (docs/audit-log.md section 3):
 *   GATE_SYNC_GROUP     before its decision is returned, one fdatasync()
 *                       shared by the decisions written meanwhile (default)
 *   GATE_SYNC_ALWAYS    before its decision is returned, one fdatasync() each
 *   GATE_SYNC_INTERVAL  within sync_interval_ms after it was written, by a
 *                       thread of the gate: the decision may be acted on
 *                       before its record is durable (auditd's default) */
enum gate_sync_mode { GATE_SYNC_GROUP, GATE_SYNC_ALWAYS, GATE_SYNC_INTERVAL };
#define GATE_SYNC_INTERVAL_MAX_MS 60000

struct gate_opts {
	unsigned flags;        /* GATE_OPT_* */
	enum gate_sync_mode sync;
	unsigned sync_interval_ms; /* GATE_SYNC_INTERVAL: 1..GATE_SYNC_INTERVAL_MAX_MS */
	size_t cache_entries;  /* 0: GATE_CACHE_DEFAULT; at most GATE_CACHE_MAX */
	/* The clock of the records' "time" and of the keys' validity (a key
	 * trusted `until` a date is refused from then on); NULL:
	 * CLOCK_REALTIME.  Test-only: tests use it to make records reproducible
	 * and to move past a key's dates; kxd never sets it. */
	int (*clock)(struct timespec *now);
	/* kxd's own key: gate_seal() signs the chain with it (borrowed: it must
	 * outlive the gate).  NULL: the log is hash-chained but never sealed. */
	const struct kxsig_seckey *seal_key;
	/* The hypervisor backend the pVMs of this gate run on ("kvm", "xen":
	 * 1..GATE_BACKEND_MAX - 1 bytes of [a-z0-9]), named in every record;
	 * NULL: records name none. */
	const char *backend;
};
#define GATE_BACKEND_MAX 16

/* Open a gate over an open policy (borrowed: it must outlive the gate) and
 * an audit log, created (mode 0640) if missing and always appended to.
 * opts may be NULL.  A log whose last line was torn by a crash gets a
 * newline first, so the torn line stands alone (and reads as corrupt).
 * Returns 0, -ENOMEM, -EINVAL, or -errno of opening the log. */
int gate_open(const struct kxp_policy *policy, const char *log_path,
	      const struct gate_opts *opts, struct gate **out, struct kx_error *err);
void gate_close(struct gate *gate); /* NULL is fine */
/* "always", "group" or "interval=MS" into opts->sync (and the interval);
 * 0 or -EINVAL.  For --audit-sync. */
int gate_sync_parse(const char *s, struct gate_opts *opts);

/* Decide every later request by policy (borrowed, as for gate_open); the
 * caller closes the old one once no request in flight can still use it
 * (kxd, one thread: at once).  The signature cache stays valid: an entry
 * is reused only for a key the request's policy trusts. */
void gate_set_policy(struct gate *gate, const struct kxp_policy *policy);

/* ---- subjects ---------------------------------------------------------------- */

enum gate_subject_kind {
	GATE_SUBJECT_PVM = 1,      /* a pVM, identified by kxd from its connection */
	GATE_SUBJECT_OPERATOR = 2, /* an operator (kxctl), by the peer's uid */
};

/* Who asks, or the pVM acted upon.  Always filled by the caller from what it
 * knows about the connection and its own registry. */
struct gate_subject {
	enum gate_subject_kind kind;
	uint64_t pvm_id;    /* pVM: kxd's id */
	const char *app;    /* pVM: the app it runs; NULL for an empty pVM */
	uint64_t family_id; /* pVM: its family (the id of the family's root) */
	uint32_t depth;     /* pVM: generations below the family's root (root: 0) */
	uint32_t uid;       /* operator: uid of the peer */
};

/* ---- decisions ---------------------------------------------------------------- */

/* Which step decided. */
enum gate_stage {
	GATE_STAGE_REQUEST,   /* malformed request (subjects, names); always DENY */
	GATE_STAGE_SIGNATURE, /* the file's signature did not verify; always DENY */
	GATE_STAGE_METADATA,  /* verified, but the signed name or version does not fit */
	GATE_STAGE_POLICY,    /* kxp_decide() decided (ALLOW or DENY) */
	GATE_STAGE_AUDIT,     /* the record could not be made durable; always DENY */
};

/* The object file's signature, for boot, link, update and recycle. */
enum gate_sig_status {
	GATE_SIG_NONE,      /* the op carries no file (fork, ipc) or it was not checked */
	GATE_SIG_OK,        /* verified against the policy's keys */
	GATE_SIG_UNSIGNED,  /* no signature section */
	GATE_SIG_WRONG_KEY, /* signed by a key the policy does not accept here */
	GATE_SIG_TAMPERED,  /* a covered region changed after signing */
	GATE_SIG_BAD,       /* the Ed25519 signature does not verify */
	GATE_SIG_MALFORMED, /* not a valid ELF, or a malformed signature section */
	GATE_SIG_NO_KEYS,   /* the policy names no key for it (unknown app or library) */
};
const char *gate_sig_status_name(enum gate_sig_status status); /* "ok", "wrong-key" ... */
const char *gate_stage_name(enum gate_stage stage);            /* "policy" ... */

struct gate_decision {
	enum kxp_verdict verdict;
	enum gate_stage stage;
	char reason[GATE_REASON_MAX];
	bool has_rule;        /* the policy rule that decided, with provenance */
	struct kxp_rule rule; /* rule.file points into the policy */
	enum gate_sig_status sig;
	bool sig_cached;      /* the verification came from the cache */
	/* The verified signature metadata of the object (name, version, signer,
	 * content digest) whenever the signature verified, allowed or not.  kxd
	 * keeps it for a linked library and hands it back to gate_update(). */
	bool has_meta;
	struct kxsig_meta meta;
	uint64_t seq; /* number of the audit record (per gate, from 1) */
};

/* Every entry point fills *out and appends one audit record.  Returns 0
 * when the decision was recorded: look at out->verdict (malformed requests
 * are recorded DENYs).  Returns -errno when it could not be recorded
 * (out->verdict is then DENY and out->reason says why) or on -ENOMEM.
 * So: act only when the return value is 0 AND out->verdict is KXP_ALLOW.
 *
 * Strings and bytes given here may come from a guest (library names, file
 * contents) and are treated as untrusted; subjects come from the caller. */

/* Boot `app` from its image (an ELF signed as `app` by a key the app
 * trusts).  requester: usually an operator. */
int gate_boot(struct gate *gate, const struct gate_subject *requester, const char *app,
	      const void *image, size_t len, struct gate_decision *out);

/* Link library `lib` (the file's bytes) into pVM `target`, at the request
 * of `requester`: the target itself (kx_dlopen, and DT_NEEDED at boot), another
 * pVM, or an operator (a stranger to every app: loader class `any`).
 * `lib` is the library's name as the policy and its signature say it
 * ("libkvmath"), or its soname: a suffix ".so" or ".so.N[.N...]" is
 * dropped.  The name the file was signed with must equal the result. */
int gate_link(struct gate *gate, const struct gate_subject *requester,
	      const struct gate_subject *target, const char *lib, const void *bytes, size_t len,
	      struct gate_decision *out);

/* Replace library `lib`, linked into `target` with the verified metadata
 * `old` (gate_link's out->meta), by the file `bytes`: as gate_link, plus
 * the rule must allow updates and (unless it allows rollback) the new
 * version must not be older. */
int gate_update(struct gate *gate, const struct gate_subject *requester,
		const struct gate_subject *target, const char *lib, const struct kxsig_meta *old,
		const void *bytes, size_t len, struct gate_decision *out);

/* The parent's counts before the fork (its depth is in the subject). */
struct gate_family_counts {
	uint32_t children; /* children of the parent pVM */
	uint32_t members;  /* pVMs in its family, the root included */
};
int gate_fork(struct gate *gate, const struct gate_subject *parent,
	      const struct gate_family_counts *counts, struct gate_decision *out);

/* Open an IpC channel of one kind (KXP_IPC_*) between pVMs a and b: same
 * family (equal family ids) or a mutual cross-family trust rule. */
int gate_ipc(struct gate *gate, const struct gate_subject *a, const struct gate_subject *b,
	     uint32_t kind, struct gate_decision *out);

/* Recycle the empty pVM `empty` (app NULL) into `app`, loading the app's
 * image `bytes` (signed as `app` by a key the app trusts).  `loader` is who
 * performs the load: the policy admits only the empty pVM itself. */
int gate_recycle(struct gate *gate, const struct gate_subject *loader,
		 const struct gate_subject *empty, const char *app, const void *bytes, size_t len,
		 struct gate_decision *out);

/* Mount, in pVM `pvm` (running an app), the host directory `host` -- or with
 * host NULL the read-only tree packed into the pVM's signed image -- at guest
 * path `guest`, writable or read-only: a `files` rule of the app must cover
 * it (op `file`).  kxd asks once per mount, at boot, before it opens the
 * directory for the monitor; the monitor then keeps every access beneath
 * it.  Paths are absolute and normalised (no "..", no "//"): anything else
 * is a DENY at the request stage. */
int gate_file(struct gate *gate, const struct gate_subject *pvm, const char *guest,
	      const char *host, bool writable, struct gate_decision *out);

/* Attach network interface `iface` to pVM `pvm` (running an app): the app
 * must have a `network` rule for it (op `net`).  On ALLOW, *rules (when
 * rules != NULL) gets that interface's rules as plain data for the pVM's
 * monitor, which enforces them on every frame (policy-lang/kxp_net.h):
 * exactly what was decided on and audited.  On DENY *rules is zeroed. */
int gate_net(struct gate *gate, const struct gate_subject *pvm, const char *iface,
	     struct kxp_net_rules *rules, struct gate_decision *out);

/* A link refused before any file was read: the requested name is not a
 * library name, or no such library exists.  Recorded as a DENY at stage
 * "request" with `why` as the reason (the name is escaped like any). */
int gate_link_unresolved(struct gate *gate, const struct gate_subject *requester,
			 const struct gate_subject *target, const char *requested, const char *why,
			 struct gate_decision *out);
/* The monitor of pVM `pvm` dropped a frame on interface `iface`: the first
 * of its kind, which kxd records (op `net`, always DENY: that is what
 * happened).  A frame to a port the pVM does not listen on (query
 * KXP_NET_LISTEN, proto and port) or to a peer it may not reach
 * (KXP_NET_CONNECT, proto, addr, port) is asked of the policy again, so the
 * record names the rule that decided; any other kind (spoofing, malformed
 * frames, query KXP_NET_ATTACH) names the interface's rule.  The reason
 * says "the monitor dropped KIND: WHAT". */
struct gate_net_drop {
	const char *kind; /* "spoof-ip", "port", ... (docs/network.md) */
	const char *what; /* the frame, as the monitor described it */
	enum kxp_net_query query;
	uint8_t proto;
	uint16_t port;
	uint32_t addr;
};
int gate_net_dropped(struct gate *gate, const struct gate_subject *pvm, const char *iface,
		     const struct gate_net_drop *drop, struct gate_decision *out);

/* Requests of pVM `pvm` that its caller (kxd's rate limit) refused without
 * putting each to the gate: one "suppressed" record with their count and
 * why.  0 or -errno. */
int gate_audit_suppressed(struct gate *gate, const struct gate_subject *pvm, uint64_t count,
			  const char *why);

/* ---- the signature cache -------------------------------------------------------- */

struct gate_cache_stats {
	uint64_t hits, misses, evictions;
	size_t entries, capacity;
};
void gate_cache_stats(struct gate *gate, struct gate_cache_stats *out);

/* ---- the chain and its seals (docs/audit-log.md section 3) ------------------------ */

/* Every record carries "prev", the BLAKE2b-256 of the line before it (all
 * zeros for the first record of a chain); a gate continues the chain of the
 * log it opens and starts each file with an "open" record.  A seal is a
 * record signed with the gate's seal key over its own line, so over the
 * whole chain before it.  Kinds of seal: */
enum gate_seal_kind {
	GATE_SEAL_INTERVAL, /* "seal": the chain so far (kxd: periodically) */
	GATE_SEAL_CLOSE,    /* "close": the last record of a run (kxd stops) */
	GATE_SEAL_ROTATE,   /* "rotate": the last record of a file (gate_rotate) */
};
/* Append a seal.  0 (also when nothing was written since the last seal:
 * then GATE_SEAL_INTERVAL writes nothing), -ENOKEY without a seal key, or
 * -errno from the log (err says which). */
int gate_seal(struct gate *gate, enum gate_seal_kind kind, struct kx_error *err);
/* The operator has moved the log away (rotation): seal the old file
 * ("rotate"), open the path anew and continue the chain there. */
int gate_rotate(struct gate *gate, struct kx_error *err);
/* Records written since the last seal (kxd: whether a seal is due). */
uint64_t gate_unsealed(struct gate *gate);
/* The log's counters: the seq of its last record, the fdatasync() calls
 * made on it, the bytes written but not yet durable (interval), the records
 * since the last seal (kxd: whether a seal is due), and the decisions denied
 * because their record could not be written, not yet reported in the log
 * (the first record that can be written reports them); and every DENY the
 * gate gave (kxd charges them to the pVM's audit rate). */
struct gate_audit_stats {
	uint64_t records, flushes, unflushed_bytes, unsealed, unlogged, denials;
};
void gate_audit_stats(struct gate *gate, struct gate_audit_stats *out);
/* Group commit across the requests of one thread (kxd's event loop:
 * docs/audit-log.md section 3).  While held (GATE_SYNC_GROUP only; the
 * other modes ignore it), a decision's record is written but not flushed
 * and the decision is returned before its record is durable: the caller
 * must neither act on it nor answer it until gate_audit_commit() returned
 * 0.  gate_audit_commit() makes every record written so far durable with
 * one fdatasync(): 0, or -errno when that failed, and then every record
 * not yet durable is cut off again and its decision counted unlogged (the
 * caller must then answer none of them: they may have been ALLOWs).
 * gate_audit_pending(): records written but not yet durable. */
void gate_audit_hold(struct gate *gate, bool hold);
int gate_audit_commit(struct gate *gate);
bool gate_audit_pending(struct gate *gate);
/* Decisions denied because their record could not be written, not yet
 * reported in the log (reported by the first record that can be written). */
uint64_t gate_unlogged(struct gate *gate);

/* Verify a chain of log files, oldest first (a log and the files rotated out
 * of it).  The bytes are untrusted.  keys: the seal keys to accept (a seal
 * by another key fails).  Fills *rep; returns 0 (then see rep->ok) or
 * -ENOMEM. */
#define GATE_VERIFY_LIVE 1u /* the last file may still be written: its tail need not be sealed */
struct gate_verify_file {
	const char *name; /* for messages */
	const void *bytes;
	size_t len;
};
struct gate_verify_report {
	bool ok;
	char problem[512];       /* the first problem: file, line, seq and what */
	size_t file, line;       /* where (file index, 1-based line); 0 when ok */
	uint64_t records, seals; /* read before the first problem */
	uint64_t unsealed;       /* records after the last seal (GATE_VERIFY_LIVE) */
	bool continues;          /* the first record continues an earlier file's chain */
};
int gate_audit_verify(const struct gate_verify_file *files, size_t nfiles,
		      const struct kxsig_pubkey *keys, size_t nkeys, unsigned flags,
		      struct gate_verify_report *rep);

/* ---- reading the audit log (kxctl audit) ------------------------------------------ */

/* The pVM or operator of a record ("subject"), as written. */
struct gate_audit_party {
	const char *kind; /* "pvm", "operator"; NULL when the record has none */
	bool has_pvm, has_family, has_depth, has_uid;
	uint64_t pvm, family;
	uint32_t depth, uid;
	const char *app; /* NULL when absent (an empty pVM) */
};

/* What a request was about ("object"); absent fields are NULL / has_* false. */
struct gate_audit_object {
	bool has_pvm, has_family, has_depth, has_children, has_members, has_same_family;
	uint64_t pvm, family;
	uint32_t depth, children, members;
	bool same_family;
	const char *app, *lib, *requested, *name, *version, *old_version, *signer, *digest,
		*old_digest, *relation, *kind;
	const char *guest, *host, *mode, *iface; /* file, net */
	bool has_image, image;                   /* file: the image's own tree */
};

/* One decoded record.  Strings are decoded UTF-8 without NULs, valid only
 * during the callback; they may hold any printable or control character the
 * log holds (use gate_audit_format to print them). */
struct gate_audit_record {
	uint32_t format;   /* "v" */
	uint64_t seq;
	const char *time;  /* RFC 3339, UTC, milliseconds */
	const char *op;    /* "boot", "link", ... */
	const char *backend; /* "kvm", "xen"; NULL when the record names none */
	struct gate_audit_party subject;
	struct gate_audit_object object;
	bool allowed;      /* "decision": "allow" */
	const char *stage; /* "policy", "signature", ...; NULL when absent */
	const char *reason;
	const char *sig_status; /* NULL for ops without a file */
	bool sig_cached;
	bool has_rule;
	const char *rule_file, *rule_desc;
	uint32_t rule_line, rule_col;
	/* format 2 */
	const char *prev;  /* hex BLAKE2b-256 of the line before; NULL in format 1 */
	const char *event; /* op "audit": "open", "seal", "close", "rotate", "unlogged", "suppressed" */
	const char *key;   /* op "audit": the seal key's id (open and seals) */
	bool has_count;
	uint64_t count;    /* unlogged, suppressed: how many decisions */
};

/* One line of the log: a record, or why it is not one. */
struct gate_audit_line {
	size_t lineno;  /* 1-based */
	size_t offset;  /* of the line's first byte in the buffer */
	const struct gate_audit_record *record; /* NULL for a corrupt line */
	const char *error;                       /* why, for a corrupt line */
};

/* Called once per non-empty line; a nonzero return stops the reading and is
 * returned by gate_audit_read. */
typedef int (*gate_audit_cb)(void *ctx, const struct gate_audit_line *line);

/* Parse audit-log bytes (untrusted: any bytes; lines longer than
 * GATE_AUDIT_LINE_MAX, bad JSON, wrong types or missing fields are reported
 * as corrupt lines and reading goes on).  With consumed != NULL an
 * unterminated last line is left for later (for `--follow`: keep the tail
 * and call again with more bytes) and *consumed says how many bytes were
 * read; with consumed == NULL it is read like any other line.
 * Returns 0, a callback's nonzero value, or -ENOMEM. */
int gate_audit_read(const void *buf, size_t len, gate_audit_cb cb, void *ctx, size_t *consumed);

/* The human view: one line (no newline) per record,
 *   TIME OP SUBJECT -> OBJECT ALLOW|DENY FILE:LINE[: REASON]
 * with every non-printable byte shown as \xNN.  The reason is added with
 * GATE_AUDIT_FMT_REASON.  Returns the length it needed (snprintf-like;
 * truncated when >= size). */
#define GATE_AUDIT_FMT_REASON 1u
size_t gate_audit_format(const struct gate_audit_record *rec, unsigned flags, char *buf,
			 size_t size);

#endif /* KX_MANAGER_GATE_GATE_H */
