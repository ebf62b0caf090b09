/*
 * test_xen_ring: the kx hypercall ring (guest/xen/ring.c, both ends, built
 * for the host).  Calls round-trip with their blocks unchanged; indices
 * wrap modulo 2^32; notifications follow Xen's event-index rule; and every
 * impossible state one side can write into the shared page — indices
 * moved backwards or too far, lengths out of range, a reserved field, the
 * wrong ABI version, a response to nothing — is refused with -KX_EIO and
 * never read past the page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest/kx_hcall_abi.h"
#include "guest/kx_ring_abi.h"
#include "guest/xen/ring.h"

struct fixture {
	struct kx_ring_page page;
	uint8_t guard[64]; /* must stay untouched */
};

static struct fixture f;
static struct kxr_front front;
static struct kxr_back back;

static int reset(void **state)
{
	(void)state;
	memset(&f, 0, sizeof(f));
	memset(f.guard, 0xa5, sizeof(f.guard));
	kxr_back_init(&back, &f.page, 7);
	assert_int_equal(kxr_front_attach(&front, &f.page, NULL), 0);
	return 0;
}

static void guard_intact(void)
{
	for (size_t i = 0; i < sizeof(f.guard); i++)
		assert_int_equal(f.guard[i], 0xa5);
}

/* A console-write block as the guest runtime fills it. */
static struct kx_hc_console_write console_block(uint64_t buf, uint64_t len)
{
	return (struct kx_hc_console_write){
		.hdr = {.abi_version = KX_HCALL_ABI_VERSION, .nr = KX_HC_CONSOLE_WRITE},
		.buf = buf,
		.len = len,
	};
}

/* One call through both ends: the monitor sets ret = len. */
static void round_trip(uint64_t n)
{
	struct kx_hc_console_write c = console_block(0x1000 + n, n), answer;
	struct kxr_req req;
	uint64_t id;
	int notify;

	assert_int_equal(kxr_front_put(&front, &c, sizeof(c), &id, &notify), 0);
	assert_int_equal(kxr_front_take(&front, id, &c, sizeof(c), NULL), -KX_EAGAIN);
	assert_int_equal(kxr_back_take(&back, &req, NULL), 0);
	assert_int_equal(req.id, id);
	assert_int_equal(req.len, sizeof(c));
	assert_int_equal(req.nr, KX_HC_CONSOLE_WRITE);
	memcpy(&answer, req.block.bytes, sizeof(answer));
	assert_int_equal(answer.buf, 0x1000 + n);
	answer.hdr.ret = (int64_t)answer.len;
	assert_int_equal(kxr_back_put(&back, req.id, &answer, sizeof(answer), &notify), 0);
	assert_int_equal(kxr_front_take(&front, id, &c, sizeof(c), NULL), 0);
	assert_int_equal(c.hdr.ret, (int64_t)n);
	assert_int_equal(kxr_back_take(&back, &req, NULL), -KX_EAGAIN);
}

static void test_round_trips_and_wrap(void **state)
{
	(void)state;
	for (uint64_t n = 0; n < 3 * KX_RING_SLOTS; n++)
		round_trip(n);
	/* both ends near 2^32: the indices wrap */
	front.req_prod = front.rsp_cons = 0xfffffffcu;
	back.req_cons = back.rsp_prod = 0xfffffffcu;
	f.page.front.req_prod = f.page.back.rsp_prod = 0xfffffffcu;
	for (uint64_t n = 0; n < 2 * KX_RING_SLOTS; n++)
		round_trip(n);
	assert_true(front.req_prod < 64);
	guard_intact();
}

