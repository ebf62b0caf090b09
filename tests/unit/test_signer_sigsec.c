/*
 * Unit tests for the signature-section half of the signer: signing a minimal
 * ELF built here byte by byte, verifying it, and table-driven tampering and
 * hostile layouts (each must give its error code and name the reason).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <elf.h>

#include "signer/kxsig.h"
#include "signer/kxsig_abi.h"

/* ---- a minimal ELF64 x86-64 shared object -------------------------------- */

enum {
	TEXT_OFF = 0x78,
	TEXT_SIZE = 16,
	SYMTAB_OFF = 0x88,
	SYMTAB_SIZE = 48,
	STRTAB_OFF = SYMTAB_OFF + SYMTAB_SIZE,
	STRTAB_SIZE = 6,
	SHSTR_OFF = STRTAB_OFF + STRTAB_SIZE,
	NSECTIONS = 5,
};
static const char shstrtab[] = "\0.text\0.symtab\0.strtab\0.shstrtab";

static void put_shdr(uint8_t *buf, uint64_t shoff, int i, uint32_t name, uint32_t type,
		     uint64_t off, uint64_t size, uint32_t link)
{
	Elf64_Shdr sh = {.sh_name = name, .sh_type = type, .sh_offset = off, .sh_size = size,
			 .sh_link = link, .sh_addralign = 1};

	memcpy(buf + shoff + (uint64_t)i * sizeof(sh), &sh, sizeof(sh));
}

/* ELF header, one PT_LOAD over header + .text, .symtab, .strtab, .shstrtab. */
static uint8_t *minimal_elf(size_t *len)
{
	const uint64_t shoff = (SHSTR_OFF + sizeof(shstrtab) + 7) & ~7u;
	uint8_t *buf;
	Elf64_Ehdr eh = {.e_type = ET_DYN, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
			 .e_phoff = sizeof(Elf64_Ehdr), .e_shoff = shoff,
			 .e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr),
			 .e_phnum = 1, .e_shentsize = sizeof(Elf64_Shdr), .e_shnum = NSECTIONS,
			 .e_shstrndx = NSECTIONS - 1};
	Elf64_Phdr ph = {.p_type = PT_LOAD, .p_flags = PF_R | PF_X,
			 .p_filesz = TEXT_OFF + TEXT_SIZE, .p_memsz = TEXT_OFF + TEXT_SIZE,
			 .p_align = 0x1000};
	Elf64_Sym sym = {.st_name = 1, .st_info = 0x12, .st_shndx = 1, .st_value = TEXT_OFF,
			 .st_size = TEXT_SIZE};

	*len = shoff + NSECTIONS * sizeof(Elf64_Shdr);
	buf = calloc(1, *len);
	assert_non_null(buf);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + sizeof(eh), &ph, sizeof(ph));
	memcpy(buf + TEXT_OFF, "\x31\xc0\xc3", 3);
	memcpy(buf + SYMTAB_OFF + sizeof(sym), &sym, sizeof(sym));
	memcpy(buf + STRTAB_OFF, "\0demo", STRTAB_SIZE);
	memcpy(buf + SHSTR_OFF, shstrtab, sizeof(shstrtab));
	put_shdr(buf, shoff, 1, 1, SHT_PROGBITS, TEXT_OFF, TEXT_SIZE, 0);
	put_shdr(buf, shoff, 2, 7, SHT_SYMTAB, SYMTAB_OFF, SYMTAB_SIZE, 3);
	put_shdr(buf, shoff, 3, 15, SHT_STRTAB, STRTAB_OFF, STRTAB_SIZE, 0);
	put_shdr(buf, shoff, 4, 23, SHT_STRTAB, SHSTR_OFF, sizeof(shstrtab), 0);
	return buf;
}

/* ---- fixture: two keys and a signed copy --------------------------------- */

struct fixture {
	char dir[64];
	struct kxsig_seckey *key, *other;
	struct kxsig_pubkey pub, other_pub;
	uint8_t *unsigned_elf, *signed_elf;
	size_t unsigned_len, signed_len;
};

static const struct kxsig_sign_opts demo_opts = {
	.name = "libdemo", .version = "1.2.3", .trusted_comment = "unit test",
	.timestamp = 1700000000,
};

static void make_key(struct fixture *f, const char *stem, struct kxsig_seckey **key,
		     struct kxsig_pubkey *pub)
{
	char pubp[128], secp[128];
	struct kx_error err = {0};

