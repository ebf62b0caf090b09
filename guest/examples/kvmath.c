/*
 * kvmath.c — libkvmath.so, an example pVM library: several functions and
 * globals, built -fPIC -shared against guest/kxguest.h and linked lazily
 * (each function's first call goes through du_resolve).  It calls printf
 * from the runtime linked into the image.
 */
#include "guest/examples/kvmath.h"
#include "guest/kxguest.h"

const char kvm_version[] = KVMATH_VERSION;
unsigned long kvm_calls;
static uint64_t hash_seed = 1469598103934665603ull; /* FNV-1a offset basis */

uint64_t kvm_hash(const char *key)
{
	uint64_t h = hash_seed;

	kvm_calls++;
	for (; *key != '\0'; key++)
		h = (h ^ (uint8_t)*key) * 1099511628211ull;
	return h;
}

long kvm_add(long a, long b)
{
	kvm_calls++;
	return a + b;
}

long kvm_mul(long a, long b)
{
	kvm_calls++;
	return a * b;
}

long kvm_sum(const long *v, unsigned n)
{
	long s = 0;

	for (unsigned i = 0; i < n; i++)
		s = kvm_add(s, v[i]);
	return s;
}

static void kvm_private(void)
{
	printf("libkvmath %s: private function\n", kvm_version);
}

void *kvm_text(void)
{
	kvm_calls++;
	return (void *)kvm_private;
}
