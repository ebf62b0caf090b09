/*
 * Relocation tables: the types the loader knows, per-entry validation at
 * parse time (type, symbol index, target range), the RELR walk, locating
 * PLT0, and the image accessors.  Applying them is bind.c's job.
 */
#include "manager/elf/internal.h"

#ifndef R_X86_64_GOTPCRELX
#define R_X86_64_GOTPCRELX 41
#define R_X86_64_REX_GOTPCRELX 42
#endif

/* Types the loader applies, with the bytes each writes (0: none / symbol size). */
static const struct {
	const char *name;
	uint8_t size;
	bool supported;
	bool needs_sym;
} rtypes[] = {
	[R_X86_64_NONE] = { "R_X86_64_NONE", 0, true, false },
	[R_X86_64_64] = { "R_X86_64_64", 8, true, false },
	[R_X86_64_PC32] = { "R_X86_64_PC32", 4, true, false },
	[R_X86_64_GOT32] = { "R_X86_64_GOT32", 4, false, false },
	[R_X86_64_PLT32] = { "R_X86_64_PLT32", 4, false, false },
	[R_X86_64_COPY] = { "R_X86_64_COPY", 0, true, true },
	[R_X86_64_GLOB_DAT] = { "R_X86_64_GLOB_DAT", 8, true, true },
	[R_X86_64_JUMP_SLOT] = { "R_X86_64_JUMP_SLOT", 8, true, true },
	[R_X86_64_RELATIVE] = { "R_X86_64_RELATIVE", 8, true, false },
	[R_X86_64_GOTPCREL] = { "R_X86_64_GOTPCREL", 4, false, false },
	[R_X86_64_32] = { "R_X86_64_32", 4, true, false },
	[R_X86_64_32S] = { "R_X86_64_32S", 4, true, false },
	[R_X86_64_16] = { "R_X86_64_16", 2, false, false },
	[R_X86_64_PC16] = { "R_X86_64_PC16", 2, false, false },
	[R_X86_64_8] = { "R_X86_64_8", 1, false, false },
	[R_X86_64_PC8] = { "R_X86_64_PC8", 1, false, false },
	[R_X86_64_DTPMOD64] = { "R_X86_64_DTPMOD64", 8, true, false },
	[R_X86_64_DTPOFF64] = { "R_X86_64_DTPOFF64", 8, true, false },
	[R_X86_64_TPOFF64] = { "R_X86_64_TPOFF64", 8, true, false },
	[R_X86_64_TLSGD] = { "R_X86_64_TLSGD", 4, false, false },
	[R_X86_64_TLSLD] = { "R_X86_64_TLSLD", 4, false, false },
	[R_X86_64_DTPOFF32] = { "R_X86_64_DTPOFF32", 4, false, false },
	[R_X86_64_GOTTPOFF] = { "R_X86_64_GOTTPOFF", 4, false, false },
	[R_X86_64_TPOFF32] = { "R_X86_64_TPOFF32", 4, false, false },
	[R_X86_64_PC64] = { "R_X86_64_PC64", 8, true, false },
	[R_X86_64_GOTOFF64] = { "R_X86_64_GOTOFF64", 8, false, false },
	[R_X86_64_GOTPC32] = { "R_X86_64_GOTPC32", 4, false, false },
	[R_X86_64_SIZE32] = { "R_X86_64_SIZE32", 4, false, false },
	[R_X86_64_SIZE64] = { "R_X86_64_SIZE64", 8, false, false },
	[R_X86_64_GOTPC32_TLSDESC] = { "R_X86_64_GOTPC32_TLSDESC", 4, false, false },
	[R_X86_64_TLSDESC_CALL] = { "R_X86_64_TLSDESC_CALL", 0, false, false },
	[R_X86_64_TLSDESC] = { "R_X86_64_TLSDESC", 16, false, false },
	[R_X86_64_IRELATIVE] = { "R_X86_64_IRELATIVE", 8, true, false },
	[R_X86_64_RELATIVE64] = { "R_X86_64_RELATIVE64", 8, false, false },
	[R_X86_64_GOTPCRELX] = { "R_X86_64_GOTPCRELX", 4, false, false },
	[R_X86_64_REX_GOTPCRELX] = { "R_X86_64_REX_GOTPCRELX", 4, false, false },
};

#define NRTYPES (sizeof(rtypes) / sizeof(rtypes[0]))

const char *kxelf_reloc_type_name(uint32_t type)
{
	return type < NRTYPES ? rtypes[type].name : NULL;
}

