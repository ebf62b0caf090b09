/*
 * ELF header and program headers: the first checks every file meets, and
 * the image accessors.  Section headers, the dynamic section and its tables
 * are in dynamic.c; symbols in symbols.c; relocations in relocs.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "manager/elf/internal.h"

_Thread_local kxelf_read_fn *elf_read_hook;
_Thread_local void *elf_read_ctx;

void kxelf_trace_reads(kxelf_read_fn *fn, void *ctx)
{
	elf_read_hook = fn;
	elf_read_ctx = ctx;
}

const char *kxelf_err_name(int rc)
{
	switch (rc) {
	case 0: return "ok";
	case -ENOEXEC: return "malformed";
	case -ENOTSUP: return "unsupported";
	case -E2BIG: return "limit";
	case -ERANGE: return "out of range";
	case -ENOENT: return "symbol";
	case -ELOOP: return "loop";
	case -ELIBACC: return "open";
	case -EALREADY: return "state";
	case -EINVAL: return "invalid argument";
	case -ENOMEM: return "out of memory";
	}
	return "unknown";
}

const char *kxelf_type_name(enum kxelf_type type)
{
	switch (type) {
	case KXELF_TYPE_EXEC: return "exec";
	case KXELF_TYPE_PIE: return "pie";
	case KXELF_TYPE_DYN: return "dyn";
	}
	return "unknown";
}

const char *kxelf_phdr_type_name(uint32_t type)
{
	switch (type) {
	case PT_NULL: return "NULL";
	case PT_LOAD: return "LOAD";
	case PT_DYNAMIC: return "DYNAMIC";
	case PT_INTERP: return "INTERP";
	case PT_NOTE: return "NOTE";
	case PT_SHLIB: return "SHLIB";
	case PT_PHDR: return "PHDR";
	case PT_TLS: return "TLS";
	case PT_GNU_EH_FRAME: return "GNU_EH_FRAME";
	case PT_GNU_STACK: return "GNU_STACK";
	case PT_GNU_RELRO: return "GNU_RELRO";
	case PT_GNU_PROPERTY: return "GNU_PROPERTY";
	}
	return NULL;
}

static bool pow2_or_zero(uint64_t v)
{
	return (v & (v - 1)) == 0;
}

static unsigned prot_of(uint32_t p_flags)
{
	/* x86-64 page tables cannot express W or X without R. */
	unsigned prot = KXELF_PROT_R;
	if (p_flags & PF_W)
		prot |= KXELF_PROT_W;
	if (p_flags & PF_X)
		prot |= KXELF_PROT_X;
	return prot;
}

const struct elf_load *img_load_at(const struct kxelf_image *img, uint64_t vaddr, uint64_t size)
{
	for (size_t i = 0; i < img->nloads; i++) {
		const struct elf_load *l = &img->loads[i];
		if (vaddr >= l->vaddr && range_ok(vaddr - l->vaddr, size, l->memsz))
			return l;
	}
	return NULL;
}

/* File offset of [vaddr, vaddr + size) when it is entirely file-backed. */
int img_file_off(const struct kxelf_image *img, uint64_t vaddr, uint64_t size, uint64_t *off)
{
	for (size_t i = 0; i < img->nloads; i++) {
		const struct elf_load *l = &img->loads[i];
		if (vaddr >= l->vaddr && range_ok(vaddr - l->vaddr, size, l->filesz)) {
			*off = l->offset + (vaddr - l->vaddr);
			return 0;
		}
	}
	return -1;
}

/* File-backed bytes from vaddr to the end of its PT_LOAD's file part. */
uint64_t img_file_avail(const struct kxelf_image *img, uint64_t vaddr)
{
	for (size_t i = 0; i < img->nloads; i++) {
		const struct elf_load *l = &img->loads[i];
		if (vaddr >= l->vaddr && vaddr - l->vaddr < l->filesz)
			return l->filesz - (vaddr - l->vaddr);
	}
	return 0;
}

