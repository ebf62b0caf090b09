/*
 * The rules kx's mapper adds to ELF for a module it maps into a pVM, beyond
 * what the loader itself refuses: no constructors (the guest runtime runs
 * none), and no data object on a page that holds a GOT entry (the mapper
 * makes those pages read-only to the guest after relocation, so such an
 * object would fault, or the GOT would stay writable).  One place for both
 * callers: manager/hv/link.c applies them at link and boot time, `kxctl
 * inspect` reports them, so that inspect accepts what boot accepts.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "manager/elf/kxelf.h"

static bool is_got_reloc(uint32_t type)
{
	return type == R_X86_64_GLOB_DAT || type == R_X86_64_JUMP_SLOT ||
	       (type >= R_X86_64_DTPMOD64 && type <= R_X86_64_TPOFF64);
}

static void got_mark(struct kxelf_got_pages *g, uint64_t gpa)
{
	uint64_t page = gpa / KXELF_PAGE_SIZE, first = g->start / KXELF_PAGE_SIZE;

	if (gpa >= g->start && page - first < g->npages)
		g->bits[(page - first) / 8] |= (uint8_t)(1u << ((page - first) % 8));
}

bool kxelf_got_pages_has(const struct kxelf_got_pages *g, uint64_t gpa)
{
	uint64_t i = gpa / KXELF_PAGE_SIZE - g->start / KXELF_PAGE_SIZE;

	return gpa >= g->start && i < g->npages && (g->bits[i / 8] & (1u << (i % 8)));
}

int kxelf_module_got_pages(const struct kxelf_module *mod, struct kxelf_got_pages *g)
{
	const struct kxelf_image *img = kxelf_module_image(mod);
	uint64_t bias = kxelf_module_bias(mod);
	struct kxelf_range got;

	g->start = kxelf_module_start(mod);
	g->npages = (kxelf_module_end(mod) - g->start) / KXELF_PAGE_SIZE;
	g->bits = calloc(g->npages / 8 + 1, 1);
	if (g->bits == NULL)
		return -ENOMEM;
	if (kxelf_module_got(mod, &got) == 0 && got.size > 0)
		for (uint64_t a = got.addr & ~(uint64_t)(KXELF_PAGE_SIZE - 1);
		     a < got.addr + got.size; a += KXELF_PAGE_SIZE)
			got_mark(g, a);
	for (size_t i = 0; i < kxelf_image_reloc_count(img); i++) {
		struct kxelf_reloc r;

		if (kxelf_image_reloc(img, i, &r) == 0 && is_got_reloc(r.type))
			got_mark(g, r.offset + bias);
	}
	return 0;
}

void kxelf_got_pages_free(struct kxelf_got_pages *g)
{
	free(g->bits);
	g->bits = NULL;
}

int kxelf_module_check_got(const struct kxelf_module *mod, const char *name, struct kx_error *err)
{
	static const enum kxelf_symsrc srcs[] = {KXELF_SYMS_DYNSYM, KXELF_SYMS_SYMTAB};
	struct kxelf_got_pages g;
	int rc = 0;

	if (kxelf_module_got_pages(mod, &g) != 0)
		return kx_err(err, -ENOMEM, "out of memory");
	for (size_t s = 0; rc == 0 && s < 2; s++)
		for (size_t i = 0; rc == 0 && i < kxelf_module_symbol_count(mod, srcs[s]); i++) {
			struct kxelf_symbol sym;

			if (kxelf_module_symbol(mod, srcs[s], i, &sym) != 0 ||
			    !sym.defined || sym.type != STT_OBJECT || sym.size == 0 ||
			    strcmp(sym.name, "_GLOBAL_OFFSET_TABLE_") == 0)
				continue;
			if (kxelf_got_pages_has(&g, sym.addr) ||
			    kxelf_got_pages_has(&g, sym.addr + sym.size - 1))
				rc = kx_err(err, -EINVAL,
					    "%s: data object '%s' shares a page with the GOT "
					    "(link pVM libraries with guest/dyn.ld)",
					    name, sym.name);
		}
	kxelf_got_pages_free(&g);
	return rc;
}

int kxelf_module_check_pvm(const struct kxelf_module *mod, const char *name, struct kx_error *err)
{
	struct kxelf_init_info init;

	kxelf_module_init_info(mod, &init);
	if (init.init || init.preinit_count || init.init_count)
		return kx_err(err, -ENOTSUP, "%s: has constructors; not supported", name);
	return kxelf_module_check_got(mod, name, err);
}
