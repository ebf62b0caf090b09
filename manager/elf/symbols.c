/*
 * Symbols: reading .dynsym / .symtab entries, validating them, and looking
 * exported definitions up through the GNU or SysV hash table.
 */
#include "manager/elf/internal.h"

static const char *const src_names[] = {
	[KXELF_SYMS_DYNSYM] = "dynamic symbol",
	[KXELF_SYMS_SYMTAB] = ".symtab symbol",
};

static bool src_table(const struct kxelf_image *img, enum kxelf_symsrc src,
		      const struct elf_table **syms, const struct elf_table **strs, size_t *count)
{
	if (src == KXELF_SYMS_DYNSYM) {
		*syms = &img->dynsym;
		*strs = &img->strtab;
		*count = img->dynsym_count;
		return true;
	}
	if (src == KXELF_SYMS_SYMTAB) {
		*syms = &img->symtab;
		*strs = &img->symstr;
		*count = img->symtab_count;
		return true;
	}
	return false;
}

/* i < count and the tables were validated at parse time. */
int sym_read(const struct kxelf_image *img, enum kxelf_symsrc src, size_t i,
	     struct kxelf_symbol *out)
{
	const struct elf_table *syms, *strs;
	size_t count;
	Elf64_Sym s;

	if (!src_table(img, src, &syms, &strs, &count) || i >= count)
		return -EINVAL;
	memcpy(&s, img_at(img, syms->off + i * sizeof(s), sizeof(s)), sizeof(s));
	*out = (struct kxelf_symbol){
		.name = s.st_name < strs->size ? img_str(img, strs->off + s.st_name) : "",
		.value = s.st_value,
		.addr = s.st_value,
		.size = s.st_size,
		.type = ELF64_ST_TYPE(s.st_info),
		.bind = ELF64_ST_BIND(s.st_info),
		.visibility = ELF64_ST_VISIBILITY(s.st_other),
		.shndx = s.st_shndx,
		.defined = s.st_shndx != SHN_UNDEF,
		.source = src,
	};
	if (src == KXELF_SYMS_DYNSYM && img->versym.size)
		out->versym = rd16(img_at(img, img->versym.off + 2 * i, 2));
	return 0;
}

/* Untrusted input: every entry of one symbol table.  Names must be inside
 * the string table (which ends with NUL, so every name is terminated),
 * section indexes below e_shnum, and sized code or data inside the image. */
int syms_validate(const struct kxelf_image *img, enum kxelf_symsrc src, struct kx_error *err)
{
	const struct elf_table *syms, *strs;
	size_t count;

	if (!src_table(img, src, &syms, &strs, &count))
		return kx_err(err, -EINVAL, "unknown symbol table %d", (int)src);
	for (size_t i = 0; i < count; i++) {
		struct kxelf_symbol s;
		uint32_t st_name;

		memcpy(&st_name, img_at(img, syms->off + i * sizeof(Elf64_Sym), sizeof(st_name)),
		       sizeof(st_name));
		if (st_name >= strs->size && !(st_name == 0 && strs->size == 0))
			return kx_err(err, -ENOEXEC,
				      "%s %zu: name offset 0x%x outside the string table (0x%lx bytes)",
				      src_names[src], i, st_name, strs->size);
		sym_read(img, src, i, &s);
		if (s.shndx == SHN_XINDEX)
			return kx_err(err, -ENOTSUP,
				      "%s %zu ('%s'): extended section index (SHN_XINDEX)",
				      src_names[src], i, s.name);
		if (img->shnum && s.shndx < SHN_LORESERVE && s.shndx >= img->shnum)
			return kx_err(err, -ENOEXEC,
				      "%s %zu ('%s'): section index %u >= e_shnum %zu", src_names[src],
				      i, s.name, s.shndx, img->shnum);
		if (!s.defined || s.shndx == SHN_ABS || s.size == 0)
			continue;
		if (s.type == STT_TLS) {
			if (!img->tls.present || !range_ok(s.value, s.size, img->tls.memsz))
				return kx_err(err, -ENOEXEC,
					      "%s %zu ('%s'): TLS offset 0x%lx + 0x%lx outside the "
					      "PT_TLS block", src_names[src], i, s.name, s.value,
					      s.size);
		} else if ((s.type == STT_FUNC || s.type == STT_OBJECT) &&
			   !img_load_at(img, s.value, s.size)) {
			return kx_err(err, -ENOEXEC,
				      "%s %zu ('%s'): [0x%lx, +0x%lx) is not inside a PT_LOAD",
				      src_names[src], i, s.name, s.value, s.size);
		}
	}
	return 0;
}

static uint32_t gnu_hash(const char *name)
{
	uint32_t h = 5381;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = h * 33 + *p;
	return h;
}

