/*
 * image.c — load a pVM image into guest memory through the ELF loader
 * (manager/elf, kxelf).  No ELF parsing happens here: kxelf validates the
 * file (untrusted input), copies its PT_LOAD segments into the window of
 * guest memory we give it and says which rights each page range needs; the
 * monitor decides whether to grant them (never W+X, never twice for one
 * page, never outside the window) and writes the page tables.
 *
 * Images here are static: ET_EXEC linked at or above KX_IMAGE_MIN, or a
 * static PIE (placed at KX_IMAGE_MIN and relocated against itself).  An
 * image that names libraries (DT_NEEDED) is refused: libraries come only
 * through kxd, and a pVM started with a channel is linked by link.c.
 * Constructors are refused: the runtime does not run them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "manager/elf/kxelf.h"
#include "manager/hv/internal.h"

static unsigned hv_prot_of(unsigned kxelf_prot)
{
	return ((kxelf_prot & KXELF_PROT_R) ? HV_PROT_READ : 0) |
	       ((kxelf_prot & KXELF_PROT_W) ? HV_PROT_WRITE : 0) |
	       ((kxelf_prot & KXELF_PROT_X) ? HV_PROT_EXEC : 0);
}

/* Is any page of [gpa, gpa + size) already granted to the guest? */
static int any_page_mapped(const struct hv_guest_mem *mem, uint64_t gpa, uint64_t size)
{
	for (uint64_t off = 0; off < size; off += KX_PAGE_SIZE)
		if (mem->page_prot[(gpa + off) / KX_PAGE_SIZE] != 0)
			return 1;
	return 0;
}

/* Grant the rights kxelf asks for, range by range. */
static int map_ranges(struct hv_pvm *p, const struct kxelf_module *mod, struct kx_error *err)
{
	const struct hv_guest_mem *mem = &p->mem;
	struct kx_error scratch;
	size_t n = kxelf_module_prot_count(mod);

	if (n == 0)
		return kx_err(err, -EINVAL, "image: no loadable segment");
	for (size_t i = 0; i < n; i++) {
		struct kxelf_range r;
		char what[96];

		if (kxelf_module_prot(mod, i, &r) != 0)
			return kx_err(err, -EINVAL, "image: cannot read its page rights");
		snprintf(what, sizeof(what), "image: range [0x%llx, +0x%llx)",
			 (unsigned long long)r.addr, (unsigned long long)r.size);
		if (hv_guest_ptr(mem, r.addr, r.size, HV_ACCESS_MONITOR) == NULL ||
		    r.addr < KX_IMAGE_MIN)
			return kx_err(err, -EINVAL, "%s: outside the image window", what);
		if (any_page_mapped(mem, r.addr, r.size))
			return kx_err(err, -EINVAL, "%s: shares a page with another segment", what);
		if (hv_protect(p, r.addr, r.size, hv_prot_of(r.prot), &scratch) != 0)
			return kx_err(err, -EPERM, "%s: writable and executable (W^X)", what);
	}
	return 0;
}

static int check_image(const struct kxelf_image *img, uint64_t limit, struct kx_error *err)
{
	struct kxelf_span span;
	uint64_t end;

	if (kxelf_image_type(img) == KXELF_TYPE_DYN)
		return kx_err(err, -EINVAL, "image: a shared library, not an executable");
	if (kxelf_image_needed_count(img) > 0)
		return kx_err(err, -ENOTSUP,
			      "image: needs libraries (DT_NEEDED), which only kxd grants; first: %s",
			      kxelf_image_needed(img, 0));
	kxelf_image_span(img, &span);
	if (span.fixed && span.base < KX_IMAGE_MIN)
		return kx_err(err, -EINVAL, "image: linked below KX_IMAGE_MIN (0x400000)");
	if (__builtin_add_overflow(span.fixed ? span.base : KX_IMAGE_MIN, span.size, &end) ||
	    end > limit)
		return kx_err(err, -E2BIG, "image: does not fit in guest memory below the heap");
	return 0;
}

int image_load(struct hv_pvm *p, uint64_t limit, const uint8_t *buf, size_t len,
	       struct image_info *info, struct kx_error *err)
{
	struct hv_guest_mem *mem = &p->mem;
	struct kxelf_image *img = NULL;
	struct kxelf_module *mod = NULL;
	struct kxelf_segment seg;
	struct kxelf_span span;
	struct kxelf_init_info init;
	const struct kxelf_module *scope[1];
	const struct kxelf_bind_opts bind = {.mode = KXELF_BIND_NOW};
	int rc;

	if (limit <= KX_IMAGE_MIN || limit > mem->size)
		return kx_err(err, -E2BIG, "image: no room for an image in guest memory");
	rc = kxelf_image_parse(buf, len, &img, err);
	if (rc != 0) {
		kx_err_wrap(err, rc, "image");
		goto out;
	}
	rc = check_image(img, limit, err);
	if (rc != 0)
		goto out;
	/* The window kxelf may write: everything from KX_IMAGE_MIN to the heap. */
	seg = (struct kxelf_segment){
		.guest_base = KX_IMAGE_MIN,
		.host = hv_guest_ptr(mem, KX_IMAGE_MIN, limit - KX_IMAGE_MIN, HV_ACCESS_MONITOR),
		.size = limit - KX_IMAGE_MIN,
	};
	kxelf_image_span(img, &span);
	rc = kxelf_module_map(img, &seg, span.fixed ? span.base : KX_IMAGE_MIN, &mod, err);
	scope[0] = mod;
	if (rc == 0)
		rc = kxelf_module_relocate(mod, scope, 1, &bind, err);
	if (rc != 0) {
		kx_err_wrap(err, rc, "image");
		goto out;
	}
	kxelf_module_init_info(mod, &init);
	if (init.init || init.preinit_count || init.init_count) {
		rc = kx_err(err, -ENOTSUP, "image: has constructors; not supported yet");
		goto out;
	}
	rc = map_ranges(p, mod, err);
	if (rc != 0)
		goto out;
	if (init.entry == 0 || init.entry >= mem->size ||
	    !(mem->page_prot[init.entry / KX_PAGE_SIZE] & HV_PROT_EXEC)) {
		rc = kx_err(err, -EINVAL, "image: entry point not in an executable segment");
		goto out;
	}
	info->entry = init.entry;
	info->start = kxelf_module_start(mod);
	info->end = kxelf_module_end(mod);
out:
	kxelf_module_free(mod);
	kxelf_image_free(img);
	return rc;
}
