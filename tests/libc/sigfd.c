/* signalfd: blocked signals read from an fd — the mask and its update,
 * several signals in one read (lowest first), EAGAIN, a short buffer,
 * poll and epoll readiness, a blocking read ended by another thread's
 * pthread_kill, SIGKILL in the mask ignored, Linux's errors. */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>

#include "check.h"

static pthread_t main_thread;

static void *kill_later(void *arg)
{
	struct timespec pause = {0, 20000000L};

	(void)arg;
	nanosleep(&pause, NULL);
	pthread_kill(main_thread, SIGUSR1);
	return NULL;
}

static int readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1 && p.revents == POLLIN;
}

int main(int argc, char **argv)
{
	struct signalfd_siginfo si[4];
	struct epoll_event ev = {.events = EPOLLIN}, got;
	sigset_t mask, pending;
	struct stat st;
	pthread_t t;
	int sfd, blocking, ep, efd;
	char small[64];

	enter_scratch(argc, argv);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	check(sigprocmask(SIG_BLOCK, &mask, NULL) == 0, "block SIGUSR1");
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	check(sfd >= 0 && (fcntl(sfd, F_GETFD) & FD_CLOEXEC), "signalfd(-1, {USR1}, NONBLOCK|CLOEXEC)");
	check(fstat(sfd, &st) == 0 && (st.st_mode & 0777) == 0600, "fstat: mode 0600");
	errno = 0;
	check(read(sfd, si, sizeof(si)) == -1 && errno == EAGAIN, "nothing pending: EAGAIN");
	check(!readable(sfd), "nothing pending: not readable");
	check(raise(SIGUSR1) == 0 && readable(sfd), "raise(SIGUSR1): readable");
	errno = 0;
	check(read(sfd, small, sizeof(small)) == -1 && errno == EINVAL,
	      "a buffer smaller than one signalfd_siginfo: EINVAL");
	check(read(sfd, si, sizeof(si)) == (ssize_t)sizeof(si[0]) && si[0].ssi_signo == SIGUSR1,
	      "a read returns it");
	check(sigpending(&pending) == 0 && !sigismember(&pending, SIGUSR1),
	      "and it is no longer pending");

	sigaddset(&mask, SIGUSR2);
	check(sigprocmask(SIG_BLOCK, &mask, NULL) == 0, "block SIGUSR2 too");
	check(raise(SIGUSR2) == 0 && !readable(sfd), "SIGUSR2 is not in the fd's mask");
	check(signalfd(sfd, &mask, 0) == sfd && readable(sfd), "signalfd(sfd, ...) widens the mask");
	check(raise(SIGUSR1) == 0, "SIGUSR1 pending too");
	check(read(sfd, si, sizeof(si)) == (ssize_t)(2 * sizeof(si[0])) &&
		      si[0].ssi_signo == SIGUSR1 && si[1].ssi_signo == SIGUSR2,
	      "one read returns both, lowest first");

	efd = eventfd(0, 0);
	errno = 0;
	check(signalfd(efd, &mask, 0) == -1 && errno == EINVAL, "signalfd on an eventfd: EINVAL");
	errno = 0;
	check(signalfd(-1, &mask, 0x4000) == -1 && errno == EINVAL, "an unknown flag: EINVAL");
	close(efd);
	errno = 0;
	check(signalfd(999, &mask, 0) == -1 && errno == EBADF, "no such fd: EBADF");

	ep = epoll_create1(0);
	check(ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) == 0, "a signalfd in an epoll set");
	check(epoll_wait(ep, &got, 1, 0) == 0, "nothing pending: no event");
	check(raise(SIGUSR2) == 0 && epoll_wait(ep, &got, 1, 0) == 1 && got.events == EPOLLIN,
	      "raise(SIGUSR2): an EPOLLIN event");
	check(read(sfd, si, sizeof(si)) == (ssize_t)sizeof(si[0]) && si[0].ssi_signo == SIGUSR2,
	      "read it");
	close(ep);

	blocking = signalfd(-1, &mask, 0);
	main_thread = pthread_self();
	check(blocking >= 0 && pthread_create(&t, NULL, kill_later, NULL) == 0 &&
		      read(blocking, si, sizeof(si)) == (ssize_t)sizeof(si[0]) &&
		      si[0].ssi_signo == SIGUSR1,
	      "a blocking read ends with another thread's pthread_kill");
	check(pthread_join(t, NULL) == 0, "that thread ended");

	sigfillset(&mask);
	check(signalfd(blocking, &mask, 0) == blocking, "a full mask (SIGKILL, SIGSTOP ignored)");
	check(!readable(blocking) && !readable(sfd), "nothing left pending");
	close(blocking);
	close(sfd);
	return summary();
}
