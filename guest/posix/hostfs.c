/*
 * hostfs.c — host directories granted by the app's `files` rules: the
 * guest's half (the monitor's is manager/hv/fs.c; docs/posix.md "Files:
 * host directories").
 *
 * At start the monitor lists the mounts kxd granted (KX_HC_FS_MOUNT); each
 * becomes a directory node of tmpfs marked `hostmnt` at its mount point
 * (parents made as ordinary directories).  Path resolution (tmpfs.c) hands
 * whatever follows a mount point to this file as a path relative to the
 * mount (KX_HOSTPATH), and the monitor resolves it beneath the host
 * directory: "..", absolute symlinks and symlinks leading out fail there
 * with EXDEV, whatever this file does.
 *
 * An open host file or directory is an fd kind of its own (kx_file_ops):
 * reads and writes are KX_HC_FS_PREAD/PWRITE at the description's position
 * (at most KX_FS_IO_MAX bytes per exit), fstat, ftruncate, fsync and
 * getdents64 one hypercall each.  Paths given to *at calls relative to a
 * host directory fd continue below that directory.
 *
 * Not followed into host directories (EOPNOTSUPP): link, symlink,
 * readlink, chmod/chown/utimensat on paths, statfs, O_TMPFILE.  ".." out of
 * a mount's root is EXDEV (the monitor's answer), not the parent directory.
 */
#include <fcntl.h>
#include <string.h>

#include "guest/posix/tmpfs.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

/* Where each mount is in the guest (for getcwd). */
static char mount_at[KX_FS_MOUNTS_MAX][128];

int hostfs_cwd_mount = -1;
char hostfs_cwd_path[PATH_MAX];

struct hostfs_obj {
	uint32_t mount;
	uint64_t handle;
	char path[]; /* directories: relative to the mount ("" its root) */
};

static const struct kx_file_ops file_ops, dir_ops;

static long fs_call(uint32_t nr, struct kx_hc_fs *c)
{
	return (long)kx_hcall(&c->hdr, nr);
}

static void set_path(struct kx_hc_fs *c, const struct tmpfs_where *w)
{
	c->mount = (uint32_t)w->host;
	c->path = (uint64_t)(uintptr_t)w->rest;
	c->path_len = strlen(w->rest);
}

void kx_hostfs_init(void)
{
	for (uint32_t i = 0; i < KX_FS_MOUNTS_MAX; i++) {
		char guest[KX_FS_PATH_MAX + 1];
		struct kx_hc_fs c = {.mount = i, .buf = (uint64_t)(uintptr_t)guest,
				     .len = sizeof(guest)};
		struct tmpfs_node *n;
		long rc = fs_call(KX_HC_FS_MOUNT, &c);

		if (rc == -ENOENT)
			break;
		if (rc != 0)
			kx_panic("posix: host mount %u: error %ld", i, -rc);
		n = tmpfs_mount_point(guest, strlen(guest), 0755);
		if (!n || strlen(guest) >= sizeof(mount_at[i]))
			kx_panic("posix: cannot mount a host directory at %s", guest);
		memcpy(mount_at[i], guest, strlen(guest) + 1);
		n->hostmnt = (unsigned short)(i + 1);
	}
}

static void to_stat(const struct kx_fs_stat *k, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = k->dev;
	st->st_ino = k->ino;
	st->st_nlink = k->nlink;
	st->st_mode = k->mode;
	st->st_uid = k->uid;
	st->st_gid = k->gid;
	st->st_rdev = k->rdev;
	st->st_size = (off_t)k->size;
	st->st_blksize = k->blksize;
	st->st_blocks = (blkcnt_t)k->blocks;
	st->st_atim.tv_sec = k->atime_sec;
	st->st_atim.tv_nsec = k->atime_nsec;
	st->st_mtim.tv_sec = k->mtime_sec;
	st->st_mtim.tv_nsec = k->mtime_nsec;
	st->st_ctim.tv_sec = k->ctime_sec;
	st->st_ctim.tv_nsec = k->ctime_nsec;
}

static long handle_stat(uint64_t handle, struct stat *st)
{
	struct kx_fs_stat k;
	struct kx_hc_fs c = {.handle = handle, .buf = (uint64_t)(uintptr_t)&k, .len = sizeof(k)};
	long rc = fs_call(KX_HC_FS_FSTAT, &c);

	if (rc == 0)
		to_stat(&k, st);
	return rc;
}

/* ---- open files and directories ---- */

static struct hostfs_obj *obj(struct kx_file *f)
{
	return f->obj;
}

static long h_read(struct kx_file *f, void *buf, size_t len, off_t *off)
{
	struct kx_hc_fs c = {.handle = obj(f)->handle, .buf = (uint64_t)(uintptr_t)buf,
			     .len = len > KX_FS_IO_MAX ? KX_FS_IO_MAX : len, .off = (uint64_t)*off};
	long rc = fs_call(KX_HC_FS_PREAD, &c);

	if (rc > 0)
		*off += rc;
	return rc;
}

