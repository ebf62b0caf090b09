/*
 * test_hv_fs: the monitor's half of host directories (manager/hv/fs.c), on
 * the fake backend with a scripted kxd (tests/hv/hv_fake.h) that grants a
 * writable mount (capped) and a read-only one over fresh host directories.
 * Every call goes through hv_hcall_dispatch, as a guest makes it.
 *
 *   - escapes: "..", an absolute path, an absolute symlink, a symlink to
 *     /etc, a relative symlink climbing out, mkdir/unlink/rename reaching
 *     out, a rename moving a file out or in: all EXDEV, nothing changed on
 *     the host;
 *   - a read-only mount refuses every change (EROFS), reads work;
 *   - the size cap: counted from what is there at boot, a write cut short
 *     then ENOSPC, space given back by unlink and truncate;
 *   - only files and directories open (a FIFO is ENXIO);
 *   - a malformed block ends the pVM; a denied mount fails the boot;
 *   - all of it again in a monitor confined beneath its mounts (Landlock),
 *     as a jailed kxmon is.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "manager/hv/internal.h"
#include "manager/jail/jail.h"
#include "tests/hv/hv_fake.h"

static char guest_dir[4096];

#define CAP 65536u

struct guest {
	struct fake_mgr mgr;
	struct hv_manager manager;
	struct hv_pvm *p;
	struct hv_guest_mem *mem;
	uint64_t block, path, path2, buf; /* guest addresses in the heap */
	char top[256];			  /* the host test directory */
	char rw[300], ro[300];		  /* the two mounted directories */
	bool deny;			  /* kxd denies mount 1 */
};

