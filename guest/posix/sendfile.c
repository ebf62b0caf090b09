/*
 * sendfile.c — sendfile(2), for servers that send files as Linux lets
 * them (lighttpd's "linux-sendfile" backend, docs/web.md): the bytes go
 * from a seekable fd to any writable fd through a bounce buffer in the
 * layer, with pread64 and write, so every fd kind the layer has (tmpfs,
 * the image's files, host directories; sockets, pipes, the console as the
 * destination) works without a path of its own.  There is no zero-copy to
 * win inside a pVM: the socket's bytes are copied into lwIP anyway.
 *
 * Linux's rules, kept: in_fd must be seekable (a file: EINVAL otherwise)
 * and readable, out_fd writable and not O_APPEND (EINVAL); with an offset
 * pointer the transfer starts there, the pointer is advanced and in_fd's
 * position is not touched, without one in_fd's position is used and
 * advanced; the count is cut at MAX_RW_COUNT; a transfer that sent some
 * bytes returns their count even if a later write would block or fail.
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/types.h>

#include "guest/posix/posix.h"
#include "guest/posix/syscalls.h"

#define MAX_RW	    0x7ffff000l /* Linux's MAX_RW_COUNT */
#define BOUNCE_SIZE (64u * 1024)

/* One chunk: up to len bytes of in at off, written to out.  Returns what
 * the write took (0 at the end of in) or -errno. */
static long send_chunk(long out, long in, off_t off, char *buf, size_t len)
{
	long got = kx_sys_pread64((const long[]){in, (long)buf, (long)len, (long)off});
	long put = 0;

	if (got <= 0)
		return got;
	while (put < got) {
		long rc = kx_sys_write((const long[]){out, (long)(buf + put), got - put});

		if (rc < 0)
			return put ? put : rc;
		if (rc == 0)
			break;
		put += rc;
	}
	return put;
}

KX_SYS(sendfile)
{
	long out = a[0], in = a[1];
	off_t *offp = (off_t *)a[2];
	size_t count = (size_t)a[3];
	struct kx_file *fin = kx_fd_get(in), *fout = kx_fd_get(out);
	off_t off;
	size_t sent = 0;
	char *buf;
	long rc = 0;

	if (!fin || !fout)
		return -EBADF;
	if ((fin->flags & O_ACCMODE) == O_WRONLY || (fin->flags & O_PATH) ||
	    (fout->flags & O_ACCMODE) == O_RDONLY || (fout->flags & O_PATH))
		return -EBADF;
	if (!fin->ops->size || (fout->flags & O_APPEND))
		return -EINVAL;
	off = offp ? *offp : fin->pos;
	if (off < 0)
		return -EINVAL;
	if (count > (size_t)MAX_RW)
		count = (size_t)MAX_RW;
	if ((unsigned long long)off + count > (unsigned long long)LLONG_MAX)
		count = (size_t)(LLONG_MAX - off); /* the offset must not wrap */
	if (count == 0)
		return 0;
	buf = kx_kalloc(count < BOUNCE_SIZE ? count : BOUNCE_SIZE);
	if (!buf)
		return -ENOMEM;
	while (sent < count) {
		size_t len = count - sent < BOUNCE_SIZE ? count - sent : BOUNCE_SIZE;

		rc = send_chunk(out, in, off, buf, len);
		if (rc <= 0)
			break;
		off += rc;
		sent += (size_t)rc;
		if ((size_t)rc < len)
			break; /* a short write (the socket is full) or the end of in */
	}
	kx_kfree(buf);
	if (offp)
		*offp = off;
	else
		fin->pos = off;
	return sent ? (long)sent : rc;
}
