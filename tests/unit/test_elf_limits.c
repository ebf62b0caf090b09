/*
 * test_elf_limits: the signer and the loader share their ELF limits
 * (common/kxelf_limits.h), so a file the signer accepts is never refused by
 * the loader for one of them.
 *
 *   - Every file kept as a test input or fuzz seed, signed with the
 *     regression key, verifies and parses without hitting a shared limit;
 *     so does every file in those folders that is already signed by it.
 *   - At each limit (program headers, section headers, PT_LOADs) a signed
 *     file verifies and parses; one past it, signer and loader both refuse
 *     it, each saying which limit.  A file one byte above the size limit is
 *     refused by both before a byte of it is read.
 *
 * Before the shared header the signer took 256 program headers and the
 * loader 128; the at-limit cases fail there.
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
#include <dirent.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "common/kxelf_limits.h"
#include "manager/elf/kxelf.h"
#include "signer/kxsig.h"

#define BASE "fuzz/corpus/elf/libkxtest.so"

static const char *const dirs[] = {
	"fuzz/corpus/elf", "fuzz/regress/elf", "fuzz/corpus/elf_signed",
	"fuzz/regress/elf_signed", "fuzz/corpus/sigsec", "fuzz/regress/sigsec",
};

struct fx {
	struct kxsig_seckey *sec;
	struct kxsig_pubkey pub;
	uint8_t *base; /* BASE, a library both take */
	size_t base_len;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct kx_error err;

	assert_non_null(f);
	assert_int_equal(kxsig_init(), 0);
	if (kxsig_seckey_open("tests/data/signer/regress.sec", &f->sec, &err) != 0 ||
	    kxsig_pubkey_load("tests/data/signer/regress.pub", &f->pub, &err) != 0 ||
	    kxsig_read_file(BASE, KXELF_MAX_FILE_SIZE, &f->base, &f->base_len, &err) != 0)
		fail_msg("%s", err.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	kxsig_seckey_free(f->sec);
	free(f->base);
	free(f);
	return 0;
}

static int sign(const struct fx *f, const uint8_t *buf, size_t len, uint8_t **out,
		size_t *out_len, struct kx_error *err)
{
	const struct kxsig_sign_opts opts = {.name = "liblimits", .version = "1.0", .timestamp = 1};

	return kxsig_sign_elf(f->sec, buf, len, &opts, out, out_len, err);
}

/* The loader's refusal for a limit it shares with the signer (the other
 * limits, on dynamic tables, are the loader's alone). */
static bool shared_limit(int rc, const char *msg)
{
	return rc == -E2BIG && (strstr(msg, "file size") != NULL || strstr(msg, "e_phnum") != NULL ||
				strstr(msg, "e_shnum") != NULL ||
				strstr(msg, "PT_LOAD segments") != NULL);
}

/* What the loader says about buf: 0 or its errno, the reason in err. */
static int load(const uint8_t *buf, size_t len, struct kx_error *err)
{
	struct kxelf_image *img = NULL;
	int rc = kxelf_image_parse(buf, len, &img, err);

	kxelf_image_free(img);
	return rc;
}

/* A file the signer accepted: within every shared limit, and not refused
 * by the loader for one. */
static void check_accepted(const char *what, const uint8_t *buf, size_t len)
{
	struct kx_error err = {.msg = ""};
	Elf64_Ehdr eh;
	unsigned loads = 0;
	int rc;

	memcpy(&eh, buf, sizeof(eh));
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		loads += ph.p_type == PT_LOAD;
	}
	if (len > KXELF_MAX_FILE_SIZE || eh.e_phnum > KXELF_MAX_PHNUM ||
	    eh.e_shnum > KXELF_MAX_SHNUM || loads > KXELF_MAX_LOADS)
		fail_msg("%s: accepted with %zu bytes, %u program headers, %u sections, %u PT_LOADs",
			 what, len, eh.e_phnum, eh.e_shnum, loads);
	rc = load(buf, len, &err);
	if (shared_limit(rc, err.msg))
		fail_msg("%s: signed, but the loader refuses it: %s", what, err.msg);
}

static void every_accepted_file_parses(void **state)
{
	const struct fx *f = *state;
	size_t files = 0, signed_here = 0, signed_before = 0;

	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;

		if (!dir)
			fail_msg("%s: cannot open", dirs[d]);
		while ((de = readdir(dir)) != NULL) {
			struct kxsig_meta meta;
			struct kx_error err;
			uint8_t *buf = NULL, *out = NULL;
			size_t len = 0, out_len = 0;
			char path[512];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[d], de->d_name);
			if (kxsig_read_file(path, KXELF_MAX_FILE_SIZE, &buf, &len, &err) != 0)
				fail_msg("%s: %s", path, err.msg);
			files++;
			if (kxsig_verify(buf, len, &f->pub, 1, &meta, &err) == 0) {
				signed_before++;
				check_accepted(path, buf, len);
			}
			if (sign(f, buf, len, &out, &out_len, &err) == 0) {
				signed_here++;
				if (kxsig_verify(out, out_len, &f->pub, 1, &meta, &err) != 0)
					fail_msg("%s: signed, then refused: %s", path, err.msg);
				check_accepted(path, out, out_len);
			}
			free(out);
			free(buf);
		}
		closedir(dir);
	}
	print_message("%zu files: %zu signed already, %zu signed here; the loader refuses none "
		      "of them for a shared limit\n", files, signed_before, signed_here);
	assert_true(signed_here >= 8);
	assert_true(signed_before >= 1);
}