static void write_host(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int answer(struct fake_mgr *f, struct kxmon_msg *m, uint32_t resp_type, int *fds,
		  int *nfds)
{
	struct guest *g = f->ctx;
	uint32_t index = m->u.fs_mount_req.index;

	assert_int_equal(m->type, KXMON_MSG_FS_MOUNT_REQ);
	memset(&m->u, 0, sizeof(m->u));
	m->type = resp_type;
	if (index >= 2) {
		m->u.fs_mount.result = -ENOENT;
		return 0;
	}
	if (index == 1 && g->deny) {
		m->u.fs_mount.result = -EACCES;
		snprintf(m->u.fs_mount.reason, sizeof(m->u.fs_mount.reason), "not in this test");
		return 0;
	}
	fds[0] = open(index == 0 ? g->rw : g->ro, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(fds[0] >= 0);
	*nfds = 1;
	m->u.fs_mount.writable = index == 0;
	m->u.fs_mount.max = index == 0 ? CAP : 0;
	snprintf(m->u.fs_mount.guest, sizeof(m->u.fs_mount.guest), "%s",
		 index == 0 ? "/data" : "/conf");
	return 0;
}

static void host_tree(struct guest *g)
{
	char path[400];

	snprintf(g->top, sizeof(g->top), "/tmp/test_hv_fs.XXXXXX");
	assert_non_null(mkdtemp(g->top));
	snprintf(g->rw, sizeof(g->rw), "%s/rw", g->top);
	snprintf(g->ro, sizeof(g->ro), "%s/ro", g->top);
	assert_int_equal(mkdir(g->rw, 0755), 0);
	assert_int_equal(mkdir(g->ro, 0755), 0);
	snprintf(path, sizeof(path), "%s/victim", g->top);
	write_host(path, "outside the mounts\n");
	snprintf(path, sizeof(path), "%s/old", g->rw);
	write_host(path, "0123456789"); /* 10 bytes already used at boot */
	snprintf(path, sizeof(path), "%s/conf.txt", g->ro);
	write_host(path, "key = value\n");
	snprintf(path, sizeof(path), "%s/abs", g->rw);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	snprintf(path, sizeof(path), "%s/etc", g->rw);
	assert_int_equal(symlink("/etc", path), 0);
	snprintf(path, sizeof(path), "%s/up", g->rw);
	assert_int_equal(symlink("../..", path), 0);
	snprintf(path, sizeof(path), "%s/inside", g->rw);
	assert_int_equal(symlink("old", path), 0);
	snprintf(path, sizeof(path), "%s/fifo", g->rw);
	assert_int_equal(mkfifo(path, 0644), 0);
}

static struct guest *guest_new(bool deny)
{
	static char name[] = "kxpool.kxe";
	static char *argv[] = {name, NULL};
	struct guest *g = calloc(1, sizeof(*g));
	struct hv_config cfg = {.mem_size = 16ull << 20, .argc = 1, .argv = argv, .console_fd = -1};
	const struct kx_boot_info *boot;
	struct kx_error err;

	assert_non_null(g);
	host_tree(g);
	g->deny = deny;
	g->mgr.answer = answer;
	g->mgr.answer_mounts = true;
	g->mgr.ctx = g;
	g->manager = (struct hv_manager){.ops = &fake_mgr_ops, .ctx = &g->mgr};
	cfg.manager = &g->manager;
	if (hv_create(&hv_fake_backend, &cfg, &g->p, &err) != 0)
		fail_msg("hv_create: %s", err.msg);
	g->mem = hv_pvm_mem(g->p);
	if (deny)
		return g;
	fake_load(g->p, guest_dir, "kxpool.kxe");
	boot = hv_guest_ptr(g->mem, LAYOUT_BOOT, sizeof(*boot), HV_ACCESS_READ);
	assert_non_null(boot);
	g->block = boot->heap_start;
	g->path = boot->heap_start + KX_PAGE_SIZE;
	g->path2 = boot->heap_start + 3 * KX_PAGE_SIZE;
	g->buf = boot->heap_start + 5 * KX_PAGE_SIZE;
	return g;
}

static void guest_free(struct guest *g)
{
	char cmd[400];

	hv_destroy(g->p, 0, NULL, "");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g->top);
	assert_int_equal(system(cmd), 0);
	free(g);
}

/* One call: the block (paths copied into guest memory first); the guest's
 * ret, or INT64_MIN when the call ended the pVM. */
static int64_t fs_call(struct guest *g, uint32_t nr, struct kx_hc_fs *c, const char *path,
		       const char *path2)
{
	struct hv_hcall_result res;

	c->hdr.abi_version = KX_HCALL_ABI_VERSION;
	c->hdr.nr = nr;
	if (path) {
		c->path = g->path;
		c->path_len = strlen(path);
		memcpy(g->mem->host + g->path, path, c->path_len);
	}
	if (path2) {
		c->path2 = g->path2;
		c->path2_len = strlen(path2);
		memcpy(g->mem->host + g->path2, path2, c->path2_len);
	}
	memcpy(g->mem->host + g->block, c, sizeof(*c));
	hv_hcall_dispatch(g->p, g->block, &res);
	if (res.outcome == HV_HC_BAD)
		return INT64_MIN;
	assert_int_equal(res.outcome, HV_HC_RESUME);
	memcpy(c, g->mem->host + g->block, sizeof(*c));
	return c->hdr.ret;
}

static int64_t fs_open(struct guest *g, uint32_t mount, const char *path, int flags)
{
	struct kx_hc_fs c = {.mount = mount, .flags = (uint32_t)flags, .off = 0644};

	return fs_call(g, KX_HC_FS_OPEN, &c, path, NULL);
}

static int64_t fs_write(struct guest *g, int64_t h, uint64_t off, size_t len)
{
	struct kx_hc_fs c = {.handle = (uint64_t)h, .buf = g->buf, .len = len, .off = off};

	memset(g->mem->host + g->buf, 'w', len);
	return fs_call(g, KX_HC_FS_PWRITE, &c, NULL, NULL);
}

static int64_t fs_path_call(struct guest *g, uint32_t nr, uint32_t mount, const char *path,
			    const char *path2, uint32_t flags)
{
	struct kx_hc_fs c = {.mount = mount, .flags = flags, .off = 0755};

	return fs_call(g, nr, &c, path, path2);
}

static int64_t fs_close(struct guest *g, int64_t h)
{
	struct kx_hc_fs c = {.handle = (uint64_t)h};

	return fs_call(g, KX_HC_FS_CLOSE, &c, NULL, NULL);
}

static bool host_exists(const struct guest *g, const char *rel)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", g->top, rel);
	return lstat(path, &st) == 0;
}

