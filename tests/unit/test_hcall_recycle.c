/*
 * test_hcall_recycle: KX_HC_RECYCLE_WAIT through the monitor's core, over
 * the fake backend and a scripted manager (tests/hv/hv_fake.h): a pooled
 * pVM running the real placeholder ($B/guest/kxpool.kxe) takes a real app
 * library (libkvcount.so; its DT_NEEDED libkvmath.so granted on request).
 * Checked: the argv layout written into the placeholder's buffer and the
 * entry point, and every refusal — no pool, a buffer too small, unaligned
 * or not writable (refused before kxd is asked, nothing written), a failed
 * hand-over, an app without app_entry, and malformed argv from the host
 * side (argc above what the strings hold, or above the limit).
 */
#define _GNU_SOURCE
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
#include <unistd.h>

#include <cmocka.h>

#include "manager/hv/layout.h"
#include "tests/hv/hv_fake.h"

static char guest_dir[4096];

/* A sealed memfd holding file `name` of the guest build, as kxd grants them. */
static int sealed_file(const char *name)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", guest_dir, name);
	fd = fake_sealed_file(path, NULL, NULL);
	assert_true(fd >= 0);
	return fd;
}

/* kxd's answers: libkvmath.so is granted (bind now), anything else denied. */
static int answer(struct fake_mgr *f, struct kxmon_msg *m, uint32_t resp_type, int *fds, int *nfds)
{
	(void)f;
	assert_int_equal(m->type, KXMON_MSG_LINK_REQ);
	assert_int_equal(resp_type, KXMON_MSG_LINK_RESP);
	memset(&m->u, 0, sizeof(m->u));
	m->type = KXMON_MSG_LINK_RESP;
	snprintf(m->u.link.name, sizeof(m->u.link.name), "%s", f->last_call.u.link_req.name);
	if (strcmp(f->last_call.u.link_req.name, "libkvmath.so") != 0) {
		snprintf(m->u.link.reason, sizeof(m->u.link.reason), "not in this test");
		return 0;
	}
	m->u.link.allow = 1;
	m->u.link.bind = KXMON_BIND_NOW;
	fds[0] = sealed_file("libkvmath.so");
	*nfds = 1;
	return 0;
}

/* What kxd pushes once the placeholder waits: the console, then the app. */
static void script_app(struct fake_mgr *f, const char *lib, uint32_t argc, const char *args,
		       uint32_t args_len)
{
	struct kxmon_msg *m = &f->push[0];

	memset(m, 0, 2 * sizeof(*m));
	m->type = KXMON_MSG_RECYCLE_CONSOLE;
	f->push_fds[0][0] = open("/dev/null", O_WRONLY | O_CLOEXEC);
	f->push_fds[0][1] = open("/dev/null", O_WRONLY | O_CLOEXEC);
	f->push_nfds[0] = 2;
	m[1].type = KXMON_MSG_RECYCLE_APP;
	snprintf(m[1].u.recycle.name, sizeof(m[1].u.recycle.name), "kvcount");
	snprintf(m[1].u.recycle.version, sizeof(m[1].u.recycle.version), "1.0");
	m[1].u.recycle.argc = argc;
	m[1].u.recycle.args_len = args_len;
	memcpy(m[1].u.recycle.args, args, args_len);
	f->push_fds[1][0] = sealed_file(lib);
	f->push_nfds[1] = 1;
	f->npush = 2;
}

struct guest {
	struct fake_mgr mgr;
	struct hv_pvm *p;
	struct hv_guest_mem *mem;
	uint64_t block, buf; /* in the heap */
};

static struct guest *guest_new(bool pool)
{
	struct guest *g = calloc(1, sizeof(*g));
	const struct kx_boot_info *boot;

	assert_non_null(g);
	g->mgr.answer = answer;
	g->p = fake_pvm(16ull << 20, &g->mgr, pool);
	g->mem = hv_pvm_mem(g->p);
	fake_load(g->p, guest_dir, "kxpool.kxe");
	boot = hv_guest_ptr(g->mem, LAYOUT_BOOT, sizeof(*boot), HV_ACCESS_READ);
	assert_non_null(boot);
	g->block = boot->heap_start;
	g->buf = boot->heap_start + KX_PAGE_SIZE;
	g->mgr.calls = g->mgr.sends = 0;
	return g;
}

static void guest_free(struct guest *g)
{
	hv_destroy(g->p, 0, NULL, "");
	free(g);
}

static struct kx_hc_recycle_wait *call(struct guest *g, uint64_t buf, uint64_t size,
				       struct hv_hcall_result *res)
{
	struct kx_hc_recycle_wait *r = hv_guest_ptr(g->mem, g->block, sizeof(*r), HV_ACCESS_WRITE);

	assert_non_null(r);
	memset(r, 0, sizeof(*r));
	r->hdr.abi_version = KX_HCALL_ABI_VERSION;
	r->hdr.nr = KX_HC_RECYCLE_WAIT;
	r->buf = buf;
	r->size = size;
	hv_hcall_dispatch(g->p, g->block, res);
	return r;
}

