/*
 * elf_walk.h — the loader's whole load path over one file, as kxctl inspect
 * and the monitor run it, for the ELF fuzz harnesses and the signed-reads
 * test: parse, map into a scratch segment, relocate now and lazily, every
 * accessor, symbol lookups and every lazy PLT slot resolved.
 */
#ifndef KX_FUZZ_ELF_WALK_H
#define KX_FUZZ_ELF_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "signer/kxsig.h"

/* Run the load path over data[0 .. size).  Returns 1 when the loader
 * accepted the file (parse succeeded), 0 when it refused it. */
int elf_walk(const uint8_t *data, size_t size);

/* The result of checking the loader's reads against a region map. */
struct elf_reads {
	size_t reads;       /* ranges the loader read from the file */
	size_t outside;     /* ranges with a byte in no region */
	uint64_t first_off; /* the first such range */
	uint64_t first_size;
};

/*
 * Walk data with every loader read recorded, and check each range against
 * regions[0 .. nregions) (a kxsig region map: the bytes a signature covers).
 * Fills *out; returns the loader's verdict as elf_walk does.
 */
int elf_walk_checked(const uint8_t *data, size_t size, const struct kxsig_region_info *regions,
		     size_t nregions, struct elf_reads *out);

#endif /* KX_FUZZ_ELF_WALK_H */
