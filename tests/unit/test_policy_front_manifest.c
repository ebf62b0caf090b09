/*
 * Unit tests of the manifest front end against files:
 *  - every bad manifest under tests/policy/bad/ (a file, or a directory of
 *    manifests loaded together) produces exactly the diagnostics written in
 *    its "# expect:" lines (or its .expect sidecar), no more, no fewer;
 *  - hostile inputs built here (oversized, too many nodes, too deep, too
 *    many items, random bytes) are refused with the right diagnostic;
 *  - the example manifests load with no diagnostics and the model they give
 *    is sorted, resolved and mutual as model.h promises.
 *
 * Run from the repository root (make check does), or with $KX_ROOT set.
 */
#define _GNU_SOURCE /* asprintf */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy-lang/front.h"

#define BAD_DIR "tests/policy/bad"
#define MAX_FILES 16

static int load_paths(const char *const *paths, size_t n, struct pm_policy *p,
		      struct pm_diags *d)
{
	return pm_load(paths, n, p, d);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)size + 1);
		if (buf != NULL && fread(buf, 1, (size_t)size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
		}
		if (buf != NULL) {
			buf[size] = '\0';
			*len = (size_t)size;
		}
	}
	fclose(f);
	return buf;
}

/* ---- expectations ------------------------------------------------------------ */

struct expect {
	const char *file;
	enum pm_severity sev;
	unsigned line, col;
	size_t count; /* 0: one diagnostic at line:col; else this many, anywhere */
	char text[256];
	char hint[256];
};

struct expects {
	struct expect e[256];
	size_t n;
};

static bool parse_severity(const char *w, enum pm_severity *sev)
{
	if (strcmp(w, "error") == 0)
		*sev = PM_ERROR;
	else if (strcmp(w, "warning") == 0)
		*sev = PM_WARNING;
	else if (strcmp(w, "note") == 0)
		*sev = PM_NOTE;
	else
		return false;
	return true;
}

/* "# expect: SEV L:C TEXT", "# expect-count: SEV N TEXT", "# hint: TEXT". */
static void read_expects(const char *path, const char *file, struct expects *ex)
{
	size_t len = 0;
	char *buf = read_all(path, &len);
	char *line;

	if (buf == NULL)
		return;
	for (line = buf; line != NULL && line < buf + len;) {
		char *end = memchr(line, '\n', (size_t)(buf + len - line));
		char sev[16];
		int used = 0;

		if (end != NULL)
			*end = '\0';
		if (strncmp(line, "# expect: ", 10) == 0 || strncmp(line, "# expect-count: ", 16) == 0) {
			struct expect *e = &ex->e[ex->n];
			bool counted = line[8] == '-';

			assert_true(ex->n < sizeof(ex->e) / sizeof(ex->e[0]));
			memset(e, 0, sizeof(*e));
			e->file = file;
			if (counted)
				assert_int_equal(sscanf(line + 16, "%15s %zu %n", sev, &e->count, &used), 2);
			else
				assert_int_equal(sscanf(line + 10, "%15s %u:%u %n", sev, &e->line, &e->col,
							&used), 3);
			assert_true(parse_severity(sev, &e->sev));
			snprintf(e->text, sizeof(e->text), "%s", line + (counted ? 16 : 10) + used);
			ex->n++;
		} else if (strncmp(line, "# hint: ", 8) == 0) {
			assert_true(ex->n > 0);
			snprintf(ex->e[ex->n - 1].hint, sizeof(ex->e[0].hint), "%s", line + 8);
		}
		line = end ? end + 1 : NULL;
	}
	free(buf);
}

static bool matches(const struct pm_diag *d, const struct expect *e)
{
	return strcmp(d->file, e->file) == 0 && d->severity == e->sev &&
	       strstr(d->msg, e->text) != NULL &&
	       (e->count > 0 || (d->line == e->line && d->col == e->col)) &&
	       (e->hint[0] == '\0' || (d->hint != NULL && strstr(d->hint, e->hint) != NULL));
}

static const char *sev_name(enum pm_severity s)
{
	return s == PM_ERROR ? "error" : s == PM_WARNING ? "warning" : "note";
}

