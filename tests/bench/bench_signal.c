/*
 * bench_signal — signal round trips between two pVMs beside two Linux
 * processes, on one core and across two (make bench).
 *
 * pVM: tests/guest/sigt.c `sigbench ROUNDS` forks a child whose KX_SIGUSR1
 * handler sends KX_SIGUSR1 back; the parent times ROUNDS of kx_kill + its
 * own handler running (kx_pause between).  Each way is the sender's kxmon
 * -> kxd (the gate's decision is made once per pair, docs/signals.md) ->
 * the receiver's kxmon -> a guest handler.  The bench pins both kxmons
 * (sched_setaffinity), then tells the parent to start (kxctl kill --signal
 * 12).  Linux: a parent and child process answer each other's SIGUSR1
 * with kill() + sigwaitinfo(), pinned the same way.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/bench/bench_fork_kxd.h"
#include "tests/bench/bench_time.h"

#define ROUNDS 2000

/* ns per round trip, or 0. */
static uint64_t linux_pingpong(int child_cpu, int rounds)
{
	sigset_t usr1;
	uint64_t t0 = 0, dt;
	pid_t child;
	int status;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	bench_pin(0, 0);
	child = fork();
	if (child == 0) {
		bench_pin(0, child_cpu);
		for (;;) {
			if (sigwaitinfo(&usr1, NULL) < 0 || kill(getppid(), SIGUSR1) != 0)
				_exit(1);
		}
	}
	if (child < 0)
		return 0;
	for (int i = -100; i < rounds; i++) {
		if (i == 0)
			t0 = now_ns();
		if (kill(child, SIGUSR1) != 0 || sigwaitinfo(&usr1, NULL) < 0)
			break;
	}
	dt = now_ns() - t0;
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	return dt / (uint64_t)rounds;
}

static uint64_t pvm_pingpong(struct kxd_bench *b, int child_cpu, int rounds)
{
	unsigned long long child = 0, ns = 0;
	uint64_t parent = 0, grandparent;
	char args[64], line[256];
	pid_t parent_pid = -1, child_pid = -1;
	FILE *f;

	snprintf(args, sizeof(args), "sigbench %d", rounds);
	f = kxd_bench_run(b, args);
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "ready: child %llu", &child) == 1) {
			/* kxd learns a forked child's monitor pid just after the
			 * parent's kx_fork returns: pid 0 until then */
			for (int tries = 0; tries < 500; tries++) {
				child_pid = kxd_bench_pid(b, child, &parent);
				if (child_pid != 0)
					break;
				usleep(10000);
			}
			parent_pid = parent ? kxd_bench_pid(b, parent, &grandparent) : -1;
			snprintf(args, sizeof(args), "--signal 12 %llu", (unsigned long long)parent);
			if (child_pid <= 0 || parent_pid <= 0 || bench_pin(parent_pid, 0) != 0 ||
			    bench_pin(child_pid, child_cpu) != 0 || kxd_bench_ctl(b, "kill", args) != 0) {
				kxd_bench_ctl(b, "stop", ""); /* the pVM would wait forever */
				b->running = 0;
				break;
			}
		}
		sscanf(line, "signal round trip: %llu ns", &ns);
	}
	return pclose(f) == 0 ? ns : 0;
}

int main(int argc, char **argv)
{
	struct kxd_bench b;
	int status, cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);

	(void)argc;
	status = kxd_bench_start(&b, argv[0], "bench_signal");
	if (status != 0)
		return status > 0 ? 0 : 1;
	status = 1;
	printf("signal round trip (kill, handler, kill back), mean of %d:\n", ROUNDS);
	for (int cross = 0; cross <= (cpus > 1); cross++) {
		uint64_t pvm = pvm_pingpong(&b, cross, ROUNDS);
		uint64_t lin = linux_pingpong(cross, ROUNDS);

		if (pvm == 0 || lin == 0) {
			fprintf(stderr, "bench_signal: the %s run failed\n", cross ? "cross" : "same");
			goto out;
		}
		printf("  %-12s pVM %8.1f us   Linux %8.1f us   ratio %6.2fx pVM / Linux\n",
		       cross ? "two cores" : "one core", pvm / 1e3, lin / 1e3,
		       (double)pvm / (double)lin);
	}
	if (cpus < 2)
		printf("  two cores: not measured, this machine has one\n");
	status = 0;
out:
	kxd_bench_stop(&b);
	return status;
}