static void test_mounts_described(void **state)
{
	struct guest *g = guest_new(false);
	struct kx_hc_fs c = {.mount = 0, .buf = 0, .len = 64};

	(void)state;
	c.buf = g->buf;
	assert_int_equal(fs_call(g, KX_HC_FS_MOUNT, &c, NULL, NULL), 0);
	assert_string_equal((char *)g->mem->host + g->buf, "/data");
	assert_int_equal(c.flags, KX_FS_RW);
	assert_int_equal(c.off, CAP);
	c = (struct kx_hc_fs){.mount = 1, .buf = g->buf, .len = 64};
	assert_int_equal(fs_call(g, KX_HC_FS_MOUNT, &c, NULL, NULL), 0);
	assert_string_equal((char *)g->mem->host + g->buf, "/conf");
	assert_int_equal(c.flags, 0);
	c = (struct kx_hc_fs){.mount = 2, .buf = g->buf, .len = 64};
	assert_int_equal(fs_call(g, KX_HC_FS_MOUNT, &c, NULL, NULL), -KX_ENOENT);
	guest_free(g);
}

static void files_work(struct guest *g)
{
	struct kx_hc_fs c;
	struct kx_fs_stat *st;
	int64_t h, n;
	char path[400], text[16] = "";
	FILE *f;

	h = fs_open(g, 0, "new.txt", O_CREAT | O_RDWR | O_EXCL);
	assert_true(h >= 0);
	memcpy(g->mem->host + g->buf, "hello", 5);
	c = (struct kx_hc_fs){.handle = (uint64_t)h, .buf = g->buf, .len = 5, .off = 0};
	assert_int_equal(fs_call(g, KX_HC_FS_PWRITE, &c, NULL, NULL), 5);
	memset(g->mem->host + g->buf, 0, 16);
	c = (struct kx_hc_fs){.handle = (uint64_t)h, .buf = g->buf, .len = 16, .off = 1};
	assert_int_equal(fs_call(g, KX_HC_FS_PREAD, &c, NULL, NULL), 4);
	assert_memory_equal(g->mem->host + g->buf, "ello", 4);
	c = (struct kx_hc_fs){.handle = (uint64_t)h, .buf = g->buf, .len = sizeof(*st)};
	assert_int_equal(fs_call(g, KX_HC_FS_FSTAT, &c, NULL, NULL), 0);
	st = (struct kx_fs_stat *)(g->mem->host + g->buf);
	assert_int_equal(st->size, 5);
	assert_true(S_ISREG(st->mode));
	c = (struct kx_hc_fs){.handle = (uint64_t)h};
	assert_int_equal(fs_call(g, KX_HC_FS_FSYNC, &c, NULL, NULL), 0);
	assert_int_equal(fs_call(g, KX_HC_FS_CLOSE, &c, NULL, NULL), 0);
	assert_int_equal(fs_call(g, KX_HC_FS_CLOSE, &c, NULL, NULL), -KX_EBADF);
	snprintf(path, sizeof(path), "%s/new.txt", g->rw);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_string_equal(text, "hello");
	/* a symlink that stays inside is followed */
	h = fs_open(g, 0, "inside", O_RDONLY);
	assert_true(h >= 0);
	/* directories: mkdir, list, rename, rmdir */
	assert_int_equal(fs_path_call(g, KX_HC_FS_MKDIR, 0, "d", NULL, 0), 0);
	assert_int_equal(fs_path_call(g, KX_HC_FS_MKDIR, 0, "d", NULL, 0), -KX_EEXIST);
	assert_int_equal(fs_path_call(g, KX_HC_FS_RENAME, 0, "new.txt", "d/moved.txt", 0), 0);
	assert_int_equal(fs_path_call(g, KX_HC_FS_UNLINK, 0, "d", NULL, KX_FS_REMOVEDIR),
			 -KX_ENOTEMPTY);
	assert_int_equal(fs_path_call(g, KX_HC_FS_UNLINK, 0, "d/moved.txt", NULL, 0), 0);
	assert_int_equal(fs_path_call(g, KX_HC_FS_UNLINK, 0, "d", NULL, KX_FS_REMOVEDIR), 0);
	h = fs_open(g, 0, "", O_RDONLY | O_DIRECTORY);
	assert_true(h >= 0);
	c = (struct kx_hc_fs){.handle = (uint64_t)h, .buf = g->buf, .len = 4096, .off = 0};
	n = fs_call(g, KX_HC_FS_GETDENTS, &c, NULL, NULL);
	assert_true(n > 0);
	assert_non_null(memmem(g->mem->host + g->buf, (size_t)n, "old", 4));
	/* stat and lstat */
	c = (struct kx_hc_fs){.mount = 0, .buf = g->buf, .len = sizeof(*st)};
	assert_int_equal(fs_call(g, KX_HC_FS_STAT, &c, "inside", NULL), 0);
	assert_true(S_ISREG(st->mode));
	c = (struct kx_hc_fs){.mount = 0, .buf = g->buf, .len = sizeof(*st), .flags = KX_FS_NOFOLLOW};
	assert_int_equal(fs_call(g, KX_HC_FS_STAT, &c, "inside", NULL), 0);
	assert_true(S_ISLNK(st->mode));
}

