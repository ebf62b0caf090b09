/*
 * test_hcall_recycle: KX_HC_RECYCLE_WAIT in the hypercall decoder
 * (manager/hv/hcall.c) with fake guest memory and a fake recycle hook:
 * the argv layout it writes into the placeholder's buffer, and every way
 * the call is refused (no pool, buffer too small, unaligned or not
 * writable, a failed hand-over, malformed argv from the host side).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "manager/hv/hv.h"

#define PAGES 4u
#define BLOCK 0x100u  /* the argument block, in page 0 */
#define BUF   0x1000u /* the argv buffer: pages 1 and 2 */

struct fake {
	int rc;         /* what the hook returns */
	int calls;
	uint32_t argc;  /* what it hands over */
	const char *args;
	uint32_t args_len;
};

static int fake_wait(void *opaque, struct hv_recycle_work *work)
{
	struct fake *f = opaque;

	f->calls++;
	if (f->rc != 0)
		return f->rc;
	work->entry = 0x401230;
	work->argc = f->argc;
	work->args_len = f->args_len;
	memcpy(work->args, f->args, f->args_len);
	return 0;
}

static const struct hv_recycle_hooks hooks = { .wait = fake_wait };

struct guest {
	uint8_t host[PAGES * KX_PAGE_SIZE];
	uint8_t prot[PAGES];
	struct hv_guest_mem mem;
	struct hv_hcall_env env;
	struct fake fake;
};

static struct guest *guest_new(int pooled)
{
	struct guest *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	for (unsigned i = 0; i < PAGES; i++)
		g->prot[i] = HV_PROT_READ | HV_PROT_WRITE;
	g->mem = (struct hv_guest_mem){ .host = g->host, .size = sizeof(g->host),
					.page_prot = g->prot };
	g->env = (struct hv_hcall_env){ .mem = &g->mem, .recycle = pooled ? &hooks : NULL,
					.recycle_opaque = &g->fake };
	g->fake = (struct fake){ .argc = 3, .args = "kvcount\0apple\0\0", .args_len = 15 };
	return g;
}

static struct kx_hc_recycle_wait *call(struct guest *g, uint64_t buf, uint64_t size,
				       struct hv_hcall_result *res)
{
	struct kx_hc_recycle_wait *r = (void *)(g->host + BLOCK);

	*r = (struct kx_hc_recycle_wait){ .hdr = { .abi_version = KX_HCALL_ABI_VERSION,
						   .nr = KX_HC_RECYCLE_WAIT },
					  .buf = buf, .size = size };
	hv_hcall_dispatch(&g->env, BLOCK, res);
	return r;
}

static void test_argv_layout(void **state)
{
	struct guest *g = guest_new(1);
	struct hv_hcall_result res;
	struct kx_hc_recycle_wait *r = call(g, BUF, 2 * KX_PAGE_SIZE, &res);
	uint64_t ptr[4];

	(void)state;
	assert_int_equal(res.outcome, HV_HC_RESUME);
	assert_int_equal(r->hdr.ret, 0);
	assert_int_equal(r->entry, 0x401230);
	assert_int_equal(r->argc, 3);
	assert_int_equal(r->argv, BUF);
	memcpy(ptr, g->host + BUF, sizeof(ptr));
	assert_int_equal(ptr[0], BUF + 4 * 8); /* strings right after argc + 1 pointers */
	assert_string_equal((char *)g->host + ptr[0], "kvcount");
	assert_string_equal((char *)g->host + ptr[1], "apple");
	assert_string_equal((char *)g->host + ptr[2], ""); /* an empty argument stays one */
	assert_int_equal(ptr[3], 0);
	free(g);
}

static void test_not_pooled(void **state)
{
	struct guest *g = guest_new(0);
	struct hv_hcall_result res;
	struct kx_hc_recycle_wait *r = call(g, BUF, KX_RECYCLE_BUF_MIN, &res);

	(void)state;
	assert_int_equal(res.outcome, HV_HC_RESUME);
	assert_int_equal(r->hdr.ret, -KX_EPERM);
	free(g);
}

/* Every refusal ends the pVM before (or instead of) writing anything. */
static void expect_bad(struct guest *g, uint64_t buf, uint64_t size, int hook_calls)
{
	static const uint8_t zero[(PAGES - 1) * KX_PAGE_SIZE];
	struct hv_hcall_result res;

	memset(g->host, 0, sizeof(g->host));
	g->fake.calls = 0;
	call(g, buf, size, &res);
	assert_int_equal(res.outcome, HV_HC_BAD);
	assert_non_null(res.reason);
	assert_int_equal(g->fake.calls, hook_calls);
	/* nothing written: pages 1.. (every buffer tried) are still zero */
	assert_memory_equal(zero, g->host + KX_PAGE_SIZE, sizeof(zero));
}

static void test_refused(void **state)
{
	struct guest *g = guest_new(1);

	(void)state;
	expect_bad(g, BUF, KX_RECYCLE_BUF_MIN - 1, 0);     /* too small */
	expect_bad(g, BUF + 4, KX_RECYCLE_BUF_MIN, 0);     /* unaligned */
	expect_bad(g, 3 * KX_PAGE_SIZE, 2 * KX_PAGE_SIZE, 0); /* past the end of memory */
	g->prot[2] = HV_PROT_READ;
	expect_bad(g, BUF, 2 * KX_PAGE_SIZE, 0);           /* a read-only page in it */
	g->prot[2] = HV_PROT_READ | HV_PROT_WRITE;
	g->fake.rc = -EPIPE;
	expect_bad(g, BUF, KX_RECYCLE_BUF_MIN, 1);         /* the hand-over failed */
	g->fake = (struct fake){ .argc = 2, .args = "one\0two", .args_len = 7 };
	expect_bad(g, BUF, KX_RECYCLE_BUF_MIN, 1);         /* argc says more than there is */
	g->fake = (struct fake){ .argc = HV_RECYCLE_ARGC_MAX + 1, .args = "", .args_len = 1 };
	expect_bad(g, BUF, KX_RECYCLE_BUF_MIN, 1);         /* too many */
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_layout),
		cmocka_unit_test(test_not_pooled),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
