/*
 * Loading a set of manifests: each one is read and checked on its own
 * (manifest.c, schema.c, library.c), then the checks that need the whole set
 * run here -- app names unique, cross-family trust mutual, keys revoked by
 * one app but trusted by another, host directories and addresses shared by
 * two apps -- and the checked apps become the
 * pm_policy the table writer consumes.  A policy with any error is never
 * handed out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy-lang/front.h"

void pm_library_free(struct pm_library *lib)
{
	free(lib->name);
	free(lib->signers);
	free(lib->version_text);
	free(lib->version.iv);
	memset(lib, 0, sizeof(*lib));
}

void pm_app_free(struct pm_app *app)
{
	free(app->name);
	free(app->image);
	for (size_t i = 0; i < app->nkeys; i++) {
		free(app->keys[i].name);
		free(app->keys[i].path);
	}
	free(app->keys);
	for (size_t i = 0; i < app->nlibs; i++)
		pm_library_free(&app->libs[i]);
	free(app->libs);
	for (size_t i = 0; i < app->ntrust; i++)
		free(app->trust[i].peer);
	free(app->trust);
	free(app->revoked.keyids);
	free(app->revoked.keyid_src);
	free(app->revoked.digests);
	free(app->revoked.digest_src);
	pm_file_rules_free(app);
	pm_ifaces_free(app);
	memset(app, 0, sizeof(*app));
}

void pm_policy_free(struct pm_policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->napps; i++)
		pm_app_free(&p->apps[i]);
	free(p->apps);
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	free(p->files);
	memset(p, 0, sizeof(*p));
}

/* ---- checks across manifests ---------------------------------------------- */

struct named {
	const char *name;
	size_t index; /* into set.apps: input order */
};

struct set {
	struct pm_app *apps;   /* one per input, in input order */
	struct pm_dfile *f;    /* one per input */
	size_t n;
	struct named *by_name; /* named apps, sorted by name, then input order */
	const char **names;    /* the same names, for hints */
	size_t nnamed;
};

static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int d = strcmp(x->name, y->name);

	/* Equal names: the earlier file is "the" definition. */
	return d ? d : (x->index > y->index) - (x->index < y->index);
}

static size_t file_of(const struct set *s, const struct pm_app *app)
{
	return (size_t)(app - s->apps);
}

/* The (first) app called name, or NULL. */
static const struct pm_app *find_app(const struct set *s, const char *name)
{
	size_t lo = 0, hi = s->nnamed;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(name, s->by_name[mid].name) <= 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo < s->nnamed && strcmp(name, s->by_name[lo].name) == 0)
		return &s->apps[s->by_name[lo].index];
	return NULL;
}

static int index_names(struct set *s)
{
	s->by_name = calloc(s->n + 1, sizeof(*s->by_name));
	s->names = calloc(s->n + 1, sizeof(*s->names));
	if (s->by_name == NULL || s->names == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		if (s->apps[i].name != NULL)
			s->by_name[s->nnamed++] = (struct named){s->apps[i].name, i};
	qsort(s->by_name, s->nnamed, sizeof(*s->by_name), cmp_named);
	for (size_t i = 0; i < s->nnamed; i++)
		s->names[i] = s->by_name[i].name;
	return 0;
}

static void check_unique_apps(struct set *s)
{
	for (size_t i = 1; i < s->nnamed; i++) {
		const struct pm_app *first = &s->apps[s->by_name[i - 1].index];
		const struct pm_app *again = &s->apps[s->by_name[i].index];

		if (strcmp(first->name, again->name) != 0)
			continue;
		pm_diag(&s->f[file_of(s, again)], PM_ERROR, again->src.line, again->src.col,
			"each app has exactly one manifest", "app '%s' is already defined in %s",
			again->name, s->f[file_of(s, first)].file);
	}
}

static const struct pm_trust *find_trust(const struct pm_app *app, const char *peer)
{
	for (size_t i = 0; i < app->ntrust; i++)
		if (strcmp(app->trust[i].peer, peer) == 0)
			return &app->trust[i];
	return NULL;
}

static void kinds_text(uint32_t kinds, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned k = 0; k < 4; k++)
		if (kinds & (1u << k) && used < size)
			used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
						 pm_ipc_kind_names[k]);
}

/* Every kind app grants peer must be granted back: report each rule once,
 * at the side that declares more than it gets. */
