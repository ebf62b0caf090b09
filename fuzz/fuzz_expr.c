/*
 * Fuzz harness for the version-constraint language (flex scanner, bison
 * parser, interval algebra).  Checks what pm_expr_compile promises: a
 * failure always says where (inside the text), a success is a canonical
 * range, and the complement of a success compiles to its exact mirror.
 * Seeds: fuzz/corpus/expr; found inputs: fuzz/regress/expr.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy-lang/front.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every interval bound of a is a bound of b the other way round: the
 * complement's gaps are a's intervals. */
static void check_mirror(const struct pm_range *a, const struct pm_range *not_a)
{
	const struct pm_version *edges_a[2 * (PM_EXPR_MAX_BYTES + 2)];
	const struct pm_version *edges_n[2 * (PM_EXPR_MAX_BYTES + 2)];
	size_t na = 0, nn = 0;

	for (size_t i = 0; i < a->n; i++) {
		if (!a->iv[i].lo.unbounded)
			edges_a[na++] = &a->iv[i].lo.v;
		if (!a->iv[i].hi.unbounded)
			edges_a[na++] = &a->iv[i].hi.v;
	}
	for (size_t i = 0; i < not_a->n; i++) {
		if (!not_a->iv[i].lo.unbounded)
			edges_n[nn++] = &not_a->iv[i].lo.v;
		if (!not_a->iv[i].hi.unbounded)
			edges_n[nn++] = &not_a->iv[i].hi.v;
	}
	if (na != nn)
		__builtin_trap();
	for (size_t i = 0; i < na; i++)
		if (pm_version_cmp(edges_a[i], edges_n[i]) != 0)
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pm_range r, not_r;
	struct pm_expr_report rep;
	char *negated = NULL;
	int rc = pm_expr_compile((const char *)data, size, &r, &rep);

	if (rc == -ENOMEM)
		return 0;
	if ((rc != 0) != rep.failed || (rc != 0 && (r.iv != NULL || rep.error.offset > size)))
		__builtin_trap();
	if (rc != 0 || size > PM_EXPR_MAX_BYTES - 3 || r.n > PM_EXPR_MAX_BYTES)
		goto out;
	if (!pm_range_is_canonical(&r))
		__builtin_trap();
	/* "!(text)" compiles unless text closed the parenthesis itself. */
	negated = malloc(size + 3);
	if (negated == NULL)
		goto out;
	negated[0] = '!';
	negated[1] = '(';
	memcpy(negated + 2, data, size);
	negated[size + 2] = ')';
	if (memchr(data, ')', size) == NULL && memchr(data, '(', size) == NULL &&
	    (r.n > 1 || !r.iv[0].lo.unbounded || !r.iv[0].hi.unbounded)) {
		if (pm_expr_compile(negated, size + 3, &not_r, &rep) != 0)
			__builtin_trap();
		if (!pm_range_is_canonical(&not_r))
			__builtin_trap();
		check_mirror(&r, &not_r);
		free(not_r.iv);
	}
out:
	free(negated);
	free(r.iv);
	return 0;
}