/* Where a relocation may write: inside a writable PT_LOAD, and not over
 * the structures the loader itself owns in the image (the dynamic section,
 * and GOT[0..2] which lazy binding fills).  NULL when fine, else why not. */
static const char *target_problem(const struct kxelf_image *img, uint64_t vaddr, uint64_t size)
{
	const struct elf_load *l = img_load_at(img, vaddr, size);

	if (!l)
		return "outside the mapped image";
	if (!(l->prot & KXELF_PROT_W))
		return "in a read-only segment (text relocations are not supported)";
	if (img->has_dynamic && vaddr < img->dyn_vaddr + img->dyn_size &&
	    img->dyn_vaddr < vaddr + size)
		return "over the dynamic section";
	if (img->jmprel_count && vaddr < img->pltgot + 24 && img->pltgot < vaddr + size)
		return "over GOT[0..2], reserved for the loader";
	return NULL;
}

bool reloc_target_ok(const struct kxelf_image *img, uint64_t vaddr, uint64_t size)
{
	return target_problem(img, vaddr, size) == NULL;
}

static void rela_read(const struct kxelf_image *img, bool plt, size_t i, struct kxelf_reloc *out)
{
	const struct elf_table *t = plt ? &img->jmprel : &img->rela;
	Elf64_Rela r;

	memcpy(&r, img_at(img, t->off + i * sizeof(r), sizeof(r)), sizeof(r));
	*out = (struct kxelf_reloc){
		.offset = r.r_offset, .type = ELF64_R_TYPE(r.r_info), .sym = ELF64_R_SYM(r.r_info),
		.addend = r.r_addend, .plt = plt, .plt_index = plt ? i : 0,
	};
}

/* Untrusted input: one RELA entry. */
static int rela_check(const struct kxelf_image *img, const struct kxelf_reloc *r, size_t i,
		      struct kx_error *err)
{
	const char *table = r->plt ? ".rela.plt" : ".rela.dyn";
	const char *why;
	uint64_t size;

	if (r->type >= NRTYPES || !rtypes[r->type].name)
		return kx_err(err, -ENOTSUP,
			      "relocation %zu (%s): unknown type %u", i, table, r->type);
	if (!rtypes[r->type].supported)
		return kx_err(err, -ENOTSUP,
			      "relocation %zu (%s): type %s is not supported", i, table,
			      rtypes[r->type].name);
	if (r->plt && r->type != R_X86_64_JUMP_SLOT && r->type != R_X86_64_IRELATIVE)
		return kx_err(err, -ENOEXEC,
			      "relocation %zu (%s): %s in the PLT table (only JUMP_SLOT and "
			      "IRELATIVE)", i, table, rtypes[r->type].name);
	if (r->sym >= img->dynsym_count && (r->sym != 0 || rtypes[r->type].needs_sym))
		return kx_err(err, -ENOEXEC,
			      "relocation %zu (%s): symbol index %u >= symbol count %zu", i, table,
			      r->sym, img->dynsym_count);
	if (rtypes[r->type].needs_sym && r->sym == 0)
		return kx_err(err, -ENOEXEC, "relocation %zu (%s): %s without a symbol",
			      i, table, rtypes[r->type].name);
	size = rtypes[r->type].size;
	if (r->type == R_X86_64_COPY) {
		struct kxelf_symbol s;
		if (img->type == KXELF_TYPE_DYN)
			return kx_err(err, -ENOEXEC,
				      "relocation %zu (%s): R_X86_64_COPY in a shared object", i,
				      table);
		sym_read(img, KXELF_SYMS_DYNSYM, r->sym, &s);
		size = s.size;
	}
	if (r->type != R_X86_64_NONE && (why = target_problem(img, r->offset, size)) != NULL)
		return kx_err(err, -ERANGE, "relocation %zu (%s): target 0x%lx (+%lu) %s", i,
			      table, r->offset, size, why);
	return 0;
}

/* Untrusted input: the RELR bitmap encoding.  Calls fn on each address. */
int relr_walk(const struct kxelf_image *img, int (*fn)(void *ctx, uint64_t vaddr), void *ctx,
	      struct kx_error *err)
{
	uint64_t where = 0;
	bool have_base = false;