/* Load `paths` and compare its diagnostics with ex; returns failures. */
static int check_case(const char *name, const char *const *paths, size_t n,
		      const struct expects *ex)
{
	struct pm_policy p;
	struct pm_diags d;
	bool used[PM_DIAGS_PER_FILE * MAX_FILES + MAX_FILES] = {false};
	bool want_errors = false;
	int failures = 0;
	int rc = load_paths(paths, n, &p, &d);

	assert_true(d.n <= sizeof(used) / sizeof(used[0]));
	if (ex->n == 0) {
		print_message("%s: no expectations written\n", name);
		failures++;
	}
	for (size_t i = 0; i < ex->n; i++) {
		const struct expect *e = &ex->e[i];
		size_t found = 0;

		want_errors |= e->sev == PM_ERROR;
		for (size_t k = 0; k < d.n; k++) {
			if (used[k] || !matches(&d.d[k], e))
				continue;
			used[k] = true;
			found++;
			if (e->count == 0)
				break;
		}
		if (found != (e->count ? e->count : 1)) {
			print_message("%s: expected %zu x %s %u:%u '%s' (hint '%s'), found %zu\n",
				      name, e->count ? e->count : 1, sev_name(e->sev), e->line, e->col,
				      e->text, e->hint, found);
			failures++;
		}
	}
	for (size_t k = 0; k < d.n; k++) {
		if (!used[k]) {
			print_message("%s: unexpected %s:%u:%u: %s: %s (hint: %s)\n", name,
				      d.d[k].file, d.d[k].line, d.d[k].col, sev_name(d.d[k].severity),
				      d.d[k].msg, d.d[k].hint ? d.d[k].hint : "-");
			failures++;
		}
	}
	if (rc != (want_errors ? -EINVAL : 0) || (want_errors && p.napps != 0)) {
		print_message("%s: pm_load returned %d with %zu apps\n", name, rc, p.napps);
		failures++;
	}
	pm_policy_free(&p);
	pm_diags_free(&d);
	return failures;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.yaml files of dir, sorted; returns how many. */
static size_t list_yaml(const char *dir, char **out, size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	size_t n = 0;

	assert_non_null(d);
	while ((ent = readdir(d)) != NULL) {
		size_t len = strlen(ent->d_name);

		if (len > 5 && strcmp(ent->d_name + len - 5, ".yaml") == 0) {
			assert_true(n < max);
			assert_true(asprintf(&out[n++], "%s/%s", dir, ent->d_name) > 0);
		}
	}
	closedir(d);
	qsort(out, n, sizeof(*out), cmp_str);
	return n;
}

static void bad_manifests_give_exactly_their_diagnostics(void **state)
{
	char *entries[128];
	size_t nentries = 0, ncases = 0;
	DIR *d = opendir(BAD_DIR);
	struct dirent *ent;
	int failures = 0;

	(void)state;
	assert_non_null(d);
	while ((ent = readdir(d)) != NULL) {
		if (ent->d_name[0] == '.' || strstr(ent->d_name, ".expect") != NULL)
			continue;
		assert_true(nentries < 128);
		assert_true(asprintf(&entries[nentries++], "%s/%s", BAD_DIR, ent->d_name) > 0);
	}
	closedir(d);
	qsort(entries, nentries, sizeof(*entries), cmp_str);
	for (size_t i = 0; i < nentries; i++) {
		static struct expects ex;
		char *files[MAX_FILES];
		size_t nfiles = 0;
		struct stat st;

		ex.n = 0;
		assert_int_equal(stat(entries[i], &st), 0);
		if (S_ISDIR(st.st_mode)) {
			nfiles = list_yaml(entries[i], files, MAX_FILES);
		} else {
			files[0] = strdup(entries[i]);
			nfiles = 1;
		}
		for (size_t k = 0; k < nfiles; k++) {
			char *sidecar = NULL;

			read_expects(files[k], files[k], &ex);
			assert_true(asprintf(&sidecar, "%.*s.expect", (int)strlen(files[k]) - 5,
					     files[k]) > 0);
			read_expects(sidecar, files[k], &ex);
			free(sidecar);
		}
		failures += check_case(entries[i], (const char *const *)files, nfiles, &ex);
		ncases++;
		for (size_t k = 0; k < nfiles; k++)
			free(files[k]);
		free(entries[i]);
	}
	print_message("%zu bad-manifest cases checked\n", ncases);
	assert_true(ncases >= 30);
	assert_int_equal(failures, 0);
}

/* ---- hostile input built here ------------------------------------------------ */

static int no_keys(void *ctx, const char *manifest, const char *path, struct kxsig_pubkey *out,
		   char *why, size_t whysize)
{
	(void)ctx;
	(void)manifest;
	(void)path;
	(void)out;
	snprintf(why, whysize, "no keys in this test");
	return -ENOENT;
}

static const struct pm_key_source no_key_source = {.load = no_keys};

/* Load one buffer; the first diagnostic must contain want, at line:col. */
static void expect_first(const char *buf, size_t len, const char *want, uint32_t line,
			 uint32_t col)
{
	struct pm_input in = {.name = "hostile.yaml", .buf = buf, .len = len};
	struct pm_policy p;
	struct pm_diags d;

	assert_int_equal(pm_load_buffers(&in, 1, &no_key_source, &p, &d), -EINVAL);
	assert_true(d.n >= 1);
	if (strstr(d.d[0].msg, want) == NULL)
		fail_msg("wanted '%s', got '%s'", want, d.d[0].msg);
	assert_int_equal(d.d[0].line, line);
	assert_int_equal(d.d[0].col, col);
	assert_int_equal(p.napps, 0);
	pm_policy_free(&p);
	pm_diags_free(&d);
}

static char *repeat(const char *head, const char *unit, size_t times, const char *tail,
		    size_t *len)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *buf = malloc(hl + ul * times + tl + 1);

	assert_non_null(buf);
	memcpy(buf, head, hl);
	for (size_t i = 0; i < times; i++)
		memcpy(buf + hl + i * ul, unit, ul);
	memcpy(buf + hl + ul * times, tail, tl + 1);
	*len = hl + ul * times + tl;
	return buf;
}

