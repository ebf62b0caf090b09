/*
 * tmpfs.h — private to tmpfs.c and fs.c: the in-memory file system's
 * nodes and path resolution.
 *
 * tmpfs is the name space of a pVM (/, with /tmp and /dev); the image's
 * signed tree lives in it as read-only nodes (`rofs`, imagefs.c).
 */
#ifndef KX_POSIX_TMPFS_H
#define KX_POSIX_TMPFS_H

#include <limits.h>

#include "guest/posix/posix.h"

struct tmpfs_entry;

struct tmpfs_node {
	mode_t mode; /* S_IFREG, S_IFDIR or S_IFCHR | permission bits */
	ino_t ino;
	nlink_t nlink;	/* names (and, for a directory, "." and its children's "..") */
	unsigned opens; /* open descriptions, the cwd and O_TMPFILE files */
	unsigned char rofs; /* the image's tree (imagefs.c): read-only, EROFS */
	unsigned short hostmnt; /* 1 + the index of the host mount this is (hostfs.c) */
	uid_t uid;
	gid_t gid;
	struct timespec atime, mtime, ctime;
	const struct kx_file_ops *dev; /* S_IFCHR: the device */
	/* S_IFREG (rofs: the pack's bytes in the image, never freed) */
	char *data;
	size_t size, cap;
	/* S_IFDIR: entries in the order they were made; cookies never reused */
	struct tmpfs_entry *first, *last;
	uint64_t next_cookie;
	struct tmpfs_node *parent; /* the root is its own parent */
};

struct tmpfs_entry {
	struct tmpfs_entry *next;
	struct tmpfs_node *node;
	uint64_t cookie; /* the getdents64/telldir position of this entry */
	char name[];
};

/* Where a path leads: the directory holding its last component, and that
 * component ("" when the path is "/"); trailing_slash when it ended in
 * '/' (then it must name a directory). */
struct tmpfs_where {
	struct tmpfs_node *dir;
	char name[NAME_MAX + 1];
	int trailing_slash;
	/* KX_HOSTPATH: the path goes on in host mount `host`, as `rest`
	 * (relative to the mount's root; "" is the root). */
	int host;
	char rest[PATH_MAX];
};

extern struct tmpfs_node *tmpfs_root, *tmpfs_cwd;
extern mode_t tmpfs_umask;

/* 0, -errno, or KX_HOSTPATH (w->host, w->rest): the path enters a host mount. */
long tmpfs_resolve(long dirfd, const char *path, struct tmpfs_where *w);
/* The node the last component names (NULL: none); "." and ".." too. */
struct tmpfs_node *tmpfs_child(struct tmpfs_node *dir, const char *name);
/* resolve + child: -ENOENT, -ENOTDIR (a trailing slash on a non-directory). */
long tmpfs_lookup(long dirfd, const char *path, struct tmpfs_node **out);
/* The same, with the resolution in *w (for KX_HOSTPATH). */
long tmpfs_lookup_at(long dirfd, const char *path, struct tmpfs_node **out,
		     struct tmpfs_where *w);
/* The directory at the absolute normalised path[0..len) made for a mount:
 * missing parents as ordinary directories (0755), the last one new (it
 * must not exist: the pVM panics) with mode; NULL when a parent is not an
 * ordinary directory. */
struct tmpfs_node *tmpfs_mount_point(const char *path, size_t len, mode_t mode);
/* The tmpfs file or directory behind an open description; NULL for other
 * kinds (pipes, the console, devices). */
struct tmpfs_node *tmpfs_node_of(struct kx_file *f);

struct tmpfs_node *tmpfs_node_new(mode_t mode);
/* Name node in dir (the name is not there yet); -ENOMEM. */
long tmpfs_link(struct tmpfs_node *dir, const char *name, struct tmpfs_node *node);
/* A new entry called name (NULL: no memory), for tmpfs_move. */
struct tmpfs_entry *tmpfs_entry_new(const char *name);
/* Move from/from_name (it exists) into `to` under the entry e. */
void tmpfs_move(struct tmpfs_node *from, const char *from_name, struct tmpfs_node *to,
		struct tmpfs_entry *e);
/* Remove the name from dir; the node goes when nothing holds it. */
void tmpfs_unlink(struct tmpfs_node *dir, const char *name);
struct tmpfs_entry *tmpfs_entry_of(struct tmpfs_node *dir, const char *name);
/* A node lost a holder (a name, an open, the cwd): free it if it was the last. */
void tmpfs_maybe_free(struct tmpfs_node *node);
long tmpfs_stat(const struct tmpfs_node *node, struct stat *st);
long tmpfs_resize(struct tmpfs_node *node, size_t size);
void tmpfs_touch(struct tmpfs_node *node, int what); /* TOUCH_* */
/* A change below dir (a new, removed or moved name) or to a node: -EROFS
 * on the image's tree, 0 elsewhere. */
long tmpfs_writable(const struct tmpfs_node *node);
/* Between the image's tree and the rest: -EXDEV, as between two mounts;
 * inside the tree: -EROFS; 0 elsewhere. */
long tmpfs_same_writable(const struct tmpfs_node *a, const struct tmpfs_node *b);

/* The image's packed tree (imagefs.c), mounted by kx_tmpfs_init. */
void kx_imagefs_init(void);

/* Host directories (hostfs.c), mounted by kx_tmpfs_init: the calls that
 * follow a path into one (w from tmpfs_resolve's KX_HOSTPATH). */
void kx_hostfs_init(void);
long hostfs_open(const struct tmpfs_where *w, int flags, mode_t mode);
long hostfs_stat(const struct tmpfs_where *w, int nofollow, struct stat *st);
long hostfs_mkdir(const struct tmpfs_where *w, mode_t mode);
long hostfs_unlink(const struct tmpfs_where *w, int rmdir);
long hostfs_rename(const struct tmpfs_where *from, const struct tmpfs_where *to,
		   unsigned flags);
long hostfs_truncate(const struct tmpfs_where *w, off_t len);
/* The host directory fd names: its mount and path (0), or -ENOTDIR. */
long hostfs_fd_dir(long fd, int *mount, const char **path);
/* The cwd when it is in a host directory (mount >= 0; path relative to the
 * mount, normalised); tmpfs_cwd is the cwd otherwise. */
extern int hostfs_cwd_mount;
extern char hostfs_cwd_path[PATH_MAX];
/* chdir into w (a host directory), fchdir to (mount, path): 0 or -errno. */
long hostfs_chdir(const struct tmpfs_where *w);
long hostfs_chdir_to(int mount, const char *path);
/* getcwd when the cwd is a host directory: the length with its NUL. */
long hostfs_getcwd(char *buf, size_t size);
#define TOUCH_M 1 /* contents changed: mtime and ctime */
#define TOUCH_C 2 /* attributes changed: ctime */

#endif /* KX_POSIX_TMPFS_H */
