/*
 * test_guest_errno: the one map from a host -errno to the guest's KX_E*
 * (hv_guest_errno, manager/hv/core.c), alone and through the monitor's
 * core: a pVM on the fake backend with a scripted manager
 * (tests/hv/hv_fake.h), every hypercall made through hv_hcall_dispatch.
 *
 * The decoder and the IpC calls used to keep a map each, and they
 * disagreed: -ENOSPC was -KX_ENOMEM to kx_kill or kx_waitx but -KX_ENOSPC
 * to an IpC call, and -EAGAIN, -ESRCH or -EEXIST turned into -KX_EINVAL on
 * one side or the other.  Here every call that passes the manager's answer
 * on (kill, wait, waitx, fork, IPC_GET) gives the guest the same value for
 * the same host errno, the KX_E* of the same name; and where two calls
 * document different words for "no room" (kx_dlopen -KX_ENOMEM, IPC_GET
 * -KX_ENOSPC), each reads as documented when the pVM runs out of it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "manager/hv/internal.h"
#include "tests/hv/hv_fake.h"

static char guest_dir[4096];

/* ---- the map ------------------------------------------------------------ */

static const struct {
	int host;
	int64_t guest;
} names[] = {
	{-EPERM, -KX_EPERM},   {-ENOENT, -KX_ENOENT}, {-ESRCH, -KX_ESRCH},
	{-EINTR, -KX_EINTR},   {-EIO, -KX_EIO},	      {-E2BIG, -KX_E2BIG},
	{-EBADF, -KX_EBADF},   {-ECHILD, -KX_ECHILD}, {-EAGAIN, -KX_EAGAIN},
	{-ENOMEM, -KX_ENOMEM}, {-EACCES, -KX_EACCES}, {-EEXIST, -KX_EEXIST},
	{-EINVAL, -KX_EINVAL}, {-ENOSPC, -KX_ENOSPC}, {-EPIPE, -KX_EPIPE},
	{-ENOSYS, -KX_ENOSYS}, {-EIDRM, -KX_EIDRM},   {-ETIMEDOUT, -KX_ETIMEDOUT},
	/* posix-fs */
	{-ENXIO, -KX_ENXIO},   {-EBUSY, -KX_EBUSY},   {-EXDEV, -KX_EXDEV},
	{-ENOTDIR, -KX_ENOTDIR}, {-EISDIR, -KX_EISDIR}, {-EFBIG, -KX_EFBIG},
	{-EROFS, -KX_EROFS},   {-EMLINK, -KX_EMLINK}, {-ENAMETOOLONG, -KX_ENAMETOOLONG},
	{-ENOTEMPTY, -KX_ENOTEMPTY}, {-ELOOP, -KX_ELOOP}, {-EOVERFLOW, -KX_EOVERFLOW},
	/* what a backend cannot do (Xen: an IpC object another domain holds) */
	{-EOPNOTSUPP, -KX_EOPNOTSUPP},
};

static void test_map_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (hv_guest_errno(names[i].host) != names[i].guest)
			fail_msg("host %d: guest %lld, want %lld", names[i].host,
				 (long long)hv_guest_errno(names[i].host),
				 (long long)names[i].guest);
	/* ENOSPC and ENOMEM are two things, as in the ABI. */
	assert_int_equal(hv_guest_errno(-ENOSPC), -28);
	assert_int_equal(hv_guest_errno(-ENOMEM), -12);
}

/* An errno the ABI has no name for is -KX_EINVAL, never passed through. */
static void test_map_unnamed(void **state)
{
	const int unnamed[] = {-EPROTO, -EBADMSG, -ENOEXEC, -EDQUOT, -ESTALE, -ENOKEY, -4095};

	(void)state;
	for (size_t i = 0; i < sizeof(unnamed) / sizeof(unnamed[0]); i++)
		assert_int_equal(hv_guest_errno(unnamed[i]), -KX_EINVAL);
}

