/*
 * kvcount.c — the example app built as a library for recycled starts
 * (docs/recycle.md, manifests/kvcount.yaml): `kxctl run --recycle
 * libkvcount.so WORD...` starts it in an empty pVM of kvcount's pool.  It
 * counts its words with libkvmath (DT_NEEDED, linked through the gate like
 * any library) and exits with the number of distinct ones.
 */
#include "guest/examples/kvmath.h"
#include "guest/kxguest.h"

#define MAX_WORDS 64

int app_entry(int argc, char **argv)
{
	uint64_t seen[MAX_WORDS];
	long distinct = 0;

	for (int i = 1; i < argc && i <= MAX_WORDS; i++) {
		uint64_t h = kvm_hash(argv[i]);
		int dup = 0;

		for (long j = 0; j < distinct; j++)
			dup |= seen[j] == h;
		if (!dup)
			seen[distinct] = h, distinct = kvm_add(distinct, 1);
	}
	printf("kvcount: %d words, %ld distinct (libkvmath %s, %lu calls)\n", argc - 1, distinct,
	       kvm_version, kvm_calls);
	return (int)distinct;
}