static void test_attach(void **state)
{
	struct kxr_front other;
	const char *why = NULL;

	(void)state;
	f.page.ident.magic = 0;
	assert_int_equal(kxr_front_attach(&other, &f.page, &why), -KX_EPERM);
	f.page.ident.magic = KX_RING_MAGIC;
	f.page.ident.version = KX_RING_ABI_VERSION + 1;
	assert_int_equal(kxr_front_attach(&other, &f.page, &why), -KX_ENOSYS);
	f.page.ident.version = KX_RING_ABI_VERSION;
	f.page.ident.slots = 8;
	assert_int_equal(kxr_front_attach(&other, &f.page, &why), -KX_ENOSYS);
	f.page.ident.slots = KX_RING_SLOTS;
	f.page.ident.features = 1;
	assert_int_equal(kxr_front_attach(&other, &f.page, &why), -KX_ENOSYS);
	f.page.ident.features = 0;
	assert_int_equal(kxr_front_attach(&other, &f.page, &why), 0);
	assert_int_equal(other.evtchn, 7);
}

static void test_notification_rule(void **state)
{
	struct kx_hc_fork b = {.hdr = {.abi_version = KX_HCALL_ABI_VERSION, .nr = KX_HC_FORK}};
	struct kxr_req req;
	uint64_t id;
	int notify;

	(void)state;
	/* the monitor waits for request 1: the first put notifies, the second not */
	assert_int_equal(kxr_front_put(&front, &b, sizeof(b), &id, &notify), 0);
	assert_int_equal(notify, 1);
	assert_int_equal(kxr_front_put(&front, &b, sizeof(b), &id, &notify), 0);
	assert_int_equal(notify, 0);
	/* the monitor took both and sleeps again for the third */
	assert_int_equal(kxr_back_take(&back, &req, NULL), 0);
	assert_int_equal(kxr_back_take(&back, &req, NULL), 0);
	kxr_back_want_request(&back);
	assert_int_equal(f.page.back.req_event, 3);
	/* the guest asked to be woken for its first response */
	assert_int_equal(kxr_back_put(&back, 1, &b, sizeof(b), &notify), 0);
	assert_int_equal(notify, 1);
	assert_int_equal(kxr_back_put(&back, 2, &b, sizeof(b), &notify), 0);
	assert_int_equal(notify, 0);
	/* the guest takes them in order, then asks to be woken for the next */
	assert_int_equal(kxr_front_take(&front, 1, &b, sizeof(b), NULL), 0);
	assert_int_equal(kxr_front_take(&front, 2, &b, sizeof(b), NULL), 0);
	kxr_front_want_response(&front);
	assert_int_equal(f.page.front.rsp_event, 3);
}

static void test_front_limits(void **state)
{
	struct kx_hc_fork b = {.hdr = {.abi_version = KX_HCALL_ABI_VERSION, .nr = KX_HC_FORK}};
	uint8_t big[KX_RING_BLOCK_MAX + 8] = {0};
	uint64_t id;
	int notify;

	(void)state;
	assert_int_equal(kxr_front_put(&front, &b, 8, &id, &notify), -KX_EINVAL);
	assert_int_equal(kxr_front_put(&front, &b, 20, &id, &notify), -KX_EINVAL);
	assert_int_equal(kxr_front_put(&front, big, sizeof(big), &id, &notify), -KX_EINVAL);
	assert_int_equal(kxr_front_put(&front, big, KX_RING_BLOCK_MAX, &id, &notify), 0);
	/* no more than KX_RING_SLOTS without responses */
	for (unsigned i = 1; i < KX_RING_SLOTS; i++)
		assert_int_equal(kxr_front_put(&front, &b, sizeof(b), &id, &notify), 0);
	assert_int_equal(kxr_front_put(&front, &b, sizeof(b), &id, &notify), -KX_EAGAIN);
	guard_intact();
}

