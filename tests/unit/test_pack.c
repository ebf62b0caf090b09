/*
 * test_pack.c — the reader of the image's packed file tree
 * (guest/kx_pack.c, guest/kx_pack_abi.h), table-driven: a well-formed pack
 * reads back entry by entry; every kind of hostile pack (header, table,
 * mount point, paths, order, parents, kinds, ranges, overflow) is refused
 * with its own reason, so a check that went missing shows here; the fuzz
 * seeds (fuzz/corpus/pack, made by kx-pack) open and the regression files
 * (fuzz/regress/pack) do not.  Run from the repository root.
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

#include "guest/kx_pack_abi.h"

struct ent {
	const char *path;
	uint32_t mode;
	const char *data; /* files */
};

#define DIR_ (KX_PACK_DIR | 0755)
#define REG_ (KX_PACK_REG | 0644)

static unsigned char buf[8192];

/* A pack of ents (in the order given) mounted at mount; its length. */
static size_t make(const char *mount, const struct ent *ents, size_t n)
{
	struct kx_pack_hdr h = {.version = KX_PACK_VERSION, .count = (uint32_t)n};
	size_t at = sizeof(h) + n * sizeof(struct kx_pack_entry);

	memset(buf, 0, sizeof(buf));
	memcpy(h.magic, KX_PACK_MAGIC, sizeof(h.magic));
	h.mount_off = (uint32_t)at;
	h.mount_len = (uint32_t)strlen(mount);
	memcpy(buf + at, mount, h.mount_len);
	at += h.mount_len;
	for (size_t i = 0; i < n; i++) {
		struct kx_pack_entry e = {.mode = ents[i].mode};

		e.path_off = (uint32_t)at;
		e.path_len = (uint32_t)strlen(ents[i].path);
		memcpy(buf + at, ents[i].path, e.path_len);
		at += e.path_len;
		if (ents[i].data) {
			e.data_off = at;
			e.data_size = strlen(ents[i].data);
			memcpy(buf + at, ents[i].data, e.data_size);
			at += e.data_size;
		}
		memcpy(buf + sizeof(h) + i * sizeof(e), &e, sizeof(e));
	}
	h.size = at;
	memcpy(buf, &h, sizeof(h));
	return at;
}

static const struct ent good[] = {
	{"a", DIR_, NULL},
	{"a-z", REG_, ""}, /* '-' sorts before '/': between a and its children */
	{"a/b.txt", REG_, "bee"},
	{"a/c", DIR_, NULL},
	{"a/c/d", REG_ | 0111, "deep"},
	{"e", REG_, "top"},
};

static void test_good_pack_reads_back(void **state)
{
	size_t len = make("/etc/app", good, 6);
	struct kx_pack p;
	const char *why;

	(void)state;
	assert_int_equal(kx_pack_open(&p, buf, len, &why), 0);
	assert_int_equal(p.count, 6);
	assert_int_equal(p.mount_len, 8);
	assert_memory_equal(p.mount, "/etc/app", 8);
	for (uint32_t i = 0; i < 6; i++) {
		struct kx_pack_item it;

		kx_pack_item(&p, i, &it);
		assert_int_equal(it.path_len, strlen(good[i].path));
		assert_memory_equal(it.path, good[i].path, it.path_len);
		assert_int_equal(it.mode, good[i].mode);
		if (good[i].data) {
			assert_non_null(it.data);
			assert_int_equal(it.size, strlen(good[i].data));
			assert_memory_equal(it.data, good[i].data, it.size);
		} else {
			assert_null(it.data);
		}
	}
	/* A longer buffer (section padding) is fine; the header's size rules. */
	assert_int_equal(kx_pack_open(&p, buf, len + 16, &why), 0);
	/* An empty tree is a tree. */
	len = make("/x", good, 0);
	assert_int_equal(kx_pack_open(&p, buf, len, &why), 0);
	assert_int_equal(p.count, 0);
}

static void expect_refused(size_t len, const char *why_want)
{
	struct kx_pack p;
	const char *why = NULL;

	assert_int_equal(kx_pack_open(&p, buf, len, &why), -EBADMSG);
	assert_non_null(why);
	if (strstr(why, why_want) == NULL)
		fail_msg("want \"%s\", got \"%s\"", why_want, why);
}

static void put32(size_t at, uint32_t v)
{
	memcpy(buf + at, &v, 4);
}

static void put64(size_t at, uint64_t v)
{
	memcpy(buf + at, &v, 8);
}

#define ENTRY(i, field) (sizeof(struct kx_pack_hdr) + (i) * sizeof(struct kx_pack_entry) + \
			 offsetof(struct kx_pack_entry, field))