static void size_cap_is_exact(void **state)
{
	size_t len;
	char *buf = repeat("", "#", PM_DOC_MAX_BYTES, "", &len);

	(void)state;
	expect_first(buf, len, "empty manifest", 1, 1); /* at the cap: parsed */
	free(buf);
	buf = repeat("", "#", PM_DOC_MAX_BYTES + 1, "", &len);
	expect_first(buf, len, "larger than the 1048576-byte limit", 1, 1);
	free(buf);
}

static void oversized_file_is_not_read_whole(void **state)
{
	char path[] = "/tmp/kx-front-big-XXXXXX";
	const char *paths[1] = {path};
	struct pm_policy p;
	struct pm_diags d;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 8 * (off_t)PM_DOC_MAX_BYTES), 0);
	close(fd);
	assert_int_equal(pm_load(paths, 1, &p, &d), -EINVAL);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.d[0].msg, "cannot read manifest: larger than the 1 MiB limit");
	assert_int_equal(d.d[0].line, 0);
	pm_diags_free(&d);
	unlink(path);
	/* And a path that does not exist, and a directory. */
	paths[0] = "/nonexistent/kx.yaml";
	assert_int_equal(pm_load(paths, 1, &p, &d), -EINVAL);
	assert_string_equal(d.d[0].msg, "cannot read manifest: No such file or directory");
	pm_diags_free(&d);
	paths[0] = "/tmp";
	assert_int_equal(pm_load(paths, 1, &p, &d), -EINVAL);
	assert_string_equal(d.d[0].msg, "cannot read manifest: Is a directory");
	pm_diags_free(&d);
}

static void node_count_is_capped(void **state)
{
	size_t len;
	char *buf = repeat("kx-manifest: 1\nx: [", "a,", PM_DOC_MAX_NODES, "a]\n", &len);

	(void)state;
	/* The root, two keys, a value and the sequence come first, so item k
	 * (at column 5 + 2(k - 1)) is node 5 + k: the first one over the cap
	 * is item PM_DOC_MAX_NODES - 4. */
	expect_first(buf, len, "too many YAML nodes (limit 65536)", 2,
		     (uint32_t)(5 + 2 * (PM_DOC_MAX_NODES - 5)));
	free(buf);
}