static void check_mutual(struct set *s, const struct pm_app *app)
{
	struct pm_dfile *f = &s->f[file_of(s, app)];
	char hint[PM_HINT_MAX + PM_PATH_MAX];

	for (size_t i = 0; i < app->ntrust; i++) {
		const struct pm_trust *t = &app->trust[i];
		const struct pm_app *peer = find_app(s, t->peer);
		const struct pm_trust *back;
		char missing[64], granted[64];

		if (peer == app)
			continue; /* already an error in schema.c */
		if (peer == NULL) {
			pm_diag(f, PM_ERROR, t->src.line, t->src.col,
				pm_did_you_mean(hint, t->peer, strlen(t->peer), s->names,
						s->nnamed),
				"trust names app '%s', which has no manifest in this policy",
				t->peer);
			continue;
		}
		back = find_trust(peer, app->name);
		if (back == NULL) {
			kinds_text(t->kinds, missing, sizeof(missing));
			snprintf(hint, sizeof(hint), "add {app: %s, ipc: [%s]} to family.trust in %s",
				 app->name, missing, s->f[file_of(s, peer)].file);
			pm_diag(f, PM_ERROR, t->src.line, t->src.col, hint,
				"trust is not mutual: '%s' has no trust rule for '%s'", peer->name,
				app->name);
			continue;
		}
		if ((t->kinds & ~back->kinds) == 0)
			continue;
		kinds_text(t->kinds & ~back->kinds, missing, sizeof(missing));
		kinds_text(back->kinds, granted, sizeof(granted));
		snprintf(hint, sizeof(hint), "add %s to the rule for '%s' in %s, or drop it here",
			 missing, app->name, s->f[file_of(s, peer)].file);
		pm_diag(f, PM_ERROR, t->src.line, t->src.col, hint,
			"trust is not mutual for %s: '%s' trusts '%s' only for %s", missing,
			peer->name, app->name, granted);
	}
}

/* A key that one app revokes is suspicious wherever it is still trusted. */
static void check_revoked_elsewhere(struct set *s, const struct pm_app *app)
{
	for (size_t o = 0; o < s->n; o++) {
		const struct pm_app *other = &s->apps[o];

		if (other == app || other->name == NULL)
			continue;
		for (size_t r = 0; r < other->revoked.nkeyids; r++) {
			for (size_t k = 0; k < app->nkeys; k++) {
				const struct pm_key *key = &app->keys[k];
				char hex[2 * KXSIG_KEYID_BYTES + 1];

				if (memcmp(key->keyid, other->revoked.keyids[r], KXSIG_KEYID_BYTES))
					continue;
				kxsig_keyid_hex(key->keyid, hex);
				pm_diag(&s->f[file_of(s, app)], PM_WARNING, key->src.line,
					key->src.col, NULL,
					"key '%s' (id %s) is trusted here but revoked by app '%s' (%s:%u)",
					key->name, hex, other->name, s->f[o].file,
					(unsigned)other->revoked.keyid_src[r].line);
			}
		}
	}
}

/* Two apps on one host directory (one of them writing) or one IPv4
 * address: legal, but their pVMs then share data or collide on the wire. */
static void check_shared_with(struct set *s, const struct pm_app *app, size_t o)
{
	const struct pm_app *other = &s->apps[o];
	struct pm_dfile *f = &s->f[file_of(s, app)];
	const char *rest;

	for (size_t i = 0; i < app->nfiles; i++) {
		const struct pm_file_rule *r = &app->files[i];

		for (size_t j = 0; r->host != NULL && j < other->nfiles; j++) {
			const struct pm_file_rule *x = &other->files[j];

			if (x->host == NULL || (r->mode == PM_MODE_RO && x->mode == PM_MODE_RO) ||
			    !(pm_path_within(r->host, x->host, &rest) ||
			      pm_path_within(x->host, r->host, &rest)))
				continue;
			pm_diag(f, PM_WARNING, r->src.line, r->src.col, NULL,
				"host directory '%s' is also granted to app '%s' (%s:%u, '%s', "
				"%s): their pVMs share what is written there", r->host, other->name,
				s->f[o].file, (unsigned)x->src.line, x->host,
				x->mode == PM_MODE_RW ? "rw" : "ro");
			break;
		}
	}
	for (size_t i = 0; i < app->nifaces; i++) {
		const struct pm_iface *mine = &app->ifaces[i];

		for (size_t j = 0; j < other->nifaces; j++) {
			char a[PM_IPV4_TEXT_MAX];

			if (mine->addr != other->ifaces[j].addr)
				continue;
			pm_ipv4_format(mine->addr, a);
			pm_diag(f, PM_WARNING, mine->src.line, mine->src.col, NULL,
				"address %s is also the address of interface '%s' of app '%s' "
				"(%s:%u)", a, other->ifaces[j].name, other->name, s->f[o].file,
				(unsigned)other->ifaces[j].src.line);
		}
	}
}