/* ---- through the core ------------------------------------------------------ */

/* The fake backend, except that fork_prepare succeeds: a denied fork
 * never reaches fork(). */
static struct hv_backend backend;

static int ok_fork_prepare(struct hv_vm *vm, struct kx_error *err)
{
	(void)vm, (void)err;
	return 0;
}

static int refusing_map_fd(struct hv_vm *vm, uint64_t gpa, int fd, uint64_t offset,
			   uint64_t size, unsigned prot, struct kx_error *err);

struct guest {
	struct fake_mgr mgr;
	struct hv_manager manager;
	struct hv_pvm *p;
	struct hv_guest_mem *mem;
	uint64_t block; /* the argument block, in the heap */
	uint64_t name;	/* a library name, the page after it */
	int rc;		/* kxd's answer to every request (0: grant) */
	uint64_t next_id;
	unsigned detaches;
};

/* A memfd as kxd makes an IpC object: a control page and one data page,
 * sealed against resizing. */
static int ipc_object(void)
{
	int fd = memfd_create("kx-ipc", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 2 * KX_PAGE_SIZE), 0);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	return fd;
}

/* kxd: every LINK_REQ granted with libkvmath.so whatever its name (so a
 * pVM can link it again and again); every other request answered with
 * g->rc, and with 0 an IPC_REQ GET gets a new object. */
static int answer(struct fake_mgr *f, struct kxmon_msg *m, uint32_t resp_type, int *fds, int *nfds)
{
	struct guest *g = f->ctx;
	struct kxmon_msg req = *m;
	char path[4200];

	memset(&m->u, 0, sizeof(m->u));
	m->type = resp_type;
	switch (req.type) {
	case KXMON_MSG_LINK_REQ:
		snprintf(m->u.link.name, sizeof(m->u.link.name), "%s", req.u.link_req.name);
		snprintf(path, sizeof(path), "%s/libkvmath.so", guest_dir);
		fds[0] = fake_sealed_file(path, NULL, NULL);
		assert_true(fds[0] >= 0);
		*nfds = 1;
		m->u.link.allow = 1;
		m->u.link.bind = KXMON_BIND_LAZY;
		return 0;
	case KXMON_MSG_KILL_REQ:
		m->u.sig = req.u.sig;
		m->u.sig.result = g->rc;
		return 0;
	case KXMON_MSG_FORK_REQ:
		m->u.fork.allow = 0;
		m->u.fork.error = g->rc;
		snprintf(m->u.fork.reason, sizeof(m->u.fork.reason), "not in this test");
		return 0;
	case KXMON_MSG_IPC_REQ:
		m->u.ipc_resp.result = req.u.ipc_req.op == KXMON_IPC_DETACH ? 0 : g->rc;
		g->detaches += req.u.ipc_req.op == KXMON_IPC_DETACH;
		if (req.u.ipc_req.op == KXMON_IPC_GET && g->rc == 0) {
			m->u.ipc_resp.kind = req.u.ipc_req.kind;
			m->u.ipc_resp.id = ++g->next_id;
			m->u.ipc_resp.data_size = KX_PAGE_SIZE;
			m->u.ipc_resp.map = 1;
			fds[0] = ipc_object();
			*nfds = 1;
		}
		return 0;
	default:
		fail_msg("unexpected request %u", req.type);
		return -EPIPE;
	}
}

/* kxd's answer to WAIT_REQ, after the pushes (none here). */
static int next(struct fake_mgr *f, uint64_t seq, int timeout_ms, struct kxmon_msg *m, int *fds,
		int *nfds)
{
	const struct guest *g = f->ctx;

	(void)seq, (void)timeout_ms, (void)fds, (void)nfds;
	memset(m, 0, sizeof(*m));
	m->type = KXMON_MSG_WAIT_RESP;
	m->u.wait.result = g->rc;
	return 1;
}

