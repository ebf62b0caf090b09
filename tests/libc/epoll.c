/* epoll over pipes, another epoll fd and a thread that writes while main
 * waits; level and edge triggering, one-shot, MOD/DEL, a closed fd leaving
 * the set, and Linux's errors.  Run natively and in a pVM, outputs
 * compared (tests/cli/libc.bats). */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <time.h>

#include "check.h"

static int writer_fd;

static void *late_writer(void *arg)
{
	struct timespec ts = {0, 20 * 1000 * 1000};

	(void)arg;
	nanosleep(&ts, NULL);
	if (write(writer_fd, "late", 4) != 4)
		abort();
	return NULL;
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int main(int argc, char **argv)
{
	struct epoll_event out[8], ev;
	int ep, ep2, p[2], q[2], n;
	char buf[16], path[512];
	pthread_t t;

	(void)argc;
	ep = epoll_create1(EPOLL_CLOEXEC);
	check(ep >= 0, "epoll_create1");
	check(fcntl(ep, F_GETFD) == FD_CLOEXEC, "EPOLL_CLOEXEC");
	CHECK_ERR(epoll_create1(0x1234), EINVAL, "epoll_create1 bad flags");
	/* (epoll_create(0) is EINVAL in glibc, epoll_create1(0) in musl: libc's call) */
	check(pipe(p) == 0 && pipe(q) == 0, "two pipes");

	/* level-triggered read end */
	CHECK_OK(add(ep, p[0], EPOLLIN, 100), "ADD the read end");
	CHECK_ERR(add(ep, p[0], EPOLLIN, 100), EEXIST, "ADD twice");
	check(epoll_wait(ep, out, 8, 0) == 0, "nothing ready: 0 at once");
	check(write(p[1], "abc", 3) == 3, "write 3 bytes");
	n = epoll_wait(ep, out, 8, 0);
	check(n == 1 && out[0].events == EPOLLIN && out[0].data.u64 == 100, "EPOLLIN, its data");
	n = epoll_wait(ep, out, 8, 0);
	check(n == 1, "level: reported again while data is there");
	check(read(p[0], buf, sizeof(buf)) == 3, "drain");
	check(epoll_wait(ep, out, 8, 0) == 0, "drained: nothing");

	/* write end and MOD/DEL */
	CHECK_OK(add(ep, p[1], EPOLLOUT, 200), "ADD the write end for EPOLLOUT");
	n = epoll_wait(ep, out, 8, 0);
	check(n == 1 && out[0].events == EPOLLOUT && out[0].data.u64 == 200, "EPOLLOUT at once");
	ev = (struct epoll_event){.events = EPOLLIN, .data.u64 = 201};
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev), "MOD it to EPOLLIN");
	check(epoll_wait(ep, out, 8, 0) == 0, "a write end is never readable");
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL), "DEL");
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL), ENOENT, "DEL twice");
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev), ENOENT, "MOD of no item");

	/* edge-triggered and one-shot on the second pipe */
	CHECK_OK(add(ep, q[0], EPOLLIN | EPOLLET, 300), "ADD with EPOLLET");
	check(write(q[1], "x", 1) == 1, "one byte");
	n = epoll_wait(ep, out, 8, 0);
	check(n == 1 && out[0].data.u64 == 300, "edge: reported once");
	check(epoll_wait(ep, out, 8, 0) == 0, "edge: not again while nothing new");
	check(read(q[0], buf, 1) == 1, "read it");
	ev = (struct epoll_event){.events = EPOLLIN | EPOLLONESHOT, .data.u64 = 301};
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, q[0], &ev), "MOD to EPOLLONESHOT");
	check(write(q[1], "y", 1) == 1, "another byte");
	check(epoll_wait(ep, out, 8, 0) == 1, "one-shot: reported");
	check(epoll_wait(ep, out, 8, 0) == 0, "one-shot: then disabled");
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, q[0], &ev), "MOD re-arms it");
	check(epoll_wait(ep, out, 8, 0) == 1, "re-armed: reported");
	check(read(q[0], buf, 1) == 1, "drain it");
	ev = (struct epoll_event){.events = EPOLLIN, .data.u64 = 302};
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, q[0], &ev), "MOD back to level-triggered");

	/* hang-up, nesting, a closed fd */
	close(q[1]);
	n = epoll_wait(ep, out, 8, 0);
	check(n == 1 && (out[0].events & EPOLLHUP), "writer closed: EPOLLHUP without asking");
	ep2 = epoll_create1(0);
	CHECK_OK(add(ep2, ep, EPOLLIN, 400), "an epoll fd in another epoll");
	n = epoll_wait(ep2, out, 8, 0);
	check(n == 1 && out[0].data.u64 == 400, "the inner one is readable");
	{
		struct pollfd pf = {.fd = ep, .events = POLLIN};

		check(poll(&pf, 1, 0) == 1 && pf.revents == POLLIN, "poll() sees it too");
	}
	close(q[0]);
	check(epoll_wait(ep, out, 8, 0) == 0, "closing the fd took it out of the set");
	check(epoll_wait(ep2, out, 8, 0) == 0, "and the outer one is quiet");

	/* a waiter woken by another thread */
	writer_fd = p[1];
	check(pthread_create(&t, NULL, late_writer, NULL) == 0, "a thread writes in 20 ms");
	n = epoll_wait(ep, out, 8, 5000);
	check(n == 1 && out[0].data.u64 == 100, "epoll_wait woke for it");
	pthread_join(t, NULL);
	check(read(p[0], buf, sizeof(buf)) == 4, "read what it wrote");
	{
		sigset_t all;

		sigfillset(&all);
		n = epoll_pwait(ep, out, 8, 10, &all);
		check(n == 0, "epoll_pwait times out with nothing");
	}

	/* errors */
	CHECK_ERR(epoll_wait(ep, out, 0, 0), EINVAL, "maxevents 0");
	CHECK_ERR(epoll_wait(p[0], out, 8, 0), EINVAL, "epoll_wait on a pipe");
	CHECK_ERR(epoll_wait(999, out, 8, 0), EBADF, "epoll_wait on a closed fd");
	CHECK_ERR(add(ep, ep, EPOLLIN, 0), EINVAL, "an epoll fd in itself");
	CHECK_ERR(add(ep, 999, EPOLLIN, 0), EBADF, "ADD a closed fd");
	CHECK_ERR(add(p[0], p[1], EPOLLIN, 0), EINVAL, "epoll_ctl on a pipe");
	snprintf(path, sizeof(path), "%s/epoll-file", argv[1]);
	{
		int fd = open(path, O_RDWR | O_CREAT, 0600);

		CHECK_ERR(add(ep, fd, EPOLLIN, 0), EPERM, "a regular file");
		close(fd);
		unlink(path);
	}
	ev = (struct epoll_event){.events = EPOLLIN};
	CHECK_ERR(epoll_ctl(ep, 99, p[0], &ev), EINVAL, "an unknown op");
	close(ep2);
	close(ep);
	return summary();
}
