/*
 * kxelf — the ELF loader of the kx manager (the module's public header).
 *
 * Every library and image a pVM uses passes through here, and every byte of
 * those files is untrusted.  The loader works in three steps, each of which
 * validates before it touches anything:
 *
 *   kxelf_image_parse()     headers, program headers, section headers, the
 *                           dynamic section and every table it names
 *                           (strings, symbols, hashes, versions,
 *                           relocations).  Reads only the caller's buffer.
 *   kxelf_module_map()      copies the PT_LOAD bytes into a caller-provided
 *                           dynamic segment (host view of guest memory),
 *                           zeroes bss and records the page permissions the
 *                           backend must apply (R, RW, RX; never W+X).
 *   kxelf_module_relocate() applies relocations, resolving symbols through
 *                           GNU/SysV hash tables against a scope of modules;
 *                           now or lazy binding.
 *
 * kxelf_tree_load() does all three for a library and its DT_NEEDED tree
 * (cycle detection, depth and count caps), using a callback to open
 * libraries by name.
 *
 * Functions print nothing.  They return 0 or -errno (the table below) and,
 * when given a struct kx_error, a one-line reason naming the header,
 * segment or entry index ("program header 3: p_filesz 0x2000 > p_memsz
 * 0x1000"); kxelf_tree_load() puts the module's name in front.
 * Tables are read from the parsed file, never from guest memory, so a guest
 * (or a relocation) writing into its own image cannot change what the
 * loader believes.
 *
 * Lifetimes: an image keeps pointers into the caller's buffer, which must
 * outlive it; a module keeps pointers to its image and segment, which must
 * outlive the module.  Strings returned by accessors point into the buffer.
 * docs/elf-loader.md describes the supported relocations and every limit.
 */
#ifndef KX_MANAGER_ELF_KXELF_H
#define KX_MANAGER_ELF_KXELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/kxelf_limits.h"
#include "common/kxerr.h"

/* ---- limits (every count derived from a file is capped) ----------------- */
/* KXELF_MAX_FILE_SIZE, _PHNUM, _SHNUM and _LOADS are the signer's too:
 * common/kxelf_limits.h.  The rest are the loader's own. */
#define KXELF_PAGE_SIZE     4096u
#define KXELF_MAX_NEEDED    64u               /* DT_NEEDED entries per file */
#define KXELF_MAX_SYMS      (1u << 20)        /* symbols per table */
#define KXELF_MAX_RELOCS    (1u << 22)        /* relocations per file */
#define KXELF_MAX_DEPTH     16u               /* DT_NEEDED tree depth */
#define KXELF_MAX_MODULES   64u               /* modules in one tree */
#define KXELF_MAX_SPAN      ((uint64_t)1 << 30) /* bytes one image may span */

/*
 * Errors: every function returns 0 or one of these -errno values, one per
 * kind of refusal, so a caller can tell them apart without the message:
 *
 *   -ENOEXEC   malformed: the file breaks the ELF rules or its own sizes
 *   -ENOTSUP   unsupported: valid ELF the loader does not take (class,
 *              machine, relocation type, IFUNC, TEXTREL)
 *   -E2BIG     limit: a count or size above a KXELF_MAX_* cap
 *   -ERANGE    out of range: does not fit the dynamic segment, or a
 *              relocation target or value out of range
 *   -ENOENT    symbol: undefined symbol, or no such exported definition
 *   -ELOOP     loop: a DT_NEEDED cycle
 *   -ELIBACC   open: the tree's open callback failed (whatever its errno;
 *              its message says why)
 *   -EALREADY  state: a call out of order (relocating a module twice)
 *   -EINVAL    invalid argument from the caller
 *   -ENOMEM    out of memory
 *
 * ENOEXEC and ENOENT are what Linux's own module loader returns for a bad
 * ELF file and an unknown symbol; ELIBACC is "cannot access a needed
 * shared library".  No other errno comes out of the loader.
 */

