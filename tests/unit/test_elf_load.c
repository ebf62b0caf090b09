/*
 * The loader's API over the test libraries of fuzz/corpus/elf/ (built from
 * tests/elf/src/ by tests/elf/generate.py): parsed structure, the value every
 * relocation writes, lazy binding, RELR, COPY, TLS, IFUNC refusal, trees
 * (caps, loops, open failures) and placement in a dynamic segment.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "manager/elf/kxelf.h"
#include "signer/kxsig.h"

#define CORPUS     "fuzz/corpus/elf/"
#define SEG_BASE   ((uint64_t)0x10000000)
#define SEG_SIZE   ((size_t)1 << 20)
#define RESOLVER   ((uint64_t)0xfeed000)

static uint8_t *slurp(const char *name, size_t *len)
{
	char path[256];
	struct kx_error kerr;
	uint8_t *buf = NULL;

	snprintf(path, sizeof(path), CORPUS "%s", name);
	if (kxsig_read_file(path, KXELF_MAX_FILE_SIZE, &buf, len, &kerr) != 0)
		fail_msg("%s: %s", path, kerr.msg);
	return buf;
}

/* ---- fixtures: a segment and a tree loaded from the corpus -------------- */

struct fx {
	uint8_t *mem;
	struct kxelf_segment seg;
	uint8_t *root;
	size_t root_len;
	struct kxelf_tree *tree;
	struct kx_error err;
	const char *refuse; /* open() fails for this name */
};

static int open_corpus(void *ctx, const char *name, const uint8_t **data, size_t *len,
		       struct kx_error *err)
{
	struct fx *f = ctx;

	if (f->refuse && strcmp(name, f->refuse) == 0) {
		return kx_err(err, -EACCES, "refused by the test");
	}
	*data = slurp(name, len);
	return 0;
}

static void release_corpus(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)len;
	free((void *)data);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->mem = calloc(1, SEG_SIZE);
	assert_non_null(f->mem);
	/* Garbage first: the loader must zero what it maps. */
	memset(f->mem, 0xa5, SEG_SIZE);
	f->seg = (struct kxelf_segment){ .guest_base = SEG_BASE, .host = f->mem, .size = SEG_SIZE };
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	kxelf_tree_free(f->tree);
	free(f->root);
	free(f->mem);
	free(f);
	return 0;
}

static int tree_load(struct fx *f, const char *root, enum kxelf_bind mode, uint64_t module_id,
		     unsigned max_depth, unsigned max_modules)
{
	const struct kxelf_tree_ops ops = { open_corpus, release_corpus, f };
	const struct kxelf_tree_params p = {
		.ops = &ops, .seg = &f->seg, .guest_addr = SEG_BASE,
		.bind = { .mode = mode, .module_id = module_id, .resolver = RESOLVER },
		.max_depth = max_depth, .max_modules = max_modules,
	};

	f->root = slurp(root, &f->root_len);
	return kxelf_tree_load(f->root, f->root_len, root, &p, &f->tree, &f->err);
}

static uint64_t peek(const struct fx *f, uint64_t gaddr, size_t size)
{
	uint64_t v = 0;

	assert_true(gaddr >= SEG_BASE && gaddr - SEG_BASE + size <= SEG_SIZE);
	memcpy(&v, f->mem + (gaddr - SEG_BASE), size);
	return v;
}

static uint64_t addr_of(const struct kxelf_module *mod, const char *name)
{
	struct kxelf_symbol s;

	if (kxelf_module_lookup(mod, name, &s) != 0)
		fail_msg("symbol %s not exported", name);
	return s.addr;
}

/* ---- parse -------------------------------------------------------------- */

