/*
 * fuzz_hcall — drives the hypercall decoder and every module behind it
 * (hv_hcall_dispatch) with arbitrary guest memory, page rights and block
 * addresses, over the fake backend (tests/hv/hv_fake.h); no KVM involved.
 *
 * Input layout (all of it untrusted, any length):
 *   byte 0        flags: bit 0 = use the block address as is (else keep its
 *                 low 16 bits, so it lands in guest memory), bit 1 = the
 *                 console fails, bit 2 = the pVM has a manager (the scripted
 *                 stand-in for kxd below) and runs a dynamic image (the
 *                 guest build's linkt.kxe, lazily linked with libkvmath.so:
 *                 $B/guest, built beside the harness) in a recycle pool,
 *                 bits 3-4 = how the stand-in
 *                 answers: 0 it grants what it can, 1 it denies everything,
 *                 2 the channel is broken, 3 odd answers (an unsealed library,
 *                 an IpC object of the wrong size, a mount that is no
 *                 directory), bit 5 = the block arrives
 *                 already copied (a ring transport: hv_hcall_dispatch_copy)
 *                 as the top byte of the address bytes says how many bytes
 *                 of guest memory at the address's low 16 bits, so nothing
 *                 but a recycled app's argv buffer may change in memory,
 *                 bit 6 = with bit 2: the pVM is no pool
 *                 member and has host directories (posix-fs: the stand-in
 *                 grants a writable one capped at 64 KiB and a read-only
 *                 one, fresh directories of the harness under /tmp)
 *   bytes 1..4    block address, little-endian
 *   bytes 5..20   guest rights of pages 0..15 (HV_PROT_* in the low 3 bits)
 *   bytes 21..    guest memory from address 0 (64 KiB)
 *
 * Besides ASan/UBSan, the harness checks what the core promises: it writes
 * nothing but the argument block (and a recycled app's argv buffer), and
 * only when the call succeeded; what a console write sent is readable guest
 * memory, byte for byte; a bad call always carries a reason; a panic
 * message is NUL-terminated; library names reach kxd NUL-terminated,
 * 1..KX_HC_NAME_MAX bytes; a call that needed the channel never resumes
 * the guest once the channel is broken; a resolved address lies in guest
 * memory; a host-directory call writes only its own buffer, and nothing
 * ever appears outside the harness's directories.  The stand-in never allows a fork (that would fork the fuzzer).
 * KX_HC_HALT runs with the pVM paused (as kxmon's timeout would): it must
 * come back at once instead of sleeping to a fuzzed deadline; a call that
 * fills a buffer (KX_HC_ENTROPY) may write exactly that buffer, and only
 * when it succeeded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <libgen.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manager/hv/backend.h"
#include "tests/hv/hv_fake.h"

#define FUZZ_PAGES  16u
#define FUZZ_MEM    (FUZZ_PAGES * KX_PAGE_SIZE)
#define HEADER_SIZE (1 + 4 + FUZZ_PAGES)
#define MAX_BLOCK   96u /* larger than every argument block (kx_hc_fs: 88) */
#define PVM_MEM	    (16ull << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum mode { GRANT, DENY, BROKEN, ODD };

static const char *const lib_names[] = {"libkvmath.so"};
#define NLIBS (sizeof(lib_names) / sizeof(lib_names[0]))
static int lib_fds[NLIBS];
static char guest_dir[4096];
static uint8_t *image;
static size_t image_len;
static int console_rd = -1, console_wr = -1, console_dead = -1;
/* posix-fs: the host directories the stand-in grants (top/rw, top/ro). */
static char fs_top[64], fs_rw[96], fs_ro[96];
static void fs_cleanup(void);

static void need(int cond)
{
	if (!cond)
		abort();
}

