/* time: clocks, their resolution and errors, sleeping, calendar time. */
#include <sys/time.h>
#include <time.h>

#include "check.h"

static double secs(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct timespec a, b, res, req, rem;
	struct timeval tv;
	struct tm tm;
	time_t t;
	char buf[64];
	int monotonic = 1;

	enter_scratch(argc, argv);
	check(clock_gettime(CLOCK_REALTIME, &a) == 0 && a.tv_sec > 1700000000 &&
		      a.tv_nsec >= 0 && a.tv_nsec < 1000000000,
	      "CLOCK_REALTIME is after 2023");
	check(clock_gettime(CLOCK_MONOTONIC, &a) == 0, "CLOCK_MONOTONIC");
	for (int i = 0; i < 100; i++) {
		clock_gettime(CLOCK_MONOTONIC, &b);
		monotonic &= secs(&b) >= secs(&a);
		a = b;
	}
	check(monotonic, "CLOCK_MONOTONIC never goes back");
	check(clock_gettime(CLOCK_BOOTTIME, &b) == 0 && clock_gettime(CLOCK_MONOTONIC_RAW, &b) == 0 &&
		      clock_gettime(CLOCK_REALTIME_COARSE, &b) == 0 &&
		      clock_gettime(CLOCK_MONOTONIC_COARSE, &b) == 0 &&
		      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b) == 0,
	      "the other clocks");
	CHECK_ERR(clock_gettime((clockid_t)12345, &b), EINVAL, "an unknown clock");
	check(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec == 1,
	      "CLOCK_MONOTONIC resolves to 1 ns");
	clock_gettime(CLOCK_REALTIME, &a);
	check(gettimeofday(&tv, NULL) == 0 && tv.tv_sec - a.tv_sec <= 1 && tv.tv_usec < 1000000,
	      "gettimeofday agrees with CLOCK_REALTIME");
	t = time(NULL);
	check(t - a.tv_sec <= 1 && t >= a.tv_sec, "time() agrees too");

	req = (struct timespec){0, 30 * 1000000};
	clock_gettime(CLOCK_MONOTONIC, &a);
	check(nanosleep(&req, &rem) == 0, "nanosleep 30 ms");
	clock_gettime(CLOCK_MONOTONIC, &b);
	check(secs(&b) - secs(&a) >= 0.030, "it slept at least 30 ms");
	req = (struct timespec){0, 1000000000};
	CHECK_ERR(nanosleep(&req, NULL), EINVAL, "nanosleep with tv_nsec of a second");
	req = (struct timespec){-1, 0};
	CHECK_ERR(nanosleep(&req, NULL), EINVAL, "nanosleep for a negative time");
	clock_gettime(CLOCK_MONOTONIC, &a);
	req = a;
	req.tv_nsec += 20 * 1000000;
	if (req.tv_nsec >= 1000000000) {
		req.tv_sec++;
		req.tv_nsec -= 1000000000;
	}
	check(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &req, NULL) == 0,
	      "clock_nanosleep to an absolute time");
	clock_gettime(CLOCK_MONOTONIC, &b);
	check(secs(&b) >= secs(&req), "it woke after the deadline");
	check(usleep(10000) == 0 && sleep(0) == 0, "usleep and sleep(0)");

	t = 1700000000;
	check(gmtime_r(&t, &tm) != NULL && tm.tm_year == 123 && tm.tm_mon == 10 && tm.tm_mday == 14,
	      "gmtime_r");
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %a %j", &tm);
	printf("strftime: %s\n", buf);
	tm.tm_isdst = 0;
	check(timegm(&tm) == t, "timegm inverts gmtime");
	check(difftime(t + 90, t) == 90.0, "difftime");
	check(clock() >= 0, "clock()");
	return summary();
}
