/*
 * The `files:` list of a manifest: what a pVM of the app sees as its file
 * system besides its own in-memory tmpfs.  Each rule mounts, at an absolute
 * guest path, either a host directory (`host:`, read-only or, with a size
 * cap, writable) or the read-only tree packed into the signed image
 * (`image: true`).  Checked here: absolute normalised paths without "..",
 * one kind per rule, the mode and the cap, and that no two guest mount
 * points of the app are equal or nested.
 *
 * Input nodes are untrusted (see manifest.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy-lang/front.h"

#define MAX_MIN 4096ull       /* a writable mount's cap: one page at least */
#define MAX_MAX (16ull << 40) /* and at most 16T */

enum { M_GUEST, M_HOST, M_IMAGE, M_MODE, M_MAX, M_COUNT };

static const char *const mode_names[] = {"ro", "rw"};

/* An absolute normalised path, copied into *out. */
static bool get_path(struct pm_check *c, const struct pm_node *n, const char *what, char **out)
{
	char q[PM_QUOTE_MAX], fixed[PM_QUOTE_MAX + 2], hint[PM_HINT_MAX];

	if (!pm_get_string(c, n, what, PM_PATH_MAX, out))
		return false;
	switch (pm_path_check(n->text, n->len)) {
	case PM_PATH_OK:
		return true;
	case PM_PATH_RELATIVE:
		pm_errorf(c, n, NULL, "%s must be an absolute path (starting with '/'), got '%s'",
			  what, pm_quote(q, n->text, n->len));
		break;
	case PM_PATH_DOTDOT:
		pm_errorf(c, n, "name the directory itself", "%s '%s' has a '..' component", what,
			  pm_quote(q, n->text, n->len));
		break;
	case PM_PATH_UNNORMAL:
		pm_path_normalise(n->text, n->len < PM_QUOTE_MAX ? n->len : PM_QUOTE_MAX, fixed,
				  sizeof(fixed));
		snprintf(hint, sizeof(hint), "write '%s'", fixed);
		pm_errorf(c, n, hint, "%s '%s' is not normalised (an empty or '.' component, or "
			  "a trailing '/')", what, pm_quote(q, n->text, n->len));
		break;
	case PM_PATH_CONTROL:
		pm_errorf(c, n, NULL, "%s '%s' holds a control character", what,
			  pm_quote(q, n->text, n->len));
		break;
	case PM_PATH_LONG_NAME:
		pm_errorf(c, n, NULL, "%s has a component longer than 255 bytes", what);
		break;
	}
	free(*out);
	*out = NULL;
	return false;
}

/* One rule; false when it is unusable (then it is not kept). */
static bool check_rule(struct pm_check *c, const struct pm_node *n, struct pm_file_rule *r)
{
	static const struct pm_field fields[M_COUNT] = {
		[M_GUEST] = {"guest", true}, [M_HOST] = {"host", false},
		[M_IMAGE] = {"image", false}, [M_MODE] = {"mode", false},
		[M_MAX] = {"max", false},
	};
	const struct pm_node *v[M_COUNT];
	bool image = false, ok = true;
	unsigned mode = PM_MODE_RO;

	pm_set_src(c, n, &r->src);
	if (!pm_get_map(c, n, "a files rule", fields, M_COUNT, v) || v[M_GUEST] == NULL)
		return false;
	if (!get_path(c, v[M_GUEST], "'guest'", &r->guest))
		ok = false;
	else if (strcmp(r->guest, "/") == 0) {
		pm_errorf(c, v[M_GUEST], "mount at a directory such as /data",
			  "'guest' cannot be '/': the guest's root holds its own /tmp and /dev");
		ok = false;
	}
	if (v[M_IMAGE] != NULL && !pm_get_bool(c, v[M_IMAGE], "'image'", &image))
		ok = false;
	if (v[M_MODE] != NULL && !pm_get_enum(c, v[M_MODE], "'mode'", mode_names, 2, &mode))
		ok = false;
	r->mode = (enum pm_mode)mode;
	if (image) {
		if (v[M_HOST] != NULL) {
			pm_errorf(c, v[M_HOST], "drop 'host', or drop 'image: true'",
				  "a rule with 'image: true' mounts the image's own tree: it has "
				  "no 'host'");
			ok = false;
		}
		if (r->mode == PM_MODE_RW) {
			pm_errorf(c, v[M_MODE], NULL, "the image's tree is read-only (its "
				  "signature covers it): 'mode' must be ro");
			ok = false;
		}
	} else if (v[M_HOST] == NULL) {
		pm_errorf(c, n, "{ guest: /data, host: /var/lib/app } or "
			  "{ guest: /etc/app, image: true }",
			  "a files rule needs 'host' (a host directory) or 'image: true'");
		ok = false;
	} else if (!get_path(c, v[M_HOST], "'host'", &r->host)) {
		ok = false;
	} else if (strcmp(r->host, "/") == 0) {
		pm_errorf(c, v[M_HOST], "name the directory the app needs",
			  "'host' cannot be '/': that grants the host's whole file system");
		ok = false;
	}
	if (v[M_MAX] != NULL && r->mode == PM_MODE_RO && !image)
		pm_warnf(c, v[M_MAX], "drop it, or set mode: rw",
			 "'max' has no effect on a read-only mount");
	else if (v[M_MAX] != NULL && !image &&
		 !pm_get_size(c, v[M_MAX], "'max'", MAX_MIN, MAX_MAX, 0, &r->max))
		ok = false;
	else if (v[M_MAX] != NULL && image)
		pm_warnf(c, v[M_MAX], "drop it",
			 "'max' has no effect on the image's read-only tree");
	if (r->mode == PM_MODE_RW && v[M_MAX] == NULL && !image) {
		pm_errorf(c, n, "add max: SIZE (like 1G)", "a writable mount needs 'max': the most "
			  "bytes the pVM may store there");
		ok = false;
	}
	if (r->mode == PM_MODE_RO)
		r->max = 0;
	return ok;
}