/* What the stand-in answers (f->ctx: the mode). */
static int answer(struct fake_mgr *f, struct kxmon_msg *m, uint32_t resp_type, int *fds,
		  int *nfds)
{
	enum mode mode = (enum mode)(uintptr_t)f->ctx;
	char name[KXMON_NAME_MAX];
	size_t n;

	memset(&m->u, 0, sizeof(m->u));
	m->type = resp_type;
	switch (resp_type) {
	case KXMON_MSG_LINK_RESP:
		n = strnlen(f->last_call.u.link_req.name, sizeof(f->last_call.u.link_req.name));
		need(n >= 1 && n <= KX_HC_NAME_MAX); /* a name as the guest may give one */
		snprintf(name, sizeof(name), "%s", f->last_call.u.link_req.name);
		snprintf(m->u.link.name, sizeof(m->u.link.name), "%s", name);
		m->u.link.allow = mode != DENY;
		for (size_t i = 0; mode == GRANT && i < NLIBS; i++)
			if (strcmp(name, lib_names[i]) == 0)
				fds[(*nfds)++] = fcntl(lib_fds[i], F_DUPFD_CLOEXEC, 3);
		if (mode == ODD)
			fds[(*nfds)++] = open("/dev/null", O_RDONLY | O_CLOEXEC); /* not sealed */
		if (*nfds == 0)
			m->u.link.allow = 0;
		return 0;
	case KXMON_MSG_FORK_RESP:
		m->u.fork.error = mode == DENY ? -EACCES : -EAGAIN;
		return 0;
	case KXMON_MSG_KILL_RESP:
		m->u.sig.result = mode == DENY ? -EACCES : 0;
		return 0;
	case KXMON_MSG_SELF_RESP:
		m->u.self.pvm_id = 6;
		m->u.self.parent_id = 1;
		return 0;
	case KXMON_MSG_FS_MOUNT_RESP: { /* posix-fs */
		uint32_t index = f->last_call.u.fs_mount_req.index;

		if (index >= 2 || mode == DENY) {
			m->u.fs_mount.result = index >= 2 ? -ENOENT : -EACCES;
			return 0;
		}
		fds[0] = mode == ODD ? open("/dev/null", O_RDONLY | O_CLOEXEC)
				     : open(index == 0 ? fs_rw : fs_ro, O_PATH | O_DIRECTORY | O_CLOEXEC);
		need(fds[0] >= 0);
		*nfds = 1;
		m->u.fs_mount.writable = index == 0;
		m->u.fs_mount.max = index == 0 ? 65536 : 0;
		snprintf(m->u.fs_mount.guest, sizeof(m->u.fs_mount.guest), "%s",
			 index == 0 ? "/data" : "/conf");
		return 0;
	}
	case KXMON_MSG_IPC_RESP:
		if (mode == ODD && f->last_call.u.ipc_req.op == KXMON_IPC_GET) {
			m->u.ipc_resp.map = 1;
			m->u.ipc_resp.kind = KX_IPC_KIND_PIPE;
			m->u.ipc_resp.id = 9;
			m->u.ipc_resp.data_size = KX_PAGE_SIZE; /* but /dev/null is empty */
			fds[(*nfds)++] = open("/dev/null", O_RDONLY | O_CLOEXEC);
			return 0;
		}
		m->u.ipc_resp.result = mode == DENY ? -EACCES : -ENOSPC;
		return 0;
	default:
		return -EPIPE;
	}
}

/* kx_wait's answers: one child, FAKE_CHILD, ended with status 7; a cancel
 * (no-hang, timeout, a signal) is answered at once. */
#define FAKE_CHILD 5u

static int next(struct fake_mgr *f, uint64_t seq, int timeout_ms, struct kxmon_msg *m, int *fds,
		int *nfds)
{
	const struct kxmon_msg *sent = &f->last_sent;
	uint64_t child = sent->u.wait.child_id;

	(void)fds, (void)nfds;
	if (sent->seq != seq ||
	    (sent->type != KXMON_MSG_WAIT_REQ && sent->type != KXMON_MSG_WAIT_CANCEL))
		return timeout_ms < 0 ? -EPIPE : 0;
	memset(m, 0, sizeof(*m));
	m->type = KXMON_MSG_WAIT_RESP;
	m->seq = seq;
	m->u.wait.child_id = child == 0 ? FAKE_CHILD : child;
	if (child != 0 && child != FAKE_CHILD)
		m->u.wait.result = -ECHILD;
	else if (sent->type == KXMON_MSG_WAIT_CANCEL || (enum mode)(uintptr_t)f->ctx != GRANT)
		m->u.wait.result = -EINTR;
	else
		m->u.wait.status = 7;
	return 1;
}

