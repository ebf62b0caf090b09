/*
 * fd.c — the fd table and the system calls that work on any fd: read,
 * write and their vector and positioned forms, lseek, close, dup*, fcntl,
 * ioctl, fstat, ftruncate, getdents64, fsync, flock.
 *
 * An fd names an open file description (struct kx_file: its flags, its
 * position, a reference count shared by dup'ed fds), which names an object
 * through an ops vtable (posix.h).  Everything kind-specific is in the ops;
 * what Linux checks before it reaches the object (access mode, offsets,
 * counts) is checked here, once.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "guest/posix/posix.h"

#define MAX_RW 0x7ffff000l /* Linux's MAX_RW_COUNT: longer transfers are cut */

static struct {
	struct kx_file *file;
	unsigned char cloexec;
} fdt[KX_FD_MAX];

struct kx_file *kx_file_new(const struct kx_file_ops *ops, void *obj, int flags)
{
	struct kx_file *f = kx_kalloc(sizeof(*f));

	if (!f)
		return NULL;
	*f = (struct kx_file){.ops = ops, .refs = 1, .flags = flags, .obj = obj};
	return f;
}

void kx_file_put(struct kx_file *f)
{
	if (--f->refs > 0)
		return;
	if (f->ops->release)
		f->ops->release(f);
	kx_kfree(f);
}

long kx_fd_install(struct kx_file *f, int min, int cloexec)
{
	for (int fd = min < 0 ? 0 : min; fd < KX_FD_MAX; fd++) {
		if (fdt[fd].file)
			continue;
		fdt[fd].file = f;
		fdt[fd].cloexec = (unsigned char)(cloexec != 0);
		f->refs++;
		return fd;
	}
	return -EMFILE;
}

struct kx_file *kx_fd_get(long fd)
{
	if (fd < 0 || fd >= KX_FD_MAX)
		return NULL;
	return fdt[fd].file;
}

long kx_fd_close(long fd)
{
	struct kx_file *f = kx_fd_get(fd);

	if (!f)
		return -EBADF;
	fdt[fd].file = NULL;
	kx_file_put(f);
	return 0;
}

KX_SYS(close)
{
	return kx_fd_close(a[0]);
}

static int readable(const struct kx_file *f)
{
	return (f->flags & O_PATH) == 0 && (f->flags & O_ACCMODE) != O_WRONLY;
}

static int writable(const struct kx_file *f)
{
	return (f->flags & O_PATH) == 0 && (f->flags & O_ACCMODE) != O_RDONLY;
}

static int seekable(const struct kx_file *f)
{
	return f->ops->size != NULL;
}

/* One read at *off (the description's position or a pread offset). */
static long do_read(struct kx_file *f, void *buf, size_t len, off_t *off)
{
	if (!readable(f))
		return -EBADF;
	if (!f->ops->read)
		return -EINVAL;
	return f->ops->read(f, buf, len > MAX_RW ? MAX_RW : len, off);
}

static long do_write(struct kx_file *f, const void *buf, size_t len, off_t *off)
{
	if (!writable(f))
		return -EBADF;
	if (!f->ops->write)
		return -EINVAL;
	if ((f->flags & O_APPEND) && seekable(f)) {
		long rc = f->ops->size(f, off); /* Linux appends even for pwrite */

		if (rc < 0)
			return rc;
	}
	return f->ops->write(f, buf, len > MAX_RW ? MAX_RW : len, off);
}

KX_SYS(read)
{
	struct kx_file *f = kx_fd_get(a[0]);

	return f ? do_read(f, (void *)a[1], (size_t)a[2], &f->pos) : -EBADF;
}

KX_SYS(write)
{
	struct kx_file *f = kx_fd_get(a[0]);

	return f ? do_write(f, (const void *)a[1], (size_t)a[2], &f->pos) : -EBADF;
}

static long positioned(long fd, long off, struct kx_file **f)
{
	*f = kx_fd_get(fd);
	if (!*f)
		return -EBADF;
	if (off < 0)
		return -EINVAL;
	if (!seekable(*f))
		return -ESPIPE;
	return 0;
}

KX_SYS(pread64)
{
	struct kx_file *f;
	off_t off = (off_t)a[3];
	long rc = positioned(a[0], a[3], &f);

	return rc ? rc : do_read(f, (void *)a[1], (size_t)a[2], &off);
}

KX_SYS(pwrite64)
{
	struct kx_file *f;
	off_t off = (off_t)a[3];
	long rc = positioned(a[0], a[3], &f);

	return rc ? rc : do_write(f, (const void *)a[1], (size_t)a[2], &off);
}

/* The iovec array checked as Linux checks it: 0..IOV_MAX entries whose
 * lengths add up to no more than SSIZE_MAX. */
