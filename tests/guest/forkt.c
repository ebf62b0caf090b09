/*
 * forkt — kx_fork and kx_wait (tests/cli/kvm_fork.bats).
 *   forkt cow        copy-on-write both ways, the child's exit status
 *   forkt wide N     fork N children that stay alive, then exit
 *   forkt deep       each child forks again until a fork is denied
 *   forkt fault      the child faults; the parent reports its status
 *   forkt orphan     fork a child that runs on, and exit at once
 *   forkt badwait    kx_wait on an id that is not a child
 *   forkt zombie     ended children not yet waited for count toward
 *                    max-children (2 with the forkc app)
 *   forkt spinwait   wait for a child that never ends (kxd --pvm-timeout)
 *   forkt time N     N times: fork a child that exits at once, wait for it;
 *                    prints the median fork + exit + wait in microseconds
 *                    (make bench-xen)
 */
#include "guest/kxguest.h"

#define SETTLE_NS 200000000ull /* long enough for the other side's write */

static int value = 1;          /* .data: one page, written by both sides */
static char *heap_text;        /* a heap page, likewise */

static void settle(uint64_t ns)
{
	uint64_t until = kx_clock_monotonic_ns() + ns;

	while (kx_clock_monotonic_ns() < until)
		;
}

/* Alive until its parent's end ends it (the orphan rule), or 30 s. */
static int linger(void)
{
	settle(30000000000ull);
	return 9;
}

static int cow(void)
{
	int status = -1;
	long id;

	heap_text = malloc(64);
	strcpy(heap_text, "before");
	id = kx_fork();
	if (id < 0) {
		printf("fork failed: %ld\n", id);
		return 3;
	}
	if (id == 0) {
		settle(SETTLE_NS); /* the parent writes meanwhile */
		printf("child sees value %d heap %s\n", value, heap_text);
		value = 2;
		strcpy(heap_text, "child");
		printf("child wrote value %d heap %s\n", value, heap_text);
		return 7;
	}
	value = 3;
	strcpy(heap_text, "parent");
	printf("parent forked child %ld\n", id);
	if (kx_wait((uint64_t)id, &status) != 0) {
		printf("wait failed\n");
		return 4;
	}
	printf("parent sees value %d heap %s child status %d\n", value, heap_text, status);
	printf("second wait: %ld\n", kx_wait((uint64_t)id, &status));
	return 0;
}

static int wide(int n)
{
	for (int i = 0; i < n; i++) {
		long id = kx_fork();

		if (id == 0)
			return linger();
		printf("fork %d: %ld\n", i + 1, id);
	}
	return 0;
}

static int deep(void)
{
	for (int depth = 0;; depth++) {
		int status = -1;
		long id = kx_fork();

		if (id < 0) {
			printf("depth %d: fork: %ld\n", depth, id);
			return 0;
		}
		if (id > 0) {
			kx_wait((uint64_t)id, &status);
			return status;
		}
		printf("depth %d: running\n", depth + 1);
	}
}

static int fault(void)
{
	int status = -1;
	long id = kx_fork();

	if (id == 0)
		return *(volatile int *)0;
	if (id < 0 || kx_wait((uint64_t)id, &status) != 0)
		return 4;
	printf("faulting child status %d\n", status);
	return 0;
}

/* Fork two children that end at once; once both have ended (kx_kill
 * with signal 0 says -KX_ESRCH), a third fork is still denied until one of
 * them is waited for. */
static int zombie(void)
{
	long a, b, c;
	int status = -1;

	a = kx_fork();
	if (a == 0)
		return 0;
	b = kx_fork();
	if (b == 0)
		return 0;
	while (kx_kill((uint64_t)a, 0) != -KX_ESRCH || kx_kill((uint64_t)b, 0) != -KX_ESRCH)
		settle(10000000ull);
	printf("both ended, none waited for: fork %ld\n", kx_fork());
	kx_wait((uint64_t)a, &status);
	c = kx_fork();
	if (c == 0)
		return 0;
	printf("one waited for: fork %s\n", c > 0 ? "allowed" : "denied");
	kx_wait((uint64_t)b, &status);
	kx_wait((uint64_t)c, &status);
	return 0;
}

static int timed(int n)
{
	uint64_t t[64];

	if (n < 1 || n > 64)
		n = 5;
	for (int i = 0; i < n; i++) {
		int status = -1;
		uint64_t t0 = kx_clock_monotonic_ns();
		long id = kx_fork();

		if (id == 0)
			return 0;
		if (id < 0 || kx_wait((uint64_t)id, &status) != 0 || status != 0) {
			printf("fork %d: %ld status %d\n", i, id, status);
			return 1;
		}
		t[i] = kx_clock_monotonic_ns() - t0;
	}
	for (int i = 1; i < n; i++) /* insertion sort: n is small */
		for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
			uint64_t x = t[j];

			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	printf("fork+exit+wait: %llu us (median of %d)\n",
	       (unsigned long long)(t[n / 2] / 1000), n);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "cow";

	if (strcmp(mode, "wide") == 0)
		return wide(argc > 2 ? atoi(argv[2]) : 1);
	if (strcmp(mode, "deep") == 0)
		return deep();
	if (strcmp(mode, "time") == 0)
		return timed(argc > 2 ? atoi(argv[2]) : 5);
	if (strcmp(mode, "fault") == 0)
		return fault();
	if (strcmp(mode, "orphan") == 0) {
		long id = kx_fork();

		if (id == 0)
			return linger();
		printf("orphan child %ld\n", id);
		return 0;
	}
	if (strcmp(mode, "zombie") == 0)
		return zombie();
	if (strcmp(mode, "spinwait") == 0) {
		int status = -1;
		long id = kx_fork();

		if (id == 0)
			for (;;)
				;
		printf("waiting for child %ld\n", id);
		return (int)kx_wait((uint64_t)id, &status);
	}
	if (strcmp(mode, "badwait") == 0) {
		int status;

		printf("wait 999: %ld\n", kx_wait(999, &status));
		return 0;
	}
	return cow();
}
