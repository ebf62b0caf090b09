/*
 * test_ptrmap.c — the pointer map (common/kxptrmap.h) from file to loader:
 *   - every hostile map of fuzz/regress/ptrmap is refused with its reason,
 *     every seed of fuzz/corpus/ptrmap decodes and finds its vars;
 *   - a map signed into a library is covered by the signature: the loader
 *     hands it out, a changed byte fails verification naming the map, and
 *     re-signing cannot swap it;
 *   - the loader refuses a (signed) map whose variable is not inside a
 *     writable PT_LOAD: the update writes where the map says.
 * Run from the repository root (the corpus paths are relative).
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/kxptrmap.h"
#include "manager/elf/kxelf.h"
#include "signer/kxsig.h"

#define LIB "fuzz/corpus/elf/libkxtest.so"

static void read_whole(const char *path, uint8_t **buf, size_t *len)
{
	struct kx_error err;

	if (kxsig_read_file(path, KXELF_MAX_FILE_SIZE, buf, len, &err) != 0)
		fail_msg("%s: %s", path, err.msg);
}

static const struct {
	const char *file, *why;
} hostile[] = {
	{"short", "shorter than its header"},
	{"bad-magic", "bad magic"},
	{"count-past-end", "do not hold exactly 2 vars and 1 runs"},
	{"too-many-vars", "1048577 vars and 0 runs (at most 1048576"},
	{"trailing-byte", "do not hold exactly 1 vars and 0 runs"},
	{"overlap", "var 1 at 0x4008 overlaps or precedes"},
	{"unsorted", "var 1 at 0x4000 overlaps or precedes"},
	{"zero-size", "var 0: bad size 0"},
	{"wrapping-var", "var 0: bad size 16"},
	{"run-past-var", "var 0: run 0 reaches past the variable's 8 bytes"},
	{"stride-overflow", "var 0: run 0 reaches past the variable's 64 bytes"},
	{"small-stride", "run 0: 2 words 4 bytes apart"},
	{"zero-count", "run 0: 0 words"},
	{"bad-kind", "run 0 has kind 3"},
	{"runs-not-following", "var 0: runs 1..+1 do not follow"},
	{"orphan-runs", "1 runs belong to no var"},
	{"untyped-with-runs", "var 0: untyped with runs"},
	{"unknown-flag", "var 0: unknown flags"},
	{"runs-unsorted", "var 0: runs not sorted by offset (run 1)"},
};

static void hostile_maps_are_refused_with_their_reason(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		char path[256];
		struct kxptrmap map;
		struct kx_error err = {0};
		uint8_t *buf;
		size_t len;

		snprintf(path, sizeof(path), "fuzz/regress/ptrmap/%s.map", hostile[i].file);
		read_whole(path, &buf, &len);
		if (kxptrmap_decode(&map, buf, len, &err) != -EBADMSG ||
		    strstr(err.msg, hostile[i].why) == NULL)
			fail_msg("%s: want \"%s\", got \"%s\"", path, hostile[i].why, err.msg);
		assert_int_equal(map.var_count, 0); /* nothing handed out */
		free(buf);
	}
}

static void seeds_decode_and_every_var_is_found(void **state)
{
	static const char *const seeds[] = {"empty", "one-pointer", "struct-array-union",
					    "interleaved", "no-pointers"};
	static const uint32_t vars[] = {0, 1, 5, 1, 2};

	(void)state;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char path[256];
		struct kxptrmap map;
		struct kx_error err = {0};
		uint8_t *buf;
		size_t len, at;

		snprintf(path, sizeof(path), "fuzz/corpus/ptrmap/%s.map", seeds[i]);
		read_whole(path, &buf, &len);
		if (kxptrmap_decode(&map, buf, len, &err) != 0)
			fail_msg("%s: %s", path, err.msg);
		assert_int_equal(map.var_count, vars[i]);
		for (size_t v = 0; v < map.var_count; v++) {
			struct kxptrmap_abi_var var;

			kxptrmap_var(&map, v, &var);
			assert_int_equal(kxptrmap_find(&map, var.addr, &at), 0);
			assert_int_equal(at, v);
			assert_int_equal(kxptrmap_find(&map, var.addr + 1, &at), -ENOENT);
		}
		free(buf);
	}
}

/* ---- signed into a library ---------------------------------------------- */

/* One var of 8 bytes at addr, one pointer word. */
static void one_var_map(uint64_t addr, uint8_t out[16 + 32 + 24])
{
	struct kxptrmap_abi_header h = {.var_count = 1, .run_count = 1};
	struct kxptrmap_abi_var v = {.addr = addr, .size = 8, .run_count = 1};
	struct kxptrmap_abi_run r = {.count = 1, .kind = KXPTRMAP_POINTER};

	memcpy(h.magic, KXPTRMAP_MAGIC, sizeof(h.magic));
	memcpy(out, &h, sizeof(h));
	memcpy(out + 16, &v, sizeof(v));
	memcpy(out + 48, &r, sizeof(r));
}

/* The first PT_LOAD of LIB that is writable (want_w) or not. */
static uint64_t load_vaddr(const uint8_t *buf, size_t len, int want_w)
{
	struct kxelf_image *img;
	struct kx_error err;
	struct kxelf_phdr ph;

	assert_int_equal(kxelf_image_parse(buf, len, &img, &err), 0);
	for (size_t i = 0; kxelf_image_phdr(img, i, &ph) == 0; i++)
		if (ph.type == 1 /* PT_LOAD */ && !!(ph.flags & 2 /* PF_W */) == want_w &&
		    ph.memsz >= 8) {
			kxelf_image_free(img);
			return ph.vaddr;
		}
	fail_msg("%s: no %s PT_LOAD", LIB, want_w ? "writable" : "read-only");
	return 0;
}