static void depth_cap_is_exact(void **state)
{
	size_t len;
	char *inner = repeat("", "[", PM_DOC_MAX_DEPTH - 1, "", &len);
	char *closing = repeat("", "]", PM_DOC_MAX_DEPTH - 1, "\n", &len);
	char *buf = NULL;

	(void)state;
	/* The root mapping is level 1: 15 more levels are fine... */
	assert_true(asprintf(&buf, "app: %s%s", inner, closing) > 0);
	expect_first(buf, strlen(buf), "missing required key 'kx-manifest'", 1, 1);
	free(buf);
	/* ...16 are one too many. */
	assert_true(asprintf(&buf, "app: [%s]%s", inner, closing) > 0);
	expect_first(buf, strlen(buf), "YAML nested deeper than 16 levels", 1,
		     6 + PM_DOC_MAX_DEPTH - 1);
	free(buf);
	free(inner);
	free(closing);
}

static void list_length_is_capped(void **state)
{
	size_t len;
	char *buf = repeat("family:\n  ipc: [", "pipe, ", PM_LIST_MAX, "pipe]\n", &len);
	struct pm_input in = {.name = "long.yaml", .buf = buf, .len = len};
	struct pm_policy p;
	struct pm_diags d;
	bool seen = false;

	(void)state;
	assert_int_equal(pm_load_buffers(&in, 1, &no_key_source, &p, &d), -EINVAL);
	for (size_t i = 0; i < d.n; i++)
		seen |= strcmp(d.d[i].msg, "'family.ipc' has 1025 items, more than the limit of 1024") == 0;
	assert_true(seen);
	pm_diags_free(&d);
	free(buf);
}

static void diagnostics_per_file_are_capped(void **state)
{
	size_t len;
	char *many = NULL;
	struct pm_input in = {.name = "noisy.yaml"};
	struct pm_policy p;
	struct pm_diags d;

	(void)state;
	/* 300 unknown keys: all counted, 200 kept, one note for the rest. */
	many = malloc(300 * 16 + 64);
	assert_non_null(many);
	len = (size_t)sprintf(many, "kx-manifest: 1\n");
	for (int i = 0; i < 300; i++)
		len += (size_t)sprintf(many + len, "unknown%d: 1\n", i);
	in.buf = many;
	in.len = len;
	assert_int_equal(pm_load_buffers(&in, 1, &no_key_source, &p, &d), -EINVAL);
	assert_int_equal(d.nerrors, 300 + 4); /* and app, image, memory, keys missing */
	assert_int_equal(d.n, PM_DIAGS_PER_FILE + 1);
	assert_int_equal(d.d[0].severity, PM_NOTE); /* line 0 sorts first */
	assert_string_equal(d.d[0].msg, "104 more diagnostics not shown");
	pm_diags_free(&d);
	free(many);
}

static void random_bytes_never_load(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15u;

	(void)state;
	for (int round = 0; round < 300; round++) {
		uint8_t buf[512];
		size_t len = 1 + round % sizeof(buf);
		struct pm_input in = {.name = "random.yaml", .buf = buf, .len = len};
		struct pm_policy p;
		struct pm_diags d;

		for (size_t i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* Half the rounds stay printable ASCII, to get past UTF-8. */
			buf[i] = round % 2 ? (uint8_t)x : (uint8_t)(0x20 + x % 0x5f);
		}
		assert_int_equal(pm_load_buffers(&in, 1, &no_key_source, &p, &d), -EINVAL);
		assert_true(d.nerrors >= 1);
		pm_diags_free(&d);
	}
}

/* ---- the examples ---------------------------------------------------------------- */

static const struct pm_app *app_named(const struct pm_policy *p, const char *name)
{
	for (size_t i = 0; i < p->napps; i++)
		if (strcmp(p->apps[i].name, name) == 0)
			return &p->apps[i];
	return NULL;
}

static const struct pm_library *lib_named(const struct pm_app *a, const char *name)
{
	for (size_t i = 0; i < a->nlibs; i++)
		if (strcmp(a->libs[i].name, name) == 0)
			return &a->libs[i];
	return NULL;
}

static bool contains(const struct pm_library *lib, const char *version)
{
	struct pm_version v;

	assert_int_equal(pm_version_parse(version, &v), 0);
	return pm_range_contains(&lib->version, &v);
}

