/*
 * The loader reads only signed bytes: for every ELF file kx keeps as a test
 * input or fuzz seed that the signer would sign, every range of file bytes
 * the loader reads along its whole load path (fuzz/elf_walk.c) lies inside
 * the regions a kxsign signature over that file covers.  fuzz_elf_signed
 * checks the same property on generated inputs.
 *
 * The files that broke it before (a PT_DYNAMIC or PT_INTERP found through a
 * p_offset outside the PT_LOADs) are refused by signer and loader alike, and
 * a control shows the check itself fails when a region is missing.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fuzz/elf_walk.h"
#include "manager/elf/kxelf.h"
#include "signer/kxsig.h"

static const char *const dirs[] = {
	"fuzz/corpus/elf", "fuzz/regress/elf", "fuzz/corpus/elf_signed",
	"fuzz/regress/elf_signed", "fuzz/corpus/sigsec", "fuzz/regress/sigsec",
};

static void read_whole(const char *path, uint8_t **buf, size_t *len)
{
	struct kx_error err;

	if (kxsig_read_file(path, KXELF_MAX_FILE_SIZE, buf, len, &err) != 0)
		fail_msg("%s: %s", path, err.msg);
}

static void every_read_is_signed(void **state)
{
	size_t files = 0, signable = 0, loaded = 0;

	(void)state;
	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;

		if (!dir)
			fail_msg("%s: cannot open", dirs[d]);
		while ((de = readdir(dir)) != NULL) {
			struct kxsig_region_info regions[KXSIG_MAX_REGIONS];
			struct elf_reads reads;
			char path[512];
			uint8_t *buf;
			size_t len, n;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[d], de->d_name);
			read_whole(path, &buf, &len);
			files++;
			if (kxsig_covered_regions(buf, len, regions, &n, NULL) == 0) {
				signable++;
				if (elf_walk_checked(buf, len, regions, n, &reads)) {
					loaded++;
					assert_true(reads.reads > 0);
				}
				if (reads.outside)
					fail_msg("%s: the loader read [0x%llx, +0x%llx), outside every "
						 "signed region (%zu of %zu reads)", path,
						 (unsigned long long)reads.first_off,
						 (unsigned long long)reads.first_size, reads.outside,
						 reads.reads);
			}
			free(buf);
		}
		closedir(dir);
	}
	print_message("%zu files, %zu the signer takes, %zu the loader loads: every read signed\n",
		      files, signable, loaded);
	/* Not vacuous: the test libraries, signed and not, load. */
	assert_true(loaded >= 16);
}

/* The files that showed the hole: refused by both sides now. */
static void offset_outside_load_refused(void **state)
{
	static const char *const files[] = {
		"fuzz/regress/elf/dynamic-offset-outside-load.so",
		"fuzz/regress/elf/interp-offset-outside-load.elf",
		"fuzz/regress/elf/relro-offset-mismatch.so",
		"fuzz/regress/elf/tls-offset-mismatch.so",
		/* signed by kxsign before the fix; its relocations were then cut */
		"fuzz/regress/sigsec/exit2-presign-dynamic-outside-load.elf",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct kxsig_region_info regions[KXSIG_MAX_REGIONS];
		struct kx_error serr;
		struct kx_error lerr;
		struct kxelf_image *img = NULL;
		uint8_t *buf;
		size_t len, n;

		read_whole(files[i], &buf, &len);
		assert_int_equal(kxsig_covered_regions(buf, len, regions, &n, &serr),
				 -ENOEXEC);
		assert_non_null(strstr(serr.msg, "would not be signed"));
		assert_int_equal(kxelf_image_parse(buf, len, &img, &lerr), -ENOEXEC);
		assert_non_null(strstr(lerr.msg, "only the PT_LOADs' bytes are signed"));
		assert_null(img);
		free(buf);
	}
}

/* Control: with the region that holds the dynamic section taken out of the
 * map, the same walk reports reads outside it. */
static void check_sees_a_missing_region(void **state)
{
	struct kxsig_region_info regions[KXSIG_MAX_REGIONS], kept[KXSIG_MAX_REGIONS];
	struct elf_reads reads;
	uint8_t *buf;
	size_t len, n, m = 0;

	(void)state;
	read_whole("fuzz/corpus/elf/libkxtest.so", &buf, &len);
	assert_int_equal(kxsig_covered_regions(buf, len, regions, &n, NULL), 0);
	for (size_t i = 0; i < n; i++)
		if (!(regions[i].kind_id == 3 /* KXSIG_REGION_LOAD */ && regions[i].index == 1))
			kept[m++] = regions[i];
	assert_int_equal(m, n - 1);
	assert_true(elf_walk_checked(buf, len, regions, n, &reads));
	assert_int_equal(reads.outside, 0);
	assert_true(elf_walk_checked(buf, len, kept, m, &reads));
	assert_true(reads.outside > 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_read_is_signed),
		cmocka_unit_test(offset_outside_load_refused),
		cmocka_unit_test(check_sees_a_missing_region),
	};

	if (kxsig_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
