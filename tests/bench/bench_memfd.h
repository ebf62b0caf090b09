/*
 * bench_memfd.h — what the monitor benchmarks (bench_link, bench_update)
 * share: a library file as a sealed memfd, the form kxd hands it to kxmon.
 */
#ifndef KX_BENCH_MEMFD_H
#define KX_BENCH_MEMFD_H

#include <stddef.h>
#include <stdint.h>

/* The file at path as a memfd sealed against write, shrink and grow, or -1.
 * When bytes is not NULL the caller also gets a malloc'ed copy (*bytes,
 * *len) to free. */
int bench_sealed_memfd(const char *path, uint8_t **bytes, size_t *len);

#endif /* KX_BENCH_MEMFD_H */
