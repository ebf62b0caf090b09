/*
 * kxguest.h — the pVM runtime (libkxguest.a), the one header an app
 * includes.  Freestanding: no host libc; what an app gets is here.
 *
 * An app is ordinary C with `int main(int argc, char **argv)`; the runtime
 * enters it with the arguments kxmon was given and exits with its return
 * value.  Output goes to the pVM console (kxmon's stdout), one hypercall per
 * printf call.  Heap errors (bad or double free) end the pVM with a panic.
 */
#ifndef KX_GUEST_H
#define KX_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/kx_hcall_abi.h"

#define KX_NORETURN	__attribute__((noreturn))
#define KX_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- hypercalls ---- */
/* Bytes written to the console, or -KX_EIO. */
long kx_console_write(const void *buf, size_t len);
KX_NORETURN void kx_exit(int status);
uint64_t kx_clock_monotonic_ns(void);
uint64_t kx_clock_realtime_ns(void);
/* End the pVM with a message (at most KX_HC_PANIC_MAX bytes are kept). */
KX_NORETURN KX_PRINTF(1, 2) void kx_panic(const char *fmt, ...);
/* What the monitor told the guest at boot (read-only). */
const struct kx_boot_info *kx_boot_info(void);

/* ---- linking (pVMs started by kxd; docs/guest-abi.md) ---- */
typedef uint64_t kx_handle_t;
/* Ask the manager to link library `name` (as kxd finds it in its library
 * directories, e.g. "libkvfmt.so"); the policy decides.  0 with *handle
 * set, or -KX_EACCES (denied), -KX_EPERM (kxmon runs alone), -KX_EINVAL,
 * -KX_ENOMEM.  A failed call changes nothing in the pVM. */
long kx_dlopen(const char *name, kx_handle_t *handle);
/* The address of `name` in the library behind handle, or NULL. */
void *kx_dlsym(kx_handle_t handle, const char *name);
/* The lazy binding stub (guest/du_resolve.S): reached from PLT0 only. */
void du_resolve(void);

/* ---- families (pVMs started by kxd; docs/guest-abi.md) ---- */
/* Copy this pVM (memory copy-on-write): the child's pVM id in the parent,
 * 0 in the child; -KX_EACCES (the policy's fork limits), -KX_EPERM,
 * -KX_EAGAIN. */
long kx_fork(void);
/* Wait for a child to end: 0 with *status (0..122 its own, 126 ended for
 * what it did, 128+N a signal), or -KX_ECHILD, -KX_EPERM. */
long kx_wait(uint64_t child_id, int *status);

/* ---- the app ---- */
int main(int argc, char **argv);
KX_NORETURN void exit(int status);
KX_NORETURN void abort(void);

/* ---- stdio subset: %d %i %u %x %X %o %c %s %p %%, flags - 0 +, width,
 * precision, length hh h l ll z ---- */
KX_PRINTF(1, 2) int printf(const char *fmt, ...);
KX_PRINTF(1, 0) int vprintf(const char *fmt, va_list ap);
KX_PRINTF(3, 4) int snprintf(char *buf, size_t size, const char *fmt, ...);
KX_PRINTF(3, 0) int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int puts(const char *s);
int putchar(int c);

/* ---- string.h subset ---- */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strcpy(char *restrict dst, const char *restrict src);
char *strncpy(char *restrict dst, const char *restrict src, size_t n);
char *strdup(const char *s);

/* ---- stdlib.h subset ---- */
long strtol(const char *s, char **end, int base);
unsigned long strtoul(const char *s, char **end, int base);
int atoi(const char *s);
void *malloc(size_t size);
void free(void *p);
void *calloc(size_t count, size_t size);
void *realloc(void *p, size_t size);

#endif /* KX_GUEST_H */
