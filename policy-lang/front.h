/*
 * Internal header of the manifest front end (libkxpolicy_front.a): the YAML
 * reader, the expression language, the checker and the diagnostics list.
 * Not a public header: model.h is the contract with the table writer; this
 * file is shared only by the front end's own files, its unit tests and its
 * fuzz harnesses.
 *
 * Pipeline for one manifest:  bytes --manifest.c--> node tree (with marks)
 * --schema.c/app.c/library.c--> struct pm_app --check.c (all files)--> pm_policy.
 * Every stage reports through the same per-file diagnostics context and keeps
 * going after an error, so a file's diagnostics are all reported at once.
 */
#ifndef KX_POLICY_FRONT_H
#define KX_POLICY_FRONT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy-lang/model.h"

/* ---- limits on untrusted manifests ---------------------------------------- */

#define PM_DOC_MAX_BYTES   (1u << 20) /* one manifest */
#define PM_DOC_MAX_DEPTH   16         /* nested mappings/sequences */
#define PM_DOC_MAX_NODES   65536      /* scalars + collections, one manifest */
#define PM_DIAGS_PER_FILE  200        /* stored; the rest are only counted */
#define PM_EXPR_MAX_BYTES  1024       /* one version constraint */
#define PM_NAME_MAX        KXSIG_NAME_MAX /* app, library and key names */
#define PM_PATH_MAX        4095       /* image and key file paths */
#define PM_LIST_MAX        1024       /* items of any list, keys of 'keys' */
#define PM_FIELDS_MAX      16         /* known keys of one mapping (schema) */

/* ---- diagnostics (diag.c) ---------------------------------------------------- */

/* Per-file diagnostics context: where messages go and the bytes they quote. */
struct pm_dfile {
	struct pm_diags *ds;
	const char *file;   /* the diag list's own copy of the name */
	size_t file_index;  /* command-line order, for sorting */
	const char *buf;    /* the manifest bytes, for source lines; may be NULL */
	size_t len;
	size_t *line_start; /* byte offset of each line, built on first use */
	size_t nlines;
	size_t stored;      /* diagnostics of this file kept in ds */
	size_t dropped;
	bool *nomem;        /* sticky allocation failure, shared by all files */
};

/* Register a file in ds (copies the name); fills *f.  0 or -ENOMEM. */
int pm_dfile_open(struct pm_diags *ds, const char *name, size_t index, bool *nomem,
		  struct pm_dfile *f);
void pm_dfile_set_source(struct pm_dfile *f, const char *buf, size_t len);
/* Adds the "N more diagnostics not shown" note and frees the line index. */
void pm_dfile_close(struct pm_dfile *f);

/* Add one diagnostic.  line/col 1-based (0: not tied to a position); hint may
 * be NULL.  Failure to allocate sets *f->nomem; callers need not check. */