	snprintf(pubp, sizeof(pubp), "%s/%s.pub", f->dir, stem);
	snprintf(secp, sizeof(secp), "%s/%s.sec", f->dir, stem);
	assert_int_equal(kxsig_keygen(pubp, secp, NULL, KXSIG_KEYGEN_NO_PASSPHRASE, NULL, &err),
			 0);
	assert_int_equal(kxsig_seckey_open(secp, key, &err), 0);
	assert_int_equal(kxsig_pubkey_load(pubp, pub, &err), 0);
	unlink(pubp);
	unlink(secp);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kx_error err = {0};

	assert_non_null(f);
	assert_int_equal(kxsig_init(), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/kxsig-unit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	make_key(f, "a", &f->key, &f->pub);
	make_key(f, "b", &f->other, &f->other_pub);
	rmdir(f->dir);
	f->unsigned_elf = minimal_elf(&f->unsigned_len);
	assert_int_equal(kxsig_sign_elf(f->key, f->unsigned_elf, f->unsigned_len, &demo_opts,
					&f->signed_elf, &f->signed_len, &err),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kxsig_seckey_free(f->key);
	kxsig_seckey_free(f->other);
	free(f->unsigned_elf);
	free(f->signed_elf);
	free(f);
	return 0;
}

static uint8_t *copy(const struct fixture *f)
{
	uint8_t *c = malloc(f->signed_len);

	assert_non_null(c);
	memcpy(c, f->signed_elf, f->signed_len);
	return c;
}

/* File offset of the .kxsig section in the signed copy. */
static uint64_t sig_offset(const struct fixture *f)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh;

	memcpy(&eh, f->signed_elf, sizeof(eh));
	memcpy(&sh, f->signed_elf + eh.e_shoff + (uint64_t)(eh.e_shnum - 1) * sizeof(sh),
	       sizeof(sh));
	assert_int_equal(sh.sh_type, KXSIG_ABI_SECTION_TYPE);
	return sh.sh_offset;
}

/* ---- tests --------------------------------------------------------------- */

static void round_trip(void **state)
{
	struct fixture *f = *state;
	struct kxsig_meta meta;
	struct kx_error err = {0};
	uint8_t before[KXSIG_DIGEST_BYTES];

	assert_int_equal(kxsig_verify(f->signed_elf, f->signed_len, &f->pub, 1, &meta, &err),
			 0);
	assert_string_equal(meta.name, "libdemo");
	assert_string_equal(meta.version, "1.2.3");
	assert_string_equal(meta.trusted_comment, "unit test");
	assert_int_equal(meta.timestamp, 1700000000);
	assert_memory_equal(meta.keyid, f->pub.keyid, KXSIG_KEYID_BYTES);
	/* Same content digest before and after signing. */
	assert_int_equal(kxsig_content_digest(f->unsigned_elf, f->unsigned_len, before, &err),
			 0);
	assert_memory_equal(before, meta.digest, KXSIG_DIGEST_BYTES);
	/* Unsigned: a verification-class error. */
	assert_int_equal(kxsig_read(f->unsigned_elf, f->unsigned_len, &meta, &err),
			 -ENODATA);
	assert_true(kxsig_err_is_verify(-ENODATA));
}

static void picks_the_right_key(void **state)
{
	struct fixture *f = *state;
	struct kxsig_pubkey keys[2] = {f->other_pub, f->pub};
	struct kxsig_meta meta;
	struct kx_error err = {0};
	char want[128], a[17], b[17];

	assert_int_equal(kxsig_verify(f->signed_elf, f->signed_len, keys, 2, &meta, &err),
			 0);
	assert_int_equal(kxsig_verify(f->signed_elf, f->signed_len, &f->other_pub, 1, &meta, &err),
			 -ENOKEY);
	kxsig_keyid_hex(f->pub.keyid, a);
	kxsig_keyid_hex(f->other_pub.keyid, b);
	snprintf(want, sizeof(want), "signed by key %s, expected one of: %s", a, b);
	assert_string_equal(err.msg, want);
}

static void resign_replaces(void **state)
{
	struct fixture *f = *state;
	struct kxsig_sign_opts opts = demo_opts;
	struct kxsig_meta meta;
	struct kx_error err = {0};
	uint8_t *again = NULL;
	size_t len = 0;

	opts.version = "1.2.4";
	assert_int_equal(kxsig_sign_elf(f->other, f->signed_elf, f->signed_len, &opts, &again,
					&len, &err),
			 0);
	assert_int_equal(len, f->signed_len); /* the section was replaced, not added */
	assert_int_equal(kxsig_verify(again, len, &f->other_pub, 1, &meta, &err), 0);
	assert_string_equal(meta.version, "1.2.4");
	assert_int_equal(kxsig_verify(again, len, &f->pub, 1, &meta, &err), -ENOKEY);
	free(again);
}

/* One byte flipped inside each covered region: TAMPERED, naming the region. */
static void tamper_each_region(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint64_t offset; /* a byte that only changes content, not layout */
		const char *names;
	} rows[] = {
		{EI_PAD + 1, "ELF header (offset 0x0, 64 bytes) changed"},
		{sizeof(Elf64_Ehdr) + offsetof(Elf64_Phdr, p_align) + 2,
		 "program header table (offset 0x40, 56 bytes) changed"},
		{TEXT_OFF + 5, "PT_LOAD[0] (offset 0x0, 136 bytes) changed"},
		{SYMTAB_OFF + 24 + offsetof(Elf64_Sym, st_size),
		 "symbol table (section 2, offset 0x88, 48 bytes) changed"},
		{STRTAB_OFF + 2, "string table (section 3, offset 0xb8, 6 bytes) changed"},
		{SHSTR_OFF + 3, "section-name table (section 4,"},
	};
	struct kxsig_meta meta;
	struct kx_error err = {0};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t *c = copy(f);

