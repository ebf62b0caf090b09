/* clockloop: many clock readings in a row, as a busy program makes them
 * (a logger stamping every line, a benchmark's inner loop).  In a pVM they
 * come from the clock page without an exit (tests/cli/libc.bats counts
 * the monitor's exits around this program); here every reading must be
 * consistent with the others: CLOCK_MONOTONIC never goes back,
 * CLOCK_REALTIME, gettimeofday and time agree, and the coarse clocks stay
 * within a few milliseconds of the precise ones. */
#include <sys/time.h>
#include <time.h>

#include "check.h"

#define READINGS 200000

static long long ns(const struct timespec *ts)
{
	return (long long)ts->tv_sec * 1000000000ll + ts->tv_nsec;
}

int main(int argc, char **argv)
{
	struct timespec a, b, r, c;
	struct timeval tv;
	long long first, last, backwards = 0, bad_nsec = 0, advanced = 0;
	int agree = 1, coarse_ok = 1;

	enter_scratch(argc, argv);
	clock_gettime(CLOCK_MONOTONIC, &a);
	first = last = ns(&a);
	for (int i = 0; i < READINGS; i++) {
		clock_gettime(CLOCK_MONOTONIC, &b);
		bad_nsec += b.tv_nsec < 0 || b.tv_nsec >= 1000000000;
		backwards += ns(&b) < last;
		advanced += ns(&b) > last;
		last = ns(&b);
	}
	check(backwards == 0 && bad_nsec == 0, "%d CLOCK_MONOTONIC readings never go back",
	      READINGS);
	check(advanced > 0 && last > first, "and the clock advances while the loop runs");
	for (int i = 0; i < 1000; i++) {
		clock_gettime(CLOCK_REALTIME, &r);
		gettimeofday(&tv, NULL);
		agree &= tv.tv_sec - r.tv_sec <= 1 && tv.tv_sec >= r.tv_sec && time(NULL) >= r.tv_sec &&
			 time(NULL) - r.tv_sec <= 1;
		clock_gettime(CLOCK_MONOTONIC_COARSE, &c);
		clock_gettime(CLOCK_MONOTONIC, &b);
		/* Linux's coarse clock lags by up to a tick (4 ms at HZ=250). */
		coarse_ok &= ns(&c) <= ns(&b) + 1000000 && ns(&b) - ns(&c) < 50000000;
	}
	check(agree, "CLOCK_REALTIME, gettimeofday and time agree 1000 times");
	check(coarse_ok, "CLOCK_MONOTONIC_COARSE stays within 50 ms of CLOCK_MONOTONIC");
	check(r.tv_sec > 1700000000, "CLOCK_REALTIME is after 2023");
	return summary();
}
