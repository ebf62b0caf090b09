/*
 * The signer's own minimal ELF walker: just enough of ELF64 to find the
 * program headers, the sections the signature covers and the `.kxsig`
 * section.  The input is an untrusted file: every offset, size and count is
 * checked against the buffer and against overflow before it is used, and the
 * struct it fills only ever points at checked bytes.  (The full loader lives
 * in manager/elf; the signer sits below the manager and does not use it.)
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "signer/internal.h"

/* [off, off + size) lies inside [0, len); overflow-safe. */
static int in_file(uint64_t off, uint64_t size, size_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(off, size, &end))
		return 0;
	return end <= len;
}

static int overlaps(uint64_t a_off, uint64_t a_size, uint64_t b_off, uint64_t b_size)
{
	/* Both ranges were checked in_file(), so the sums cannot overflow. */
	return a_size && b_size && a_off < b_off + b_size && b_off < a_off + a_size;
}

void kxsig_elf_phdr(const struct kxsig_elf *elf, size_t i, Elf64_Phdr *out)
{
	memcpy(out, elf->buf + elf->eh.e_phoff + i * sizeof(*out), sizeof(*out));
}

void kxsig_elf_shdr(const struct kxsig_elf *elf, size_t i, Elf64_Shdr *out)
{
	memcpy(out, elf->buf + elf->eh.e_shoff + i * sizeof(*out), sizeof(*out));
}

const char *kxsig_elf_section_name(const struct kxsig_elf *elf, const Elf64_Shdr *sh)
{
	/* sh_name < shstr_size and the table ends in NUL: checked in parse. */
	return (const char *)elf->buf + elf->shstr_off + sh->sh_name;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Every signed region is one PT_LOAD or one of seven others (headers,
 * tables, the pointer map); a file at the loader's PT_LOAD limit must still
 * fit a signature. */
_Static_assert(KXSIG_ABI_MAX_REGIONS >= KXELF_MAX_LOADS + 7,
	       "a signature has a region for each PT_LOAD the loader takes");

static int check_ident(const Elf64_Ehdr *eh, size_t len, struct kx_error *err)
{
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return kx_err(err, -ENOEXEC, "not an ELF file (bad magic)");
	if (eh->e_ident[EI_CLASS] == ELFCLASS32)
		return kx_err(err, -ENOEXEC,
			      "32-bit ELF (ELFCLASS32) is not supported: need ELF64 x86-64");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return kx_err(err, -ENOEXEC, "bad ELF class %u",
			      eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] == ELFDATA2MSB)
		return kx_err(err, -ENOEXEC,
			      "big-endian ELF is not supported: need ELF64 x86-64");
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return kx_err(err, -ENOEXEC, "bad ELF data encoding %u",
			      eh->e_ident[EI_DATA]);
	if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
		return kx_err(err, -ENOEXEC, "bad ELF version");
	if (eh->e_machine != EM_X86_64)
		return kx_err(err, -ENOEXEC,
			      "ELF machine %u is not x86-64", eh->e_machine);
	if (eh->e_type != ET_DYN && eh->e_type != ET_EXEC)
		return kx_err(err, -ENOEXEC,
			      "ELF type %u is not a shared object or an executable",
			      eh->e_type);
	if (eh->e_ehsize != sizeof(Elf64_Ehdr))
		return kx_err(err, -ENOEXEC, "bad e_ehsize %u", eh->e_ehsize);
	if (eh->e_phnum == 0 || eh->e_phnum > KXELF_MAX_PHNUM)
		return kx_err(err, -ENOEXEC,
			      "%u program headers (need 1..%u)", eh->e_phnum, KXELF_MAX_PHNUM);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return kx_err(err, -ENOEXEC, "bad e_phentsize %u",
			      eh->e_phentsize);
	if (eh->e_phoff < sizeof(Elf64_Ehdr) ||
	    !in_file(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), len))
		return kx_err(err, -ENOEXEC,
			      "program header table (offset 0x%llx, %u entries) is outside the file",
			      (unsigned long long)eh->e_phoff, eh->e_phnum);
	if (eh->e_shoff == 0 || eh->e_shnum == 0)
		return kx_err(err, -ENOEXEC,
			      "no section header table (or extended section numbering)");
	if (eh->e_shnum > KXELF_MAX_SHNUM)
		return kx_err(err, -ENOEXEC, "%u sections (limit %u)",
			      eh->e_shnum, KXELF_MAX_SHNUM);
	if (eh->e_shentsize != sizeof(Elf64_Shdr))
		return kx_err(err, -ENOEXEC, "bad e_shentsize %u",
			      eh->e_shentsize);
	if (eh->e_shoff < sizeof(Elf64_Ehdr) ||
	    !in_file(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), len))
		return kx_err(err, -ENOEXEC,
			      "section header table (offset 0x%llx, %u entries) is outside the file",
			      (unsigned long long)eh->e_shoff, eh->e_shnum);
	if (overlaps(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), eh->e_shoff,
		     (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)))
		return kx_err(err, -ENOEXEC,
			      "program and section header tables overlap");
	if (eh->e_shstrndx == SHN_UNDEF || eh->e_shstrndx >= eh->e_shnum)
		return kx_err(err, -ENOEXEC, "bad e_shstrndx %u",
			      eh->e_shstrndx);
	return 0;
}

