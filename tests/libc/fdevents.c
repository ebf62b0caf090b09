/* eventfd and timerfd: the counter and the timer fds event loops use —
 * read/write rules, EFD_SEMAPHORE, EFD_NONBLOCK, the counter's limit,
 * poll/select/epoll readiness, a thread's write ending a blocking read and
 * an epoll_wait, one-shot, periodic and absolute timers (a poll or epoll
 * with no timeout ends at the expiry), timerfd_gettime, Linux's errors. */
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <fcntl.h>
#include <time.h>

#include "check.h"

#define MS 1000000L

static int shared_efd = -1;

static void *add_later(void *arg)
{
	struct timespec pause = {0, 20 * MS};
	uint64_t v = (uint64_t)(uintptr_t)arg;

	nanosleep(&pause, NULL);
	if (write(shared_efd, &v, sizeof(v)) != sizeof(v))
		return (void *)1;
	return NULL;
}

static short polled(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};

	return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

static int rd(int fd, uint64_t *v)
{
	return read(fd, v, sizeof(*v)) == sizeof(*v);
}

static int wr(int fd, uint64_t v)
{
	return write(fd, &v, sizeof(v)) == sizeof(v);
}

static void eventfds(void)
{
	uint64_t v = 0;
	uint32_t small;
	struct stat st;
	pthread_t t;
	int efd, nb, sem, ep;
	struct epoll_event ev = {.events = EPOLLIN}, got;

	errno = 0;
	check(eventfd(0, 0x4000000) == -1 && errno == EINVAL, "eventfd: an unknown flag: EINVAL");
	efd = eventfd(3, EFD_CLOEXEC);
	check(efd >= 0 && (fcntl(efd, F_GETFD) & FD_CLOEXEC), "eventfd(3, EFD_CLOEXEC)");
	check(fstat(efd, &st) == 0 && (st.st_mode & 0777) == 0600, "fstat: mode 0600");
	errno = 0;
	check(read(efd, &small, sizeof(small)) == -1 && errno == EINVAL, "a 4-byte read: EINVAL");
	errno = 0;
	check(write(efd, &small, sizeof(small)) == -1 && errno == EINVAL, "a 4-byte write: EINVAL");
	check(polled(efd) == (POLLIN | POLLOUT), "counter 3: readable and writable");
	check(rd(efd, &v) && v == 3, "a read takes the whole counter (3)");
	check(polled(efd) == POLLOUT, "counter 0: writable only");
	check(wr(efd, 5) && wr(efd, 6) && rd(efd, &v) && v == 11, "writes add up (5 + 6)");
	errno = 0;
	check(write(efd, &(uint64_t){UINT64_MAX}, 8) == -1 && errno == EINVAL,
	      "writing 2^64 - 1: EINVAL");

	nb = eventfd(0, EFD_NONBLOCK);
	errno = 0;
	check(nb >= 0 && read(nb, &v, 8) == -1 && errno == EAGAIN, "EFD_NONBLOCK: empty: EAGAIN");
	check(wr(nb, UINT64_MAX - 1), "the counter to its limit, 2^64 - 2");
	errno = 0;
	check(write(nb, &(uint64_t){1}, 8) == -1 && errno == EAGAIN, "one more: EAGAIN");
	check(polled(nb) == POLLIN, "at the limit: readable, not writable");
	check(rd(nb, &v) && v == UINT64_MAX - 1, "and it reads back whole");
	close(nb);

	sem = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
	check(sem >= 0 && rd(sem, &v) && v == 1 && rd(sem, &v) && v == 1,
	      "EFD_SEMAPHORE: each read takes 1");
	errno = 0;
	check(read(sem, &v, 8) == -1 && errno == EAGAIN, "then EAGAIN");
	close(sem);

	shared_efd = efd;
	check(pthread_create(&t, NULL, add_later, (void *)7) == 0 && rd(efd, &v) && v == 7,
	      "a blocking read ends with another thread's write");
	check(pthread_join(t, NULL) == 0, "the writer ended");
	ep = epoll_create1(0);
	check(ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0, "an eventfd in an epoll set");
	check(pthread_create(&t, NULL, add_later, (void *)2) == 0 &&
		      epoll_wait(ep, &got, 1, -1) == 1 && got.events == EPOLLIN,
	      "epoll_wait ends with another thread's write");
	check(pthread_join(t, NULL) == 0 && rd(efd, &v) && v == 2, "and the value is there");
	close(ep);
	close(efd);
}

