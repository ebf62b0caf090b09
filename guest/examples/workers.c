/*
 * workers — an example multi-pVM app (docs/ipc.md, manifests/workers.yaml).
 *
 * The parent forks WORKERS pVMs.  Work goes out over a message queue (one
 * job per message, then one stop message per worker); each worker writes
 * its results into a table in shared memory and, when it stops, tells the
 * parent over a pipe how many jobs it did.  The parent reads the pipe to
 * its end (every worker closed its write end by exiting), then prints the
 * table and checks every entry against its own computation.
 *
 *   kxctl run workers.kxe [JOBS]      (JOBS 1..MAX_JOBS, default 24)
 */
#include "guest/kxguest.h"

#define WORKERS	 3
#define MAX_JOBS 64

struct job {
	uint32_t index; /* slot in the result table; MAX_JOBS: stop */
	uint32_t n;
};

struct table {
	uint64_t steps[MAX_JOBS]; /* Collatz steps of job i's n */
	uint32_t done_by[MAX_JOBS];
};

static uint64_t collatz_steps(uint64_t n)
{
	uint64_t steps = 0;

	while (n > 1) {
		n = n % 2 ? 3 * n + 1 : n / 2;
		steps++;
	}
	return steps;
}

static int worker(int self, long queue, struct table *t, int report_fd)
{
	struct job j;
	int done = 0;
	char line[64];

	while (kx_msgrcv(queue, &j, sizeof(j), 0) == (long)sizeof(j) && j.index < MAX_JOBS) {
		t->steps[j.index] = collatz_steps(j.n);
		t->done_by[j.index] = (uint32_t)self;
		done++;
	}
	snprintf(line, sizeof(line), "%d %d\n", self, done);
	kx_write(report_fd, line, strlen(line));
	return 0;
}

/* Read every worker's "SELF DONE" line until the pipe's end. */
static int collect(int fd)
{
	char buf[256];
	size_t used = 0;
	long n;
	int total = 0;

	while ((n = kx_read(fd, buf + used, sizeof(buf) - 1 - used)) > 0)
		used += (size_t)n;
	buf[used] = '\0';
	for (char *p = buf; *p;) {
		char *end;

		strtol(p, &end, 10);
		total += (int)strtol(end, &end, 10);
		p = *end ? end + 1 : end;
	}
	return total;
}

int main(int argc, char **argv)
{
	int jobs = argc > 1 ? atoi(argv[1]) : 24, report[2], good = 0, status;
	long queue, seg, ids[WORKERS];
	struct table *t;

	if (jobs < 1 || jobs > MAX_JOBS) {
		printf("workers: JOBS must be 1..%d\n", MAX_JOBS);
		return 2;
	}
	queue = kx_msgget(KX_IPC_PRIVATE, 0);
	seg = kx_shmget(KX_IPC_PRIVATE, sizeof(*t), 0);
	t = seg > 0 ? kx_shmat(seg, NULL, 0) : NULL;
	if (queue <= 0 || t == NULL || kx_pipe(report) != 0) {
		printf("workers: cannot set up IpC (queue %ld, segment %ld)\n", queue, seg);
		return 1;
	}
	for (int w = 0; w < WORKERS; w++) {
		ids[w] = kx_fork();
		if (ids[w] == 0) {
			kx_close(report[0]);
			return worker(w + 1, queue, t, report[1]);
		}
		if (ids[w] < 0) {
			printf("workers: fork: %ld\n", ids[w]);
			return 1;
		}
	}
	kx_close(report[1]); /* the pipe ends when the last worker is gone */
	for (int i = 0; i < jobs; i++) {
		struct job j = {.index = (uint32_t)i, .n = 27 + 1000 * (uint32_t)i};

		kx_msgsnd(queue, &j, sizeof(j), 0);
	}
	for (int w = 0; w < WORKERS; w++) {
		struct job stop = {.index = MAX_JOBS};

		kx_msgsnd(queue, &stop, sizeof(stop), 0);
	}
	printf("workers reported %d jobs done\n", collect(report[0]));
	for (int w = 0; w < WORKERS; w++)
		if (kx_wait((uint64_t)ids[w], &status) != 0 || status != 0)
			printf("worker %d ended with %d\n", w + 1, status);
	for (int i = 0; i < jobs; i++) {
		uint64_t n = 27 + 1000 * (uint64_t)i;

		good += t->steps[i] == collatz_steps(n) && t->done_by[i] >= 1 &&
			t->done_by[i] <= WORKERS;
		if (i < 4)
			printf("collatz(%llu) = %llu steps\n", (unsigned long long)n,
			       (unsigned long long)t->steps[i]);
	}
	printf("result table: %d/%d correct\n", good, jobs);
	kx_msgrm(queue);
	kx_shmdt(t);
	return good == jobs ? 0 : 1;
}
