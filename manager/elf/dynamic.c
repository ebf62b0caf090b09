/*
 * The section header table (optional: only .symtab and the pointer map are
 * taken from it) and the dynamic section with the tables it points to:
 * strings, symbols, hashes, symbol versions, relocation tables,
 * constructors.  Every pointer in the
 * dynamic section is a link-time address, translated to a file range through
 * the PT_LOAD list and checked before the table is used.
 */
#include "manager/elf/internal.h"

/* Untrusted input: a string table of `size` bytes at file offset `off`. */
static bool strtab_terminated(const struct kxelf_image *img, uint64_t off, uint64_t size)
{
	return size == 0 || *img_at(img, off + size - 1, 1) == '\0';
}

static void shdr_read(const struct kxelf_image *img, size_t i, Elf64_Shdr *sh)
{
	memcpy(sh, img_at(img, img->shoff + i * sizeof(*sh), sizeof(*sh)), sizeof(*sh));
}

/* Untrusted input: the .symtab section and the string table it links to. */
static int symtab_take(struct kxelf_image *img, size_t i, const Elf64_Shdr *sh,
		       struct kx_error *err)
{
	Elf64_Shdr str;

	if (img->symtab_count || img->symtab.size)
		return kx_err(err, -ENOEXEC, "section %zu: second SHT_SYMTAB", i);
	if (sh->sh_entsize != sizeof(Elf64_Sym) || sh->sh_size % sizeof(Elf64_Sym) != 0)
		return kx_err(err, -ENOEXEC,
			      "section %zu: SHT_SYMTAB entry size %lu / size 0x%lx do not match "
			      "Elf64_Sym (%zu)", i, sh->sh_entsize, sh->sh_size, sizeof(Elf64_Sym));
	if (sh->sh_size / sizeof(Elf64_Sym) > KXELF_MAX_SYMS)
		return kx_err(err, -E2BIG, "section %zu: %lu symbols, above the limit of %u",
			      i, sh->sh_size / sizeof(Elf64_Sym), KXELF_MAX_SYMS);
	if (sh->sh_link == 0 || sh->sh_link >= img->shnum)
		return kx_err(err, -ENOEXEC,
			      "section %zu: SHT_SYMTAB sh_link %u is not a section index", i,
			      sh->sh_link);
	shdr_read(img, sh->sh_link, &str);
	if (str.sh_type != SHT_STRTAB || str.sh_size == 0)
		return kx_err(err, -ENOEXEC,
			      "section %zu: SHT_SYMTAB sh_link %u is not a string table", i,
			      sh->sh_link);
	/* The linked section's file range was checked by the caller's loop
	 * only if it came first; check it here too. */
	if (!range_ok(str.sh_offset, str.sh_size, img->len))
		return kx_err(err, -ENOEXEC, "section %u: past end of file", sh->sh_link);
	if (!strtab_terminated(img, str.sh_offset, str.sh_size))
		return kx_err(err, -ENOEXEC,
			      "section %u: last byte of the 0x%lx-byte string table is not NUL",
			      sh->sh_link, str.sh_size);
	img->symtab = (struct elf_table){ .off = sh->sh_offset, .size = sh->sh_size };
	img->symtab_count = sh->sh_size / sizeof(Elf64_Sym);
	img->symstr = (struct elf_table){ .off = str.sh_offset, .size = str.sh_size };
	return 0;
}

/* Untrusted input: the section header table, when e_shoff is not 0. */
/* The signed pointer map (common/kxptrmap.h): one at most, decoded and
 * checked whole, every variable inside a writable PT_LOAD.  Only its bytes
 * are read, through img_at (a KXSIG_REGION_PTRMAP region covers them). */
static int ptrmap_take(struct kxelf_image *img, size_t i, const Elf64_Shdr *sh,
		       struct kx_error *err)
{
	struct kxptrmap_abi_var v;
	int rc;

