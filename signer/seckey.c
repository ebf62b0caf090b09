/*
 * Secret keys: parse, decrypt, generate, write.  A secret key file is
 * untrusted input like any other (its KDF limits are capped before use), and
 * every byte of key material, plain key-file text and derived key lives in
 * sodium_malloc memory that is wiped on every path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "signer/sign_internal.h"

_Static_assert(KXSIG_ABI_SK_BYTES == crypto_sign_SECRETKEYBYTES, "Ed25519 secret key size");
_Static_assert(KXSIG_ABI_SALT_BYTES == crypto_pwhash_SALTBYTES, "salt size");
_Static_assert(KXSIG_ABI_NONCE_BYTES == crypto_secretbox_NONCEBYTES, "nonce size");
_Static_assert(KXSIG_ABI_MAC_BYTES == crypto_secretbox_MACBYTES, "mac size");

/* Text of a key file: comment line, base64 line, NUL. */
#define KEYFILE_TEXT_MAX \
	(sizeof(KXSIG_ABI_COMMENT_PREFIX) + KXSIG_COMMENT_MAX + 2 + \
	 sodium_base64_ENCODED_LEN(sizeof(struct kxsig_abi_seckey), sodium_base64_VARIANT_ORIGINAL))

static int is_zero(const void *p, size_t n)
{
	return sodium_is_zero(p, n);
}

/* Field checks that need no passphrase (so the fuzzer reaches them all). */
static int check_header(const struct kxsig_abi_seckey *raw, int *encrypted,
			struct kx_error *err)
{
	if (memcmp(raw->alg, KXSIG_ABI_KEY_ALG, sizeof(raw->alg)) != 0)
		return kx_err(err, -ENOEXEC,
			      "not an Ed25519 kxsign secret key (algorithm tag)");
	if (!is_zero(raw->reserved, sizeof(raw->reserved)))
		return kx_err(err, -ENOEXEC, "secret key: reserved bytes not zero");
	if (memcmp(raw->kdf, KXSIG_ABI_KDF_NONE, sizeof(raw->kdf)) == 0) {
		*encrypted = 0;
		if (!is_zero(raw->salt, sizeof(raw->salt)) || raw->opslimit || raw->memlimit ||
		    !is_zero(raw->nonce, sizeof(raw->nonce)) || !is_zero(raw->mac, sizeof(raw->mac)))
			return kx_err(err, -ENOEXEC,
				      "unencrypted secret key with KDF parameters");
		return 0;
	}
	if (memcmp(raw->kdf, KXSIG_ABI_KDF_ARGON2ID, sizeof(raw->kdf)) != 0)
		return kx_err(err, -ENOEXEC, "unknown secret-key encryption");
	*encrypted = 1;
	/* Hostile limits could make loading a key take minutes or gigabytes. */
	if (raw->opslimit < crypto_pwhash_OPSLIMIT_MIN ||
	    raw->opslimit > crypto_pwhash_OPSLIMIT_SENSITIVE ||
	    raw->memlimit < crypto_pwhash_MEMLIMIT_MIN ||
	    raw->memlimit > crypto_pwhash_MEMLIMIT_SENSITIVE)
		return kx_err(err, -ENOEXEC,
			      "secret key: Argon2id limits out of range (ops %llu, mem %llu)",
			      (unsigned long long)raw->opslimit,
			      (unsigned long long)raw->memlimit);
	return 0;
}

/* The secretbox under the Argon2id key of passphrase and raw's KDF
 * parameters: seal plain into raw->secret and raw->mac, or open them into
 * plain (-EACCES if the MAC does not match). */
static int passphrase_box(struct kxsig_abi_seckey *raw, const char *passphrase,
			  struct kxsig_abi_seckey_secret *plain, int seal, struct kx_error *err)
{
	uint8_t *boxkey = NULL;
	int rc;

