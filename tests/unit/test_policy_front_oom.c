/*
 * Allocation failure in the front end: the k-th allocation made by kx code
 * (malloc, calloc, realloc, strdup are wrapped at link time, see front.mk)
 * fails, for every k until a load completes without reaching it.  Each load
 * must return 0 or -ENOMEM -- never crash, never report a bogus error --
 * and free everything (the sanitizer build checks for leaks).  libyaml's own
 * allocations are not wrapped (it is a shared library).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy-lang/front.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);

static long countdown = -1; /* allocations left before one fails; -1: never */
static bool failed;

static bool fail_now(void)
{
	if (countdown < 0)
		return false;
	if (countdown-- == 0) {
		failed = true;
		return true;
	}
	return false;
}

void *__wrap_malloc(size_t size)
{
	return fail_now() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return fail_now() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
	return fail_now() ? NULL : __real_strdup(s);
}

static const char *const examples[] = {"manifests/kvstore.yaml", "manifests/kvstore-backup.yaml",
				       "manifests/webcache.yaml"};

static void run_until_no_failure(const char *const *paths, size_t n, int clean_rc)
{
	long k;

	for (k = 0;; k++) {
		struct pm_policy p;
		struct pm_diags d;
		int rc;

		failed = false;
		countdown = k;
		rc = pm_load(paths, n, &p, &d);
		countdown = -1;
		if (!failed) {
			assert_int_equal(rc, clean_rc);
			pm_policy_free(&p);
			pm_diags_free(&d);
			break;
		}
		if (rc != -ENOMEM && rc != clean_rc) {
			pm_diags_print(stderr, &d);
			fail_msg("allocation %ld failed: pm_load returned %d", k, rc);
		}
		if (rc == -ENOMEM)
			assert_int_equal(p.napps, 0);
		pm_policy_free(&p);
		pm_diags_free(&d);
	}
	print_message("%ld allocation failures survived\n", k);
	assert_true(k > 50);
}

static void examples_survive_every_allocation_failure(void **state)
{
	(void)state;
	run_until_no_failure(examples, 3, 0);
}

/* A manifest with errors of every stage: diagnostics allocate too. */
static void bad_manifests_survive_every_allocation_failure(void **state)
{
	static const char *const bad[] = {
		"tests/policy/bad/unknown_key.yaml",   "tests/policy/bad/version_syntax.yaml",
		"tests/policy/bad/anchors.yaml",       "tests/policy/bad/trust/a.yaml",
		"tests/policy/bad/trust/b.yaml",       "tests/policy/bad/files.yaml",
		"tests/policy/bad/network_ports.yaml", "tests/policy/bad/shared/one.yaml",
		"tests/policy/bad/shared/two.yaml"};

	(void)state;
	run_until_no_failure(bad, sizeof(bad) / sizeof(bad[0]), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(examples_survive_every_allocation_failure),
		cmocka_unit_test(bad_manifests_survive_every_allocation_failure),
	};
	const char *root = getenv("KX_ROOT");

	if (root != NULL && chdir(root) != 0)
		return 1;
	if (kxsig_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