/* A file of the guest build as a sealed memfd (and its bytes). */
static int guest_file(const char *name, uint8_t **bytes, size_t *len)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", guest_dir, name);
	fd = fake_sealed_file(path, bytes, len);
	if (fd < 0) {
		fprintf(stderr, "fuzz_hcall: cannot read %s\n", path);
		abort();
	}
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char self[4096];
	int fds[2];

	(void)argc;
	/* $B/fuzz/fuzz_hcall -> $B/guest */
	snprintf(self, sizeof(self), "%s", (*argv)[0]);
	snprintf(guest_dir, sizeof(guest_dir), "%s/../guest", dirname(self));
	for (size_t i = 0; i < NLIBS; i++)
		lib_fds[i] = guest_file(lib_names[i], NULL, NULL);
	close(guest_file("linkt.kxe", &image, &image_len));
	signal(SIGPIPE, SIG_IGN);
	/* Room for the longest console write (KX_HC_CONSOLE_MAX), so the
	 * blocking write end never blocks; the harness reads without waiting. */
	if (pipe2(fds, O_CLOEXEC) != 0 || fcntl(fds[1], F_SETPIPE_SZ, 1 << 20) < 0 ||
	    fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0)
		abort();
	console_rd = fds[0];
	console_wr = fds[1];
	if (pipe2(fds, O_CLOEXEC) != 0)
		abort();
	close(fds[0]); /* writes to console_dead fail: EPIPE */
	console_dead = fds[1];
	/* posix-fs: two host directories; what the fuzzer writes stays there */
	snprintf(fs_top, sizeof(fs_top), "/tmp/fuzz_hcall.XXXXXX");
	if (mkdtemp(fs_top) == NULL)
		abort();
	snprintf(fs_rw, sizeof(fs_rw), "%s/rw", fs_top);
	snprintf(fs_ro, sizeof(fs_ro), "%s/ro", fs_top);
	if (mkdir(fs_rw, 0700) != 0 || mkdir(fs_ro, 0700) != 0)
		abort();
	{
		char path[128];
		int fd;

		snprintf(path, sizeof(path), "%s/file", fs_ro);
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, "read-only\n", 10) != 10)
			abort();
		close(fd);
		snprintf(path, sizeof(path), "%s/escape", fs_rw);
		if (symlink("..", path) != 0)
			abort();
	}
	atexit(fs_cleanup);
	return 0;
}

/* posix-fs: nothing but rw/ and ro/ ever appears in the top directory (the
 * symlink rw/escape points there: a path that left the mount would land
 * here); removed at exit. */
static void fs_top_intact(void)
{
	DIR *d = opendir(fs_top);
	struct dirent *e;
	int n = 0;

	need(d != NULL);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			need(++n <= 2 && (strcmp(e->d_name, "rw") == 0 || strcmp(e->d_name, "ro") == 0));
	closedir(d);
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path);
}

