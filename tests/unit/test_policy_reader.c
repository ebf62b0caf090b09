/*
 * The table reader against hostile files: every single-bit and whole-byte
 * flip of a compiled policy (unsigned, signed without a key, signed with the
 * key), every truncation, every body flip with a recomputed digest (the
 * reader must then either refuse or yield a policy that dump, graph, diff
 * and decide handle safely; run under ASan+UBSan by `make test`), admin
 * signatures, kxp_open_file, and the fuzz regression files and seeds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "tests/unit/test_policy_fixture.h"

#define HDR_SIZE sizeof(struct kxp_abi_header)

struct keys {
	char dir[64];
	struct kxsig_seckey *sec[2];
	struct kxsig_pubkey pub[2];
};

static int keys_setup(void **state)
{
	struct keys *k = calloc(1, sizeof(*k));
	struct kx_error err;

	assert_non_null(k);
	assert_int_equal(kxsig_init(), 0);
	snprintf(k->dir, sizeof(k->dir), "/tmp/kxp-reader-XXXXXX");
	assert_non_null(mkdtemp(k->dir));
	for (int i = 0; i < 2; i++) {
		char pub[128], sec[128];
		uint8_t id[KXSIG_KEYID_BYTES];

		snprintf(pub, sizeof(pub), "%s/admin%d.pub", k->dir, i);
		snprintf(sec, sizeof(sec), "%s/admin%d.sec", k->dir, i);
		assert_int_equal(kxsig_keygen(pub, sec, "test admin", KXSIG_KEYGEN_NO_PASSPHRASE, id,
					      &err), 0);
		assert_int_equal(kxsig_seckey_open(sec, &k->sec[i], &err), 0);
		assert_int_equal(kxsig_pubkey_load(pub, &k->pub[i], &err), 0);
		unlink(pub);
		unlink(sec);
	}
	rmdir(k->dir);
	*state = k;
	return 0;
}

static int keys_teardown(void **state)
{
	struct keys *k = *state;

	kxsig_seckey_free(k->sec[0]);
	kxsig_seckey_free(k->sec[1]);
	free(k);
	return 0;
}

static uint8_t *compile_signed(const struct keys *k, int which, size_t *len)
{
	struct fx f;
	struct kx_error err = {{0}};
	uint8_t *buf;

	fx_init(&f);
	buf = fx_compile(&f, len);
	if (which >= 0)
		assert_int_equal(kxp_sign(buf, *len, k->sec[which], &err), 0);
	return buf;
}

/* Bytes an unkeyed open cannot check: the key id and signature of a signed
 * file.  Flips there must leave the tables exactly as compiled. */
static bool unchecked_without_key(size_t i)
{
	return (i >= offsetof(struct kxp_abi_header, admin_keyid) &&
		i < offsetof(struct kxp_abi_header, admin_keyid) + KXP_ABI_KEYID_BYTES) ||
	       i >= offsetof(struct kxp_abi_header, signature);
}

static void flip_all(const uint8_t *clean, size_t len, const struct kxsig_pubkey *key,
		     bool is_signed)
{
	uint8_t *buf = malloc(len);
	size_t opened = 0;

	assert_non_null(buf);
	for (size_t i = 0; i < len; i++) {
		const uint8_t masks[2] = {(uint8_t)(1u << (i % 8)), 0xff};

		for (int m = 0; m < 2; m++) {
			struct kxp_policy *p = NULL;
			struct kx_error err = {{0}};
			int rc;

			memcpy(buf, clean, len);
			buf[i] ^= masks[m];
			rc = kxp_open(buf, len, key, &p, &err);
			if (rc == 0) {
				struct kxp_signature_info sig;

				if (key != NULL || !is_signed || !unchecked_without_key(i))
					fail_msg("flip of byte %zu (mask 0x%02x) was accepted", i,
						 masks[m]);
				/* the result is still correct: same tables, still
				 * reported as unverified */
				assert_memory_equal(p->buf + HDR_SIZE, clean + HDR_SIZE,
						    len - HDR_SIZE);
				kxp_signature(p, &sig);
				assert_true(sig.is_signed);
				assert_false(sig.verified);
				opened++;
				kxp_close(p);
				continue;
			}
			if ((rc != -EBADMSG && rc != -EKEYREJECTED) || err.msg[0] == '\0')
				fail_msg("flip of byte %zu: rc %d '%s'", i, rc, err.msg);
		}
	}
	if (is_signed && key == NULL)
		assert_int_equal(opened, 2 * (KXP_ABI_KEYID_BYTES + KXP_ABI_SIG_BYTES));
	else
		assert_int_equal(opened, 0);
	free(buf);
}

