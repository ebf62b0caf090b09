/*
 * Private to manager/elf/: the validated image and module structures and the
 * helpers every file uses.  Everything stored in a kxelf_image has been
 * checked by parse.c / dynamic.c: offsets are inside the file, counts are
 * capped, string tables end with NUL, symbol indexes are below the count.
 */
#ifndef KX_MANAGER_ELF_INTERNAL_H
#define KX_MANAGER_ELF_INTERNAL_H

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "common/kxptrmap.h"
#include "manager/elf/kxelf.h"

/* The one overflow-safe bounds check: [off, off + size) inside [0, limit). */
static inline bool range_ok(uint64_t off, uint64_t size, uint64_t limit)
{
	return off <= limit && size <= limit - off;
}

/* Little-endian loads from the file; the buffer has no alignment promise. */
static inline uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Every byte the loader takes from a file goes through img_at() or
 * img_str(), so that a test can record each range read (kxelf_trace_reads)
 * and check it against the regions a signature covers.  Callers have already
 * bounds-checked [off, off + size); the hook costs one predicted branch.
 */
extern _Thread_local kxelf_read_fn *elf_read_hook;
extern _Thread_local void *elf_read_ctx;

static inline const uint8_t *img_at(const struct kxelf_image *img, uint64_t off, uint64_t size);
/* A NUL-terminated string at off (inside a table whose last byte is NUL). */
static inline const char *img_str(const struct kxelf_image *img, uint64_t off);

/* A PT_LOAD as the loader uses it (link-time addresses). */
struct elf_load {
	uint64_t vaddr, memsz, offset, filesz;
	unsigned prot;
	size_t phidx;
};

/* A table inside the file: file offset and size in bytes (0/0 when absent). */
struct elf_table {
	uint64_t vaddr;
	uint64_t off;
	uint64_t size;
};

struct elf_gnu_hash {
	uint32_t nbuckets, symoffset, bloom_words, bloom_shift;
	uint64_t bloom_off, buckets_off, chains_off; /* file offsets */
};

struct elf_sysv_hash {
	uint32_t nbucket, nchain;
	uint64_t buckets_off, chains_off;
};

struct kxelf_image {
	const uint8_t *buf;
	size_t len;
	enum kxelf_type type;
	uint64_t entry;
	uint64_t phoff;
	size_t phnum;
	struct elf_load loads[KXELF_MAX_LOADS];
	size_t nloads;
	struct kxelf_span span;
	struct kxelf_tls_info tls;
	const char *interp;
	bool has_relro;
	uint64_t relro_vaddr, relro_size;

	/* dynamic section (link-time addresses) */
	bool has_dynamic;
	uint64_t dyn_vaddr, dyn_size, dyn_off;
	size_t dyn_count; /* entries up to and including DT_NULL */
	struct elf_table strtab, dynsym, versym, rela, jmprel, relr;
	size_t dynsym_count, rela_count, jmprel_count;
	size_t relr_count;  /* DT_RELR words */
	size_t relr_addrs;  /* relative relocations they encode */
	bool has_gnu_hash, has_sysv_hash;
	struct elf_gnu_hash gnu;
	struct elf_sysv_hash sysv;
	uint64_t pltgot; /* 0 when absent */
	uint64_t plt0;   /* link-time PLT0, 0 when the PLT cannot be located */
	uint64_t flags, flags_1;
	uint64_t init, fini;
	struct elf_table init_array, fini_array, preinit_array;
	uint64_t soname_off;
	bool has_soname;
	uint64_t needed_off[KXELF_MAX_NEEDED];
	size_t nneeded;

	/* section headers (optional) and the .symtab they may name */
	uint64_t shoff;
	size_t shnum;
	struct elf_table symtab, symstr;
	size_t symtab_count;
	struct kxptrmap ptrmap; /* valid when has_ptrmap */
	bool has_ptrmap;
};

struct kxelf_module {
	const struct kxelf_image *img;
	struct kxelf_segment seg;
	uint64_t bias;
	uint64_t start, end; /* guest, page-aligned */
	bool relocated;
	bool lazy; /* JUMP_SLOTs were left to the PLT */
	unsigned reloc_flags; /* KXELF_RELOC_* given to relocate, for resolve_slot */
	uint64_t tls_modid;
	int64_t tls_tpoff;
	struct kxelf_reloc_stats stats;
};

static inline const uint8_t *img_at(const struct kxelf_image *img, uint64_t off, uint64_t size)
{
	if (__builtin_expect(elf_read_hook != NULL, 0))
		elf_read_hook(elf_read_ctx, img->buf, off, size);
	return img->buf + off;
}

static inline const char *img_str(const struct kxelf_image *img, uint64_t off)
{
	const char *s = (const char *)img->buf + off;

	if (__builtin_expect(elf_read_hook != NULL, 0))
		elf_read_hook(elf_read_ctx, img->buf, off, strlen(s) + 1);
	return s;
}

/* parse.c */
const struct elf_load *img_load_at(const struct kxelf_image *img, uint64_t vaddr, uint64_t size);
int img_file_off(const struct kxelf_image *img, uint64_t vaddr, uint64_t size, uint64_t *off);
uint64_t img_file_avail(const struct kxelf_image *img, uint64_t vaddr);

/* dynamic.c */
int dyn_parse(struct kxelf_image *img, struct kx_error *err);
int sections_parse(struct kxelf_image *img, struct kx_error *err);

/* symbols.c */
int sym_read(const struct kxelf_image *img, enum kxelf_symsrc src, size_t i,
	     struct kxelf_symbol *out);
int syms_validate(const struct kxelf_image *img, enum kxelf_symsrc src, struct kx_error *err);
/* Hash lookup of an exported definition; *budget counts chain steps. */
int sym_lookup(const struct kxelf_image *img, const char *name, size_t *index, uint64_t *budget);

/* relocs.c */
int relocs_validate(struct kxelf_image *img, struct kx_error *err);
bool reloc_target_ok(const struct kxelf_image *img, uint64_t vaddr, uint64_t size);
int relr_walk(const struct kxelf_image *img, int (*fn)(void *ctx, uint64_t vaddr), void *ctx,
	      struct kx_error *err);

/* Guest-memory accessor: host pointer for [gaddr, gaddr + size) or NULL. */
uint8_t *seg_ptr(const struct kxelf_segment *seg, uint64_t gaddr, uint64_t size);

#endif /* KX_MANAGER_ELF_INTERNAL_H */