static void parse_reports_structure(void **state)
{
	size_t len, by_type[64] = { 0 };
	uint8_t *buf = slurp("libkxtest.so", &len);
	struct kxelf_image *img = NULL;
	struct kxelf_symbol s;
	struct kxelf_tls_info tls;
	bool found_static = false;

	(void)state;
	assert_int_equal(kxelf_image_parse(buf, len, &img, NULL), 0);
	assert_int_equal(kxelf_image_type(img), KXELF_TYPE_DYN);
	assert_string_equal(kxelf_image_soname(img), "libkxtest.so");
	assert_int_equal(kxelf_image_needed_count(img), 1);
	assert_string_equal(kxelf_image_needed(img, 0), "libkxdep.so");
	assert_null(kxelf_image_needed(img, 1));
	/* kxtest_static is local: only .symtab has it, with its size. */
	for (size_t i = 0; i < kxelf_image_symbol_count(img, KXELF_SYMS_SYMTAB); i++) {
		assert_int_equal(kxelf_image_symbol(img, KXELF_SYMS_SYMTAB, i, &s), 0);
		if (strcmp(s.name, "kxtest_static") == 0) {
			found_static = true;
			assert_int_equal(s.bind, STB_LOCAL);
			assert_int_equal(s.type, STT_OBJECT);
			assert_int_equal(s.size, 4);
			assert_int_equal(s.source, KXELF_SYMS_SYMTAB);
		}
	}
	assert_true(found_static);
	for (size_t i = 0; i < kxelf_image_symbol_count(img, KXELF_SYMS_DYNSYM); i++) {
		kxelf_image_symbol(img, KXELF_SYMS_DYNSYM, i, &s);
		assert_true(strcmp(s.name, "kxtest_static") != 0);
	}
	for (size_t i = 0; i < kxelf_image_reloc_count(img); i++) {
		struct kxelf_reloc r;
		assert_int_equal(kxelf_image_reloc(img, i, &r), 0);
		by_type[r.type]++;
	}
	assert_int_equal(by_type[R_X86_64_RELATIVE], 1);
	assert_int_equal(by_type[R_X86_64_64], 1);
	assert_int_equal(by_type[R_X86_64_GLOB_DAT], 2);
	assert_int_equal(by_type[R_X86_64_JUMP_SLOT], 2);
	assert_int_equal(by_type[R_X86_64_DTPMOD64], 1);
	assert_int_equal(by_type[R_X86_64_DTPOFF64], 1);
	assert_int_equal(by_type[R_X86_64_TPOFF64], 1);
	assert_int_equal(kxelf_image_relr_count(img), 0);
	kxelf_image_tls(img, &tls);
	assert_true(tls.present);
	assert_int_equal(tls.memsz, 8); /* two ints */
	assert_string_equal(kxelf_reloc_type_name(R_X86_64_IRELATIVE), "R_X86_64_IRELATIVE");
	assert_null(kxelf_reloc_type_name(200));
	kxelf_image_free(img);
	free(buf);
}

/* ---- relocation values (bind now) ------------------------------------- */

/* What each relocation of the root must hold, computed from the symbol
 * tables independently of the relocation code. */
static uint64_t expected(const struct kxelf_tree *t, const struct kxelf_reloc *r, size_t *size)
{
	const struct kxelf_module *root = kxelf_tree_module(t, 0), *dep = kxelf_tree_module(t, 1);
	const struct kxelf_image *img = kxelf_module_image(root);
	struct kxelf_symbol s = { .name = "" };
	struct kxelf_tls_info tls;

	*size = 8;
	if (r->sym)
		kxelf_image_symbol(img, KXELF_SYMS_DYNSYM, r->sym, &s);
	kxelf_image_tls(img, &tls);
	switch (r->type) {
	case R_X86_64_RELATIVE:
		return kxelf_module_bias(root) + (uint64_t)r->addend;
	case R_X86_64_64:
		assert_string_equal(s.name, "kxtest_global");
		return addr_of(root, s.name) + (uint64_t)r->addend;
	case R_X86_64_GLOB_DAT:
	case R_X86_64_JUMP_SLOT:
		if (strcmp(s.name, "kx_optional_hook") == 0)
			return 0; /* weak undefined */
		return addr_of(dep, s.name);
	case R_X86_64_DTPMOD64:
		return 1; /* module_id 1, root first */
	case R_X86_64_DTPOFF64:
		return s.value + (uint64_t)r->addend;
	case R_X86_64_TPOFF64:
		/* The root's block is the first below the thread pointer. */
		return (uint64_t)r->addend - ((tls.memsz + tls.align - 1) & ~(tls.align - 1));
	}
	fail_msg("unexpected relocation type %u", r->type);
	return 0;
}