static void test_argv_layout(void **state)
{
	static const char args[] = "kvcount\0apple\0"; /* + the final NUL: "" is argv[2] */
	struct guest *g = guest_new(true);
	struct hv_hcall_result res;
	struct kx_hc_recycle_wait *r;
	uint64_t ptr[4];

	(void)state;
	script_app(&g->mgr, "libkvcount.so", 3, args, sizeof(args));
	r = call(g, g->buf, 2 * KX_PAGE_SIZE, &res);
	assert_int_equal(res.outcome, HV_HC_RESUME);
	assert_int_equal(r->hdr.ret, 0);
	assert_int_equal(g->mgr.recycled, 1);
	assert_int_equal(g->mgr.recycled_rc, 0);
	assert_int_equal(g->mgr.consoles, 1);
	assert_int_equal(g->mgr.last_sent.type, KXMON_MSG_RECYCLE_READY);
	/* app_entry lies in an executable page of the pVM */
	assert_true(r->entry > KX_IMAGE_MIN && r->entry < g->mem->size);
	assert_true(g->mem->page_prot[r->entry / KX_PAGE_SIZE] & HV_PROT_EXEC);
	assert_int_equal(r->argc, 3);
	assert_int_equal(r->argv, g->buf);
	memcpy(ptr, g->mem->host + g->buf, sizeof(ptr));
	assert_int_equal(ptr[0], g->buf + 4 * 8); /* strings right after argc + 1 pointers */
	assert_string_equal((char *)g->mem->host + ptr[0], "kvcount");
	assert_string_equal((char *)g->mem->host + ptr[1], "apple");
	assert_string_equal((char *)g->mem->host + ptr[2], ""); /* an empty argument stays one */
	assert_int_equal(ptr[3], 0);
	guest_free(g);
}

static void test_not_pooled(void **state)
{
	struct guest *g = guest_new(false);
	struct hv_hcall_result res;
	struct kx_hc_recycle_wait *r = call(g, g->buf, KX_RECYCLE_BUF_MIN, &res);

	(void)state;
	assert_int_equal(res.outcome, HV_HC_RESUME);
	assert_int_equal(r->hdr.ret, -KX_EPERM);
	assert_int_equal(g->mgr.sends, 0);
	guest_free(g);
}

/* Every refusal ends the pVM before (or instead of) writing the buffer. */
static void expect_bad(struct guest *g, uint64_t buf, uint64_t size, unsigned sends)
{
	struct hv_hcall_result res;
	uint8_t *area = g->mem->host + g->buf;

	memset(area, 0, 2 * KX_PAGE_SIZE);
	g->mgr.sends = 0;
	call(g, buf, size, &res);
	assert_int_equal(res.outcome, HV_HC_BAD);
	assert_non_null(res.reason);
	assert_int_equal(g->mgr.sends, sends);
	for (size_t i = 0; i < 2 * KX_PAGE_SIZE; i++)
		if (area[i] != 0)
			fail_msg("byte %zu of the buffer was written", i);
}

static void test_refused_before_asking(void **state)
{
	struct guest *g = guest_new(true);

	(void)state;
	expect_bad(g, g->buf, KX_RECYCLE_BUF_MIN - 1, 0); /* too small */
	expect_bad(g, g->buf + 4, KX_RECYCLE_BUF_MIN, 0); /* unaligned */
	expect_bad(g, g->mem->size - KX_PAGE_SIZE, 2 * KX_PAGE_SIZE, 0); /* past the end */
	g->mem->page_prot[g->buf / KX_PAGE_SIZE + 1] = HV_PROT_READ;
	expect_bad(g, g->buf, 2 * KX_PAGE_SIZE, 0); /* a read-only page in it */
	guest_free(g);
}

static void test_refused_hand_over(void **state)
{
	static const char bad_args[] = "one\0two"; /* argc 2, one terminated string */
	struct guest *g;

	(void)state;
	g = guest_new(true);
	g->mgr.broken = true; /* the hand-over fails: READY cannot be sent */
	expect_bad(g, g->buf, KX_RECYCLE_BUF_MIN, 1);
	assert_true(g->mgr.recycled_rc != 0);
	guest_free(g);

	g = guest_new(true); /* an app library without app_entry */
	script_app(&g->mgr, "libkvmath.so", 1, "x", 2);
	expect_bad(g, g->buf, KX_RECYCLE_BUF_MIN, 1);
	assert_int_equal(g->mgr.recycled_rc, -ENOENT);
	guest_free(g);

	g = guest_new(true); /* argc says more than there is */
	script_app(&g->mgr, "libkvcount.so", 2, bad_args, sizeof(bad_args) - 1);
	expect_bad(g, g->buf, KX_RECYCLE_BUF_MIN, 1);
	guest_free(g);

	g = guest_new(true); /* too many */
	script_app(&g->mgr, "libkvcount.so", KXMON_RECYCLE_ARGC_MAX + 1, "", 1);
	expect_bad(g, g->buf, KX_RECYCLE_BUF_MIN, 1);
	guest_free(g);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_layout),
		cmocka_unit_test(test_not_pooled),
		cmocka_unit_test(test_refused_before_asking),
		cmocka_unit_test(test_refused_hand_over),
	};
	char self[4096];

	(void)argc;
	/* $B/tests/test_hcall_recycle -> $B/guest */
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(guest_dir, sizeof(guest_dir), "%s/../guest", dirname(self));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
