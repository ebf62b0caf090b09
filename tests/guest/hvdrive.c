/*
 * hvdrive.c — reading and running a guest image in-process (hvdrive.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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

int hvdrive_no_libraries(void *ctx, const char *name, int at_boot, struct hv_lib_grant *grant,
			 char *why, size_t whylen)
{
	(void)ctx, (void)name, (void)at_boot, (void)grant;
	snprintf(why, whylen, "this driver links no library");
	return -EACCES;
}

int hvdrive_run(const char *who, char *path, const uint8_t *buf, size_t len,
		const struct hv_link_source *src, struct hv_end *end)
{
	char *gargv[] = {path, NULL};
	struct hv_config cfg = {.mem_size = 16ull << 20,
				.argc = 1,
				.argv = gargv,
				.console_fd = STDOUT_FILENO,
				.link = src};
	struct hv_vm *vm = NULL;
	struct hv_error err;
	int rc = 0;

	if (hv_kvm_ops.create(&cfg, &vm, &err) != 0 ||
	    hv_kvm_ops.load_image(vm, buf, len, &err) != 0 || hv_kvm_ops.run(vm, end, &err) != 0) {
		fprintf(stderr, "%s: %s\n", who, err.msg);
		rc = -1;
	}
	if (vm != NULL)
		hv_kvm_ops.destroy(vm);
	return rc;
}