		c[rows[i].offset] ^= 0x01;
		assert_int_equal(kxsig_verify(c, f->signed_len, &f->pub, 1, &meta, &err),
				 -EBADMSG);
		if (!strstr(err.msg, rows[i].names))
			fail_msg("row %zu: \"%s\" not in \"%s\"", i, rows[i].names, err.msg);
		free(c);
	}
}

static void tamper_section_headers(void **state)
{
	struct fixture *f = *state;
	struct kxsig_meta meta;
	struct kx_error err = {0};
	uint8_t *c = copy(f);
	Elf64_Ehdr eh;

	memcpy(&eh, c, sizeof(eh));
	/* .text's sh_addr: layout unchanged, the header table's bytes differ. */
	c[eh.e_shoff + sizeof(Elf64_Shdr) + offsetof(Elf64_Shdr, sh_addr)] ^= 0x10;
	assert_int_equal(kxsig_verify(c, f->signed_len, &f->pub, 1, &meta, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.msg, "section header table"));
	free(c);
}

/* Metadata lives in the signed message: any change breaks the signature. */
static void metadata_is_signed(void **state)
{
	struct fixture *f = *state;
	static const size_t fields[] = {
		offsetof(struct kxsig_abi_section, name),
		offsetof(struct kxsig_abi_section, version),
		offsetof(struct kxsig_abi_section, timestamp),
		offsetof(struct kxsig_abi_section, trusted_comment),
		offsetof(struct kxsig_abi_section, regions) + offsetof(struct kxsig_abi_region, hash),
		offsetof(struct kxsig_abi_section, signature) + 10,
	};
	uint64_t sig = sig_offset(f);
	struct kxsig_meta meta;
	struct kx_error err = {0};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint8_t *c = copy(f);

		c[sig + fields[i]] = c[sig + fields[i]] == '4' ? '5' : '4';
		assert_int_equal(kxsig_verify(c, f->signed_len, &f->pub, 1, &meta, &err),
				 -EKEYREJECTED);
		free(c);
	}
}

