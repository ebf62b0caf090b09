/*
 * Every hostile file in fuzz/regress/elf/ (made by tests/elf/generate.py)
 * is rejected by the loader (parse, then map into a scratch segment and
 * relocate against itself, as kxctl inspect and the fuzzer do; lazily where
 * the row says so) with its own code and exact message, and every file in
 * that folder has a row here.
 */
#include <dirent.h>
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

#define REGRESS_DIR "fuzz/regress/elf"

static const struct {
	const char *file;
	int code; /* -errno */
	const char *msg;
} cases[] = {
	{ "align-not-pow2.so", -ENOEXEC,
	  "program header 0: p_align 0x1800 is not a power of two" },
	{ "bad-magic.so", -ENOEXEC,
	  "not an ELF file (bad magic)" },
	{ "bad-phentsize.so", -ENOEXEC,
	  "e_phentsize 32 != 56" },
	{ "bad-shentsize.so", -ENOEXEC,
	  "e_shentsize 40 != 64" },
	{ "bad-type-rel.so", -ENOTSUP,
	  "e_type 1: only ET_EXEC and ET_DYN are loadable" },
	{ "dynamic-duplicate-strtab.so", -ENOEXEC,
	  "dynamic entry 4: duplicate DT_STRTAB (first at entry 1)" },
	{ "dynamic-offset-outside-load.so", -ENOEXEC,
	  "program header 2: PT_DYNAMIC p_offset 0x18c0 is not where p_vaddr 0x1e60 lies in the file (0xe60): only the PT_LOADs' bytes are signed" },
	{ "dynamic-outside-image.so", -ENOEXEC,
	  "dynamic entry 4: DT_STRTAB [0x7fff0000, +0xd1) outside the image's file-backed segments" },
	{ "dynamic-outside-load.so", -ENOEXEC,
	  "program header 2: PT_DYNAMIC [0x7fff0000, +0x160) is not inside a PT_LOAD" },
	{ "dynamic-unterminated.so", -ENOEXEC,
	  "dynamic section: no DT_NULL terminator within its 22 entries" },
	{ "dynsym-name-outside-strtab.so", -ENOEXEC,
	  "dynamic symbol 7: name offset 0xffffff outside the string table (0xd1 bytes)" },
	{ "ehdr-truncated.so", -ENOEXEC,
	  "file too small for an ELF header (40 bytes)" },
	{ "elf32-class.so", -ENOTSUP,
	  "ELF class 1: only ELF64 is supported" },
	{ "exec-entry-outside.elf", -ENOEXEC,
	  "e_entry 0x10 is not inside an executable PT_LOAD" },
	{ "filesz-gt-memsz.so", -ENOEXEC,
	  "program header 1: p_filesz 0x11d0 > p_memsz 0x1d0" },
	{ "gnu-bloom-not-pow2.so", -ENOEXEC,
	  "DT_GNU_HASH: bloom size 3 is not a power of two" },
	{ "gnu-bloom-shift-too-big.so", -ENOEXEC,
	  "DT_GNU_HASH: bloom shift 38 >= 32" },
	{ "gnu-bucket-below-symoffset.so", -ENOEXEC,
	  "DT_GNU_HASH bucket 0: symbol index 1 below symoffset 5" },
	{ "gnu-chain-past-segment.so", -ENOEXEC,
	  "DT_GNU_HASH: chain entry for symbol 50005 runs past the end of the segment" },
	{ "gnu-symoffset-huge.so", -E2BIG,
	  "DT_GNU_HASH: symoffset 2147483647 above the limit of 1048576" },
	{ "interp-offset-outside-load.elf", -ENOEXEC,
	  "program header 1: PT_INTERP p_offset 0x1678 is not where p_vaddr 0x1c8 lies in the file (0x1c8): only the PT_LOADs' bytes are signed" },
	{ "interp-unterminated.elf", -ENOEXEC,
	  "program header 1: PT_INTERP is not NUL-terminated" },
	{ "lazy-slot-outside-file.so", -ERANGE,
	  "relocation 6 (.rela.dyn): lazy JUMP_SLOT at 0x2020: its GOT slot is not in the file" },
	{ "load-overlap.so", -ENOEXEC,
	  "program header 1: PT_LOAD [0x10, 0x1e0) overlaps the pages of program header 0 [0x0, 0x5c0)" },
	{ "load-unsorted.so", -ENOEXEC,
	  "program header 1: PT_LOAD at 0x0 not sorted after program header 0 at 0x1e58" },
	{ "needed-name-outside-strtab.so", -ENOEXEC,
	  "DT_NEEDED 0: name offset 0x135 outside the string table (0xd1 bytes)" },
	{ "phdr-table-past-eof.so", -ENOEXEC,
	  "program header table (e_phoff 0x1438, 5 entries) past end of file (5232 bytes)" },
	{ "phnum-huge.so", -E2BIG,
	  "e_phnum 65520 above the limit of 128" },
	{ "pltgot-readonly.so", -ENOEXEC,
	  "dynamic entry 8: DT_PLTGOT 0x10: GOT[0..2] not inside a writable PT_LOAD" },
	{ "relaent-wrong.so", -ENOEXEC,
	  "dynamic entry 14: DT_RELAENT 16 != 24" },
	{ "relasz-huge.so", -E2BIG,
	  "dynamic entry 13: DT_RELASZ: 8388608 entries, above the limit of 4194304" },
	{ "reloc-copy-in-shared.so", -ENOEXEC,
	  "relocation 2 (.rela.dyn): R_X86_64_COPY in a shared object" },
	{ "reloc-over-dynamic.so", -ERANGE,
	  "relocation 0 (.rela.dyn): target 0x1e68 (+8) over the dynamic section" },
	{ "reloc-over-got-reserved.so", -ERANGE,
	  "relocation 0 (.rela.dyn): target 0x1ff0 (+8) over GOT[0..2], reserved for the loader" },
	{ "reloc-symbol-index.so", -ENOEXEC,
	  "relocation 2 (.rela.dyn): symbol index 65535 >= symbol count 14" },
	{ "reloc-target-outside.so", -ERANGE,
	  "relocation 0 (.rela.dyn): target 0x7fff0000 (+8) outside the mapped image" },
	{ "reloc-target-readonly.so", -ERANGE,
	  "relocation 0 (.rela.dyn): target 0x10 (+8) in a read-only segment (text relocations are not supported)" },
	{ "reloc-tlsdesc.so", -ENOTSUP,
	  "relocation 0 (.rela.dyn): type R_X86_64_TLSDESC is not supported" },
	{ "reloc-unknown-type.so", -ENOTSUP,
	  "relocation 0 (.rela.dyn): unknown type 200" },
	{ "relr-bitmap-first.so", -ENOEXEC,
	  "DT_RELR entry 0: bitmap before any address" },
	{ "relr-target-readonly.so", -ERANGE,
	  "DT_RELR relocation at 0x10: target in a read-only segment (text relocations are not supported)" },
	{ "relro-offset-mismatch.so", -ENOEXEC,
	  "program header 5: PT_GNU_RELRO p_offset 0xe60 is not where p_vaddr 0x1e58 lies in the file (0xe58): only the PT_LOADs' bytes are signed" },
	{ "section-past-eof.so", -ENOEXEC,
	  "section 17: file range 0x18b8 + 0x1e0 past end of file (6336 bytes)" },
	{ "segment-past-eof.so", -ENOEXEC,
	  "program header 1: file range 0x18b8 + 0x1d0 past end of file (6336 bytes)" },
	{ "shdr-table-past-eof.so", -ENOEXEC,
	  "section header table (e_shoff 0x1430, 12 entries) past end of file (5232 bytes)" },
	{ "shnum-huge.so", -E2BIG,
	  "e_shnum 65520 above the limit of 4096" },
	{ "strtab-not-terminated.so", -ENOEXEC,
	  "DT_STRTAB: last byte of the 0xd0-byte table is not NUL (entries would run past the table)" },
	{ "symbol-outside-image.so", -ENOEXEC,
	  "dynamic symbol 6 ('kxtest_global'): [0x7fff0000, +0x4) is not inside a PT_LOAD" },
	{ "symtab-link-bad.so", -ENOEXEC,
	  "section 17: SHT_SYMTAB sh_link 0 is not a section index" },
	{ "sysv-bucket-out-of-range.so", -ENOEXEC,
	  "DT_HASH bucket 0: symbol index 19 >= nchain 14" },
	{ "sysv-chain-out-of-range.so", -ENOEXEC,
	  "DT_HASH chain 1: symbol index 19 >= nchain 14" },
	{ "sysv-nchain-huge.so", -E2BIG,
	  "DT_HASH: nchain 2147483647 above the limit of 1048576" },
	{ "textrel.so", -ENOTSUP,
	  "dynamic entry 1: text relocations (DT_TEXTREL) are not supported: library text is shared read-only" },
	{ "sysv-chain-loop.so", -E2BIG,
	  "relocation 1 (.rela.dyn): looking up 'kx_optional_hook' in scope module 0: hash chain loop or lookup budget exhausted" },
	{ "tls-offset-mismatch.so", -ENOEXEC,
	  "program header 3: PT_TLS p_offset 0x0 is not where p_vaddr 0x1e58 lies in the file (0xe58): only the PT_LOADs' bytes are signed" },
	{ "tls-symbol-outside.so", -ENOEXEC,
	  "dynamic symbol 5 ('kxtest_tls'): TLS offset 0x4 + 0x10000 outside the PT_TLS block" },
	{ "vaddr-wraps.so", -ENOEXEC,
	  "program header 1: p_vaddr 0xfffffffffffff000 + p_memsz 0x2000 wraps" },
	{ "wrong-machine.so", -ENOTSUP,
	  "machine 3: only x86-64 (62) is supported" },
	{ "wx-segment.so", -ENOEXEC,
	  "program header 0: segment is writable and executable (W+X refused)" },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Cases that only lazy binding reaches (as the monitor and kxctl inspect
 * --lazy bind): the others are loaded with bind-now. */
static const char *const lazy_cases[] = { "lazy-slot-outside-file.so" };

static bool binds_lazily(const char *file)
{
	for (size_t i = 0; i < sizeof(lazy_cases) / sizeof(lazy_cases[0]); i++)
		if (strcmp(lazy_cases[i], file) == 0)
			return true;
	return false;
}

/* The whole load path into a scratch segment; the first error wins. */
static int load(const uint8_t *buf, size_t len, bool lazy, struct kx_error *err)
{
	const struct kxelf_bind_opts opts = {
		.mode = lazy ? KXELF_BIND_LAZY : KXELF_BIND_NOW,
		.module_id = 1,
		.flags = KXELF_RELOC_ALLOW_UNDEFINED | KXELF_RELOC_DEFER_IFUNC,
	};
	struct kxelf_image *img = NULL;
	struct kxelf_module *mod = NULL;
	struct kxelf_segment seg = { 0 };
	struct kxelf_span span;
	int rc;

	if ((rc = kxelf_image_parse(buf, len, &img, err)) != 0)
		goto out;
	kxelf_image_span(img, &span);
	seg = (struct kxelf_segment){ .guest_base = span.base, .size = span.size };
	seg.host = calloc(1, span.size);
	assert_non_null(seg.host);
	if ((rc = kxelf_module_map(img, &seg, span.base, &mod, err)) != 0)
		goto out;
	kxelf_module_set_tls(mod, 1, -4096);
	const struct kxelf_module *scope[] = { mod };
	rc = kxelf_module_relocate(mod, scope, 1, &opts, err);
out:
	kxelf_module_free(mod);
	kxelf_image_free(img);
	free(seg.host);
	return rc;
}

static void each_case_rejected_with_its_message(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		char path[256];
		struct kx_error kerr;
		struct kx_error err = { 0 };
		uint8_t *buf = NULL;
		size_t len = 0;
		int rc;

		snprintf(path, sizeof(path), "%s/%s", REGRESS_DIR, cases[i].file);
		assert_int_equal(kxsig_read_file(path, KXELF_MAX_FILE_SIZE, &buf, &len, &kerr), 0);
		rc = load(buf, len, binds_lazily(cases[i].file), &err);
		if (rc != cases[i].code || strcmp(err.msg, cases[i].msg) != 0)
			fail_msg("%s: got %s \"%s\", want %s \"%s\"", cases[i].file,
				 kxelf_err_name(rc), err.msg, kxelf_err_name(cases[i].code),
				 cases[i].msg);
		free(buf);
	}
}