static void tree_now_writes_every_value(void **state)
{
	struct fx *f = *state;
	const struct kxelf_module *root, *dep;
	const struct kxelf_image *img;
	struct kxelf_reloc_stats st;

	assert_int_equal(tree_load(f, "libkxtest.so", KXELF_BIND_NOW, 1, 0, 0), 0);
	assert_int_equal(kxelf_tree_count(f->tree), 2);
	assert_string_equal(kxelf_tree_name(f->tree, 1), "libkxdep.so");
	root = kxelf_tree_module(f->tree, 0);
	dep = kxelf_tree_module(f->tree, 1);
	img = kxelf_module_image(root);
	assert_int_equal(kxelf_module_start(root), SEG_BASE);
	assert_true(kxelf_module_start(dep) >= kxelf_module_end(root));
	assert_int_equal(kxelf_module_start(dep) % KXELF_PAGE_SIZE, 0);
	assert_int_equal(kxelf_tree_end(f->tree), kxelf_module_end(dep));
	for (size_t i = 0; i < kxelf_image_reloc_count(img); i++) {
		struct kxelf_reloc r;
		size_t size;
		uint64_t want;

		kxelf_image_reloc(img, i, &r);
		want = expected(f->tree, &r, &size);
		if (peek(f, r.offset + kxelf_module_bias(root), size) != want)
			fail_msg("relocation %zu (type %u): 0x%lx, want 0x%lx", i, r.type,
				 peek(f, r.offset + kxelf_module_bias(root), size), want);
	}
	kxelf_module_reloc_stats(root, &st);
	assert_int_equal(st.applied, kxelf_image_reloc_count(img));
	assert_int_equal(st.lazy + st.undefined + st.deferred, 0);
	assert_int_equal(kxelf_tree_tls_used(f->tree), 8);
}

/* Mapped bytes equal the file's, bss and page tails are zero, W^X holds,
 * and RELRO became read-only. */
static void mapping_and_permissions(void **state)
{
	struct fx *f = *state;
	const struct kxelf_module *root;
	const struct kxelf_image *img;
	bool relro_seen = false;

	assert_int_equal(tree_load(f, "libkxtest.so", KXELF_BIND_NOW, 1, 0, 0), 0);
	root = kxelf_tree_module(f->tree, 0);
	img = kxelf_module_image(root);
	for (size_t i = 0; i < kxelf_image_phnum(img); i++) {
		struct kxelf_phdr ph;
		kxelf_image_phdr(img, i, &ph);
		if (ph.type != PT_LOAD)
			continue;
		const uint8_t *host = f->mem + (ph.vaddr + kxelf_module_bias(root) - SEG_BASE);
		if (!(ph.flags & PF_W))
			assert_memory_equal(host, f->root + ph.offset, ph.filesz);
		for (uint64_t k = ph.filesz; k < ph.memsz; k++)
			assert_int_equal(host[k], 0);
	}
	assert_true(kxelf_module_prot_count(root) >= 2);
	for (size_t i = 0; i < kxelf_module_prot_count(root); i++) {
		struct kxelf_range r;
		assert_int_equal(kxelf_module_prot(root, i, &r), 0);
		assert_false((r.prot & KXELF_PROT_W) && (r.prot & KXELF_PROT_X));
		assert_int_equal(r.addr % KXELF_PAGE_SIZE, 0);
		assert_int_equal(r.size % KXELF_PAGE_SIZE, 0);
		if (r.prot == KXELF_PROT_R && i > 0)
			relro_seen = true;
	}
	assert_true(relro_seen);
	assert_int_equal(kxelf_module_prot(root, 99, &(struct kxelf_range){ 0 }), -EINVAL);
}

/* ---- lazy binding -------------------------------------------------------- */

