/*
 * fuzz_elf: the whole load path over one untrusted file, as kxctl inspect
 * runs it: parse, map into a scratch segment, relocate (bind now, the
 * module as its own scope), every accessor; then map again with lazy
 * binding and resolve every PLT slot as the monitor's lazy-binding
 * hypercall would (fuzz/elf_walk.c).  Seeds: fuzz/corpus/elf (test
 * libraries built from tests/elf/src and the hostile files), dictionary
 * fuzz/dict/elf.dict.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz/elf_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	elf_walk(data, size);
	return 0;
}
