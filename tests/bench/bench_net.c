/*
 * bench_net — a TCP round trip (32 bytes there and back, TCP_NODELAY) to
 * a server in a pVM behind its TAP beside the same server as a Linux
 * process in its own network namespace behind a veth, measured in the same
 * run from the same client namespace (tests/bench/bench_net.sh sets both
 * up).  The server is tests/guest/sockserve.c's TCP echo: BSD sockets over
 * lwIP over the packet device in the pVM, the kernel's stack on Linux.
 * Needs root (namespaces, TAPs); says so and exits 0 without it.
 * usage: bench_net [RUNS]   (default 2000)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/bench/bench_time.h"

/* Connect (retrying while the server starts) and time runs round trips. */
static int rtt(const char *addr, int runs, uint64_t *med)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7)};
	uint64_t *t = calloc((size_t)runs, sizeof(*t));
	char buf[32] = "0123456789abcdef0123456789abcdef";
	int fd = -1, one = 1;

	inet_pton(AF_INET, addr, &a.sin_addr);
	for (int i = 0; i < 100 && fd < 0; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
			close(fd);
			fd = -1;
			usleep(100000);
		}
	}
	if (fd < 0 || t == NULL)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (int i = -50; i < runs; i++) { /* 50 to warm up */
		uint64_t t0 = now_ns();
		ssize_t got = 0, n;

		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			return -1;
		while (got < (ssize_t)sizeof(buf) && (n = read(fd, buf + got, sizeof(buf) - (size_t)got)) > 0)
			got += n;
		if (got != (ssize_t)sizeof(buf))
			return -1;
		if (i >= 0)
			t[i] = now_ns() - t0;
	}
	if (write(fd, "quit", 4) != 4) {
		/* the server ends at its deadline anyway */
	}
	close(fd);
	*med = median(t, runs);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 2000;
	char tmp[] = "/tmp/kxbnXXXXXX", cmd[1024], line[256], path[300];
	char self[PATH_MAX], *build;
	uint64_t pvm = 0, linux_ = 0;
	FILE *p;
	int ns, rc = 1;

	/* BUILD/bench/bench_net -> BUILD */
	snprintf(self, sizeof(self), "%s", argv[0]);
	build = dirname(dirname(self));
	if (geteuid() != 0) {
		printf("bench_net: needs root (network namespaces, TAPs): skipped\n");
		return 0;
	}
	if (mkdtemp(tmp) == NULL)
		return 1;
	snprintf(cmd, sizeof(cmd), "sh tests/bench/bench_net.sh start %s %s", build, tmp);
	p = popen(cmd, "r");
	if (p == NULL || fgets(line, sizeof(line), p) == NULL || strncmp(line, "ready ", 6) != 0) {
		fprintf(stderr, "bench_net: setting up failed\n");
		goto out;
	}
	line[strcspn(line, "\n")] = '\0';
	snprintf(path, sizeof(path), "/run/netns/%s", line + 6);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
		perror("bench_net: setns");
		goto out;
	}
	if (rtt("10.77.9.2", runs, &pvm) != 0 || rtt("10.78.9.2", runs, &linux_) != 0) {
		fprintf(stderr, "bench_net: a server did not answer\n");
		goto out;
	}
	printf("tcp round trip, 32 bytes (median of %d): pVM %.1f us, Linux %.1f us, "
	       "ratio %.2f\n", runs, (double)pvm / 1e3, (double)linux_ / 1e3,
	       (double)pvm / (double)linux_);
	rc = 0;
out:
	if (p != NULL)
		pclose(p);
	snprintf(cmd, sizeof(cmd), "sh tests/bench/bench_net.sh stop %s %s; rm -rf %s", build, tmp,
		 tmp);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