static void check_invariants(const struct pm_policy *p, unsigned *loaders)
{
	for (size_t i = 0; i < p->napps; i++) {
		const struct pm_app *a = &p->apps[i];
		bool file_ok = false;

		for (size_t f = 0; f < p->nfiles; f++)
			file_ok |= a->src.file == p->files[f];
		assert_true(file_ok);
		if (i > 0)
			assert_true(strcmp(p->apps[i - 1].name, a->name) < 0);
		for (size_t k = 1; k < a->nkeys; k++)
			assert_true(strcmp(a->keys[k - 1].name, a->keys[k].name) < 0);
		for (size_t l = 0; l < a->nlibs; l++) {
			const struct pm_library *lib = &a->libs[l];

			if (l > 0)
				assert_true(strcmp(a->libs[l - 1].name, lib->name) < 0);
			assert_true(lib->nsigners >= 1);
			for (size_t s = 0; s < lib->nsigners; s++) {
				assert_true(lib->signers[s] < a->nkeys);
				if (s > 0)
					assert_true(lib->signers[s - 1] < lib->signers[s]);
			}
			assert_true(lib->version.n >= 1);
			assert_non_null(lib->version_text);
			*loaders |= 1u << lib->loader;
		}
		for (size_t t = 0; t < a->ntrust; t++) {
			const struct pm_app *peer = app_named(p, a->trust[t].peer);
			bool back = false;

			assert_non_null(peer);
			for (size_t u = 0; u < peer->ntrust; u++)
				back |= strcmp(peer->trust[u].peer, a->name) == 0 &&
					peer->trust[u].kinds == a->trust[t].kinds;
			assert_true(back);
			if (t > 0)
				assert_true(strcmp(a->trust[t - 1].peer, a->trust[t].peer) < 0);
		}
	}
}

static void examples_load_cleanly(void **state)
{
	char *files[MAX_FILES];
	size_t n = list_yaml("manifests", files, MAX_FILES);
	struct pm_policy p;
	struct pm_diags d;
	const struct pm_app *kv, *web;
	const struct pm_library *lib;
	unsigned loaders = 0;
	uint8_t revoked[KXSIG_KEYID_BYTES];

	(void)state;
	assert_true(n >= 3);
	assert_int_equal(load_paths((const char *const *)files, n, &p, &d), 0);
	if (d.n > 0)
		pm_diags_print(stderr, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(p.napps, n);
	check_invariants(&p, &loaders);
	assert_int_equal(loaders, 7); /* self, app and any are all used */
	kv = app_named(&p, "kvstore");
	web = app_named(&p, "webcache");
	assert_non_null(kv);
	assert_non_null(web);
	assert_int_equal(kv->memory, 64u << 20);
	lib = lib_named(kv, "libkvmath");
	assert_non_null(lib);
	assert_true(lib->update && !lib->allow_downgrade);
	assert_true(contains(lib, "1.16") && contains(lib, "1.99.7") && !contains(lib, "2.0"));
	assert_false(contains(lib, "1.15.9"));
	lib = lib_named(kv, "libacme-log");
	assert_true(contains(lib, "3.2.0") && !contains(lib, "3.2.1") && contains(lib, "3.2.1.1"));
	assert_int_equal(lib->nsigners, 2);
	lib = lib_named(web, "libhttp");
	assert_true(contains(lib, "2.4.1") && !contains(lib, "2.5.9") && contains(lib, "2.6"));
	assert_int_equal(kv->revoked.nkeyids, 1);
	assert_int_equal(kxsig_hex_parse("f297d45960afa4ff", revoked, sizeof(revoked)), 0);
	assert_memory_equal(kv->revoked.keyids[0], revoked, sizeof(revoked));
	assert_int_equal(kv->revoked.ndigests, 1);
	assert_int_equal(kv->ipc_kinds, PM_IPC_ALL);
	assert_int_equal(kv->fork.max_children, 16);
	assert_true(kv->recycle.allow);
	assert_int_equal(kv->recycle.pool, 4);
	pm_policy_free(&p);
	pm_diags_free(&d);
	for (size_t i = 0; i < n; i++)
		free(files[i]);
}

int main(void)
{
	const char *root = getenv("KX_ROOT");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_manifests_give_exactly_their_diagnostics),
		cmocka_unit_test(size_cap_is_exact),
		cmocka_unit_test(oversized_file_is_not_read_whole),
		cmocka_unit_test(node_count_is_capped),
		cmocka_unit_test(depth_cap_is_exact),
		cmocka_unit_test(list_length_is_capped),
		cmocka_unit_test(diagnostics_per_file_are_capped),
		cmocka_unit_test(random_bytes_never_load),
		cmocka_unit_test(examples_load_cleanly),
	};

	if (root != NULL && chdir(root) != 0)
		return 1;
	if (kxsig_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
