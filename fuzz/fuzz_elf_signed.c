/*
 * fuzz_elf_signed: the loader reads only signed bytes (a differential
 * fuzzer).  For every input the signer would sign, compute the regions a
 * signature covers (kxsig_covered_regions), run the loader's whole load path
 * with every file read recorded (fuzz/elf_walk.c), and abort if any range
 * the loader read has a byte outside those regions: such a byte could be
 * changed after signing without the signature noticing.  Seeds:
 * fuzz/corpus/elf_signed (the ELF corpus; see fuzz/gen/README).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz/elf_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kxsig_region_info regions[KXSIG_MAX_REGIONS];
	struct elf_reads reads;
	size_t n;

	/* A file the signer refuses can never carry a valid signature. */
	if (kxsig_covered_regions(data, size, regions, &n, NULL) != 0)
		return 0;
	elf_walk_checked(data, size, regions, n, &reads);
	if (reads.outside) {
		fprintf(stderr, "fuzz_elf_signed: the loader read [0x%llx, +0x%llx), which no "
			"signature region covers (%zu of %zu reads outside)\n",
			(unsigned long long)reads.first_off, (unsigned long long)reads.first_size,
			reads.outside, reads.reads);
		abort();
	}
	return 0;
}