static long h_write(struct kx_file *f, const void *buf, size_t len, off_t *off)
{
	struct kx_hc_fs c = {.handle = obj(f)->handle, .buf = (uint64_t)(uintptr_t)buf,
			     .len = len > KX_FS_IO_MAX ? KX_FS_IO_MAX : len, .off = (uint64_t)*off};
	long rc = fs_call(KX_HC_FS_PWRITE, &c);

	if (rc > 0)
		*off += rc;
	return rc;
}

static long h_size(struct kx_file *f, off_t *size)
{
	struct stat st;
	long rc = handle_stat(obj(f)->handle, &st);

	if (rc == 0)
		*size = st.st_size;
	return rc;
}

static long h_stat(struct kx_file *f, struct stat *st)
{
	return handle_stat(obj(f)->handle, st);
}

static long h_truncate(struct kx_file *f, off_t len)
{
	struct kx_hc_fs c = {.handle = obj(f)->handle, .off = (uint64_t)len};

	return fs_call(KX_HC_FS_TRUNCATE, &c);
}

static long h_fsync(struct kx_file *f)
{
	struct kx_hc_fs c = {.handle = obj(f)->handle};

	return fs_call(KX_HC_FS_FSYNC, &c);
}

static void h_release(struct kx_file *f)
{
	struct kx_hc_fs c = {.handle = obj(f)->handle};

	fs_call(KX_HC_FS_CLOSE, &c);
	kx_kfree(f->obj);
}

static long d_read(struct kx_file *f, void *buf, size_t len, off_t *off)
{
	(void)f, (void)buf, (void)len, (void)off;
	return -EISDIR;
}

static long d_size(struct kx_file *f, off_t *size)
{
	(void)f, (void)size;
	return -EINVAL; /* SEEK_SET/SEEK_CUR only: positions are the host's cookies */
}

static long d_getdents(struct kx_file *f, void *buf, size_t len)
{
	struct kx_hc_fs c = {.handle = obj(f)->handle, .buf = (uint64_t)(uintptr_t)buf,
			     .len = len > KX_FS_IO_MAX ? KX_FS_IO_MAX : len, .off = (uint64_t)f->pos};
	long rc = fs_call(KX_HC_FS_GETDENTS, &c);

	if (rc >= 0)
		f->pos = (off_t)c.off;
	return rc;
}

static const struct kx_file_ops file_ops = {
	.kind = "host file",
	.read = h_read,
	.write = h_write,
	.size = h_size,
	.stat = h_stat,
	.truncate = h_truncate,
	.release = h_release,
	.fsync = h_fsync,
};

static const struct kx_file_ops dir_ops = {
	.kind = "host directory",
	.read = d_read,
	.size = d_size,
	.stat = h_stat,
	.getdents = d_getdents,
	.release = h_release,
	.fsync = h_fsync,
};

long hostfs_fd_dir(long fd, int *mount, const char **path)
{
	struct kx_file *f = kx_fd_get(fd);

	if (!f || f->ops != &dir_ops)
		return -ENOTDIR;
	*mount = (int)obj(f)->mount;
	*path = obj(f)->path;
	return 0;
}

long hostfs_open(const struct tmpfs_where *w, int flags, mode_t mode)
{
	int acc = flags & O_ACCMODE;
	int send = flags & (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_DIRECTORY | O_NOFOLLOW |
			    O_SYNC | O_DSYNC | O_NOATIME);
	int keep = O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECTORY | O_NOATIME | O_SYNC | O_DSYNC;
	struct kx_hc_fs c = {.flags = 0, .off = mode};
	struct hostfs_obj *o;
	struct kx_file *f;
	struct stat st;
	size_t plen;
	long h, rc, fd;

	if (acc == O_ACCMODE)
		return -EINVAL;
	if (flags & O_PATH)
		send = O_RDONLY | (flags & (O_DIRECTORY | O_NOFOLLOW)); /* a handle to name it */
	c.flags = (uint32_t)send;
	set_path(&c, w);
	h = fs_call(KX_HC_FS_OPEN, &c);
	if (h < 0)
		return h;
	if ((rc = handle_stat((uint64_t)h, &st)) != 0)
		goto fail;
	plen = S_ISDIR(st.st_mode) ? strlen(w->rest) : 0;
	o = kx_kalloc(sizeof(*o) + plen + 1);
	if (!o) {
		rc = -ENOMEM;
		goto fail;
	}
	o->mount = (uint32_t)w->host;
	o->handle = (uint64_t)h;
	memcpy(o->path, w->rest, plen);
	o->path[plen] = '\0';
	f = kx_file_new(S_ISDIR(st.st_mode) ? &dir_ops : &file_ops, o,
			((flags & O_PATH) ? O_PATH : (flags & keep)) | O_LARGEFILE);
	if (!f) {
		kx_kfree(o);
		rc = -ENOMEM;
		goto fail;
	}
	fd = kx_fd_install(f, 0, flags & O_CLOEXEC);
	kx_file_put(f); /* the fd holds it now, or nothing does (release closes) */
	return fd;
fail:
	c = (struct kx_hc_fs){.handle = (uint64_t)h};
	fs_call(KX_HC_FS_CLOSE, &c);
	return rc;
}

