/* pipes in one process: data, end of file, EPIPE, O_NONBLOCK, capacity,
 * FIONREAD; poll, ppoll, select and pselect over pipes and files. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "check.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pipes(void)
{
	int p[2], avail = -1;
	char buf[128];
	struct stat st;
	long total = 0;

	check(pipe(p) == 0 && p[0] >= 3 && p[1] == p[0] + 1, "pipe");
	check(fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode), "fstat: a FIFO");
	check(write(p[1], "hello", 5) == 5, "write 5 bytes");
	check(ioctl(p[0], FIONREAD, &avail) == 0 && avail == 5, "FIONREAD says 5");
	check(read(p[0], buf, 3) == 3 && memcmp(buf, "hel", 3) == 0, "read 3");
	check(read(p[0], buf, sizeof(buf)) == 2 && memcmp(buf, "lo", 2) == 0, "read the rest");
	CHECK_ERR(lseek(p[0], 0, SEEK_SET), ESPIPE, "lseek on a pipe");
	CHECK_ERR(write(p[0], "x", 1), EBADF, "write to the read end");
	CHECK_ERR(read(p[1], buf, 1), EBADF, "read from the write end");
	check(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0 && (fcntl(p[0], F_GETFL) & O_NONBLOCK),
	      "O_NONBLOCK on the read end");
	CHECK_ERR(read(p[0], buf, 1), EAGAIN, "read an empty non-blocking pipe");
	check(fcntl(p[1], F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK on the write end");
	memset(buf, 'z', sizeof(buf));
	for (;;) {
		ssize_t n = write(p[1], buf, sizeof(buf));

		if (n < 0)
			break;
		total += n;
	}
	check(errno == EAGAIN && total == 65536, "a pipe holds 65536 bytes, then EAGAIN (%ld)", total);
	{
		long got = 0;
		ssize_t n;

		while ((n = read(p[0], buf, sizeof(buf))) > 0)
			got += n;
		check(got == 65536, "and gives them all back");
	}
	check(close(p[1]) == 0 && read(p[0], buf, 1) == 0, "end of file once the writer closed");
	close(p[0]);

	check(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0 && (fcntl(p[0], F_GETFD) & FD_CLOEXEC) &&
		      (fcntl(p[1], F_GETFL) & O_NONBLOCK),
	      "pipe2 with O_CLOEXEC|O_NONBLOCK");
	check(signal(SIGPIPE, SIG_IGN) != SIG_ERR, "ignore SIGPIPE");
	close(p[0]);
	CHECK_ERR(write(p[1], "x", 1), EPIPE, "write with no reader left");
	close(p[1]);
	CHECK_ERR(pipe2(p, 0x7fff0000), EINVAL, "pipe2 with bad flags");
}

static void polling(void)
{
	int p[2], file = open("poll.txt", O_CREAT | O_RDWR, 0600);
	struct pollfd fds[4];
	fd_set r, w;
	struct timeval tv;
	struct timespec ts;
	double t0;

	pipe(p);
	fds[0] = (struct pollfd){.fd = p[0], .events = POLLIN};
	fds[1] = (struct pollfd){.fd = p[1], .events = POLLOUT};
	fds[2] = (struct pollfd){.fd = file, .events = POLLIN | POLLOUT};
	fds[3] = (struct pollfd){.fd = -1, .events = POLLIN};
	check(poll(fds, 4, 0) == 2 && fds[0].revents == 0 && fds[1].revents == POLLOUT &&
		      fds[2].revents == (POLLIN | POLLOUT) && fds[3].revents == 0,
	      "poll: empty pipe not readable, write end and file ready, fd -1 skipped");
	t0 = now();
	check(poll(fds, 1, 60) == 0, "poll an empty pipe times out");
	check(now() - t0 >= 0.055, "after about 60 ms");
	write(p[1], "x", 1);
	check(poll(fds, 1, -1) == 1 && fds[0].revents == POLLIN, "poll: readable after a write");
	close(p[1]);
	check(poll(fds, 1, 0) == 1 && (fds[0].revents & POLLHUP), "POLLHUP once the writer closed");
	fds[1].fd = p[1];
	check(poll(&fds[1], 1, 0) == 1 && fds[1].revents == POLLNVAL, "POLLNVAL for a closed fd");

	pipe(p);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	tv = (struct timeval){0, 0};
	check(select(p[1] + 1, &r, &w, NULL, &tv) == 1 && !FD_ISSET(p[0], &r) && FD_ISSET(p[1], &w),
	      "select: only the write end is ready");
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv = (struct timeval){0, 50000};
	t0 = now();
	/* The system call: glibc's select() passes tv through, musl's a copy. */
	check(syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv) == 0 && now() - t0 >= 0.045,
	      "select times out after 50 ms");
	check(tv.tv_sec == 0 && tv.tv_usec == 0, "select leaves the time left (none) in its timeout");
	write(p[1], "yz", 2);
	FD_SET(p[0], &r);
	check(select(p[0] + 1, &r, NULL, NULL, NULL) == 1 && FD_ISSET(p[0], &r),
	      "select: readable after a write");
	ts = (struct timespec){1, 0};
	fds[0] = (struct pollfd){.fd = p[0], .events = POLLIN};
	check(ppoll(fds, 1, &ts, NULL) == 1, "ppoll");
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	check(pselect(p[0] + 1, &r, NULL, NULL, &ts, NULL) == 1, "pselect");
	FD_ZERO(&r);
	FD_SET(p[1] + 10, &r);
	CHECK_ERR(select(p[1] + 11, &r, NULL, NULL, &tv), EBADF, "select on a closed fd");
	close(p[0]);
	close(p[1]);
	close(file);
}

int main(int argc, char **argv)
{
	enter_scratch(argc, argv);
	pipes();
	polling();
	return summary();
}
