/* xhello — the first pVM on Xen: console output, argv from the domain's
 * command line, the clocks, the heap, exit status (tests/xen/). */
#include "guest/kxguest.h"

int main(int argc, char **argv)
{
	uint64_t t0 = kx_clock_monotonic_ns(), t1;
	char *p = malloc(1 << 20);

	printf("hello from a pVM on xen\n");
	for (int i = 0; i < argc; i++)
		printf("argv[%d] = %s\n", i, argv[i]);
	if (p == NULL)
		return 3;
	memset(p, 'x', 1 << 20);
	free(p);
	t1 = kx_clock_monotonic_ns();
	printf("clock: monotonic %s, realtime after 2020: %s\n", t1 >= t0 ? "ok" : "BACKWARDS",
	       kx_clock_realtime_ns() > 1577836800ull * 1000000000ull ? "yes" : "no");
	/* calls N: N kx hypercalls (a signal 0 to the parent: answered without
	 * a manager), timed from inside: the transport's round trip */
	if (argc > 2 && strcmp(argv[1], "calls") == 0) {
		long n = strtol(argv[2], NULL, 10), rc = 0;

		t0 = kx_clock_monotonic_ns();
		for (long i = 0; i < n; i++)
			rc = kx_kill(0, 0);
		t1 = kx_clock_monotonic_ns();
		printf("calls: %ld in %lu us (%lu ns each), last %ld\n", n,
		       (unsigned long)((t1 - t0) / 1000), (unsigned long)((t1 - t0) / (n ? n : 1)),
		       rc);
	}
	return argc > 1 && strcmp(argv[1], "fail") == 0 ? 7 : 0;
}
