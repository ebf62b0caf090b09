/*
 * tmpfs.c — the in-memory file system: nodes, path resolution, regular
 * files and directories as fd objects, open/openat/creat/memfd_create.
 * The path system calls (stat, mkdir, unlink, rename, ...) are in fs.c.
 *
 * Paths are resolved as Linux resolves them (absolute, or from the cwd or
 * a directory fd; "." and ".."; ".." of / is /; a trailing slash demands a
 * directory; PATH_MAX and NAME_MAX give ENAMETOOLONG).  There are no
 * symbolic links.  The pVM runs as root (posix.h): permission bits are
 * kept and reported but, as for root, they do not refuse access.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>

#include "guest/posix/tmpfs.h"

struct tmpfs_node *tmpfs_root, *tmpfs_cwd;
mode_t tmpfs_umask = 022;
static ino_t next_ino = 1;

static const struct kx_file_ops reg_ops, dir_ops;

struct tmpfs_node *tmpfs_node_new(mode_t mode)
{
	struct tmpfs_node *n = kx_kalloc(sizeof(*n));

	if (!n)
		return NULL;
	n->mode = mode;
	n->ino = next_ino++;
	n->uid = KX_UID;
	n->gid = KX_GID;
	n->next_cookie = 2; /* 0 and 1 are "." and ".." */
	kx_timespec_now(CLOCK_REALTIME, &n->mtime);
	n->atime = n->ctime = n->mtime;
	return n;
}

void tmpfs_maybe_free(struct tmpfs_node *n)
{
	if (n->nlink > 0 || n->opens > 0 || n == tmpfs_root || n->rofs)
		return;
	kx_kfree(n->data);
	kx_kfree(n);
}

long tmpfs_writable(const struct tmpfs_node *n)
{
	return n->rofs ? -EROFS : 0;
}

long tmpfs_same_writable(const struct tmpfs_node *a, const struct tmpfs_node *b)
{
	if (a->rofs != b->rofs)
		return -EXDEV;
	return tmpfs_writable(a);
}

void tmpfs_touch(struct tmpfs_node *n, int what)
{
	struct timespec now;

	kx_timespec_now(CLOCK_REALTIME, &now);
	n->ctime = now;
	if (what & TOUCH_M)
		n->mtime = now;
}

struct tmpfs_entry *tmpfs_entry_of(struct tmpfs_node *dir, const char *name)
{
	for (struct tmpfs_entry *e = dir->first; e; e = e->next)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

struct tmpfs_node *tmpfs_child(struct tmpfs_node *dir, const char *name)
{
	struct tmpfs_entry *e;

	if (name[0] == '\0' || strcmp(name, ".") == 0)
		return dir;
	if (strcmp(name, "..") == 0)
		return dir->parent;
	e = tmpfs_entry_of(dir, name);
	return e ? e->node : NULL;
}

struct tmpfs_entry *tmpfs_entry_new(const char *name)
{
	size_t len = strlen(name);
	struct tmpfs_entry *e = kx_kalloc(sizeof(*e) + len + 1);

	if (e) {
		memcpy(e->name, name, len + 1);
		e->next = NULL;
		e->node = NULL;
	}
	return e;
}

static void append(struct tmpfs_node *dir, struct tmpfs_entry *e)
{
	e->cookie = dir->next_cookie++;
	e->next = NULL;
	if (dir->last)
		dir->last->next = e;
	else
		dir->first = e;
	dir->last = e;
	tmpfs_touch(dir, TOUCH_M);
}

/* Take name's entry out of dir's list (NULL: no such name). */
static struct tmpfs_entry *detach(struct tmpfs_node *dir, const char *name)
{
	struct tmpfs_entry *prev = NULL, *e;