static struct kxsig_seckey *key;
static struct kxsig_pubkey pub;

static int open_key(void **state)
{
	struct kx_error err;

	(void)state;
	assert_int_equal(kxsig_init(), 0);
	assert_int_equal(kxsig_seckey_open("tests/data/signer/regress.sec", &key, &err), 0);
	assert_int_equal(kxsig_pubkey_load("tests/data/signer/regress.pub", &pub, &err), 0);
	return 0;
}

static int close_key(void **state)
{
	(void)state;
	kxsig_seckey_free(key);
	return 0;
}

static void sign_with_map(const uint8_t *lib, size_t len, const uint8_t *map, size_t map_len,
			  uint8_t **out, size_t *out_len)
{
	struct kxsig_sign_opts opts = {.name = "libkxtest", .version = "1.0", .timestamp = 1,
				       .ptrmap = map, .ptrmap_len = map_len};
	struct kx_error err = {0};

	if (kxsig_sign_elf(key, lib, len, &opts, out, out_len, &err) != 0)
		fail_msg("sign: %s", err.msg);
}

static void a_signed_map_reaches_the_loader_and_cannot_be_changed(void **state)
{
	uint8_t *lib, *signed_lib, *again = NULL, map[72], other[72];
	size_t len, signed_len, again_len;
	struct kxsig_sign_opts opts = {.name = "libkxtest", .version = "1.1", .timestamp = 2};
	const struct kxptrmap *got;
	struct kxelf_image *img;
	struct kxsig_meta meta;
	struct kx_error err = {0};
	uint64_t w;
	uint8_t *p;

	(void)state;
	read_whole(LIB, &lib, &len);
	w = load_vaddr(lib, len, 1);
	one_var_map(w, map);
	sign_with_map(lib, len, map, sizeof(map), &signed_lib, &signed_len);
	assert_int_equal(kxsig_verify(signed_lib, signed_len, &pub, 1, &meta, &err), 0);
	if (kxelf_image_parse(signed_lib, signed_len, &img, &err) != 0)
		fail_msg("parse: %s", err.msg);
	got = kxelf_image_ptrmap(img);
	assert_non_null(got);
	assert_int_equal(got->var_count, 1);
	kxelf_image_free(img);

	/* One byte of the map changed after signing: the signature names it. */
	p = memmem(signed_lib, signed_len, map, sizeof(map));
	assert_non_null(p);
	p[16] ^= 8; /* the var's address */
	assert_int_equal(kxsig_verify(signed_lib, signed_len, &pub, 1, &meta, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "pointer map (section"));
	assert_non_null(strstr(err.msg, "changed"));
	p[16] ^= 8;

	/* Re-signing keeps the layout: the same map is fine, another refused. */
	opts.ptrmap = map;
	opts.ptrmap_len = sizeof(map);
	assert_int_equal(kxsig_sign_elf(key, signed_lib, signed_len, &opts, &again, &again_len,
					&err), 0);
	free(again);
	one_var_map(w + 8, other);
	opts.ptrmap = other;
	assert_int_equal(kxsig_sign_elf(key, signed_lib, signed_len, &opts, &again, &again_len,
					&err), -EEXIST);
	assert_non_null(strstr(err.msg, "different pointer map"));
	free(signed_lib);
	free(lib);
}

static void the_loader_refuses_a_map_outside_writable_memory(void **state)
{
	uint8_t *lib, *signed_lib, map[72];
	size_t len, signed_len;
	struct kxelf_image *img = NULL;
	struct kx_error err = {0};

	(void)state;
	read_whole(LIB, &lib, &len);
	one_var_map(load_vaddr(lib, len, 0), map);
	sign_with_map(lib, len, map, sizeof(map), &signed_lib, &signed_len);
	assert_int_equal(kxelf_image_parse(signed_lib, signed_len, &img, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "is not inside a writable PT_LOAD"));
	assert_null(img);
	free(signed_lib);
	free(lib);
}

static void the_signer_refuses_a_malformed_map(void **state)
{
	uint8_t *lib, *out = NULL, map[72];
	size_t len, out_len;
	struct kxsig_sign_opts opts = {.name = "libkxtest", .version = "1.0", .timestamp = 1,
				       .ptrmap = map, .ptrmap_len = sizeof(map)};
	struct kx_error err = {0};

	(void)state;
	read_whole(LIB, &lib, &len);
	one_var_map(0x1000, map);
	map[16 + 32 + 20] = 7; /* run kind */
	assert_int_equal(kxsig_sign_elf(key, lib, len, &opts, &out, &out_len, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "the pointer map to add: pointer map: run 0 has kind 7"));
	assert_null(out);
	free(lib);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hostile_maps_are_refused_with_their_reason),
		cmocka_unit_test(seeds_decode_and_every_var_is_found),
		cmocka_unit_test(a_signed_map_reaches_the_loader_and_cannot_be_changed),
		cmocka_unit_test(the_loader_refuses_a_map_outside_writable_memory),
		cmocka_unit_test(the_signer_refuses_a_malformed_map),
	};

	return cmocka_run_group_tests(tests, open_key, close_key);
}