static long check_iov(const struct iovec *iov, long cnt, size_t *total)
{
	*total = 0;
	if (cnt < 0 || cnt > IOV_MAX)
		return -EINVAL;
	for (long i = 0; i < cnt; i++) {
		if (iov[i].iov_len > (size_t)SSIZE_MAX - *total)
			return -EINVAL;
		*total += iov[i].iov_len;
	}
	return 0;
}

static long do_readv(struct kx_file *f, const struct iovec *iov, long cnt, off_t *off)
{
	size_t total;
	long rc = check_iov(iov, cnt, &total), done = 0;

	if (rc != 0)
		return rc;
	for (long i = 0; i < cnt; i++) {
		if (iov[i].iov_len == 0)
			continue;
		rc = do_read(f, iov[i].iov_base, iov[i].iov_len, off);
		if (rc < 0)
			return done > 0 ? done : rc;
		done += rc;
		if ((size_t)rc < iov[i].iov_len)
			break; /* a short read ends the vector, as the kernel's does */
	}
	return done;
}

static long do_writev(struct kx_file *f, const struct iovec *iov, long cnt, off_t *off)
{
	char gather[4096];
	size_t total;
	long rc = check_iov(iov, cnt, &total), done = 0;

	if (rc != 0)
		return rc;
	/* Small vectors go out as one write: one console exit instead of
	 * several (stdio writes its buffer and the new bytes as two), and one
	 * atomic pipe write, as Linux makes writes of up to PIPE_BUF. */
	if (cnt > 1 && total <= sizeof(gather)) {
		size_t at = 0;

		for (long i = 0; i < cnt; i++) {
			memcpy(gather + at, iov[i].iov_base, iov[i].iov_len);
			at += iov[i].iov_len;
		}
		return do_write(f, gather, total, off);
	}
	for (long i = 0; i < cnt; i++) {
		if (iov[i].iov_len == 0)
			continue;
		rc = do_write(f, iov[i].iov_base, iov[i].iov_len, off);
		if (rc < 0)
			return done > 0 ? done : rc;
		done += rc;
		if ((size_t)rc < iov[i].iov_len)
			break;
	}
	return done;
}

KX_SYS(readv)
{
	struct kx_file *f = kx_fd_get(a[0]);

	return f ? do_readv(f, (const struct iovec *)a[1], a[2], &f->pos) : -EBADF;
}

KX_SYS(writev)
{
	struct kx_file *f = kx_fd_get(a[0]);

	return f ? do_writev(f, (const struct iovec *)a[1], a[2], &f->pos) : -EBADF;
}

KX_SYS(preadv)
{
	struct kx_file *f;
	off_t off = (off_t)a[3];
	long rc = positioned(a[0], a[3], &f);

	return rc ? rc : do_readv(f, (const struct iovec *)a[1], a[2], &off);
}

KX_SYS(pwritev)
{
	struct kx_file *f;
	off_t off = (off_t)a[3];
	long rc = positioned(a[0], a[3], &f);

	return rc ? rc : do_writev(f, (const struct iovec *)a[1], a[2], &off);
}

KX_SYS(lseek)
{
	struct kx_file *f = kx_fd_get(a[0]);
	off_t off = (off_t)a[1], size, to;
	long rc;

	if (!f)
		return -EBADF;
	if (!seekable(f))
		return -ESPIPE;
	switch ((int)a[2]) {
	case SEEK_SET:
		to = off;
		break;
	case SEEK_CUR:
		if (__builtin_add_overflow(f->pos, off, &to))
			return -EOVERFLOW;
		break;
	case SEEK_END:
	case SEEK_DATA:
	case SEEK_HOLE:
		if ((rc = f->ops->size(f, &size)) < 0)
			return rc;
		if ((int)a[2] == SEEK_END) {
			if (__builtin_add_overflow(size, off, &to))
				return -EOVERFLOW;
		} else {
			/* No holes in memory: data up to the size, one hole after. */
			if (off < 0 || off >= size)
				return off < 0 ? -EINVAL : -ENXIO;
			to = (int)a[2] == SEEK_DATA ? off : size;
		}
		break;
	default:
		return -EINVAL;
	}
	if (to < 0)
		return -EINVAL;
	f->pos = to;
	return (long)to;
}

/* dup2/dup3: make newfd name oldfd's description, closing what it named. */
static long dup_to(long oldfd, long newfd, int cloexec)
{
	struct kx_file *f = kx_fd_get(oldfd);

	if (!f || newfd < 0 || newfd >= KX_FD_MAX)
		return -EBADF;
	if (fdt[newfd].file)
		kx_fd_close(newfd);
	fdt[newfd].file = f;
	fdt[newfd].cloexec = (unsigned char)(cloexec != 0);
	f->refs++;
	return newfd;
}

KX_SYS(dup)
{
	struct kx_file *f = kx_fd_get(a[0]);

	return f ? kx_fd_install(f, 0, 0) : -EBADF;
}

KX_SYS(dup2)
{
	if (a[0] == a[1])
		return kx_fd_get(a[0]) ? a[1] : -EBADF;
	return dup_to(a[0], a[1], 0);
}

