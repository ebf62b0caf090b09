/*
 * The `libraries:` list of a manifest: names, signers, version constraints
 * (compiled by the expression language, errors positioned inside the
 * constraint's text), loader class, update, anti-rollback and binding, and
 * the warnings for legal but risky combinations.
 *
 * Input nodes are untrusted (see manifest.c); app->keys must already be
 * parsed and sorted by name.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy-lang/front.h"

enum {
	L_NAME, L_SIGNED_BY, L_VERSION, L_LOADER, L_UPDATE, L_ROLLBACK, L_BIND, L_COUNT
};

static const char *const allow_deny[] = {"deny", "allow"};
static const char *const bind_names[] = {"lazy", "now"};

/* Position of byte `offset` of a scalar's value in the file: exact when the
 * scalar is written on one line without escapes (the usual case), else the
 * scalar's own position. */
static void scalar_position(struct pm_check *c, const struct pm_node *n, size_t offset,
			    uint32_t *line, uint32_t *col)
{
	size_t start;

	*line = n->line;
	*col = n->col;
	if (n->end_line != n->line || !(n->plain || n->quoted))
		return;
	start = pm_dfile_offset(c->f, n->line, n->col);
	if (start == SIZE_MAX)
		return;
	start += n->quoted; /* the opening quote */
	if (start > c->f->len || c->f->len - start < n->len ||
	    memcmp(c->f->buf + start, n->text, n->len) != 0 || offset > n->len)
		return;
	pm_dfile_position(c->f, start + offset, line, col);
}