static void lazy_binding(void **state)
{
	struct fx *f = *state;
	struct kxelf_module *root;
	const struct kxelf_module *scope[2];
	struct kxelf_reloc_stats st;
	struct kxelf_range got;
	struct kxelf_slot slot;
	uint64_t target = 0, plt0;

	assert_int_equal(tree_load(f, "libkxtest.so", KXELF_BIND_LAZY, 7, 0, 0), 0);
	root = kxelf_tree_module(f->tree, 0);
	scope[0] = root;
	scope[1] = kxelf_tree_module(f->tree, 1);
	kxelf_module_reloc_stats(root, &st);
	assert_int_equal(st.lazy, 2);
	assert_int_equal(kxelf_module_got(root, &got), 0);
	assert_int_equal(got.size, 24 + 8 * 2);
	assert_int_equal(peek(f, got.addr + 8, 8), 7);         /* GOT[1]: module id */
	assert_int_equal(peek(f, got.addr + 16, 8), RESOLVER); /* GOT[2]: du_resolve */
	plt0 = kxelf_module_plt0(root);
	assert_true(plt0 > kxelf_module_start(root) && plt0 < kxelf_module_end(root));
	assert_int_equal(kxelf_module_slot_count(root), 2);
	assert_int_equal(kxelf_module_slot(root, 0, &slot), 0);
	assert_string_equal(slot.symbol, "kxdep_value");
	assert_int_equal(slot.type, R_X86_64_JUMP_SLOT);
	assert_int_equal(slot.got_addr, got.addr + 24);
	/* Before the first call the slot points at its PLT stub, after PLT0. */
	assert_true(peek(f, slot.got_addr, 8) > plt0 && peek(f, slot.got_addr, 8) < plt0 + 16 * 3);
	assert_int_equal(kxelf_module_resolve_slot(root, 0, scope, 2, &target, &f->err), 0);
	assert_int_equal(target, addr_of(scope[1], "kxdep_value"));
	assert_int_equal(peek(f, slot.got_addr, 8), target);
	assert_int_equal(kxelf_module_resolve_slot(root, 2, scope, 2, &target, &f->err),
			 -EINVAL);
	assert_string_equal(f->err.msg, "PLT slot 2: the module has 2");
	assert_int_equal(kxelf_module_slot(root, 2, &slot), -EINVAL);
}

/* libkxrelr.so: RELR relocations, SysV hash only, -z now (lazy refused). */
static void relr_and_bind_now(void **state)
{
	struct fx *f = *state;
	const struct kxelf_module *root;
	struct kxelf_reloc_stats st;
	uint64_t name_ptr;

	assert_int_equal(tree_load(f, "libkxrelr.so", KXELF_BIND_LAZY, 1, 0, 0), 0);
	root = kxelf_tree_module(f->tree, 0);
	kxelf_module_reloc_stats(root, &st);
	assert_int_equal(st.lazy, 0);
	assert_int_equal(kxelf_image_relr_count(kxelf_module_image(root)), 1);
	/* kxtest_name = "kxtest": the RELR-relocated pointer reaches the string. */
	name_ptr = peek(f, addr_of(root, "kxtest_name"), 8);
	assert_true(name_ptr >= kxelf_module_start(root) && name_ptr < kxelf_module_end(root));
	assert_string_equal((const char *)f->mem + (name_ptr - SEG_BASE), "kxtest");
	assert_int_equal(peek(f, addr_of(root, "kxtest_ptr"), 8), addr_of(root, "kxtest_global"));
}

/* kxpie copies kxtest_global (R_X86_64_COPY); the library's own pointer
 * must then bind to the executable's copy, first in the scope. */
static void copy_relocation(void **state)
{
	struct fx *f = *state;
	const struct kxelf_module *pie, *lib;

	assert_int_equal(tree_load(f, "kxpie.elf", KXELF_BIND_NOW, 1, 0, 0), 0);
	assert_int_equal(kxelf_tree_count(f->tree), 3);
	pie = kxelf_tree_module(f->tree, 0);
	lib = kxelf_tree_module(f->tree, 1);
	assert_int_equal(kxelf_image_type(kxelf_module_image(pie)), KXELF_TYPE_PIE);
	assert_int_equal(peek(f, addr_of(pie, "kxtest_global"), 4), 42);
	assert_int_equal(peek(f, addr_of(lib, "kxtest_ptr"), 8), addr_of(pie, "kxtest_global"));
}

/* ---- trees: caps, loops, open failures -------------------------------- */

static void tree_depth_cap(void **state)
{
	struct fx *f = *state;

	assert_int_equal(tree_load(f, "kxpie.elf", KXELF_BIND_NOW, 1, 1, 0), -E2BIG);
	assert_string_equal(f->err.msg, "libkxtest.so: DT_NEEDED 'libkxdep.so' is deeper than 1 levels");
	assert_null(f->tree);
}

