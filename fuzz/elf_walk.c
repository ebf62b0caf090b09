/*
 * The load path shared by fuzz_elf, fuzz_elf_signed and
 * tests/unit/test_elf_signed_reads.c (see elf_walk.h).
 */
#include <stdlib.h>

#include "fuzz/elf_walk.h"
#include "manager/elf/kxelf.h"

/* Scratch segments above this are skipped: they only cost the fuzzer RSS. */
#define WALK_MAX_SPAN ((uint64_t)16 << 20)
/* Symbol lookups per input: each is linear in a degenerate hash chain. */
#define WALK_MAX_LOOKUPS 256

static void walk_module(struct kxelf_module *mod)
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
			if (lookups++ < WALK_MAX_LOOKUPS)
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

	if (kxelf_module_map(img, seg, seg->guest_base, &mod, NULL) != 0)
		return;
	kxelf_module_set_tls(mod, 1, -4096);
	scope[0] = mod;
	if (kxelf_module_relocate(mod, scope, 1, &opts, NULL) == 0) {
		walk_module(mod);
		for (size_t i = 0; mode == KXELF_BIND_LAZY && i < kxelf_module_slot_count(mod); i++)
			kxelf_module_resolve_slot(mod, i, scope, 1, &addr, NULL);
	}
	kxelf_module_free(mod);
}

int elf_walk(const uint8_t *data, size_t size)
{
	struct kxelf_image *img = NULL;
	struct kxelf_span span;
	struct kxelf_segment seg;
	size_t n;

	if (kxelf_image_parse(data, size, &img, NULL) != 0)
		return 0;
	/* The image accessors read names and tables too. */
	n = kxelf_image_needed_count(img);
	for (size_t i = 0; i < n; i++)
		kxelf_image_needed(img, i);
	kxelf_image_soname(img);
	kxelf_image_span(img, &span);
	if (span.size <= WALK_MAX_SPAN) {
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
	return 1;
}

struct read_check {
	const uint8_t *file;
	const struct kxsig_region_info *regions;
	size_t nregions;
	struct elf_reads *out;
};

/* Is every byte of [off, off + size) inside some region?  Regions may touch
 * or overlap; walk forward from region to region. */
static int covered(const struct read_check *c, uint64_t off, uint64_t size)
{
	uint64_t end, at = off;

	if (__builtin_add_overflow(off, size, &end))
		return 0;
	while (at < end) {
		uint64_t next = at;

		for (size_t i = 0; i < c->nregions; i++) {
			const struct kxsig_region_info *r = &c->regions[i];

			if (r->offset <= at && at - r->offset < r->size &&
			    r->offset + r->size > next)
				next = r->offset + r->size;
		}
		if (next == at)
			return 0;
		at = next;
	}
	return 1;
}

static void on_read(void *ctx, const void *file, uint64_t off, uint64_t size)
{
	struct read_check *c = ctx;

	c->out->reads++;
	if (file == c->file && covered(c, off, size))
		return;
	if (c->out->outside++ == 0) {
		c->out->first_off = off;
		c->out->first_size = size;
	}
}

int elf_walk_checked(const uint8_t *data, size_t size, const struct kxsig_region_info *regions,
		     size_t nregions, struct elf_reads *out)
{
	struct read_check c = { .file = data, .regions = regions, .nregions = nregions, .out = out };
	int accepted;

	*out = (struct elf_reads){ 0 };
	kxelf_trace_reads(on_read, &c);
	accepted = elf_walk(data, size);
	kxelf_trace_reads(NULL, NULL);
	return accepted;
}