static void test_files_work(void **state)
{
	struct guest *g = guest_new(false);

	(void)state;
	files_work(g);
	guest_free(g);
}

static void escapes_fail(struct guest *g)
{
	struct kx_hc_fs c;

	assert_int_equal(fs_open(g, 0, "../victim", O_RDONLY), -KX_EXDEV);
	assert_int_equal(fs_open(g, 0, "/etc/passwd", O_RDONLY), -KX_EXDEV);
	assert_int_equal(fs_open(g, 0, "abs", O_RDONLY), -KX_EXDEV);
	assert_int_equal(fs_open(g, 0, "etc/passwd", O_RDONLY), -KX_EXDEV);
	assert_int_equal(fs_open(g, 0, "up/victim", O_RDONLY), -KX_EXDEV);
	assert_int_equal(fs_open(g, 0, "../ro/conf.txt", O_RDONLY), -KX_EXDEV);
	assert_int_equal(fs_open(g, 1, "../rw/old", O_RDWR), -KX_EROFS); /* ro checked first */
	assert_int_equal(fs_open(g, 1, "../rw/old", O_RDONLY), -KX_EXDEV);
	assert_int_equal(fs_open(g, 0, "../escaped", O_CREAT | O_WRONLY), -KX_EXDEV);
	assert_false(host_exists(g, "escaped"));
	c = (struct kx_hc_fs){.mount = 0, .buf = g->buf, .len = sizeof(struct kx_fs_stat)};
	assert_int_equal(fs_call(g, KX_HC_FS_STAT, &c, "..", NULL), -KX_EXDEV);
	assert_int_equal(fs_path_call(g, KX_HC_FS_MKDIR, 0, "../evil", NULL, 0), -KX_EXDEV);
	assert_int_equal(fs_path_call(g, KX_HC_FS_MKDIR, 0, "up/evil", NULL, 0), -KX_EXDEV);
	assert_false(host_exists(g, "evil"));
	assert_int_equal(fs_path_call(g, KX_HC_FS_UNLINK, 0, "../victim", NULL, 0), -KX_EXDEV);
	assert_int_equal(fs_path_call(g, KX_HC_FS_UNLINK, 0, "up/victim", NULL, 0), -KX_EXDEV);
	assert_true(host_exists(g, "victim"));
	/* a rename out, and one that pulls a host file in */
	assert_int_equal(fs_path_call(g, KX_HC_FS_RENAME, 0, "old", "../moved", 0), -KX_EXDEV);
	assert_int_equal(fs_path_call(g, KX_HC_FS_RENAME, 0, "old", "up/moved", 0), -KX_EXDEV);
	assert_true(host_exists(g, "rw/old"));
	assert_false(host_exists(g, "moved"));
	assert_int_equal(fs_path_call(g, KX_HC_FS_RENAME, 0, "../victim", "stolen", 0),
			 -KX_EXDEV);
	assert_true(host_exists(g, "victim"));
	/* "." and ".." as the name acted on */
	assert_int_equal(fs_path_call(g, KX_HC_FS_UNLINK, 0, "..", NULL, KX_FS_REMOVEDIR),
			 -KX_EINVAL);
	assert_int_equal(fs_path_call(g, KX_HC_FS_RENAME, 0, "old", "..", 0), -KX_EINVAL);
	/* unlinking the symlink to /etc removes the link, nothing behind it */
	assert_int_equal(fs_path_call(g, KX_HC_FS_UNLINK, 0, "etc", NULL, 0), 0);
	assert_true(access("/etc/passwd", F_OK) == 0);
	/* only files and directories open */
	assert_int_equal(fs_open(g, 0, "fifo", O_RDONLY), -KX_ENXIO);
}

