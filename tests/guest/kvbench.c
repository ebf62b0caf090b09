/* kvbench.c — libkvbench (tests/guest/kvbench.h): 32 tiny functions. */
#include "tests/guest/kvbench.h"

#define KVBENCH_DEF(n)                                                                     \
	long kvb_f##n(long x)                                                              \
	{                                                                                  \
		return x * 3 + n;                                                          \
	}
KVBENCH_EACH(KVBENCH_DEF)
