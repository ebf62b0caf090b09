/*
 * pm_load(): manifests and key files from the filesystem.  Kept apart from
 * the rest of the front end so that the fuzz harness and the unit tests can
 * link the checker (pm_load_buffers) without touching any file.
 *
 * A manifest is read with a size cap (PM_DOC_MAX_BYTES); key files are
 * resolved relative to the directory of the manifest that names them (an
 * absolute path is used as is) and parsed by kxsig.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy-lang/front.h"

/* Read a regular file of at most PM_DOC_MAX_BYTES; 0 or -errno (-EFBIG
 * when larger). */
static int read_manifest(const char *path, char **buf, size_t *len)
{
	struct stat st;
	char *data = NULL;
	size_t used = 0;
	int fd = -1, rc = 0;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto out;
	}
	data = malloc(PM_DOC_MAX_BYTES + 1);
	if (data == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* Read up to one byte past the cap, whatever fstat said (pipes, files
	 * that grow). */
	while (used <= PM_DOC_MAX_BYTES) {
		ssize_t got = read(fd, data + used, PM_DOC_MAX_BYTES + 1 - used);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = -errno;
			goto out;
		}
		if (got == 0)
			break;
		used += (size_t)got;
	}
	if (used > PM_DOC_MAX_BYTES) {
		rc = -EFBIG;
		goto out;
	}
	*buf = data;
	*len = used;
	data = NULL;
out:
	free(data);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The key source for files: path relative to the manifest's directory. */
static int load_key_file(void *ctx, const char *manifest, const char *path,
			 struct kxsig_pubkey *out, char *why, size_t whysize)
{
	struct kx_error err;
	const char *slash = strrchr(manifest, '/');
	size_t dirlen = (path[0] == '/' || slash == NULL) ? 0 : (size_t)(slash - manifest) + 1;
	size_t size;
	char *full;
	int rc;

	(void)ctx;
	memset(&err, 0, sizeof(err));
	if (__builtin_add_overflow(dirlen, strlen(path) + 1, &size))
		return -ENOMEM;
	full = malloc(size);
	if (full == NULL)
		return -ENOMEM;
	memcpy(full, manifest, dirlen); /* the directory and its slash */
	memcpy(full + dirlen, path, size - dirlen);
	rc = kxsig_pubkey_load(full, out, &err);
	free(full);
	if (rc == 0 || rc == -ENOMEM)
		return rc;
	snprintf(why, whysize, "%s", err.msg[0] ? err.msg : kxsig_err_name(rc));
	/* Read but not a key (or too large to be one): malformed; else unreadable. */
	return rc == -ENOEXEC || rc == -EFBIG ? -EBADMSG : -EIO;
}

int pm_load(const char *const *paths, size_t npaths, struct pm_policy *out,
	    struct pm_diags *diags)
{
	static const struct pm_key_source files = {.load = load_key_file};
	struct pm_input *in = NULL;
	int *read_err = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(diags, 0, sizeof(*diags));
	in = calloc(npaths + 1, sizeof(*in));
	read_err = calloc(npaths + 1, sizeof(*read_err));
	if (in == NULL || read_err == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < npaths; i++) {
		char *buf;

		in[i].name = paths[i];
		rc = read_manifest(paths[i], &buf, &in[i].len);
		if (rc == -ENOMEM)
			goto out;
		read_err[i] = -rc;
		in[i].buf = buf;
	}
	rc = pm_load_inputs(in, npaths, read_err, &files, out, diags);
out:
	for (size_t i = 0; in != NULL && i < npaths; i++)
		free((void *)in[i].buf);
	free(in);
	free(read_err);
	return rc;
}
