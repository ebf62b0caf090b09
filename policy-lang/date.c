/*
 * Dates of key validity (`keys: {NAME: {file: F, from: DATE, until: DATE}}`):
 * UTC only, as seconds since the epoch.  Shared by the manifest checker, the
 * decision function (messages), dump and explain's now= (model.h).
 *
 * Input is untrusted text of len bytes (no NUL needed).  Accepted:
 *   YYYY-MM-DD              midnight UTC at the start of that day
 *   YYYY-MM-DDTHH:MM:SSZ    that second, UTC (the Z is required)
 * years 1970..9999; no other zone, no fractions, no leap second (60).
 */
#include <errno.h>
#include <stdio.h>

#include "policy-lang/model.h"

static bool digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = y / 400; /* y >= 1969 here: no negative division */
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned month_days(unsigned y, unsigned m)
{
	static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

int pm_date_parse(const char *s, size_t len, int64_t *out)
{
	unsigned y, mo, d, h = 0, mi = 0, se = 0;

	if (len != 10 && len != 20)
		return -EINVAL;
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d))
		return -EINVAL;
	if (len == 20 && (s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' ||
			  !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se) ||
			  s[19] != 'Z'))
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
	    mi > 59 || se > 59)
		return -EINVAL;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

void pm_date_format(int64_t t, char buf[PM_DATE_TEXT_MAX])
{
	int64_t days = t / 86400, secs = t % 86400, z, era, y;
	unsigned doe, yoe, doy, mp, d, m;

	if (t < 0 || t > PM_DATE_MAX) {
		snprintf(buf, PM_DATE_TEXT_MAX, "@%lld", (long long)t);
		return;
	}
	z = days + 719468; /* civil_from_days, the inverse of the above */
	era = z / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (secs == 0)
		snprintf(buf, PM_DATE_TEXT_MAX, "%04d-%02u-%02u", (int)y, m, d);
	else
		snprintf(buf, PM_DATE_TEXT_MAX, "%04d-%02u-%02uT%02u:%02u:%02uZ", (int)y,
			 m, d, (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60),
			 (unsigned)(secs % 60));
}
