/*
 * Passphrases for secret keys: the first line of the file named by
 * $KXSIGN_PASSPHRASE_FILE, or the controlling terminal with echo off.  The
 * passphrase only ever lives in sodium-guarded memory (the caller's buffer);
 * the prompt goes to /dev/tty, never to stdout or stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "signer/sign_internal.h"

static int from_file(const char *path, char *out, size_t size, struct kx_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0, n = 0;
	int rc;

	rc = kxsig_read_file(path, KXSIG_PASSPHRASE_MAX, &buf, &len, err);
	if (rc) {
		rc = kx_err_wrap(err, -EACCES, "KXSIGN_PASSPHRASE_FILE %s", path);
		goto out;
	}
	while (n < len && buf[n] != '\n' && buf[n] != '\r' && buf[n] != '\0')
		n++;
	if (n + 1 > size) {
		rc = kx_err(err, -EACCES, "passphrase too long");
		goto out;
	}
	memcpy(out, buf, n);
	out[n] = '\0';
	rc = 0;
out:
	if (buf)
		sodium_memzero(buf, len);
	free(buf);
	return rc;
}

/* One line from the terminal with echo off; the terminal state is restored
 * on every path. */
static int ask_tty(int fd, const char *prompt, char *out, size_t size, struct kx_error *err)
{
	struct termios saved, quiet;
	size_t n = 0;
	int restore = 0, rc;
	char c;

	if (tcgetattr(fd, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		rc = kx_err(err, -EACCES, "cannot prompt on the terminal");
		goto out;
	}
	for (;;) {
		ssize_t got = read(fd, &c, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || c == '\n' || c == '\r')
			break;
		if (n + 1 >= size) {
			rc = kx_err(err, -EACCES, "passphrase too long");
			goto out;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	rc = 0;
out:
	c = 0; /* the last character typed */
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &saved);
	/* The newline the user typed was not echoed; a failed write is cosmetic. */
	(void)!write(fd, "\n", 1);
	return rc;
}

int kxsig_passphrase_get(char *out, size_t size, int confirm, struct kx_error *err)
{
	const char *file = getenv("KXSIGN_PASSPHRASE_FILE");
	char *again = NULL;
	int fd = -1, rc;

	out[0] = '\0';
	if (file && file[0]) {
		rc = from_file(file, out, size, err);
		goto out;
	}
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = kx_err(err, -EACCES,
			    "no passphrase: no terminal and KXSIGN_PASSPHRASE_FILE is not set");
		goto out;
	}
	rc = ask_tty(fd, "Passphrase: ", out, size, err);
	if (rc || !confirm)
		goto out;
	again = sodium_malloc(size);
	if (!again) {
		rc = kx_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = ask_tty(fd, "Passphrase (again): ", again, size, err);
	if (!rc && strcmp(out, again) != 0)
		rc = kx_err(err, -EACCES, "passphrases do not match");
out:
	sodium_free(again);
	if (fd >= 0)
		close(fd);
	if (rc)
		sodium_memzero(out, size);
	return rc;
}