	for (e = dir->first; e && strcmp(e->name, name) != 0; e = e->next)
		prev = e;
	if (!e)
		return NULL;
	if (prev)
		prev->next = e->next;
	else
		dir->first = e->next;
	if (dir->last == e)
		dir->last = prev;
	tmpfs_touch(dir, TOUCH_M);
	return e;
}

long tmpfs_link(struct tmpfs_node *dir, const char *name, struct tmpfs_node *node)
{
	struct tmpfs_entry *e = tmpfs_entry_new(name);

	if (!e)
		return -ENOSPC;
	e->node = node;
	append(dir, e);
	node->nlink++;
	if (S_ISDIR(node->mode)) {
		node->parent = dir;
		node->nlink++; /* its "." */
		dir->nlink++;  /* its ".." */
	}
	return 0;
}

void tmpfs_move(struct tmpfs_node *from, const char *from_name, struct tmpfs_node *to,
		struct tmpfs_entry *e)
{
	struct tmpfs_entry *old = detach(from, from_name);

	e->node = old->node;
	kx_kfree(old);
	append(to, e);
	if (S_ISDIR(e->node->mode) && from != to) {
		from->nlink--; /* its ".." moves */
		to->nlink++;
		e->node->parent = to;
	}
}

void tmpfs_unlink(struct tmpfs_node *dir, const char *name)
{
	struct tmpfs_entry *e = detach(dir, name);

	if (!e)
		return;
	if (S_ISDIR(e->node->mode)) {
		e->node->nlink = 0; /* its name and its "." go together */
		dir->nlink--;	    /* and its ".." */
	} else {
		e->node->nlink--;
		tmpfs_touch(e->node, TOUCH_C);
	}
	tmpfs_maybe_free(e->node);
	kx_kfree(e);
}

/* The tmpfs node behind an open description, or NULL for other kinds
 * (devices are their own objects once open). */
struct tmpfs_node *tmpfs_node_of(struct kx_file *f)
{
	return f->ops == &reg_ops || f->ops == &dir_ops ? f->obj : NULL;
}

long kx_tmpfs_fd_dir(long fd, void **dir)
{
	struct kx_file *f = kx_fd_get(fd);
	struct tmpfs_node *n;

	if (!f)
		return -EBADF;
	n = tmpfs_node_of(f);
	if (!n || !S_ISDIR(n->mode))
		return -ENOTDIR;
	*dir = n;
	return 0;
}

/* The rest of a path goes on in host mount `mount`, below `prefix`. */
static long to_host(struct tmpfs_where *w, int mount, const char *prefix, const char *rest)
{
	size_t plen = strlen(prefix), rlen = strlen(rest);

	if (plen + 1 + rlen >= sizeof(w->rest))
		return -ENAMETOOLONG;
	memcpy(w->rest, prefix, plen);
	if (plen > 0 && rlen > 0)
		w->rest[plen++] = '/';
	memcpy(w->rest + plen, rest, rlen + 1);
	w->host = mount;
	return KX_HOSTPATH;
}

long tmpfs_resolve(long dirfd, const char *path, struct tmpfs_where *w)
{
	struct tmpfs_node *cur;
	const char *p = path;
	size_t len = strnlen(path, PATH_MAX);

	w->host = -1;
	if (len == 0)
		return -ENOENT;
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	if (*p == '/') {
		cur = tmpfs_root;
	} else if (dirfd == AT_FDCWD) {
		if (hostfs_cwd_mount >= 0)
			return to_host(w, hostfs_cwd_mount, hostfs_cwd_path, path);
		cur = tmpfs_cwd;
	} else {
		void *d;
		const char *hpath;
		int hmount;
		long rc;

		if (hostfs_fd_dir(dirfd, &hmount, &hpath) == 0)
			return to_host(w, hmount, hpath, path);
		rc = kx_tmpfs_fd_dir(dirfd, &d);
		if (rc != 0)
			return rc;
		cur = d;
	}
	w->trailing_slash = 0;
	w->name[0] = '\0';
	for (;;) {
		const char *start, *end;
		size_t n;

		while (*p == '/')
			p++;
		if (cur->hostmnt)
			return to_host(w, cur->hostmnt - 1, "", p);
		start = p;
		while (*p && *p != '/')
			p++;
		end = p;
		n = (size_t)(end - start);
		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		while (*p == '/')
			p++;
		if (*p == '\0') {
			/* the last component ("" for "/") */
			struct tmpfs_node *last;

			memcpy(w->name, start, n);
			w->name[n] = '\0';
			w->trailing_slash = n > 0 && *end == '/';
			w->dir = cur;
			last = n > 0 && strcmp(w->name, "..") != 0 ? tmpfs_child(cur, w->name) : NULL;
			if (last && last != cur && last->hostmnt)
				return to_host(w, last->hostmnt - 1, "", ""); /* the mount's root */
			return 0;
		}
		{
			char name[NAME_MAX + 1];
			struct tmpfs_node *next;

			memcpy(name, start, n);
			name[n] = '\0';
			next = tmpfs_child(cur, name);
			if (!next)
				return -ENOENT;
			if (!S_ISDIR(next->mode))
				return -ENOTDIR;
			cur = next;
		}
	}
}

long tmpfs_lookup_at(long dirfd, const char *path, struct tmpfs_node **out,
		     struct tmpfs_where *w)
{
	struct tmpfs_node *n;
	long rc = tmpfs_resolve(dirfd, path, w);