/*
 * A header other than PT_LOAD that names file bytes (PT_DYNAMIC, PT_INTERP,
 * PT_NOTE, PT_TLS, PT_GNU_RELRO, ...) must name the bytes that a PT_LOAD
 * maps at its p_vaddr.  The signature covers the PT_LOADs' file bytes; a
 * table a loader finds through a p_offset anywhere else could be changed
 * after signing.  PT_GNU_RELRO names memory, not a table: only its start
 * must agree (lld counts NOBITS padding in its p_filesz).  The loader
 * (manager/elf, phdr_placed) refuses the same files.
 */
static int check_placed(const struct kxsig_elf *elf, size_t i, struct kx_error *err)
{
	Elf64_Phdr ph;
	uint64_t size;

	kxsig_elf_phdr(elf, i, &ph);
	if (ph.p_type == PT_LOAD || ph.p_type == PT_NULL || ph.p_filesz == 0)
		return 0;
	size = ph.p_type == PT_GNU_RELRO ? 0 : ph.p_filesz;
	for (size_t j = 0; j < elf->eh.e_phnum; j++) {
		Elf64_Phdr load;
		uint64_t delta;

		kxsig_elf_phdr(elf, j, &load);
		if (load.p_type != PT_LOAD || ph.p_vaddr < load.p_vaddr)
			continue;
		delta = ph.p_vaddr - load.p_vaddr;
		/* load's file range was checked in_file, so offset + delta cannot wrap
		 * once delta + size fits inside it. */
		if (delta <= load.p_filesz && size <= load.p_filesz - delta &&
		    load.p_offset + delta == ph.p_offset)
			return 0;
	}
	return kx_err(err, -ENOEXEC,
		      "program header %zu (type 0x%x): file bytes at offset 0x%llx are not the "
		      "PT_LOAD bytes its p_vaddr 0x%llx names (they would not be signed)",
		      i, ph.p_type, (unsigned long long)ph.p_offset,
		      (unsigned long long)ph.p_vaddr);
}

static int check_phdrs(struct kxsig_elf *elf, struct kx_error *err)
{
	for (size_t i = 0; i < elf->eh.e_phnum; i++) {
		Elf64_Phdr ph;

		kxsig_elf_phdr(elf, i, &ph);
		if (ph.p_type != PT_LOAD)
			continue;
		if (elf->nloads == KXELF_MAX_LOADS)
			return kx_err(err, -ENOEXEC, "program header %zu: more than %u PT_LOAD segments",
				      i, KXELF_MAX_LOADS);
		if (!in_file(ph.p_offset, ph.p_filesz, elf->len))
			return kx_err(err, -ENOEXEC,
				      "program header %zu: PT_LOAD (offset 0x%llx, %llu bytes) is outside the file",
				      i, (unsigned long long)ph.p_offset,
				      (unsigned long long)ph.p_filesz);
		elf->end = max_u64(elf->end, ph.p_offset + ph.p_filesz);
		elf->nloads++;
	}
	if (elf->nloads == 0)
		return kx_err(err, -ENOEXEC, "no PT_LOAD segment");
	for (size_t i = 0; i < elf->eh.e_phnum; i++) {
		int rc = check_placed(elf, i, err);

		if (rc)
			return rc;
	}
	return 0;
}