	if (img->has_ptrmap)
		return kx_err(err, -ENOEXEC, "section %zu: a second pointer map", i);
	if (sh->sh_flags & SHF_ALLOC)
		return kx_err(err, -ENOEXEC, "section %zu: the pointer map is SHF_ALLOC", i);
	rc = kxptrmap_decode(&img->ptrmap, img_at(img, sh->sh_offset, sh->sh_size), sh->sh_size,
			     err);
	if (rc)
		return kx_err_wrap(err, -ENOEXEC, "section %zu", i);
	for (size_t k = 0; k < img->ptrmap.var_count; k++) {
		const struct elf_load *l;

		kxptrmap_var(&img->ptrmap, k, &v);
		l = img_load_at(img, v.addr, v.size);
		if (!l || !(l->prot & KXELF_PROT_W))
			return kx_err(err, -ENOEXEC,
				      "section %zu: pointer map var %zu (0x%llx, %llu bytes) is not "
				      "inside a writable PT_LOAD", i, k, (unsigned long long)v.addr,
				      (unsigned long long)v.size);
	}
	img->has_ptrmap = true;
	return 0;
}

int sections_parse(struct kxelf_image *img, struct kx_error *err)
{
	Elf64_Ehdr eh;
	Elf64_Shdr names = { 0 };

	memcpy(&eh, img_at(img, 0, sizeof(eh)), sizeof(eh));
	if (eh.e_shoff == 0)
		return 0;
	if (eh.e_shnum == 0 || eh.e_shstrndx == SHN_XINDEX)
		return kx_err(err, -ENOTSUP,
			      "extended section numbering (e_shnum 0 / e_shstrndx SHN_XINDEX) is "
			      "not supported");
	if (eh.e_shentsize != sizeof(Elf64_Shdr))
		return kx_err(err, -ENOEXEC, "e_shentsize %u != %zu", eh.e_shentsize,
			      sizeof(Elf64_Shdr));
	if (eh.e_shnum > KXELF_MAX_SHNUM)
		return kx_err(err, -E2BIG, "e_shnum %u above the limit of %u", eh.e_shnum,
			      KXELF_MAX_SHNUM);
	if (!range_ok(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), img->len))
		return kx_err(err, -ENOEXEC,
			      "section header table (e_shoff 0x%lx, %u entries) past end of file "
			      "(%zu bytes)", eh.e_shoff, eh.e_shnum, img->len);
	if (eh.e_shstrndx >= eh.e_shnum)
		return kx_err(err, -ENOEXEC, "e_shstrndx %u >= e_shnum %u", eh.e_shstrndx,
			      eh.e_shnum);
	img->shnum = eh.e_shnum;
	if (eh.e_shstrndx != SHN_UNDEF) {
		shdr_read(img, eh.e_shstrndx, &names);
		if (names.sh_type != SHT_STRTAB ||
		    !range_ok(names.sh_offset, names.sh_size, img->len) ||
		    !strtab_terminated(img, names.sh_offset, names.sh_size))
			return kx_err(err, -ENOEXEC,
				      "section %u (e_shstrndx): not a NUL-terminated string table "
				      "inside the file", eh.e_shstrndx);
	}
	for (size_t i = 0; i < img->shnum; i++) {
		Elf64_Shdr sh;
		int rc;

		shdr_read(img, i, &sh);
		if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL &&
		    !range_ok(sh.sh_offset, sh.sh_size, img->len))
			return kx_err(err, -ENOEXEC,
				      "section %zu: file range 0x%lx + 0x%lx past end of file (%zu "
				      "bytes)", i, sh.sh_offset, sh.sh_size, img->len);
		if (sh.sh_name != 0 && sh.sh_name >= names.sh_size)
			return kx_err(err, -ENOEXEC,
				      "section %zu: name offset 0x%x outside the section name table "
				      "(0x%lx bytes)", i, sh.sh_name, names.sh_size);
		if (sh.sh_type == SHT_SYMTAB && (rc = symtab_take(img, i, &sh, err)) != 0)
			return rc;
		if (sh.sh_type == KXPTRMAP_SECTION_TYPE && (rc = ptrmap_take(img, i, &sh, err)) != 0)
			return rc;
	}
	return 0;
}

