/* File-descriptor checks of kxfd.h. */
#define _GNU_SOURCE
#include <fcntl.h>

#include "common/kxfd.h"

bool kx_fd_sealed(int fd, unsigned seals)
{
	int have = fcntl(fd, F_GET_SEALS);

	return have >= 0 && ((unsigned)have & seals) == seals;
}
