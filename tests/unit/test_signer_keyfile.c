/*
 * Unit tests for the key-file parsers (table-driven hostile inputs), key
 * generation (atomic, no overwrite without force, modes) and passphrase-
 * protected secret keys.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "signer/kxsig.h"
#include "signer/kxsig_abi.h"

/* "untrusted comment: <comment>\n<base64 of bin>\n" */
static char *keyfile(const char *comment, const void *bin, size_t len)
{
	size_t b64 = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	size_t size = strlen(comment) + b64 + 32;
	char *text = malloc(size);
	int used;

	assert_non_null(text);
	used = snprintf(text, size, "%s%s\n", KXSIG_ABI_COMMENT_PREFIX, comment);
	sodium_bin2base64(text + used, size - (size_t)used, bin, len,
			  sodium_base64_VARIANT_ORIGINAL);
	strcat(text, "\n");
	return text;
}

static void valid_pubkey(struct kxsig_abi_pubkey *raw)
{
	uint8_t sk[crypto_sign_SECRETKEYBYTES];

	crypto_sign_keypair(raw->pk, sk);
	memcpy(raw->alg, KXSIG_ABI_KEY_ALG, 2);
	crypto_generichash(raw->keyid, sizeof(raw->keyid), raw->pk, sizeof(raw->pk), NULL, 0);
}

static int setup(void **state)
{
	(void)state;
	return kxsig_init() == 0 ? 0 : -1;
}

static void pubkey_valid_and_crlf(void **state)
{
	(void)state;
	struct kxsig_abi_pubkey raw;
	struct kxsig_pubkey key;
	struct kx_error err = {0};
	char *text, crlf[256];

	valid_pubkey(&raw);
	text = keyfile("my key", &raw, sizeof(raw));
	assert_int_equal(kxsig_pubkey_parse(text, strlen(text), &key, &err), 0);
	assert_string_equal(key.comment, "my key");
	assert_memory_equal(key.pk, raw.pk, sizeof(raw.pk));
	assert_memory_equal(key.keyid, raw.keyid, sizeof(raw.keyid));
	/* Windows line ends are tolerated. */
	snprintf(crlf, sizeof(crlf), "%s", text);
	*strchr(crlf, '\n') = '\0';
	snprintf(crlf + strlen(crlf), sizeof(crlf) - strlen(crlf), "\r\n%s", strchr(text, '\n') + 1);
	assert_int_equal(kxsig_pubkey_parse(crlf, strlen(crlf), &key, &err), 0);
	assert_string_equal(key.comment, "my key");
	free(text);
}

/* Each row: a mutation of a valid public key file and the reason expected. */
static void pubkey_hostile(void **state)
{
	(void)state;
	struct kxsig_abi_pubkey raw, bad;
	struct kxsig_pubkey key;
	struct kx_error err = {0};
	char long_comment[400], *good;
	enum { TEXT, BIN_SHORT, BIN_LONG, WRONG_ALG, WRONG_KEYID, COMMENT } kind;
	static const struct {
		int kind;
		const char *text;
		const char *reason;
	} rows[] = {
		{TEXT, "", "empty"},
		{TEXT, "untrusted comment: x", "no key line"},
		{TEXT, "comment: x\nAAAA\n", "does not start with"},
		{TEXT, "untrusted comment: x\n!!!!\n", "not base64"},
		{TEXT, "untrusted comment: x\n\n", "not base64"},
		{TEXT, "untrusted comment: a\x1b[31m\nAAAA\n", "not printable ASCII"},
		{TEXT, "untrusted comment: caf\xc3\xa9\nAAAA\n", "not printable ASCII"},
		{BIN_SHORT, NULL, "not base64 of a 42-byte key"},
		{BIN_LONG, NULL, "not base64 of a 42-byte key"},
		{WRONG_ALG, NULL, "algorithm tag"},
		{WRONG_KEYID, NULL, "key id does not match"},
		{COMMENT, NULL, "comment longer than"},
	};

	valid_pubkey(&raw);
	good = keyfile("x", &raw, sizeof(raw));
	memset(long_comment, 'c', sizeof(long_comment) - 1);
	long_comment[sizeof(long_comment) - 1] = '\0';
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t longer[sizeof(raw) + 1] = {0};
		char *text = NULL;

		kind = rows[i].kind;
		bad = raw;
		switch (kind) {
		case TEXT: text = strdup(rows[i].text); break;
		case BIN_SHORT: text = keyfile("x", &raw, sizeof(raw) - 1); break;
		case BIN_LONG:
			memcpy(longer, &raw, sizeof(raw));
			text = keyfile("x", longer, sizeof(longer));
			break;
		case WRONG_ALG: bad.alg[0] = 'R'; text = keyfile("x", &bad, sizeof(bad)); break;
		case WRONG_KEYID: bad.keyid[3] ^= 1; text = keyfile("x", &bad, sizeof(bad)); break;
		case COMMENT: text = keyfile(long_comment, &raw, sizeof(raw)); break;
		}
		assert_non_null(text);
		assert_int_equal(kxsig_pubkey_parse(text, strlen(text), &key, &err),
				 -ENOEXEC);
		if (!strstr(err.msg, rows[i].reason))
			fail_msg("row %zu: \"%s\" not in \"%s\"", i, rows[i].reason, err.msg);
		free(text);
	}
	/* Text after the key line, and a NUL inside the file. */
	{
		size_t n = strlen(good);
		char *more = malloc(n + 8);

		assert_non_null(more);
		memcpy(more, good, n);
		memcpy(more + n, "extra\n", 7);
		assert_int_equal(kxsig_pubkey_parse(more, n + 6, &key, &err), -ENOEXEC);
		more[5] = '\0';
		assert_int_equal(kxsig_pubkey_parse(more, n, &key, &err), -ENOEXEC);
		free(more);
	}
	free(good);
}

