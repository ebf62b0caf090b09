/*
 * kxguest.h — the pVM runtime with kx's mini libc (libkxguest.a), the one
 * header an in-tree app includes.  Freestanding: no host libc; what an app
 * gets is here and in guest/kxrt.h (hypercalls, linking, families, signals,
 * IpC).  Programs that want a real C library build with the SDK instead
 * (musl + guest/posix/, docs/sdk.md).
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

#include "guest/kxrt.h"

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
