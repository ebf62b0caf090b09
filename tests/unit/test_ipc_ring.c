/*
 * test_ipc_ring: the byte ring of pipes and message queues (guest/ipc_ring.c,
 * built for the host): wrapping copies, and every impossible state a hostile
 * peer can write into the shared header — indices too far apart, a message
 * header with a wrong magic, a length over the limit or past what is
 * published — refused with -KX_EIO and never read past the ring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest/ipc_ring.h"

#define CAP 4096u

struct fixture {
	struct kx_ipc_ring hdr;
	uint8_t bytes[CAP];
	uint8_t guard[64]; /* must stay untouched */
};

static struct fixture f;

static int reset(void **state)
{
	(void)state;
	memset(&f, 0, sizeof(f));
	memset(f.guard, 0xa5, sizeof(f.guard));
	return 0;
}

static void guard_intact(void)
{
	for (size_t i = 0; i < sizeof(f.guard); i++)
		assert_int_equal(f.guard[i], 0xa5);
}

/* Put a message of len bytes (pattern seed) at tail and publish it. */
static void send(uint32_t len, uint8_t seed)
{
	struct ring_view v;
	uint32_t hdr[2] = {len, KX_MSG_MAGIC};
	uint8_t data[KX_IPC_MSG_MAX];

	for (uint32_t i = 0; i < len; i++)
		data[i] = (uint8_t)(seed + i);
	assert_int_equal(ring_look(&f.hdr, CAP, &v), 0);
	assert_true(CAP - v.used >= ring_msg_size(len));
	ring_put(f.bytes, CAP, v.tail, hdr, sizeof(hdr));
	ring_put(f.bytes, CAP, v.tail + KX_MSG_HDR, data, len);
	ring_publish(&f.hdr, v.tail, ring_msg_size(len));
}

static void test_bytes_wrap(void **state)
{
	uint8_t in[3000], out[3000];
	struct ring_view v;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7);
	/* Three rounds of 3000 bytes through 4096: the second and third wrap. */
	for (int round = 0; round < 3; round++) {
		assert_int_equal(ring_look(&f.hdr, CAP, &v), 0);
		assert_int_equal(v.used, 0);
		ring_put(f.bytes, CAP, v.tail, in, sizeof(in));
		ring_publish(&f.hdr, v.tail, sizeof(in));
		assert_int_equal(ring_look(&f.hdr, CAP, &v), 0);
		assert_int_equal(v.used, sizeof(in));
		memset(out, 0, sizeof(out));
		ring_get(f.bytes, CAP, v.head, out, sizeof(out));
		assert_memory_equal(in, out, sizeof(in));
		ring_consume(&f.hdr, v.head, sizeof(out));
	}
	assert_int_equal(f.hdr.head, 9000);
	guard_intact();
}

static void test_messages_in_order(void **state)
{
	struct ring_view v;
	uint32_t len;
	uint8_t out[KX_IPC_MSG_MAX];

	(void)state;
	f.hdr.head = f.hdr.tail = 4000; /* the second message wraps */
	send(10, 1);
	send(100, 2);
	send(0, 3);
	for (uint32_t want = 0; want < 3; want++) {
		static const uint32_t lens[] = {10, 100, 0};

		assert_int_equal(ring_look(&f.hdr, CAP, &v), 0);
		assert_int_equal(ring_msg_peek(f.bytes, CAP, &v, &len), 0);
		assert_int_equal(len, lens[want]);
		ring_get(f.bytes, CAP, v.head + KX_MSG_HDR, out, len);
		for (uint32_t i = 0; i < len; i++)
			assert_int_equal(out[i], (uint8_t)(want + 1 + i));
		ring_consume(&f.hdr, v.head, ring_msg_size(len));
	}
	assert_int_equal(ring_look(&f.hdr, CAP, &v), 0);
	assert_int_equal(v.used, 0);
	guard_intact();
}

static void test_hostile_indices(void **state)
{
	static const uint64_t heads[] = {0, 100, UINT64_MAX - 10, 5};
	static const uint64_t tails[] = {CAP + 1, 99, 5000, UINT64_MAX};
	struct ring_view v;

	(void)state;
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		f.hdr.head = heads[i];
		f.hdr.tail = tails[i];
		assert_int_equal(ring_look(&f.hdr, CAP, &v), -KX_EIO);
	}
	/* A full ring, wrapped around the 64-bit counters, is fine. */
	f.hdr.head = UINT64_MAX - 10;
	f.hdr.tail = f.hdr.head + CAP;
	assert_int_equal(ring_look(&f.hdr, CAP, &v), 0);
	assert_int_equal(v.used, CAP);
}

static void test_hostile_headers(void **state)
{
	struct ring_view v;
	uint32_t len = 0, hdr[2];

	(void)state;
	send(16, 0);
	assert_int_equal(ring_look(&f.hdr, CAP, &v), 0);
	/* Wrong magic. */
	f.bytes[4] ^= 1;
	assert_int_equal(ring_msg_peek(f.bytes, CAP, &v, &len), -KX_EIO);
	f.bytes[4] ^= 1;
	/* Longer than the limit, and longer than what is published. */
	hdr[1] = KX_MSG_MAGIC;
	for (uint32_t bad = 0; bad < 2; bad++) {
		hdr[0] = bad ? KX_IPC_MSG_MAX + 1 : 17;
		memcpy(f.bytes, hdr, sizeof(hdr));
		assert_int_equal(ring_msg_peek(f.bytes, CAP, &v, &len), -KX_EIO);
	}
	/* Fewer published bytes than a header. */
	v.used = 4;
	assert_int_equal(ring_msg_peek(f.bytes, CAP, &v, &len), -KX_EIO);
	assert_int_equal(ring_msg_size(0), KX_MSG_HDR);
	assert_int_equal(ring_msg_size(9), KX_MSG_HDR + 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_bytes_wrap, reset),
		cmocka_unit_test_setup(test_messages_in_order, reset),
		cmocka_unit_test_setup(test_hostile_indices, reset),
		cmocka_unit_test_setup(test_hostile_headers, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