static void check_shared(struct set *s, const struct pm_app *app)
{
	for (size_t o = 0; o < s->n; o++)
		if (&s->apps[o] != app && s->apps[o].name != NULL)
			check_shared_with(s, app, o);
}

static int cmp_app(const void *a, const void *b)
{
	return strcmp(((const struct pm_app *)a)->name, ((const struct pm_app *)b)->name);
}

/* ---- loading ------------------------------------------------------------------ */

int pm_load_inputs(const struct pm_input *in, size_t n, const int *read_err,
		   const struct pm_key_source *keys, struct pm_policy *out,
		   struct pm_diags *diags)
{
	struct set s = {.n = n};
	struct pm_policy p = {0};
	bool nomem = false;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	memset(diags, 0, sizeof(*diags));
	s.apps = calloc(n ? n : 1, sizeof(*s.apps));
	s.f = calloc(n ? n : 1, sizeof(*s.f));
	p.files = calloc(n ? n : 1, sizeof(*p.files));
	if (s.apps == NULL || s.f == NULL || p.files == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		struct pm_check c = {.f = &s.f[i], .keys = keys, .manifest = in[i].name};
		struct pm_doc doc;

		p.files[i] = strdup(in[i].name);
		if (p.files[i] == NULL)
			goto nomem;
		p.nfiles++;
		if (pm_dfile_open(diags, in[i].name, i, &nomem, &s.f[i]) < 0)
			goto nomem;
		c.src_file = p.files[i];
		if (read_err != NULL && read_err[i] != 0) {
			pm_diag(&s.f[i], PM_ERROR, 0, 0, NULL, "cannot read manifest: %s",
				read_err[i] == EFBIG ? "larger than the 1 MiB limit"
						     : strerror(read_err[i]));
			continue;
		}
		pm_dfile_set_source(&s.f[i], in[i].buf, in[i].len);
		if (pm_doc_read(in[i].buf, in[i].len, &s.f[i], &doc) < 0)
			goto nomem;
		if (doc.root != NULL)
			pm_check_app(&c, doc.root, &s.apps[i]);
		pm_doc_free(&doc);
	}
	if (index_names(&s) < 0)
		goto nomem;
	check_unique_apps(&s);
	for (size_t i = 0; i < n; i++)
		if (s.apps[i].name != NULL)
			check_mutual(&s, &s.apps[i]);
	for (size_t i = 0; i < n && diags->nerrors == 0; i++) {
		check_revoked_elsewhere(&s, &s.apps[i]);
		check_shared(&s, &s.apps[i]);
	}
	if (nomem)
		goto nomem;
	if (diags->nerrors > 0) {
		rc = -EINVAL;
		goto out;
	}
	/* Clean: hand the apps over, sorted by name. */
	p.apps = s.apps;
	p.napps = n;
	s.apps = NULL;
	qsort(p.apps, p.napps, sizeof(*p.apps), cmp_app);
	*out = p;
	memset(&p, 0, sizeof(p));
	goto out;
nomem:
	rc = -ENOMEM;
out:
	for (size_t i = 0; i < n && s.f != NULL; i++)
		if (s.f[i].ds != NULL)
			pm_dfile_close(&s.f[i]);
	pm_diags_sort(diags);
	for (size_t i = 0; i < n && s.apps != NULL; i++)
		pm_app_free(&s.apps[i]);
	free(s.apps);
	free(s.f);
	free(s.by_name);
	free(s.names);
	pm_policy_free(&p);
	return rc;
}

int pm_load_buffers(const struct pm_input *in, size_t n, const struct pm_key_source *keys,
		    struct pm_policy *out, struct pm_diags *diags)
{
	return pm_load_inputs(in, n, NULL, keys, out, diags);
}
