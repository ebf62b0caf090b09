/*
 * Unit tests of the version-constraint language (expr.y, expr.l, range.c):
 * compiled forms, errors with their offsets, warnings, membership of chosen
 * versions, and the algebra (complement, intersection, union) checked on
 * random expressions against a grid of versions.
 */
#define _GNU_SOURCE /* asprintf */
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

/* "lo..hi" per interval, "*" for an unbounded end, joined by " | ". */
static void canon(const struct pm_range *r, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < r->n && used < size; i++) {
		char lo[PM_VERSION_TEXT_MAX], hi[PM_VERSION_TEXT_MAX];

		pm_version_format(&r->iv[i].lo.v, lo, sizeof(lo));
		pm_version_format(&r->iv[i].hi.v, hi, sizeof(hi));
		used += (size_t)snprintf(out + used, size - used, "%s%s..%s", i ? " | " : "",
					 r->iv[i].lo.unbounded ? "*" : lo,
					 r->iv[i].hi.unbounded ? "*" : hi);
	}
}

static void compiles_to_canonical_intervals(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{">= 1.16 && < 2", "1.16..2"},
		{"2.1.*", "2.1..2.2"},
		{"== 2.1.*", "2.1..2.2"},
		{"!= 2.1.*", "*..2.1 | 2.2..*"},
		{"!= 1.5", "*..1.5 | 1.5.0.1..*"},
		{"1.2", "1.2..1.2.0.1"},
		{"== 1.2.0", "1.2.0..1.2.0.1"},
		{"*", "*..*"},
		{"== *", "*..*"},
		{"> 1", "1.0.0.1..*"},
		{">= 1.0.0.1", "1.0.0.1..*"},
		{"<= 2", "*..2.0.0.1"},
		{"< 2.1.*", "*..2.1"},
		{"<= 2.1.*", "*..2.2"},
		{"> 2.1.*", "2.2..*"},
		{">= 2.1.*", "2.1..*"},
		{"0", "*..0.0.0.1"},
		{">= 0", "*..*"},
		{"< 1 || >= 1", "*..*"},
		{"1.* || 2.*", "1..3"},             /* adjacent: merged */
		{"3.* || 1.*", "1..2 | 3..4"},       /* sorted */
		{"1.* || 1.5.*", "1..2"},           /* nested: absorbed */
		{"!(>= 1 && < 2)", "*..1 | 2..*"},
		{"!!1.2", "1.2..1.2.0.1"},
		{"!1.* || 2.*", "*..1 | 2..*"},     /* ! binds tighter than || */
		{"!(1.* || 2.*)", "*..1 | 3..*"},
		{"1.* || 2.* && 2.5.*", "1..2 | 2.5..2.6"}, /* && tighter than || */
		{"(1.* || 2.*) && 2.5.*", "2.5..2.6"},
		{">= 1 && < 5 && != 3.*", "1..3 | 4..5"},
		{"4294967295.*", "4294967295..*"},
		{"1.4294967295.*", "1.4294967295..2"},
		{"1.2.3.4.*", "1.2.3.4..1.2.3.5"},
		{"4294967295.4294967295.4294967295.4294967295", "4294967295.4294967295.4294967295.4294967295..*"},
		{"< 4294967295.4294967295.4294967295.4294967295", "*..4294967295.4294967295.4294967295.4294967295"},
		{"1.2.3.4294967295", "1.2.3.4294967295..1.2.4"},
		{" \t>=1.0\t&&<2 ", "1.0..2"},
		{"007.01", "7.1..7.1.0.1"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pm_range r;
		struct pm_expr_report rep;
		char got[256];

		if (pm_expr_compile(cases[i].text, strlen(cases[i].text), &r, &rep) != 0)
			fail_msg("'%s': %s", cases[i].text, rep.error.msg);
		assert_true(pm_range_is_canonical(&r));
		canon(&r, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("'%s' gave '%s', wanted '%s'", cases[i].text, got, cases[i].want);
		free(r.iv);
	}
}

/* The canonical-form check itself, on ranges built by hand. */
static void canonical_form_is_checked(void **state)
{
	struct pm_interval iv[2];
	struct pm_range r = {.iv = iv, .n = 2};

	(void)state;
	memset(iv, 0, sizeof(iv));
	assert_int_equal(pm_version_parse("1", &iv[0].lo.v), 0);
	assert_int_equal(pm_version_parse("2", &iv[0].hi.v), 0);
	assert_int_equal(pm_version_parse("3", &iv[1].lo.v), 0);
	iv[0].lo.inclusive = iv[1].lo.inclusive = true;
	iv[1].hi.unbounded = true;
	assert_true(pm_range_is_canonical(&r)); /* [1, 2) [3, inf) */
	iv[0].hi.inclusive = true;                   /* [1, 2] */
	assert_false(pm_range_is_canonical(&r));
	iv[0].hi.inclusive = false;
	iv[1].lo.v = iv[0].hi.v;                     /* adjacent: [1, 2) [2, inf) */
	assert_false(pm_range_is_canonical(&r));
	assert_int_equal(pm_version_parse("1.5", &iv[1].lo.v), 0); /* overlapping */
	assert_false(pm_range_is_canonical(&r));
	assert_int_equal(pm_version_parse("3", &iv[1].lo.v), 0);
	iv[0].lo.inclusive = false;                  /* (1, 2) */
	assert_false(pm_range_is_canonical(&r));
	iv[0].lo.unbounded = true;                   /* [0, 2) */
	assert_true(pm_range_is_canonical(&r));
	iv[1].lo.unbounded = true;                   /* a second interval from 0 */
	assert_false(pm_range_is_canonical(&r));
	iv[1].lo.unbounded = false;
	assert_int_equal(pm_version_parse("2", &iv[0].lo.v), 0);
	iv[0].lo.unbounded = false;
	iv[0].lo.inclusive = true;                   /* [2, 2): empty */
	assert_false(pm_range_is_canonical(&r));
	r.n = 0;
	assert_false(pm_range_is_canonical(&r));
}

static void errors_name_their_offset(void **state)
{
	static const struct {
		const char *text;
		size_t len; /* 0: strlen */
		size_t offset;
		const char *msg;
	} cases[] = {
		{"", 0, 0, "unexpected end of constraint"},
		{">= 1.2 &&", 0, 9, "unexpected end of constraint"},
		{"1.2.3.4.5", 0, 8, "a version has at most 4 parts"},
		{"4294967296", 0, 0, "version part too large"},
		{"1.99999999999999999999", 0, 2, "version part too large"},
		{"1)", 0, 1, "unexpected )"},
		{"(1", 0, 2, "unexpected end of constraint"},
		{"()", 0, 1, "unexpected )"},
		{"!", 0, 1, "unexpected end of constraint"},
		{"1 2", 0, 2, "unexpected version"},
		{"**", 0, 1, "unexpected version"},
		{"< *", 0, 2, "'*' can only follow == or !="},
		{">= *", 0, 3, "'*' can only follow == or !="},
		{"= 1", 0, 0, "unexpected '='"},
		{"1 & 2", 0, 2, "unexpected '&'"},
		{"1 | 2", 0, 2, "unexpected '|'"},
		{"1.x", 0, 1, "unexpected character '.'"},
		{"1..2", 0, 1, "unexpected character '.'"},
		{"1.*.2", 0, 3, "unexpected character '.'"},
		{"v1.2", 0, 0, "unexpected character 'v'"},
		{"1\n", 0, 1, "unexpected character '\\x0a'"},
		{"1\0", 2, 1, "unexpected character '\\x00'"},
		{"\xc3\xa9", 0, 0, "unexpected character '\\xc3'"},
		{"-1", 0, 0, "unexpected character '-'"},
		/* empty ranges: at the contradictory && if any, else the start */
		{">= 2 && < 1", 0, 5, "empty version range"},
		{"1.* && (2.* || 3.*)", 0, 4, "empty version range"},
		{"!*", 0, 0, "empty version range"},
		{"!= *", 0, 0, "empty version range"},
		{"< 0", 0, 0, "empty version range"},
		{"> 1 && < 1.0.0.1", 0, 4, "empty version range"},
		{"> 4294967295.4294967295.4294967295.4294967295", 0, 0, "empty version range"},
		{"> 4294967295.*", 0, 0, "empty version range"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pm_range r;
		struct pm_expr_report rep;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);

		assert_int_equal(pm_expr_compile(cases[i].text, len, &r, &rep), -EINVAL);
		assert_true(rep.failed);
		assert_null(r.iv);
		if (strstr(rep.error.msg, cases[i].msg) == NULL || rep.error.offset != cases[i].offset)
			fail_msg("'%s': got '%s' at %zu, wanted '%s' at %zu", cases[i].text,
				 rep.error.msg, rep.error.offset, cases[i].msg, cases[i].offset);
	}
}

static void contradictions_inside_are_warnings(void **state)
{
	struct pm_range r;
	struct pm_expr_report rep;
	const char *text = "(> 3 && < 2) || 1.4 || (1.* && 2.*)";

	(void)state;
	assert_int_equal(pm_expr_compile(text, strlen(text), &r, &rep), 0);
	assert_int_equal(rep.nwarn, 2);
	assert_int_equal(rep.warn[0].offset, 5);
	assert_int_equal(rep.warn[1].offset, 28);
	assert_string_equal(rep.warn[0].msg, "no version satisfies both sides of this '&&'");
	free(r.iv);
}

static void length_and_nesting_limits(void **state)
{
	char *text = NULL;
	struct pm_range r;
	struct pm_expr_report rep;
	size_t depth = 400;

	(void)state;
	/* 400 parentheses deep: fine (the parser's stack grows). */
	text = malloc(2 * depth + 2);
	assert_non_null(text);
	memset(text, '(', depth);
	text[depth] = '1';
	memset(text + depth + 1, ')', depth);
	assert_int_equal(pm_expr_compile(text, 2 * depth + 1, &r, &rep), 0);
	assert_int_equal(r.n, 1);
	free(r.iv);
	free(text);
	/* 1024 bytes compile, 1025 do not. */
	text = malloc(PM_EXPR_MAX_BYTES + 2);
	assert_non_null(text);
	memset(text, ' ', PM_EXPR_MAX_BYTES + 1);
	text[0] = '1';
	assert_int_equal(pm_expr_compile(text, PM_EXPR_MAX_BYTES, &r, &rep), 0);
	free(r.iv);
	assert_int_equal(pm_expr_compile(text, PM_EXPR_MAX_BYTES + 1, &r, &rep), -EINVAL);
	assert_string_equal(rep.error.msg, "constraint longer than 1024 bytes");
	free(text);
}

static void membership_of_chosen_versions(void **state)
{
	static const struct {
		const char *text, *version;
		bool in;
	} cases[] = {
		{">= 1.16 && < 2", "1.16", true},      {">= 1.16 && < 2", "1.16.0.0", true},
		{">= 1.16 && < 2", "1.2", false},      {">= 1.16 && < 2", "1.99.99", true},
		{">= 1.16 && < 2", "2", false},        {">= 1.16 && < 2", "2.0.0.1", false},
		{"2.1.*", "2.1", true},                {"2.1.*", "2.1.4294967295", true},
		{"2.1.*", "2.2", false},               {"2.1.*", "2.0.9", false},
		{"!= 1.5", "1.5", false},              {"!= 1.5", "1.5.0.0", false},
		{"!= 1.5", "1.5.0.1", true},           {"!= 1.5", "1.4", true},
		{"> 1", "1", false},                   {"> 1", "1.0.0.1", true},
		{"<= 2", "2", true},                   {"<= 2", "2.0.0.1", false},
		{"!(1.* || 3.*)", "2.5", true},        {"!(1.* || 3.*)", "3.1", false},
		{"*", "0", true},                      {"*", "4294967295.4294967295", true},
		{"1.* || 2.* && 2.5.*", "2.1", false}, {"1.* || 2.* && 2.5.*", "1.9", true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pm_range r;
		struct pm_expr_report rep;
		struct pm_version v;

		assert_int_equal(pm_expr_compile(cases[i].text, strlen(cases[i].text), &r, &rep), 0);
		assert_int_equal(pm_version_parse(cases[i].version, &v), 0);
		if (pm_range_contains(&r, &v) != cases[i].in)
			fail_msg("'%s' %s '%s'", cases[i].text,
				 cases[i].in ? "should contain" : "should not contain",
				 cases[i].version);
		free(r.iv);
	}
}

/* ---- the algebra, on random expressions ---------------------------------------- */

static uint64_t rng = 0x2545f4914f6cdd1du;

static unsigned next(unsigned bound)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % bound);
}