static void test_escapes_fail(void **state)
{
	struct guest *g = guest_new(false);

	(void)state;
	escapes_fail(g);
	guest_free(g);
}

static void test_read_only_mount(void **state)
{
	struct guest *g = guest_new(false);
	struct kx_hc_fs c;
	int64_t h;

	(void)state;
	h = fs_open(g, 1, "conf.txt", O_RDONLY);
	assert_true(h >= 0);
	c = (struct kx_hc_fs){.handle = (uint64_t)h, .buf = g->buf, .len = 64};
	assert_int_equal(fs_call(g, KX_HC_FS_PREAD, &c, NULL, NULL), 12);
	assert_int_equal(fs_write(g, h, 0, 1), -KX_EROFS);
	c = (struct kx_hc_fs){.handle = (uint64_t)h, .off = 0};
	assert_int_equal(fs_call(g, KX_HC_FS_TRUNCATE, &c, NULL, NULL), -KX_EROFS);
	assert_int_equal(fs_open(g, 1, "conf.txt", O_WRONLY), -KX_EROFS);
	assert_int_equal(fs_open(g, 1, "conf.txt", O_RDWR), -KX_EROFS);
	assert_int_equal(fs_open(g, 1, "conf.txt", O_RDONLY | O_TRUNC), -KX_EROFS);
	assert_int_equal(fs_open(g, 1, "new", O_CREAT | O_RDONLY), -KX_EROFS);
	assert_int_equal(fs_path_call(g, KX_HC_FS_MKDIR, 1, "d", NULL, 0), -KX_EROFS);
	assert_int_equal(fs_path_call(g, KX_HC_FS_UNLINK, 1, "conf.txt", NULL, 0), -KX_EROFS);
	assert_int_equal(fs_path_call(g, KX_HC_FS_RENAME, 1, "conf.txt", "x", 0), -KX_EROFS);
	assert_true(host_exists(g, "ro/conf.txt"));
	guest_free(g);
}

static void test_size_cap(void **state)
{
	struct guest *g = guest_new(false);
	struct kx_hc_fs c;
	int64_t h, h2;

	(void)state;
	/* 10 bytes were there at boot: CAP - 10 fit. */
	h = fs_open(g, 0, "big", O_CREAT | O_RDWR);
	assert_true(h >= 0);
	assert_int_equal(fs_write(g, h, 0, 60000), 60000);
	assert_int_equal(fs_write(g, h, 60000, 10000), CAP - 10 - 60000); /* cut short */
	assert_int_equal(fs_write(g, h, CAP - 10, 1), -KX_ENOSPC);
	/* rewriting bytes that exist costs nothing */
	assert_int_equal(fs_write(g, h, 0, 4096), 4096);
	/* a second file gets nothing; growing by truncate neither */
	h2 = fs_open(g, 0, "more", O_CREAT | O_RDWR);
	assert_true(h2 >= 0);
	assert_int_equal(fs_write(g, h2, 0, 1), -KX_ENOSPC);
	c = (struct kx_hc_fs){.handle = (uint64_t)h2, .off = 100};
	assert_int_equal(fs_call(g, KX_HC_FS_TRUNCATE, &c, NULL, NULL), -KX_ENOSPC);
	/* shrinking gives room back, then unlink gives the rest (once closed) */
	c = (struct kx_hc_fs){.handle = (uint64_t)h, .off = 1000};
	assert_int_equal(fs_call(g, KX_HC_FS_TRUNCATE, &c, NULL, NULL), 0);
	assert_int_equal(fs_write(g, h2, 0, 2000), 2000);
	assert_int_equal(fs_close(g, h), 0);
	assert_int_equal(fs_path_call(g, KX_HC_FS_UNLINK, 0, "big", NULL, 0), 0);
	assert_int_equal(fs_write(g, h2, 2000, CAP - 10 - 2000), CAP - 10 - 2000);
	assert_int_equal(fs_write(g, h2, CAP, 1), -KX_ENOSPC);
	/* a rename of a file onto itself replaces nothing: no room comes back */
	assert_int_equal(fs_path_call(g, KX_HC_FS_RENAME, 0, "more", "more", 0), 0);
	assert_int_equal(fs_write(g, h2, CAP, 1), -KX_ENOSPC);
	/* O_TRUNC gives a file's bytes back */
	h = fs_open(g, 0, "more", O_RDWR | O_TRUNC);
	assert_true(h >= 0);
	assert_int_equal(fs_write(g, h, 0, 30000), 30000);
	guest_free(g);
}