/* Sections with bytes in the file: not NOBITS, not NULL, not empty. */
static int has_file_bytes(const Elf64_Shdr *sh)
{
	return sh->sh_type != SHT_NOBITS && sh->sh_type != SHT_NULL && sh->sh_size != 0;
}

static int check_shstrtab(struct kxsig_elf *elf, struct kx_error *err)
{
	Elf64_Shdr sh;

	kxsig_elf_shdr(elf, elf->eh.e_shstrndx, &sh);
	if (sh.sh_type != SHT_STRTAB || sh.sh_size == 0 ||
	    !in_file(sh.sh_offset, sh.sh_size, elf->len))
		return kx_err(err, -ENOEXEC,
			      "section-name table (section %u) is missing or outside the file",
			      elf->eh.e_shstrndx);
	if (elf->buf[sh.sh_offset + sh.sh_size - 1] != '\0')
		return kx_err(err, -ENOEXEC,
			      "section-name table does not end in NUL");
	elf->shstr_off = sh.sh_offset;
	elf->shstr_size = sh.sh_size;
	return 0;
}

/* One section against the file, the header tables and every later section. */
static int check_section(struct kxsig_elf *elf, size_t i, struct kx_error *err)
{
	const Elf64_Ehdr *eh = &elf->eh;
	Elf64_Shdr sh, other;

	kxsig_elf_shdr(elf, i, &sh);
	if (sh.sh_name >= elf->shstr_size)
		return kx_err(err, -ENOEXEC, "section %zu: name out of range", i);
	if (!has_file_bytes(&sh))
		return 0;
	if (!in_file(sh.sh_offset, sh.sh_size, elf->len))
		return kx_err(err, -ENOEXEC,
			      "section %zu (%s): offset 0x%llx + %llu bytes is outside the file",
			      i, kxsig_elf_section_name(elf, &sh), (unsigned long long)sh.sh_offset,
			      (unsigned long long)sh.sh_size);
	if (overlaps(sh.sh_offset, sh.sh_size, 0, sizeof(Elf64_Ehdr)) ||
	    overlaps(sh.sh_offset, sh.sh_size, eh->e_phoff,
		     (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)) ||
	    overlaps(sh.sh_offset, sh.sh_size, eh->e_shoff,
		     (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)))
		return kx_err(err, -ENOEXEC,
			      "section %zu (%s) overlaps the ELF header tables", i,
			      kxsig_elf_section_name(elf, &sh));
	for (size_t j = i + 1; j < eh->e_shnum; j++) {
		kxsig_elf_shdr(elf, j, &other);
		if (has_file_bytes(&other) && in_file(other.sh_offset, other.sh_size, elf->len) &&
		    overlaps(sh.sh_offset, sh.sh_size, other.sh_offset, other.sh_size))
			return kx_err(err, -ENOEXEC,
				      "sections %zu and %zu overlap in the file", i, j);
	}
	elf->end = max_u64(elf->end, sh.sh_offset + sh.sh_size);
	return 0;
}

/* Does section sh lie (in part) inside a PT_LOAD's file bytes? */
static int in_a_load(const struct kxsig_elf *elf, const Elf64_Shdr *sh)
{
	for (size_t p = 0; p < elf->eh.e_phnum; p++) {
		Elf64_Phdr ph;

		kxsig_elf_phdr(elf, p, &ph);
		if (ph.p_type == PT_LOAD &&
		    overlaps(sh->sh_offset, sh->sh_size, ph.p_offset, ph.p_filesz))
			return 1;
	}
	return 0;
}

