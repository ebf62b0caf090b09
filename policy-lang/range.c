/*
 * Sets of versions, the values of the expression language.
 *
 * A version is at most PM_VERSION_PARTS uint32 parts (missing parts are 0),
 * so versions form a finite, discrete, totally ordered space from 0 to
 * MAX = 4294967295.4294967295.4294967295.4294967295.  A set is a sorted list
 * of half-open intervals [lo, hi) with hi possibly +inf, pairwise disjoint
 * and non-adjacent.  Because every bound is normalised to "lo inclusive, hi
 * exclusive" using the successor in that discrete space, two constraints that
 * accept the same versions compile to the same intervals (`> 1` and
 * `>= 1.0.0.1` agree), and an empty set is recognised exactly (`> 1 &&
 * < 1.0.0.1` is empty).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy-lang/front.h"

struct viv {
	struct pm_version lo; /* inclusive */
	struct pm_version hi; /* exclusive, unless hi_inf */
	bool hi_inf;
};

struct pm_vset {
	struct viv *iv;
	size_t n;
};

static const struct pm_version zero = {.nparts = 1};

/* Add one at part index `at` (carrying leftwards), clearing the parts to its
 * right, so the result has as few parts as it needs.  False when the carry
 * runs off the left end (no such version). */
static bool bump(struct pm_version *v, size_t at)
{
	for (size_t i = at + 1; i < PM_VERSION_PARTS; i++)
		v->part[i] = 0;
	for (size_t i = at + 1; i-- > 0;) {
		if (v->part[i] != UINT32_MAX) {
			v->part[i]++;
			v->nparts = (uint8_t)(i + 1);
			return true;
		}
		v->part[i] = 0;
	}
	return false;
}

/* cmp of two upper bounds, +inf included. */
static int cmp_hi(const struct pm_version *a, bool a_inf, const struct pm_version *b, bool b_inf)
{
	if (a_inf || b_inf)
		return (int)a_inf - (int)b_inf;
	return pm_version_cmp(a, b);
}

/* lo < hi (lo is never infinite). */
static bool lo_below(const struct pm_version *lo, const struct pm_version *hi, bool hi_inf)
{
	return hi_inf || pm_version_cmp(lo, hi) < 0;
}

static struct pm_vset *vset_new(size_t cap)
{
	struct pm_vset *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if (cap > 0) {
		s->iv = calloc(cap, sizeof(*s->iv));
		if (s->iv == NULL) {
			free(s);
			return NULL;
		}
	}
	return s;
}

void pm_vset_free(struct pm_vset *s)
{
	if (s == NULL)
		return;
	free(s->iv);
	free(s);
}

bool pm_vset_empty(const struct pm_vset *s)
{
	return s->n == 0;
}

/* Append [lo, hi) when it is not empty; the caller sized s->iv. */
static void push(struct pm_vset *s, const struct pm_version *lo, const struct pm_version *hi,
		 bool hi_inf)
{
	if (!lo_below(lo, hi, hi_inf))
		return;
	s->iv[s->n].lo = *lo;
	s->iv[s->n].hi = hi_inf ? zero : *hi;
	s->iv[s->n].hi_inf = hi_inf;
	s->n++;
}

struct pm_vset *pm_vset_all(void)
{
	struct pm_vset *s = vset_new(1);

	if (s != NULL)
		push(s, &zero, NULL, true);
	return s;
}

struct pm_vset *pm_vset_none(void)
{
	return vset_new(0);
}

struct pm_vset *pm_vset_cmp(enum pm_cmp op, const struct pm_version *v, bool wild)
{
	struct pm_version start = *v, end = *v;
	bool end_inf;
	struct pm_vset *s;

	if (wild && v->nparts == 0) { /* a bare "*": only == and != mean something */
		if (op == PM_CMP_EQ)
			return pm_vset_all();
		if (op == PM_CMP_NE)
			return pm_vset_none();
		return NULL;
	}
	if (v->nparts == 0 || v->nparts > PM_VERSION_PARTS)
		return NULL;
	/* The versions "v" (or "v.*") stand for: [start, end). */
	if (wild) {
		end_inf = !bump(&end, v->nparts - 1u);
	} else {
		end_inf = !bump(&end, PM_VERSION_PARTS - 1u);
	}
	s = vset_new(2);
	if (s == NULL)
		return NULL;
	switch (op) {
	case PM_CMP_EQ:
		push(s, &start, &end, end_inf);
		break;
	case PM_CMP_NE:
		push(s, &zero, &start, false);
		if (!end_inf)
			push(s, &end, NULL, true);
		break;
	case PM_CMP_LT:
		push(s, &zero, &start, false);
		break;
	case PM_CMP_LE:
		push(s, &zero, &end, end_inf);
		break;
	case PM_CMP_GT:
		if (!end_inf)
			push(s, &end, NULL, true);
		break;
	case PM_CMP_GE:
		push(s, &start, NULL, true);
		break;
	}
	return s;
}

