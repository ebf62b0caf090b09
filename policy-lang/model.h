/*
 * The in-memory policy model: what the manifest front end (reader + checker)
 * produces from YAML and the table writer turns into a .kxp file.  Internal
 * to policy-lang/: the manager never sees it (it reads .kxp tables through
 * kxpolicy.h).
 *
 * Everything here has been checked by the front end: names are unique, ranges
 * non-empty, references resolved, trust mutual, limits in range.  All strings
 * are NUL-terminated, heap-owned by the model, and freed by pm_policy_free().
 */
#ifndef KX_POLICY_MODEL_H
#define KX_POLICY_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signer/kxsig.h"

/* ---- versions and version ranges --------------------------------------- */

/* A dotted numeric version, at most PM_VERSION_PARTS components, each fitting
 * in uint32_t.  Missing trailing components compare as 0 ("2" == "2.0"). */
#define PM_VERSION_PARTS 4
struct pm_version {
	uint32_t part[PM_VERSION_PARTS];
	uint8_t nparts; /* as written, for printing; 1..PM_VERSION_PARTS */
};

/* One end of an interval.  `unbounded` means -inf (lo) or +inf (hi). */
struct pm_bound {
	struct pm_version v;
	bool inclusive;
	bool unbounded;
};

/* A non-empty interval lo..hi. */
struct pm_interval {
	struct pm_bound lo, hi;
};

/* A version constraint compiled to a union of intervals: sorted by lo,
 * pairwise disjoint and non-adjacent (merged), never empty (n >= 1). */
struct pm_range {
	struct pm_interval *iv;
	size_t n;
};

/* ---- provenance -------------------------------------------------------- */

/* Where an entry came from: manifest path as given on the command line, and
 * the 1-based line and column of the YAML node that defined it. */
struct pm_src {
	const char *file; /* points into pm_policy.files[] */
	uint32_t line, col;
};

/* ---- apps -------------------------------------------------------------- */

enum pm_loader { PM_LOADER_SELF = 0, PM_LOADER_APP = 1, PM_LOADER_ANY = 2 };
enum pm_bind { PM_BIND_LAZY = 0, PM_BIND_NOW = 1 };

/* IpC kinds, as a bit set. */
enum pm_ipc_kind {
	PM_IPC_PIPE = 1u << 0,
	PM_IPC_SIGNAL = 1u << 1,
	PM_IPC_MSGQ = 1u << 2,
	PM_IPC_SHM = 1u << 3,
};
#define PM_IPC_ALL (PM_IPC_PIPE | PM_IPC_SIGNAL | PM_IPC_MSGQ | PM_IPC_SHM)

/* A trusted signer of this app: a name local to the manifest and the key
 * loaded from the key file it names. */
struct pm_key {
	char *name;
	char *path; /* key file, as written in the manifest */
	uint8_t keyid[KXSIG_KEYID_BYTES];
	uint8_t pk[KXSIG_PUBKEY_BYTES];
	int64_t from, until; /* validity, seconds since the epoch (UTC); 0: open */
	struct pm_src src;
};

struct pm_library {
	char *name;
	size_t *signers; /* indices into pm_app.keys, sorted, unique, n >= 1 */
	size_t nsigners;
	char *version_text; /* the constraint as written */
	struct pm_range version;
	enum pm_loader loader;
	bool update;         /* may be replaced online */
	bool allow_downgrade; /* anti-rollback off (default false) */
	enum pm_bind bind;
	struct pm_src src;
};

struct pm_fork_limits {
	uint32_t max_children; /* per pVM */
	uint32_t max_depth;    /* root is depth 0 */
	uint32_t max_members;  /* per family, root included */
	struct pm_src src;
};

/* A cross-family trust rule; the checker has verified the peer declares the
 * same rule back (same kinds), so the writer may build a symmetric matrix. */
struct pm_trust {
	char *peer;     /* app name */
	uint32_t kinds; /* enum pm_ipc_kind bits */
	struct pm_src src;
};

struct pm_recycle {
	bool allow;
	uint32_t pool;
	struct pm_src src;
};

struct pm_revoked {
	uint8_t (*keyids)[KXSIG_KEYID_BYTES];
	size_t nkeyids;
	struct pm_src *keyid_src;
	uint8_t (*digests)[KXSIG_DIGEST_BYTES];
	size_t ndigests;
	struct pm_src *digest_src;
};

/* cgroup limits (`resources`); 0: not given. */
struct pm_resources {
	uint32_t cpu_milli; /* thousandths of one CPU */
	uint32_t pids;
	struct pm_src src;
};

/* The rate limit of each pVM's audited refusals (`audit`): rate a second,
 * at most burst at once, 1..PM_AUDIT_RATE_MAX; both 0: not given. */