	if (rc != 0)
		return rc;
	n = tmpfs_child(w->dir, w->name);
	if (!n)
		return -ENOENT;
	if (w->trailing_slash && !S_ISDIR(n->mode))
		return -ENOTDIR;
	*out = n;
	return 0;
}

long tmpfs_lookup(long dirfd, const char *path, struct tmpfs_node **out)
{
	struct tmpfs_where w;

	return tmpfs_lookup_at(dirfd, path, out, &w);
}

struct tmpfs_node *tmpfs_mount_point(const char *path, size_t len, mode_t mode)
{
	struct tmpfs_node *d = tmpfs_root;
	size_t at = 1;

	while (at < len) {
		size_t end = at;
		char name[NAME_MAX + 1];
		struct tmpfs_node *n;
		int last;

		while (end < len && path[end] != '/')
			end++;
		last = end == len;
		if (end - at > NAME_MAX)
			return NULL;
		memcpy(name, path + at, end - at);
		name[end - at] = '\0';
		n = tmpfs_child(d, name);
		if (n && last)
			kx_panic("posix: cannot mount at %.*s: %s exists", (int)len, path, name);
		if (n && (!S_ISDIR(n->mode) || n->rofs || n->hostmnt))
			return NULL;
		if (!n) {
			n = tmpfs_node_new(S_IFDIR | (last ? mode : 0755));
			if (!n || tmpfs_link(d, name, n) != 0)
				kx_panic("posix: no memory for the file system");
		}
		d = n;
		at = end + 1;
	}
	return d;
}

long tmpfs_stat(const struct tmpfs_node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(0, 1);
	st->st_ino = n->ino;
	st->st_nlink = n->nlink;
	st->st_mode = n->mode;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_size = S_ISDIR(n->mode) ? 40 + 20 * (off_t)(n->next_cookie - 2) : (off_t)n->size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((n->size + 4095) / 4096 * 8);
	st->st_atim = n->atime;
	st->st_mtim = n->mtime;
	st->st_ctim = n->ctime;
	if (n->dev) {
		/* The device says what it is (mode, rdev); the node who it is. */
		long rc = n->dev->stat(NULL, st);

		st->st_ino = n->ino;
		return rc;
	}
	return 0;
}

long tmpfs_resize(struct tmpfs_node *n, size_t size)
{
	if (n->rofs)
		return -EROFS;
	if (size > n->cap) {
		size_t cap = n->cap ? n->cap : 256;
		char *data;

		while (cap < size)
			cap = cap > SIZE_MAX / 2 ? size : cap * 2;
		data = kx_krealloc(n->data, cap);
		if (!data)
			return -ENOSPC; /* the pVM's memory is full: tmpfs is */
		n->data = data;
		n->cap = cap;
	}
	if (size > n->size)
		memset(n->data + n->size, 0, size - n->size);
	n->size = size;
	return 0;
}

/* ---- regular files ---- */

static long reg_read(struct kx_file *f, void *buf, size_t len, off_t *off)
{
	struct tmpfs_node *n = f->obj;
	size_t got;

	if (*off < 0 || (uint64_t)*off >= n->size)
		return 0;
	got = n->size - (size_t)*off;
	if (got > len)
		got = len;
	memcpy(buf, n->data + *off, got);
	*off += (off_t)got;
	return (long)got;
}

static long reg_write(struct kx_file *f, const void *buf, size_t len, off_t *off)
{
	struct tmpfs_node *n = f->obj;
	size_t end;
	long rc;

	if (len == 0)
		return 0;
	if (__builtin_add_overflow((size_t)*off, len, &end) || end > (size_t)LONG_MAX)
		return -EFBIG;
	if (end > n->size && (rc = tmpfs_resize(n, end)) != 0)
		return rc;
	memcpy(n->data + *off, buf, len);
	*off = (off_t)end;
	tmpfs_touch(n, TOUCH_M);
	return (long)len;
}

static long reg_size(struct kx_file *f, off_t *size)
{
	*size = (off_t)((struct tmpfs_node *)f->obj)->size;
	return 0;
}

static long node_fstat(struct kx_file *f, struct stat *st)
{
	return tmpfs_stat(f->obj, st);
}

static long reg_truncate(struct kx_file *f, off_t len)
{
	struct tmpfs_node *n = f->obj;
	long rc = tmpfs_resize(n, (size_t)len);

	if (rc == 0)
		tmpfs_touch(n, TOUCH_M);
	return rc;
}

static void node_release(struct kx_file *f)
{
	struct tmpfs_node *n = f->obj;

	n->opens--;
	tmpfs_maybe_free(n);
}

static const struct kx_file_ops reg_ops = {
	.kind = "tmpfs file",
	.read = reg_read,
	.write = reg_write,
	.size = reg_size,
	.stat = node_fstat,
	.truncate = reg_truncate,
	.release = node_release,
};

/* ---- directories ---- */

static long dir_read(struct kx_file *f, void *buf, size_t len, off_t *off)
{
	(void)f, (void)buf, (void)len, (void)off;
	return -EISDIR;
}

/* lseek on a directory: SEEK_SET and SEEK_CUR (positions are cookies). */
static long dir_size(struct kx_file *f, off_t *size)
{
	(void)f, (void)size;
	return -EINVAL;
}

struct dirent64_hdr {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

static int put_dirent(char *buf, size_t len, size_t *at, uint64_t ino, uint64_t next,
		      unsigned char type, const char *name)
{
	size_t nlen = strlen(name);
	size_t rec = (offsetof(struct dirent64_hdr, d_name) + nlen + 1 + 7) & ~(size_t)7;
	struct dirent64_hdr *d;

	if (rec > len - *at)
		return 0;
	d = (struct dirent64_hdr *)(buf + *at);
	d->d_ino = ino;
	d->d_off = (int64_t)next;
	d->d_reclen = (uint16_t)rec;
	d->d_type = type;
	memcpy(d->d_name, name, nlen + 1);
	memset(d->d_name + nlen + 1, 0, rec - offsetof(struct dirent64_hdr, d_name) - nlen - 1);
	*at += rec;
	return 1;
}

static unsigned char dtype(mode_t m)
{
	return S_ISDIR(m) ? DT_DIR : S_ISCHR(m) ? DT_CHR : DT_REG;
}

static long dir_getdents(struct kx_file *f, void *buf, size_t len)
{
	struct tmpfs_node *d = f->obj;
	size_t at = 0;

	if (d->nlink == 0)
		return 0; /* removed while open: nothing left to list */
	if (f->pos == 0) {
		if (!put_dirent(buf, len, &at, d->ino, 1, DT_DIR, "."))
			return -EINVAL;
		f->pos = 1;
	}
	if (f->pos == 1) {
		if (!put_dirent(buf, len, &at, d->parent->ino, 2, DT_DIR, ".."))
			return at ? (long)at : -EINVAL;
		f->pos = 2;
	}
	for (struct tmpfs_entry *e = d->first; e; e = e->next) {
		if (e->cookie < (uint64_t)f->pos)
			continue;
		if (!put_dirent(buf, len, &at, e->node->ino, e->cookie + 1, dtype(e->node->mode),
				e->name))
			return at ? (long)at : -EINVAL;
		f->pos = (off_t)(e->cookie + 1);
	}
	return (long)at;
}

static const struct kx_file_ops dir_ops = {
	.kind = "tmpfs directory",
	.read = dir_read,
	.size = dir_size,
	.stat = node_fstat,
	.getdents = dir_getdents,
	.release = node_release,
};

/* ---- open ---- */

/* A description of n with open flags; n gains an open (devices, opened,
 * are objects of their own and do not hold their node). */
static long open_node(struct tmpfs_node *n, int flags)
{
	const struct kx_file_ops *ops = S_ISDIR(n->mode) ? &dir_ops : n->dev ? n->dev : &reg_ops;
	int keep = O_ACCMODE | O_APPEND | O_NONBLOCK | O_PATH | O_DIRECTORY | O_NOATIME |
		   O_SYNC | O_DSYNC | O_DIRECT;
	struct kx_file *f = kx_file_new(ops, n->dev ? NULL : n, (flags & keep) | O_LARGEFILE);
	long fd;

	if (!f)
		return -ENOMEM;
	if (!n->dev)
		n->opens++;
	fd = kx_fd_install(f, 0, flags & O_CLOEXEC);
	kx_file_put(f); /* the fd holds it now, or nothing does */
	return fd;
}

/* A file with no name in dir (O_TMPFILE, memfd_create). */
static long open_unnamed(int flags)
{
	struct tmpfs_node *n = tmpfs_node_new(S_IFREG | (0600 & ~tmpfs_umask));
	long fd;

	if (!n)
		return -ENOMEM;
	fd = open_node(n, flags);
	if (fd < 0)
		tmpfs_maybe_free(n);
	return fd;
}

static long open_at(long dirfd, const char *path, int flags, mode_t mode)
{
	struct tmpfs_where w;
	struct tmpfs_node *n;
	int acc = flags & O_ACCMODE;
	long rc;

	if (acc == O_ACCMODE)
		return -EINVAL;
	if (flags & O_PATH)
		flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	if ((flags & O_TMPFILE) == O_TMPFILE) {
		if (acc == O_RDONLY || (flags & O_CREAT))
			return -EINVAL;
		if ((rc = tmpfs_lookup(dirfd, path, &n)) != 0)
			return rc; /* a host directory: KX_HOSTPATH, EOPNOTSUPP */
		if (!S_ISDIR(n->mode))
			return -ENOTDIR;
		if ((rc = tmpfs_writable(n)) != 0)
			return rc;
		return open_unnamed(flags & ~O_TMPFILE);
	}
	if ((rc = tmpfs_resolve(dirfd, path, &w)) == KX_HOSTPATH)
		return hostfs_open(&w, flags, mode & 07777 & ~tmpfs_umask);
	if (rc != 0)
		return rc;
	n = tmpfs_child(w.dir, w.name);
	if (!n) {
		if (!(flags & O_CREAT))
			return -ENOENT;
		if (w.trailing_slash || (flags & O_DIRECTORY))
			return -EISDIR;
		if (w.dir->nlink == 0)
			return -ENOENT; /* a removed directory takes no new names */
		if ((rc = tmpfs_writable(w.dir)) != 0)
			return rc;
		n = tmpfs_node_new(S_IFREG | (mode & 07777 & ~tmpfs_umask));
		if (!n)
			return -ENOSPC;
		if ((rc = tmpfs_link(w.dir, w.name, n)) != 0) {
			tmpfs_maybe_free(n);
			return rc;
		}
		return open_node(n, flags);
	}
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		return -EEXIST;
	if (S_ISDIR(n->mode)) {
		if (!(flags & O_PATH) && (acc != O_RDONLY || (flags & (O_CREAT | O_TRUNC))))
			return -EISDIR;
	} else if (w.trailing_slash || (flags & O_DIRECTORY)) {
		return -ENOTDIR;
	}
	if (n->rofs && !(flags & O_PATH) && (acc != O_RDONLY || (flags & O_TRUNC)))
		return -EROFS;
	if (S_ISREG(n->mode) && (flags & O_TRUNC) && acc != O_RDONLY && n->size > 0) {
		if ((rc = tmpfs_resize(n, 0)) != 0)
			return rc;
		tmpfs_touch(n, TOUCH_M);
	}
	return open_node(n, flags);
}

KX_SYS(open)
{
	return open_at(AT_FDCWD, (const char *)a[0], (int)a[1], (mode_t)a[2]);
}

KX_SYS(openat)
{
	return open_at(a[0], (const char *)a[1], (int)a[2], (mode_t)a[3]);
}

KX_SYS(creat)
{
	return open_at(AT_FDCWD, (const char *)a[0], O_CREAT | O_WRONLY | O_TRUNC,
			     (mode_t)a[1]);
}

KX_SYS(memfd_create)
{
	unsigned flags = (unsigned)a[1];

	if (strnlen((const char *)a[0], 250) >= 250)
		return -EINVAL; /* Linux: at most 249 bytes of name */
	if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING))
		return -EINVAL;
	return open_unnamed(O_RDWR | ((flags & MFD_CLOEXEC) ? O_CLOEXEC : 0));
}

