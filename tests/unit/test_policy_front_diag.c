/*
 * Unit tests of the front end's diagnostics and of checks driven from
 * memory (pm_load_buffers with a key source that touches no file): the
 * printed form (caret under the column, tabs and UTF-8 kept aligned, hints),
 * escaping of hostile text, did-you-mean, memory sizes, key-source errors,
 * and loading the same manifests twice giving the same model.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy-lang/front.h"

/* Keys from the path: "bad*" is malformed, "gone*" unreadable, anything
 * else a key whose id is the path's first 8 bytes (zero-padded). */
static int fake_keys(void *ctx, const char *manifest, const char *path,
		     struct kxsig_pubkey *out, char *why, size_t whysize)
{
	size_t *calls = ctx;

	(*calls)++;
	assert_non_null(manifest);
	if (strncmp(path, "bad", 3) == 0) {
		snprintf(why, whysize, "not a key");
		return -EBADMSG;
	}
	if (strncmp(path, "gone", 4) == 0) {
		snprintf(why, whysize, "no such file");
		return -ENOENT;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out->keyid, path, strnlen(path, KXSIG_KEYID_BYTES));
	return 0;
}

static size_t key_calls;
static const struct pm_key_source keys = {.load = fake_keys, .ctx = &key_calls};

#define HEAD "kx-manifest: 1\napp: t\nimage: t.kxe\nkeys: {k: key1}\n"

static int load_text(const char *text, struct pm_policy *p, struct pm_diags *d)
{
	struct pm_input in = {.name = "m.yaml", .buf = text, .len = strlen(text)};

	return pm_load_buffers(&in, 1, &keys, p, d);
}

static char *print_to_string(const struct pm_diags *d)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	assert_non_null(f);
	pm_diags_print(f, d);
	fclose(f);
	return out;
}

static void printed_like_a_compiler(void **state)
{
	struct pm_policy p;
	struct pm_diags d;
	char *out;

	(void)state;
	assert_int_equal(load_text(HEAD "memory: 16M\nlibraries:\n  - name: l\n"
				   "    signed-by: [k]\n    loadr: self\n",
				   &p, &d),
			 -EINVAL);
	out = print_to_string(&d);
	assert_string_equal(out, "m.yaml:9:5: error: unknown key 'loadr' in a library\n"
				 "    loadr: self\n"
				 "    ^\n"
				 "hint: did you mean 'loader'?\n"
				 "1 error and 0 warnings\n");
	free(out);
	pm_diags_free(&d);
}

static void caret_follows_tabs_and_utf8(void **state)
{
	struct pm_policy p;
	struct pm_diags d;
	char *out;

	(void)state;
	/* A two-byte character and a tab before the second offending value:
	 * the caret line counts the character once and keeps the tab. */
	assert_int_equal(load_text(HEAD "memory: 16M\nfamily: {ipc: [\xc3\xa9" "1,\tx]}\n", &p, &d),
			 -EINVAL);
	out = print_to_string(&d);
	assert_string_equal(out, "m.yaml:6:16: error: invalid value '\xc3\xa9" "1' for an IpC kind "
				 "(one of: pipe, signal, msgq, shm)\n"
				 "family: {ipc: [\xc3\xa9" "1,\tx]}\n"
				 "               ^\n"
				 "m.yaml:6:20: error: invalid value 'x' for an IpC kind "
				 "(one of: pipe, signal, msgq, shm)\n"
				 "family: {ipc: [\xc3\xa9" "1,\tx]}\n"
				 "                  \t^\n"
				 "2 errors and 0 warnings\n");
	free(out);
	pm_diags_free(&d);
}