/* Untrusted input: the first 64 bytes of the file. */
static int ehdr_parse(struct kxelf_image *img, struct kx_error *err)
{
	Elf64_Ehdr eh;

	if (img->len > KXELF_MAX_FILE_SIZE)
		return kx_err(err, -E2BIG, "file size %zu above the %zu-byte limit",
			      img->len, KXELF_MAX_FILE_SIZE);
	if (img->len < sizeof(eh))
		return kx_err(err, -ENOEXEC,
			      "file too small for an ELF header (%zu bytes)", img->len);
	memcpy(&eh, img_at(img, 0, sizeof(eh)), sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return kx_err(err, -ENOEXEC, "not an ELF file (bad magic)");
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return kx_err(err, -ENOTSUP, "ELF class %u: only ELF64 is supported",
			      eh.e_ident[EI_CLASS]);
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return kx_err(err, -ENOTSUP,
			      "ELF data encoding %u: only little-endian is supported",
			      eh.e_ident[EI_DATA]);
	if (eh.e_ident[EI_VERSION] != EV_CURRENT || eh.e_version != EV_CURRENT)
		return kx_err(err, -ENOEXEC, "ELF version %u/%u is not 1",
			      eh.e_ident[EI_VERSION], eh.e_version);
	if (eh.e_ident[EI_OSABI] != ELFOSABI_SYSV && eh.e_ident[EI_OSABI] != ELFOSABI_GNU)
		return kx_err(err, -ENOTSUP, "OS ABI %u is not System V or GNU",
			      eh.e_ident[EI_OSABI]);
	if (eh.e_machine != EM_X86_64)
		return kx_err(err, -ENOTSUP, "machine %u: only x86-64 (62) is supported",
			      eh.e_machine);
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return kx_err(err, -ENOTSUP,
			      "e_type %u: only ET_EXEC and ET_DYN are loadable", eh.e_type);
	if (eh.e_ehsize != sizeof(Elf64_Ehdr))
		return kx_err(err, -ENOEXEC, "e_ehsize %u != %zu", eh.e_ehsize,
			      sizeof(Elf64_Ehdr));
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		return kx_err(err, -ENOEXEC, "e_phentsize %u != %zu", eh.e_phentsize,
			      sizeof(Elf64_Phdr));
	if (eh.e_phnum == 0)
		return kx_err(err, -ENOEXEC, "no program headers (e_phnum 0)");
	if (eh.e_phnum > KXELF_MAX_PHNUM)
		return kx_err(err, -E2BIG, "e_phnum %u above the limit of %u",
			      eh.e_phnum, KXELF_MAX_PHNUM);
	if (!range_ok(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), img->len))
		return kx_err(err, -ENOEXEC,
			      "program header table (e_phoff 0x%lx, %u entries) past end of file "
			      "(%zu bytes)", eh.e_phoff, eh.e_phnum, img->len);
	img->phoff = eh.e_phoff;
	img->phnum = eh.e_phnum;
	img->entry = eh.e_entry;
	img->type = eh.e_type == ET_EXEC ? KXELF_TYPE_EXEC : KXELF_TYPE_DYN;
	img->shoff = eh.e_shoff;
	return 0;
}

static void phdr_read(const struct kxelf_image *img, size_t i, Elf64_Phdr *ph)
{
	memcpy(ph, img_at(img, img->phoff + i * sizeof(*ph), sizeof(*ph)), sizeof(*ph));
}

/* Untrusted input: one PT_LOAD.  Checks it alone and against the previous one. */
static int load_add(struct kxelf_image *img, size_t i, const Elf64_Phdr *ph,
		    struct kx_error *err)
{
	uint64_t end, page_end;

	if (ph->p_memsz == 0)
		return kx_err(err, -ENOEXEC, "program header %zu: PT_LOAD with p_memsz 0",
			      i);
	end = ph->p_vaddr + ph->p_memsz; /* no wrap: checked by the caller */
	if (__builtin_add_overflow(end, (uint64_t)KXELF_PAGE_SIZE - 1, &page_end))
		return kx_err(err, -ENOEXEC,
			      "program header %zu: p_vaddr 0x%lx + p_memsz 0x%lx wraps when "
			      "rounded to a page", i, ph->p_vaddr, ph->p_memsz);
	if ((ph->p_flags & PF_W) && (ph->p_flags & PF_X))
		return kx_err(err, -ENOEXEC,
			      "program header %zu: segment is writable and executable (W+X refused)",
			      i);
	if (img->nloads == KXELF_MAX_LOADS)
		return kx_err(err, -E2BIG, "program header %zu: more than %u PT_LOAD segments",
			      i, KXELF_MAX_LOADS);
	if (img->nloads > 0) {
		const struct elf_load *prev = &img->loads[img->nloads - 1];
		uint64_t prev_end = prev->vaddr + prev->memsz;
		uint64_t prev_page_end = (prev_end + KXELF_PAGE_SIZE - 1) & ~(uint64_t)(KXELF_PAGE_SIZE - 1);
		if (ph->p_vaddr < prev->vaddr)
			return kx_err(err, -ENOEXEC,
				      "program header %zu: PT_LOAD at 0x%lx not sorted after "
				      "program header %zu at 0x%lx", i, ph->p_vaddr, prev->phidx,
				      prev->vaddr);
		if ((ph->p_vaddr & ~(uint64_t)(KXELF_PAGE_SIZE - 1)) < prev_page_end)
			return kx_err(err, -ENOEXEC,
				      "program header %zu: PT_LOAD [0x%lx, 0x%lx) overlaps the pages "
				      "of program header %zu [0x%lx, 0x%lx)", i, ph->p_vaddr, end,
				      prev->phidx, prev->vaddr, prev_end);
	}
	img->loads[img->nloads++] = (struct elf_load){
		.vaddr = ph->p_vaddr, .memsz = ph->p_memsz, .offset = ph->p_offset,
		.filesz = ph->p_filesz, .prot = prot_of(ph->p_flags), .phidx = i,
	};
	if (ph->p_align > img->span.align)
		img->span.align = ph->p_align;
	return 0;
}