/* An open with O_TRUNC that fails truncates nothing and gives nothing back
 * (before: the file's size left the count first, so O_EXCL on an existing
 * file reset the cap and a pVM could write without bound). */
static void test_failed_truncating_open_keeps_the_count(void **state)
{
	struct guest *g = guest_new(false);
	int64_t h, h2;

	(void)state;
	h = fs_open(g, 0, "big", O_CREAT | O_RDWR);
	assert_true(h >= 0);
	assert_int_equal(fs_write(g, h, 0, CAP - 10), CAP - 10); /* the cap is full */
	h2 = fs_open(g, 0, "big2", O_CREAT | O_RDWR);
	assert_true(h2 >= 0);
	assert_int_equal(fs_write(g, h2, 0, 1), -KX_ENOSPC);
	assert_int_equal(fs_open(g, 0, "big", O_CREAT | O_EXCL | O_TRUNC | O_RDWR), -KX_EEXIST);
	assert_int_equal(fs_open(g, 0, "big", O_DIRECTORY | O_TRUNC | O_RDWR), -KX_ENOTDIR);
	assert_int_equal(fs_write(g, h2, 0, 30000), -KX_ENOSPC);
	/* a truncating open that succeeds does give the bytes back */
	assert_int_equal(fs_close(g, h), 0);
	h = fs_open(g, 0, "big", O_TRUNC | O_WRONLY);
	assert_true(h >= 0);
	assert_int_equal(fs_write(g, h2, 0, 30000), 30000);
	guest_free(g);
}

/* Removing the name of a file this pVM holds open frees nothing while it
 * is open (before: unlink gave the bytes back at once, so holding files
 * open multiplied the cap); the last close gives them back. */
static void test_removed_but_open_file_stays_counted(void **state)
{
	struct guest *g = guest_new(false);
	int64_t h, h_again, h2;

	(void)state;
	h = fs_open(g, 0, "held", O_CREAT | O_RDWR);
	assert_true(h >= 0);
	h_again = fs_open(g, 0, "held", O_RDONLY);
	assert_true(h_again >= 0);
	assert_int_equal(fs_write(g, h, 0, CAP - 10), CAP - 10);
	assert_int_equal(fs_path_call(g, KX_HC_FS_UNLINK, 0, "held", NULL, 0), 0);
	h2 = fs_open(g, 0, "next", O_CREAT | O_RDWR);
	assert_true(h2 >= 0);
	assert_int_equal(fs_write(g, h2, 0, 1), -KX_ENOSPC);
	/* the removed file still grows within the cap only */
	assert_int_equal(fs_write(g, h, CAP - 10, 1), -KX_ENOSPC);
	/* the same through a rename onto it */
	assert_int_equal(fs_close(g, h2), 0);
	assert_int_equal(fs_close(g, h_again), 0);
	assert_int_equal(fs_write(g, h2 = fs_open(g, 0, "next", O_RDWR), 0, 1), -KX_ENOSPC);
	assert_int_equal(fs_close(g, h), 0); /* the last holder: the bytes are free */
	assert_int_equal(fs_write(g, h2, 0, 20000), 20000);
	h = fs_open(g, 0, "target", O_CREAT | O_RDWR);
	assert_true(h >= 0);
	assert_int_equal(fs_write(g, h, 0, CAP - 10 - 20000), CAP - 10 - 20000);
	assert_int_equal(fs_path_call(g, KX_HC_FS_RENAME, 0, "next", "target", 0), 0);
	assert_int_equal(fs_write(g, h2, 20000, 1), -KX_ENOSPC); /* target still held */
	assert_int_equal(fs_close(g, h), 0);
	assert_int_equal(fs_write(g, h2, 20000, 1000), 1000);
	guest_free(g);
}

