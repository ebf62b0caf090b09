/*
 * posix_kxd_loop — make bench's system calls that need kxd (bench13, #13),
 * timed from the inside like posix_loop.c and built the same two ways:
 * natively (glibc, Linux) and with kx-cc (a pVM under kxd, run by
 * tests/bench/bench_posix_kxd.sh).
 *
 *   pread_4k_host     pread of 4 KiB from a file in DIR: in the pVM a host
 *                     directory a `files` rule grants (one exit a call)
 *   pwrite_4k_host    pwrite of 4 KiB to it
 *   pipe_rtt_fork     a byte to a forked child over one pipe and back over
 *                     another: in pVMs, pipes kxd shares between two pVMs
 *   pipe_rtt_threads  the same with an idle thread on each side, so a side
 *                     that waits halts its vCPU (KX_HC_HALT_WATCH) and the
 *                     other's write wakes it
 *   pipe_rtt_poll     pipe_rtt_fork with a poll for the answer before its
 *                     read: the wait watches the ring's word too (it looked
 *                     again every millisecond before)
 *
 * Each line: NAME NS_PER_CALL EXITS_PER_CALL — the median of RUNS runs;
 * the exits (every exit to the monitor, this pVM's only: for the round
 * trips the child's are not counted) from kx_posix_monitor_stats, 0 natively.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef __kx__
#include <kx/posix.h>
#endif

#define RUNS 7

static uint64_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t exits(void)
{
#ifdef __kx__
	struct kx_posix_monitor_stats st;

	return kx_posix_monitor_stats(&st) == 0 ? st.exits : 0;
#else
	return 0;
#endif
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static volatile long sink;
static int fd = -1;
static char buf[4096];
static int to_child[2], to_parent[2];

static int op_pread(void) { return pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf); }
static int op_pwrite(void) { return pwrite(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf); }
static int op_rtt(void)
{
	char c = 'x';

	return write(to_child[1], &c, 1) == 1 && read(to_parent[0], &c, 1) == 1;
}

static int op_rtt_poll(void)
{
	struct pollfd pfd = {.fd = to_parent[0], .events = POLLIN};
	char c = 'x';

	return write(to_child[1], &c, 1) == 1 && poll(&pfd, 1, -1) == 1 &&
	       pfd.revents == POLLIN && read(to_parent[0], &c, 1) == 1;
}

/* Time iters calls of fn RUNS times: the median ns and exits per call. */
static int measure(const char *name, int (*fn)(void), int iters)
{
	double ns[RUNS], ex[RUNS];

	for (int r = 0; r < RUNS; r++) {
		uint64_t e0 = exits(), t0 = now();

		for (int i = 0; i < iters; i++)
			if (!fn()) {
				fprintf(stderr, "posix_kxd_loop: %s failed\n", name);
				return -1;
			}
		ns[r] = (double)(now() - t0) / iters;
		ex[r] = (double)(exits() - e0) / iters;
	}
	qsort(ns, RUNS, sizeof(ns[0]), cmp);
	qsort(ex, RUNS, sizeof(ex[0]), cmp);
	printf("%s %.1f %.2f\n", name, ns[RUNS / 2], ex[RUNS / 2]);
	return 0;
}

/* An idle thread: it waits for good, so the process has two threads. */
static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;

static void *idle(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&idle_lock);
	for (;;)
		pthread_cond_wait(&idle_cond, &idle_lock);
	return NULL;
}

/* The child of a round-trip run: echo bytes until end of file. */
static void echo(int threaded)
{
	pthread_t t;
	char c;

	close(to_child[1]);
	close(to_parent[0]);
	if (threaded && pthread_create(&t, NULL, idle, NULL) != 0)
		_exit(1);
	while (read(to_child[0], &c, 1) == 1)
		if (write(to_parent[1], &c, 1) != 1)
			_exit(1);
	_exit(0);
}

static int round_trips(const char *name, int (*op)(void), int threaded, int iters)
{
	pid_t pid;
	int status, rc;

	if (pipe(to_child) != 0 || pipe(to_parent) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		echo(threaded);
	close(to_child[0]);
	close(to_parent[1]);
	rc = measure(name, op, iters);
	close(to_child[1]);
	close(to_parent[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = -1;
	return rc;
}

int main(int argc, char **argv)
{
	char path[4096];
	pthread_t t;

	snprintf(path, sizeof(path), "%s/kx-posix-kxd-loop.%d", argc > 1 ? argv[1] : "/tmp",
		 (int)getpid());
	memset(buf, 'k', sizeof(buf));
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
		perror(path);
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	if (measure("pread_4k_host", op_pread, 2000) != 0 ||
	    measure("pwrite_4k_host", op_pwrite, 2000) != 0)
		return 1;
	close(fd);
	unlink(path);
	if (round_trips("pipe_rtt_fork", op_rtt, 0, 500) != 0 ||
	    round_trips("pipe_rtt_poll", op_rtt_poll, 0, 500) != 0)
		return 1;
	if (pthread_create(&t, NULL, idle, NULL) != 0 ||
	    round_trips("pipe_rtt_threads", op_rtt, 1, 500) != 0)
		return 1;
	exit(0); /* the idle thread too */
}