/* Untrusted input: the program header table (first pass: every header's own
 * fields, and the PT_LOAD list). */
static int phdrs_parse(struct kxelf_image *img, struct kx_error *err)
{
	for (size_t i = 0; i < img->phnum; i++) {
		Elf64_Phdr ph;
		int rc;

		phdr_read(img, i, &ph);
		if (ph.p_filesz > ph.p_memsz && ph.p_type != PT_NULL)
			return kx_err(err, -ENOEXEC,
				      "program header %zu: p_filesz 0x%lx > p_memsz 0x%lx", i,
				      ph.p_filesz, ph.p_memsz);
		if (!range_ok(ph.p_offset, ph.p_filesz, img->len))
			return kx_err(err, -ENOEXEC,
				      "program header %zu: file range 0x%lx + 0x%lx past end of file "
				      "(%zu bytes)", i, ph.p_offset, ph.p_filesz, img->len);
		if (!range_ok(ph.p_vaddr, ph.p_memsz, UINT64_MAX))
			return kx_err(err, -ENOEXEC,
				      "program header %zu: p_vaddr 0x%lx + p_memsz 0x%lx wraps", i,
				      ph.p_vaddr, ph.p_memsz);
		if (!pow2_or_zero(ph.p_align))
			return kx_err(err, -ENOEXEC,
				      "program header %zu: p_align 0x%lx is not a power of two", i,
				      ph.p_align);
		if (ph.p_type == PT_LOAD && (rc = load_add(img, i, &ph, err)) != 0)
			return rc;
	}
	if (img->nloads == 0)
		return kx_err(err, -ENOEXEC, "no PT_LOAD segment");
	{
		const struct elf_load *last = &img->loads[img->nloads - 1];
		uint64_t base = img->loads[0].vaddr & ~(uint64_t)(KXELF_PAGE_SIZE - 1);
		uint64_t end = (last->vaddr + last->memsz + KXELF_PAGE_SIZE - 1) &
			       ~(uint64_t)(KXELF_PAGE_SIZE - 1);
		img->span.base = base;
		img->span.size = end - base;
		img->span.fixed = img->type == KXELF_TYPE_EXEC;
		if (img->span.align < KXELF_PAGE_SIZE)
			img->span.align = KXELF_PAGE_SIZE;
		if (img->span.size > KXELF_MAX_SPAN)
			return kx_err(err, -E2BIG,
				      "PT_LOAD segments span 0x%lx bytes, above the limit of 0x%lx",
				      img->span.size, KXELF_MAX_SPAN);
	}
	return 0;
}

static int dup_phdr(struct kx_error *err, size_t i, const char *what)
{
	return kx_err(err, -ENOEXEC, "program header %zu: second %s", i, what);
}

/*
 * Untrusted input: a header other than PT_LOAD that names file bytes
 * (PT_DYNAMIC, PT_INTERP, PT_NOTE, PT_TLS, PT_PHDR, PT_GNU_RELRO, ...).
 * Its bytes must be the very bytes the PT_LOAD mapping p_vaddr puts there:
 * a signature covers the PT_LOADs' file bytes, so a table found through a
 * p_offset anywhere else could be changed after signing (and two readers,
 * one by offset, one by address, would disagree about what the file says).
 * PT_GNU_RELRO names a range of memory, not a table: only its start must
 * agree (lld counts the NOBITS .relro_padding in its p_filesz).
 */
static int phdr_placed(const struct kxelf_image *img, size_t i, const Elf64_Phdr *ph,
		       struct kx_error *err)
{
	const char *name = kxelf_phdr_type_name(ph->p_type);
	uint64_t size = ph->p_type == PT_GNU_RELRO ? 0 : ph->p_filesz;
	char type[32];