/* Versions around the interesting places: small parts, the top of the
 * range, and their successors. */
static const char *const grid[] = {
	"0", "0.0.0.1", "1", "1.0.0.1", "1.1", "1.2", "1.2.0.1", "1.3", "1.4294967295",
	"2", "2.0.0.1", "2.1", "2.2", "2.4294967295.4294967295.4294967295", "3", "3.1",
	"4294967295", "4294967295.0.0.1", "4294967295.4294967295.4294967295.4294967295",
};
#define GRID_N (sizeof(grid) / sizeof(grid[0]))

static char *random_operand(void)
{
	static const char *const ops[] = {"", "== ", "!= ", "< ", "<= ", "> ", ">= "};
	static const char *const vers[] = {"0", "1", "1.2", "2", "1.*", "2.*", "1.2.*",
					   "4294967295", "4294967295.*", "3"};
	char *out = NULL;

	assert_true(asprintf(&out, "%s%s", ops[next(7)], vers[next(10)]) > 0);
	return out;
}

static char *random_expr(int depth)
{
	char *a, *b, *out = NULL;
	unsigned shape;

	if (depth == 0 || next(3) == 0)
		return random_operand();
	a = random_expr(depth - 1);
	b = random_expr(depth - 1);
	shape = next(3);
	assert_true(asprintf(&out, shape == 0 ? "(%s) && (%s)" : shape == 1 ? "(%s) || (%s)" : "!(%s)%.0s",
			     a, b) > 0);
	free(a);
	free(b);
	return out;
}

