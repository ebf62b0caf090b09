/*
 * kvbench.h — libkvbench: KVBENCH_FUNCS tiny functions for the lazy-binding
 * benchmark (tests/bench/bench_link.c).  Built twice from kvbench.c: as a
 * pVM library and as a Linux one, so the pVM's first call through
 * du_resolve is timed beside ld.so's first call through _dl_runtime_resolve.
 */
#ifndef KX_TEST_KVBENCH_H
#define KX_TEST_KVBENCH_H

#define KVBENCH_FUNCS 32

typedef long (*kvbench_fn)(long);
#define KVBENCH_DECL(n) long kvb_f##n(long x);
#define KVBENCH_EACH(X)                                                                    \
	X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14)    \
	X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) X(27)      \
	X(28) X(29) X(30) X(31)
KVBENCH_EACH(KVBENCH_DECL)

/*
 * Time the first call (through the PLT's lazy path) and the second (the
 * GOT now holds the target) of every function, in TSC cycles; the callers
 * (the pVM app, the Linux program) pass their own PLT-bound functions.
 */
static inline unsigned long kvbench_tsc(void)
{
	unsigned lo, hi;

	__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) : : "memory");
	return ((unsigned long)hi << 32) | lo;
}

static inline void kvbench_sort(unsigned long *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			unsigned long t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

#define KVBENCH_TIME(n)                                                                    \
	t0 = kvbench_tsc();                                                                \
	sink += kvb_f##n(sink);                                                            \
	t1 = kvbench_tsc();                                                                \
	sink += kvb_f##n(sink);                                                            \
	t2 = kvbench_tsc();                                                                \
	first[n] = t1 - t0;                                                                \
	second[n] = t2 - t1;

/* Median first-call and second-call cycles, in out[0], out[1]. */
#define KVBENCH_RUN(out)                                                                   \
	do {                                                                               \
		unsigned long first[KVBENCH_FUNCS], second[KVBENCH_FUNCS], t0, t1, t2;      \
		volatile long sink = 1;                                                    \
		KVBENCH_EACH(KVBENCH_TIME)                                                 \
		kvbench_sort(first, KVBENCH_FUNCS);                                        \
		kvbench_sort(second, KVBENCH_FUNCS);                                       \
		(out)[0] = first[KVBENCH_FUNCS / 2];                                       \
		(out)[1] = second[KVBENCH_FUNCS / 2];                                      \
	} while (0)

#endif /* KX_TEST_KVBENCH_H */