	if (ph->p_type == PT_LOAD || ph->p_type == PT_NULL || ph->p_filesz == 0)
		return 0;
	if (name)
		snprintf(type, sizeof(type), "PT_%s", name);
	else
		snprintf(type, sizeof(type), "type 0x%x", ph->p_type);
	for (size_t k = 0; k < img->nloads; k++) {
		const struct elf_load *l = &img->loads[k];
		uint64_t delta = ph->p_vaddr - l->vaddr;

		if (ph->p_vaddr < l->vaddr || !range_ok(delta, size, l->filesz))
			continue;
		if (l->offset + delta != ph->p_offset)
			return kx_err(err, -ENOEXEC,
				      "program header %zu: %s p_offset 0x%lx is not where p_vaddr "
				      "0x%lx lies in the file (0x%lx): only the PT_LOADs' bytes are "
				      "signed", i, type, ph->p_offset, ph->p_vaddr, l->offset + delta);
		return 0;
	}
	return kx_err(err, -ENOEXEC,
		      "program header %zu: %s file bytes [0x%lx, +0x%lx) are not inside a "
		      "PT_LOAD's file bytes at p_vaddr 0x%lx", i, type, ph->p_offset, size,
		      ph->p_vaddr);
}

/* Untrusted input: second pass over the headers that refer to PT_LOADs. */
static int phdrs_special(struct kxelf_image *img, struct kx_error *err)
{
	bool seen_tls = false;

	for (size_t i = 0; i < img->phnum; i++) {
		Elf64_Phdr ph;
		const struct elf_load *l;
		int rc;

		phdr_read(img, i, &ph);
		/* PT_DYNAMIC is placed below, after its own address check. */
		if (ph.p_type != PT_DYNAMIC && (rc = phdr_placed(img, i, &ph, err)) != 0)
			return rc;
		switch (ph.p_type) {
		case PT_DYNAMIC:
			if (img->has_dynamic)
				return dup_phdr(err, i, "PT_DYNAMIC");
			if (ph.p_filesz % sizeof(Elf64_Dyn) != 0 || ph.p_filesz == 0)
				return kx_err(err, -ENOEXEC,
					      "program header %zu: PT_DYNAMIC size 0x%lx is not a "
					      "non-zero multiple of %zu", i, ph.p_filesz,
					      sizeof(Elf64_Dyn));
			if (!img_load_at(img, ph.p_vaddr, ph.p_memsz))
				return kx_err(err, -ENOEXEC,
					      "program header %zu: PT_DYNAMIC [0x%lx, +0x%lx) is not "
					      "inside a PT_LOAD", i, ph.p_vaddr, ph.p_memsz);
			if ((rc = phdr_placed(img, i, &ph, err)) != 0)
				return rc;
			img->has_dynamic = true;
			img->dyn_vaddr = ph.p_vaddr;
			img->dyn_size = ph.p_memsz;
			img->dyn_off = ph.p_offset;
			img->dyn_count = ph.p_filesz / sizeof(Elf64_Dyn);
			break;
		case PT_INTERP:
			if (img->interp)
				return dup_phdr(err, i, "PT_INTERP");
			if (ph.p_filesz == 0 || *img_at(img, ph.p_offset + ph.p_filesz - 1, 1) != '\0')
				return kx_err(err, -ENOEXEC,
					      "program header %zu: PT_INTERP is not NUL-terminated", i);
			img->interp = img_str(img, ph.p_offset);
			break;
		case PT_TLS:
			if (seen_tls)
				return dup_phdr(err, i, "PT_TLS");
			seen_tls = true;
			l = img_load_at(img, ph.p_vaddr, ph.p_filesz);
			if (!l || ph.p_vaddr - l->vaddr + ph.p_filesz > l->filesz)
				return kx_err(err, -ENOEXEC,
					      "program header %zu: PT_TLS image [0x%lx, +0x%lx) is not "
					      "file-backed inside a PT_LOAD", i, ph.p_vaddr, ph.p_filesz);
			img->tls = (struct kxelf_tls_info){
				.present = true, .vaddr = ph.p_vaddr, .filesz = ph.p_filesz,
				.memsz = ph.p_memsz, .align = ph.p_align ? ph.p_align : 1,
			};
			break;
		case PT_GNU_RELRO:
			if (img->has_relro)
				return dup_phdr(err, i, "PT_GNU_RELRO");
			l = img_load_at(img, ph.p_vaddr, ph.p_memsz);
			if (!l || !(l->prot & KXELF_PROT_W))
				return kx_err(err, -ENOEXEC,
					      "program header %zu: PT_GNU_RELRO [0x%lx, +0x%lx) is not "
					      "inside a writable PT_LOAD", i, ph.p_vaddr, ph.p_memsz);
			img->has_relro = true;
			img->relro_vaddr = ph.p_vaddr;
			img->relro_size = ph.p_memsz;
			break;
		default:
			break;
		}
	}
	return 0;
}