static void hostile_text_is_escaped(void **state)
{
	struct pm_policy p;
	struct pm_diags d;
	char q[PM_QUOTE_MAX], *out;

	(void)state;
	assert_string_equal(pm_quote(q, "a\x1b[31mb\\", 8), "a\\x1b[31mb\\x5c");
	assert_string_equal(pm_quote(q, "\xff\xc3", 2), "\\xff\\xc3");
	assert_string_equal(pm_quote(q, "caf\xc3\xa9", 5), "caf\xc3\xa9");
	memset(q, 'x', sizeof(q));
	{
		char long_text[300];

		memset(long_text, 'y', sizeof(long_text));
		pm_quote(q, long_text, sizeof(long_text));
		assert_int_equal(strlen(q), PM_QUOTE_MAX - 1);
		assert_string_equal(q + PM_QUOTE_MAX - 4, "...");
	}
	/* An escape sequence in a key name never reaches the output raw. */
	assert_int_equal(load_text(HEAD "memory: 16M\n\"\\e]0;pwned\\a\": 1\n", &p, &d), -EINVAL);
	out = print_to_string(&d);
	assert_null(strchr(out, '\x1b'));
	assert_null(strchr(out, '\a'));
	assert_non_null(strstr(out, "unknown key '\\x1b]0;pwned\\x07'"));
	free(out);
	pm_diags_free(&d);
}

static void did_you_mean(void **state)
{
	static const char *const known[] = {"name",   "signed-by", "version", "loader",
					    "update", "rollback",  "bind"};
	static const struct {
		const char *word, *hint;
	} cases[] = {
		{"loadr", "did you mean 'loader'?"},   {"laoder", "did you mean 'loader'?"},
		{"signedby", "did you mean 'signed-by'?"}, {"signed_by", "did you mean 'signed-by'?"},
		{"Version", "did you mean 'version'?"}, {"bnd", "did you mean 'bind'?"},
		{"rolback", "did you mean 'rollback'?"}, {"colour", NULL}, {"x", NULL},
		{"updates-allowed", NULL},
	};
	char buf[PM_HINT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = pm_did_you_mean(buf, cases[i].word, strlen(cases[i].word), known, 7);

		if (cases[i].hint == NULL)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].hint);
	}
	assert_int_equal(pm_edit_distance("kitten", 6, "sitting", 7), 3);
	assert_int_equal(pm_edit_distance("ab", 2, "ba", 2), 1);
	assert_int_equal(pm_edit_distance("", 0, "abc", 3), 3);
}

