/*
 * lazyb — the pVM side of the lazy-binding benchmark: prints
 * "first CYCLES second CYCLES" (medians over libkvbench's functions).  The
 * Linux side is the same code (KVBENCH_HOST, tests/bench/ in manager/hv/module.mk).
 */
#ifdef KVBENCH_HOST
#include <stdio.h>
#else
#include "guest/kxguest.h"
#endif
#include "tests/guest/kvbench.h"

int main(int argc, char **argv)
{
	unsigned long r[2];

	(void)argc, (void)argv;

	KVBENCH_RUN(r);
	printf("first %lu second %lu\n", r[0], r[1]);
	return 0;
}