static int entry_check(struct kxelf_image *img, struct kx_error *err)
{
	const struct elf_load *l;

	if (img->entry == 0 && img->type == KXELF_TYPE_DYN)
		return 0;
	l = img_load_at(img, img->entry, 1);
	if (!l || !(l->prot & KXELF_PROT_X))
		return kx_err(err, -ENOEXEC,
			      "e_entry 0x%lx is not inside an executable PT_LOAD", img->entry);
	return 0;
}

/* Untrusted input: buf[0 .. len) is the whole file, as read from disk. */
int kxelf_image_parse(const void *buf, size_t len, struct kxelf_image **out,
		      struct kx_error *err)
{
	struct kxelf_image *img = NULL;
	int rc;

	if (!buf || !out) {
		rc = kx_err(err, -EINVAL, "kxelf_image_parse: NULL argument");
		goto out;
	}
	*out = NULL;
	img = calloc(1, sizeof(*img));
	if (!img) {
		rc = kx_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	img->buf = buf;
	img->len = len;
	if ((rc = ehdr_parse(img, err)) != 0 || (rc = phdrs_parse(img, err)) != 0 ||
	    (rc = phdrs_special(img, err)) != 0 || (rc = sections_parse(img, err)) != 0 ||
	    (rc = dyn_parse(img, err)) != 0)
		goto out;
	/* libc.so.6 has an interpreter too: a runnable library, not a PIE. */
	if (img->type == KXELF_TYPE_DYN &&
	    ((img->flags_1 & DF_1_PIE) || (img->interp && !img->has_soname)))
		img->type = KXELF_TYPE_PIE;
	if ((rc = syms_validate(img, KXELF_SYMS_DYNSYM, err)) != 0 ||
	    (rc = syms_validate(img, KXELF_SYMS_SYMTAB, err)) != 0 ||
	    (rc = relocs_validate(img, err)) != 0)
		goto out;
	if ((rc = entry_check(img, err)) != 0)
		goto out;
	*out = img;
	img = NULL;
	rc = 0;
out:
	free(img);
	return rc;
}

void kxelf_image_free(struct kxelf_image *img)
{
	free(img);
}

enum kxelf_type kxelf_image_type(const struct kxelf_image *img)
{
	return img->type;
}

void kxelf_image_span(const struct kxelf_image *img, struct kxelf_span *out)
{
	*out = img->span;
}

uint64_t kxelf_image_entry(const struct kxelf_image *img)
{
	return img->entry;
}

const char *kxelf_image_soname(const struct kxelf_image *img)
{
	return img->has_soname ? img_str(img, img->strtab.off + img->soname_off) : NULL;
}

const char *kxelf_image_interp(const struct kxelf_image *img)
{
	return img->interp;
}

uint64_t kxelf_image_flags(const struct kxelf_image *img)
{
	return img->flags;
}

uint64_t kxelf_image_flags_1(const struct kxelf_image *img)
{
	return img->flags_1;
}

size_t kxelf_image_phnum(const struct kxelf_image *img)
{
	return img->phnum;
}

int kxelf_image_phdr(const struct kxelf_image *img, size_t i, struct kxelf_phdr *out)
{
	Elf64_Phdr ph;

	if (i >= img->phnum)
		return -EINVAL;
	phdr_read(img, i, &ph);
	*out = (struct kxelf_phdr){
		.type = ph.p_type, .flags = ph.p_flags, .offset = ph.p_offset, .vaddr = ph.p_vaddr,
		.paddr = ph.p_paddr, .filesz = ph.p_filesz, .memsz = ph.p_memsz, .align = ph.p_align,
	};
	return 0;
}

size_t kxelf_image_needed_count(const struct kxelf_image *img)
{
	return img->nneeded;
}

const char *kxelf_image_needed(const struct kxelf_image *img, size_t i)
{
	if (i >= img->nneeded)
		return NULL;
	return img_str(img, img->strtab.off + img->needed_off[i]);
}

void kxelf_image_tls(const struct kxelf_image *img, struct kxelf_tls_info *out)
{
	*out = img->tls;
}