/* The signature section and the pointer map: one of each at most, the right
 * type (and size), outside every PT_LOAD (they are never mapped). */
static int check_kx_section(struct kxsig_elf *elf, size_t i, struct kx_error *err)
{
	Elf64_Shdr sh;
	const char *name;
	size_t *index;

	kxsig_elf_shdr(elf, i, &sh);
	name = kxsig_elf_section_name(elf, &sh);
	if (strcmp(name, KXSIG_ABI_SECTION_NAME) == 0)
		index = &elf->sig_index;
	else if (strcmp(name, KXPTRMAP_SECTION_NAME) == 0 || sh.sh_type == KXPTRMAP_SECTION_TYPE)
		index = &elf->ptrmap_index;
	else
		return 0;
	if (*index != 0)
		return kx_err(err, -ENOEXEC, "two %s sections (sections %zu and %zu)", name,
			      *index, i);
	if (index == &elf->sig_index
		    ? sh.sh_type != KXSIG_ABI_SECTION_TYPE ||
			      sh.sh_size != sizeof(struct kxsig_abi_section)
		    : sh.sh_type != KXPTRMAP_SECTION_TYPE || sh.sh_size == 0 ||
			      strcmp(name, KXPTRMAP_SECTION_NAME) != 0)
		return kx_err(err, -ENOEXEC, "section %zu (%s): wrong name, type or size", i,
			      name);
	if ((sh.sh_flags & SHF_ALLOC) || in_a_load(elf, &sh))
		return kx_err(err, -ENOEXEC, "section %zu (%s) lies inside a PT_LOAD segment", i,
			      name);
	*index = i;
	return 0;
}

