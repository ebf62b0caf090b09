/*
 * bench_fork — pVM fork latency beside Linux fork() (make bench).
 *
 * pVM: tests/guest/sigt.c `forkbench MIB ROUNDS` in a pVM under a private
 * kxd touches MIB MiB, then times, in the guest, kx_fork + the child's
 * kx_exit + kx_wait (the gate's decision and its audit record, the fork of
 * kxmon, the child's new VM, its EXIT, kxd's answer).  Linux: a process
 * with the same MiB touched times fork + _exit + waitpid.  Medians, at 8
 * and 64 MiB; the ratio is pVM / Linux (the goal: <= 1.0).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/bench/bench_fork_kxd.h"
#include "tests/bench/bench_time.h"

#define ROUNDS 30

static uint64_t linux_fork(unsigned mib, int rounds)
{
	size_t size = (size_t)mib << 20;
	uint64_t t[ROUNDS];
	char *mem = malloc(size);

	if (mem == NULL)
		return 0;
	for (size_t off = 0; off < size; off += 4096)
		mem[off] = (char)off;
	for (int i = -3; i < rounds; i++) {
		uint64_t t0 = now_ns();
		int status;
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			return 0;
		if (i >= 0)
			t[i] = now_ns() - t0;
	}
	free(mem);
	return median(t, rounds);
}

/* What the guest measured (tests/guest/sigt.c forkbench), medians in ns:
 * the whole round, the gate's answer alone (a denied fork), the parent's
 * kx_fork returning, the child running, the child's end to kx_wait's. */
struct pvm_fork {
	uint64_t total, ask, parent, child, end;
};

static int pvm_fork(struct kxd_bench *b, unsigned mib, int rounds, struct pvm_fork *out)
{
	uint64_t t0[ROUNDS] = {0}, t1[ROUNDS], t2[ROUNDS], tc[ROUNDS] = {0};
	uint64_t parent[ROUNDS], child[ROUNDS], end[ROUNDS];
	unsigned long long a, b1, c, ns;
	char args[64], line[256];
	unsigned got_mib;
	int i, n = 0;
	FILE *f;

	memset(out, 0, sizeof(*out));
	snprintf(args, sizeof(args), "forkbench %u %d", mib, rounds);
	f = kxd_bench_run(b, args);
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "fork %u MiB: median %llu ns", &got_mib, &ns) == 2)
			out->total = got_mib == mib ? ns : 0;
		else if (sscanf(line, "ask: median %llu ns", &ns) == 1)
			out->ask = ns;
		else if (sscanf(line, "round %d parent %llu %llu %llu", &i, &a, &b1, &c) == 4 &&
			 i >= 0 && i < rounds)
			t0[i] = a, t1[i] = b1, t2[i] = c;
		else if (sscanf(line, "round %d child %llu", &i, &a) == 2 && i >= 0 && i < rounds)
			tc[i] = a;
	}
	for (i = 0; i < rounds; i++) {
		if (t0[i] == 0 || tc[i] < t0[i] || t2[i] < tc[i])
			continue;
		parent[n] = t1[i] - t0[i];
		child[n] = tc[i] - t0[i];
		end[n++] = t2[i] - tc[i];
	}
	if (pclose(f) != 0 || n == 0 || out->total == 0 || out->ask == 0)
		return -1;
	out->parent = median(parent, n);
	out->child = median(child, n);
	out->end = median(end, n);
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned sizes[] = {8, 64};
	struct kxd_bench b;
	int status = 1;

	(void)argc;
	status = kxd_bench_start(&b, argv[0], "bench_fork");
	if (status != 0)
		return status > 0 ? 0 : 1;
	status = 1;
	printf("fork + child exit + wait, median of %d, audit sync %s, memory touched before "
	       "the fork:\n", ROUNDS, kxd_bench_audit_sync());
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct pvm_fork pvm;
		uint64_t lin = linux_fork(sizes[i], ROUNDS);

		if (pvm_fork(&b, sizes[i], ROUNDS, &pvm) != 0 || lin == 0) {
			fprintf(stderr, "bench_fork: the %u MiB run failed\n", sizes[i]);
			goto out;
		}
		printf("  %2u MiB  pVM %9.1f us   Linux %9.1f us   ratio %6.2fx pVM / Linux\n",
		       sizes[i], pvm.total / 1e3, lin / 1e3, (double)pvm.total / (double)lin);
		if (pvm.total > lin)
			printf("          where it goes: the gate's answer %.1f us (a denied fork); the "
			       "parent's\n          kx_fork back %.1f us (+ copying kxmon); the child "
			       "runs %.1f us\n          after the call (+ its own copy, new VM and vCPU); "
			       "its exit to\n          the parent's kx_wait %.1f us (EXIT to kxd, the "
			       "answer)\n",
			       pvm.ask / 1e3, pvm.parent / 1e3, pvm.child / 1e3, pvm.end / 1e3);
	}
	status = 0;
out:
	kxd_bench_stop(&b);
	return status;
}