/* A character device node in dir. */
static void add_device(struct tmpfs_node *dir, const char *name, const struct kx_file_ops *ops)
{
	struct tmpfs_node *n = tmpfs_node_new(S_IFCHR | 0666);

	if (!n || tmpfs_link(dir, name, n) != 0)
		kx_panic("posix: no memory for the file system");
	n->dev = ops;
}

/* / with /tmp (sticky, 1777) and /dev holding null, zero and, with
 * RDRAND, random and urandom; the cwd is /. */
void kx_tmpfs_init(void)
{
	struct tmpfs_node *tmp, *dev;
	char probe;

	tmpfs_root = tmpfs_node_new(S_IFDIR | 0755);
	tmp = tmpfs_node_new(S_IFDIR | 01777);
	dev = tmpfs_node_new(S_IFDIR | 0755);
	if (!tmpfs_root || !tmp || !dev)
		kx_panic("posix: no memory for the file system");
	tmpfs_root->parent = tmpfs_root;
	tmpfs_root->nlink = 2;
	if (tmpfs_link(tmpfs_root, "tmp", tmp) || tmpfs_link(tmpfs_root, "dev", dev))
		kx_panic("posix: no memory for the file system");
	add_device(dev, "null", &kx_null_ops);
	add_device(dev, "zero", &kx_zero_ops);
	if (kx_random(&probe, 1) == 1) {
		add_device(dev, "random", &kx_urandom_ops);
		add_device(dev, "urandom", &kx_urandom_ops);
	}
	tmpfs_cwd = tmpfs_root;
	tmpfs_root->opens++; /* the cwd holds it */
	kx_imagefs_init();
	kx_hostfs_init();
}