static struct guest *guest_new(void)
{
	static char name[] = "kxpool.kxe";
	static char *argv[] = {name, NULL};
	struct guest *g = calloc(1, sizeof(*g));
	struct hv_config cfg = {.mem_size = 16ull << 20, .argc = 1, .argv = argv, .console_fd = -1};
	const struct kx_boot_info *boot;
	struct kx_error err;

	assert_non_null(g);
	backend = hv_fake_backend;
	backend.fork_prepare = ok_fork_prepare;
	backend.map_fd = refusing_map_fd;
	g->mgr.answer = answer;
	g->mgr.next = next;
	g->mgr.ctx = g;
	g->manager = (struct hv_manager){.ops = &fake_mgr_ops, .ctx = &g->mgr};
	cfg.manager = &g->manager;
	if (hv_create(&backend, &cfg, &g->p, &err) != 0)
		fail_msg("hv_create: %s", err.msg);
	g->mem = hv_pvm_mem(g->p);
	fake_load(g->p, guest_dir, "kxpool.kxe");
	boot = hv_guest_ptr(g->mem, LAYOUT_BOOT, sizeof(*boot), HV_ACCESS_READ);
	assert_non_null(boot);
	g->block = boot->heap_start;
	g->name = boot->heap_start + KX_PAGE_SIZE;
	return g;
}

static void guest_free(struct guest *g)
{
	hv_destroy(g->p, 0, NULL, "");
	free(g);
}

/* Make call nr with block b (of size bytes) and return what the guest
 * reads; b gets the block back. */
static int64_t call(struct guest *g, uint32_t nr, void *b, size_t size)
{
	struct kx_hc_hdr *hdr = b;
	struct hv_hcall_result res;

	hdr->abi_version = KX_HCALL_ABI_VERSION;
	hdr->nr = nr;
	memcpy(g->mem->host + g->block, b, size);
	hv_hcall_dispatch(g->p, g->block, &res);
	if (res.outcome != HV_HC_RESUME)
		fail_msg("call %u: outcome %d (%s)", nr, (int)res.outcome,
			 res.reason ? res.reason : "");
	memcpy(b, g->mem->host + g->block, size);
	return hdr->ret;
}

/* The guest's value for a host errno, from the table above. */
static int64_t named(int host)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].host == host)
			return names[i].guest;
	return -KX_EINVAL;
}

static void test_every_call_agrees(void **state)
{
	/* Each failure at least one of the two old maps turned into something else. */
	const int host[] = {-ENOSPC, -ENOMEM, -EAGAIN,	  -ESRCH,  -EEXIST,
			    -EIDRM,  -ECHILD, -ETIMEDOUT, -ENOTSUP};
	static const char *const calls[] = {"kill", "wait", "waitx", "fork", "ipc_get"};
	struct guest *g = guest_new();

	(void)state;
	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
		struct kx_hc_kill kill = {.pvm_id = 2, .sig = 10};
		struct kx_hc_wait wait = {.child_id = 0};
		struct kx_hc_waitx waitx = {.child_id = 0};
		struct kx_hc_fork fork = {{0}};
		struct kx_hc_ipc_get get = {.kind = KX_IPC_KIND_MSGQ, .key = 7};
		int64_t got[5];

		g->rc = host[i];
		got[0] = call(g, KX_HC_KILL, &kill, sizeof(kill));
		got[1] = call(g, KX_HC_WAIT, &wait, sizeof(wait));
		got[2] = call(g, KX_HC_WAITX, &waitx, sizeof(waitx));
		got[3] = call(g, KX_HC_FORK, &fork, sizeof(fork));
		got[4] = call(g, KX_HC_IPC_GET, &get, sizeof(get));
		for (size_t c = 0; c < sizeof(got) / sizeof(got[0]); c++)
			if (got[c] != named(host[i]))
				fail_msg("host %d: %s gave the guest %lld, want %lld", host[i],
					 calls[c], (long long)got[c], (long long)named(host[i]));
	}
	guest_free(g);
}

