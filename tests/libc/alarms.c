/* alarms: ITIMER_REAL — alarm, setitimer, getitimer — and SIGALRM reaching
 * a program that waits in pause() or nanosleep, one that blocks it for a
 * while, and one that only spins (no system call: in a pVM the monitor's
 * ticks bring the signal, as the timer interrupt does on Linux). */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/time.h>
#include <time.h>

#include "check.h"

static volatile sig_atomic_t fired;

static void on_alarm(int sig)
{
	(void)sig;
	fired++;
}

static sigjmp_buf out;
static atomic_int flag;

static void jump_out(int sig)
{
	(void)sig;
	siglongjmp(out, 1);
}

static void *set_flag(void *arg)
{
	(void)arg;
	atomic_store(&flag, 1);
	return NULL;
}

static struct itimerval ms(long first, long every)
{
	struct itimerval it = {{every / 1000, every % 1000 * 1000}, {first / 1000, first % 1000 * 1000}};

	return it;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_alarm};
	struct itimerval it = ms(0, 0), old;
	struct timespec req = {2, 0}, rem = {0, 0};
	sigset_t set, pending;

	enter_scratch(argc, argv);
	sigemptyset(&sa.sa_mask);
	check(sigaction(SIGALRM, &sa, NULL) == 0, "a SIGALRM handler");
	check(alarm(0) == 0, "alarm(0) with none set: 0");
	check(alarm(5) == 0 && alarm(0) == 5, "alarm(5), then alarm(0) returns 5");
	check(getitimer(ITIMER_REAL, &old) == 0 && old.it_value.tv_sec == 0 &&
		      old.it_value.tv_usec == 0,
	      "getitimer: disarmed");
	CHECK_ERR(setitimer(ITIMER_REAL, &(struct itimerval){{0, 0}, {0, 1000000}}, NULL), EINVAL,
		  "setitimer with 1000000 us");

	it = ms(50, 0);
	setitimer(ITIMER_REAL, &it, NULL);
	check(getitimer(ITIMER_REAL, &old) == 0 && old.it_value.tv_sec == 0 &&
		      old.it_value.tv_usec > 0 && old.it_value.tv_usec <= 50000,
	      "getitimer: armed, at most 50 ms left");
	check(pause() == -1 && errno == EINTR && fired == 1, "pause() ends with EINTR after SIGALRM");

	fired = 0;
	it = ms(50, 0);
	setitimer(ITIMER_REAL, &it, NULL);
	check(nanosleep(&req, &rem) == -1 && errno == EINTR && fired == 1 && rem.tv_sec >= 1,
	      "nanosleep(2 s) interrupted by a 50 ms alarm, most of it left");

	fired = 0;
	it = ms(20, 20);
	setitimer(ITIMER_REAL, &it, NULL);
	while (fired < 3) /* no system call in the loop */
		;
	it = ms(0, 0);
	setitimer(ITIMER_REAL, &it, &old);
	check(fired >= 3, "a 20 ms interval timer reaches a spinning loop 3 times");
	check(old.it_interval.tv_usec == 20000, "setitimer returns the old interval");

	fired = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	it = ms(10, 0);
	setitimer(ITIMER_REAL, &it, NULL);
	req = (struct timespec){0, 60000000};
	nanosleep(&req, NULL);
	check(fired == 0 && sigpending(&pending) == 0 && sigismember(&pending, SIGALRM),
	      "blocked, SIGALRM stays pending");
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	check(fired == 1, "unblocked, its handler runs");

	/* sigtimedwait takes a blocked signal without its handler. */
	fired = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
	{
		siginfo_t si;
		struct timespec ts = {0, 50000000};

		check(sigtimedwait(&set, &si, &ts) == SIGUSR1 && si.si_signo == SIGUSR1,
		      "sigtimedwait: a pending SIGUSR1 at once");
		CHECK_ERR(sigtimedwait(&set, &si, &ts), EAGAIN, "sigtimedwait: nothing in 50 ms");
		it = ms(30, 0);
		setitimer(ITIMER_REAL, &it, NULL);
		ts.tv_sec = 5;
		check(sigtimedwait(&set, &si, &ts) == SIGALRM && fired == 0,
		      "sigtimedwait: the alarm, taken without its handler");
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);

	/* A handler may siglongjmp out of an endless loop (a timeout)... */
	sa.sa_handler = jump_out;
	sigaction(SIGALRM, &sa, NULL);
	it = ms(30, 0);
	if (sigsetjmp(out, 1) == 0) {
		setitimer(ITIMER_REAL, &it, NULL);
		for (;;) /* only the alarm ends this */
			;
	}
	check(1, "siglongjmp out of a SIGALRM handler ends a spinning loop");
	/* ... and afterwards threads are still preempted. */
	{
		pthread_t t;

		pthread_create(&t, NULL, set_flag, NULL);
		while (!atomic_load(&flag))
			;
		check(pthread_join(t, NULL) == 0, "after it, a spinning main still lets a thread run");
	}
	return summary();
}