static uint32_t sysv_hash(const char *name)
{
	uint32_t h = 0, g;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h = (h << 4) + *p;
		g = h & 0xf0000000u;
		if (g)
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

/* Can symbol i satisfy a reference from another module? */
static bool sym_exported(const struct kxelf_image *img, size_t i, const char *name)
{
	struct kxelf_symbol s;

	if (sym_read(img, KXELF_SYMS_DYNSYM, i, &s) != 0 || !s.defined)
		return false;
	if (s.bind != STB_GLOBAL && s.bind != STB_WEAK && s.bind != STB_GNU_UNIQUE)
		return false;
	if (s.type != STT_NOTYPE && s.type != STT_OBJECT && s.type != STT_FUNC &&
	    s.type != STT_COMMON && s.type != STT_TLS && s.type != STT_GNU_IFUNC)
		return false;
	if (s.visibility != STV_DEFAULT && s.visibility != STV_PROTECTED)
		return false;
	/* Version index 0 is local; bit 15 marks a non-default (hidden)
	 * version: an unversioned reference binds the default one only. */
	if (img->versym.size && ((s.versym & 0x7fff) == 0 || (s.versym & 0x8000)))
		return false;
	return strcmp(s.name, name) == 0;
}

/* Budget: each chain step costs `cost` (1 + name length / 32), so hostile
 * tables with long names and long chains stay bounded in time as well. */
static bool charge(uint64_t *budget, uint64_t cost)
{
	if (*budget < cost)
		return false;
	*budget -= cost;
	return true;
}

static int gnu_lookup(const struct kxelf_image *img, const char *name, size_t *index,
		      uint64_t *budget, uint64_t cost)
{
	const struct elf_gnu_hash *g = &img->gnu;
	uint32_t h = gnu_hash(name);
	uint64_t word = rd64(img_at(img, g->bloom_off + 8 * (uint64_t)((h / 64) & (g->bloom_words - 1)), 8));
	uint64_t mask = ((uint64_t)1 << (h % 64)) | ((uint64_t)1 << ((h >> g->bloom_shift) % 64));
	uint32_t i;

	if ((word & mask) != mask)
		return -1;
	i = rd32(img_at(img, g->buckets_off + 4 * (uint64_t)(h % g->nbuckets), 4));
	if (i == 0)
		return -1;
	for (; i < img->dynsym_count; i++) {
		uint32_t c = rd32(img_at(img, g->chains_off + 4 * (uint64_t)(i - g->symoffset), 4));
		if (!charge(budget, cost))
			return -2;
		if ((c | 1) == (h | 1) && sym_exported(img, i, name)) {
			*index = i;
			return 0;
		}
		if (c & 1)
			break;
	}
	return -1;
}

static int sysv_lookup(const struct kxelf_image *img, const char *name, size_t *index,
		       uint64_t *budget, uint64_t cost)
{
	const struct elf_sysv_hash *s = &img->sysv;
	uint32_t i = rd32(img_at(img, s->buckets_off + 4 * (uint64_t)(sysv_hash(name) % s->nbucket), 4));

	/* A chain longer than nchain is a loop. */
	for (uint32_t steps = 0; i != STN_UNDEF; steps++) {
		if (steps >= s->nchain || !charge(budget, cost))
			return -2;
		if (sym_exported(img, i, name)) {
			*index = i;
			return 0;
		}
		i = rd32(img_at(img, s->chains_off + 4 * (uint64_t)i, 4));
	}
	return -1;
}

/* 0 found, -1 not found, -2 chain loop or lookup budget exhausted. */
int sym_lookup(const struct kxelf_image *img, const char *name, size_t *index, uint64_t *budget)
{
	uint64_t cost = 1 + strlen(name) / 32;

	if (img->has_gnu_hash)
		return gnu_lookup(img, name, index, budget, cost);
	if (img->has_sysv_hash)
		return sysv_lookup(img, name, index, budget, cost);
	return -1;
}

size_t kxelf_image_symbol_count(const struct kxelf_image *img, enum kxelf_symsrc src)
{
	return src == KXELF_SYMS_SYMTAB ? img->symtab_count : img->dynsym_count;
}

int kxelf_image_symbol(const struct kxelf_image *img, enum kxelf_symsrc src, size_t i,
		       struct kxelf_symbol *out)
{
	return sym_read(img, src, i, out);
}

size_t kxelf_module_symbol_count(const struct kxelf_module *mod, enum kxelf_symsrc src)
{
	return kxelf_image_symbol_count(mod->img, src);
}

static void sym_place(const struct kxelf_module *mod, struct kxelf_symbol *s)
{
	if (!s->defined || s->type == STT_TLS)
		s->addr = 0;
	else if (s->shndx == SHN_ABS)
		s->addr = s->value;
	else
		s->addr = s->value + mod->bias;
}

int kxelf_module_symbol(const struct kxelf_module *mod, enum kxelf_symsrc src, size_t i,
			struct kxelf_symbol *out)
{
	int rc = sym_read(mod->img, src, i, out);
	if (rc == 0)
		sym_place(mod, out);
	return rc;
}

int kxelf_module_lookup(const struct kxelf_module *mod, const char *name,
			struct kxelf_symbol *out)
{
	uint64_t budget = ((uint64_t)mod->img->dynsym_count + 1) * (1 + strlen(name) / 32);
	size_t i;

	if (sym_lookup(mod->img, name, &i, &budget) != 0)
		return -ENOENT;
	return kxelf_module_symbol(mod, KXELF_SYMS_DYNSYM, i, out);
}