#define PM_AUDIT_RATE_MAX 65535u
struct pm_audit {
	uint32_t rate, burst;
	struct pm_src src;
};

/* A `files` rule: a host directory (host != NULL) or the image's own
 * read-only tree (host == NULL) mounted at guest.  Paths are absolute and
 * normalised (pm_path_check). */
enum pm_mode { PM_MODE_RO = 0, PM_MODE_RW = 1 };
struct pm_file_rule {
	char *guest;
	char *host;
	enum pm_mode mode;
	uint64_t max; /* bytes; 0 when read-only */
	struct pm_src src;
};

/* A `network` rule: one interface and what may pass through it. */
#define PM_PROTO_TCP 6u
#define PM_PROTO_UDP 17u
struct pm_listen {
	uint16_t port;
	uint8_t proto;
	struct pm_src src;
};
struct pm_peer {
	uint32_t addr; /* no bits beyond prefix */
	uint8_t prefix;
	uint8_t proto;
	uint16_t port; /* 0: any */
	struct pm_src src;
};
struct pm_iface {
	char *name;
	uint32_t addr, gateway; /* gateway 0: none */
	uint8_t prefix;
	struct pm_listen *listen; /* sorted by (proto, port), unique */
	size_t nlisten;
	struct pm_peer *peers;    /* sorted by (proto, addr, prefix, port), unique */
	size_t npeers;
	struct pm_src src;
};

#define PM_IPC_OBJECTS_MAX 256 /* = KXP_ABI_IPC_OBJECTS_MAX */

struct pm_app {
	char *name;
	char *image;          /* path as written */
	uint64_t memory;      /* bytes */
	struct pm_key *keys;  /* sorted by name */
	size_t nkeys;
	struct pm_library *libs; /* sorted by name */
	size_t nlibs;
	struct pm_fork_limits fork;
	uint32_t ipc_kinds; /* allowed inside the family */
	struct pm_src ipc_src;
	uint32_t ipc_objects; /* family.ipc-objects, 1..PM_IPC_OBJECTS_MAX; 0: the default */
	bool ipc_persist;     /* family.ipc-persist */
	struct pm_trust *trust; /* sorted by peer */
	size_t ntrust;
	struct pm_recycle recycle;
	struct pm_revoked revoked;
	struct pm_resources resources;
	struct pm_audit audit;
	struct pm_file_rule *files; /* sorted by guest path */
	size_t nfiles;
	struct pm_iface *ifaces;    /* sorted by name */
	size_t nifaces;
	struct pm_src src; /* the manifest's top node */
};

struct pm_policy {
	char **files; /* manifest paths, in command-line order */
	size_t nfiles;
	struct pm_app *apps; /* sorted by name, names unique */
	size_t napps;
	uint64_t serial; /* not from the manifests: set by the compiler's caller */
};

void pm_policy_free(struct pm_policy *p);

/* ---- versions (expression language) ------------------------------------ */

/* Parse a plain dotted version ("1.16.2"); returns 0 or -EINVAL. */
int pm_version_parse(const char *text, struct pm_version *out);
/* <0, 0, >0 like strcmp, with missing components as 0. */
int pm_version_cmp(const struct pm_version *a, const struct pm_version *b);
/* Print a version into buf (at least PM_VERSION_TEXT_MAX bytes). */
#define PM_VERSION_TEXT_MAX 48
void pm_version_format(const struct pm_version *v, char *buf, size_t size);
/* Is v inside the range? */
bool pm_range_contains(const struct pm_range *r, const struct pm_version *v);

/* ---- dates of key validity (date.c) -------------------------------------- */

/* "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ", years 1970..9999,
 * untrusted text of len bytes -> seconds since the epoch.  0 or -EINVAL. */
int pm_date_parse(const char *s, size_t len, int64_t *out);
/* The same text back ("YYYY-MM-DD" when at midnight); "@N" outside
 * 0..PM_DATE_MAX (9999-12-31T23:59:59Z). */
#define PM_DATE_TEXT_MAX 80
#define PM_DATE_MAX INT64_C(253402300799)
void pm_date_format(int64_t t, char buf[PM_DATE_TEXT_MAX]);

/* ---- small syntaxes (syntax.c) ------------------------------------------- */
/* Shared by the manifest checker, explain's request parser and the decision
 * function; every input is untrusted text of len bytes (no NUL needed). */

/* An absolute, normalised path: starts with '/', no empty, "." or ".."
 * component, no trailing '/' (except "/" itself), components of at most 255
 * bytes, no control characters. */