struct tmpdir {
	char path[64];
	char pub[96], sec[96], pw[96];
};

static void tmpdir_make(struct tmpdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/kxsig-keys-XXXXXX");
	assert_non_null(mkdtemp(t->path));
	snprintf(t->pub, sizeof(t->pub), "%s/k.pub", t->path);
	snprintf(t->sec, sizeof(t->sec), "%s/k.sec", t->path);
	snprintf(t->pw, sizeof(t->pw), "%s/pw", t->path);
}

static void tmpdir_remove(struct tmpdir *t)
{
	unlink(t->pub);
	unlink(t->sec);
	unlink(t->pw);
	assert_int_equal(rmdir(t->path), 0); /* no temporary file was left behind */
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *buf = NULL;
	struct kx_error err = {0};

	assert_int_equal(kxsig_read_file(path, 1 << 16, &buf, len, &err), 0);
	return buf;
}

static void keygen_modes_and_overwrite(void **state)
{
	(void)state;
	struct tmpdir t;
	struct kx_error err = {0};
	struct kxsig_pubkey pub, derived;
	struct kxsig_seckey *sec = NULL;
	uint8_t keyid[KXSIG_KEYID_BYTES], first[KXSIG_KEYID_BYTES];
	struct stat st;

	tmpdir_make(&t);
	assert_int_equal(kxsig_keygen(t.pub, t.sec, "ci", KXSIG_KEYGEN_NO_PASSPHRASE, first, &err),
			 0);
	assert_int_equal(stat(t.sec, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(t.pub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* No overwrite without force; the existing key is untouched. */
	assert_int_equal(kxsig_keygen(t.pub, t.sec, "ci", KXSIG_KEYGEN_NO_PASSPHRASE, keyid, &err),
			 -EEXIST);
	assert_non_null(strstr(err.msg, "already exists"));
	assert_int_equal(kxsig_pubkey_load(t.pub, &pub, &err), 0);
	assert_memory_equal(pub.keyid, first, sizeof(first));
	assert_int_equal(kxsig_keygen(t.pub, t.sec, "ci",
				      KXSIG_KEYGEN_NO_PASSPHRASE | KXSIG_KEYGEN_FORCE, keyid, &err),
			 0);
	assert_memory_not_equal(keyid, first, sizeof(first));
	/* The pair matches. */
	assert_int_equal(kxsig_pubkey_load(t.pub, &pub, &err), 0);
	assert_int_equal(kxsig_seckey_open(t.sec, &sec, &err), 0);
	kxsig_seckey_pubkey(sec, &derived);
	assert_memory_equal(derived.pk, pub.pk, sizeof(pub.pk));
	assert_memory_equal(derived.keyid, keyid, sizeof(keyid));
	kxsig_seckey_free(sec);
	tmpdir_remove(&t);
}

static void encrypted_key(void **state)
{
	(void)state;
	struct tmpdir t;
	struct kx_error err = {0};
	struct kxsig_seckey *sec = NULL;
	uint8_t *text;
	size_t len;

	tmpdir_make(&t);
	write_text(t.pw, "correct horse\n");
	setenv("KXSIGN_PASSPHRASE_FILE", t.pw, 1);
	assert_int_equal(kxsig_keygen(t.pub, t.sec, NULL, 0, NULL, &err), 0);
	assert_int_equal(kxsig_seckey_open(t.sec, &sec, &err), 0);
	kxsig_seckey_free(sec);
	sec = NULL;
	text = slurp(t.sec, &len);
	assert_int_equal(kxsig_seckey_parse(text, len, "correct horse", &sec, &err), 0);
	kxsig_seckey_free(sec);
	sec = NULL;
	assert_int_equal(kxsig_seckey_parse(text, len, "wrong", &sec, &err), -EACCES);
	assert_non_null(strstr(err.msg, "wrong passphrase"));
	assert_null(sec);
	assert_int_equal(kxsig_seckey_parse(text, len, NULL, &sec, &err), -EACCES);
	write_text(t.pw, "wrong\n");
	assert_int_equal(kxsig_seckey_open(t.sec, &sec, &err), -EACCES);
	assert_null(sec);
	/* An empty passphrase is refused at keygen. */
	write_text(t.pw, "\n");
	assert_int_equal(kxsig_keygen(t.pub, t.sec, NULL, KXSIG_KEYGEN_FORCE, NULL, &err),
			 -EACCES);
	unsetenv("KXSIGN_PASSPHRASE_FILE");
	free(text);
	tmpdir_remove(&t);
}

/* Each row corrupts one field of a valid unencrypted secret key. */
static void seckey_hostile(void **state)
{
	(void)state;
	struct kxsig_abi_seckey raw;
	struct kxsig_abi_seckey_secret *plain = (struct kxsig_abi_seckey_secret *)raw.secret;
	struct kxsig_seckey *sec = NULL;
	struct kx_error err = {0};
	uint8_t pk[KXSIG_PUBKEY_BYTES];
	static const struct {
		size_t offset;
		uint8_t value;
		const char *reason;
	} rows[] = {
		{offsetof(struct kxsig_abi_seckey, alg), 'X', "algorithm tag"},
		{offsetof(struct kxsig_abi_seckey, kdf), 'Z', "unknown secret-key encryption"},
		{offsetof(struct kxsig_abi_seckey, reserved), 1, "reserved"},
		{offsetof(struct kxsig_abi_seckey, salt), 1, "KDF parameters"},
		{offsetof(struct kxsig_abi_seckey, keyid), 0x55, "key id"},
		{offsetof(struct kxsig_abi_seckey, secret) + 8 + 40, 0x55, "inconsistent"},
	};
	char *text;

	memset(&raw, 0, sizeof(raw));
	memcpy(raw.alg, KXSIG_ABI_KEY_ALG, 2);
	memcpy(raw.kdf, KXSIG_ABI_KDF_NONE, 2);
	crypto_sign_keypair(pk, plain->sk);
	crypto_generichash(raw.keyid, sizeof(raw.keyid), pk, sizeof(pk), NULL, 0);
	memcpy(plain->keyid, raw.keyid, sizeof(raw.keyid));
	text = keyfile("x", &raw, sizeof(raw));
	assert_int_equal(kxsig_seckey_parse(text, strlen(text), NULL, &sec, &err), 0);
	kxsig_seckey_free(sec);
	free(text);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct kxsig_abi_seckey bad = raw;

		((uint8_t *)&bad)[rows[i].offset] ^= rows[i].value;
		text = keyfile("x", &bad, sizeof(bad));
		sec = NULL;
		assert_int_equal(kxsig_seckey_parse(text, strlen(text), NULL, &sec, &err),
				 -ENOEXEC);
		assert_null(sec);
		if (!strstr(err.msg, rows[i].reason))
			fail_msg("row %zu: \"%s\" not in \"%s\"", i, rows[i].reason, err.msg);
		free(text);
	}
	/* Hostile KDF limits are refused before any Argon2id work. */
	memcpy(raw.kdf, KXSIG_ABI_KDF_ARGON2ID, 2);
	raw.opslimit = 3;
	raw.memlimit = (uint64_t)1 << 62;
	text = keyfile("x", &raw, sizeof(raw));
	assert_int_equal(kxsig_seckey_parse(text, strlen(text), "pw", &sec, &err),
			 -ENOEXEC);
	assert_non_null(strstr(err.msg, "limits out of range"));
	free(text);
	sodium_memzero(&raw, sizeof(raw));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pubkey_valid_and_crlf),
		cmocka_unit_test(pubkey_hostile),
		cmocka_unit_test(keygen_modes_and_overwrite),
		cmocka_unit_test(encrypted_key),
		cmocka_unit_test(seckey_hostile),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