static void bit_flips_unsigned(void **state)
{
	size_t len;
	uint8_t *buf = compile_signed(*state, -1, &len);

	flip_all(buf, len, NULL, false);
	free(buf);
}

static void bit_flips_signed(void **state)
{
	const struct keys *k = *state;
	size_t len;
	uint8_t *buf = compile_signed(k, 0, &len);

	flip_all(buf, len, NULL, true);    /* integrity only */
	flip_all(buf, len, &k->pub[0], true); /* with the admin key: everything */
	free(buf);
}

static void truncations_refused(void **state)
{
	size_t len;
	uint8_t *buf = compile_signed(*state, -1, &len);

	for (size_t n = 0; n < len; n++) {
		struct kxp_policy *p = NULL;
		struct kx_error err = {{0}};
		uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees overreads */

		assert_non_null(copy);
		memcpy(copy, buf, n);
		assert_int_equal(kxp_open(copy, n, NULL, &p, &err), -EBADMSG);
		assert_null(p);
		free(copy);
	}
	free(buf);
}

/* Exercise everything a caller may do with an open policy. */
static void use_policy(const struct kxp_policy *p, const struct kxp_policy *clean, FILE *sink)
{
	static const char *const requests[] = {
		"boot app=kvstore signer=a1a1a1a1a1a1a1a1",
		"link app=kvstore lib=libshared version=2.1.5 signer=a1a1a1a1a1a1a1a1 loader=app",
		"update app=webcache lib=libhttp version=2 old-version=1 signer=cdcdcdcdcdcdcdcd",
		"fork app=kvstore-backup", "ipc app=kvstore peer=kvstore-backup kind=msgq",
		"ipc app=webcache peer=webcache kind=shm family=same",
		"recycle app=kvstore signer=1c1c1c1c1c1c1c1c",
	};
	bool differ;
	struct kx_error err;

	assert_int_equal(kxp_dump(sink, p, false), 0);
	assert_int_equal(kxp_dump(sink, p, true), 0);
	assert_int_equal(kxp_graph(sink, p), 0);
	assert_int_equal(kxp_diff(sink, clean, p, &differ, &err), 0);
	for (size_t r = 0; r < sizeof(requests) / sizeof(requests[0]); r++) {
		struct kxp_request req;
		struct kxp_decision d;
		char *words = NULL;

		assert_int_equal(fx_request(requests[r], &req, &words, &err), 0);
		assert_int_equal(kxp_decide(p, &req, &d), 0);
		free(words);
	}
}

static void resealed_flips_are_safe(void **state)
{
	size_t len, opened = 0, refused = 0;
	uint8_t *clean = compile_signed(*state, -1, &len);
	uint8_t *buf = malloc(len);
	struct kxp_policy *ref = NULL;
	struct kx_error err = {{0}};
	FILE *sink = fopen("/dev/null", "w");

	assert_non_null(buf);
	assert_non_null(sink);
	assert_int_equal(kxp_open(clean, len, NULL, &ref, &err), 0);
	for (size_t i = HDR_SIZE; i < len; i++) {
		struct kxp_abi_header *h = (struct kxp_abi_header *)buf;
		struct kxp_policy *p = NULL;

		memcpy(buf, clean, len);
		buf[i] ^= (uint8_t)(1u << (i % 8));
		crypto_generichash(h->body_digest, sizeof(h->body_digest), buf + HDR_SIZE,
				   len - HDR_SIZE, NULL, 0);
		if (kxp_open(buf, len, NULL, &p, &err) != 0) {
			refused++;
			continue;
		}
		opened++;
		use_policy(p, ref, sink);
		kxp_close(p);
	}
	print_message("resealed flips: %zu refused, %zu opened (values changed)\n", refused,
		      opened);
	assert_true(refused > 0);
	kxp_close(ref);
	fclose(sink);
	free(buf);
	free(clean);
}