	for (size_t i = 0; i < img->relr_count; i++) {
		uint64_t w = rd64(img_at(img, img->relr.off + 8 * i, 8));
		int rc;

		if ((w & 1) == 0) {
			where = w;
			have_base = true;
			if ((rc = fn(ctx, where)) != 0)
				return rc;
			if (__builtin_add_overflow(where, 8, &where))
				return kx_err(err, -ENOEXEC,
					      "DT_RELR entry %zu: address 0x%lx wraps", i, w);
			continue;
		}
		if (!have_base)
			return kx_err(err, -ENOEXEC,
				      "DT_RELR entry %zu: bitmap before any address", i);
		for (unsigned bit = 1; bit < 64; bit++) {
			if (!((w >> bit) & 1))
				continue;
			if ((rc = fn(ctx, where + 8 * (uint64_t)(bit - 1))) != 0)
				return rc;
		}
		if (__builtin_add_overflow(where, 63 * 8, &where))
			return kx_err(err, -ENOEXEC,
				      "DT_RELR entry %zu: bitmap addresses wrap", i);
	}
	return 0;
}

struct relr_check_ctx {
	struct kxelf_image *img;
	struct kx_error *err;
};

static int relr_check_one(void *ctx, uint64_t vaddr)
{
	struct relr_check_ctx *c = ctx;
	const char *why = target_problem(c->img, vaddr, 8);

	if (why)
		return kx_err(c->err, -ERANGE, "DT_RELR relocation at 0x%lx: target %s",
			      vaddr, why);
	if (c->img->relr_addrs++ == KXELF_MAX_RELOCS)
		return kx_err(c->err, -E2BIG, "DT_RELR: more than %u relocations",
			      KXELF_MAX_RELOCS);
	return 0;
}

/* The link-time PLT0 when every JUMP_SLOT's initial GOT value points into
 * an executable segment (its lazy stub): PLT entries are 16 bytes after a
 * 16-byte PLT0, and each initial value lies inside its own entry. */
static void plt0_locate(struct kxelf_image *img)
{
	uint64_t lowest = UINT64_MAX;
	size_t slots = 0;

	for (size_t i = 0; i < img->jmprel_count; i++) {
		struct kxelf_reloc r;
		const struct elf_load *l;
		uint64_t off, initial;

		rela_read(img, true, i, &r);
		if (r.type != R_X86_64_JUMP_SLOT)
			continue;
		if (img_file_off(img, r.offset, 8, &off) != 0)
			return;
		initial = rd64(img_at(img, off, 8));
		l = img_load_at(img, initial, 1);
		if (!l || !(l->prot & KXELF_PROT_X))
			return;
		if ((initial & ~(uint64_t)15) < lowest)
			lowest = initial & ~(uint64_t)15;
		slots++;
	}
	if (slots && lowest >= 16 && img_load_at(img, lowest - 16, 16) &&
	    (img_load_at(img, lowest - 16, 16)->prot & KXELF_PROT_X))
		img->plt0 = lowest - 16;
}

/* Untrusted input: every relocation, before anything is mapped. */
int relocs_validate(struct kxelf_image *img, struct kx_error *err)
{
	struct relr_check_ctx ctx = { img, err };
	int rc;

	if (img->rela_count + img->jmprel_count > KXELF_MAX_RELOCS)
		return kx_err(err, -E2BIG, "%zu relocations, above the limit of %u",
			      img->rela_count + img->jmprel_count, KXELF_MAX_RELOCS);
	if (img->jmprel_count &&
	    !img_load_at(img, img->pltgot, 24 + 8 * (uint64_t)img->jmprel_count))
		return kx_err(err, -ENOEXEC,
			      "DT_PLTGOT 0x%lx: GOT for %zu PLT slots runs past its segment",
			      img->pltgot, img->jmprel_count);
	for (size_t i = 0; i < img->rela_count + img->jmprel_count; i++) {
		struct kxelf_reloc r;
		kxelf_image_reloc(img, i, &r);
		if ((rc = rela_check(img, &r, r.plt ? r.plt_index : i, err)) != 0)
			return rc;
	}
	if ((rc = relr_walk(img, relr_check_one, &ctx, err)) != 0)
		return rc;
	plt0_locate(img);
	return 0;
}

size_t kxelf_image_reloc_count(const struct kxelf_image *img)
{
	return img->rela_count + img->jmprel_count;
}

int kxelf_image_reloc(const struct kxelf_image *img, size_t i, struct kxelf_reloc *out)
{
	if (i < img->rela_count)
		rela_read(img, false, i, out);
	else if (i - img->rela_count < img->jmprel_count)
		rela_read(img, true, i - img->rela_count, out);
	else
		return -EINVAL;
	return 0;
}

size_t kxelf_image_relr_count(const struct kxelf_image *img)
{
	return img->relr_addrs;
}