/* A forked pVM's monitor is a copy of this process: parent and children
 * draw on one cap (before, each child started from a copy of the count and
 * fork, write, exit wrote a whole cap per child: a review finding). */
static void test_forked_monitors_share_the_cap(void **state)
{
	struct guest *g = guest_new(false);
	int64_t total = 0, h;
	int link[2];

	(void)state;
	assert_int_equal(pipe(link), 0);
	for (int i = 0; i < 5; i++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			char name[24];
			int64_t n;

			snprintf(name, sizeof(name), "child%d", i);
			h = fs_open(g, 0, name, O_CREAT | O_RDWR);
			n = h < 0 ? h : fs_write(g, h, 0, CAP - 10);
			_exit(write(link[1], &n, sizeof(n)) == (ssize_t)sizeof(n) ? 0 : 1);
		}
		assert_int_equal(waitpid(pid, NULL, 0), pid);
	}
	close(link[1]);
	for (int64_t n; read(link[0], &n, sizeof(n)) == (ssize_t)sizeof(n);)
		total += n > 0 ? n : 0;
	close(link[0]);
	assert_int_equal(total, CAP - 10); /* the first child took it all */
	/* and the parent sees what its children wrote */
	h = fs_open(g, 0, "parent", O_CREAT | O_RDWR);
	assert_true(h >= 0);
	assert_int_equal(fs_write(g, h, 0, 1), -KX_ENOSPC);
	guest_free(g);
}

/* Fork a monitor as proc.c does (the parent's hooks first); the child runs
 * fn on the copy and ends as a monitor does (its pVM destroyed), unless
 * killed: then it just exits, as SIGKILL would leave it. */
