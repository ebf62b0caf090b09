/*
 * pipewake (bench13; kx only: fork needs kxd, tests/cli/libc_proc.bats) —
 * a pVM whose threads all wait must be woken by another pVM's write to a
 * shared pipe through the pipe's futex word, not by polling.
 *
 * The parent forks a child that pauses, then writes to a pipe they share.
 * Meanwhile the parent has two threads and both wait: a reader on the pipe
 * and main in pthread_join, with no deadline.  So the vCPU halts in the
 * monitor (KX_HC_HALT_WATCH on the ring's sequence word) and only the
 * child's wake can end it.  Checked with the monitor's counters
 * (kx_posix_monitor_stats): the bytes arrive after a few halts (one when
 * nothing else happens; polling every millisecond took hundreds), and a
 * watched word ended at least one of them.  No wall-clock threshold: the
 * child's pause only makes a polling waiter halt many times.
 *
 * Then the same for the pVM's only thread waiting in poll and in
 * epoll_wait on the pipe (both looked again every millisecond, or, for
 * epoll, not at all, before they watched the word: kx_io_wait).
 *
 * Last, a thread polls a shared pipe whose read end main then closes: the
 * ring is unmapped with it, and the close wakes the poller before anyone
 * reads its watched word again — its poll ends (POLLNVAL; Linux would go
 * on waiting) and the pVM does not fault on the unmapped word.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <kx/posix.h>

#include "check.h"

#define MSG "wake up"
#define PAUSE_NS 300000000L /* the child's pause: 300 polls' worth */
#define MAX_HALTS 4	    /* the wake, kxd's pushes (the child's end) */

static int rd = -1;
static char got[32];
static long got_len = -1;

static int closing_fd = -1;
static short close_revents;

static void *poller(void *arg)
{
	struct pollfd pfd = {.fd = closing_fd, .events = POLLIN};

	(void)arg;
	if (poll(&pfd, 1, -1) == 1)
		close_revents = pfd.revents;
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	got_len = read(rd, got, sizeof(got) - 1);
	return NULL;
}

int main(void)
{
	struct kx_posix_monitor_stats before, after;
	int fds[2], status = -1;
	pthread_t t;
	pid_t pid;

	setvbuf(stdout, NULL, _IONBF, 0);
	check(pipe(fds) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		struct timespec pause = {0, PAUSE_NS};

		close(fds[0]);
		nanosleep(&pause, NULL);
		if (write(fds[1], MSG, strlen(MSG)) != (ssize_t)strlen(MSG))
			_exit(1);
		nanosleep(&pause, NULL); /* the parent polls */
		if (write(fds[1], "p", 1) != 1)
			_exit(1);
		nanosleep(&pause, NULL); /* the parent is in epoll_wait */
		_exit(write(fds[1], "e", 1) == 1 ? 0 : 1);
	}
	check(pid > 0, "fork");
	close(fds[1]);
	rd = fds[0];
	check(kx_posix_monitor_stats(&before) == 0, "the monitor's counters");
	check(pthread_create(&t, NULL, reader, NULL) == 0, "pthread_create");
	check(pthread_join(t, NULL) == 0, "pthread_join");
	check(kx_posix_monitor_stats(&after) == 0, "the monitor's counters again");
	check(got_len == (long)strlen(MSG) && memcmp(got, MSG, strlen(MSG)) == 0,
	      "the reader got the child's bytes");
	check(after.halts - before.halts >= 1, "the pVM halted while both threads waited");
	check(after.halts - before.halts <= MAX_HALTS,
	      "woken by the write, not by polling (%llu halts)", after.halts - before.halts);
	check(after.watch_wakes - before.watch_wakes >= 1,
	      "a halt ended by the pipe's watched word");

	struct pollfd pfd = {.fd = rd, .events = POLLIN};
	struct epoll_event ev = {.events = EPOLLIN}, got_ev;
	int ep;
	char c = 0;

	check(kx_posix_monitor_stats(&before) == 0, "poll: the counters");
	check(poll(&pfd, 1, -1) == 1 && pfd.revents == POLLIN, "poll: the pipe is readable");
	check(kx_posix_monitor_stats(&after) == 0 && read(rd, &c, 1) == 1 && c == 'p',
	      "poll: the child's byte");
	check(after.halts - before.halts >= 1 && after.halts - before.halts <= MAX_HALTS,
	      "poll: woken by the write, not by polling (%llu halts)",
	      after.halts - before.halts);
	check(after.watch_wakes - before.watch_wakes >= 1, "poll: a halt ended by the word");

	ep = epoll_create1(0);
	check(ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, rd, &ev) == 0, "epoll: the pipe in a set");
	check(kx_posix_monitor_stats(&before) == 0, "epoll: the counters");
	check(epoll_wait(ep, &got_ev, 1, -1) == 1 && got_ev.events == EPOLLIN,
	      "epoll: the pipe is readable");
	check(kx_posix_monitor_stats(&after) == 0 && read(rd, &c, 1) == 1 && c == 'e',
	      "epoll: the child's byte");
	check(after.halts - before.halts >= 1 && after.halts - before.halts <= MAX_HALTS,
	      "epoll: woken by the write, not by polling (%llu halts)",
	      after.halts - before.halts);
	check(after.watch_wakes - before.watch_wakes >= 1, "epoll: a halt ended by the word");

	int second[2];
	pid_t holder;
	struct timespec settle = {0, 50000000L};

	check(pipe(second) == 0, "a second pipe");
	holder = fork();
	if (holder == 0) { /* holds the write end a while, writes nothing */
		struct timespec hold = {0, PAUSE_NS};

		close(second[0]);
		nanosleep(&hold, NULL);
		_exit(0);
	}
	check(holder > 0, "fork a holder of its write end");
	close(second[1]);
	closing_fd = second[0];
	check(pthread_create(&t, NULL, poller, NULL) == 0, "a thread polls its read end");
	nanosleep(&settle, NULL);
	check(close(second[0]) == 0, "main closes that read end");
	check(pthread_join(t, NULL) == 0 && close_revents == POLLNVAL,
	      "the poll ends with POLLNVAL, the pVM lives");
	check(waitpid(holder, &status, 0) == holder && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0,
	      "the holder exited 0");
	check(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the child wrote and exited 0");
	return summary();
}