static void fs_cleanup(void)
{
	nftw(fs_top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* posix-fs: a host-directory call that resumed may have written its own
 * buffer [buf, buf + len) (read, stat, getdents, the mount's path). */
static void fs_buf(uint32_t nr, const uint8_t *block, uint64_t *lo, uint64_t *hi)
{
	struct kx_hc_fs c;

	*lo = *hi = 0;
	if (nr != KX_HC_FS_MOUNT && nr != KX_HC_FS_PREAD && nr != KX_HC_FS_FSTAT &&
	    nr != KX_HC_FS_STAT && nr != KX_HC_FS_GETDENTS)
		return;
	memcpy(&c, block, sizeof(c)); /* guest memory, or a transport's copy */
	if (!__builtin_add_overflow(c.buf, c.len, hi))
		*lo = c.buf;
	else
		*hi = 0;
}

/* The argv buffer of a KX_HC_RECYCLE_WAIT block at value (as the guest
 * wrote it, in before), which the call may write too: [*lo, *hi). */
static void recycle_buf(const uint8_t *before, uint64_t value, uint64_t *lo, uint64_t *hi)
{
	struct kx_hc_recycle_wait r;

	*lo = *hi = 0;
	if (value + sizeof(r) > FUZZ_MEM)
		return;
	memcpy(&r, before + value, sizeof(r));
	if (r.hdr.nr == KX_HC_RECYCLE_WAIT && !__builtin_add_overflow(r.buf, r.size, hi))
		*lo = r.buf;
	else
		*hi = 0;
}

/* The buffer a successful KX_HC_ENTROPY filled: [*lo, *hi), writable. */
static void entropy_buf(struct hv_guest_mem *mem, const uint8_t *before, uint64_t value,
			const uint8_t *block, uint64_t *lo, uint64_t *hi)
{
	struct kx_hc_entropy e, after;

	*lo = *hi = 0;
	if (value + sizeof(e) > FUZZ_MEM)
		return;
	memcpy(&e, before + value, sizeof(e));
	memcpy(&after, block, sizeof(after)); /* guest memory, or a transport's copy */
	if (after.hdr.ret <= 0)
		return;
	need(e.len <= KX_ENTROPY_MAX && after.hdr.ret == (int64_t)e.len);
	need(hv_guest_ptr(mem, e.buf, e.len, HV_ACCESS_WRITE) != NULL);
	*lo = e.buf;
	*hi = e.buf + e.len;
}

/* What a successful console write sent: readable guest memory, as is. */
static void check_console(struct hv_guest_mem *mem, const uint8_t *before, const uint8_t *block)
{
	struct kx_hc_console_write c;
	static uint8_t got[KX_HC_CONSOLE_MAX + 1];
	ssize_t n;

	memcpy(&c, block, sizeof(c));
	n = read(console_rd, got, sizeof(got));
	if (c.hdr.ret <= 0) {
		need(n <= 0);
		return;
	}
	need(n == c.hdr.ret);
	need(hv_guest_ptr(mem, c.buf, (uint64_t)n, HV_ACCESS_READ) != NULL);
	/* the bytes as they were before the call (the block itself changed) */
	for (ssize_t i = 0; i < n; i++)
		need(got[i] == (c.buf + (uint64_t)i < FUZZ_MEM ? before[c.buf + (uint64_t)i]
								: mem->host[c.buf + (uint64_t)i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char name[] = "fuzz";
	static char *argv[] = {name, NULL};
	struct fake_mgr mgr = {.answer = answer, .next = next};
	struct hv_manager manager = {.ops = &fake_mgr_ops, .ctx = &mgr};
	struct hv_config cfg = {.mem_size = PVM_MEM, .argc = 1, .argv = argv};
	struct hv_pvm *p = NULL;
	struct hv_guest_mem *mem;
	struct hv_hcall_result res;
	struct kx_error err;
	uint8_t *before = NULL, *copy = NULL, *block;
	uint64_t value, argv_lo = 0, argv_hi = 0, copy_len = 0, block_lo, block_hi;
	uint64_t fs_lo = 0, fs_hi = 0;
	uint32_t value32, nr = 0;
	uint8_t flags;
	enum mode mode;

	if (size < HEADER_SIZE)
		return 0;
	flags = data[0];
	memcpy(&value32, data + 1, sizeof(value32));
	value = (flags & 1) && !(flags & 32) ? value32 : value32 & 0xffff;
	mode = (enum mode)((flags >> 3) & 3);
	mgr.ctx = (void *)(uintptr_t)mode;
	cfg.console_fd = (flags & 2) ? console_dead : console_wr;
	if (flags & 4) {
		cfg.manager = &manager;
		cfg.pool = !(flags & 0x40);
		mgr.answer_mounts = (flags & 0x40) != 0;
	}
	if (hv_create(&hv_fake_backend, &cfg, &p, &err) != 0)
		abort();
	/* The image links with the stand-in granting its libraries. */
	if ((flags & 4) && hv_load(p, image, image_len, &err) != 0 && mode == GRANT)
		abort();
	mgr.broken = mode == BROKEN;
	mgr.calls = mgr.sends = 0;
	mem = hv_pvm_mem(p);
	for (unsigned i = 0; i < FUZZ_PAGES; i++)
		mem->page_prot[i] = data[5 + i] & 7;
	if (size > HEADER_SIZE)
		memcpy(mem->host, data + HEADER_SIZE,
		       size - HEADER_SIZE < FUZZ_MEM ? size - HEADER_SIZE : FUZZ_MEM);
	before = malloc(FUZZ_MEM);
	if (before == NULL)
		abort();
	memcpy(before, mem->host, FUZZ_MEM);
	if (value + sizeof(struct kx_hc_hdr) <= FUZZ_MEM)
		memcpy(&nr, before + value + offsetof(struct kx_hc_hdr, nr), sizeof(nr));
	if (nr == KX_HC_HALT)
		hv_pause(p);

	if (flags & 32) {
		/* What a ring transport copied out: nothing the decoder may write in
		 * guest memory; the answer goes back into the copy. */
		copy_len = value32 >> 24;
		if (copy_len > FUZZ_MEM - value)
			copy_len = FUZZ_MEM - value;
		copy = malloc(copy_len ? copy_len : 1);
		if (copy == NULL)
			abort();
		memcpy(copy, mem->host + value, copy_len);
		hv_hcall_dispatch_copy(p, copy, copy_len, &res);
		block = copy;
		block_lo = block_hi = 0;
	} else {
		hv_hcall_dispatch(p, value, &res);
		block = mem->host + value;
		block_lo = value;
		block_hi = value + MAX_BLOCK;
	}

	switch (res.outcome) {
	case HV_HC_BAD:
		need(res.reason != NULL);
		break;
	case HV_HC_PANIC:
		need(memchr(res.message, '\0', sizeof(res.message)) != NULL);
		break;
	case HV_HC_RESUME:
		/* A call that needed the broken channel must end the pVM. */
		need(!(mgr.broken && mgr.calls + mgr.sends > 0));
		/* ret went back into the block: writable guest memory, or a copy
		 * long enough for the call's block. */
		if (copy == NULL)
			need(hv_guest_ptr(mem, value, sizeof(struct kx_hc_hdr), HV_ACCESS_WRITE) !=
			     NULL);
		else
			need(copy_len >= sizeof(struct kx_hc_hdr));
		if (res.nr == KX_HC_RESOLVE) {
			struct kx_hc_resolve r;

			need(copy == NULL || copy_len >= sizeof(r));
			memcpy(&r, block, sizeof(r));
			need(r.addr < mem->size);
		}
		if (res.nr == KX_HC_CONSOLE_WRITE && value < FUZZ_MEM)
			check_console(mem, before, block);
		break;
	case HV_HC_EXIT:
		break;
	}
	/* Nothing outside the argument block changed, and nothing at all unless resumed. */
	if (res.outcome == HV_HC_RESUME && res.nr == KX_HC_RECYCLE_WAIT)
		recycle_buf(before, value, &argv_lo, &argv_hi);
	if (res.outcome == HV_HC_RESUME && res.nr == KX_HC_ENTROPY)
		entropy_buf(mem, before, value, block, &argv_lo, &argv_hi);
	if (res.outcome == HV_HC_RESUME)
		fs_buf(res.nr, block, &fs_lo, &fs_hi);
	for (uint64_t a = 0; a < FUZZ_MEM; a++) {
		int allowed = res.outcome == HV_HC_RESUME &&
			      ((a >= block_lo && a < block_hi) || (a >= argv_lo && a < argv_hi) ||
			       (a >= fs_lo && a < fs_hi));

		if (!allowed && mem->host[a] != before[a])
			abort();
	}
	if (flags & 0x40)
		fs_top_intact();
	/* Whatever the console got: gone before the next input. */
	while (read(console_rd, before, FUZZ_MEM) > 0)
		;
	free(before);
	free(copy);
	hv_destroy(p, 0, NULL, "");
	return 0;
}