enum pm_path_status {
	PM_PATH_OK,
	PM_PATH_RELATIVE,    /* does not start with '/' */
	PM_PATH_DOTDOT,      /* has a ".." component */
	PM_PATH_UNNORMAL,    /* empty or "." component, trailing '/' */
	PM_PATH_CONTROL,     /* a control character */
	PM_PATH_LONG_NAME,   /* a component longer than 255 bytes */
};
enum pm_path_status pm_path_check(const char *s, size_t len);
/* The normal form of an absolute path without "..": into buf (size at least
 * len + 2). */
void pm_path_normalise(const char *s, size_t len, char *buf, size_t size);
/* Is path `inner` equal to, or below, `outer` (both normalised)?  On true,
 * *rest points at the remainder of inner ("" or "/..."). */
bool pm_path_within(const char *inner, const char *outer, const char **rest);

/* Dotted-quad IPv4 address (no leading zeros): 0 or -EINVAL. */
int pm_ipv4_parse(const char *s, size_t len, uint32_t *out);
#define PM_IPV4_TEXT_MAX 16
void pm_ipv4_format(uint32_t addr, char buf[PM_IPV4_TEXT_MAX]);
/* The mask of a prefix length 0..32. */
uint32_t pm_ipv4_mask(uint8_t prefix);
/* Not "this network" (0/8), loopback (127/8), multicast or reserved (224/3,
 * with the broadcast address): an address a pVM may use or talk to. */
bool pm_ipv4_unicast(uint32_t addr);
/* Neither the network nor the broadcast address of addr/prefix (a /31 or
 * /32 has neither). */
bool pm_ipv4_host_ok(uint32_t addr, uint8_t prefix);
/* An interface name: 1..15 lowercase letters and digits, a letter first. */
#define PM_IFNAME_LEN_MAX 15
bool pm_iface_name_ok(const char *s, size_t len);

/* "tcp/", "udp/" at the start of s: the protocol and the bytes it takes;
 * none: TCP and 0 bytes. */
size_t pm_proto_prefix(const char *s, size_t len, uint8_t *proto);
const char *pm_proto_name(uint8_t proto); /* "tcp", "udp", "?" */

/* A peer: [tcp/|udp/]A.B.C.D[/P]:PORT|*.  Returns 0, or the problem (for
 * messages) with *where the offending part. */
enum pm_peer_status {
	PM_PEER_OK,
	PM_PEER_SYNTAX,   /* not ADDR[/P]:PORT */
	PM_PEER_ADDRESS,  /* not an IPv4 address */
	PM_PEER_PREFIX,   /* prefix not 0..32 */
	PM_PEER_PORT,     /* port not 1..65535 or * */
	PM_PEER_HOSTBITS, /* bits set beyond the prefix */
};
struct pm_peer_text {
	uint8_t proto;
	uint32_t addr;
	uint8_t prefix; /* 32 when not written */
	bool has_prefix;
	uint16_t port;  /* 0: * */
};
enum pm_peer_status pm_peer_parse(const char *s, size_t len, struct pm_peer_text *out);
/* "[udp/]A.B.C.D[/P]:PORT|*" into buf (at least PM_PEER_TEXT_MAX). */
#define PM_PEER_TEXT_MAX 32
void pm_peer_format(uint8_t proto, uint32_t addr, uint8_t prefix, uint16_t port, char *buf,
		    size_t size);

/* ---- diagnostics and loading -------------------------------------------- */

enum pm_severity { PM_ERROR, PM_WARNING, PM_NOTE };

struct pm_diag {
	enum pm_severity severity;
	const char *file; /* points into the diag list's own copies */
	uint32_t line, col; /* 1-based; 0 when not tied to a position */
	char *msg;
	char *hint;        /* may be NULL ("did you mean 'loader'?") */
	char *source_line; /* the offending line, may be NULL */
};

struct pm_diags {
	struct pm_diag *d;
	size_t n;
	size_t nerrors, nwarnings;
	char **files; /* owned copies of file names */
	size_t nfiles;
};

void pm_diags_free(struct pm_diags *ds);
/* Print in compiler style: "file:line:col: error: msg", the line, a caret,
 * "hint: ...".  Used by the CLI only. */
#include <stdio.h>
void pm_diags_print(FILE *out, const struct pm_diags *ds);

/* Read, parse and check a set of manifests into *out.  Returns 0 when there
 * are no errors (warnings allowed); -EINVAL when diagnostics hold errors (and
 * *out is left empty); another -errno on allocation failure.  Key files are
 * resolved relative to the directory of the manifest naming them. */
int pm_load(const char *const *paths, size_t npaths, struct pm_policy *out,
	    struct pm_diags *diags);

#endif /* KX_POLICY_MODEL_H */
