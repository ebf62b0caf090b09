/*
 * Key-file text (shared by public and secret keys) and public keys.
 *
 * A key file is "untrusted comment: <text>\n" followed by one line of
 * standard base64 of a fixed-size struct (kxsig_abi.h).  The parsers take
 * untrusted (buf, len): nothing is assumed about line lengths, NULs or
 * encodings, and anything but exactly that shape is refused.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "signer/internal.h"

void kxsig_keyid_of(const uint8_t pk[KXSIG_PUBKEY_BYTES], uint8_t keyid[KXSIG_KEYID_BYTES])
{
	crypto_generichash(keyid, KXSIG_KEYID_BYTES, pk, KXSIG_PUBKEY_BYTES, NULL, 0);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int kxsig_keyfile_decode(const void *buf, size_t len, void *out, size_t want,
			 char comment[KXSIG_COMMENT_MAX + 1], struct kx_error *err)
{
	static const char prefix[] = KXSIG_ABI_COMMENT_PREFIX;
	const char *text = buf, *nl, *b64, *b64_end, *end_of_b64 = NULL;
	size_t comment_len, bin_len = 0;

	if (len == 0)
		return kx_err(err, -ENOEXEC, "empty key file");
	if (len > KXSIG_KEYFILE_MAX)
		return kx_err(err, -ENOEXEC, "key file too large (%zu bytes)", len);
	if (memchr(text, '\0', len))
		return kx_err(err, -ENOEXEC, "key file contains a NUL byte");
	if (len < sizeof(prefix) - 1 || memcmp(text, prefix, sizeof(prefix) - 1) != 0)
		return kx_err(err, -ENOEXEC,
			      "key file does not start with \"%s\"", prefix);
	nl = memchr(text, '\n', len);
	if (!nl)
		return kx_err(err, -ENOEXEC, "key file has no key line");
	comment_len = (size_t)(nl - text) - (sizeof(prefix) - 1);
	if (comment_len > 0 && nl[-1] == '\r')
		comment_len--;
	if (comment_len > KXSIG_COMMENT_MAX)
		return kx_err(err, -ENOEXEC, "key file comment longer than %d bytes",
			      KXSIG_COMMENT_MAX);
	memcpy(comment, text + sizeof(prefix) - 1, comment_len);
	comment[comment_len] = '\0';
	if (!kxsig_text_ok(comment, KXSIG_COMMENT_MAX))
		return kx_err(err, -ENOEXEC,
			      "key file comment is not printable ASCII");
	b64 = nl + 1;
	b64_end = memchr(b64, '\n', len - (size_t)(b64 - text));
	if (!b64_end)
		b64_end = text + len;
	while (b64_end > b64 && is_space(b64_end[-1]))
		b64_end--;
	/* Only blank space may follow the key line. */
	for (const char *p = b64_end; p < text + len; p++)
		if (!is_space(*p))
			return kx_err(err, -ENOEXEC,
				      "unexpected text after the key line");
	if (sodium_base642bin(out, want, b64, (size_t)(b64_end - b64), NULL, &bin_len,
			      &end_of_b64, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end_of_b64 != b64_end || bin_len != want)
		return kx_err(err, -ENOEXEC,
			      "key line is not base64 of a %zu-byte key", want);
	return 0;
}

int kxsig_pubkey_parse(const void *buf, size_t len, struct kxsig_pubkey *out,
		       struct kx_error *err)
{
	struct kxsig_abi_pubkey raw;
	uint8_t keyid[KXSIG_KEYID_BYTES];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = kxsig_keyfile_decode(buf, len, &raw, sizeof(raw), out->comment, err);
	if (rc)
		return rc;
	if (memcmp(raw.alg, KXSIG_ABI_KEY_ALG, sizeof(raw.alg)) != 0)
		return kx_err(err, -ENOEXEC,
			      "not an Ed25519 kxsign public key (algorithm tag)");
	kxsig_keyid_of(raw.pk, keyid);
	if (memcmp(keyid, raw.keyid, sizeof(keyid)) != 0)
		return kx_err(err, -ENOEXEC,
			      "key id does not match the public key");
	memcpy(out->keyid, raw.keyid, sizeof(out->keyid));
	memcpy(out->pk, raw.pk, sizeof(out->pk));
	return 0;
}

int kxsig_pubkey_load(const char *path, struct kxsig_pubkey *out, struct kx_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = kxsig_read_file(path, KXSIG_KEYFILE_MAX, &buf, &len, err);
	if (!rc)
		rc = kxsig_pubkey_parse(buf, len, out, err);
	free(buf);
	return rc;
}