/* ---- files at a limit and one past it --------------------------------------- */

/* base with its program (or section) header table moved to the end of the
 * file and grown by nextra entries: copies of extra, or all-zero ones
 * (PT_NULL, SHT_NULL) when extra is NULL. */
static uint8_t *with_table(const struct fx *f, bool sections, const void *extra, unsigned nextra,
			   size_t *len)
{
	const size_t entsize = sections ? sizeof(Elf64_Shdr) : sizeof(Elf64_Phdr);
	size_t off = (f->base_len + 7) & ~(size_t)7, old;
	Elf64_Ehdr eh;
	uint8_t *buf;

	memcpy(&eh, f->base, sizeof(eh));
	old = (size_t)(sections ? eh.e_shnum : eh.e_phnum) * entsize;
	*len = off + old + (size_t)nextra * entsize;
	buf = calloc(1, *len);
	assert_non_null(buf);
	memcpy(buf, f->base, f->base_len);
	memcpy(buf + off, f->base + (sections ? eh.e_shoff : eh.e_phoff), old);
	if (extra != NULL)
		memcpy(buf + off + old, extra, (size_t)nextra * entsize);
	if (sections) {
		eh.e_shoff = off;
		eh.e_shnum = (uint16_t)(eh.e_shnum + nextra);
	} else {
		eh.e_phoff = off;
		eh.e_phnum = (uint16_t)(eh.e_phnum + nextra);
	}
	memcpy(buf, &eh, sizeof(eh));
	return buf;
}

static uint8_t *with_phdrs(const struct fx *f, const Elf64_Phdr *extra, unsigned nextra,
			   size_t *len)
{
	return with_table(f, false, extra, nextra, len);
}

static uint8_t *with_shdrs(const struct fx *f, unsigned nnull, size_t *len)
{
	return with_table(f, true, NULL, nnull, len);
}

static uint16_t ehdr_phnum(const uint8_t *buf)
{
	Elf64_Ehdr eh;

	memcpy(&eh, buf, sizeof(eh));
	return eh.e_phnum;
}

static uint16_t ehdr_shnum(const uint8_t *buf)
{
	Elf64_Ehdr eh;

	memcpy(&eh, buf, sizeof(eh));
	return eh.e_shnum;
}

/* A signed file whose header now claims one more entry than it has. */
static void claim_one_more(uint8_t *buf, bool sections)
{
	Elf64_Ehdr eh;

	memcpy(&eh, buf, sizeof(eh));
	if (sections)
		eh.e_shnum++;
	else
		eh.e_phnum++;
	memcpy(buf, &eh, sizeof(eh));
}

/* buf: signed at the limit, it verifies and loads; then claiming one more
 * entry, both refuse, the signer with why_sig and the loader with why_ld. */
static void at_and_past(const struct fx *f, const char *what, uint8_t *buf, size_t len,
			bool sections, const char *why_sig, const char *why_ld)
{
	struct kxsig_meta meta;
	struct kx_error err = {.msg = ""};

	if (kxsig_verify(buf, len, &f->pub, 1, &meta, &err) != 0)
		fail_msg("%s at the limit: the signer refuses it: %s", what, err.msg);
	if (load(buf, len, &err) != 0)
		fail_msg("%s at the limit: the loader refuses it: %s", what, err.msg);
	claim_one_more(buf, sections);
	assert_int_equal(kxsig_verify(buf, len, &f->pub, 1, &meta, &err), -ENOEXEC);
	assert_string_equal(err.msg, why_sig);
	assert_int_equal(load(buf, len, &err), -E2BIG);
	assert_string_equal(err.msg, why_ld);
}

static void program_headers(void **state)
{
	const struct fx *f = *state;
	uint8_t *plain, *signed_elf = NULL;
	size_t len, signed_len;
	struct kx_error err;
	unsigned have;

	plain = with_phdrs(f, NULL, 0, &len);
	have = ehdr_phnum(plain);
	free(plain);
	plain = with_phdrs(f, NULL, KXELF_MAX_PHNUM - have, &len);
	assert_int_equal(ehdr_phnum(plain), KXELF_MAX_PHNUM);
	if (sign(f, plain, len, &signed_elf, &signed_len, &err) != 0)
		fail_msg("%u program headers: not signed: %s", KXELF_MAX_PHNUM, err.msg);
	at_and_past(f, "program headers", signed_elf, signed_len, false,
		    "129 program headers (need 1..128)", "e_phnum 129 above the limit of 128");
	free(signed_elf);
	free(plain);

	/* Unsigned, one past: the signer will not sign it. */
	plain = with_phdrs(f, NULL, KXELF_MAX_PHNUM + 1 - have, &len);
	assert_int_equal(sign(f, plain, len, &signed_elf, &signed_len, &err), -ENOEXEC);
	assert_string_equal(err.msg, "129 program headers (need 1..128)");
	free(plain);
}

