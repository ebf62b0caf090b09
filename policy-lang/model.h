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
	struct pm_trust *trust; /* sorted by peer */
	size_t ntrust;
	struct pm_recycle recycle;
	struct pm_revoked revoked;
	struct pm_src src; /* the manifest's top node */
};

struct pm_policy {
	char **files; /* manifest paths, in command-line order */
	size_t nfiles;
	struct pm_app *apps; /* sorted by name, names unique */
	size_t napps;
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