static void tree_count_cap(void **state)
{
	struct fx *f = *state;

	assert_int_equal(tree_load(f, "kxpie.elf", KXELF_BIND_NOW, 1, 0, 2), -E2BIG);
	assert_string_equal(f->err.msg,
			    "libkxtest.so: DT_NEEDED 'libkxdep.so' would make more than 2 modules");
}

static void tree_loop(void **state)
{
	struct fx *f = *state;

	assert_int_equal(tree_load(f, "libloopa.so", KXELF_BIND_NOW, 1, 0, 0), -ELOOP);
	assert_string_equal(f->err.msg, "DT_NEEDED loop: libloopa.so -> libloopb.so -> libloopa.so");
}

static void tree_open_failure(void **state)
{
	struct fx *f = *state;

	f->refuse = "libkxdep.so";
	assert_int_equal(tree_load(f, "libkxtest.so", KXELF_BIND_NOW, 1, 0, 0), -ELIBACC);
	assert_string_equal(f->err.msg, "libkxdep.so: refused by the test");
}

/* ---- single modules ----------------------------------------------------- */

static struct kxelf_module *map_one(struct fx *f, const char *name, struct kxelf_image **img)
{
	struct kxelf_module *mod = NULL;

	f->root = slurp(name, &f->root_len);
	assert_int_equal(kxelf_image_parse(f->root, f->root_len, img, &f->err), 0);
	assert_int_equal(kxelf_module_map(*img, &f->seg, SEG_BASE, &mod, &f->err), 0);
	return mod;
}

static void undefined_and_tls_errors(void **state)
{
	struct fx *f = *state;
	struct kxelf_image *img = NULL;
	struct kxelf_module *mod = map_one(f, "libkxtest.so", &img);
	const struct kxelf_module *scope[] = { mod };
	struct kxelf_bind_opts opts = { .mode = KXELF_BIND_NOW };
	struct kxelf_reloc_stats st;

	/* TLS relocations need a block placed by the caller. */
	assert_int_equal(kxelf_module_relocate(mod, scope, 1, &opts, &f->err), -EALREADY);
	assert_string_equal(f->err.msg, "relocation 1 (.rela.dyn): TLS relocation, but the "
			    "defining module has no TLS block assigned");
	kxelf_module_set_tls(mod, 3, -64);
	assert_int_equal(kxelf_module_relocate(mod, scope, 1, &opts, &f->err), -ENOENT);
	assert_string_equal(f->err.msg, "relocation 5 (.rela.dyn): undefined symbol 'kxdep_counter'");
	opts.flags = KXELF_RELOC_ALLOW_UNDEFINED;
	assert_int_equal(kxelf_module_relocate(mod, scope, 1, &opts, &f->err), 0);
	kxelf_module_reloc_stats(mod, &st);
	assert_int_equal(st.undefined, 3); /* kxdep_counter, kxdep_value, __tls_get_addr */
	assert_int_equal(kxelf_module_relocate(mod, scope, 1, &opts, &f->err), -EALREADY);
	kxelf_module_free(mod);
	kxelf_image_free(img);
}

static void ifunc_refused_or_deferred(void **state)
{
	struct fx *f = *state;
	struct kxelf_image *img = NULL;
	struct kxelf_module *mod = map_one(f, "libkxifunc.so", &img), *again = NULL;
	const struct kxelf_module *scope[] = { mod };
	struct kxelf_bind_opts opts = { .mode = KXELF_BIND_NOW };
	struct kxelf_reloc_stats st;

	assert_int_equal(kxelf_module_relocate(mod, scope, 1, &opts, &f->err), -ENOTSUP);
	assert_string_equal(f->err.msg, "relocation 0 (.rela.plt): 'kxifunc_exported' is an IFUNC: "
			    "its resolver would have to run in the loader (unsupported in a pVM)");
	assert_int_equal(kxelf_module_map(img, &f->seg, SEG_BASE, &again, &f->err), 0);
	scope[0] = again;
	opts.flags = KXELF_RELOC_DEFER_IFUNC;
	assert_int_equal(kxelf_module_relocate(again, scope, 1, &opts, &f->err), 0);
	kxelf_module_reloc_stats(again, &st);
	assert_int_equal(st.deferred, 2); /* the exported one and the local IRELATIVE */
	kxelf_module_free(again);
	kxelf_module_free(mod);
	kxelf_image_free(img);
}

