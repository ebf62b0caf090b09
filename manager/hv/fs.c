/*
 * fs.c — host directories granted by the app's `files` rules: the monitor's
 * half of the guest's hostfs (guest/posix/hostfs.c; docs/posix.md "Files:
 * host directories", docs/guest-abi.md "Host directories").
 *
 * While the image loads (setup), the monitor asks kxd for mount 0, 1, ...
 * (FS_MOUNT_REQ): kxd decides each with gate_file (audited), opens the host
 * directory O_PATH|O_DIRECTORY and passes it; a denial fails the boot.  The
 * guest then asks for paths *relative to a mount*, and every one is resolved
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) from the mount's
 * directory fd: "..", absolute paths and symbolic links that would leave it
 * fail with EXDEV (the kernel refuses them, not a string check here).  Calls
 * that make, remove or rename a name resolve the name's *directory* that
 * way and act on one final component ("." and ".." refused), so neither
 * can a rename move a file out.
 *
 * A read-only mount refuses every change (EROFS) here, whatever the guest
 * asks.  A writable mount has a size cap: the bytes of regular files below
 * it, counted at mount time and kept up to date by every write, truncate,
 * unlink and rename made through this pVM (changes made on the host behind
 * its back are not seen until the next boot).  Bytes leave the count only
 * when they leave the disk: a removed file this pVM holds open at its last
 * close.  A write that would pass the
 * cap is cut short, or fails with ENOSPC when nothing fits.  The counts
 * live in a shared page, so a forked pVM's monitor (a copy of this process)
 * and its parent draw on one cap: before, each child started with its own
 * copy, and fork-write-exit wrote a cap per child (a review finding).
 * Monitors update them atomically: bytes are reserved before a write and
 * what was not written is given back.
 *
 * Only regular files and directories are opened: anything else (a device,
 * FIFO or socket a host user left there) is ENXIO.  Opens always add
 * O_NOCTTY | O_NONBLOCK | O_CLOEXEC, so no open can block or take a tty.
 *
 * Host system calls this file makes (for the jail's seccomp allowlist):
 *   openat2 (every open: RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), close,
 *   fstat / newfstatat (fstatat, also AT_EMPTY_PATH on O_PATH fds),
 *   pread64, pwrite64, lseek, getdents64 (also through fdopendir/readdir
 *   when the cap is counted at boot, with fcntl F_GETFL), mkdirat,
 *   unlinkat, renameat2, ftruncate, fsync, fdatasync; and the channel's
 *   recvmsg for the directory fds kxd passes (kxmon/client.c).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "manager/hv/internal.h"

/*
 * One page shared by a pVM's monitor and every monitor forked from it
 * (MAP_SHARED survives the fork): the counts, and how many monitors hold
 * the mounts.  Whether a removed file's bytes left the disk depends on
 * every holder, and a monitor sees only its own handles: while others may
 * hold copies, nothing removed or truncated is given back (the count only
 * errs high) and the mount is marked stale; once one monitor is left and a
 * write does not fit, it counts the mount again (recount).  Before, a file
 * held by parent and child was given back once per monitor (a review
 * finding: the disk filled past the cap).
 */
struct fs_shared {
	uint64_t used[KX_FS_MOUNTS_MAX];
	uint32_t stale[KX_FS_MOUNTS_MAX];
	uint32_t monitors;
};

struct fs_mount {
	int root; /* O_PATH|O_DIRECTORY, from kxd */
	bool writable;
	uint64_t max;  /* writable: the cap... */
	uint64_t *used; /* ...and the bytes counted, in the shared page */
	uint32_t *stale; /* a give-back was held back there */
	char guest[KXMON_FS_GUEST_MAX];
};

struct fs_handle {
	int fd; /* -1: free */
	uint32_t mount;
};

struct hv_fs {
	struct fs_shared *shared; /* MAP_SHARED: the family's counts */
	uint32_t nmounts;
	struct fs_mount mounts[KX_FS_MOUNTS_MAX];
	struct fs_handle handles[KX_FS_HANDLES_MAX];
};

static int sys_openat2(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)flags,
		.mode = (uint64_t)mode,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long rc;

	do
		rc = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (rc < 0 && errno == EINTR);
	return rc < 0 ? -errno : (int)rc;
}

/* The bytes of regular files below dir (an fd this function closes),
 * counting each inode once per directory walk (hard links twice across
 * directories: an over-count errs on the safe side). */