static void check_version(struct pm_check *c, const struct pm_node *n, struct pm_library *lib)
{
	struct pm_expr_report rep;
	uint32_t line, col;
	int rc;

	if (n->bad)
		return;
	if (n->kind != PM_NODE_SCALAR || pm_node_is_null(n)) {
		pm_errorf(c, n, "quote it: version: \">= 1.2 && < 2\"",
			  "expected a version constraint, got %s", pm_node_kind_name(n));
		return;
	}
	rc = pm_expr_compile(n->text, n->len, &lib->version, &rep);
	if (rc == -ENOMEM) {
		*c->f->nomem = true;
		return;
	}
	if (rc != 0) {
		scalar_position(c, n, rep.error.offset, &line, &col);
		pm_diag(c->f, PM_ERROR, line, col, NULL, "%s%s",
			strncmp(rep.error.msg, "empty version range", 19) == 0
				? ""
				: "invalid version constraint: ",
			rep.error.msg);
		return;
	}
	for (size_t i = 0; i < rep.nwarn; i++) {
		scalar_position(c, n, rep.warn[i].offset, &line, &col);
		pm_diag(c->f, PM_WARNING, line, col, NULL, "%s", rep.warn[i].msg);
	}
	lib->version_text = strdup(n->text);
	if (lib->version_text == NULL)
		*c->f->nomem = true;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_key_name(const void *name, const void *key)
{
	return strcmp(name, ((const struct pm_key *)key)->name);
}

static void check_signers(struct pm_check *c, const struct pm_node *n, const struct pm_app *app,
			  struct pm_library *lib)
{
	const char **names = NULL;
	char q[PM_QUOTE_MAX], hint[PM_HINT_MAX];

	if (n->kind == PM_NODE_SCALAR && !pm_node_is_null(n) && !n->bad) {
		pm_errorf(c, n, "write a list: signed-by: [name]",
			  "expected a list of key names for 'signed-by', got a scalar");
		return;
	}
	if (!pm_get_seq(c, n, "'signed-by'"))
		return;
	if (n->nchild == 0) {
		pm_errorf(c, n, NULL, "'signed-by' must name at least one key from 'keys'");
		return;
	}
	lib->signers = calloc(n->nchild, sizeof(*lib->signers));
	names = calloc(app->nkeys + 1, sizeof(*names));
	if (lib->signers == NULL || names == NULL) {
		*c->f->nomem = true;
		goto out;
	}
	for (size_t i = 0; i < app->nkeys; i++)
		names[i] = app->keys[i].name;
	for (size_t i = 0; i < n->nchild; i++) {
		const struct pm_node *item = n->child[i];
		const struct pm_key *key;
		size_t index;
		bool dup = false;

		if (item->bad)
			continue;
		if (item->kind != PM_NODE_SCALAR || pm_node_is_null(item)) {
			pm_errorf(c, item, NULL, "expected a key name in 'signed-by', got %s",
				  pm_node_kind_name(item));
			continue;
		}
		key = app->nkeys == 0 ? NULL
				      : bsearch(item->text, app->keys, app->nkeys, sizeof(*app->keys),
						cmp_key_name);
		if (key == NULL) {
			pm_errorf(c, item, pm_did_you_mean(hint, item->text, item->len, names,
							   app->nkeys),
				  "key '%s' is not declared in 'keys'",
				  pm_quote(q, item->text, item->len));
			continue;
		}
		index = (size_t)(key - app->keys);
		for (size_t j = 0; j < lib->nsigners; j++)
			dup |= lib->signers[j] == index;
		if (dup) {
			pm_errorf(c, item, NULL, "key '%s' is listed twice in 'signed-by'", key->name);
			continue;
		}
		lib->signers[lib->nsigners++] = index;
	}
	qsort(lib->signers, lib->nsigners, sizeof(*lib->signers), cmp_size);
out:
	free(names);
}

static void warn_risky(struct pm_check *c, const struct pm_node *n, const struct pm_library *lib)
{
	/* kxctl update is judged by `update` alone: loader: any is never needed
	 * for it, and opens links from every app (manifests/README.md). */
	if (lib->loader == PM_LOADER_ANY && lib->update)
		pm_warnf(c, n, "an operator's update needs only update: allow; use loader: self or "
			 "app unless pVMs of other apps must link it",
			 "library '%s' has loader: any and update: allow: pVMs of every app may "
			 "link it, and loader: any is not needed for kxctl update", lib->name);
	if (lib->allow_downgrade && lib->update)
		pm_warnf(c, n, NULL,
			 "library '%s' has rollback: allow: an update may install an older version",
			 lib->name);
	else if (lib->allow_downgrade)
		pm_warnf(c, n, NULL, "rollback: allow has no effect on library '%s' without "
				     "update: allow", lib->name);
}

static void check_library(struct pm_check *c, const struct pm_node *n, const struct pm_app *app,
			  struct pm_library *lib)
{
	static const struct pm_field fields[L_COUNT] = {
		[L_NAME] = {"name", true},       [L_SIGNED_BY] = {"signed-by", true},
		[L_VERSION] = {"version", false}, [L_LOADER] = {"loader", false},
		[L_UPDATE] = {"update", false},   [L_ROLLBACK] = {"rollback", false},
		[L_BIND] = {"bind", false},
	};
	const struct pm_node *v[L_COUNT];
	unsigned e;

	pm_set_src(c, n, &lib->src);
	if (!pm_get_map(c, n, "a library", fields, L_COUNT, v))
		return;
	if (v[L_NAME] != NULL)
		pm_get_name(c, v[L_NAME], "a library name", &lib->name);
	if (v[L_SIGNED_BY] != NULL)
		check_signers(c, v[L_SIGNED_BY], app, lib);
	if (v[L_VERSION] != NULL) {
		check_version(c, v[L_VERSION], lib);
	} else { /* default: any version */
		struct pm_expr_report rep;

		lib->version_text = strdup("*");
		if (lib->version_text == NULL ||
		    pm_expr_compile("*", 1, &lib->version, &rep) != 0)
			*c->f->nomem = true;
	}
	if (v[L_LOADER] != NULL && pm_get_enum(c, v[L_LOADER], "'loader'", pm_loader_names, 3, &e))
		lib->loader = (enum pm_loader)e;
	if (v[L_UPDATE] != NULL && pm_get_enum(c, v[L_UPDATE], "'update'", allow_deny, 2, &e))
		lib->update = e == 1;
	if (v[L_ROLLBACK] != NULL &&
	    pm_get_enum(c, v[L_ROLLBACK], "'rollback'", allow_deny, 2, &e))
		lib->allow_downgrade = e == 1;
	if (v[L_BIND] != NULL && pm_get_enum(c, v[L_BIND], "'bind'", bind_names, 2, &e))
		lib->bind = (enum pm_bind)e;
	if (lib->name != NULL)
		warn_risky(c, n, lib);
}

static int cmp_library(const void *a, const void *b)
{
	const struct pm_library *x = a, *y = b;
	int d = strcmp(x->name, y->name);

	if (d != 0)
		return d;
	return x->src.line < y->src.line ? -1 : x->src.line > y->src.line;
}

void pm_check_libraries(struct pm_check *c, const struct pm_node *seq, struct pm_app *app)
{
	size_t kept = 0;

	if (!pm_get_seq(c, seq, "'libraries'") || seq->nchild == 0)
		return;
	app->libs = calloc(seq->nchild, sizeof(*app->libs));
	if (app->libs == NULL) {
		*c->f->nomem = true;
		return;
	}
	for (size_t i = 0; i < seq->nchild; i++)
		check_library(c, seq->child[i], app, &app->libs[i]);
	/* Keep the named ones, sorted; a name seen twice is an error at the
	 * later entry. */
	for (size_t i = 0; i < seq->nchild; i++) {
		if (app->libs[i].name != NULL)
			app->libs[kept++] = app->libs[i];
		else
			pm_library_free(&app->libs[i]);
	}
	app->nlibs = kept;
	qsort(app->libs, app->nlibs, sizeof(*app->libs), cmp_library);
	for (size_t i = 1, first = 0; i < app->nlibs; i++) {
		if (strcmp(app->libs[first].name, app->libs[i].name) != 0) {
			first = i;
			continue;
		}
		pm_diag(c->f, PM_ERROR, app->libs[i].src.line, app->libs[i].src.col,
			"list each library once, with one version constraint",
			"library '%s' is listed again (first at line %u)", app->libs[i].name,
			(unsigned)app->libs[first].src.line);
	}
}
