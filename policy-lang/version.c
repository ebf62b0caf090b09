/*
 * Dotted numeric versions and version ranges (see model.h).  Shared by the
 * manifest front end, the table writer and the table reader/decision code.
 * Input text is untrusted: every component is bounded and overflow-checked.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy-lang/model.h"

int pm_version_parse(const char *text, struct pm_version *out)
{
	struct pm_version v;
	const char *p = text;

	memset(&v, 0, sizeof(v));
	if (text == NULL)
		return -EINVAL;
	for (;;) {
		uint64_t n = 0;
		const char *start = p;

		if (v.nparts == PM_VERSION_PARTS)
			return -EINVAL;
		while (*p >= '0' && *p <= '9') {
			n = n * 10 + (uint64_t)(*p - '0');
			if (n > UINT32_MAX)
				return -EINVAL;
			p++;
		}
		if (p == start)
			return -EINVAL; /* empty component: "", ".1", "1..2", "1." */
		v.part[v.nparts++] = (uint32_t)n;
		if (*p == '\0')
			break;
		if (*p != '.')
			return -EINVAL;
		p++;
	}
	*out = v;
	return 0;
}

int pm_version_cmp(const struct pm_version *a, const struct pm_version *b)
{
	for (size_t i = 0; i < PM_VERSION_PARTS; i++) {
		uint32_t x = i < a->nparts ? a->part[i] : 0;
		uint32_t y = i < b->nparts ? b->part[i] : 0;

		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

void pm_version_format(const struct pm_version *v, char *buf, size_t size)
{
	size_t used = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < v->nparts && i < PM_VERSION_PARTS; i++) {
		int n = snprintf(buf + used, size - used, i ? ".%u" : "%u", (unsigned)v->part[i]);

		if (n < 0 || (size_t)n >= size - used)
			return; /* truncated; buf stays NUL-terminated */
		used += (size_t)n;
	}
}

static bool above_lo(const struct pm_bound *lo, const struct pm_version *v)
{
	int c;

	if (lo->unbounded)
		return true;
	c = pm_version_cmp(v, &lo->v);
	return c > 0 || (c == 0 && lo->inclusive);
}

static bool below_hi(const struct pm_bound *hi, const struct pm_version *v)
{
	int c;

	if (hi->unbounded)
		return true;
	c = pm_version_cmp(v, &hi->v);
	return c < 0 || (c == 0 && hi->inclusive);
}

bool pm_range_contains(const struct pm_range *r, const struct pm_version *v)
{
	for (size_t i = 0; i < r->n; i++)
		if (above_lo(&r->iv[i].lo, v) && below_hi(&r->iv[i].hi, v))
			return true;
	return false;
}