static void admin_signatures(void **state)
{
	const struct keys *k = *state;
	struct kxp_policy *p = NULL;
	struct kx_error err = {{0}};
	struct kxp_signature_info sig;
	size_t len, ulen;
	uint8_t *buf = compile_signed(k, 0, &len), *unsigned_buf = compile_signed(k, -1, &ulen);
	char want[2 * KXSIG_KEYID_BYTES + 1];

	assert_int_equal(kxp_open(buf, len, &k->pub[0], &p, &err), 0);
	kxp_signature(p, &sig);
	assert_true(sig.is_signed && sig.verified);
	assert_memory_equal(sig.keyid, k->pub[0].keyid, KXSIG_KEYID_BYTES);
	kxp_close(p);
	/* signing does not touch the body */
	assert_memory_equal(buf + HDR_SIZE, unsigned_buf + HDR_SIZE, len - HDR_SIZE);

	assert_int_equal(kxp_open(buf, len, &k->pub[1], &p, &err), -EKEYREJECTED);
	kxsig_keyid_hex(k->pub[1].keyid, want);
	assert_non_null(strstr(err.msg, "not by the admin key"));
	assert_non_null(strstr(err.msg, want));

	assert_int_equal(kxp_open(unsigned_buf, ulen, &k->pub[0], &p, &err), -EKEYREJECTED);
	assert_non_null(strstr(err.msg, "policy is not signed"));

	/* a forged key id: the claimed key, the wrong signature */
	memcpy(((struct kxp_abi_header *)buf)->admin_keyid, k->pub[1].keyid, KXSIG_KEYID_BYTES);
	assert_int_equal(kxp_open(buf, len, &k->pub[1], &p, &err), -EKEYREJECTED);
	assert_non_null(strstr(err.msg, "does not verify"));
	free(buf);

	/* changed tables with a recomputed digest: the signature covers the digest */
	buf = compile_signed(k, 0, &len);
	buf[len - 1] ^= 1;
	crypto_generichash(((struct kxp_abi_header *)buf)->body_digest, KXP_ABI_DIGEST_BYTES,
			   buf + HDR_SIZE, len - HDR_SIZE, NULL, 0);
	assert_int_equal(kxp_open(buf, len, &k->pub[0], &p, &err), -EKEYREJECTED);
	assert_null(p);
	free(buf);
	free(unsigned_buf);
}

static void open_file_errors(void **state)
{
	struct kxp_policy *p = NULL;
	struct kx_error err = {{0}};
	char path[] = "/tmp/kxp-open-XXXXXX";
	size_t len;
	uint8_t *buf = compile_signed(*state, -1, &len);
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	assert_int_equal(kxp_open_file(path, NULL, &p, &err), 0);
	assert_int_equal(p->napps, 3);
	kxp_close(p);
	assert_int_equal(truncate(path, (off_t)len - 1), 0);
	assert_int_equal(kxp_open_file(path, NULL, &p, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, path));
	unlink(path);
	assert_int_equal(kxp_open_file(path, NULL, &p, &err), -EIO);
	assert_non_null(strstr(err.msg, path));
	assert_int_equal(kxp_open_file("/tmp", NULL, &p, &err), -EIO);
	assert_null(p);
	free(buf);
}

/* fuzz/regress/kxp holds one hostile file per class of check (fuzz/gen/
 * kxp.py): every one refused as corrupt; the seeds of fuzz/corpus/kxp open. */
static void regression_files(void **state)
{
	static const struct {
		const char *dir;
		int rc;
	} sets[] = {{"fuzz/regress/kxp", -EBADMSG}, {"fuzz/corpus/kxp", 0}};

	(void)state;
	for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
		DIR *d = opendir(sets[s].dir);
		struct dirent *e;
		size_t seen = 0;

		assert_non_null(d);
		while ((e = readdir(d)) != NULL) {
			struct kxp_policy *p = NULL;
			struct kx_error err = {{0}};
			char path[512];
			int rc;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", sets[s].dir, e->d_name);
			rc = kxp_open_file(path, NULL, &p, &err);
			if (rc != sets[s].rc)
				fail_msg("%s: %d (%s), expected %d", path, rc, err.msg, sets[s].rc);
			kxp_close(p);
			seen++;
		}
		closedir(d);
		assert_true(seen >= 3);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bit_flips_unsigned),
		cmocka_unit_test(bit_flips_signed),
		cmocka_unit_test(truncations_refused),
		cmocka_unit_test(resealed_flips_are_safe),
		cmocka_unit_test(admin_signatures),
		cmocka_unit_test(open_file_errors),
		cmocka_unit_test(regression_files),
	};
	return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