	if (!passphrase) {
		rc = kx_err(err, -EACCES, "secret key is encrypted: no passphrase");
		goto out;
	}
	boxkey = sodium_malloc(crypto_secretbox_KEYBYTES);
	if (!boxkey) {
		rc = kx_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (crypto_pwhash(boxkey, crypto_secretbox_KEYBYTES, passphrase, strlen(passphrase),
			  raw->salt, raw->opslimit, (size_t)raw->memlimit,
			  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		rc = kx_err(err, -ENOMEM, "Argon2id failed (out of memory?)");
		goto out;
	}
	if (seal) {
		crypto_secretbox_detached(raw->secret, raw->mac, (const uint8_t *)plain,
					  sizeof(raw->secret), raw->nonce, boxkey);
	} else if (crypto_secretbox_open_detached((uint8_t *)plain, raw->secret, raw->mac,
						  sizeof(raw->secret), raw->nonce, boxkey) != 0) {
		rc = kx_err(err, -EACCES,
			    "wrong passphrase (or a corrupted secret key file)");
		goto out;
	}
	rc = 0;
out:
	sodium_free(boxkey);
	return rc;
}

/* The plain secret must regenerate the same public key and key id. */
static int check_secret(const struct kxsig_abi_seckey *raw,
			const struct kxsig_abi_seckey_secret *plain, struct kxsig_seckey *key,
			struct kx_error *err)
{
	uint8_t keyid[KXSIG_KEYID_BYTES];

	if (crypto_sign_seed_keypair(key->pk, key->sk, plain->sk) != 0 ||
	    sodium_memcmp(key->sk, plain->sk, sizeof(key->sk)) != 0)
		return kx_err(err, -ENOEXEC,
			      "secret key is inconsistent (corrupted key file)");
	kxsig_keyid_of(key->pk, keyid);
	if (memcmp(keyid, raw->keyid, sizeof(keyid)) != 0 ||
	    memcmp(plain->keyid, raw->keyid, sizeof(keyid)) != 0)
		return kx_err(err, -ENOEXEC,
			      "secret key does not match its key id (corrupted key file)");
	memcpy(key->keyid, keyid, sizeof(keyid));
	return 0;
}

int kxsig_seckey_parse(const void *buf, size_t len, const char *passphrase,
		       struct kxsig_seckey **out, struct kx_error *err)
{
	struct kxsig_abi_seckey *raw = NULL;
	struct kxsig_abi_seckey_secret *plain = NULL;
	struct kxsig_seckey *key = NULL;
	int encrypted = 0, rc;

	*out = NULL;
	raw = sodium_malloc(sizeof(*raw));
	plain = sodium_malloc(sizeof(*plain));
	key = sodium_malloc(sizeof(*key));
	if (!raw || !plain || !key) {
		rc = kx_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	memset(key, 0, sizeof(*key));
	rc = kxsig_keyfile_decode(buf, len, raw, sizeof(*raw), key->comment, err);
	if (!rc)
		rc = check_header(raw, &encrypted, err);
	if (rc)
		goto out;
	if (encrypted)
		rc = passphrase_box(raw, passphrase, plain, 0, err);
	else
		memcpy(plain, raw->secret, sizeof(*plain));
	if (!rc)
		rc = check_secret(raw, plain, key, err);
	if (rc)
		goto out;
	sodium_mprotect_readonly(key);
	*out = key;
	key = NULL;
out:
	sodium_free(key);
	sodium_free(plain);
	sodium_free(raw);
	return rc;
}

int kxsig_seckey_open(const char *path, struct kxsig_seckey **out, struct kx_error *err)
{
	struct kxsig_abi_seckey *raw = NULL;
	char *passphrase = NULL;
	char comment[KXSIG_COMMENT_MAX + 1];
	uint8_t *buf = NULL;
	size_t len = 0;
	int encrypted = 0, rc;

	*out = NULL;
	rc = kxsig_read_file(path, KXSIG_KEYFILE_MAX, &buf, &len, err);
	if (rc)
		goto out;
	raw = sodium_malloc(sizeof(*raw));
	passphrase = sodium_malloc(KXSIG_PASSPHRASE_MAX);
	if (!raw || !passphrase) {
		rc = kx_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* Decode once to learn whether a passphrase is needed at all. */
	rc = kxsig_keyfile_decode(buf, len, raw, sizeof(*raw), comment, err);
	if (!rc)
		rc = check_header(raw, &encrypted, err);
	if (!rc && encrypted)
		rc = kxsig_passphrase_get(passphrase, KXSIG_PASSPHRASE_MAX, 0, err);
	if (!rc)
		rc = kxsig_seckey_parse(buf, len, encrypted ? passphrase : NULL, out, err);
out:
	sodium_free(passphrase);
	sodium_free(raw);
	if (buf)
		sodium_memzero(buf, len);
	free(buf);
	return rc;
}

void kxsig_seckey_free(struct kxsig_seckey *key)
{
	sodium_free(key); /* wipes; NULL is fine */
}

void kxsig_seckey_keyid(const struct kxsig_seckey *key, uint8_t out[KXSIG_KEYID_BYTES])
{
	memcpy(out, key->keyid, KXSIG_KEYID_BYTES);
}

void kxsig_seckey_pubkey(const struct kxsig_seckey *key, struct kxsig_pubkey *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->keyid, key->keyid, sizeof(out->keyid));
	memcpy(out->pk, key->pk, sizeof(out->pk));
	memcpy(out->comment, key->comment, sizeof(out->comment));
}

/* ---- generation --------------------------------------------------------- */

/* "untrusted comment: <comment>\n<base64>\n" into text (KEYFILE_TEXT_MAX). */
static size_t keyfile_encode(char *text, const char *comment, const void *bin, size_t len)
{
	size_t used;

	used = (size_t)snprintf(text, KEYFILE_TEXT_MAX, "%s%s\n", KXSIG_ABI_COMMENT_PREFIX, comment);
	sodium_bin2base64(text + used, KEYFILE_TEXT_MAX - used, bin, len,
			  sodium_base64_VARIANT_ORIGINAL);
	used += strlen(text + used);
	text[used++] = '\n';
	text[used] = '\0';
	return used;
}

/* Fill raw->secret (encrypted under passphrase, or plain when NULL). */
static int seal(struct kxsig_abi_seckey *raw, struct kxsig_abi_seckey_secret *plain,
		const char *passphrase, struct kx_error *err)
{
	if (!passphrase) {
		memcpy(raw->kdf, KXSIG_ABI_KDF_NONE, sizeof(raw->kdf));
		memcpy(raw->secret, plain, sizeof(raw->secret));
		return 0;
	}
	memcpy(raw->kdf, KXSIG_ABI_KDF_ARGON2ID, sizeof(raw->kdf));
	randombytes_buf(raw->salt, sizeof(raw->salt));
	randombytes_buf(raw->nonce, sizeof(raw->nonce));
	raw->opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	raw->memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	return passphrase_box(raw, passphrase, plain, 1, err);
}

static int refuse_existing(const char *path, unsigned flags, struct kx_error *err)
{
	struct stat st;

	if ((flags & KXSIG_KEYGEN_FORCE) || lstat(path, &st) != 0)
		return 0;
	return kx_err(err, -EEXIST, "%s already exists (use -f to overwrite)", path);
}

int kxsig_keygen(const char *pub_path, const char *sec_path, const char *comment,
		 unsigned flags, uint8_t keyid_out[KXSIG_KEYID_BYTES], struct kx_error *err)
{
	struct kxsig_abi_seckey *raw = NULL;
	struct kxsig_abi_seckey_secret *plain = NULL;
	struct kxsig_abi_pubkey pub;
	char *passphrase = NULL, *text = NULL, hex[2 * KXSIG_KEYID_BYTES + 1];
	char pubtext[KEYFILE_TEXT_MAX], seccomment[KXSIG_COMMENT_MAX + 1];
	int overwrite = (flags & KXSIG_KEYGEN_FORCE) != 0, wrote_sec = 0, rc;
	size_t len;

	if (!comment)
		comment = "kxsign key";
	if (!kxsig_text_ok(comment, KXSIG_COMMENT_MAX - 40)) {
		rc = kx_err(err, -EINVAL,
			    "comment must be at most %d printable ASCII characters", KXSIG_COMMENT_MAX - 40);
		goto out;
	}
	rc = refuse_existing(pub_path, flags, err);
	if (!rc)
		rc = refuse_existing(sec_path, flags, err);
	if (rc)
		goto out;
	raw = sodium_malloc(sizeof(*raw));
	plain = sodium_malloc(sizeof(*plain));
	passphrase = sodium_malloc(KXSIG_PASSPHRASE_MAX);
	text = sodium_malloc(KEYFILE_TEXT_MAX);
	if (!raw || !plain || !passphrase || !text) {
		rc = kx_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (!(flags & KXSIG_KEYGEN_NO_PASSPHRASE)) {
		rc = kxsig_passphrase_get(passphrase, KXSIG_PASSPHRASE_MAX, 1, err);
		if (!rc && passphrase[0] == '\0')
			rc = kx_err(err, -EACCES,
				    "empty passphrase (use --no-passphrase for an unencrypted key)");
		if (rc)
			goto out;
	}
	memset(raw, 0, sizeof(*raw));
	memcpy(raw->alg, KXSIG_ABI_KEY_ALG, sizeof(raw->alg));
	crypto_sign_keypair(pub.pk, plain->sk);
	memcpy(pub.alg, KXSIG_ABI_KEY_ALG, sizeof(pub.alg));
	kxsig_keyid_of(pub.pk, pub.keyid);
	memcpy(raw->keyid, pub.keyid, sizeof(raw->keyid));
	memcpy(plain->keyid, pub.keyid, sizeof(plain->keyid));
	rc = seal(raw, plain, (flags & KXSIG_KEYGEN_NO_PASSPHRASE) ? NULL : passphrase, err);
	if (rc)
		goto out;
	kxsig_keyid_hex(pub.keyid, hex);
	snprintf(seccomment, sizeof(seccomment), "kxsign secret key %s (%s)", hex,
		 (flags & KXSIG_KEYGEN_NO_PASSPHRASE) ? "unencrypted" : "encrypted");
	len = keyfile_encode(text, seccomment, raw, sizeof(*raw));
	rc = kxsig_write_file_atomic(sec_path, text, len, 0600, overwrite, err);
	if (rc)
		goto out;
	wrote_sec = 1;
	snprintf(seccomment, sizeof(seccomment), "%s %s", comment, hex);
	len = keyfile_encode(pubtext, seccomment, &pub, sizeof(pub));
	rc = kxsig_write_file_atomic(pub_path, pubtext, len, 0644, overwrite, err);
	if (rc)
		goto out;
	if (keyid_out)
		memcpy(keyid_out, pub.keyid, sizeof(pub.keyid));
out:
	/* Never leave a secret key without its public half from this run. */
	if (rc && wrote_sec && !overwrite)
		unlink(sec_path);
	sodium_free(text);
	sodium_free(passphrase);
	sodium_free(plain);
	sodium_free(raw);
	return rc;
}
