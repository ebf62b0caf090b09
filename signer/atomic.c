/*
 * Atomic file replacement for keys and signed libraries: a temporary file in
 * the target's directory, fsync, rename (or a no-replace rename), fsync of
 * the directory.  On failure the temporary file is removed and the target is
 * untouched.
 */
#define _GNU_SOURCE /* renameat2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "signer/internal.h"

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The errno of the call that just failed; a write of 0 bytes sets none. */
static int io_errno(void)
{
	return errno != 0 ? -errno : -EIO;
}

static int place(const char *tmp, const char *path, int overwrite)
{
	if (overwrite)
		return rename(tmp, path);
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* File systems without RENAME_NOREPLACE: link() refuses to replace too. */
	if (link(tmp, path) != 0)
		return -1;
	unlink(tmp);
	return 0;
}

int kxsig_write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode,
			    int overwrite, struct kx_error *err)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd = -1, dfd = -1, have_tmp = 0, rc;

	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, slash ? slash + 1 : path) >=
	    sizeof(tmp)) {
		rc = kx_err(err, -EINVAL, "%s: path too long", path);
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = io_errno();
		kx_err(err, rc, "%s: cannot create a temporary file: %s", path, strerror(-rc));
		goto out;
	}
	have_tmp = 1;
	if (fchmod(fd, (mode_t)mode) != 0 || write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
		rc = io_errno();
		kx_err(err, rc, "%s: write failed: %s", path, strerror(-rc));
		goto out;
	}
	if (close(fd) != 0) {
		rc = io_errno();
		fd = -1;
		kx_err(err, rc, "%s: write failed: %s", path, strerror(-rc));
		goto out;
	}
	fd = -1;
	if (place(tmp, path, overwrite) != 0) {
		rc = io_errno();
		kx_err(err, rc, "%s: %s", path,
		       rc == -EEXIST ? "already exists (use -f to overwrite)" : strerror(-rc));
		goto out;
	}
	have_tmp = 0;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		rc = io_errno();
		kx_err(err, rc, "%s: cannot sync the directory: %s", path, strerror(-rc));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (have_tmp)
		unlink(tmp);
	return rc;
}
