/*
 * posix_loop — system calls a busy program makes in a loop, timed from the
 * inside: built twice from this one source, natively (glibc, Linux; the
 * clock through the vDSO) and with kx-cc (musl, kx's syscall layer: the
 * clock from the monitor's clock page, getpid cached), and run by
 * bench_posix, which prints the ratios.  Each line: NAME NS_PER_CALL (the
 * median of 9 runs of ITERS calls).
 */
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define ITERS 200000
#define RUNS  9

static uint64_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static volatile long sink;
static int fd = -1;
static char buf[4096];

static void op_getpid(void) { sink += getpid(); }
static void op_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sink += ts.tv_nsec;
}
static void op_gettimeofday(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	sink += tv.tv_usec;
}
static void op_pread(void) { sink += pread(fd, buf, sizeof(buf), 0); }
static void op_yield(void) { sink += sched_yield(); }

static const struct {
	const char *name;
	void (*fn)(void);
	int iters;
} ops[] = {
	{"getpid", op_getpid, ITERS},
	{"clock_gettime", op_clock, ITERS},
	{"gettimeofday", op_gettimeofday, ITERS},
	{"pread_4k_tmpfs", op_pread, ITERS / 4},
	{"sched_yield", op_yield, ITERS / 4},
};

int main(int argc, char **argv)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/kx-posix-loop.%d", argc > 1 ? argv[1] : "/tmp",
		 (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		return 1;
	unlink(path);
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		double v[RUNS];

		for (int r = 0; r < RUNS; r++) {
			uint64_t t0 = now();

			for (int i = 0; i < ops[k].iters; i++)
				ops[k].fn();
			v[r] = (double)(now() - t0) / ops[k].iters;
		}
		qsort(v, RUNS, sizeof(v[0]), cmp);
		printf("%s %.1f\n", ops[k].name, v[RUNS / 2]);
	}
	return 0;
}