KX_SYS(dup3)
{
	if (a[2] & ~(long)O_CLOEXEC)
		return -EINVAL;
	if (a[0] == a[1])
		return -EINVAL;
	return dup_to(a[0], a[1], (int)(a[2] & O_CLOEXEC));
}

/* Record locks: one process, so no lock ever conflicts (POSIX locks never
 * block their own process); the request itself is checked as Linux does. */
static long record_lock(struct kx_file *f, int cmd, struct flock *l)
{
	if (l->l_whence != SEEK_SET && l->l_whence != SEEK_CUR && l->l_whence != SEEK_END)
		return -EINVAL;
	switch (l->l_type) {
	case F_RDLCK:
		if (cmd != F_GETLK && cmd != F_OFD_GETLK && !readable(f))
			return -EBADF;
		break;
	case F_WRLCK:
		if (cmd != F_GETLK && cmd != F_OFD_GETLK && !writable(f))
			return -EBADF;
		break;
	case F_UNLCK:
		if (cmd == F_GETLK || cmd == F_OFD_GETLK)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (cmd == F_GETLK || cmd == F_OFD_GETLK)
		l->l_type = F_UNLCK;
	return 0;
}

KX_SYS(fcntl)
{
	struct kx_file *f = kx_fd_get(a[0]);
	int fd = (int)a[0];

	if (!f)
		return -EBADF;
	switch ((int)a[1]) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (a[2] < 0 || a[2] >= KX_FD_MAX)
			return -EINVAL;
		return kx_fd_install(f, (int)a[2], (int)a[1] == F_DUPFD_CLOEXEC);
	case F_GETFD:
		return fdt[fd].cloexec ? FD_CLOEXEC : 0;
	case F_SETFD:
		fdt[fd].cloexec = (unsigned char)((a[2] & FD_CLOEXEC) != 0);
		return 0;
	case F_GETFL:
		return f->flags & ~(O_CLOEXEC | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC);
	case F_SETFL:
		f->flags = (f->flags & ~(O_APPEND | O_NONBLOCK)) |
			   ((int)a[2] & (O_APPEND | O_NONBLOCK));
		return 0;
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		return record_lock(f, (int)a[1], (struct flock *)a[2]);
	case F_GETOWN:
		return 0;
	case F_SETOWN:
		return 0;
	default:
		return -EINVAL;
	}
}

KX_SYS(ioctl)
{
	struct kx_file *f = kx_fd_get(a[0]);
	unsigned long req = (unsigned long)a[1];

	if (!f)
		return -EBADF;
	switch (req) {
	case FIONBIO:
		if (*(const int *)a[2])
			f->flags |= O_NONBLOCK;
		else
			f->flags &= ~O_NONBLOCK;
		return 0;
	case FIOCLEX:
	case FIONCLEX:
		fdt[a[0]].cloexec = req == FIOCLEX;
		return 0;
	default:
		return f->ops->ioctl ? f->ops->ioctl(f, req, (void *)a[2]) : -ENOTTY;
	}
}

KX_SYS(fstat)
{
	struct kx_file *f = kx_fd_get(a[0]);
	struct stat *st = (struct stat *)a[1];

	if (!f)
		return -EBADF;
	memset(st, 0, sizeof(*st));
	return f->ops->stat ? f->ops->stat(f, st) : -EINVAL;
}

KX_SYS(ftruncate)
{
	struct kx_file *f = kx_fd_get(a[0]);

	if (!f)
		return -EBADF;
	if (a[1] < 0 || !writable(f) || !f->ops->truncate)
		return -EINVAL;
	return f->ops->truncate(f, (off_t)a[1]);
}

KX_SYS(getdents64)
{
	struct kx_file *f = kx_fd_get(a[0]);

	if (!f)
		return -EBADF;
	return f->ops->getdents ? f->ops->getdents(f, (void *)a[1], (size_t)a[2]) : -ENOTDIR;
}

KX_SYS(fsync)
{
	struct kx_file *f = kx_fd_get(a[0]);

	if (!f)
		return -EBADF;
	if (f->ops->fsync)
		return f->ops->fsync(f); /* a host file (hostfs.c) */
	return seekable(f) ? 0 : -EINVAL; /* tmpfs: nothing to write back */
}

KX_SYS(flock)
{
	struct kx_file *f = kx_fd_get(a[0]);
	int op = (int)a[1] & ~LOCK_NB;

	if (!f)
		return -EBADF;
	return op == LOCK_SH || op == LOCK_EX || op == LOCK_UN ? 0 : -EINVAL;
}

long kx_anon_stat(struct kx_file *f, struct stat *st)
{
	(void)f;
	st->st_mode = 0600; /* Linux's anonymous inode: no file type bits */
	st->st_uid = KX_UID;
	st->st_gid = KX_GID;
	st->st_blksize = 4096;
	return 0;
}

void kx_obj_release(struct kx_file *f)
{
	kx_kfree(f->obj);
}