long hostfs_stat(const struct tmpfs_where *w, int nofollow, struct stat *st)
{
	struct kx_fs_stat k;
	struct kx_hc_fs c = {.flags = nofollow ? KX_FS_NOFOLLOW : 0,
			     .buf = (uint64_t)(uintptr_t)&k, .len = sizeof(k)};
	long rc;

	set_path(&c, w);
	rc = fs_call(KX_HC_FS_STAT, &c);
	if (rc == 0)
		to_stat(&k, st);
	return rc;
}

long hostfs_mkdir(const struct tmpfs_where *w, mode_t mode)
{
	struct kx_hc_fs c = {.off = mode};

	set_path(&c, w);
	return fs_call(KX_HC_FS_MKDIR, &c);
}

long hostfs_unlink(const struct tmpfs_where *w, int rmdir)
{
	struct kx_hc_fs c = {.flags = rmdir ? KX_FS_REMOVEDIR : 0};

	if (w->rest[0] == '\0')
		return rmdir ? -EBUSY : -EISDIR; /* the mount point itself */
	set_path(&c, w);
	return fs_call(KX_HC_FS_UNLINK, &c);
}

long hostfs_rename(const struct tmpfs_where *from, const struct tmpfs_where *to, unsigned flags)
{
	struct kx_hc_fs c = {.flags = (flags & RENAME_NOREPLACE) ? KX_FS_NOREPLACE : 0,
			     .path2 = (uint64_t)(uintptr_t)to->rest,
			     .path2_len = strlen(to->rest)};

	if (from->rest[0] == '\0' || to->rest[0] == '\0')
		return -EBUSY; /* a mount point */
	set_path(&c, from);
	return fs_call(KX_HC_FS_RENAME, &c);
}

long hostfs_truncate(const struct tmpfs_where *w, off_t len)
{
	long fd = hostfs_open(w, O_WRONLY, 0), rc;
	struct kx_file *f;

	if (fd < 0)
		return fd;
	f = kx_fd_get(fd);
	rc = f->ops == &file_ops ? h_truncate(f, len) : -EISDIR;
	kx_fd_close(fd);
	return rc;
}

/* ---- the cwd in a host directory ---- */

/* path with "." and empty components dropped and "x/.." folded (the
 * monitor has already resolved it beneath the mount: no ".." is left at
 * the front); -ENAMETOOLONG. */
static long normalise(const char *path, char *out, size_t size)
{
	size_t at = 0;
	const char *p = path;

	out[0] = '\0';
	while (*p) {
		const char *start;
		size_t n;

		while (*p == '/')
			p++;
		start = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - start);
		if (n == 0 || (n == 1 && start[0] == '.'))
			continue;
		if (n == 2 && start[0] == '.' && start[1] == '.') {
			while (at > 0 && out[at - 1] != '/')
				at--;
			if (at > 0)
				at--; /* the '/' before it */
			out[at] = '\0';
			continue;
		}
		if (at + (at > 0) + n + 1 > size)
			return -ENAMETOOLONG;
		if (at > 0)
			out[at++] = '/';
		memcpy(out + at, start, n);
		at += n;
		out[at] = '\0';
	}
	return 0;
}

long hostfs_chdir_to(int mount, const char *path)
{
	char norm[PATH_MAX];
	struct tmpfs_where w;
	struct stat st;
	long rc;

	if (strlen(path) >= sizeof(w.rest))
		return -ENAMETOOLONG;
	w.host = mount;
	memcpy(w.rest, path, strlen(path) + 1);
	if ((rc = hostfs_stat(&w, 0, &st)) != 0)
		return rc; /* EXDEV for a path that leaves the mount */
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if ((rc = normalise(path, norm, sizeof(norm))) != 0)
		return rc;
	memcpy(hostfs_cwd_path, norm, strlen(norm) + 1);
	hostfs_cwd_mount = mount;
	return 0;
}

long hostfs_chdir(const struct tmpfs_where *w)
{
	return hostfs_chdir_to(w->host, w->rest);
}

long hostfs_getcwd(char *buf, size_t size)
{
	const char *at = mount_at[hostfs_cwd_mount];
	size_t alen = strlen(at), plen = strlen(hostfs_cwd_path);
	size_t len = alen + (plen ? 1 + plen : 0) + 1;

	if (len > PATH_MAX)
		return -ENAMETOOLONG;
	if (size < len)
		return -ERANGE;
	memcpy(buf, at, alen);
	if (plen) {
		buf[alen] = '/';
		memcpy(buf + alen + 1, hostfs_cwd_path, plen);
	}
	buf[len - 1] = '\0';
	return (long)len;
}
