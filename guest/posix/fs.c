/*
 * fs.c — the path system calls over tmpfs (tmpfs.c has the nodes and the
 * resolution): the stat family, access, mkdir, unlink, rmdir, rename,
 * link, truncate, chdir/fchdir/getcwd, umask, chmod/chown, utimensat,
 * readlink, statfs.  Errors are Linux's, in Linux's order of checks where a
 * program could tell the difference.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "guest/posix/tmpfs.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE	 (1 << 1)
#define RENAME_WHITEOUT	 (1 << 2)
#endif
#define TMPFS_MAGIC 0x01021994

/* The node dirfd/path name, following AT_EMPTY_PATH (an empty path names
 * dirfd itself, whatever it is); KX_HOSTPATH with *w for a host path. */
static long node_at(long dirfd, const char *path, int flags, struct tmpfs_node **n,
		    struct kx_file **f, struct tmpfs_where *w)
{
	*f = NULL;
	if ((flags & AT_EMPTY_PATH) && path[0] == '\0') {
		if (dirfd == AT_FDCWD && hostfs_cwd_mount >= 0)
			return tmpfs_resolve(AT_FDCWD, ".", w); /* KX_HOSTPATH: the host cwd */
		if (dirfd == AT_FDCWD) {
			*n = tmpfs_cwd;
			return 0;
		}
		*f = kx_fd_get(dirfd);
		if (!*f)
			return -EBADF;
		*n = tmpfs_node_of(*f);
		return 0; /* NULL *n: not a tmpfs object, the caller uses *f */
	}
	return tmpfs_lookup_at(dirfd, path, n, w);
}

static long stat_at(long dirfd, const char *path, struct stat *st, int flags)
{
	struct tmpfs_where w;
	struct tmpfs_node *n;
	struct kx_file *f;
	long rc;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	if ((rc = node_at(dirfd, path, flags, &n, &f, &w)) == KX_HOSTPATH)
		return hostfs_stat(&w, flags & AT_SYMLINK_NOFOLLOW, st);
	if (rc != 0)
		return rc;
	if (!n) {
		memset(st, 0, sizeof(*st));
		return f->ops->stat ? f->ops->stat(f, st) : -EINVAL;
	}
	return tmpfs_stat(n, st);
}

KX_SYS(stat)
{
	return stat_at(AT_FDCWD, (const char *)a[0], (struct stat *)a[1], 0);
}

KX_SYS(lstat)
{
	return stat_at(AT_FDCWD, (const char *)a[0], (struct stat *)a[1], AT_SYMLINK_NOFOLLOW);
}

KX_SYS(newfstatat)
{
	return stat_at(a[0], (const char *)a[1], (struct stat *)a[2], (int)a[3]);
}

