/*
 * hvdrive.c — reading and running a guest image in-process (hvdrive.h).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manager/hv/backend.h"
#include "tests/guest/hvdrive.h"

int hvdrive_read(int argc, char **argv, const char *who, const char *image, char *path,
		 size_t pathlen, uint8_t **buf, size_t *len)
{
	struct stat st;
	int fd = -1, rc = -1;

	*buf = NULL;
	if (argc != 2) {
		fprintf(stderr, "usage: kvm_%s GUEST_DIR\n", who);
		goto out;
	}
	snprintf(path, pathlen, "%s/%s", argv[1], image);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0 ||
	    (*buf = malloc((size_t)st.st_size)) == NULL ||
	    read(fd, *buf, (size_t)st.st_size) != st.st_size) {
		fprintf(stderr, "%s: cannot read %s\n", who, path);
		free(*buf);
		*buf = NULL;
		goto out;
	}
	*len = (size_t)st.st_size;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int hvdrive_run(const char *who, char *path, const uint8_t *buf, size_t len,
		void (*safe_point)(struct hv_pvm *p, void *ctx), struct hv_end *end)
{
	char *gargv[] = {path, NULL};
	struct hv_config cfg = {.mem_size = 16ull << 20,
				.argc = 1,
				.argv = gargv,
				.console_fd = STDOUT_FILENO};
	struct hv_pvm *p = NULL;
	struct kx_error err;
	int rc = 0;

	if (hv_create(&hv_kvm_backend, &cfg, &p, &err) != 0) {
		fprintf(stderr, "%s: %s\n", who, err.msg);
		return -1;
	}
	hv_test_safe_point(p, safe_point, NULL);
	if (hv_load(p, buf, len, &err) != 0 || hv_run(p, end, &err) != 0) {
		fprintf(stderr, "%s: %s\n", who, err.msg);
		rc = -1;
	}
	hv_destroy(p, 0, NULL, "");
	return rc;
}