static void rule_free(struct pm_file_rule *r)
{
	free(r->guest);
	free(r->host);
	memset(r, 0, sizeof(*r));
}

void pm_file_rules_free(struct pm_app *app)
{
	for (size_t i = 0; i < app->nfiles; i++)
		rule_free(&app->files[i]);
	free(app->files);
	app->files = NULL;
	app->nfiles = 0;
}

static int cmp_rule(const void *a, const void *b)
{
	const struct pm_file_rule *x = a, *y = b;
	int d = strcmp(x->guest, y->guest);

	return d ? d : (x->src.line > y->src.line) - (x->src.line < y->src.line);
}

/* Sorted by guest path, a rule nested in another follows it (its path
 * extends the other's): comparing neighbours is not enough ("/a", "/a-b",
 * "/a/c"), so each rule is compared with every earlier one that is a
 * prefix; apps have few rules. */
static void check_overlaps(struct pm_check *c, struct pm_app *app)
{
	const char *rest;

	for (size_t i = 1; i < app->nfiles; i++) {
		const struct pm_file_rule *r = &app->files[i];

		for (size_t j = 0; j < i; j++) {
			const struct pm_file_rule *o = &app->files[j];

			if (!pm_path_within(r->guest, o->guest, &rest))
				continue;
			if (*rest == '\0')
				pm_diag(c->f, PM_ERROR, r->src.line, r->src.col,
					"one rule per mount point", "guest path '%s' is mounted "
					"twice (first at line %u)", r->guest, (unsigned)o->src.line);
			else
				pm_diag(c->f, PM_ERROR, r->src.line, r->src.col,
					"mount points may not nest", "guest path '%s' is inside "
					"'%s', mounted at line %u", r->guest, o->guest,
					(unsigned)o->src.line);
			break;
		}
	}
	/* one host directory reachable through two mounts: legal, but a
	 * read-only rule then does not make it read-only */
	for (size_t i = 0; i < app->nfiles; i++) {
		for (size_t j = 0; j < app->nfiles; j++) {
			const struct pm_file_rule *r = &app->files[i], *o = &app->files[j];

			if (i == j || r->host == NULL || o->host == NULL ||
			    !pm_path_within(r->host, o->host, &rest) ||
			    (*rest == '\0' && j > i))
				continue;
			pm_diag(c->f, PM_WARNING, r->src.line, r->src.col, NULL,
				"host directory '%s' is also reachable through the mount at "
				"line %u (host '%s')", r->host, (unsigned)o->src.line, o->host);
			break;
		}
	}
}

void pm_check_files(struct pm_check *c, const struct pm_node *seq, struct pm_app *app)
{
	if (!pm_get_seq(c, seq, "'files'") || seq->nchild == 0)
		return;
	app->files = calloc(seq->nchild, sizeof(*app->files));
	if (app->files == NULL) {
		*c->f->nomem = true;
		return;
	}
	for (size_t i = 0; i < seq->nchild; i++) {
		struct pm_file_rule *r = &app->files[app->nfiles];

		if (check_rule(c, seq->child[i], r))
			app->nfiles++;
		else
			rule_free(r);
	}
	qsort(app->files, app->nfiles, sizeof(*app->files), cmp_rule);
	check_overlaps(c, app);
}
