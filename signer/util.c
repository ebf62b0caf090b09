/* Small helpers shared by the verify and sign halves: hex, error names and
 * messages, text checks, bounded file reading. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "signer/internal.h"

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
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return hex[2 * n] == '\0' ? 0 : -EINVAL;
}

int kxsig_err_is_verify(int rc)
{
	return rc == -ENODATA || rc == -ENOKEY || rc == -EBADMSG || rc == -EKEYREJECTED;
}

const char *kxsig_err_name(int rc)
{
	switch (rc) {
	case 0: return "ok";
	case -ENODATA: return "unsigned";
	case -ENOKEY: return "unknown key";
	case -EBADMSG: return "tampered";
	case -EKEYREJECTED: return "bad signature";
	case -ENOEXEC: return "malformed input";
	case -EFBIG: return "too large";
	case -EACCES: return "passphrase";
	case -ENOMEM: return "out of memory";
	case -EINVAL: return "invalid argument";
	}
	return "i/o error"; /* the errno of a file operation */
}

/* Printable ASCII only: the text ends up on terminals and in JSON, where
 * control bytes and invalid UTF-8 would do harm. */
int kxsig_text_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e)
			return 0;
	}
	return 1;
}

/* Library names and versions: non-empty, [A-Za-z0-9._+-], no leading dot. */
int kxsig_name_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n == 0 || n > max || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '+' || c == '-'))
			return 0;
	}
	return 1;
}

int kxsig_read_file(const char *path, size_t max, uint8_t **out, size_t *out_len,
		    struct kx_error *err)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd = -1, rc;

	*out = NULL;
	*out_len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		kx_err(err, rc, "cannot open: %s", strerror(-rc));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = kx_err(err, -errno, "not a regular file");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = kx_err(err, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL, "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		rc = kx_err(err, -EFBIG, "too large (%lld bytes, limit %zu)", (long long)st.st_size,
			    max);
		goto out;
	}
	/* One spare byte so that growth during the read is noticed. */
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = kx_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			kx_err(err, rc, "read error: %s", strerror(-rc));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > (size_t)st.st_size) {
			rc = kx_err(err, -EIO, "file changed while being read");
			goto out;
		}
	}
	*out = buf;
	*out_len = got;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}
