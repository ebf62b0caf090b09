/*
 * kvmath.h — libkvmath, an example pVM library (guest/examples/kvmath.c):
 * hashing and arithmetic for kvstore, bound lazily (manifests/kvstore.yaml:
 * libkvmath, version ">= 1.16 && < 2", bind: lazy).
 */
#ifndef KX_EXAMPLES_KVMATH_H
#define KX_EXAMPLES_KVMATH_H

#include <stdint.h>

#define KVMATH_VERSION "1.16.2"

extern const char kvm_version[];
extern unsigned long kvm_calls; /* every kvm_* function counts itself here */

uint64_t kvm_hash(const char *key);
long kvm_add(long a, long b);
long kvm_mul(long a, long b);
long kvm_sum(const long *v, unsigned n);
/* The address of one of the library's own functions (tests write to it). */
void *kvm_text(void);

#endif /* KX_EXAMPLES_KVMATH_H */
