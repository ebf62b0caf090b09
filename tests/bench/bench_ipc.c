/*
 * bench_ipc — IpC round trips between two pVMs beside the Linux
 * equivalent between two processes, same core and across cores, measured
 * in the same run; and the first-communication cost of a non-lineal pair.
 *
 *   pipe  1 byte there and back over two pipes
 *   msgq  a 1-byte message there and back over two queues (Linux: System V)
 *   shm   a word there and back in shared memory; the waiter spins (at
 *         most 4000 pause iterations, fewer while spinning does not pay),
 *         then sleeps (Linux: futex; pVM: NOTIFY_WAIT)
 *
 * The pVM side is tests/guest/ipct.c (`rtt`, `firstcomm`) under a private
 * kxd (tests/bench/bench_ipc.sh), which pins the parent's kxmon on CPU 0
 * and each forked one on CPU 0 (same core) or 1 (across cores), as this
 * file pins the two Linux processes.
 * usage: bench_ipc [RUNS]   (default 2000)
 */
#define _GNU_SOURCE
#include <libgen.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/bench/bench_time.h"

#define SPIN 4000

enum kind { PIPE, MSGQ, SHM, KINDS };
static const char *const kind_names[KINDS] = {"pipe", "msgq", "shm"};

static void pin(int cpu_a, int cpu_b)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu_a, &set);
	if (cpu_b >= 0)
		CPU_SET(cpu_b, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

struct msg1 {
	long mtype;
	char c;
};

/* Shared memory with the pVM's protocol: w[0] the value, w[1] "sleeping". */
static unsigned shm_budget = SPIN; /* adaptive, as the pVM side (tests/guest/ipct.c) */

static void shm_wait(uint32_t *w, uint32_t want)
{
	unsigned spins = 0;

	for (; __atomic_load_n(&w[0], __ATOMIC_ACQUIRE) != want; spins++) {
		struct timespec ts = {0, 1000000};
		uint32_t seen;

		if (spins < shm_budget) {
			__builtin_ia32_pause();
			continue;
		}
		__atomic_store_n(&w[1], 1, __ATOMIC_SEQ_CST);
		seen = __atomic_load_n(&w[0], __ATOMIC_SEQ_CST);
		if (seen != want)
			syscall(SYS_futex, &w[0], FUTEX_WAIT, seen, &ts, NULL, 0);
		__atomic_store_n(&w[1], 0, __ATOMIC_SEQ_CST);
	}
	if (spins > 0)
		shm_budget = spins <= shm_budget ? SPIN : shm_budget - shm_budget / 4 + 1;
}

static void shm_post(uint32_t *w, uint32_t v)
{
	__atomic_store_n(&w[0], v, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&w[1], __ATOMIC_SEQ_CST) != 0)
		syscall(SYS_futex, &w[0], FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* One exchange: 0 the parent's turn (send, then receive), 1 the child's. */
struct chan {
	int ab[2], ba[2];
	int qab, qba;
	uint32_t *w; /* w[0..1] ping, w[16..17] pong */
};

static void there(enum kind k, struct chan *c, uint32_t i)
{
	struct msg1 m = {1, 'x'};
	char b = 'x';

	if (k == PIPE && write(c->ab[1], &b, 1) != 1)
		exit(1);
	if (k == MSGQ)
		msgsnd(c->qab, &m, 1, 0);
	if (k == SHM)
		shm_post(c->w, i);
}

static void back_wait(enum kind k, struct chan *c, uint32_t i)
{
	struct msg1 m;
	char b;

	if (k == PIPE && read(c->ba[0], &b, 1) != 1)
		exit(1);
	if (k == MSGQ)
		msgrcv(c->qba, &m, 1, 0, 0);
	if (k == SHM)
		shm_wait(c->w + 16, i);
}

static void echo(enum kind k, struct chan *c, int n)
{
	struct msg1 m = {1, 'x'};
	char b;

	for (uint32_t i = 1; i <= (uint32_t)n; i++) {
		if (k == PIPE && (read(c->ab[0], &b, 1) != 1 || write(c->ba[1], &b, 1) != 1))
			exit(1);
		if (k == MSGQ) {
			msgrcv(c->qab, &m, 1, 0, 0);
			msgsnd(c->qba, &m, 1, 0);
		}
		if (k == SHM) {
			shm_wait(c->w, i);
			shm_post(c->w + 16, i);
		}
	}
}

/* ns per round trip between two processes on CPU 0 and cpu. */
static uint64_t linux_rtt(enum kind k, int n, int cpu)
{
	struct chan c;
	uint64_t t0;
	pid_t pid;

	if (pipe(c.ab) != 0 || pipe(c.ba) != 0)
		exit(1);
	c.qab = msgget(IPC_PRIVATE, 0600);
	c.qba = msgget(IPC_PRIVATE, 0600);
	c.w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c.qab < 0 || c.qba < 0 || c.w == MAP_FAILED)
		exit(1);
	shm_budget = SPIN;
	pid = fork();
	if (pid == 0) {
		pin(cpu, -1);
		echo(k, &c, n + 1);
		_exit(0);
	}
	pin(0, -1);
	there(k, &c, 1); /* warm up */
	back_wait(k, &c, 1);
	t0 = now_ns();
	for (uint32_t i = 2; i <= (uint32_t)n + 1; i++) {
		there(k, &c, i);
		back_wait(k, &c, i);
	}
	t0 = now_ns() - t0;
	waitpid(pid, NULL, 0);
	msgctl(c.qab, IPC_RMID, NULL);
	msgctl(c.qba, IPC_RMID, NULL);
	munmap(c.w, 4096);
	for (int i = 0; i < 2; i++) {
		close(c.ab[i]);
		close(c.ba[i]);
	}
	return t0 / (uint64_t)n;
}

/* The pVM figures: rtt per kind, first and repeated msgget. */
struct pvm_figures {
	uint64_t rtt[KINDS], first, again;
};

static int pvm_rtt(const char *build, int n, int cpu, struct pvm_figures *f)
{
	char cmd[PATH_MAX + 64], line[256], name[16];
	unsigned long long v;
	FILE *p;
	int got = 0;

	snprintf(cmd, sizeof(cmd), "sh tests/bench/bench_ipc.sh %s %d %d", build, n, cpu);
	p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	while (fgets(line, sizeof(line), p) != NULL) {
		if (sscanf(line, "rtt %15s %llu", name, &v) == 2) {
			for (int k = 0; k < KINDS; k++)
				if (strcmp(name, kind_names[k]) == 0) {
					f->rtt[k] = v;
					got++;
				}
		} else if (sscanf(line, "first %llu", &v) == 1) {
			f->first = v;
			got++;
		} else if (sscanf(line, "again %llu", &v) == 1) {
			f->again = v;
			got++;
		}
	}
	return pclose(p) == 0 && got == KINDS + 2 ? 0 : -1;
}

/* Linux: msgget of a queue another process made, ns (median of n). */
static uint64_t linux_msgget(int n)
{
	int q = msgget(0x6b78, IPC_CREAT | 0600);
	uint64_t *t = calloc((size_t)n, sizeof(*t)), m;

	for (int i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		msgget(0x6b78, 0600);
		t[i] = now_ns() - t0;
	}
	m = median(t, n);
	msgctl(q, IPC_RMID, NULL);
	free(t);
	return m;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	char self[PATH_MAX], build[PATH_MAX + 8];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	static const struct {
		const char *name;
		int cpu_b;
	} placements[] = {{"same core", 0}, {"across cores", 1}};

	if (n < 10 || len <= 0) {
		fprintf(stderr, "usage: bench_ipc [RUNS >= 10]\n");
		return 2;
	}
	self[len] = '\0';
	snprintf(build, sizeof(build), "%s/..", dirname(self));
	printf("IpC round trip, %d runs each (ns per round trip; ratio pVM / Linux, goal <= 1.5)\n",
	       n);
	for (size_t p = 0; p < sizeof(placements) / sizeof(placements[0]); p++) {
		struct pvm_figures f = {{0}, 0, 0};

		fflush(stdout);
		if (pvm_rtt(build, n, placements[p].cpu_b, &f) != 0) {
			fprintf(stderr, "bench_ipc: the pVM side failed\n");
			return 1;
		}
		for (int k = 0; k < KINDS; k++) {
			uint64_t lin = linux_rtt(k, n, placements[p].cpu_b);

			printf("  %-4s %-12s pVM %8llu  Linux %8llu  ratio %5.2f\n", kind_names[k],
			       placements[p].name, (unsigned long long)f.rtt[k],
			       (unsigned long long)lin, lin ? (double)f.rtt[k] / (double)lin : 0);
		}
		if (p == 0)
			continue;
		uint64_t lin = linux_msgget(n);

		printf("first communication, non-lineal pair (msgget of another app's queue):\n");
		printf("  first %llu ns (gate + audit record + object mapped), again %llu ns "
		       "(held: one kxd round trip), Linux msgget %llu ns; ratio first/Linux %.0f, "
		       "first/again %.1f\n",
		       (unsigned long long)f.first, (unsigned long long)f.again,
		       (unsigned long long)lin, lin ? (double)f.first / (double)lin : 0,
		       f.again ? (double)f.first / (double)f.again : 0);
		printf("  a lineal pair pays nothing at first use: inherited objects are mapped at "
		       "kx_fork\n");
	}
	pin(0, 1);
	return 0;
}