static long access_at(long dirfd, const char *path, int mode, int flags)
{
	struct tmpfs_where w;
	struct tmpfs_node *n;
	long rc;

	if (mode & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if ((rc = tmpfs_lookup_at(dirfd, path, &n, &w)) == KX_HOSTPATH) {
		struct stat st;

		/* As root: a host file exists; X_OK wants an x bit. */
		if ((rc = hostfs_stat(&w, 0, &st)) != 0)
			return rc;
		return (mode & X_OK) && !S_ISDIR(st.st_mode) && !(st.st_mode & 0111) ? -EACCES
											  : 0;
	}
	if (rc != 0)
		return rc;
	/* As root: read and write always; execute when someone may. */
	if ((mode & X_OK) && !S_ISDIR(n->mode) && !(n->mode & 0111))
		return -EACCES;
	return 0;
}

KX_SYS(access)
{
	return access_at(AT_FDCWD, (const char *)a[0], (int)a[1], 0);
}

KX_SYS(faccessat)
{
	return access_at(a[0], (const char *)a[1], (int)a[2], 0);
}

KX_SYS(faccessat2)
{
	return access_at(a[0], (const char *)a[1], (int)a[2], (int)a[3]);
}

/* The last component of a path that makes a new name: not "", "." or "..",
 * in a directory that still exists, and not taken. */
static long new_name(long dirfd, const char *path, struct tmpfs_where *w)
{
	long rc = tmpfs_resolve(dirfd, path, w);

	if (rc != 0)
		return rc;
	if (tmpfs_child(w->dir, w->name))
		return -EEXIST;
	if (w->dir->nlink == 0)
		return -ENOENT;
	return 0;
}

static long mkdir_at(long dirfd, const char *path, mode_t mode)
{
	struct tmpfs_where w;
	struct tmpfs_node *n;
	long rc = new_name(dirfd, path, &w);

	if (rc == KX_HOSTPATH)
		return hostfs_mkdir(&w, mode & 07777 & ~tmpfs_umask);
	if (rc != 0)
		return rc;
	if ((rc = tmpfs_writable(w.dir)) != 0)
		return rc;
	n = tmpfs_node_new(S_IFDIR | (mode & 07777 & ~tmpfs_umask));
	if (!n)
		return -ENOSPC;
	if ((rc = tmpfs_link(w.dir, w.name, n)) != 0)
		tmpfs_maybe_free(n);
	return rc;
}

KX_SYS(mkdir)
{
	return mkdir_at(AT_FDCWD, (const char *)a[0], (mode_t)a[1]);
}

KX_SYS(mkdirat)
{
	return mkdir_at(a[0], (const char *)a[1], (mode_t)a[2]);
}

static long rmdir_at(long dirfd, const char *path)
{
	struct tmpfs_where w;
	struct tmpfs_node *n;
	long rc = tmpfs_resolve(dirfd, path, &w);

	if (rc == KX_HOSTPATH)
		return hostfs_unlink(&w, 1);
	if (rc != 0)
		return rc;
	if (strcmp(w.name, ".") == 0)
		return -EINVAL;
	if (strcmp(w.name, "..") == 0)
		return -ENOTEMPTY;
	if ((rc = tmpfs_writable(w.dir)) != 0)
		return rc; /* Linux: before the name is looked up */
	n = tmpfs_child(w.dir, w.name);
	if (!n)
		return -ENOENT;
	if (!S_ISDIR(n->mode))
		return -ENOTDIR;
	if (n == tmpfs_root || n->rofs)
		return -EBUSY; /* / or the image's tree's mount point */
	if (n->first)
		return -ENOTEMPTY;
	tmpfs_unlink(w.dir, w.name);
	return 0;
}

static long unlink_at(long dirfd, const char *path, int flags)
{
	struct tmpfs_where w;
	struct tmpfs_node *n;
	long rc;

	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	if (flags & AT_REMOVEDIR)
		return rmdir_at(dirfd, path);
	if ((rc = tmpfs_resolve(dirfd, path, &w)) == KX_HOSTPATH)
		return hostfs_unlink(&w, 0);
	if (rc != 0)
		return rc;
	if ((rc = tmpfs_writable(w.dir)) != 0)
		return rc; /* Linux: before the name is looked up */
	n = tmpfs_child(w.dir, w.name);
	if (!n)
		return -ENOENT;
	if (S_ISDIR(n->mode))
		return -EISDIR;
	if (w.trailing_slash)
		return -ENOTDIR;
	tmpfs_unlink(w.dir, w.name);
	return 0;
}

KX_SYS(unlink)
{
	return unlink_at(AT_FDCWD, (const char *)a[0], 0);
}

KX_SYS(unlinkat)
{
	return unlink_at(a[0], (const char *)a[1], (int)a[2]);
}

KX_SYS(rmdir)
{
	return rmdir_at(AT_FDCWD, (const char *)a[0]);
}

/* Is node d (a directory) a or inside a? */
static int inside(struct tmpfs_node *d, const struct tmpfs_node *a)
{
	for (;;) {
		if (d == a)
			return 1;
		if (d == tmpfs_root || d->parent == d)
			return 0;
		d = d->parent;
	}
}

static long rename_at(long olddirfd, const char *oldpath, long newdirfd, const char *newpath,
		      unsigned flags)
{
	struct tmpfs_where from, to;
	struct tmpfs_node *n, *target;
	long rc;

	if (flags & ~RENAME_NOREPLACE)
		return (flags & (RENAME_EXCHANGE | RENAME_WHITEOUT)) ? kx_enosys(SYS_renameat2)
								     : -EINVAL;
	{
		long rc_from = tmpfs_resolve(olddirfd, oldpath, &from);
		long rc_to = tmpfs_resolve(newdirfd, newpath, &to);

		if (rc_from == KX_HOSTPATH || rc_to == KX_HOSTPATH) {
			if (rc_from != KX_HOSTPATH && rc_from != 0)
				return rc_from;
			if (rc_to != KX_HOSTPATH && rc_to != 0)
				return rc_to;
			/* Between two mounts, or a mount and tmpfs: as Linux. */
			if (rc_from != rc_to || from.host != to.host)
				return -EXDEV;
			return hostfs_rename(&from, &to, flags);
		}
		if ((rc = rc_from) != 0 || (rc = rc_to) != 0)
			return rc;
	}
	if ((rc = tmpfs_same_writable(from.dir, to.dir)) != 0)
		return rc; /* Linux: EXDEV, then EROFS, before the names */
	n = tmpfs_child(from.dir, from.name);
	if (!n)
		return -ENOENT;
	if (n->rofs)
		return -EBUSY; /* the image's tree's mount point */
	if (from.name[0] == '\0' || strcmp(from.name, ".") == 0 || strcmp(from.name, "..") == 0 ||
	    to.name[0] == '\0' || strcmp(to.name, ".") == 0 || strcmp(to.name, "..") == 0)
		return -EBUSY;
	if ((from.trailing_slash || to.trailing_slash) && !S_ISDIR(n->mode))
		return -ENOTDIR;
	target = tmpfs_child(to.dir, to.name);
	if (target == n)
		return 0; /* two names of one node: Linux does nothing */
	if (target && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	if (S_ISDIR(n->mode)) {
		if (inside(to.dir, n))
			return -EINVAL; /* into its own subtree */
		if (target && !S_ISDIR(target->mode))
			return -ENOTDIR;
		if (target && target->first)
			return -ENOTEMPTY;
	} else if (target && S_ISDIR(target->mode)) {
		return -EISDIR;
	}
	if (to.dir->nlink == 0)
		return -ENOENT;
	{
		/* The one allocation first: a failure then changes nothing. */
		struct tmpfs_entry *e = tmpfs_entry_new(to.name);

		if (!e)
			return -ENOSPC;
		if (target)
			tmpfs_unlink(to.dir, to.name);
		tmpfs_move(from.dir, from.name, to.dir, e);
	}
	tmpfs_touch(n, TOUCH_C);
	return 0;
}

KX_SYS(rename)
{
	return rename_at(AT_FDCWD, (const char *)a[0], AT_FDCWD, (const char *)a[1], 0);
}

KX_SYS(renameat)
{
	return rename_at(a[0], (const char *)a[1], a[2], (const char *)a[3], 0);
}

KX_SYS(renameat2)
{
	return rename_at(a[0], (const char *)a[1], a[2], (const char *)a[3], (unsigned)a[4]);
}
static long link_at(long olddirfd, const char *oldpath, long newdirfd, const char *newpath,
		    int flags)
{
	struct tmpfs_where w;
	struct tmpfs_node *n;
	long rc;

	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if ((rc = tmpfs_lookup(olddirfd, oldpath, &n)) != 0)
		return rc;
	if (S_ISDIR(n->mode))
		return -EPERM;
	if ((rc = new_name(newdirfd, newpath, &w)) != 0)
		return rc;
	if ((rc = tmpfs_same_writable(n, w.dir)) != 0)
		return rc;
	if (w.trailing_slash)
		return -ENOENT;
	if (n->nlink == 0)
		return -ENOENT; /* an unlinked (open) file gets no new name */
	if ((rc = tmpfs_link(w.dir, w.name, n)) == 0)
		tmpfs_touch(n, TOUCH_C);
	return rc;
}

KX_SYS(link)
{
	return link_at(AT_FDCWD, (const char *)a[0], AT_FDCWD, (const char *)a[1], 0);
}

KX_SYS(linkat)
{
	return link_at(a[0], (const char *)a[1], a[2], (const char *)a[3], (int)a[4]);
}

KX_SYS(truncate)
{
	struct tmpfs_where w;
	struct tmpfs_node *n;
	long rc;

	if (a[1] < 0)
		return -EINVAL;
	if ((rc = tmpfs_lookup_at(AT_FDCWD, (const char *)a[0], &n, &w)) == KX_HOSTPATH)
		return hostfs_truncate(&w, (off_t)a[1]);
	if (rc != 0)
		return rc;
	if (S_ISDIR(n->mode))
		return -EISDIR;
	if (!S_ISREG(n->mode))
		return -EINVAL;
	if ((rc = tmpfs_resize(n, (size_t)a[1])) == 0)
		tmpfs_touch(n, TOUCH_M);
	return rc;
}

static void set_cwd(struct tmpfs_node *n)
{
	struct tmpfs_node *old = tmpfs_cwd;

	n->opens++;
	tmpfs_cwd = n;
	hostfs_cwd_mount = -1; /* back in tmpfs */
	old->opens--;
	tmpfs_maybe_free(old);
}

KX_SYS(chdir)
{
	struct tmpfs_where w;
	struct tmpfs_node *n;
	long rc = tmpfs_lookup_at(AT_FDCWD, (const char *)a[0], &n, &w);

	if (rc == KX_HOSTPATH)
		return hostfs_chdir(&w);
	if (rc != 0)
		return rc;
	if (!S_ISDIR(n->mode))
		return -ENOTDIR;
	set_cwd(n);
	return 0;
}

KX_SYS(fchdir)
{
	void *d;
	const char *hpath;
	int hmount;
	long rc;

	if (hostfs_fd_dir(a[0], &hmount, &hpath) == 0)
		return hostfs_chdir_to(hmount, hpath);
	rc = kx_tmpfs_fd_dir(a[0], &d);

	if (rc == 0)
		set_cwd(d);
	return rc;
}

/* The path of directory d, built backwards from the end of buf. */
KX_SYS(getcwd)
{
	char *buf = (char *)a[0];
	size_t size = (size_t)a[1];
	char path[PATH_MAX];
	size_t at = sizeof(path);
	struct tmpfs_node *d = tmpfs_cwd;

	if (hostfs_cwd_mount >= 0)
		return hostfs_getcwd(buf, size);
	if (d->nlink == 0)
		return -ENOENT; /* the cwd was removed */
	path[--at] = '\0';
	while (d != tmpfs_root) {
		struct tmpfs_node *up = d->parent;
		struct tmpfs_entry *e;
		size_t len;

		for (e = up->first; e && e->node != d; e = e->next)
			;
		if (!e)
			return -ENOENT;
		len = strlen(e->name);
		if (len + 1 > at)
			return -ENAMETOOLONG;
		at -= len;
		memcpy(path + at, e->name, len);
		path[--at] = '/';
		d = up;
	}
	if (at == sizeof(path) - 1)
		path[--at] = '/';
	if (size < sizeof(path) - at)
		return -ERANGE;
	memcpy(buf, path + at, sizeof(path) - at);
	return (long)(sizeof(path) - at); /* the length with its NUL, as Linux's */
}

KX_SYS(umask)
{
	mode_t old = tmpfs_umask;

	tmpfs_umask = (mode_t)a[0] & 0777;
	return (long)old;
}

static long chmod_node(struct tmpfs_node *n, mode_t mode)
{
	if (n->rofs)
		return -EROFS;
	n->mode = (n->mode & S_IFMT) | (mode & 07777);
	tmpfs_touch(n, TOUCH_C);
	return 0;
}

KX_SYS(chmod)
{
	struct tmpfs_node *n;
	long rc = tmpfs_lookup(AT_FDCWD, (const char *)a[0], &n);

	return rc ? rc : chmod_node(n, (mode_t)a[1]);
}

KX_SYS(fchmodat)
{
	struct tmpfs_node *n;
	long rc = tmpfs_lookup(a[0], (const char *)a[1], &n);

	return rc ? rc : chmod_node(n, (mode_t)a[2]);
}

/* The tmpfs node behind fd for f* calls; other objects have no attributes
 * to change (EPERM, as a pipe's on Linux as non-owner: nothing to keep). */
static long fd_node(long fd, struct tmpfs_node **n)
{
	struct kx_file *f = kx_fd_get(fd);

	if (!f)
		return -EBADF;
	*n = tmpfs_node_of(f);
	return *n ? 0 : -EPERM;
}

KX_SYS(fchmod)
{
	struct tmpfs_node *n;
	long rc = fd_node(a[0], &n);

	return rc ? rc : chmod_node(n, (mode_t)a[1]);
}

static long chown_node(struct tmpfs_node *n, long uid, long gid)
{
	if (n->rofs)
		return -EROFS;
	if (uid != -1)
		n->uid = (uid_t)uid;
	if (gid != -1)
		n->gid = (gid_t)gid;
	tmpfs_touch(n, TOUCH_C);
	return 0;
}

KX_SYS(chown)
{
	struct tmpfs_node *n;
	long rc = tmpfs_lookup(AT_FDCWD, (const char *)a[0], &n);

	return rc ? rc : chown_node(n, (int)a[1], (int)a[2]);
}

KX_SYS(lchown)
{
	return kx_sys_chown(a);
}

KX_SYS(fchown)
{
	struct tmpfs_node *n;
	long rc = fd_node(a[0], &n);

	return rc ? rc : chown_node(n, (int)a[1], (int)a[2]);
}

KX_SYS(fchownat)
{
	struct tmpfs_node *n;
	struct kx_file *f;
	long rc;

	if (a[4] & ~(long)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	{
		struct tmpfs_where w;

		if ((rc = node_at(a[0], (const char *)a[1], (int)a[4], &n, &f, &w)) != 0)
			return rc;
	}
	return n ? chown_node(n, (int)a[2], (int)a[3]) : -EPERM;
}

static int valid_nsec(long nsec)
{
	return (nsec >= 0 && nsec < 1000000000l) || nsec == UTIME_NOW || nsec == UTIME_OMIT;
}

static void set_time(struct timespec *t, const struct timespec *want, const struct timespec *now)
{
	if (want->tv_nsec == UTIME_OMIT)
		return;
	*t = want->tv_nsec == UTIME_NOW ? *now : *want;
}

KX_SYS(utimensat)
{
	const struct timespec *ts = (const struct timespec *)a[2];
	const char *path = (const char *)a[1];
	int flags = (int)a[3];
	struct tmpfs_node *n;
	struct timespec now;
	long rc;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (ts && (!valid_nsec(ts[0].tv_nsec) || !valid_nsec(ts[1].tv_nsec)))
		return -EINVAL;
	if (!path)
		rc = fd_node(a[0], &n); /* futimens */
	else
		rc = tmpfs_lookup(a[0], path, &n);
	if (rc != 0)
		return rc;
	if ((rc = tmpfs_writable(n)) != 0)
		return rc;
	kx_timespec_now(CLOCK_REALTIME, &now);
	if (ts) {
		set_time(&n->atime, &ts[0], &now);
		set_time(&n->mtime, &ts[1], &now);
	} else {
		n->atime = n->mtime = now;
	}
	n->ctime = now;
	return 0;
}

/* There are no symbolic links: an existing name is not one (EINVAL). */
static long readlink_at(long dirfd, const char *path, long size)
{
	struct tmpfs_node *n;
	long rc;

	if (size <= 0)
		return -EINVAL;
	rc = tmpfs_lookup(dirfd, path, &n);
	return rc ? rc : -EINVAL;
}

KX_SYS(readlink)
{
	return readlink_at(AT_FDCWD, (const char *)a[0], a[2]);
}

KX_SYS(readlinkat)
{
	return readlink_at(a[0], (const char *)a[1], a[3]);
}

static long fill_statfs(struct statfs *s)
{
	const struct kx_boot_info *b = kx_boot_info();

	memset(s, 0, sizeof(*s));
	s->f_type = TMPFS_MAGIC;
	s->f_bsize = 4096;
	s->f_frsize = 4096;
	s->f_blocks = b->heap_size / 4096;
	s->f_bfree = s->f_bavail = kx_mem_free_bytes() / 4096;
	s->f_files = s->f_ffree = s->f_bfree;
	s->f_namelen = NAME_MAX;
	return 0;
}

KX_SYS(statfs)
{
	struct tmpfs_node *n;
	long rc = tmpfs_lookup(AT_FDCWD, (const char *)a[0], &n);

	return rc ? rc : fill_statfs((struct statfs *)a[1]);
}

KX_SYS(fstatfs)
{
	return kx_fd_get(a[0]) ? fill_statfs((struct statfs *)a[1]) : -EBADF;
}
