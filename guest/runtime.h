/*
 * runtime.h — private to guest/: what the runtime's files share.
 */
#ifndef KX_GUEST_RUNTIME_H
#define KX_GUEST_RUNTIME_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/kx_hcall_abi.h"
#include "guest/platform.h" /* kx_hcall, kx_plat_panic: the backend's part */

/* Check and keep the boot info (boot.c); a bad one ends the pVM. */
void kx_boot_init(const struct kx_boot_info *boot);

/* Hand the heap region the monitor reported to the allocator (mini libc). */
void kx_heap_init(void *start, size_t size);

/* ipc.c: in a forked child, before anything else (its lock token changes). */
void kx_ipc_forked(void);

/* The few C library functions the runtime itself (libkxrt.a) uses: kx's
 * mini libc provides them in libkxguest.a, musl in SDK images. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t strnlen(const char *s, size_t max);
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap);

#endif /* KX_GUEST_RUNTIME_H */
