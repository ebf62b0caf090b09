/* sleeper: every way a program waits for time to pass — nanosleep,
 * clock_nanosleep, poll and select with nothing to watch, a timed
 * condition variable wait, and a second thread sleeping while main joins
 * it — each for 250 ms, each checked to have lasted at least that long.
 * In a pVM every wait halts the vCPU (KX_HC_HALT): tests/cli/libc.bats
 * checks that the monitor's CPU time stays far below the time slept. */
#include <poll.h>
#include <pthread.h>
#include <sys/select.h>
#include <time.h>

#include "check.h"

#define WAIT_MS 250

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int lasted(long long since)
{
	return now_ns() - since >= WAIT_MS * 1000000ll;
}

static void *sleeper(void *arg)
{
	struct timespec req = {0, WAIT_MS * 1000000l};

	(void)arg;
	nanosleep(&req, NULL);
	return (void *)1;
}

int main(int argc, char **argv)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	struct timespec req = {0, WAIT_MS * 1000000l}, until;
	struct timeval tv = {0, WAIT_MS * 1000};
	long long t;
	pthread_t th;
	void *ret = NULL;

	enter_scratch(argc, argv);
	t = now_ns();
	check(nanosleep(&req, NULL) == 0 && lasted(t), "nanosleep %d ms", WAIT_MS);
	t = now_ns();
	check(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL) == 0 && lasted(t),
	      "clock_nanosleep %d ms", WAIT_MS);
	t = now_ns();
	check(poll(NULL, 0, WAIT_MS) == 0 && lasted(t), "poll on nothing for %d ms", WAIT_MS);
	t = now_ns();
	check(select(0, NULL, NULL, NULL, &tv) == 0 && lasted(t), "select on nothing for %d ms",
	      WAIT_MS);
	t = now_ns();
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += WAIT_MS * 1000000l;
	if (until.tv_nsec >= 1000000000l) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000l;
	}
	pthread_mutex_lock(&m);
	check(pthread_cond_timedwait(&cv, &m, &until) == ETIMEDOUT && lasted(t),
	      "pthread_cond_timedwait times out after %d ms", WAIT_MS);
	pthread_mutex_unlock(&m);
	t = now_ns();
	check(pthread_create(&th, NULL, sleeper, NULL) == 0 && pthread_join(th, &ret) == 0 &&
		      ret == (void *)1 && lasted(t),
	      "a thread sleeps %d ms while main joins it", WAIT_MS);
	return summary();
}