static void test_hostile_headers(void **state)
{
	size_t len;

	(void)state;
	expect_refused(0, "shorter than the pack header");
	len = make("/m", good, 6);
	expect_refused(31, "shorter than the pack header");
	buf[0] = 'X';
	expect_refused(len, "magic");
	len = make("/m", good, 6);
	put32(offsetof(struct kx_pack_hdr, version), 2);
	expect_refused(len, "version");
	len = make("/m", good, 6);
	expect_refused(len - 1, "the header's size");
	put64(offsetof(struct kx_pack_hdr, size), 8);
	expect_refused(len, "the header's size");
	len = make("/m", good, 6);
	put32(offsetof(struct kx_pack_hdr, count), KX_PACK_COUNT_MAX + 1);
	expect_refused(len, "too many entries");
	put32(offsetof(struct kx_pack_hdr, count), 1000);
	expect_refused(len, "the entry table");
	len = make("/m", good, 6);
	put32(offsetof(struct kx_pack_hdr, mount_off), 0xfffffff0u);
	expect_refused(len, "the mount point lies outside");
}

static void test_hostile_mount_points(void **state)
{
	static const char *bad[] = {"/", "", "m", "/a/", "/a//b", "/a/./b", "/a/..", "/..", "//a"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(make(bad[i], good, 6), "the mount point is not");
}

static void test_hostile_paths(void **state)
{
	static const char *bad[] = {".", "..", "a/.", "a/../b", "/a", "a/", "a//b", ""};
	char longname[KX_PACK_NAME_MAX + 2];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ent e[] = {{"a", DIR_, NULL}, {bad[i], REG_, "x"}};

		/* "" sorts first: give it alone */
		if (bad[i][0] == '\0')
			expect_refused(make("/m", &e[1], 1), "path is not a normalised");
		else
			expect_refused(make("/m", e, 2), "path is not a normalised");
	}
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	{
		struct ent e[] = {{longname, REG_, "x"}};

		expect_refused(make("/m", e, 1), "path is not a normalised");
	}
	/* a NUL inside a path */
	len = make("/m", good, 6);
	buf[sizeof(struct kx_pack_hdr) + 6 * sizeof(struct kx_pack_entry) + 2 + 1 + 3 + 1] = '\0';
	expect_refused(len, "path is not a normalised");
	/* a path outside the pack, and one whose end wraps */
	len = make("/m", good, 6);
	put32(ENTRY(1, path_len), 0x7fffffffu);
	expect_refused(len, "path lies outside");
}

static void test_hostile_order_and_parents(void **state)
{
	struct ent unsorted[] = {{"b", REG_, "x"}, {"a", REG_, "y"}};
	struct ent twice[] = {{"a", REG_, "x"}, {"a", REG_, "y"}};
	struct ent orphan[] = {{"a", DIR_, NULL}, {"b/c", REG_, "x"}};
	struct ent file_parent[] = {{"a", REG_, "x"}, {"a/c", REG_, "y"}};
	struct ent deep_orphan[] = {{"a", DIR_, NULL}, {"a/b/c", REG_, "y"}};

	(void)state;
	expect_refused(make("/m", unsorted, 2), "not sorted");
	expect_refused(make("/m", twice, 2), "not sorted");
	expect_refused(make("/m", orphan, 2), "directory is not in the pack");
	expect_refused(make("/m", file_parent, 2), "directory is not in the pack");
	expect_refused(make("/m", deep_orphan, 2), "directory is not in the pack");
}

static void test_hostile_kinds_and_ranges(void **state)
{
	struct ent link[] = {{"a", 0120000u | 0777, "target"}};
	struct ent suid[] = {{"a", KX_PACK_REG | 04755, "x"}};
	size_t len;

	(void)state;
	expect_refused(make("/m", link, 1), "neither a directory nor a regular file");
	expect_refused(make("/m", suid, 1), "neither a directory nor a regular file");
	len = make("/m", good, 6);
	put64(ENTRY(0, data_size), 1); /* "a" */
	expect_refused(len, "a directory entry has data");
	len = make("/m", good, 6);
	put64(ENTRY(2, data_size), len); /* "a/b.txt" */
	expect_refused(len, "a file's bytes lie outside");
	len = make("/m", good, 6);
	put64(ENTRY(2, data_off), UINT64_MAX - 1); /* off + size wraps */
	expect_refused(len, "a file's bytes lie outside");
	len = make("/m", good, 6);
	put32(ENTRY(2, reserved), 1);
	expect_refused(len, "reserved");
}

/* Every file of dir opens (want 0) or is refused (want -EBADMSG). */
static void replay(const char *dir, int want)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	assert_non_null(dp);
	while ((d = readdir(dp)) != NULL) {
		char path[512];
		struct kx_pack p;
		const char *why;
		size_t len;
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (kx_pack_open(&p, buf, len, &why) != want)
			fail_msg("%s: want %d (%s)", path, want, why);
		n++;
	}
	closedir(dp);
	assert_true(n >= 2);
}

static void test_corpus_and_regressions(void **state)
{
	(void)state;
	replay("fuzz/corpus/pack", 0);
	replay("fuzz/regress/pack", -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_pack_reads_back),
		cmocka_unit_test(test_hostile_headers),
		cmocka_unit_test(test_hostile_mount_points),
		cmocka_unit_test(test_hostile_paths),
		cmocka_unit_test(test_hostile_order_and_parents),
		cmocka_unit_test(test_hostile_kinds_and_ranges),
		cmocka_unit_test(test_corpus_and_regressions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