const struct kxptrmap *kxelf_image_ptrmap(const struct kxelf_image *img)
{
	return img->has_ptrmap ? &img->ptrmap : NULL;
}

/* The dynamic tags the loader reads once each. */
enum dv {
	DV_STRTAB, DV_STRSZ, DV_SYMTAB, DV_SYMENT, DV_HASH, DV_GNU_HASH, DV_RELA, DV_RELASZ,
	DV_RELAENT, DV_JMPREL, DV_PLTRELSZ, DV_PLTREL, DV_RELR, DV_RELRSZ, DV_RELRENT, DV_PLTGOT,
	DV_VERSYM, DV_FLAGS, DV_FLAGS_1, DV_INIT, DV_FINI, DV_INIT_ARRAY, DV_INIT_ARRAYSZ,
	DV_FINI_ARRAY, DV_FINI_ARRAYSZ, DV_PREINIT_ARRAY, DV_PREINIT_ARRAYSZ, DV_SONAME, DV_COUNT
};

#ifndef DT_RELRSZ
#define DT_RELRSZ 35
#define DT_RELR 36
#define DT_RELRENT 37
#endif

static const struct {
	int64_t tag;
	const char *name;
} dv_tags[DV_COUNT] = {
	[DV_STRTAB] = { DT_STRTAB, "DT_STRTAB" }, [DV_STRSZ] = { DT_STRSZ, "DT_STRSZ" },
	[DV_SYMTAB] = { DT_SYMTAB, "DT_SYMTAB" }, [DV_SYMENT] = { DT_SYMENT, "DT_SYMENT" },
	[DV_HASH] = { DT_HASH, "DT_HASH" }, [DV_GNU_HASH] = { DT_GNU_HASH, "DT_GNU_HASH" },
	[DV_RELA] = { DT_RELA, "DT_RELA" }, [DV_RELASZ] = { DT_RELASZ, "DT_RELASZ" },
	[DV_RELAENT] = { DT_RELAENT, "DT_RELAENT" }, [DV_JMPREL] = { DT_JMPREL, "DT_JMPREL" },
	[DV_PLTRELSZ] = { DT_PLTRELSZ, "DT_PLTRELSZ" }, [DV_PLTREL] = { DT_PLTREL, "DT_PLTREL" },
	[DV_RELR] = { DT_RELR, "DT_RELR" }, [DV_RELRSZ] = { DT_RELRSZ, "DT_RELRSZ" },
	[DV_RELRENT] = { DT_RELRENT, "DT_RELRENT" }, [DV_PLTGOT] = { DT_PLTGOT, "DT_PLTGOT" },
	[DV_VERSYM] = { DT_VERSYM, "DT_VERSYM" }, [DV_FLAGS] = { DT_FLAGS, "DT_FLAGS" },
	[DV_FLAGS_1] = { DT_FLAGS_1, "DT_FLAGS_1" }, [DV_INIT] = { DT_INIT, "DT_INIT" },
	[DV_FINI] = { DT_FINI, "DT_FINI" }, [DV_INIT_ARRAY] = { DT_INIT_ARRAY, "DT_INIT_ARRAY" },
	[DV_INIT_ARRAYSZ] = { DT_INIT_ARRAYSZ, "DT_INIT_ARRAYSZ" },
	[DV_FINI_ARRAY] = { DT_FINI_ARRAY, "DT_FINI_ARRAY" },
	[DV_FINI_ARRAYSZ] = { DT_FINI_ARRAYSZ, "DT_FINI_ARRAYSZ" },
	[DV_PREINIT_ARRAY] = { DT_PREINIT_ARRAY, "DT_PREINIT_ARRAY" },
	[DV_PREINIT_ARRAYSZ] = { DT_PREINIT_ARRAYSZ, "DT_PREINIT_ARRAYSZ" },
	[DV_SONAME] = { DT_SONAME, "DT_SONAME" },
};

struct dyn_vals {
	bool has[DV_COUNT];
	uint64_t val[DV_COUNT];
	size_t idx[DV_COUNT]; /* dynamic entry index, for messages */
};