static void memory_sizes(void **state)
{
	static const struct {
		const char *text;
		uint64_t bytes; /* 0: an error containing msg */
		const char *msg;
	} cases[] = {
		{"64M", 64ull << 20, NULL},
		{"64MiB", 64ull << 20, NULL},
		{"1G", 1ull << 30, NULL},
		{"64G", 64ull << 30, NULL},
		{"2048K", 2ull << 20, NULL},
		{"1048576", 1ull << 20, NULL},
		{"1M", 1ull << 20, NULL},
		{"1020K", 0, "must be between 1M and 64G"},
		{"65G", 0, "must be between 1M and 64G"},
		{"17179869184K", 0, "must be between 1M and 64G"},
		{"1048577", 0, "multiple of 4K"},
		{"99999999999999999999", 0, "too large"},
		{"18014398509481984G", 0, "too large"},
		{"64 M", 0, "expected a size"},
		{"64m", 0, "expected a size"},
		{"0x4000000", 0, "expected a size"},
		{"\"64M\"", 0, "expected a size"},
		{"-64M", 0, "expected a size"},
		{"", 0, "has no value"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		struct pm_policy p;
		struct pm_diags d;
		int rc;

		snprintf(text, sizeof(text), HEAD "memory: %s\n", cases[i].text);
		rc = load_text(text, &p, &d);
		if (cases[i].bytes) {
			assert_int_equal(rc, 0);
			assert_int_equal(p.apps[0].memory, cases[i].bytes);
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_int_equal(d.nerrors, 1);
			if (strstr(d.d[0].msg, cases[i].msg) == NULL)
				fail_msg("memory '%s': got '%s'", cases[i].text, d.d[0].msg);
			assert_int_equal(d.d[0].line, 5);
			/* libyaml puts an empty value right after the colon */
			assert_int_equal(d.d[0].col, cases[i].text[0] ? 9 : 8);
		}
		pm_policy_free(&p);
		pm_diags_free(&d);
	}
}

static void key_source_errors(void **state)
{
	struct pm_policy p;
	struct pm_diags d;

	(void)state;
	key_calls = 0;
	assert_int_equal(load_text("kx-manifest: 1\napp: t\nimage: t.kxe\nmemory: 16M\n"
				   "keys: {a: bad.pub, b: gone.pub, c: fine.pub}\n",
				   &p, &d),
			 -EINVAL);
	assert_int_equal(key_calls, 3);
	assert_int_equal(d.nerrors, 2);
	assert_string_equal(d.d[0].msg, "malformed key file 'bad.pub' for key 'a': not a key");
	assert_int_equal(d.d[0].col, 11);
	assert_string_equal(d.d[1].msg, "cannot read key file 'gone.pub' for key 'b': no such file");
	assert_int_equal(d.d[1].col, 23);
	pm_diags_free(&d);
}

/* Two loads of the same text give the same model, field for field. */
static void loading_is_deterministic(void **state)
{
	static const char text[] = HEAD "memory: 16M\n"
		"libraries:\n"
		"  - {name: zlib, signed-by: [k], version: '1.* || 3.*', loader: any}\n"
		"  - {name: alib, signed-by: [k], version: '!= 2', update: allow, bind: now}\n"
		"family: {ipc: [shm, pipe], fork: {max-children: 2, max-depth: 1, max-members: 3}}\n"
		"recycle: {allow: true}\n";
	struct pm_policy a, b;
	struct pm_diags d;

	(void)state;
	assert_int_equal(load_text(text, &a, &d), 0);
	pm_diags_free(&d);
	assert_int_equal(load_text(text, &b, &d), 0);
	pm_diags_free(&d);
	assert_int_equal(a.napps, 1);
	assert_string_equal(a.apps[0].libs[0].name, "alib"); /* sorted */
	assert_string_equal(a.apps[0].libs[1].name, "zlib");
	assert_int_equal(a.apps[0].ipc_kinds, PM_IPC_PIPE | PM_IPC_SHM);
	assert_int_equal(a.apps[0].libs[0].version.n, 2);
	assert_true(a.apps[0].libs[0].update && a.apps[0].libs[0].bind == PM_BIND_NOW);
	assert_int_equal(a.apps[0].libs[1].loader, PM_LOADER_ANY);
	for (size_t i = 0; i < a.apps[0].nlibs; i++) {
		const struct pm_library *x = &a.apps[0].libs[i], *y = &b.apps[0].libs[i];

		assert_string_equal(x->name, y->name);
		assert_int_equal(x->version.n, y->version.n);
		assert_memory_equal(x->version.iv, y->version.iv, x->version.n * sizeof(*x->version.iv));
		assert_int_equal(x->src.line, y->src.line);
	}
	assert_memory_equal(&a.apps[0].fork.max_children, &b.apps[0].fork.max_children,
			    3 * sizeof(uint32_t));
	pm_policy_free(&a);
	pm_policy_free(&b);
}

static void empty_set_and_null_outputs(void **state)
{
	struct pm_policy p;
	struct pm_diags d;

	(void)state;
	/* No manifests: an empty, valid policy. */
	assert_int_equal(pm_load_buffers(NULL, 0, &keys, &p, &d), 0);
	assert_int_equal(p.napps, 0);
	assert_int_equal(d.n, 0);
	pm_policy_free(&p);
	pm_diags_free(&d);
	pm_diags_free(NULL);
	pm_policy_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(printed_like_a_compiler),
		cmocka_unit_test(caret_follows_tabs_and_utf8),
		cmocka_unit_test(hostile_text_is_escaped),
		cmocka_unit_test(did_you_mean),
		cmocka_unit_test(memory_sizes),
		cmocka_unit_test(key_source_errors),
		cmocka_unit_test(loading_is_deterministic),
		cmocka_unit_test(empty_set_and_null_outputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