static void monitor_fork(struct guest *g, bool (*fn)(struct guest *g), bool killed)
{
	int status;
	pid_t pid;

	hv_core_fork_parent(g->p, false);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		bool ok = fn(g);

		if (!killed)
			hv_destroy(g->p, 0, NULL, "");
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int64_t big_handle;

static bool remove_big(struct guest *g)
{
	return fs_path_call(g, KX_HC_FS_UNLINK, 0, "big", NULL, 0) == 0 &&
	       fs_close(g, big_handle) == 0;
}

/* A removed file parent and child both held: its bytes leave the disk
 * once, so they come back to the count once (before: once per monitor, and
 * the disk filled past the cap — a review finding).  While another monitor
 * may hold copies nothing comes back; alone again, the monitor counts the
 * mount anew when a write does not fit. */
static void test_forked_holders_give_back_once(void **state)
{
	for (int killed = 0; killed <= 1; killed++) {
		struct guest *g = guest_new(false);
		int64_t keep, more;

		(void)state;
		keep = fs_open(g, 0, "keep", O_CREAT | O_RDWR);
		assert_int_equal(fs_write(g, keep, 0, 30000), 30000);
		big_handle = fs_open(g, 0, "big", O_CREAT | O_RDWR);
		assert_int_equal(fs_write(g, big_handle, 0, 30000), 30000);
		monitor_fork(g, remove_big, killed);
		assert_int_equal(fs_close(g, big_handle), 0); /* big leaves the disk now */
		/* on disk: 10 bytes from boot and keep's 30000 */
		more = fs_open(g, 0, "more", O_CREAT | O_RDWR);
		if (!killed) /* the child ended as a monitor: alone, exact again */
			assert_int_equal(fs_write(g, more, 0, CAP), CAP - 10 - 30000);
		else /* a killed child still counts as a holder: the count errs high */
			assert_int_equal(fs_write(g, more, 0, CAP), CAP - 10 - 60000);
		guest_free(g);
	}
}

static void test_malformed_blocks_end_the_pvm(void **state)
{
	struct guest *g = guest_new(false);
	struct kx_hc_fs c = {.mount = 0, .path = 0, .path_len = KX_FS_PATH_MAX + 1};
	int64_t h;

	(void)state;
	assert_int_equal(fs_call(g, KX_HC_FS_OPEN, &c, NULL, NULL), INT64_MIN);
	c = (struct kx_hc_fs){.mount = 0, .path = 0x10, .path_len = 4}; /* monitor memory */
	assert_int_equal(fs_call(g, KX_HC_FS_OPEN, &c, NULL, NULL), INT64_MIN);
	h = fs_open(g, 0, "old", O_RDONLY);
	assert_true(h >= 0);
	c = (struct kx_hc_fs){.handle = (uint64_t)h, .buf = g->buf, .len = KX_FS_IO_MAX + 1};
	assert_int_equal(fs_call(g, KX_HC_FS_PREAD, &c, NULL, NULL), INT64_MIN);
	c = (struct kx_hc_fs){.handle = (uint64_t)h, .buf = g->mem->size - 8, .len = 64};
	assert_int_equal(fs_call(g, KX_HC_FS_PREAD, &c, NULL, NULL), INT64_MIN);
	/* a bad handle or mount is an errno, not an end */
	assert_int_equal(fs_open(g, 7, "old", O_RDONLY), -KX_EBADF);
	c = (struct kx_hc_fs){.handle = 4000, .buf = g->buf, .len = 4};
	assert_int_equal(fs_call(g, KX_HC_FS_PREAD, &c, NULL, NULL), -KX_EBADF);
	/* a NUL inside a path is EINVAL */
	memcpy(g->mem->host + g->path, "ol\0d", 4);
	c = (struct kx_hc_fs){.mount = 0, .path = g->path, .path_len = 4};
	assert_int_equal(fs_call(g, KX_HC_FS_OPEN, &c, NULL, NULL), -KX_EINVAL);
	guest_free(g);
}

static void test_denied_mount_fails_the_boot(void **state)
{
	struct guest *g = guest_new(true);
	static uint8_t buf[4 << 20];
	struct kx_error err;
	char path[4200];
	size_t len;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/kxpool.kxe", guest_dir);
	f = fopen(path, "rb");
	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(hv_load(g->p, buf, len, &err), -EACCES);
	assert_non_null(strstr(err.msg, "not in this test"));
	guest_free(g);
}

/* As in a jailed kxmon: the monitor is confined beneath its mounts once
 * kxd granted them (jail_confine_beneath, Landlock), and every host-
 * directory call still works — and fails — as above.  In a child (the
 * wall cannot be taken down); the last test, so that a failure in the
 * child ends its copy of the run. */
static void test_confined_monitor_works(void **state)
{
	char top[sizeof(((struct guest *)0)->top)] = "", cmd[600];
	int link[2], status;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(link), 0);
	pid = fork();
	if (pid == 0) {
		struct guest *g;

		close(link[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
			_exit(2);
		hv_set_jailed(jail_confine_beneath);
		g = guest_new(false);
		if (write(link[1], g->top, sizeof(g->top)) != (ssize_t)sizeof(g->top))
			_exit(3);
		/* confined now, where the kernel offers it */
		if (jail_landlock_abi() >= 2 && open("/etc/hostname", O_RDONLY) >= 0)
			_exit(4);
		files_work(g);
		escapes_fail(g);
		_exit(0); /* no guest_free: the wall keeps rm from running */
	}
	close(link[1]);
	assert_true(pid > 0);
	assert_int_equal(read(link[0], top, sizeof(top)), (ssize_t)sizeof(top));
	close(link[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mounts_described),
		cmocka_unit_test(test_files_work),
		cmocka_unit_test(test_escapes_fail),
		cmocka_unit_test(test_read_only_mount),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_failed_truncating_open_keeps_the_count),
		cmocka_unit_test(test_removed_but_open_file_stays_counted),
		cmocka_unit_test(test_forked_monitors_share_the_cap),
		cmocka_unit_test(test_forked_holders_give_back_once),
		cmocka_unit_test(test_malformed_blocks_end_the_pvm),
		cmocka_unit_test(test_denied_mount_fails_the_boot),
		cmocka_unit_test(test_confined_monitor_works),
	};
	char self[4096];

	(void)argc;
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(guest_dir, sizeof(guest_dir), "%s/../guest", dirname(self));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
