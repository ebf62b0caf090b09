/*
 * Mapping a validated image into a dynamic segment: placement checks, the
 * copy of PT_LOAD bytes, zeroing, page permissions and module accessors.
 * seg_ptr() is the one place a guest address becomes a host pointer.
 */
#include <stdlib.h>

#include "manager/elf/internal.h"

#define PAGE_MASK ((uint64_t)KXELF_PAGE_SIZE - 1)

uint8_t *seg_ptr(const struct kxelf_segment *seg, uint64_t gaddr, uint64_t size)
{
	if (gaddr < seg->guest_base || !range_ok(gaddr - seg->guest_base, size, seg->size))
		return NULL;
	return seg->host + (gaddr - seg->guest_base);
}

int kxelf_module_map(const struct kxelf_image *img, const struct kxelf_segment *seg,
		     uint64_t guest_addr, struct kxelf_module **out, struct kx_error *err)
{
	struct kxelf_module *mod = NULL;
	uint64_t bias;
	int rc;

	if (!img || !seg || !seg->host || !out) {
		rc = kx_err(err, -EINVAL, "kxelf_module_map: NULL argument");
		goto out;
	}
	*out = NULL;
	if (guest_addr & PAGE_MASK) {
		rc = kx_err(err, -EINVAL, "guest address 0x%lx is not page-aligned",
			    guest_addr);
		goto out;
	}
	if (img->span.fixed && guest_addr != img->span.base) {
		rc = kx_err(err, -ERANGE,
			    "ET_EXEC image must be mapped at its own address 0x%lx, not 0x%lx",
			    img->span.base, guest_addr);
		goto out;
	}
	bias = guest_addr - img->span.base; /* modular: the image may move down */
	for (size_t i = 0; i < img->nloads; i++) {
		const struct elf_load *l = &img->loads[i];
		if (!seg_ptr(seg, l->vaddr + bias, l->memsz)) {
			rc = kx_err(err, -ERANGE,
				    "program header %zu: PT_LOAD [0x%lx, +0x%lx) outside the dynamic "
				    "segment [0x%lx, +0x%zx)", l->phidx, l->vaddr + bias, l->memsz,
				    seg->guest_base, seg->size);
			goto out;
		}
	}
	if (!seg_ptr(seg, guest_addr, img->span.size)) {
		rc = kx_err(err, -ERANGE,
			    "image pages [0x%lx, +0x%lx) outside the dynamic segment [0x%lx, +0x%zx)",
			    guest_addr, img->span.size, seg->guest_base, seg->size);
		goto out;
	}
	mod = calloc(1, sizeof(*mod));
	if (!mod) {
		rc = kx_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	*mod = (struct kxelf_module){
		.img = img, .seg = *seg, .bias = bias, .start = guest_addr,
		.end = guest_addr + img->span.size,
	};
	/* Zero everything first: bss, the tails of partial pages and the gaps
	 * between segments must not keep whatever the segment held before. */
	memset(seg_ptr(seg, guest_addr, img->span.size), 0, img->span.size);
	for (size_t i = 0; i < img->nloads; i++) {
		const struct elf_load *l = &img->loads[i];
		memcpy(seg_ptr(seg, l->vaddr + bias, l->filesz), img_at(img, l->offset, l->filesz), l->filesz);
	}
	*out = mod;
	mod = NULL;
	rc = 0;
out:
	free(mod);
	return rc;
}

void kxelf_module_free(struct kxelf_module *mod)
{
	free(mod);
}

const struct kxelf_image *kxelf_module_image(const struct kxelf_module *mod)
{
	return mod->img;
}

uint64_t kxelf_module_bias(const struct kxelf_module *mod)
{
	return mod->bias;
}

uint64_t kxelf_module_start(const struct kxelf_module *mod)
{
	return mod->start;
}

uint64_t kxelf_module_end(const struct kxelf_module *mod)
{
	return mod->end;
}

void kxelf_module_set_tls(struct kxelf_module *mod, uint64_t modid, int64_t tpoff)
{
	mod->tls_modid = modid;
	mod->tls_tpoff = tpoff;
}

/* One range per PT_LOAD; once relocated, the whole pages of PT_GNU_RELRO
 * (start rounded down, end rounded down, as ld.so does) become read-only. */
static size_t prot_ranges(const struct kxelf_module *mod, struct kxelf_range *out)
{
	const struct kxelf_image *img = mod->img;
	uint64_t ro_start = 0, ro_end = 0;
	size_t n = 0;

	if (img->has_relro && mod->relocated) {
		ro_start = (img->relro_vaddr + mod->bias) & ~PAGE_MASK;
		ro_end = (img->relro_vaddr + img->relro_size + mod->bias) & ~PAGE_MASK;
	}
	for (size_t i = 0; i < img->nloads; i++) {
		const struct elf_load *l = &img->loads[i];
		uint64_t start = (l->vaddr + mod->bias) & ~PAGE_MASK;
		uint64_t end = (l->vaddr + l->memsz + mod->bias + PAGE_MASK) & ~PAGE_MASK;

		if (ro_end > ro_start && ro_start >= start && ro_end <= end) {
			if (ro_start > start)
				out[n++] = (struct kxelf_range){ start, ro_start - start, l->prot };
			out[n++] = (struct kxelf_range){ ro_start, ro_end - ro_start, KXELF_PROT_R };
			if (end > ro_end)
				out[n++] = (struct kxelf_range){ ro_end, end - ro_end, l->prot };
		} else {
			out[n++] = (struct kxelf_range){ start, end - start, l->prot };
		}
	}
	return n;
}

size_t kxelf_module_prot_count(const struct kxelf_module *mod)
{
	struct kxelf_range r[KXELF_MAX_LOADS + 2];
	return prot_ranges(mod, r);
}

int kxelf_module_prot(const struct kxelf_module *mod, size_t i, struct kxelf_range *out)
{
	struct kxelf_range r[KXELF_MAX_LOADS + 2];

	if (i >= prot_ranges(mod, r))
		return -EINVAL;
	*out = r[i];
	return 0;
}

void kxelf_module_init_info(const struct kxelf_module *mod, struct kxelf_init_info *out)
{
	const struct kxelf_image *img = mod->img;
	const uint64_t b = mod->bias;

	*out = (struct kxelf_init_info){
		.init = img->init ? img->init + b : 0,
		.fini = img->fini ? img->fini + b : 0,
		.preinit_array = img->preinit_array.size ? img->preinit_array.vaddr + b : 0,
		.preinit_count = img->preinit_array.size / 8,
		.init_array = img->init_array.size ? img->init_array.vaddr + b : 0,
		.init_count = img->init_array.size / 8,
		.fini_array = img->fini_array.size ? img->fini_array.vaddr + b : 0,
		.fini_count = img->fini_array.size / 8,
		.entry = img->entry ? img->entry + b : 0,
	};
}