static uint64_t usage(int dir, unsigned depth)
{
	uint64_t total = 0;
	DIR *d;
	struct dirent *e;

	if (depth > 64 || (d = fdopendir(dir)) == NULL) {
		close(dir);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			total += (uint64_t)st.st_size;
		} else if (S_ISDIR(st.st_mode)) {
			int sub = sys_openat2(dirfd(d), e->d_name,
					      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);

			if (sub >= 0)
				total += usage(sub, depth + 1);
		}
	}
	closedir(d);
	return total;
}

static void fs_close_all(struct hv_fs *fs)
{
	for (uint32_t i = 0; i < KX_FS_HANDLES_MAX; i++)
		if (fs->handles[i].fd >= 0) {
			close(fs->handles[i].fd);
			fs->handles[i].fd = -1;
		}
	for (uint32_t i = 0; i < fs->nmounts; i++)
		if (fs->mounts[i].root >= 0) {
			close(fs->mounts[i].root);
			fs->mounts[i].root = -1;
		}
}

static void fs_destroy(struct hv_pvm *p)
{
	if (p->fs == NULL)
		return;
	fs_close_all(p->fs);
	if (p->fs->shared != NULL) {
		__atomic_fetch_sub(&p->fs->shared->monitors, 1, __ATOMIC_SEQ_CST);
		munmap(p->fs->shared, sizeof(*p->fs->shared));
	}
	free(p->fs);
	p->fs = NULL;
}

/* A jailed monitor's path walks are confined to the granted directories
 * from here on (docs/jail.md "Host directories"): the kernel then enforces
 * what openat2(RESOLVE_BENEATH) does here, also for a monitor its guest took
 * over.  A kernel without the means (Landlock ABI 2) leaves the monitor's
 * own discipline only: said in SECURITY.md, the boot goes on. */
static int confine(struct hv_fs *fs, struct kx_error *err)
{
	hv_confine_fn confine_dirs = hv_jail_confine();
	int fds[KX_FS_MOUNTS_MAX];
	bool writable[KX_FS_MOUNTS_MAX];
	int rc;

	if (confine_dirs == NULL || fs->nmounts == 0)
		return 0; /* not jailed, or no directory fd to climb from */
	for (uint32_t i = 0; i < fs->nmounts; i++) {
		fds[i] = fs->mounts[i].root;
		writable[i] = fs->mounts[i].writable;
	}
	rc = confine_dirs(fds, writable, fs->nmounts, err);
	return rc == -EOPNOTSUPP ? 0 : rc;
}

/* Ask kxd for every mount of the app: all granted, or the boot fails. */
static int fs_setup(struct hv_pvm *p, uint64_t heap_start, uint64_t *heap_end,
		    struct kx_error *err)
{
	struct hv_fs *fs;