static void dyn_read(const struct kxelf_image *img, size_t i, Elf64_Dyn *d)
{
	memcpy(d, img_at(img, img->dyn_off + i * sizeof(*d), sizeof(*d)), sizeof(*d));
}

/* Untrusted input: one pass over the entries, recording the ones we use. */
static int dyn_collect(struct kxelf_image *img, struct dyn_vals *dv, struct kx_error *err)
{
	size_t n = img->dyn_count;

	img->dyn_count = 0;
	for (size_t i = 0; i < n; i++) {
		Elf64_Dyn d;

		dyn_read(img, i, &d);
		if (d.d_tag == DT_NULL) {
			img->dyn_count = i + 1;
			return 0;
		}
		if (d.d_tag == DT_REL || d.d_tag == DT_RELSZ || d.d_tag == DT_RELENT)
			return kx_err(err, -ENOTSUP,
				      "dynamic entry %zu: DT_REL relocations are not used on x86-64 "
				      "(only DT_RELA)", i);
		if (d.d_tag == DT_TEXTREL)
			return kx_err(err, -ENOTSUP,
				      "dynamic entry %zu: text relocations (DT_TEXTREL) are not "
				      "supported: library text is shared read-only", i);
		if (d.d_tag == DT_NEEDED) {
			if (img->nneeded == KXELF_MAX_NEEDED)
				return kx_err(err, -E2BIG,
					      "dynamic entry %zu: more than %u DT_NEEDED entries", i,
					      KXELF_MAX_NEEDED);
			img->needed_off[img->nneeded++] = d.d_un.d_val;
			continue;
		}
		if (d.d_tag == DT_SYMBOLIC) {
			img->flags |= DF_SYMBOLIC;
			continue;
		}
		if (d.d_tag == DT_BIND_NOW) {
			img->flags |= DF_BIND_NOW;
			continue;
		}
		for (size_t k = 0; k < DV_COUNT; k++) {
			if (dv_tags[k].tag != d.d_tag)
				continue;
			if (dv->has[k])
				return kx_err(err, -ENOEXEC,
					      "dynamic entry %zu: duplicate %s (first at entry %zu)", i,
					      dv_tags[k].name, dv->idx[k]);
			dv->has[k] = true;
			dv->val[k] = d.d_un.d_val;
			dv->idx[k] = i;
		}
	}
	return kx_err(err, -ENOEXEC,
		      "dynamic section: no DT_NULL terminator within its %zu entries", n);
}

/* A file-backed table named by tag k with `size` bytes. */
static int dyn_table(const struct kxelf_image *img, const struct dyn_vals *dv, enum dv k,
		     uint64_t size, struct elf_table *out, struct kx_error *err)
{
	uint64_t off;

	if (img_file_off(img, dv->val[k], size, &off) != 0)
		return kx_err(err, -ENOEXEC,
			      "dynamic entry %zu: %s [0x%lx, +0x%lx) outside the image's "
			      "file-backed segments", dv->idx[k], dv_tags[k].name, dv->val[k], size);
	*out = (struct elf_table){ .vaddr = dv->val[k], .off = off, .size = size };
	return 0;
}

/* An entry size tag must match the structure the loader reads. */
static int dyn_entsize(const struct dyn_vals *dv, enum dv k, uint64_t want,
		       struct kx_error *err)
{
	if (dv->has[k] && dv->val[k] != want)
		return kx_err(err, -ENOEXEC, "dynamic entry %zu: %s %lu != %lu",
			      dv->idx[k], dv_tags[k].name, dv->val[k], want);
	return 0;
}

/* Tags that only make sense together (an address and its size): both or
 * neither. */
static int dyn_pair(const struct dyn_vals *dv, enum dv a, enum dv b, struct kx_error *err)
{
	if (dv->has[a] != dv->has[b])
		return kx_err(err, -ENOEXEC, "dynamic section: %s without %s",
			      dv_tags[dv->has[a] ? a : b].name, dv_tags[dv->has[a] ? b : a].name);
	return 0;
}

