/*
 * Fuzz harness for the manifest front end: YAML reader, schema checks,
 * version constraints and the checks across manifests.  The input is split
 * at "\n%%\n" into up to three manifests loaded together (so trust and
 * duplicate-app checks run too).  Key files never touch the disk: a key
 * source derives keys from their path ("bad..." is malformed, "gone..."
 * unreadable).  Besides "no crash, no leak", the harness checks what
 * pm_load promises: errors if and only if a failure code, and a returned
 * policy that is sorted, resolved, canonical and mutual.
 * Seeds: fuzz/corpus/manifest; found inputs: fuzz/regress/manifest.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "policy-lang/front.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARTS 3

static int path_keys(void *ctx, const char *manifest, const char *path,
		     struct kxsig_pubkey *out, char *why, size_t whysize)
{
	(void)ctx;
	(void)manifest;
	if (strncmp(path, "bad", 3) == 0) {
		snprintf(why, whysize, "malformed");
		return -EBADMSG;
	}
	if (strncmp(path, "gone", 4) == 0) {
		snprintf(why, whysize, "missing");
		return -ENOENT;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out->keyid, path, strnlen(path, KXSIG_KEYID_BYTES));
	return 0;
}

static const struct pm_key_source keys = {.load = path_keys};

static const struct pm_app *find(const struct pm_policy *p, const char *name)
{
	for (size_t i = 0; i < p->napps; i++)
		if (strcmp(p->apps[i].name, name) == 0)
			return &p->apps[i];
	return NULL;
}

static void check_policy(const struct pm_policy *p)
{
	for (size_t i = 0; i < p->napps; i++) {
		const struct pm_app *a = &p->apps[i];

		if (i > 0 && strcmp(p->apps[i - 1].name, a->name) >= 0)
			__builtin_trap();
		if (a->nkeys == 0 || a->image == NULL)
			__builtin_trap();
		for (size_t l = 0; l < a->nlibs; l++) {
			const struct pm_library *lib = &a->libs[l];

			if (l > 0 && strcmp(a->libs[l - 1].name, lib->name) >= 0)
				__builtin_trap();
			if (lib->nsigners == 0 || lib->version_text == NULL)
				__builtin_trap();
			for (size_t s = 0; s < lib->nsigners; s++)
				if (lib->signers[s] >= a->nkeys ||
				    (s > 0 && lib->signers[s - 1] >= lib->signers[s]))
					__builtin_trap();
			if (!pm_range_is_canonical(&lib->version))
				__builtin_trap();
		}
		for (size_t t = 0; t < a->ntrust; t++) {
			const struct pm_app *peer = find(p, a->trust[t].peer);
			bool back = false;

			if (peer == NULL || peer == a || a->trust[t].kinds == 0)
				__builtin_trap();
			for (size_t u = 0; u < peer->ntrust; u++)
				back |= strcmp(peer->trust[u].peer, a->name) == 0 &&
					peer->trust[u].kinds == a->trust[t].kinds;
			if (!back)
				__builtin_trap();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[MAX_PARTS] = {"a.yaml", "dir/b.yaml", "c.yaml"};
	static FILE *sink;
	struct pm_input in[MAX_PARTS];
	const char *text = (const char *)data;
	struct pm_policy p;
	struct pm_diags d;
	size_t n = 0;
	int rc;

	if (sink == NULL)
		sink = fopen("/dev/null", "w");
	while (n < MAX_PARTS) {
		const char *cut = n + 1 < MAX_PARTS ? memmem(text, size, "\n%%\n", 4) : NULL;
		size_t len = cut ? (size_t)(cut - text) : size;

		in[n] = (struct pm_input){.name = names[n], .buf = text, .len = len};
		n++;
		if (cut == NULL)
			break;
		text = cut + 4;
		size -= len + 4;
	}
	rc = pm_load_buffers(in, n, &keys, &p, &d);
	if ((rc == 0) != (d.nerrors == 0) || (rc != 0 && p.napps != 0))
		__builtin_trap();
	if (rc == 0)
		check_policy(&p);
	if (sink != NULL)
		pm_diags_print(sink, &d);
	pm_policy_free(&p);
	pm_diags_free(&d);
	return 0;
}
