/*
 * sockserve — an ordinary POSIX network server, built with kx-cc, for
 * tests/cli/net.bats: BSD sockets (guest/posix/socket.c) over lwIP over
 * the packet device.  One thread serves, with poll(), non-blocking:
 *   TCP 7     echo
 *   TCP 8080  an HTTP-ish page
 *   UDP 7     echo
 * A listener on 8080 is made and closed before the one that serves.
 * Before serving, a second thread talks to the first over 127.0.0.1 with
 * blocking calls ("loopback: ok"), and a datagram goes to the host's port
 * 9 when argv[2] names the host ("sent to HOST:9").
 * "fork" on TCP 7 forks a child pVM, which has no interface
 * (docs/network.md): it waits 1.5 s for a connection on its copy of the
 * echo listener (the host makes one meanwhile), writes on the connection
 * it inherited and sends a datagram to HOST:9, says on the console what
 * those calls returned, and exits; nothing it sends may reach the host.  The parent, once it has reaped it,
 * answers "forked STATUS\n" on the connection, which stays open.
 *
 *   sockserve SECS [HOST]    serve until SECS pass or "quit" comes on TCP 7
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXC 32

static int listener(int type, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 16) != 0)) {
		perror("listener");
		exit(3);
	}
	return fd;
}

static void *loop_client(void *arg)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7)};
	char buf[16] = "";
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ssize_t n, got = 0;

	(void)arg;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("loopback connect");
		return (void *)1;
	}
	if (write(fd, "loop", 4) != 4)
		return (void *)1;
	while (got < 4 && (n = read(fd, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	close(fd);
	return (void *)(long)(got == 4 && memcmp(buf, "loop", 4) == 0 ? 0 : 1);
}

/* "fork" on echo connection conn (see the top); lst: the echo listener;
 * host: argv[2] or NULL */
static void fork_on(int conn, int lst, const char *host)
{
	char answer[32];
	int st = 0, len;
	pid_t pid = fork();

	if (pid == 0) {
		struct sockaddr_in h = {.sin_family = AF_INET, .sin_port = htons(9)};
		struct pollfd lp = {.fd = lst, .events = POLLIN};
		int polled = poll(&lp, 1, 1500);
		ssize_t w = write(conn, "from the child", 14), s = -1;
		int werr = errno, serr = 0, u = socket(AF_INET, SOCK_DGRAM, 0);

		if (host != NULL && u >= 0 && inet_pton(AF_INET, host, &h.sin_addr) == 1) {
			s = sendto(u, "from the child", 14, 0, (struct sockaddr *)&h, sizeof(h));
			serr = errno;
		}
		printf("child: listener poll %d, write %zd (%s), sendto %zd (%s)\n", polled, w,
		       w < 0 ? strerror(werr) : "-", s, s < 0 ? strerror(serr) : "-");
		close(conn); /* its copy only: the parent's connection stays */
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		st = -1;
	len = snprintf(answer, sizeof(answer), "forked %d\n", pid < 0 ? -errno : st);
	if (write(conn, answer, (size_t)len) != len)
		perror("answer the fork");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct pollfd p[3 + 2 * MAXC];
	int kind[3 + 2 * MAXC]; /* 0 echo listener, 1 http listener, 2 udp, 3 echo conn, 4 http conn */
	int n = 3, quit = 0;
	unsigned pages = 0, echoed = 0, dgrams = 0;
	pthread_t t;
	void *loop_rc;
	double end;

	if (argc < 2) {
		fprintf(stderr, "usage: sockserve SECS [HOST]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	p[0] = (struct pollfd){.fd = listener(SOCK_STREAM, 7), .events = POLLIN};
	/* A listening socket closed (as Redis's BGSAVE child closes its
	 * listeners) frees its port: 8080 is taken again at once. */
	if (close(listener(SOCK_STREAM, 8080)) != 0) {
		perror("close a listener");
		return 3;
	}
	p[1] = (struct pollfd){.fd = listener(SOCK_STREAM, 8080), .events = POLLIN};
	p[2] = (struct pollfd){.fd = listener(SOCK_DGRAM, 7), .events = POLLIN};
	kind[0] = 0, kind[1] = 1, kind[2] = 2;
	if (pthread_create(&t, NULL, loop_client, NULL) != 0)
		return 3;
	if (argc > 2) {
		struct sockaddr_in h = {.sin_family = AF_INET, .sin_port = htons(9)};
		int u = socket(AF_INET, SOCK_DGRAM, 0);

		inet_pton(AF_INET, argv[2], &h.sin_addr);
		if (sendto(u, "via sockets", 11, 0, (struct sockaddr *)&h, sizeof(h)) == 11)
			printf("sent to %s:9\n", argv[2]);
		close(u);
	}
	end = now() + atof(argv[1]);
	while (!quit && now() < end) {
		int r = poll(p, (nfds_t)n, 200);

		if (r < 0 && errno != EINTR) {
			perror("poll");
			return 3;
		}
		for (int i = 0; i < n && r > 0; i++) {
			char buf[4096];
			ssize_t got;

			if (!p[i].revents)
				continue;
			if (kind[i] <= 1) {
				int c = accept4(p[i].fd, NULL, NULL, SOCK_NONBLOCK);

				if (c >= 0 && n < 3 + 2 * MAXC) {
					p[n] = (struct pollfd){.fd = c, .events = POLLIN};
					kind[n++] = kind[i] + 3;
				} else if (c >= 0) {
					close(c);
				}
				continue;
			}
			if (kind[i] == 2) {
				struct sockaddr_in from;
				socklen_t fl = sizeof(from);

				got = recvfrom(p[i].fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
				if (got > 0 && sendto(p[i].fd, buf, (size_t)got, 0,
						      (struct sockaddr *)&from, fl) == got)
					dgrams++;
				continue;
			}
			got = read(p[i].fd, buf, sizeof(buf));
			if (got == 4 && kind[i] == 3 && memcmp(buf, "fork", 4) == 0) {
				fork_on(p[i].fd, p[0].fd, argc > 2 ? argv[2] : NULL);
				continue;
			}
			if (got > 0 && kind[i] == 3) {
				ssize_t off = 0;

				if (got >= 4 && memcmp(buf, "quit", 4) == 0)
					quit = 1;
				while (off < got) {
					ssize_t w = write(p[i].fd, buf + off, (size_t)(got - off));

					if (w > 0)
						off += w;
					else if (w < 0 && errno != EAGAIN)
						break;
					else
						poll(&p[i], 1, 100); /* room to send */
				}
				echoed += (unsigned)got;
				continue;
			}
			if (got > 0 && kind[i] == 4) {
				static const char page[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
							   "Content-Length: 20\r\n\r\nhello from a socket\n";

				if (write(p[i].fd, page, sizeof(page) - 1) == sizeof(page) - 1)
					pages++;
				shutdown(p[i].fd, SHUT_WR);
				continue;
			}
			/* end of file or an error: drop the connection */
			close(p[i].fd);
			p[i] = p[n - 1];
			kind[i] = kind[n - 1];
			n--;
			i--;
		}
		if (pages == 0 && echoed == 0 && dgrams == 0 && quit == 0 && r == 0)
			continue;
	}
	pthread_join(t, &loop_rc);
	printf("loopback: %s\n", loop_rc == NULL ? "ok" : "failed");
	printf("served %u pages, echoed %u bytes, %u datagrams\n", pages, echoed, dgrams);
	return 0;
}