/* A relocation-like table: address tag, size tag, entry size. */
static int dyn_array(const struct kxelf_image *img, const struct dyn_vals *dv, enum dv addr,
		     enum dv size, uint64_t entsize, struct elf_table *out, size_t *count,
		     struct kx_error *err)
{
	int rc = dyn_pair(dv, addr, size, err);

	if (rc != 0 || !dv->has[addr])
		return rc;
	if (dv->val[size] % entsize != 0)
		return kx_err(err, -ENOEXEC,
			      "dynamic entry %zu: %s 0x%lx is not a multiple of %lu", dv->idx[size],
			      dv_tags[size].name, dv->val[size], entsize);
	if (dv->val[size] / entsize > KXELF_MAX_RELOCS)
		return kx_err(err, -E2BIG, "dynamic entry %zu: %s: %lu entries, above "
			      "the limit of %u", dv->idx[size], dv_tags[size].name,
			      dv->val[size] / entsize, KXELF_MAX_RELOCS);
	*count = dv->val[size] / entsize;
	return dyn_table(img, dv, addr, dv->val[size], out, err);
}

/* Untrusted input: DT_HASH (SysV) header, buckets and chains. */
static int sysv_hash_parse(struct kxelf_image *img, const struct dyn_vals *dv,
			   struct kx_error *err)
{
	struct elf_table t;
	uint64_t size;
	int rc;

	if ((rc = dyn_table(img, dv, DV_HASH, 8, &t, err)) != 0)
		return rc;
	img->sysv.nbucket = rd32(img_at(img, t.off, 4));
	img->sysv.nchain = rd32(img_at(img, t.off + 4, 4));
	if (img->sysv.nbucket == 0)
		return kx_err(err, -ENOEXEC, "DT_HASH: nbucket is 0");
	if (img->sysv.nchain > KXELF_MAX_SYMS)
		return kx_err(err, -E2BIG, "DT_HASH: nchain %u above the limit of %u",
			      img->sysv.nchain, KXELF_MAX_SYMS);
	size = 8 + 4 * ((uint64_t)img->sysv.nbucket + img->sysv.nchain);
	if ((rc = dyn_table(img, dv, DV_HASH, size, &t, err)) != 0)
		return rc;
	img->sysv.buckets_off = t.off + 8;
	img->sysv.chains_off = img->sysv.buckets_off + 4 * (uint64_t)img->sysv.nbucket;
	for (uint32_t i = 0; i < img->sysv.nbucket; i++) {
		uint32_t v = rd32(img_at(img, img->sysv.buckets_off + 4 * (uint64_t)i, 4));
		if (v >= img->sysv.nchain)
			return kx_err(err, -ENOEXEC,
				      "DT_HASH bucket %u: symbol index %u >= nchain %u", i, v,
				      img->sysv.nchain);
	}
	for (uint32_t i = 0; i < img->sysv.nchain; i++) {
		uint32_t v = rd32(img_at(img, img->sysv.chains_off + 4 * (uint64_t)i, 4));
		if (v >= img->sysv.nchain)
			return kx_err(err, -ENOEXEC,
				      "DT_HASH chain %u: symbol index %u >= nchain %u", i, v,
				      img->sysv.nchain);
	}
	img->has_sysv_hash = true;
	return 0;
}

/* Untrusted input: DT_GNU_HASH.  Its size is not recorded anywhere: the
 * symbol count is where the chain of the highest bucket ends, and every read
 * is checked against the file-backed part of the segment holding it. */
static int gnu_hash_parse(struct kxelf_image *img, const struct dyn_vals *dv, size_t *count,
			  struct kx_error *err)
{
	struct elf_gnu_hash *g = &img->gnu;
	struct elf_table t;
	uint64_t avail, need, top = 0;
	int rc;