/* The word for an error kind: "malformed", "unsupported", "limit", "out of
 * range", "symbol", "loop", "open", "state", "invalid argument", "out of
 * memory" ("ok" for 0, "unknown" for any other value). */
const char *kxelf_err_name(int rc);

/* A dynamic segment: guest memory the loader may write, seen from the host.
 * host[0 .. size) is the guest range [guest_base, guest_base + size). */
struct kxelf_segment {
	uint64_t guest_base;
	uint8_t *host;
	size_t size;
};

#define KXELF_PROT_R 1u
#define KXELF_PROT_W 2u
#define KXELF_PROT_X 4u

/* ---- images (parsed and validated files; nothing mapped) ----------------- */

struct kxelf_image;

enum kxelf_type {
	KXELF_TYPE_EXEC, /* ET_EXEC: mapped at its own addresses */
	KXELF_TYPE_PIE,  /* ET_DYN with PT_INTERP or DF_1_PIE */
	KXELF_TYPE_DYN,  /* ET_DYN shared object */
};

/* What mapping an image needs.  base is the lowest PT_LOAD address rounded
 * down to a page; size is the page-rounded extent from there.  fixed images
 * (ET_EXEC) must be mapped at guest address == base. */
struct kxelf_span {
	uint64_t base;
	uint64_t size;
	uint64_t align; /* largest PT_LOAD p_align (a hint; the loader needs a page) */
	bool fixed;
};