static void timerfds(void)
{
	struct itimerspec its, old, cur;
	struct timespec now;
	uint64_t v = 0;
	int nb, tfd, ep, efd;
	struct epoll_event ev = {.events = EPOLLIN}, got;
	struct pollfd pfd;
	fd_set set;

	errno = 0;
	check(timerfd_create(12345, 0) == -1 && errno == EINVAL, "timerfd: an unknown clock: EINVAL");
	errno = 0;
	check(timerfd_create(CLOCK_MONOTONIC, 0x4000000) == -1 && errno == EINVAL,
	      "an unknown flag: EINVAL");
	nb = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	check(nb >= 0 && (fcntl(nb, F_GETFD) & FD_CLOEXEC), "timerfd_create(MONOTONIC, NONBLOCK)");
	errno = 0;
	check(read(nb, &v, 8) == -1 && errno == EAGAIN, "disarmed: EAGAIN");
	check(timerfd_gettime(nb, &cur) == 0 && cur.it_value.tv_sec == 0 &&
		      cur.it_value.tv_nsec == 0 && cur.it_interval.tv_nsec == 0,
	      "disarmed: gettime is all zero");

	its = (struct itimerspec){.it_value = {10, 0}};
	check(timerfd_settime(nb, 0, &its, NULL) == 0, "armed for 10 s");
	check(timerfd_gettime(nb, &cur) == 0 && (cur.it_value.tv_sec > 0 || cur.it_value.tv_nsec > 0) &&
		      cur.it_value.tv_sec <= 10,
	      "gettime: time left, at most 10 s");
	check(polled(nb) == 0, "not expired: not readable");
	its = (struct itimerspec){0};
	check(timerfd_settime(nb, 0, &its, &old) == 0 && old.it_value.tv_sec <= 10 &&
		      (old.it_value.tv_sec > 0 || old.it_value.tv_nsec > 0),
	      "disarming reports the old time left");
	errno = 0;
	its = (struct itimerspec){.it_value = {0, 1000000000L}};
	check(timerfd_settime(nb, 0, &its, NULL) == -1 && errno == EINVAL, "tv_nsec 10^9: EINVAL");
	its = (struct itimerspec){.it_value = {1, 0}};
	errno = 0;
	check(timerfd_settime(nb, 0x100, &its, NULL) == -1 && errno == EINVAL,
	      "an unknown settime flag: EINVAL");
	efd = eventfd(0, 0);
	errno = 0;
	check(timerfd_settime(efd, 0, &its, NULL) == -1 && errno == EINVAL,
	      "settime on an eventfd: EINVAL");
	errno = 0;
	check(timerfd_gettime(999, &cur) == -1 && errno == EBADF, "gettime on no fd: EBADF");
	close(efd);

	tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	its = (struct itimerspec){.it_value = {0, 20 * MS}};
	check(tfd >= 0 && timerfd_settime(tfd, 0, &its, NULL) == 0 && rd(tfd, &v) && v == 1,
	      "one-shot 20 ms: a blocking read returns 1 expiration");
	check(timerfd_gettime(tfd, &cur) == 0 && cur.it_value.tv_sec == 0 &&
		      cur.it_value.tv_nsec == 0,
	      "then it is disarmed");

	its = (struct itimerspec){.it_value = {0, 10 * MS}, .it_interval = {0, 10 * MS}};
	pfd = (struct pollfd){.fd = tfd, .events = POLLIN};
	check(timerfd_settime(tfd, 0, &its, NULL) == 0 && poll(&pfd, 1, -1) == 1 &&
		      pfd.revents == POLLIN,
	      "periodic 10 ms: poll with no timeout ends at the expiry");
	check(rd(tfd, &v) && v >= 1, "a read counts the expirations");
	check(timerfd_gettime(tfd, &cur) == 0 && cur.it_interval.tv_nsec == 10 * MS,
	      "gettime reports the interval");
	ep = epoll_create1(0);
	check(ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) == 0 &&
		      epoll_wait(ep, &got, 1, -1) == 1 && got.events == EPOLLIN,
	      "epoll_wait with no timeout ends at the next expiry");
	check(rd(tfd, &v) && v >= 1, "and the read counts it");
	FD_ZERO(&set);
	FD_SET(tfd, &set);
	check(select(tfd + 1, &set, NULL, NULL, NULL) == 1 && FD_ISSET(tfd, &set),
	      "select with no timeout too");
	close(ep);

	clock_gettime(CLOCK_MONOTONIC, &now);
	now.tv_nsec += 20 * MS;
	if (now.tv_nsec >= 1000000000L) {
		now.tv_sec++;
		now.tv_nsec -= 1000000000L;
	}
	its = (struct itimerspec){.it_value = now};
	check(timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0 && rd(tfd, &v) && v == 1,
	      "TFD_TIMER_ABSTIME 20 ms ahead: a blocking read returns 1");
	clock_gettime(CLOCK_MONOTONIC, &now); /* past by the time settime looks */
	its = (struct itimerspec){.it_value = now};
	check(timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0 && polled(tfd) == POLLIN,
	      "an absolute time already past: readable at once");
	close(tfd);

	tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	clock_gettime(CLOCK_REALTIME, &now);
	now.tv_sec -= 5;
	its = (struct itimerspec){.it_value = now};
	check(tfd >= 0 && timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0 && rd(tfd, &v) &&
		      v == 1,
	      "CLOCK_REALTIME, absolute, 5 s ago: 1 expiration at once");
	close(tfd);
	close(nb);
}

int main(int argc, char **argv)
{
	enter_scratch(argc, argv);
	eventfds();
	timerfds();
	return summary();
}