static void section_headers(void **state)
{
	const struct fx *f = *state;
	uint8_t *plain, *signed_elf = NULL;
	size_t len, signed_len;
	struct kx_error err;
	unsigned have = ehdr_shnum(f->base);

	/* Signing adds the .kxsig section: KXELF_MAX_SHNUM - 1 in, the limit out. */
	plain = with_shdrs(f, KXELF_MAX_SHNUM - 1 - have, &len);
	if (sign(f, plain, len, &signed_elf, &signed_len, &err) != 0)
		fail_msg("%u sections: not signed: %s", KXELF_MAX_SHNUM - 1, err.msg);
	assert_int_equal(ehdr_shnum(signed_elf), KXELF_MAX_SHNUM);
	at_and_past(f, "section headers", signed_elf, signed_len, true,
		    "4097 sections (limit 4096)", "e_shnum 4097 above the limit of 4096");
	free(signed_elf);
	free(plain);

	/* At the limit before signing: no room for .kxsig. */
	plain = with_shdrs(f, KXELF_MAX_SHNUM - have, &len);
	assert_int_equal(sign(f, plain, len, &signed_elf, &signed_len, &err), -ENOEXEC);
	assert_string_equal(err.msg, "no room for another section");
	assert_int_equal(load(plain, len, &err), 0);
	free(plain);
}

/* PT_LOADs: base's own, then bss-only pages above them (sorted, one page
 * each, read-only) up to the limit; one more is refused by both. */
static void load_segments(void **state)
{
	const struct fx *f = *state;
	Elf64_Phdr extra[KXELF_MAX_LOADS + 1];
	uint8_t *plain, *signed_elf = NULL;
	size_t len, signed_len;
	struct kxsig_meta meta;
	struct kx_error err;
	unsigned have = 0, n;
	Elf64_Ehdr eh;

	memcpy(&eh, f->base, sizeof(eh));
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, f->base + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		have += ph.p_type == PT_LOAD;
	}
	n = KXELF_MAX_LOADS - have;
	for (unsigned i = 0; i <= n; i++)
		extra[i] = (Elf64_Phdr){.p_type = PT_LOAD, .p_flags = PF_R,
					.p_vaddr = 0x100000 + (uint64_t)i * 0x2000,
					.p_paddr = 0x100000 + (uint64_t)i * 0x2000,
					.p_memsz = 0x1000, .p_align = 0x1000};
	plain = with_phdrs(f, extra, n, &len);
	if (sign(f, plain, len, &signed_elf, &signed_len, &err) != 0)
		fail_msg("%u PT_LOADs: not signed: %s", KXELF_MAX_LOADS, err.msg);
	if (kxsig_verify(signed_elf, signed_len, &f->pub, 1, &meta, &err) != 0)
		fail_msg("%u PT_LOADs: the signer refuses it: %s", KXELF_MAX_LOADS, err.msg);
	if (load(signed_elf, signed_len, &err) != 0)
		fail_msg("%u PT_LOADs: the loader refuses it: %s", KXELF_MAX_LOADS, err.msg);
	free(signed_elf);
	free(plain);

	plain = with_phdrs(f, extra, n + 1, &len);
	assert_int_equal(sign(f, plain, len, &signed_elf, &signed_len, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "more than 16 PT_LOAD segments"));
	assert_int_equal(load(plain, len, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "more than 16 PT_LOAD segments"));
	free(plain);
}

/* One byte above the size limit: refused on the length alone, before
 * either reader touches the bytes (none of them are backed here). */
static void file_size(void **state)
{
	const struct fx *f = *state;
	const size_t len = KXELF_MAX_FILE_SIZE + 1;
	struct kxsig_meta meta;
	struct kx_error err;
	void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	assert_true(p != MAP_FAILED);
	assert_int_equal(kxsig_verify(p, len, &f->pub, 1, &meta, &err), -EFBIG);
	assert_string_equal(err.msg, "file size 1073741825 above the 1073741824-byte limit");
	assert_int_equal(load(p, len, &err), -E2BIG);
	assert_string_equal(err.msg, "file size 1073741825 above the 1073741824-byte limit");
	munmap(p, len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_accepted_file_parses),
		cmocka_unit_test(program_headers),
		cmocka_unit_test(section_headers),
		cmocka_unit_test(load_segments),
		cmocka_unit_test(file_size),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
