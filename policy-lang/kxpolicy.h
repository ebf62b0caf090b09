/*
 * kxpolicy.h — compiled kx policies (.kxp): the table reader and the one
 * decision function.  This is what the manager (kxd, the gate) links
 * (libkxp.a, with libkxsig.a and -lsodium); `kxpolicy explain` calls the
 * same kxp_decide(), so what an auditor is told is what is enforced.
 *
 * kxp_open() treats its input as hostile: it copies it, then checks the
 * header, the body digest, the admin signature (when a key is given), and
 * every table's offset, count, entry size, string, index, sort order and
 * interval before anything else reads it.  Once a policy is open, lookups
 * trust the tables.  An open policy is read-only: any number of threads may
 * call the lookups and kxp_decide() on it at once.
 *
 * Functions print nothing; they return 0 or -errno and, when given a
 * struct kx_error, a one-line reason naming the table and entry at fault.
 *
 * Types here are independent of the compiler's model (model.h).
 */
#ifndef KX_POLICY_KXPOLICY_H
#define KX_POLICY_KXPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/kxerr.h"
#include "policy-lang/kxp_net.h"
#include "signer/kxsig.h"

struct kxp_policy; /* opaque, read-only once open */

/* Open a policy from untrusted bytes (copied; buf may be freed afterwards).
 * With admin != NULL the file must be signed by exactly that key and the
 * signature must verify.  Without a key only integrity is checked (body
 * digest and tables); kxp_signature() then says who claims to have signed
 * it, unverified.
 * Returns 0; -EBADMSG for a corrupt, truncated or inconsistent file;
 * -EKEYREJECTED when a key is given and the file is unsigned, signed by
 * another key, or the signature does not verify; -ENOMEM; -EINVAL. */
int kxp_open(const void *buf, size_t len, const struct kxsig_pubkey *admin,
	     struct kxp_policy **out, struct kx_error *err);
/* The same from a file (at most KXP_FILE_MAX bytes: a larger one is
 * -EBADMSG); -EIO when it cannot be read. */
int kxp_open_file(const char *path, const struct kxsig_pubkey *admin,
		  struct kxp_policy **out, struct kx_error *err);
void kxp_close(struct kxp_policy *policy); /* NULL is fine */

struct kxp_signature_info {
	bool is_signed;
	bool verified; /* checked against the key given to kxp_open */
	uint8_t keyid[KXSIG_KEYID_BYTES];
};
void kxp_signature(const struct kxp_policy *policy, struct kxp_signature_info *out);

/* The policy's serial number (the meta table; covered by the body digest and
 * so by the admin signature).  A manager refuses a policy whose serial is
 * lower than the highest it has loaded (kxd: docs/kxd.md, "Reloading"). */
uint64_t kxp_serial(const struct kxp_policy *policy);
/* The BLAKE2b-256 of the tables (the header's body digest): two files with
 * the same digest hold the same policy, signed or not. */
void kxp_body_digest(const struct kxp_policy *policy, uint8_t out[KXSIG_DIGEST_BYTES]);

/* ---- requests and decisions --------------------------------------------- */

enum kxp_op {
	KXP_OP_BOOT, KXP_OP_LINK, KXP_OP_UPDATE, KXP_OP_FORK, KXP_OP_IPC, KXP_OP_RECYCLE,
	KXP_OP_FILE, KXP_OP_NET,
};
#define KXP_OP_COUNT 8

/* Who asks to link a library into the target pVM, relative to it.  Ordered:
 * a library rule of class C admits relations <= C. */
enum kxp_relation {
	KXP_REL_SELF = 0, /* the target pVM itself */
	KXP_REL_APP = 1,  /* another pVM of the same app */
	KXP_REL_ANY = 2,  /* a pVM of another app */
};

enum kxp_bind { KXP_BIND_LAZY = 0, KXP_BIND_NOW = 1 };

/* IpC kinds (one bit per kind; a request names exactly one). */
#define KXP_IPC_PIPE 0x1u
#define KXP_IPC_SIGNAL 0x2u
#define KXP_IPC_MSGQ 0x4u
#define KXP_IPC_SHM 0x8u

/* How a files rule lets a pVM use its mount. */
enum kxp_mode { KXP_MODE_RO = 0, KXP_MODE_RW = 1 };

