/*
 * Fuzz harness for the pointer map's decoder (common/kxptrmap.c): the
 * `.kxptrmap` section the loader reads from a signed library.  A map that
 * decodes must keep every promise the online update relies on: vars sorted
 * and apart, each found at its address, every word of every run inside its
 * variable.  Seeds and hostile maps: fuzz/gen/ptrmap.py.
 */
#include <stddef.h>
#include <stdint.h>

#include "common/kxptrmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kxptrmap map;
	struct kx_error err;
	uint64_t end = 0;

	if (kxptrmap_decode(&map, data, size, &err) != 0)
		return 0;
	for (size_t v = 0; v < map.var_count; v++) {
		struct kxptrmap_abi_var var;
		size_t at;

		kxptrmap_var(&map, v, &var);
		if ((v > 0 && var.addr < end) || kxptrmap_find(&map, var.addr, &at) != 0 || at != v)
			__builtin_trap();
		end = var.addr + var.size;
		for (size_t i = var.first_run; i < (size_t)var.first_run + var.run_count; i++) {
			struct kxptrmap_abi_run r;

			kxptrmap_run(&map, i, &r);
			/* the last word, as the update computes it, inside the var */
			if (r.offset + (uint64_t)(r.count - 1) * r.stride + 8 > var.size ||
			    !kxptrmap_run_has(&r, r.offset + (uint64_t)(r.count - 1) * r.stride))
				__builtin_trap();
		}
	}
	return 0;
}