void pm_diag(struct pm_dfile *f, enum pm_severity sev, uint32_t line, uint32_t col,
	     const char *hint, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void pm_vdiag(struct pm_dfile *f, enum pm_severity sev, uint32_t line, uint32_t col,
	      const char *hint, const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

/* Sort all diagnostics by file (command-line order), line, column; stable. */
void pm_diags_sort(struct pm_diags *ds);

/* Line and column (1-based, columns in characters as libyaml counts them)
 * of a byte offset into f's source. */
void pm_dfile_position(struct pm_dfile *f, size_t offset, uint32_t *line, uint32_t *col);
/* Byte offset of (line, col) in f's source, or SIZE_MAX if out of range. */
size_t pm_dfile_offset(struct pm_dfile *f, uint32_t line, uint32_t col);

/* Offset of the first byte that is not part of valid UTF-8, or SIZE_MAX. */
size_t pm_utf8_invalid(const char *buf, size_t len);

/* Quote untrusted text for a message: printable ASCII and valid UTF-8 are
 * kept, everything else becomes \xNN, and long text is cut with "...". */
#define PM_QUOTE_MAX 80
const char *pm_quote(char buf[PM_QUOTE_MAX], const char *s, size_t len);

/* "did you mean 'x'?" for the candidate closest to word (edit distance), or
 * NULL when none is close enough.  Writes into buf. */
#define PM_HINT_MAX 128
const char *pm_did_you_mean(char buf[PM_HINT_MAX], const char *word, size_t len,
			    const char *const *cands, size_t ncands);
size_t pm_edit_distance(const char *a, size_t alen, const char *b, size_t blen);

/* ---- YAML node tree (manifest.c) --------------------------------------------- */

enum pm_node_kind { PM_NODE_SCALAR, PM_NODE_MAP, PM_NODE_SEQ };

struct pm_node {
	enum pm_node_kind kind;
	uint32_t line, col;   /* 1-based, first character of the node */
	uint32_t end_line;    /* 1-based, line of the node's end */
	/* scalars */
	char *text;           /* NUL-terminated; never contains NUL */
	size_t len;
	bool plain;           /* written without quotes or block indicator */
	bool quoted;          /* single- or double-quoted */
	bool bad;             /* stands for a refused alias: already reported */
	/* collections: sequence items, or mapping key, value, key, value... */
	struct pm_node **child;
	size_t nchild;
};

struct pm_arena_chunk;
struct pm_doc {
	struct pm_node *root; /* NULL when the document could not be read */
	struct pm_arena_chunk *chunks;
	size_t nnodes;
};

/* Parse one manifest (untrusted bytes).  Anchors, aliases and tags are
 * rejected; size, depth and node count are capped (PM_DOC_*).  Syntax errors
 * and limit violations become diagnostics in f.  Returns 0 (doc->root may
 * still be NULL when the text was not usable) or -ENOMEM. */
int pm_doc_read(const void *buf, size_t len, struct pm_dfile *f, struct pm_doc *doc);
void pm_doc_free(struct pm_doc *doc);

/* A plain scalar that YAML reads as null: empty, "~" or "null". */
bool pm_node_is_null(const struct pm_node *n);
const char *pm_node_kind_name(const struct pm_node *n);

/* ---- version constraints (expr.y, expr.l, range.c) --------------------------- */

/* The result of compiling one constraint.  offset: bytes into the text. */
#define PM_EXPR_MSG_MAX 160
#define PM_EXPR_WARN_MAX 4
struct pm_expr_note {
	size_t offset;
	char msg[PM_EXPR_MSG_MAX];
};
struct pm_expr_report {
	bool failed;
	struct pm_expr_note error;
	struct pm_expr_note warn[PM_EXPR_WARN_MAX];
	size_t nwarn;
};

/* Compile a constraint (untrusted bytes, any content) into a canonical range:
 * every interval is [lo, hi) -- lo inclusive or unbounded (when it starts at
 * version 0), hi exclusive or unbounded -- sorted, disjoint, non-adjacent and
 * non-empty in the discrete space of 4-part versions.  Returns 0; -EINVAL with
 * rep->error filled (syntax, overflow, empty range); -ENOMEM. */
int pm_expr_compile(const char *text, size_t len, struct pm_range *out,
		    struct pm_expr_report *rep);

/* Is r in the canonical form pm_expr_compile produces (above)? */
bool pm_range_is_canonical(const struct pm_range *r);

/* Sets of versions as sorted half-open intervals (range.c), used by the
 * parser's actions.  A version is at most 4 uint32 parts; 0.0.0.0 is the
 * least, 4294967295.4294967295.4294967295.4294967295 the greatest. */
struct pm_vset;
struct pm_vset *pm_vset_all(void);
struct pm_vset *pm_vset_none(void);
/* The versions `op v`; wild: v was written "v.*" (nparts is the prefix);
 * a bare "*" is wild with nparts 0.  NULL on -ENOMEM (or a meaningless
 * combination like "< *", which the parser rules out first). */
enum pm_cmp { PM_CMP_EQ, PM_CMP_NE, PM_CMP_LT, PM_CMP_LE, PM_CMP_GT, PM_CMP_GE };
struct pm_vset *pm_vset_cmp(enum pm_cmp op, const struct pm_version *v, bool wild);
/* These consume their arguments (freed even on failure); NULL on -ENOMEM. */
struct pm_vset *pm_vset_not(struct pm_vset *a);
struct pm_vset *pm_vset_and(struct pm_vset *a, struct pm_vset *b);
struct pm_vset *pm_vset_or(struct pm_vset *a, struct pm_vset *b);
bool pm_vset_empty(const struct pm_vset *s);
void pm_vset_free(struct pm_vset *s);
/* Convert to the model's form; 0 or -ENOMEM (s must not be empty). */
int pm_vset_to_range(const struct pm_vset *s, struct pm_range *out);

/* ---- loading ----------------------------------------------------------------- */

/* Where key files come from.  pm_load() reads them from disk relative to the
 * manifest's directory; the fuzz harness and unit tests plug in their own.
 * load() returns 0, or -errno (e.g. -ENOENT: unreadable) or -EBADMSG
 * (malformed) with a one-line reason in why. */
struct pm_key_source {
	int (*load)(void *ctx, const char *manifest, const char *path,
		    struct kxsig_pubkey *out, char *why, size_t whysize);
	void *ctx;
};

/* One manifest already in memory. */
struct pm_input {
	const char *name; /* as given on the command line */
	const void *buf;  /* untrusted bytes */
	size_t len;
};

/* The loader behind both entry points: read_err[i] (may be NULL) is the
 * errno that reading input i failed with, 0 if in[i] holds its bytes. */
int pm_load_inputs(const struct pm_input *in, size_t n, const int *read_err,
		   const struct pm_key_source *keys, struct pm_policy *out,
		   struct pm_diags *diags);

/* pm_load() without the filesystem: parse and check manifests held in
 * memory.  Same contract as pm_load(). */
int pm_load_buffers(const struct pm_input *in, size_t n, const struct pm_key_source *keys,
		    struct pm_policy *out, struct pm_diags *diags);

/* ---- internal: per-manifest checking (schema.c, app.c, library.c, check.c) ----- */

struct pm_check {
	struct pm_dfile *f;
	const struct pm_key_source *keys;
	const char *manifest; /* file name as given */
	const char *src_file; /* the same, owned by the pm_policy being built */
};

/* Fill app from the document's root (partially, on errors). */
void pm_check_app(struct pm_check *c, const struct pm_node *root, struct pm_app *app);
void pm_app_free(struct pm_app *app);
void pm_library_free(struct pm_library *lib);

/* The typed accessors shared by schema.c and library.c. */
struct pm_field {
	const char *key;
	bool required;
};
/* Check that n is a mapping whose keys are all in fields (by index), without
 * duplicates; value[i] gets the value of fields[i] or NULL.  what names the
 * mapping in messages.  Returns false if n is not a mapping. */
bool pm_get_map(struct pm_check *c, const struct pm_node *n, const char *what,
		const struct pm_field *fields, size_t nfields, const struct pm_node **value);
/* A scalar with a value; reports "no value" and wrong kinds. */
bool pm_want_scalar(struct pm_check *c, const struct pm_node *n, const char *what);
/* Decimal digits only; *overflow when they exceed uint64_t. */
bool pm_parse_digits(const char *s, size_t len, uint64_t *out, bool *overflow);
bool pm_get_string(struct pm_check *c, const struct pm_node *n, const char *what,
		   size_t maxlen, char **out);
bool pm_get_name(struct pm_check *c, const struct pm_node *n, const char *what, char **out);
bool pm_get_uint(struct pm_check *c, const struct pm_node *n, const char *what,
		 uint64_t min, uint64_t max, uint64_t *out);
bool pm_get_bool(struct pm_check *c, const struct pm_node *n, const char *what, bool *out);
/* A size in bytes: digits with an optional binary unit (K, KiB, M, MiB, G,
 * GiB, T, TiB), within [min, max] and a multiple of align (0 or 1: any). */
bool pm_get_size(struct pm_check *c, const struct pm_node *n, const char *what, uint64_t min,
		 uint64_t max, uint64_t align, uint64_t *out);
/* One of names[]; *out is the index. */
bool pm_get_enum(struct pm_check *c, const struct pm_node *n, const char *what,
		 const char *const *names, size_t nnames, unsigned *out);
/* A sequence (or null: empty) of at most PM_LIST_MAX items; false and a
 * diagnostic otherwise. */
bool pm_get_seq(struct pm_check *c, const struct pm_node *n, const char *what);
/* A list of IpC kinds, no duplicates; non-empty if required. */
bool pm_get_ipc_kinds(struct pm_check *c, const struct pm_node *n, const char *what,
		      bool nonempty, uint32_t *out);
void pm_set_src(struct pm_check *c, const struct pm_node *n, struct pm_src *src);
void pm_errorf(struct pm_check *c, const struct pm_node *n, const char *hint,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void pm_warnf(struct pm_check *c, const struct pm_node *n, const char *hint,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Libraries (library.c): needs app->keys parsed and sorted first. */
void pm_check_libraries(struct pm_check *c, const struct pm_node *seq, struct pm_app *app);
/* `files` rules (mount.c) and `network` rules (network.c). */
void pm_check_files(struct pm_check *c, const struct pm_node *seq, struct pm_app *app);
void pm_check_network(struct pm_check *c, const struct pm_node *seq, struct pm_app *app);
void pm_file_rules_free(struct pm_app *app);
void pm_ifaces_free(struct pm_app *app);

/* Names of IpC kinds, loader classes (index = enum value). */
extern const char *const pm_ipc_kind_names[4];
extern const char *const pm_loader_names[3];

#endif /* KX_POLICY_FRONT_H */
