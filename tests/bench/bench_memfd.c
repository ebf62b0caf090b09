/* bench_memfd.c — see bench_memfd.h. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/bench/bench_memfd.h"

int bench_sealed_memfd(const char *path, uint8_t **bytes, size_t *len)
{
	struct stat st;
	int in = open(path, O_RDONLY | O_CLOEXEC), fd = -1;
	uint8_t *buf = NULL;

	if (in < 0 || fstat(in, &st) != 0 || st.st_size <= 0)
		goto out;
	buf = malloc((size_t)st.st_size);
	if (buf == NULL || read(in, buf, (size_t)st.st_size) != st.st_size)
		goto out;
	fd = memfd_create("bench-lib", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd >= 0 && (write(fd, buf, (size_t)st.st_size) != st.st_size ||
			fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW) != 0)) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0 && bytes != NULL) {
		*bytes = buf;
		*len = (size_t)st.st_size;
		buf = NULL;
	}
out:
	free(buf);
	if (in >= 0)
		close(in);
	return fd;
}