	(void)heap_start, (void)heap_end;
	if (p->mgr == NULL || p->pool)
		return 0; /* alone, or a pool placeholder: no app, no mounts */
	fs = calloc(1, sizeof(*fs));
	if (fs == NULL)
		return kx_err(err, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i < KX_FS_HANDLES_MAX; i++)
		fs->handles[i].fd = -1;
	p->fs = fs;
	fs->shared = mmap(NULL, sizeof(*fs->shared), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fs->shared == MAP_FAILED) {
		fs->shared = NULL;
		return kx_err(err, -errno, "files: the shared size counts: %s", strerror(errno));
	}
	fs->shared->monitors = 1;
	for (uint32_t i = 0;; i++) {
		struct kxmon_msg m = {.type = KXMON_MSG_FS_MOUNT_REQ, .size = sizeof(m)};
		const struct kxmon_fs_mount *r = &m.u.fs_mount;
		struct fs_mount *mt;
		struct stat st;
		int fds[KXMON_MAX_FDS], nfds = 0, rc;

		m.u.fs_mount_req.index = i;
		rc = hv_mgr_call(p, &m, KXMON_MSG_FS_MOUNT_RESP, fds, &nfds);
		if (rc != 0)
			return kx_err(err, rc, "files: no answer from kxd for mount %u: %s", i,
				      hv_mgr_reason(p));
		if (r->result == -ENOENT)
			return confine(fs, err);
		if (r->result != 0)
			return kx_err(err, -EACCES, "files: mount %u denied: %s", i, r->reason);
		if (i >= KX_FS_MOUNTS_MAX) {
			close(fds[0]);
			return kx_err(err, -E2BIG, "files: more than %u mounts", KX_FS_MOUNTS_MAX);
		}
		if (fstat(fds[0], &st) != 0 || !S_ISDIR(st.st_mode)) {
			close(fds[0]);
			return kx_err(err, -ENOTDIR, "files: %s: kxd's fd is not a directory",
				      r->guest);
		}
		mt = &fs->mounts[fs->nmounts];
		mt->used = &fs->shared->used[fs->nmounts];
		mt->stale = &fs->shared->stale[fs->nmounts++];
		mt->root = fds[0];
		mt->writable = r->writable != 0;
		mt->max = r->max;
		snprintf(mt->guest, sizeof(mt->guest), "%s", r->guest);
		if (mt->writable) {
			int dir = sys_openat2(mt->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

			*mt->used = dir >= 0 ? usage(dir, 0) : 0;
		}
	}
}

/* ---- checked arguments ------------------------------------------------------ */

static struct fs_mount *mount_of(struct hv_pvm *p, uint32_t index)
{
	return p->fs != NULL && index < p->fs->nmounts ? &p->fs->mounts[index] : NULL;
}

static struct fs_handle *handle_of(struct hv_pvm *p, uint64_t h)
{
	if (p->fs == NULL || h >= KX_FS_HANDLES_MAX || p->fs->handles[h].fd < 0)
		return NULL;
	return &p->fs->handles[h];
}

/* The guest's path (gpa, len) as a C string in out ("." for ""): 0,
 * -EINVAL for a NUL inside, or 1 for a malformed block (the caller ends the
 * pVM). */
static int guest_path(struct hv_pvm *p, uint64_t gpa, uint64_t len, char out[PATH_MAX])
{
	const char *s;

	if (len > KX_FS_PATH_MAX)
		return 1;
	if (len == 0) {
		strcpy(out, ".");
		return 0;
	}
	s = hv_guest_ptr(&p->mem, gpa, len, HV_ACCESS_READ);
	if (s == NULL)
		return 1;
	memcpy(out, s, (size_t)len);
	out[len] = '\0';
	return strlen(out) == len ? 0 : -EINVAL;
}

/* Split path into its directory (opened O_PATH beneath the mount) and its
 * last component (a pointer into path; trailing slashes dropped). */
static int parent_of(const struct fs_mount *m, char *path, int *dir, const char **name)
{
	size_t len = strlen(path);
	char *slash;

	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	slash = strrchr(path, '/');
	if (slash == NULL) {
		*name = path;
		*dir = sys_openat2(m->root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	} else {
		*slash = '\0';
		*name = slash + 1;
		*dir = sys_openat2(m->root, path[0] ? path : "/",
				   O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	}
	if (*dir < 0)
		return *dir;
	if ((*name)[0] == '\0' || strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0) {
		close(*dir);
		*dir = -1;
		return -EINVAL;
	}
	return 0;
}

static void to_kx_stat(const struct stat *st, struct kx_fs_stat *out)
{
	memset(out, 0, sizeof(*out));
	out->dev = st->st_dev;
	out->ino = st->st_ino;
	out->nlink = st->st_nlink;
	out->size = (uint64_t)st->st_size;
	out->blocks = (uint64_t)st->st_blocks;
	out->rdev = st->st_rdev;
	out->mode = st->st_mode;
	out->uid = st->st_uid;
	out->gid = st->st_gid;
	out->blksize = (uint32_t)st->st_blksize;
	out->atime_sec = st->st_atim.tv_sec;
	out->atime_nsec = st->st_atim.tv_nsec;
	out->mtime_sec = st->st_mtim.tv_sec;
	out->mtime_nsec = st->st_mtim.tv_nsec;
	out->ctime_sec = st->st_ctim.tv_sec;
	out->ctime_nsec = st->st_ctim.tv_nsec;
}

static void set_ret(union hv_block *b, int64_t rc)
{
	b->hdr.ret = rc < 0 ? hv_guest_errno((int)rc) : rc;
}

/* ---- the calls ---------------------------------------------------------------- */

static void hc_mount(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kx_hc_fs *c = &b->fs;
	const struct fs_mount *m = mount_of(p, c->mount);
	size_t need;
	char *out;

	if (m == NULL) {
		b->hdr.ret = -KX_ENOENT;
		return;
	}
	need = strlen(m->guest) + 1;
	if (c->len < need || c->len > KX_FS_PATH_MAX + 1 ||
	    (out = hv_guest_ptr(&p->mem, c->buf, need, HV_ACCESS_WRITE)) == NULL) {
		hv_bad(res, "FS_MOUNT: buffer too small or outside writable guest memory");
		return;
	}
	memcpy(out, m->guest, need);
	c->flags = m->writable ? KX_FS_RW : 0;
	c->off = m->writable ? m->max : 0;
	b->hdr.ret = 0;
}

/* ---- the shared count: reserve, add, give back ------------------------------- */

/* Up to want bytes of the cap, taken at once (0: none left). */
static uint64_t reserve(struct fs_mount *m, uint64_t want)
{
	uint64_t used = __atomic_load_n(m->used, __ATOMIC_RELAXED);

	for (;;) {
		uint64_t room = m->max > used ? m->max - used : 0;
		uint64_t grant = room < want ? room : want;

		/* a failed exchange reloads used: another monitor wrote */
		if (grant == 0 || __atomic_compare_exchange_n(m->used, &used, used + grant, false,
							      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return grant;
	}
}

static void count(struct fs_mount *m, uint64_t bytes)
{
	__atomic_fetch_add(m->used, bytes, __ATOMIC_RELAXED);
}

static void uncount(struct fs_mount *m, uint64_t bytes);

/* Bytes that left the disk, if this monitor can know it: alone (see
 * struct fs_shared), else held back and the mount marked stale. */
static void give_back(const struct hv_pvm *p, struct fs_mount *m, uint64_t bytes)
{
	if (bytes == 0)
		return;
	if (__atomic_load_n(&p->fs->shared->monitors, __ATOMIC_SEQ_CST) > 1) {
		__atomic_store_n(m->stale, 1, __ATOMIC_SEQ_CST);
		return;
	}
	uncount(m, bytes);
}

static void uncount(struct fs_mount *m, uint64_t bytes)
{
	uint64_t used = __atomic_load_n(m->used, __ATOMIC_RELAXED);

	while (!__atomic_compare_exchange_n(m->used, &used, bytes <= used ? used - bytes : 0,
					    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Count a stale mount again, as at boot, plus the removed files this
 * monitor (the only one left) still holds open: they are on disk too. */
static void recount(struct hv_pvm *p, struct fs_mount *m)
{
	int dir = sys_openat2(m->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	uint64_t total = dir >= 0 ? usage(dir, 0) : 0;

	for (uint32_t i = 0; i < KX_FS_HANDLES_MAX; i++) {
		const struct fs_handle *h = &p->fs->handles[i];
		struct stat st;

		if (h->fd >= 0 && &p->fs->mounts[h->mount] == m && fstat(h->fd, &st) == 0 &&
		    S_ISREG(st.st_mode) && st.st_nlink == 0) {
			bool first = true; /* count each inode once */

			for (uint32_t k = 0; k < i && first; k++) {
				const struct fs_handle *o = &p->fs->handles[k];
				struct stat os;

				first = !(o->fd >= 0 && fstat(o->fd, &os) == 0 &&
					  os.st_dev == st.st_dev && os.st_ino == st.st_ino);
			}
			total += first ? (uint64_t)st.st_size : 0;
		}
	}
	__atomic_store_n(m->used, total, __ATOMIC_SEQ_CST);
	__atomic_store_n(m->stale, 0, __ATOMIC_SEQ_CST);
}

/* reserve, but when it falls short on a stale mount that only this monitor
 * holds now, count the mount again first (struct fs_shared). */
static uint64_t reserve_counted(struct hv_pvm *p, struct fs_mount *m, uint64_t want)
{
	uint64_t grant = reserve(m, want);

	if (grant < want && __atomic_load_n(m->stale, __ATOMIC_SEQ_CST) &&
	    __atomic_load_n(&p->fs->shared->monitors, __ATOMIC_SEQ_CST) == 1) {
		uncount(m, grant);
		recount(p, m);
		grant = reserve(m, want);
	}
	return grant;
}

/* A forked monitor will hold copies of every handle: count it in before
 * the copy is made (undo: the fork failed). */
static void fs_fork_parent(struct hv_pvm *p, bool undo)
{
	if (p->fs != NULL && p->fs->shared != NULL)
		__atomic_fetch_add(&p->fs->shared->monitors, undo ? -1 : 1, __ATOMIC_SEQ_CST);
}

/* Whether a handle of this pVM other than skip holds the inode of st: its
 * bytes stay on disk while it is open, so they stay counted until the last
 * such handle closes (hc_close), not when the name goes (a review finding:
 * unlink with the file held open gave the cap back up to 1024 times). */
static bool held_open_except(const struct hv_pvm *p, const struct stat *st,
			     const struct fs_handle *skip)
{
	for (uint32_t i = 0; i < KX_FS_HANDLES_MAX; i++) {
		const struct fs_handle *h = &p->fs->handles[i];
		struct stat hs;

		if (h->fd >= 0 && h != skip && fstat(h->fd, &hs) == 0 && hs.st_dev == st->st_dev &&
		    hs.st_ino == st->st_ino)
			return true;
	}
	return false;
}

#define OPEN_FLAGS                                                                            \
	(O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_DIRECTORY | O_NOFOLLOW | O_APPEND |       \
	 O_NONBLOCK | O_CLOEXEC | O_NOATIME | O_SYNC | O_DSYNC | O_LARGEFILE)

static void hc_open(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kx_hc_fs *c = &b->fs;
	struct fs_mount *m = mount_of(p, c->mount);
	int flags = (int)c->flags, acc = flags & O_ACCMODE, fd, rc, slot = -1;
	char path[PATH_MAX];
	struct stat st;
	bool trunc;

	if ((rc = guest_path(p, c->path, c->path_len, path)) > 0) {
		hv_bad(res, "FS_OPEN: path too long or outside readable guest memory");
		return;
	}
	if (m == NULL || rc < 0 || (c->flags & ~(uint32_t)OPEN_FLAGS) || acc == O_ACCMODE) {
		b->hdr.ret = m == NULL ? -KX_EBADF : -KX_EINVAL;
		return;
	}
	if (!m->writable && (acc != O_RDONLY || (flags & (O_CREAT | O_TRUNC)))) {
		b->hdr.ret = -KX_EROFS;
		return;
	}
	for (uint32_t i = 0; i < KX_FS_HANDLES_MAX && slot < 0; i++)
		if (p->fs->handles[i].fd < 0)
			slot = (int)i;
	if (slot < 0) {
		b->hdr.ret = -KX_ENOSPC; /* the guest's fd table is as large */
		return;
	}
	/* O_APPEND is the guest's business (it writes at the end it asks for):
	 * on Linux pwrite with O_APPEND ignores the offset. */
	flags &= ~(O_APPEND | O_NONBLOCK | O_CLOEXEC);
	/* O_TRUNC is done here, after the open succeeded and on the file it
	 * opened: counting the bytes back before an open that then fails
	 * (O_EXCL on an existing file, O_DIRECTORY, EACCES) reset the cap for
	 * nothing (a review finding). */
	trunc = (flags & O_TRUNC) && acc != O_RDONLY;
	flags &= ~O_TRUNC;
	/* openat2 wants a mode only with O_CREAT. */
	fd = sys_openat2(m->root, path, flags | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
			 (flags & O_CREAT) ? (mode_t)(c->off & 0777) : 0);
	if (fd < 0) {
		set_ret(b, fd);
		return;
	}
	if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
		close(fd);
		b->hdr.ret = -KX_ENXIO;
		return;
	}
	if (trunc && S_ISREG(st.st_mode)) {
		if (ftruncate(fd, 0) != 0) {
			rc = -errno;
			close(fd);
			set_ret(b, rc);
			return;
		}
		give_back(p, m, (uint64_t)st.st_size); /* freed, whoever holds it open */
	}
	p->fs->handles[slot] = (struct fs_handle){.fd = fd, .mount = c->mount};
	b->hdr.ret = slot;
}

/* h is about to close: when it was the last holder of a file whose names
 * are all gone, its bytes leave the disk now, and the count. */
static void give_back_if_last(struct hv_pvm *p, const struct fs_handle *h)
{
	struct fs_mount *m = &p->fs->mounts[h->mount];
	struct stat st;

	if (m->writable && fstat(h->fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 0 &&
	    !held_open_except(p, &st, h))
		give_back(p, m, (uint64_t)st.st_size);
}

static void hc_close(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct fs_handle *h = handle_of(p, b->fs.handle);

	(void)res;
	if (h == NULL) {
		b->hdr.ret = -KX_EBADF;
		return;
	}
	give_back_if_last(p, h);
	close(h->fd);
	h->fd = -1;
	b->hdr.ret = 0;
}

static void hc_pread(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kx_hc_fs *c = &b->fs;
	struct fs_handle *h = handle_of(p, c->handle);
	void *buf;
	ssize_t n;

	if (c->len > KX_FS_IO_MAX || c->off > (uint64_t)INT64_MAX) {
		hv_bad(res, "FS_PREAD: length or offset out of range");
		return;
	}
	if (h == NULL) {
		b->hdr.ret = -KX_EBADF;
		return;
	}
	if (c->len == 0) {
		b->hdr.ret = 0;
		return;
	}
	buf = hv_guest_ptr(&p->mem, c->buf, c->len, HV_ACCESS_WRITE);
	if (buf == NULL) {
		hv_bad(res, "FS_PREAD: buffer outside writable guest memory");
		return;
	}
	do
		n = pread(h->fd, buf, (size_t)c->len, (off_t)c->off);
	while (n < 0 && errno == EINTR);
	set_ret(b, n < 0 ? -errno : n);
}

static void hc_pwrite(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kx_hc_fs *c = &b->fs;
	struct fs_handle *h = handle_of(p, c->handle);
	struct fs_mount *m;
	uint64_t len = c->len, end, grow = 0, grown;
	const void *buf;
	struct stat st;
	ssize_t n;

	if (c->len > KX_FS_IO_MAX || c->off > (uint64_t)INT64_MAX) {
		hv_bad(res, "FS_PWRITE: length or offset out of range");
		return;
	}
	if (h == NULL) {
		b->hdr.ret = -KX_EBADF;
		return;
	}
	m = &p->fs->mounts[h->mount];
	if (!m->writable) {
		b->hdr.ret = -KX_EROFS; /* never opened for writing, but twice is cheap */
		return;
	}
	if (len == 0) {
		b->hdr.ret = 0;
		return;
	}
	buf = hv_guest_ptr(&p->mem, c->buf, len, HV_ACCESS_READ);
	if (buf == NULL) {
		hv_bad(res, "FS_PWRITE: buffer outside readable guest memory");
		return;
	}
	if (fstat(h->fd, &st) != 0) {
		set_ret(b, -errno);
		return;
	}
	end = c->off + len;
	if (end > (uint64_t)st.st_size) {
		uint64_t want = end - (uint64_t)st.st_size;

		grow = reserve_counted(p, m, want);
		if (grow < want) {
			/* Cut short to what fits; nothing fits: ENOSPC. */
			if ((uint64_t)st.st_size + grow <= c->off) {
				uncount(m, grow);
				b->hdr.ret = -KX_ENOSPC;
				return;
			}
			len = (uint64_t)st.st_size + grow - c->off;
		}
	}
	do
		n = pwrite(h->fd, buf, (size_t)len, (off_t)c->off);
	while (n < 0 && errno == EINTR);
	/* What the file grew by, against what was reserved for it. */
	grown = n < 0 || c->off + (uint64_t)n <= (uint64_t)st.st_size
			? 0
			: c->off + (uint64_t)n - (uint64_t)st.st_size;
	if (grown < grow)
		uncount(m, grow - grown);
	else
		count(m, grown - grow);
	if (n < 0) {
		set_ret(b, -errno);
		return;
	}
	b->hdr.ret = n;
}

static int put_stat(struct hv_pvm *p, union hv_block *b, const struct stat *st,
		    struct hv_hcall_result *res)
{
	struct kx_fs_stat *out;

	if (b->fs.len != sizeof(*out) ||
	    (out = hv_guest_ptr(&p->mem, b->fs.buf, sizeof(*out), HV_ACCESS_WRITE)) == NULL) {
		hv_bad(res, "FS_STAT: buffer is not a writable struct kx_fs_stat");
		return -1;
	}
	to_kx_stat(st, out);
	b->hdr.ret = 0;
	return 0;
}

static void hc_fstat(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct fs_handle *h = handle_of(p, b->fs.handle);
	struct stat st;

	if (h == NULL) {
		b->hdr.ret = -KX_EBADF;
		return;
	}
	if (fstat(h->fd, &st) != 0) {
		set_ret(b, -errno);
		return;
	}
	put_stat(p, b, &st, res);
}

static void hc_stat(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kx_hc_fs *c = &b->fs;
	struct fs_mount *m = mount_of(p, c->mount);
	char path[PATH_MAX];
	struct stat st;
	int rc, fd;

	if ((rc = guest_path(p, c->path, c->path_len, path)) > 0 ||
	    (c->flags & ~KX_FS_NOFOLLOW)) {
		hv_bad(res, "FS_STAT: bad path or flags");
		return;
	}
	if (m == NULL || rc < 0) {
		b->hdr.ret = m == NULL ? -KX_EBADF : -KX_EINVAL;
		return;
	}
	fd = sys_openat2(m->root, path,
			 O_PATH | O_CLOEXEC | ((c->flags & KX_FS_NOFOLLOW) ? O_NOFOLLOW : 0), 0);
	if (fd < 0) {
		set_ret(b, fd);
		return;
	}
	rc = fstatat(fd, "", &st, AT_EMPTY_PATH) != 0 ? -errno : 0;
	close(fd);
	if (rc != 0) {
		set_ret(b, rc);
		return;
	}
	put_stat(p, b, &st, res);
}

static void hc_getdents(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kx_hc_fs *c = &b->fs;
	struct fs_handle *h = handle_of(p, c->handle);
	void *buf;
	long n;

	if (c->len > KX_FS_IO_MAX || c->off > (uint64_t)INT64_MAX) {
		hv_bad(res, "FS_GETDENTS: length or position out of range");
		return;
	}
	if (h == NULL) {
		b->hdr.ret = -KX_EBADF;
		return;
	}
	buf = hv_guest_ptr(&p->mem, c->buf, c->len, HV_ACCESS_WRITE);
	if (buf == NULL && c->len != 0) {
		hv_bad(res, "FS_GETDENTS: buffer outside writable guest memory");
		return;
	}
	if (lseek(h->fd, (off_t)c->off, SEEK_SET) < 0) {
		set_ret(b, -errno);
		return;
	}
	n = syscall(SYS_getdents64, h->fd, buf, (size_t)c->len);
	if (n < 0) {
		set_ret(b, -errno);
		return;
	}
	c->off = (uint64_t)lseek(h->fd, 0, SEEK_CUR);
	b->hdr.ret = n;
}

/* The bytes that removing the name `name` in dir frees: the size of a
 * regular file with no other link, not held open by this pVM (its last
 * close gives them back) and not the inode `same`, when not NULL (a rename
 * onto another name of itself); else 0. */
static uint64_t freed_by_removing(const struct hv_pvm *p, int dir, const char *name,
				  const struct stat *same)
{
	struct stat st;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_nlink > 1)
		return 0;
	if (same != NULL && same->st_dev == st.st_dev && same->st_ino == st.st_ino)
		return 0;
	if (held_open_except(p, &st, NULL))
		return 0;
	return (uint64_t)st.st_size;
}

/* MKDIR, UNLINK and RENAME: a writable mount and checked names. */
static struct fs_mount *name_call(struct hv_pvm *p, union hv_block *b, char *path,
				  struct hv_hcall_result *res, const char *what)
{
	struct kx_hc_fs *c = &b->fs;
	struct fs_mount *m = mount_of(p, c->mount);
	int rc = guest_path(p, c->path, c->path_len, path);

	if (rc > 0) {
		hv_bad(res, what);
		return NULL;
	}
	if (m == NULL || rc < 0) {
		b->hdr.ret = m == NULL ? -KX_EBADF : -KX_EINVAL;
		return NULL;
	}
	if (!m->writable) {
		b->hdr.ret = -KX_EROFS;
		return NULL;
	}
	return m;
}

static void hc_mkdir(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	char path[PATH_MAX];
	struct fs_mount *m = name_call(p, b, path, res, "FS_MKDIR: bad path");
	const char *name;
	int dir, rc;

	if (m == NULL)
		return;
	if ((rc = parent_of(m, path, &dir, &name)) == 0) {
		rc = mkdirat(dir, name, (mode_t)(b->fs.off & 0777)) != 0 ? -errno : 0;
		close(dir);
	}
	set_ret(b, rc == -EINVAL ? -EEXIST : rc); /* ".", ".." exist */
}

static void hc_unlink(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	char path[PATH_MAX];
	struct fs_mount *m = name_call(p, b, path, res, "FS_UNLINK: bad path");
	const char *name;
	uint64_t size;
	int dir, rc;

	if (m == NULL)
		return;
	if (b->fs.flags & ~KX_FS_REMOVEDIR) {
		b->hdr.ret = -KX_EINVAL;
		return;
	}
	if ((rc = parent_of(m, path, &dir, &name)) == 0) {
		size = freed_by_removing(p, dir, name, NULL);
		rc = unlinkat(dir, name, (b->fs.flags & KX_FS_REMOVEDIR) ? AT_REMOVEDIR : 0) != 0
			     ? -errno
			     : 0;
		if (rc == 0)
			give_back(p, m, size);
		close(dir);
	}
	set_ret(b, rc);
}

static void hc_rename(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kx_hc_fs *c = &b->fs;
	char from[PATH_MAX], to[PATH_MAX];
	struct fs_mount *m = name_call(p, b, from, res, "FS_RENAME: bad path");
	const char *from_name, *to_name;
	int from_dir = -1, to_dir = -1, rc;
	uint64_t replaced;

	if (m == NULL)
		return;
	if ((rc = guest_path(p, c->path2, c->path2_len, to)) > 0) {
		hv_bad(res, "FS_RENAME: bad new path");
		return;
	}
	if (rc < 0 || (c->flags & ~KX_FS_NOREPLACE)) {
		b->hdr.ret = -KX_EINVAL;
		return;
	}
	if ((rc = parent_of(m, from, &from_dir, &from_name)) == 0 &&
	    (rc = parent_of(m, to, &to_dir, &to_name)) == 0) {
		struct stat from_st;

		if (fstatat(from_dir, from_name, &from_st, AT_SYMLINK_NOFOLLOW) != 0)
			memset(&from_st, 0, sizeof(from_st));
		replaced = freed_by_removing(p, to_dir, to_name, &from_st);
		rc = renameat2(from_dir, from_name, to_dir, to_name,
			       (c->flags & KX_FS_NOREPLACE) ? RENAME_NOREPLACE : 0) != 0
			     ? -errno
			     : 0;
		if (rc == 0)
			give_back(p, m, replaced);
	}
	if (from_dir >= 0)
		close(from_dir);
	if (to_dir >= 0)
		close(to_dir);
	set_ret(b, rc);
}

static void hc_truncate(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kx_hc_fs *c = &b->fs;
	struct fs_handle *h = handle_of(p, c->handle);
	struct fs_mount *m;
	struct stat st;

	(void)res;
	if (h == NULL) {
		b->hdr.ret = -KX_EBADF;
		return;
	}
	m = &p->fs->mounts[h->mount];
	if (!m->writable) {
		b->hdr.ret = -KX_EROFS;
		return;
	}
	if (c->off > (uint64_t)INT64_MAX) {
		b->hdr.ret = -KX_EINVAL;
		return;
	}
	if (fstat(h->fd, &st) != 0) {
		set_ret(b, -errno);
		return;
	}
	if (c->off > (uint64_t)st.st_size) {
		uint64_t want = c->off - (uint64_t)st.st_size, grow = reserve_counted(p, m, want);

		if (grow < want) {
			uncount(m, grow);
			b->hdr.ret = -KX_ENOSPC; /* a sparse file still counts by its size */
			return;
		}
	}
	if (ftruncate(h->fd, (off_t)c->off) != 0) {
		if (c->off > (uint64_t)st.st_size)
			uncount(m, c->off - (uint64_t)st.st_size);
		set_ret(b, -errno);
		return;
	}
	if (c->off < (uint64_t)st.st_size)
		give_back(p, m, (uint64_t)st.st_size - c->off);
	b->hdr.ret = 0;
}

static void hc_fsync(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct fs_handle *h = handle_of(p, b->fs.handle);
	int rc;

	(void)res;
	if (h == NULL) {
		b->hdr.ret = -KX_EBADF;
		return;
	}
	rc = (b->fs.flags & KX_FS_DATASYNC) ? fdatasync(h->fd) : fsync(h->fd);
	set_ret(b, rc != 0 ? -errno : 0);
}

static const struct hv_hcall_desc hcalls[] = {
	{KX_HC_FS_MOUNT, sizeof(struct kx_hc_fs), hc_mount},
	{KX_HC_FS_OPEN, sizeof(struct kx_hc_fs), hc_open},
	{KX_HC_FS_CLOSE, sizeof(struct kx_hc_fs), hc_close},
	{KX_HC_FS_PREAD, sizeof(struct kx_hc_fs), hc_pread},
	{KX_HC_FS_PWRITE, sizeof(struct kx_hc_fs), hc_pwrite},
	{KX_HC_FS_FSTAT, sizeof(struct kx_hc_fs), hc_fstat},
	{KX_HC_FS_STAT, sizeof(struct kx_hc_fs), hc_stat},
	{KX_HC_FS_GETDENTS, sizeof(struct kx_hc_fs), hc_getdents},
	{KX_HC_FS_MKDIR, sizeof(struct kx_hc_fs), hc_mkdir},
	{KX_HC_FS_UNLINK, sizeof(struct kx_hc_fs), hc_unlink},
	{KX_HC_FS_RENAME, sizeof(struct kx_hc_fs), hc_rename},
	{KX_HC_FS_TRUNCATE, sizeof(struct kx_hc_fs), hc_truncate},
	{KX_HC_FS_FSYNC, sizeof(struct kx_hc_fs), hc_fsync},
};

const struct hv_module hv_mod_fs = {
	.name = "fs",
	.hcalls = hcalls,
	.nhcalls = sizeof(hcalls) / sizeof(hcalls[0]),
	.setup = fs_setup,
	.fork_parent = fs_fork_parent,
	.destroy = fs_destroy,
};