static void test_hostile_guest(void **state)
{
	struct kx_hc_fork b = {.hdr = {.abi_version = KX_HCALL_ABI_VERSION, .nr = KX_HC_FORK}};
	struct kxr_req req;
	const char *why = NULL;
	uint64_t id;
	int notify;

	(void)state;
	/* req_prod far ahead, or behind what the monitor took */
	f.page.front.req_prod = KX_RING_SLOTS + 1;
	assert_int_equal(kxr_back_take(&back, &req, &why), -KX_EIO);
	assert_string_equal(why, "kx ring: request index out of range");
	f.page.front.req_prod = 0xffffffffu;
	assert_int_equal(kxr_back_take(&back, &req, &why), -KX_EIO);
	/* full ring, not answered, then one more published over an unanswered slot */
	f.page.front.req_prod = 0;
	for (unsigned i = 0; i < KX_RING_SLOTS; i++)
		assert_int_equal(kxr_front_put(&front, &b, sizeof(b), &id, &notify), 0);
	for (unsigned i = 0; i < KX_RING_SLOTS; i++)
		assert_int_equal(kxr_back_take(&back, &req, NULL), 0);
	f.page.front.req_prod = KX_RING_SLOTS + 1;
	assert_int_equal(kxr_back_take(&back, &req, &why), -KX_EIO);

	/* slot contents: each checked on the monitor's private copy */
	assert_int_equal(reset(NULL), 0);
	struct {
		uint32_t len, reserved, version;
		const char *why;
	} bad[] = {
		{8, 0, KX_HCALL_ABI_VERSION, "kx ring: request length out of range"},
		{20, 0, KX_HCALL_ABI_VERSION, "kx ring: request length out of range"},
		{KX_RING_BLOCK_MAX + 8, 0, KX_HCALL_ABI_VERSION,
		 "kx ring: request length out of range"},
		{0xfffffff8u, 0, KX_HCALL_ABI_VERSION, "kx ring: request length out of range"},
		{16, 1, KX_HCALL_ABI_VERSION, "kx ring: reserved field set"},
		{16, 0, 2, "unsupported hypercall ABI version"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(reset(NULL), 0);
		assert_int_equal(kxr_front_put(&front, &b, sizeof(b), &id, &notify), 0);
		f.page.slot[0].len = bad[i].len;
		f.page.slot[0].reserved = bad[i].reserved;
		memcpy(f.page.slot[0].block, &bad[i].version, 4);
		assert_int_equal(kxr_back_take(&back, &req, &why), -KX_EIO);
		assert_string_equal(why, bad[i].why);
	}
	guard_intact();
}

static void test_hostile_monitor(void **state)
{
	struct kx_hc_fork b = {.hdr = {.abi_version = KX_HCALL_ABI_VERSION, .nr = KX_HC_FORK}};
	const char *why = NULL;
	uint64_t id;
	int notify;

	(void)state;
	/* a response before any request */
	f.page.back.rsp_prod = 1;
	assert_int_equal(kxr_front_take(&front, 1, &b, sizeof(b), &why), -KX_EIO);
	assert_string_equal(why, "the monitor published more responses than requests");
	f.page.back.rsp_prod = 0;
	assert_int_equal(kxr_front_put(&front, &b, sizeof(b), &id, &notify), 0);
	/* rsp_prod moved backwards */
	f.page.back.rsp_prod = 0xffffffffu;
	assert_int_equal(kxr_front_take(&front, id, &b, sizeof(b), &why), -KX_EIO);
	/* an answer for another request, or of another length */
	f.page.back.rsp_prod = 1;
	f.page.slot[0].id = id + 1;
	assert_int_equal(kxr_front_take(&front, id, &b, sizeof(b), &why), -KX_EIO);
	assert_string_equal(why, "a response does not answer the request");
	f.page.slot[0].id = id;
	f.page.slot[0].len = 24;
	assert_int_equal(kxr_front_take(&front, id, &b, sizeof(b), &why), -KX_EIO);
	f.page.slot[0].len = sizeof(b);
	assert_int_equal(kxr_front_take(&front, id, &b, sizeof(b), &why), 0);
	/* the monitor's own mistake: an answer with nothing to answer */
	assert_int_equal(kxr_back_put(&back, 9, &b, sizeof(b), &notify), -KX_EINVAL);
	guard_intact();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_round_trips_and_wrap, reset),
		cmocka_unit_test_setup(test_attach, reset),
		cmocka_unit_test_setup(test_notification_rule, reset),
		cmocka_unit_test_setup(test_front_limits, reset),
		cmocka_unit_test_setup(test_hostile_guest, reset),
		cmocka_unit_test_setup(test_hostile_monitor, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