/* ET_EXEC is mapped at its own addresses, which must fit the segment. */
static void exec_placement(void **state)
{
	struct fx *f = *state;
	struct kxelf_image *img = NULL;
	struct kxelf_module *mod = NULL;
	struct kxelf_init_info init;
	struct kxelf_span span;
	struct kxelf_segment at_own;

	f->root = slurp("kxexec.elf", &f->root_len);
	assert_int_equal(kxelf_image_parse(f->root, f->root_len, &img, &f->err), 0);
	kxelf_image_span(img, &span);
	assert_true(span.fixed);
	assert_int_equal(kxelf_module_map(img, &f->seg, SEG_BASE, &mod, &f->err), -ERANGE);
	assert_non_null(strstr(f->err.msg, "must be mapped at its own address"));
	assert_int_equal(kxelf_module_map(img, &f->seg, span.base, &mod, &f->err), -ERANGE);
	assert_non_null(strstr(f->err.msg, "program header 0: PT_LOAD"));
	assert_non_null(strstr(f->err.msg, "outside the dynamic segment [0x10000000, +0x100000)"));
	assert_null(mod);
	at_own = (struct kxelf_segment){ .guest_base = span.base, .host = f->mem, .size = SEG_SIZE };
	assert_int_equal(kxelf_module_map(img, &at_own, span.base, &mod, &f->err), 0);
	assert_int_equal(kxelf_module_bias(mod), 0);
	kxelf_module_init_info(mod, &init);
	assert_int_equal(init.entry, kxelf_image_entry(img));
	kxelf_module_free(mod);
	kxelf_image_free(img);
}

static void map_arguments(void **state)
{
	struct fx *f = *state;
	struct kxelf_image *img = NULL;
	struct kxelf_module *mod = NULL;
	struct kxelf_segment small = f->seg;

	f->root = slurp("libkxtest.so", &f->root_len);
	assert_int_equal(kxelf_image_parse(f->root, f->root_len, &img, &f->err), 0);
	assert_int_equal(kxelf_module_map(img, &f->seg, SEG_BASE + 1, &mod, &f->err), -EINVAL);
	assert_string_equal(f->err.msg, "guest address 0x10000001 is not page-aligned");
	small.size = KXELF_PAGE_SIZE;
	assert_int_equal(kxelf_module_map(img, &small, SEG_BASE, &mod, &f->err), -ERANGE);
	assert_int_equal(kxelf_module_map(img, &f->seg, SEG_BASE - KXELF_PAGE_SIZE, &mod, &f->err),
			 -ERANGE);
	assert_null(mod);
	kxelf_image_free(img);
}

/* Module symbol addresses are file values plus the bias. */
static void module_symbols(void **state)
{
	struct fx *f = *state;
	struct kxelf_image *img = NULL;
	struct kxelf_module *mod = map_one(f, "libkxtest.so", &img);
	struct kxelf_symbol s;
	size_t checked = 0;

	for (enum kxelf_symsrc src = KXELF_SYMS_DYNSYM; src <= KXELF_SYMS_SYMTAB; src++)
		for (size_t i = 0; i < kxelf_module_symbol_count(mod, src); i++) {
			assert_int_equal(kxelf_module_symbol(mod, src, i, &s), 0);
			if (!s.defined || s.shndx == SHN_ABS || s.type == STT_TLS)
				continue;
			assert_int_equal(s.addr, s.value + kxelf_module_bias(mod));
			checked++;
		}
	assert_true(checked > 5);
	assert_int_equal(kxelf_module_lookup(mod, "kxtest_static", &s), -ENOENT);
	assert_int_equal(kxelf_module_lookup(mod, "kxtest_add", &s), 0);
	assert_int_equal(s.type, STT_FUNC);
	kxelf_module_free(mod);
	kxelf_image_free(img);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_reports_structure),
		T(tree_now_writes_every_value),
		T(mapping_and_permissions),
		T(lazy_binding),
		T(relr_and_bind_now),
		T(copy_relocation),
		T(tree_depth_cap),
		T(tree_count_cap),
		T(tree_loop),
		T(tree_open_failure),
		T(undefined_and_tls_errors),
		T(ifunc_refused_or_deferred),
		T(exec_placement),
		T(map_arguments),
		T(module_symbols),
	};
	return cmocka_run_group_tests_name("elf_load", tests, NULL, NULL);
}
