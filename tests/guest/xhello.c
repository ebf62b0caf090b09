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
	return argc > 1 && strcmp(argv[1], "fail") == 0 ? 7 : 0;
}