/* Hostile changes to a signed file: each is MALFORMED, with a reason. */
static void hostile_layouts(void **state)
{
	struct fixture *f = *state;
	const uint64_t sig = sig_offset(f);
	Elf64_Ehdr eh;
	struct {
		uint64_t offset;
		uint64_t value;
		size_t width;
		const char *reason;
	} rows[] = {
		{EI_CLASS, ELFCLASS32, 1, "32-bit"},
		{EI_DATA, ELFDATA2MSB, 1, "big-endian"},
		{offsetof(Elf64_Ehdr, e_machine), EM_AARCH64, 2, "not x86-64"},
		{offsetof(Elf64_Ehdr, e_type), ET_REL, 2, "not a shared object"},
		{offsetof(Elf64_Ehdr, e_phoff), UINT64_MAX - 8, 8, "outside the file"},
		{offsetof(Elf64_Ehdr, e_shoff), UINT64_MAX - 100, 8, "outside the file"},
		{offsetof(Elf64_Ehdr, e_shstrndx), 99, 2, "e_shstrndx"},
		{sizeof(Elf64_Ehdr) + offsetof(Elf64_Phdr, p_filesz), UINT64_MAX, 8,
		 "outside the file"},
		{sig + offsetof(struct kxsig_abi_section, format_version), 2, 2, "format version"},
		{sig + offsetof(struct kxsig_abi_section, region_count), 0, 2, "regions"},
		{sig + offsetof(struct kxsig_abi_section, region_count), 33, 2, "regions"},
		{sig + offsetof(struct kxsig_abi_section, sig_alg), 7, 2, "algorithms"},
		{sig + offsetof(struct kxsig_abi_section, version), 0, 1, "bad name, version"},
	};
	struct kxsig_meta meta;
	struct kx_error err = {0};

	memcpy(&eh, f->signed_elf, sizeof(eh));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t *c = copy(f);

		memcpy(c + rows[i].offset, &rows[i].value, rows[i].width);
		assert_int_equal(kxsig_verify(c, f->signed_len, &f->pub, 1, &meta, &err),
				 -ENOEXEC);
		if (!strstr(err.msg, rows[i].reason))
			fail_msg("row %zu: \"%s\" not in \"%s\"", i, rows[i].reason, err.msg);
		assert_false(kxsig_err_is_verify(-ENOEXEC));
		free(c);
	}
}

/* Every truncation of a signed file is refused and never read past its end
 * (the sanitizer pass turns an overread into a failure). */
static void every_truncation_fails(void **state)
{
	struct fixture *f = *state;
	struct kxsig_meta meta;
	struct kx_error err = {0};

	for (size_t len = 0; len < f->signed_len; len++) {
		uint8_t *c = malloc(len ? len : 1);

		assert_non_null(c);
		memcpy(c, f->signed_elf, len);
		assert_int_not_equal(kxsig_verify(c, len, &f->pub, 1, &meta, &err), 0);
		assert_int_not_equal(err.msg[0], '\0');
		free(c);
	}
}

static void sign_refuses_bad_input(void **state)
{
	struct fixture *f = *state;
	struct kxsig_sign_opts opts = demo_opts;
	struct kx_error err = {0};
	uint8_t *out = NULL, *c = copy(f);
	size_t len = 0;

	opts.name = "../evil";
	assert_int_equal(kxsig_sign_elf(f->key, f->unsigned_elf, f->unsigned_len, &opts, &out,
					&len, &err),
			 -EINVAL);
	opts = demo_opts;
	opts.version = "1.0 beta";
	assert_int_equal(kxsig_sign_elf(f->key, f->unsigned_elf, f->unsigned_len, &opts, &out,
					&len, &err),
			 -EINVAL);
	c[offsetof(Elf64_Ehdr, e_type)] = ET_REL;
	assert_int_equal(kxsig_sign_elf(f->key, c, f->signed_len, &demo_opts, &out, &len, &err),
			 -ENOEXEC);
	assert_non_null(strstr(err.msg, "not a shared object or an executable"));
	assert_int_equal(kxsig_sign_elf(f->key, "hello", 5, &demo_opts, &out, &len, &err),
			 -ENOEXEC);
	assert_null(out);
	free(c);
}

static void detached_round_trip(void **state)
{
	struct fixture *f = *state;
	static const char msg[] = "compiled policy tables";
	uint8_t sig[KXSIG_SIG_BYTES];
	struct kx_error err = {0};

	assert_int_equal(kxsig_sign_detached(f->key, msg, sizeof(msg), sig, &err), 0);
	assert_int_equal(kxsig_verify_detached(&f->pub, msg, sizeof(msg), sig, &err), 0);
	assert_int_equal(kxsig_verify_detached(&f->pub, msg, sizeof(msg) - 1, sig, &err),
			 -EKEYREJECTED);
	assert_int_equal(kxsig_verify_detached(&f->other_pub, msg, sizeof(msg), sig, &err),
			 -EKEYREJECTED);
	sig[0] ^= 1;
	assert_int_equal(kxsig_verify_detached(&f->pub, msg, sizeof(msg), sig, &err),
			 -EKEYREJECTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(picks_the_right_key),
		cmocka_unit_test(resign_replaces),
		cmocka_unit_test(tamper_each_region),
		cmocka_unit_test(tamper_section_headers),
		cmocka_unit_test(metadata_is_signed),
		cmocka_unit_test(hostile_layouts),
		cmocka_unit_test(every_truncation_fails),
		cmocka_unit_test(sign_refuses_bad_input),
		cmocka_unit_test(detached_round_trip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