/* Membership of every grid version; false when the set is empty. */
static bool members(const char *text, bool in[GRID_N])
{
	struct pm_range r;
	struct pm_expr_report rep;
	int rc = pm_expr_compile(text, strlen(text), &r, &rep);

	if (rc != 0) {
		assert_int_equal(rc, -EINVAL);
		assert_non_null(strstr(rep.error.msg, "empty version range"));
		memset(in, 0, GRID_N * sizeof(bool));
		return false;
	}
	assert_true(pm_range_is_canonical(&r));
	for (size_t i = 0; i < GRID_N; i++) {
		struct pm_version v;

		assert_int_equal(pm_version_parse(grid[i], &v), 0);
		in[i] = pm_range_contains(&r, &v);
	}
	free(r.iv);
	return true;
}

static void algebra_holds_on_random_expressions(void **state)
{
	(void)state;
	for (int round = 0; round < 2000; round++) {
		char *a = random_expr(2), *b = random_expr(2), text[600];
		bool in_a[GRID_N], in_b[GRID_N], in_x[GRID_N];

		members(a, in_a);
		members(b, in_b);
		snprintf(text, sizeof(text), "!(%s)", a);
		members(text, in_x);
		for (size_t i = 0; i < GRID_N; i++)
			if (in_x[i] == in_a[i])
				fail_msg("complement of '%s' wrong at %s", a, grid[i]);
		snprintf(text, sizeof(text), "(%s) && (%s)", a, b);
		members(text, in_x);
		for (size_t i = 0; i < GRID_N; i++)
			if (in_x[i] != (in_a[i] && in_b[i]))
				fail_msg("'%s' wrong at %s", text, grid[i]);
		snprintf(text, sizeof(text), "(%s) || (%s)", a, b);
		members(text, in_x);
		for (size_t i = 0; i < GRID_N; i++)
			if (in_x[i] != (in_a[i] || in_b[i]))
				fail_msg("'%s' wrong at %s", text, grid[i]);
		free(a);
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(canonical_form_is_checked),
		cmocka_unit_test(compiles_to_canonical_intervals),
		cmocka_unit_test(errors_name_their_offset),
		cmocka_unit_test(contradictions_inside_are_warnings),
		cmocka_unit_test(length_and_nesting_limits),
		cmocka_unit_test(membership_of_chosen_versions),
		cmocka_unit_test(algebra_holds_on_random_expressions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