	if ((rc = dyn_table(img, dv, DV_GNU_HASH, 16, &t, err)) != 0)
		return rc;
	avail = img_file_avail(img, t.vaddr);
	g->nbuckets = rd32(img_at(img, t.off, 4));
	g->symoffset = rd32(img_at(img, t.off + 4, 4));
	g->bloom_words = rd32(img_at(img, t.off + 8, 4));
	g->bloom_shift = rd32(img_at(img, t.off + 12, 4));
	if (g->nbuckets == 0)
		return kx_err(err, -ENOEXEC, "DT_GNU_HASH: nbuckets is 0");
	if (g->bloom_words == 0 || (g->bloom_words & (g->bloom_words - 1)) != 0)
		return kx_err(err, -ENOEXEC,
			      "DT_GNU_HASH: bloom size %u is not a power of two", g->bloom_words);
	if (g->bloom_shift >= 32) /* it shifts a 32-bit hash */
		return kx_err(err, -ENOEXEC, "DT_GNU_HASH: bloom shift %u >= 32",
			      g->bloom_shift);
	if (g->symoffset > KXELF_MAX_SYMS)
		return kx_err(err, -E2BIG, "DT_GNU_HASH: symoffset %u above the limit of %u",
			      g->symoffset, KXELF_MAX_SYMS);
	need = 16 + 8 * (uint64_t)g->bloom_words + 4 * (uint64_t)g->nbuckets;
	if (need > avail)
		return kx_err(err, -ENOEXEC,
			      "DT_GNU_HASH: header, bloom filter and %u buckets (0x%lx bytes) run "
			      "past the end of the segment", g->nbuckets, need);
	g->bloom_off = t.off + 16;
	g->buckets_off = g->bloom_off + 8 * (uint64_t)g->bloom_words;
	g->chains_off = g->buckets_off + 4 * (uint64_t)g->nbuckets;
	for (uint32_t i = 0; i < g->nbuckets; i++) {
		uint32_t v = rd32(img_at(img, g->buckets_off + 4 * (uint64_t)i, 4));
		if (v != 0 && v < g->symoffset)
			return kx_err(err, -ENOEXEC,
				      "DT_GNU_HASH bucket %u: symbol index %u below symoffset %u", i,
				      v, g->symoffset);
		if (v > top)
			top = v;
	}
	if (top == 0) {
		*count = g->symoffset;
		img->has_gnu_hash = true;
		return 0;
	}
	/* Walk the highest bucket's chain to its terminator (bit 0 set). */
	for (uint64_t i = top;; i++) {
		if (i >= KXELF_MAX_SYMS)
			return kx_err(err, -E2BIG,
				      "DT_GNU_HASH: chains cover more than %u symbols", KXELF_MAX_SYMS);
		if (need + 4 * (i - g->symoffset + 1) > avail)
			return kx_err(err, -ENOEXEC,
				      "DT_GNU_HASH: chain entry for symbol %lu runs past the end of "
				      "the segment", i);
		if (rd32(img_at(img, g->chains_off + 4 * (i - g->symoffset), 4)) & 1) {
			*count = i + 1;
			break;
		}
	}
	img->has_gnu_hash = true;
	return 0;
}

/* Untrusted input: how many dynamic symbols there are, and where. */
static int dynsym_parse(struct kxelf_image *img, const struct dyn_vals *dv,
			struct kx_error *err)
{
	size_t count = 0;
	int rc;