int kxsig_elf_parse(struct kxsig_elf *elf, const void *buf, size_t len, struct kx_error *err)
{
	int rc;

	memset(elf, 0, sizeof(*elf));
	elf->buf = buf;
	elf->len = len;
	if (len == 0)
		return kx_err(err, -ENOEXEC, "empty file");
	if (len < sizeof(Elf64_Ehdr))
		return kx_err(err, -ENOEXEC,
			      "truncated: %zu bytes is shorter than an ELF64 header", len);
	if (len > KXELF_MAX_FILE_SIZE)
		return kx_err(err, -EFBIG, "file size %zu above the %zu-byte limit", len,
			      KXELF_MAX_FILE_SIZE);
	memcpy(&elf->eh, buf, sizeof(elf->eh));
	rc = check_ident(&elf->eh, len, err);
	if (rc)
		return rc;
	elf->end = elf->eh.e_phoff + (uint64_t)elf->eh.e_phnum * sizeof(Elf64_Phdr);
	rc = check_phdrs(elf, err);
	if (rc)
		return rc;
	rc = check_shstrtab(elf, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < elf->eh.e_shnum; i++) {
		rc = check_section(elf, i, err);
		if (!rc)
			rc = check_kx_section(elf, i, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- regions ------------------------------------------------------------ */

static int add_region(const struct kxsig_elf *elf, struct kxsig_abi_region *out, size_t *count,
		      uint16_t kind, uint32_t index, uint64_t off, uint64_t size,
		      struct kx_error *err)
{
	struct kxsig_abi_region *r;

	if (*count >= KXSIG_ABI_MAX_REGIONS)
		return kx_err(err, -ENOEXEC,
			      "more than %d regions to sign (too many PT_LOAD segments or symbol tables)",
			      KXSIG_ABI_MAX_REGIONS);
	/* kxsig_elf_parse checked sections with bytes; an empty one may still name
	 * an offset past the end, and even a zero-length hash needs a valid
	 * pointer. */
	if (!in_file(off, size, elf->len))
		return kx_err(err, -ENOEXEC,
			      "%s (index %u, offset 0x%llx, %llu bytes) is outside the file",
			      kxsig_region_kind_name(kind), index, (unsigned long long)off,
			      (unsigned long long)size);
	r = &out[(*count)++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->index = index;
	r->offset = off;
	r->size = size;
	crypto_generichash(r->hash, sizeof(r->hash), elf->buf + off, size, NULL, 0);
	return 0;
}

/* SHT_SYMTAB sections and the string tables they link to. */
static int add_symtabs(const struct kxsig_elf *elf, struct kxsig_abi_region *out, size_t *count,
		       struct kx_error *err)
{
	int rc = 0;

	for (size_t i = 0; i < elf->eh.e_shnum && !rc; i++) {
		Elf64_Shdr sh, str;

		kxsig_elf_shdr(elf, i, &sh);
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		if (sh.sh_link == SHN_UNDEF || sh.sh_link >= elf->eh.e_shnum)
			return kx_err(err, -ENOEXEC,
				      "symbol table (section %zu) links to no string table", i);
		kxsig_elf_shdr(elf, sh.sh_link, &str);
		if (str.sh_type != SHT_STRTAB)
			return kx_err(err, -ENOEXEC,
				      "symbol table (section %zu) links to section %u, not a string table",
				      i, sh.sh_link);
		rc = add_region(elf, out, count, KXSIG_REGION_SYMTAB, (uint32_t)i, sh.sh_offset,
				sh.sh_size, err);
		if (!rc)
			rc = add_region(elf, out, count, KXSIG_REGION_STRTAB, sh.sh_link,
					str.sh_offset, str.sh_size, err);
	}
	return rc;
}

int kxsig_elf_regions(const struct kxsig_elf *elf, struct kxsig_abi_region out[KXSIG_ABI_MAX_REGIONS],
		  size_t *count, struct kx_error *err)
{
	const Elf64_Ehdr *eh = &elf->eh;
	uint32_t load = 0;
	int rc;

	*count = 0;
	rc = add_region(elf, out, count, KXSIG_REGION_EHDR, 0, 0, sizeof(Elf64_Ehdr), err);
	if (!rc)
		rc = add_region(elf, out, count, KXSIG_REGION_PHDRS, 0, eh->e_phoff,
				(uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), err);
	for (size_t i = 0; i < eh->e_phnum && !rc; i++) {
		Elf64_Phdr ph;

		kxsig_elf_phdr(elf, i, &ph);
		if (ph.p_type == PT_LOAD)
			rc = add_region(elf, out, count, KXSIG_REGION_LOAD, load++, ph.p_offset,
					ph.p_filesz, err);
	}
	if (!rc)
		rc = add_region(elf, out, count, KXSIG_REGION_SHDRS, 0, eh->e_shoff,
				(uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), err);
	if (!rc)
		rc = add_region(elf, out, count, KXSIG_REGION_SHSTRTAB, eh->e_shstrndx,
				elf->shstr_off, elf->shstr_size, err);
	if (!rc)
		rc = add_symtabs(elf, out, count, err);
	if (!rc && elf->ptrmap_index != 0) {
		Elf64_Shdr sh;

		kxsig_elf_shdr(elf, elf->ptrmap_index, &sh);
		rc = add_region(elf, out, count, KXSIG_REGION_PTRMAP, (uint32_t)elf->ptrmap_index,
				sh.sh_offset, sh.sh_size, err);
	}
	return rc;
}

const char *kxsig_region_kind_name(uint16_t kind)
{
	switch (kind) {
	case KXSIG_REGION_EHDR: return "ELF header";
	case KXSIG_REGION_PHDRS: return "program header table";
	case KXSIG_REGION_LOAD: return "PT_LOAD";
	case KXSIG_REGION_SHDRS: return "section header table";
	case KXSIG_REGION_SHSTRTAB: return "section-name table";
	case KXSIG_REGION_SYMTAB: return "symbol table";
	case KXSIG_REGION_STRTAB: return "string table";
	case KXSIG_REGION_PTRMAP: return "pointer map";
	}
	return "unknown region";
}

void kxsig_region_describe(const struct kxsig_abi_region *r, char *out, size_t size)
{
	const char *kind = kxsig_region_kind_name(r->kind);
	unsigned long long off = r->offset, bytes = r->size;

	switch (r->kind) {
	case KXSIG_REGION_LOAD:
		snprintf(out, size, "%s[%u] (offset 0x%llx, %llu bytes)", kind, r->index, off, bytes);
		break;
	case KXSIG_REGION_SHSTRTAB:
	case KXSIG_REGION_SYMTAB:
	case KXSIG_REGION_STRTAB:
	case KXSIG_REGION_PTRMAP:
		snprintf(out, size, "%s (section %u, offset 0x%llx, %llu bytes)", kind, r->index,
			 off, bytes);
		break;
	default:
		snprintf(out, size, "%s (offset 0x%llx, %llu bytes)", kind, off, bytes);
	}
}

/* BLAKE2b-256 of a region as it reads with the ELF header's section-header
 * fields zeroed (the region may start or end anywhere). */
static void normalized_hash(const struct kxsig_elf *elf, const struct kxsig_abi_region *r,
			    uint8_t out[KXSIG_ABI_HASH_BYTES])
{
	crypto_generichash_state st;
	Elf64_Ehdr eh = elf->eh;
	const uint8_t *hdr = (const uint8_t *)&eh;
	uint64_t end = r->offset + r->size, split;

	eh.e_shoff = 0;
	eh.e_shnum = 0;
	eh.e_shstrndx = 0;
	split = end < sizeof(eh) ? end : sizeof(eh);
	crypto_generichash_init(&st, NULL, 0, KXSIG_ABI_HASH_BYTES);
	if (r->offset < split)
		crypto_generichash_update(&st, hdr + r->offset, split - r->offset);
	if (end > sizeof(eh)) {
		uint64_t from = r->offset > sizeof(eh) ? r->offset : sizeof(eh);

		crypto_generichash_update(&st, elf->buf + from, end - from);
	}
	crypto_generichash_final(&st, out, KXSIG_ABI_HASH_BYTES);
}

/* The content digest names what the mapper uses, independent of the
 * signature: every region except the section header table, the
 * section-name table and the pointer map (signing adds it; it is derived
 * from the build's DWARF, not code), each as kind (u16) || index (u32) || size (u64) ||
 * hash, where regions that overlap the ELF header are hashed with its
 * e_shoff, e_shnum and e_shstrndx zeroed.  Signing changes only those fields
 * of the header (and adds bytes after everything the regions cover), so a
 * file has the same content digest before and after `kxsign sign`. */
void kxsig_digest_regions(const struct kxsig_elf *elf, const struct kxsig_abi_region *regions,
			  size_t count, uint8_t out[KXSIG_DIGEST_BYTES])
{
	crypto_generichash_state st;
	uint8_t hash[KXSIG_ABI_HASH_BYTES];

	crypto_generichash_init(&st, NULL, 0, KXSIG_DIGEST_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)KXSIG_ABI_CONTENT_DOMAIN,
				  sizeof(KXSIG_ABI_CONTENT_DOMAIN));
	for (size_t i = 0; i < count; i++) {
		const struct kxsig_abi_region *r = &regions[i];

		if (r->kind == KXSIG_REGION_SHDRS || r->kind == KXSIG_REGION_SHSTRTAB ||
		    r->kind == KXSIG_REGION_PTRMAP)
			continue;
		if (r->offset < sizeof(Elf64_Ehdr))
			normalized_hash(elf, r, hash);
		else
			memcpy(hash, r->hash, sizeof(hash));
		crypto_generichash_update(&st, (const uint8_t *)&r->kind, sizeof(r->kind));
		crypto_generichash_update(&st, (const uint8_t *)&r->index, sizeof(r->index));
		crypto_generichash_update(&st, (const uint8_t *)&r->size, sizeof(r->size));
		crypto_generichash_update(&st, hash, sizeof(hash));
	}
	crypto_generichash_final(&st, out, KXSIG_DIGEST_BYTES);
}
