/*
 * bench_time.h — what the pVM benchmarks (bench_boot, bench_link) share:
 * a monotonic clock in ns and the median of a sample (sorted in place).
 */
#ifndef KX_BENCH_TIME_H
#define KX_BENCH_TIME_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static inline uint64_t median(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

#endif /* KX_BENCH_TIME_H */