	if ((rc = dyn_entsize(dv, DV_SYMENT, sizeof(Elf64_Sym), err)) != 0)
		return rc;
	if (dv->has[DV_HASH] && (rc = sysv_hash_parse(img, dv, err)) != 0)
		return rc;
	if (dv->has[DV_GNU_HASH] && (rc = gnu_hash_parse(img, dv, &count, err)) != 0)
		return rc;
	if (img->has_sysv_hash && img->has_gnu_hash && img->sysv.nchain != count)
		return kx_err(err, -ENOEXEC,
			      "DT_HASH nchain %u != %zu symbols covered by DT_GNU_HASH",
			      img->sysv.nchain, count);
	if (img->has_sysv_hash)
		count = img->sysv.nchain;
	if ((img->has_sysv_hash || img->has_gnu_hash) && !dv->has[DV_SYMTAB])
		return kx_err(err, -ENOEXEC, "dynamic section: hash table without DT_SYMTAB");
	if (!dv->has[DV_SYMTAB])
		return 0;
	if (!dv->has[DV_STRTAB])
		return kx_err(err, -ENOEXEC, "dynamic section: DT_SYMTAB without DT_STRTAB");
	if (!img->has_sysv_hash && !img->has_gnu_hash)
		return kx_err(err, -ENOEXEC,
			      "dynamic section: DT_SYMTAB without DT_HASH or DT_GNU_HASH (symbol "
			      "count unknown)");
	if ((rc = dyn_table(img, dv, DV_SYMTAB, (uint64_t)count * sizeof(Elf64_Sym), &img->dynsym,
			    err)) != 0)
		return rc;
	img->dynsym_count = count;
	if (dv->has[DV_VERSYM] &&
	    (rc = dyn_table(img, dv, DV_VERSYM, 2 * (uint64_t)count, &img->versym, err)) != 0)
		return rc;
	return 0;
}

/* Untrusted input: a code address tag (DT_INIT/DT_FINI). */
static int dyn_code(const struct kxelf_image *img, const struct dyn_vals *dv, enum dv k,
		    uint64_t *out, struct kx_error *err)
{
	const struct elf_load *l;

	if (!dv->has[k])
		return 0;
	l = img_load_at(img, dv->val[k], 1);
	if (!l || !(l->prot & KXELF_PROT_X))
		return kx_err(err, -ENOEXEC,
			      "dynamic entry %zu: %s 0x%lx is not inside an executable PT_LOAD",
			      dv->idx[k], dv_tags[k].name, dv->val[k]);
	*out = dv->val[k];
	return 0;
}

/* Untrusted input: a pointer array (DT_INIT_ARRAY ...) inside a PT_LOAD. */
static int dyn_ptrs(const struct kxelf_image *img, const struct dyn_vals *dv, enum dv addr,
		    enum dv size, struct elf_table *out, struct kx_error *err)
{
	int rc = dyn_pair(dv, addr, size, err);

	if (rc != 0 || !dv->has[addr])
		return rc;
	if (dv->val[size] % 8 != 0 || !img_load_at(img, dv->val[addr], dv->val[size]))
		return kx_err(err, -ENOEXEC,
			      "dynamic entry %zu: %s [0x%lx, +0x%lx) is not a pointer array inside a "
			      "PT_LOAD", dv->idx[addr], dv_tags[addr].name, dv->val[addr],
			      dv->val[size]);
	*out = (struct elf_table){ .vaddr = dv->val[addr], .size = dv->val[size] };
	return 0;
}

/* Untrusted input: string offsets named by DT_NEEDED and DT_SONAME. */
static int dyn_names(struct kxelf_image *img, const struct dyn_vals *dv, struct kx_error *err)
{
	if ((img->nneeded || dv->has[DV_SONAME]) && !dv->has[DV_STRTAB])
		return kx_err(err, -ENOEXEC,
			      "dynamic section: DT_NEEDED/DT_SONAME without DT_STRTAB");
	for (size_t i = 0; i < img->nneeded; i++)
		if (img->needed_off[i] >= img->strtab.size)
			return kx_err(err, -ENOEXEC,
				      "DT_NEEDED %zu: name offset 0x%lx outside the string table "
				      "(0x%lx bytes)", i, img->needed_off[i], img->strtab.size);
	if (dv->has[DV_SONAME]) {
		if (dv->val[DV_SONAME] >= img->strtab.size)
			return kx_err(err, -ENOEXEC,
				      "dynamic entry %zu: DT_SONAME offset 0x%lx outside the string "
				      "table (0x%lx bytes)", dv->idx[DV_SONAME], dv->val[DV_SONAME],
				      img->strtab.size);
		img->has_soname = true;
		img->soname_off = dv->val[DV_SONAME];
	}
	return 0;
}