/* What a `net` request asks: attach the interface (kxd, at boot), or one of
 * the per-frame questions the monitor answers from struct kxp_net_rules. */
enum kxp_net_query { KXP_NET_ATTACH = 0, KXP_NET_LISTEN = 1, KXP_NET_CONNECT = 2 };

#define KXP_VERSION_PARTS 4
struct kxp_version {
	uint32_t part[KXP_VERSION_PARTS];
	uint8_t nparts; /* 1..KXP_VERSION_PARTS */
};
/* "1.16.2" (as kxsig metadata carries it); 0 or -EINVAL. */
int kxp_version_parse(const char *text, struct kxp_version *out);

/* One request.  Zero-initialise, set op and what the op uses:
 *   boot     app; signer (the image's signing key id; unset = unsigned), digest
 *   link     app (target), lib, version, signer, digest, relation, requester
 *   update   as link, plus old_version
 *   fork     app; depth, children (of the parent pVM, before the fork) and
 *            members (of its family, root included, before the fork)
 *   ipc      app and peer (the two ends; requester stands for peer when
 *            peer is unset), ipc_kind, same_family
 *   recycle  app; signer and digest of the app image; relation (must be self)
 *   file     app, guest (the mount point), host (a host directory) or image
 *            (the image's own tree), mode; paths absolute and normalised
 *   net      app, iface, net_query; listen: proto, port; connect: proto,
 *            net_addr and port of the peer
 * requester, when set, must agree with relation: requester == app for
 * self/app, requester != app for any.
 * by_operator: an operator (kxctl), not a pVM, asks: no requester, relation
 * any.  A link by the operator needs loader class any; an update by the
 * operator is judged by the library's update rule (signers, version,
 * revocations, anti-rollback) and not by its loader class, which governs
 * which pVMs may have the library linked (manifests/README.md). */
struct kxp_request {
	enum kxp_op op;
	const char *app;
	const char *requester;
	const char *lib;
	bool has_version;
	struct kxp_version version;
	bool has_old_version;
	struct kxp_version old_version;
	bool has_signer;
	uint8_t signer[KXSIG_KEYID_BYTES];
	bool has_digest;
	uint8_t digest[KXSIG_DIGEST_BYTES];
	bool has_relation; /* unset: any when requester != app, else self */
	enum kxp_relation relation;
	bool by_operator;  /* link, update: asked by an operator (relation any) */
	int64_t now;       /* boot, link, update, recycle: the time keys' validity
			    * (from, until) is checked at, seconds since the epoch
			    * (UTC); 0: the time now */
	const char *peer;
	uint32_t ipc_kind; /* exactly one KXP_IPC_* bit */
	bool same_family;  /* both ends in one family (then peer == app) */
	uint32_t depth, children, members;
	const char *guest, *host;
	bool image;
	enum kxp_mode mode;
	const char *iface;
	enum kxp_net_query net_query;
	uint8_t proto;     /* KXP_NET_PROTO_* */
	uint16_t port;
	uint32_t net_addr; /* IPv4 as a number: 10.0.0.2 is 0x0a000002 */
};

enum kxp_verdict { KXP_DENY = 0, KXP_ALLOW = 1 };

#define KXP_REASON_MAX 320
#define KXP_RULE_DESC_MAX 192

/* The rule that decided, with where it was written. */
struct kxp_rule {
	const char *file; /* manifest path; points into the open policy */
	uint32_t line, col;
	char desc[KXP_RULE_DESC_MAX]; /* e.g. "library libkvmath of app kvstore" */
};

/* The trusted key a decision relied on (boot, link, update, recycle: the
 * signer, once the policy found it among the app's keys). */
struct kxp_key_used {
	const char *name; /* points into the open policy */
	uint8_t keyid[KXSIG_KEYID_BYTES];
	int64_t from, until; /* validity, seconds since the epoch; 0: open */
};

struct kxp_decision {
	enum kxp_verdict verdict;
	char reason[KXP_REASON_MAX];
	bool has_rule; /* false when no rule applies (e.g. unknown app) */
	struct kxp_rule rule;
	bool has_key;
	struct kxp_key_used key;
};

/* The gate's one decision function.  Returns 0 when the request was decided
 * (look at out->verdict), -EINVAL when it is malformed (missing or
 * inconsistent attributes; out->verdict is DENY and out->reason says why).
 * Never allocates. */