/*
 * What each call documents for "no room" (docs/guest-abi.md) is what the
 * guest reads once the pVM has none: kx_dlopen -KX_ENOMEM (libraries
 * linked until no more fit), IPC_GET -KX_ENOSPC (objects mapped until the
 * IpC window is full; kxd is told to forget the one that did not fit).
 */
static void test_no_room_per_call(void **state)
{
	struct guest *g = guest_new();
	unsigned n;
	int64_t ret = 0;

	(void)state;
	for (n = 0; n < 1000 && ret == 0; n++) {
		struct kx_hc_dlopen dlopen = {.name = g->name};
		char *name = (char *)g->mem->host + g->name;

		dlopen.len = (uint64_t)snprintf(name, 64, "libroom%u.so", n);
		ret = call(g, KX_HC_DLOPEN, &dlopen, sizeof(dlopen));
	}
	print_message("kx_dlopen: %u linked, then %" PRId64 "\n", n - 1, ret);
	assert_true(n > 1 && n < 1000);
	assert_int_equal(ret, -KX_ENOMEM);

	g->rc = 0;
	ret = 0;
	for (n = 0; n < 1000 && ret == 0; n++) {
		struct kx_hc_ipc_get get = {
			.kind = KX_IPC_KIND_SHM, .key = n + 1, .size = KX_PAGE_SIZE};

		ret = call(g, KX_HC_IPC_GET, &get, sizeof(get));
	}
	print_message("IPC_GET: %u mapped, then %" PRId64 "\n", n - 1, ret);
	assert_true(n > 1 && n < 1000);
	assert_int_equal(ret, -KX_ENOSPC);
	assert_int_equal(g->detaches, 1);
	guest_free(g);
}

/* A data area the backend refuses to map: the guest reads why. */
static int map_refusal; /* map_fd of a writable range fails with it; 0: fake's */

static int refusing_map_fd(struct hv_vm *vm, uint64_t gpa, int fd, uint64_t offset,
			   uint64_t size, unsigned prot, struct kx_error *err)
{
	if (map_refusal != 0 && (prot & HV_PROT_WRITE))
		return kx_err(err, map_refusal, "refused by the test");
	return hv_fake_backend.map_fd(vm, gpa, fd, offset, size, prot, err);
}

/*
 * IPC_GET whose mapping the backend refuses: -EOPNOTSUPP ("not supported on
 * xen": an object another pVM's domain holds) reaches the guest as
 * -KX_EOPNOTSUPP, not as a lack of room; any other failed mapping stays
 * -KX_ENOSPC.  Either way kxd is told to forget the object.
 */
static void test_refused_mapping(void **state)
{
	struct kx_hc_ipc_get get = {.kind = KX_IPC_KIND_SHM, .key = 7, .size = KX_PAGE_SIZE};
	struct guest *g = guest_new();

	(void)state;
	g->rc = 0;
	map_refusal = -EOPNOTSUPP;
	assert_int_equal(call(g, KX_HC_IPC_GET, &get, sizeof(get)), -KX_EOPNOTSUPP);
	assert_int_equal(g->detaches, 1);
	map_refusal = -ENOMEM;
	assert_int_equal(call(g, KX_HC_IPC_GET, &get, sizeof(get)), -KX_ENOSPC);
	assert_int_equal(g->detaches, 2);
	map_refusal = 0;
	assert_int_equal(call(g, KX_HC_IPC_GET, &get, sizeof(get)), 0);
	guest_free(g);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_names),
		cmocka_unit_test(test_map_unnamed),
		cmocka_unit_test(test_every_call_agrees),
		cmocka_unit_test(test_no_room_per_call),
		cmocka_unit_test(test_refused_mapping),
	};
	char self[4096];

	(void)argc;
	/* $B/tests/test_guest_errno -> $B/guest */
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(guest_dir, sizeof(guest_dir), "%s/../guest", dirname(self));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