/* A program header as in the file (all of them, not only PT_LOAD). */
struct kxelf_phdr {
	uint32_t type;
	uint32_t flags; /* PF_R/PF_W/PF_X */
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

enum kxelf_symsrc {
	KXELF_SYMS_DYNSYM, /* .dynsym, through DT_SYMTAB */
	KXELF_SYMS_SYMTAB, /* .symtab (local symbols, statics), when not stripped */
};

struct kxelf_symbol {
	const char *name; /* "" for unnamed */
	uint64_t value;   /* st_value as in the file */
	uint64_t addr;    /* guest address (module accessors); value for images; 0 if undefined */
	uint64_t size;
	uint8_t type;     /* STT_* */
	uint8_t bind;     /* STB_* */
	uint8_t visibility; /* STV_* */
	uint16_t shndx;
	uint16_t versym;  /* DT_VERSYM entry (0 when absent); bit 15 = hidden version */
	bool defined;     /* shndx != SHN_UNDEF */
	enum kxelf_symsrc source;
};

/* One relocation (RELA table, then the PLT table).  RELR-encoded relative
 * relocations are counted by kxelf_image_relr_count(), not listed. */
struct kxelf_reloc {
	uint64_t offset; /* r_offset (link-time address of the target) */
	uint32_t type;   /* R_X86_64_* */
	uint32_t sym;    /* dynamic symbol index */
	int64_t addend;
	bool plt;        /* from DT_JMPREL */
	size_t plt_index; /* index within DT_JMPREL when plt (what PLT stubs push) */
};

struct kxelf_tls_info {
	bool present;
	uint64_t vaddr, filesz, memsz, align;
};

/* Parse and validate buf[0 .. len).  buf must outlive the image. */
int kxelf_image_parse(const void *buf, size_t len, struct kxelf_image **out,
		      struct kx_error *err);
void kxelf_image_free(struct kxelf_image *img); /* NULL is fine */

enum kxelf_type kxelf_image_type(const struct kxelf_image *img);
const char *kxelf_type_name(enum kxelf_type type);
void kxelf_image_span(const struct kxelf_image *img, struct kxelf_span *out);
uint64_t kxelf_image_entry(const struct kxelf_image *img);
const char *kxelf_image_soname(const struct kxelf_image *img); /* NULL if none */
const char *kxelf_image_interp(const struct kxelf_image *img); /* NULL if none */
uint64_t kxelf_image_flags(const struct kxelf_image *img);      /* DT_FLAGS */
uint64_t kxelf_image_flags_1(const struct kxelf_image *img);    /* DT_FLAGS_1 */

/* readelf's name of a program header type ("DYNAMIC"), or NULL if unknown. */
const char *kxelf_phdr_type_name(uint32_t type);
size_t kxelf_image_phnum(const struct kxelf_image *img);
int kxelf_image_phdr(const struct kxelf_image *img, size_t i, struct kxelf_phdr *out);

size_t kxelf_image_needed_count(const struct kxelf_image *img);
const char *kxelf_image_needed(const struct kxelf_image *img, size_t i);

size_t kxelf_image_symbol_count(const struct kxelf_image *img, enum kxelf_symsrc src);
int kxelf_image_symbol(const struct kxelf_image *img, enum kxelf_symsrc src, size_t i,
		       struct kxelf_symbol *out);

size_t kxelf_image_reloc_count(const struct kxelf_image *img);
int kxelf_image_reloc(const struct kxelf_image *img, size_t i, struct kxelf_reloc *out);
size_t kxelf_image_relr_count(const struct kxelf_image *img);
const char *kxelf_reloc_type_name(uint32_t type); /* "R_X86_64_..." or NULL if unknown */

void kxelf_image_tls(const struct kxelf_image *img, struct kxelf_tls_info *out);

/* ---- modules (an image mapped into a dynamic segment) ------------------- */

struct kxelf_module;

/* A page-aligned guest range with the permissions the backend must apply. */
struct kxelf_range {
	uint64_t addr;
	uint64_t size;
	unsigned prot; /* KXELF_PROT_*; never W and X together */
};

/* Map img at guest_addr (page-aligned; == span.base for fixed images) inside
 * seg: copy file bytes, zero the rest of each segment and the page gaps. */
int kxelf_module_map(const struct kxelf_image *img, const struct kxelf_segment *seg,
		     uint64_t guest_addr, struct kxelf_module **out, struct kx_error *err);
void kxelf_module_free(struct kxelf_module *mod); /* NULL is fine; guest memory untouched */

const struct kxelf_image *kxelf_module_image(const struct kxelf_module *mod);

/* The signed pointer map the file carries (common/kxptrmap.h; link-time
 * addresses: add kxelf_module_bias), decoded and checked at parse, every
 * variable inside a writable PT_LOAD; NULL when the file has none. */
struct kxptrmap;
const struct kxptrmap *kxelf_image_ptrmap(const struct kxelf_image *img);
uint64_t kxelf_module_bias(const struct kxelf_module *mod);  /* guest addr - link addr */
uint64_t kxelf_module_start(const struct kxelf_module *mod); /* first mapped guest byte */
uint64_t kxelf_module_end(const struct kxelf_module *mod);   /* one past the last page */

/* Constructors and destructors for the guest runtime to run (guest
 * addresses, 0 / count 0 when absent).  Arrays are read after relocation. */
struct kxelf_init_info {
	uint64_t init, fini;                 /* DT_INIT, DT_FINI */
	uint64_t preinit_array, preinit_count; /* executables only */
	uint64_t init_array, init_count;
	uint64_t fini_array, fini_count;
	uint64_t entry;                      /* e_entry + bias, 0 if none */
};
void kxelf_module_init_info(const struct kxelf_module *mod, struct kxelf_init_info *out);

/* ---- what kx's mapper adds for a pVM (rules.c) ----------------------------
 * Beyond the loader's own refusals, a module mapped into a pVM must have no
 * constructors (-ENOTSUP) and no data object on a page that holds a GOT
 * entry (-EINVAL: the mapper makes those pages read-only).  The mapper
 * (manager/hv/link.c) and `kxctl inspect` both apply these; a message names
 * the module as `name`. */
int kxelf_module_check_pvm(const struct kxelf_module *mod, const char *name, struct kx_error *err);
int kxelf_module_check_got(const struct kxelf_module *mod, const char *name, struct kx_error *err);
/* The pages of a mapped module that hold a GOT entry: one bit per page. */
struct kxelf_got_pages {
	uint64_t start;  /* the module's first page */
	uint64_t npages;
	uint8_t *bits;
};
int kxelf_module_got_pages(const struct kxelf_module *mod, struct kxelf_got_pages *out); /* -ENOMEM */
bool kxelf_got_pages_has(const struct kxelf_got_pages *g, uint64_t gpa);
void kxelf_got_pages_free(struct kxelf_got_pages *g);

/* Page permissions: one range per PT_LOAD; after relocation the PT_GNU_RELRO
 * pages of a writable segment are split off as read-only. */
size_t kxelf_module_prot_count(const struct kxelf_module *mod);
int kxelf_module_prot(const struct kxelf_module *mod, size_t i, struct kxelf_range *out);

/* TLS placement, chosen by whoever lays out the thread pointer block (x86-64
 * variant II: tpoff is the negative offset of the block from the thread
 * pointer).  kxelf_tree_load() assigns these itself. */
void kxelf_module_set_tls(struct kxelf_module *mod, uint64_t modid, int64_t tpoff);

enum kxelf_bind {
	KXELF_BIND_NOW,  /* resolve every JUMP_SLOT at relocation time */
	KXELF_BIND_LAZY, /* JUMP_SLOTs point into the PLT; GOT[1]/GOT[2] set below */
};

/* Flags for tools; a pVM uses none of them. */
#define KXELF_RELOC_ALLOW_UNDEFINED 1u /* undefined symbols bind to 0 and are counted */
#define KXELF_RELOC_DEFER_IFUNC     2u /* IRELATIVE / IFUNC targets: store the resolver
				         * address and count them instead of refusing */

struct kxelf_bind_opts {
	enum kxelf_bind mode;
	uint64_t module_id; /* lazy: written to GOT[1] */
	uint64_t resolver;  /* lazy: written to GOT[2] (the guest's du_resolve) */
	unsigned flags;     /* KXELF_RELOC_* */
};

struct kxelf_reloc_stats {
	size_t applied;    /* relocations written (RELR included) */
	size_t lazy;       /* JUMP_SLOTs left to the PLT */
	size_t undefined;  /* bound to 0 under KXELF_RELOC_ALLOW_UNDEFINED */
	size_t deferred;   /* IFUNC/IRELATIVE left to the guest under DEFER_IFUNC */
};

/* Apply every relocation of mod.  Symbols are looked up in scope[0..n) in
 * order (mod itself first when it was linked -Bsymbolic); the scope normally
 * includes mod.  Targets must lie in a writable PT_LOAD, not over the
 * dynamic section or GOT[0..2].  A module is relocated once. */
int kxelf_module_relocate(struct kxelf_module *mod, const struct kxelf_module *const *scope,
			  size_t nscope, const struct kxelf_bind_opts *opts,
			  struct kx_error *err);
void kxelf_module_reloc_stats(const struct kxelf_module *mod, struct kxelf_reloc_stats *out);

/* Lazy binding: resolve the JUMP_SLOT that PLT stubs call plt_index (the
 * value du_resolve received), write its GOT entry and return the target. */
int kxelf_module_resolve_slot(struct kxelf_module *mod, size_t plt_index,
			      const struct kxelf_module *const *scope, size_t nscope,
			      uint64_t *addr, struct kx_error *err);

/* What lazy binding and online update need.  Slot i is DT_JMPREL entry i:
 * a JUMP_SLOT (symbol named) or an IRELATIVE (local ifunc, symbol NULL). */
struct kxelf_slot {
	uint64_t got_addr;  /* guest address of the GOT entry */
	size_t plt_index;   /* == i */
	const char *symbol; /* NULL when the entry has no symbol */
	uint32_t type;      /* R_X86_64_JUMP_SLOT or R_X86_64_IRELATIVE */
};
size_t kxelf_module_slot_count(const struct kxelf_module *mod);
int kxelf_module_slot(const struct kxelf_module *mod, size_t i, struct kxelf_slot *out);
uint64_t kxelf_module_plt0(const struct kxelf_module *mod); /* guest addr, 0 if no PLT */
/* GOT as DT_PLTGOT names it: GOT[0..2] plus one entry per slot (exact
 * bytes, not page-rounded; -EINVAL when there is no DT_PLTGOT). */
int kxelf_module_got(const struct kxelf_module *mod, struct kxelf_range *out);

/* Symbols with guest addresses (addr = value + bias when defined). */
size_t kxelf_module_symbol_count(const struct kxelf_module *mod, enum kxelf_symsrc src);
int kxelf_module_symbol(const struct kxelf_module *mod, enum kxelf_symsrc src, size_t i,
			struct kxelf_symbol *out);
/* Exported definition of name in mod through its hash table (-ENOENT if none). */
int kxelf_module_lookup(const struct kxelf_module *mod, const char *name,
			struct kxelf_symbol *out);

/* ---- trees (a library and its DT_NEEDED dependencies) ------------------- */

struct kxelf_tree;

/* open: give the bytes of library `name` (as written in DT_NEEDED); they
 * must stay valid until release.  A policy check belongs here too: the
 * loader maps nothing that open did not return.  open returns 0 or -errno
 * and may say why in err; the tree then fails with -ELIBACC and that
 * reason ("cannot open" when it gave none) after the library's name. */
struct kxelf_tree_ops {
	int (*open)(void *ctx, const char *name, const uint8_t **data, size_t *len,
		    struct kx_error *err);
	void (*release)(void *ctx, const uint8_t *data, size_t len);
	void *ctx;
};

struct kxelf_tree_params {
	const struct kxelf_tree_ops *ops;
	const struct kxelf_segment *seg;
	uint64_t guest_addr; /* first module here, the next ones follow page-aligned */
	/* Modules already linked into the pVM: they satisfy DT_NEEDED by soname
	 * and come first in the scope. */
	const struct kxelf_module *const *linked;
	size_t nlinked;
	/* Module i of the tree gets id bind.module_id + i (0 counts as 1): it is
	 * both its GOT[1] value for lazy binding and its TLS module id. */
	struct kxelf_bind_opts bind;
	unsigned max_depth;   /* 0: KXELF_MAX_DEPTH */
	unsigned max_modules; /* 0: KXELF_MAX_MODULES */
	/* Static TLS bytes below the thread pointer already used by the linked
	 * modules; the tree's blocks are placed after them. */
	uint64_t tls_used;
};

/* Load root (named root_name in messages) and its dependency tree: parse,
 * detect cycles, map in breadth-first order, assign TLS, relocate all with
 * the breadth-first scope. */
int kxelf_tree_load(const uint8_t *root, size_t len, const char *root_name,
		    const struct kxelf_tree_params *params, struct kxelf_tree **out,
		    struct kx_error *err);
void kxelf_tree_free(struct kxelf_tree *tree); /* releases every opened file */
size_t kxelf_tree_count(const struct kxelf_tree *tree);
struct kxelf_module *kxelf_tree_module(const struct kxelf_tree *tree, size_t i); /* 0 = root */
const char *kxelf_tree_name(const struct kxelf_tree *tree, size_t i);
uint64_t kxelf_tree_end(const struct kxelf_tree *tree); /* first free guest address after it */
uint64_t kxelf_tree_tls_used(const struct kxelf_tree *tree); /* tls_used + the tree's blocks */

/* ---- testing ------------------------------------------------------------ */

/* Call fn for every range of file bytes the loader reads, on this thread
 * (NULL: stop).  file is the buffer given to kxelf_image_parse or returned
 * by a tree's open callback.  The signed-reads test and the differential
 * fuzzer (fuzz_elf_signed) check every range against the regions a kxsign
 * signature covers: the loader reads only signed bytes. */
typedef void kxelf_read_fn(void *ctx, const void *file, uint64_t off, uint64_t size);
void kxelf_trace_reads(kxelf_read_fn *fn, void *ctx);

#endif /* KX_MANAGER_ELF_KXELF_H */
