/* Small helpers shared by the verify and sign halves: hex and error names. */
#include "signer/kxsig.h"

static const char hexdigits[] = "0123456789abcdef";

static void to_hex(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

void kxsig_keyid_hex(const uint8_t keyid[KXSIG_KEYID_BYTES], char out[2 * KXSIG_KEYID_BYTES + 1])
{
	to_hex(keyid, KXSIG_KEYID_BYTES, out);
}

void kxsig_digest_hex(const uint8_t digest[KXSIG_DIGEST_BYTES],
		      char out[2 * KXSIG_DIGEST_BYTES + 1])
{
	to_hex(digest, KXSIG_DIGEST_BYTES, out);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 2*n hex digits, nothing after them. */
int kxsig_hex_parse(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]);
		int lo = hi < 0 ? -1 : hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return KXSIG_ERR_INVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return hex[2 * n] == '\0' ? KXSIG_OK : KXSIG_ERR_INVAL;
}

int kxsig_err_is_verify(enum kxsig_err err)
{
	return err >= KXSIG_ERR_UNSIGNED && err <= KXSIG_ERR_SIGNATURE;
}

const char *kxsig_err_name(enum kxsig_err err)
{
	switch (err) {
	case KXSIG_OK: return "ok";
	case KXSIG_ERR_UNSIGNED: return "unsigned";
	case KXSIG_ERR_KEY: return "unknown key";
	case KXSIG_ERR_TAMPERED: return "tampered";
	case KXSIG_ERR_SIGNATURE: return "bad signature";
	case KXSIG_ERR_IO: return "i/o error";
	case KXSIG_ERR_MALFORMED: return "malformed input";
	case KXSIG_ERR_PASSPHRASE: return "passphrase";
	case KXSIG_ERR_NOMEM: return "out of memory";
	case KXSIG_ERR_INVAL: return "invalid argument";
	}
	return "unknown error";
}
