/* Unit tests for dotted versions and version ranges (policy-lang/version.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "policy-lang/model.h"

static struct pm_version ver(const char *s)
{
	struct pm_version v;

	assert_int_equal(pm_version_parse(s, &v), 0);
	return v;
}

static void parse_accepts_dotted_numbers(void **state)
{
	(void)state;
	struct pm_version v = ver("1.16.2");
	char buf[PM_VERSION_TEXT_MAX];

	assert_int_equal(v.nparts, 3);
	assert_int_equal(v.part[1], 16);
	pm_version_format(&v, buf, sizeof(buf));
	assert_string_equal(buf, "1.16.2");
	v = ver("4294967295.0.0.1");
	assert_int_equal(v.part[0], 4294967295u);
}

static void parse_rejects_malformed(void **state)
{
	(void)state;
	const char *bad[] = {"", ".", "1.", ".1", "1..2", "1.2.3.4.5", "4294967296",
			     "1.a", "-1", "1.2 ", " 1", "99999999999999999999"};
	struct pm_version v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pm_version_parse(bad[i], &v), -22);
}

static void compare_is_numeric_with_zero_padding(void **state)
{
	(void)state;
	struct pm_version a = ver("1.16"), b = ver("1.2"), c = ver("2"), d = ver("2.0.0");

	assert_true(pm_version_cmp(&a, &b) > 0); /* numeric, not lexical */
	assert_true(pm_version_cmp(&b, &a) < 0);
	assert_int_equal(pm_version_cmp(&c, &d), 0);
}

static void range_bounds_inclusive_and_exclusive(void **state)
{
	(void)state;
	/* [1.16, 2) U (3, +inf) */
	struct pm_interval iv[2] = {
		{.lo = {.v = ver("1.16"), .inclusive = true}, .hi = {.v = ver("2")}},
		{.lo = {.v = ver("3")}, .hi = {.unbounded = true}},
	};
	struct pm_range r = {.iv = iv, .n = 2};
	struct pm_version v;

	v = ver("1.16");
	assert_true(pm_range_contains(&r, &v));
	v = ver("1.15.9");
	assert_false(pm_range_contains(&r, &v));
	v = ver("1.99");
	assert_true(pm_range_contains(&r, &v));
	v = ver("2.0");
	assert_false(pm_range_contains(&r, &v));
	v = ver("3");
	assert_false(pm_range_contains(&r, &v));
	v = ver("3.0.0.1");
	assert_true(pm_range_contains(&r, &v));
}

/* Dates of key validity (date.c): UTC, days and seconds, checked against
 * Python's calendar.timegm for each value below. */
static void dates_parse_and_format(void **state)
{
	static const struct {
		const char *text;
		int64_t t;
	} good[] = {
		{"1970-01-01", 0},
		{"1970-01-02", 86400},
		{"2000-02-29", 951782400},
		{"2026-12-07T16:04:59Z", 1796659499},
		{"2027-01-01", 1798761600},
		{"2100-03-01", 4107542400},
		{"9999-12-31T23:59:59Z", 253402300799},
	};
	static const char *const bad[] = {
		"", "2027-1-01", "2027-01-1", "1969-12-31", "2027-00-10", "2027-13-01",
		"2027-02-29", "2100-02-29", "2027-04-31", "2027-01-01T24:00:00Z",
		"2027-01-01T23:60:00Z", "2027-01-01T23:59:60Z", "2027-01-01T00:00:00",
		"2027-01-01T00:00:00+01:00", "2027-01-01 00:00:00Z", "+027-01-01", "2027-01-01Z",
		"20270101",
	};
	char buf[PM_DATE_TEXT_MAX];
	int64_t t;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(pm_date_parse(good[i].text, strlen(good[i].text), &t), 0);
		assert_int_equal(t, good[i].t);
		pm_date_format(t, buf);
		assert_string_equal(buf, good[i].text);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pm_date_parse(bad[i], strlen(bad[i]), &t) != -EINVAL)
			fail_msg("'%s' parsed", bad[i]);
	/* the length bounds the read: no NUL needed, nothing past len read */
	assert_int_equal(pm_date_parse("2027-01-01XYZ", 10, &t), 0);
	pm_date_format(-1, buf);
	assert_string_equal(buf, "@-1");
	pm_date_format(PM_DATE_MAX + 1, buf);
	assert_string_equal(buf, "@253402300800");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_accepts_dotted_numbers),
		cmocka_unit_test(parse_rejects_malformed),
		cmocka_unit_test(compare_is_numeric_with_zero_padding),
		cmocka_unit_test(range_bounds_inclusive_and_exclusive),
		cmocka_unit_test(dates_parse_and_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