/* A regression file without a row would be replayed by the fuzzers but
 * never checked for its message. */
static void every_file_has_a_row(void **state)
{
	DIR *d = opendir(REGRESS_DIR);
	struct dirent *de;
	size_t files = 0;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		bool found = false;
		if (de->d_name[0] == '.')
			continue;
		files++;
		for (size_t i = 0; i < NCASES && !found; i++)
			found = strcmp(cases[i].file, de->d_name) == 0;
		if (!found)
			fail_msg("%s/%s has no expected message", REGRESS_DIR, de->d_name);
	}
	closedir(d);
	assert_int_equal(files, NCASES);
}

/* Every prefix of a valid library is rejected cleanly, never crashes. */
static void truncations_rejected(void **state)
{
	struct kx_error kerr;
	uint8_t *buf = NULL;
	size_t len = 0, rejected = 0;

	(void)state;
	assert_int_equal(kxsig_read_file("fuzz/corpus/elf/libkxtest.so", KXELF_MAX_FILE_SIZE, &buf,
					 &len, &kerr), 0);
	for (size_t cut = 0; cut < len; cut++) {
		struct kxelf_image *img = NULL;
		struct kx_error err = { 0 };
		if (kxelf_image_parse(buf, cut, &img, &err) != 0) {
			assert_true(err.msg[0] != '\0');
			rejected++;
		}
		kxelf_image_free(img);
	}
	/* The section header table is last: every cut before its end fails. */
	assert_int_equal(rejected, len);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_case_rejected_with_its_message),
		cmocka_unit_test(every_file_has_a_row),
		cmocka_unit_test(truncations_rejected),
	};
	return cmocka_run_group_tests_name("elf_regress", tests, NULL, NULL);
}