/* Untrusted input: the PT_DYNAMIC entries and everything they point to. */
int dyn_parse(struct kxelf_image *img, struct kx_error *err)
{
	struct dyn_vals dv = { 0 };
	int rc;

	if (!img->has_dynamic)
		return 0;
	if ((rc = dyn_collect(img, &dv, err)) != 0)
		return rc;
	img->flags |= dv.val[DV_FLAGS];
	img->flags_1 = dv.val[DV_FLAGS_1];
	if (img->flags & DF_TEXTREL)
		return kx_err(err, -ENOTSUP,
			      "dynamic entry %zu: DT_FLAGS has DF_TEXTREL: text relocations are not "
			      "supported (library text is shared read-only)", dv.idx[DV_FLAGS]);
	if ((rc = dyn_pair(&dv, DV_STRTAB, DV_STRSZ, err)) != 0)
		return rc;
	if (dv.has[DV_STRTAB]) {
		if ((rc = dyn_table(img, &dv, DV_STRTAB, dv.val[DV_STRSZ], &img->strtab, err)) !=
		    0)
			return rc;
		if (!strtab_terminated(img, img->strtab.off, img->strtab.size))
			return kx_err(err, -ENOEXEC,
				      "DT_STRTAB: last byte of the 0x%lx-byte table is not NUL "
				      "(entries would run past the table)", img->strtab.size);
	}
	if ((rc = dyn_names(img, &dv, err)) != 0 ||
	    (rc = dynsym_parse(img, &dv, err)) != 0 ||
	    (rc = dyn_entsize(&dv, DV_RELAENT, sizeof(Elf64_Rela), err)) != 0 ||
	    (rc = dyn_entsize(&dv, DV_RELRENT, 8, err)) != 0 ||
	    (rc = dyn_array(img, &dv, DV_RELA, DV_RELASZ, sizeof(Elf64_Rela), &img->rela,
			    &img->rela_count, err)) != 0 ||
	    (rc = dyn_array(img, &dv, DV_JMPREL, DV_PLTRELSZ, sizeof(Elf64_Rela), &img->jmprel,
			    &img->jmprel_count, err)) != 0 ||
	    (rc = dyn_array(img, &dv, DV_RELR, DV_RELRSZ, 8, &img->relr, &img->relr_count, err)) !=
		    0 ||
	    (rc = dyn_code(img, &dv, DV_INIT, &img->init, err)) != 0 ||
	    (rc = dyn_code(img, &dv, DV_FINI, &img->fini, err)) != 0 ||
	    (rc = dyn_ptrs(img, &dv, DV_INIT_ARRAY, DV_INIT_ARRAYSZ, &img->init_array, err)) !=
		    0 ||
	    (rc = dyn_ptrs(img, &dv, DV_FINI_ARRAY, DV_FINI_ARRAYSZ, &img->fini_array, err)) !=
		    0 ||
	    (rc = dyn_ptrs(img, &dv, DV_PREINIT_ARRAY, DV_PREINIT_ARRAYSZ, &img->preinit_array,
			   err)) != 0)
		return rc;
	if (dv.has[DV_JMPREL] && dv.has[DV_PLTREL] && dv.val[DV_PLTREL] != DT_RELA)
		return kx_err(err, -ENOTSUP, "dynamic entry %zu: DT_PLTREL %lu is not "
			      "DT_RELA", dv.idx[DV_PLTREL], dv.val[DV_PLTREL]);
	if (dv.has[DV_PLTGOT]) {
		const struct elf_load *l = img_load_at(img, dv.val[DV_PLTGOT], 3 * 8);
		if (!l || !(l->prot & KXELF_PROT_W))
			return kx_err(err, -ENOEXEC,
				      "dynamic entry %zu: DT_PLTGOT 0x%lx: GOT[0..2] not inside a "
				      "writable PT_LOAD", dv.idx[DV_PLTGOT], dv.val[DV_PLTGOT]);
		img->pltgot = dv.val[DV_PLTGOT];
	} else if (img->jmprel_count) {
		return kx_err(err, -ENOEXEC, "dynamic section: DT_JMPREL without DT_PLTGOT");
	}
	return 0;
}
