/*
 * fuzz_elf: the whole load path over one untrusted file, as kxctl inspect
 * runs it: parse, map into a scratch segment, relocate (bind now, the
 * module as its own scope), every accessor; then map again with lazy
 * binding and resolve every PLT slot as the monitor's lazy-binding
 * hypercall would.  Seeds: fuzz/corpus/elf (test libraries built from
 * tests/elf/src and the hostile files), dictionary fuzz/dict/elf.dict.
 */
#include <stdint.h>
#include <stdlib.h>

#include "manager/elf/kxelf.h"

/* Scratch segments above this are skipped: they only cost the fuzzer RSS. */
#define FUZZ_MAX_SPAN ((uint64_t)16 << 20)
/* Symbol lookups per input: each is linear in a degenerate hash chain. */
#define FUZZ_MAX_LOOKUPS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(struct kxelf_module *mod)
{
	struct kxelf_symbol s;
	struct kxelf_range r;
	struct kxelf_slot slot;
	struct kxelf_init_info init;
	size_t lookups = 0;

	for (size_t i = 0; i < kxelf_module_prot_count(mod); i++)
		kxelf_module_prot(mod, i, &r);
	for (size_t i = 0; i < kxelf_module_slot_count(mod); i++)
		kxelf_module_slot(mod, i, &slot);
	kxelf_module_got(mod, &r);
	kxelf_module_plt0(mod);
	kxelf_module_init_info(mod, &init);
	for (enum kxelf_symsrc src = KXELF_SYMS_DYNSYM; src <= KXELF_SYMS_SYMTAB; src++)
		for (size_t i = 0; i < kxelf_module_symbol_count(mod, src); i++) {
			struct kxelf_symbol found;
			kxelf_module_symbol(mod, src, i, &s);
			if (lookups++ < FUZZ_MAX_LOOKUPS)
				kxelf_module_lookup(mod, s.name, &found);
		}
}

static void load(const struct kxelf_image *img, const struct kxelf_segment *seg,
		 enum kxelf_bind mode)
{
	const struct kxelf_bind_opts opts = {
		.mode = mode, .module_id = 1, .resolver = 0x1000,
		.flags = KXELF_RELOC_ALLOW_UNDEFINED | KXELF_RELOC_DEFER_IFUNC,
	};
	struct kxelf_module *mod = NULL;
	const struct kxelf_module *scope[1];
	uint64_t addr;

	if (kxelf_module_map(img, seg, seg->guest_base, &mod, NULL) != KXELF_OK)
		return;
	kxelf_module_set_tls(mod, 1, -4096);
	scope[0] = mod;
	if (kxelf_module_relocate(mod, scope, 1, &opts, NULL) == KXELF_OK) {
		walk(mod);
		for (size_t i = 0; mode == KXELF_BIND_LAZY && i < kxelf_module_slot_count(mod); i++)
			kxelf_module_resolve_slot(mod, i, scope, 1, &addr, NULL);
	}
	kxelf_module_free(mod);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kxelf_image *img = NULL;
	struct kxelf_error err;
	struct kxelf_span span;
	struct kxelf_segment seg;

	if (kxelf_image_parse(data, size, &img, &err) != KXELF_OK)
		return 0;
	kxelf_image_span(img, &span);
	if (span.size <= FUZZ_MAX_SPAN) {
		seg = (struct kxelf_segment){
			.guest_base = span.fixed ? span.base : 0x7f0000000000,
			.host = malloc(span.size), .size = span.size,
		};
		if (seg.host) {
			load(img, &seg, KXELF_BIND_NOW);
			load(img, &seg, KXELF_BIND_LAZY);
		}
		free(seg.host);
	}
	kxelf_image_free(img);
	return 0;
}