struct pm_vset *pm_vset_not(struct pm_vset *a)
{
	struct pm_vset *s = NULL;
	struct pm_version cur = zero;
	bool cur_inf = false;

	if (a == NULL)
		return NULL;
	s = vset_new(a->n + 1);
	if (s == NULL)
		goto out;
	for (size_t i = 0; i < a->n && !cur_inf; i++) {
		push(s, &cur, &a->iv[i].lo, false);
		cur = a->iv[i].hi;
		cur_inf = a->iv[i].hi_inf;
	}
	if (!cur_inf)
		push(s, &cur, NULL, true);
out:
	pm_vset_free(a);
	return s;
}

struct pm_vset *pm_vset_and(struct pm_vset *a, struct pm_vset *b)
{
	struct pm_vset *s = NULL;
	size_t i = 0, j = 0;

	if (a == NULL || b == NULL)
		goto out;
	s = vset_new(a->n + b->n); /* each step emits at most once and advances */
	if (s == NULL)
		goto out;
	while (i < a->n && j < b->n) {
		const struct viv *x = &a->iv[i], *y = &b->iv[j];
		const struct pm_version *lo = pm_version_cmp(&x->lo, &y->lo) >= 0 ? &x->lo : &y->lo;
		bool x_first = cmp_hi(&x->hi, x->hi_inf, &y->hi, y->hi_inf) <= 0;
		const struct viv *first = x_first ? x : y;

		push(s, lo, &first->hi, first->hi_inf);
		if (x_first)
			i++;
		else
			j++;
	}
out:
	pm_vset_free(a);
	pm_vset_free(b);
	return s;
}

struct pm_vset *pm_vset_or(struct pm_vset *a, struct pm_vset *b)
{
	struct pm_vset *s = NULL;
	size_t i = 0, j = 0;

	if (a == NULL || b == NULL)
		goto out;
	s = vset_new(a->n + b->n);
	if (s == NULL)
		goto out;
	while (i < a->n || j < b->n) {
		const struct viv *next;
		struct viv *last = s->n ? &s->iv[s->n - 1] : NULL;

		if (j == b->n || (i < a->n && pm_version_cmp(&a->iv[i].lo, &b->iv[j].lo) <= 0))
			next = &a->iv[i++];
		else
			next = &b->iv[j++];
		/* Overlapping or adjacent: widen the last interval. */
		if (last != NULL && (last->hi_inf || pm_version_cmp(&next->lo, &last->hi) <= 0)) {
			if (cmp_hi(&next->hi, next->hi_inf, &last->hi, last->hi_inf) > 0) {
				last->hi = next->hi;
				last->hi_inf = next->hi_inf;
			}
			continue;
		}
		s->iv[s->n++] = *next;
	}
out:
	pm_vset_free(a);
	pm_vset_free(b);
	return s;
}

int pm_vset_to_range(const struct pm_vset *s, struct pm_range *out)
{
	memset(out, 0, sizeof(*out));
	if (s->n == 0)
		return -EINVAL;
	out->iv = calloc(s->n, sizeof(*out->iv));
	if (out->iv == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		struct pm_interval *iv = &out->iv[i];

		iv->lo.v = s->iv[i].lo;
		iv->lo.unbounded = pm_version_cmp(&s->iv[i].lo, &zero) == 0;
		iv->lo.inclusive = !iv->lo.unbounded;
		if (iv->lo.unbounded)
			iv->lo.v = zero;
		iv->hi.v = s->iv[i].hi_inf ? zero : s->iv[i].hi;
		iv->hi.unbounded = s->iv[i].hi_inf;
		iv->hi.inclusive = false;
	}
	out->n = s->n;
	return 0;
}

bool pm_range_is_canonical(const struct pm_range *r)
{
	if (r->n == 0 || r->iv == NULL)
		return false;
	for (size_t i = 0; i < r->n; i++) {
		const struct pm_interval *iv = &r->iv[i];

		if (iv->hi.inclusive || (!iv->lo.unbounded && !iv->lo.inclusive))
			return false;
		if (!iv->lo.unbounded && !iv->hi.unbounded && pm_version_cmp(&iv->lo.v, &iv->hi.v) >= 0)
			return false;
		/* A gap before each interval but the first. */
		if (i > 0 && (r->iv[i - 1].hi.unbounded || iv->lo.unbounded ||
			      pm_version_cmp(&r->iv[i - 1].hi.v, &iv->lo.v) >= 0))
			return false;
	}
	return true;
}