int kxp_decide(const struct kxp_policy *policy, const struct kxp_request *req,
	       struct kxp_decision *out);

const char *kxp_op_name(enum kxp_op op);
int kxp_op_parse(const char *name, enum kxp_op *out);      /* 0 or -EINVAL */
const char *kxp_relation_name(enum kxp_relation rel);      /* "self" ... */
const char *kxp_ipc_kind_name(uint32_t kind);              /* one bit */

/* ---- lookups for running an app ------------------------------------------ */

/* The IpC kinds a mutual trust rule between app and peer (two different
 * apps) allows, 0 when there is none or either is unknown: a manager lets a
 * pVM see IpC keys of another app's families only then (docs/ipc.md). */
uint32_t kxp_ipc_trust_kinds(const struct kxp_policy *policy, const char *app, const char *peer);

#define KXP_IPC_OBJECTS_DEFAULT 64
struct kxp_app_info {
	const char *name;  /* points into the policy */
	const char *image; /* as the manifest wrote it */
	uint64_t memory;   /* bytes */
	uint32_t ipc_kinds;
	uint32_t max_children, max_depth, max_members;
	bool recycle_allow;
	uint32_t recycle_pool;
	uint32_t cpu_milli; /* resources.cpu in thousandths of a CPU; 0: not given */
	uint32_t pids;      /* resources.pids; 0: not given */
	/* audit: {rate, burst}: each pVM's audited refusals, rate a second, at
	 * most burst at once; 0: not given (the manager's default) */
	uint32_t audit_rate, audit_burst;
	uint32_t ipc_objects; /* IpC objects its pVMs may have at once (the default,
			       * KXP_IPC_OBJECTS_DEFAULT, filled in) */
	bool ipc_persist;     /* its keyed objects outlive its last running pVM */
	size_t nkeys, nlibs, nfiles, nifaces;
};

struct kxp_lib_info {
	const char *name, *version_text;
	enum kxp_relation loader; /* the loader class */
	bool update, allow_downgrade;
	enum kxp_bind bind;
	size_t nsigners;
};

/* 0 or -ENOENT. */
int kxp_app_lookup(const struct kxp_policy *policy, const char *app, struct kxp_app_info *out);
/* The name of the index-th app (0-based, in the table's order), NULL past
 * the last: how a manager walks every app (kxd's recycle pools). */
const char *kxp_app_name_at(const struct kxp_policy *policy, size_t index);
int kxp_lib_lookup(const struct kxp_policy *policy, const char *app, const char *lib,
		   struct kxp_lib_info *out);

/* The index-th `files` rule of app (0-based, in guest path order).  0, or
 * -ENOENT for an unknown app or past the last rule.  Strings point into the
 * policy. */
struct kxp_file_info {
	const char *guest;
	const char *host; /* NULL: the read-only tree packed into the image */
	enum kxp_mode mode;
	uint64_t max;     /* bytes a writable mount may hold; 0 when read-only */
};
int kxp_file_at(const struct kxp_policy *policy, const char *app, size_t index,
		struct kxp_file_info *out);

/* The name of the app's index-th network interface (in name order), NULL
 * past the last or for an unknown app. */
const char *kxp_iface_name_at(const struct kxp_policy *policy, const char *app, size_t index);
/* One interface's rules as the plain data a monitor enforces (kxp_net.h);
 * gate_net() hands the same to kxd on ALLOW.  0 or -ENOENT. */
int kxp_net_rules(const struct kxp_policy *policy, const char *app, const char *iface,
		  struct kxp_net_rules *out);

/* The public keys an app trusts (all its keys) or accepts for one library
 * (the library's signed-by keys), minus the app's revoked keys: exactly the
 * set to hand to kxsig_verify().  Fills up to max keys and sets *n to the
 * full count; -ENOSPC when max was too small, -ENOENT for an unknown app or
 * library. */
int kxp_app_trusted_keys(const struct kxp_policy *policy, const char *app,
			 struct kxsig_pubkey *keys, size_t max, size_t *n);
int kxp_lib_trusted_keys(const struct kxp_policy *policy, const char *app, const char *lib,
			 struct kxsig_pubkey *keys, size_t max, size_t *n);

#endif /* KX_POLICY_KXPOLICY_H */
