/*
 * test_net_ring: the packet device's rings, the monitor's side
 * (manager/hv/net_ring.c), over an area in plain memory where the test
 * plays a hostile guest: frames taken in order across the 32-bit wrap of
 * the indices, a tx_prod more than a ring ahead refused, a slot length
 * outside a frame's dropped with the slot consumed, the bytes copied out
 * (a later change by the guest does not reach them), rx full, and an
 * rx_cons that goes back or past rx_prod refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "manager/hv/net.h"

static uint8_t *area;
static struct net_rings rings;

static int setup(void **state)
{
	(void)state;
	area = aligned_alloc(KX_PAGE_SIZE, KX_NET_AREA_SIZE);
	assert_non_null(area);
	memset(area, 0, KX_NET_AREA_SIZE);
	net_rings_init(&rings, area);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(area);
	return 0;
}

/* The guest publishes a frame of len bytes, each byte = tag. */
static void guest_send(uint16_t len, uint8_t tag)
{
	struct kx_net_guest_page *g = (void *)area;
	struct kx_net_slot *s =
		(void *)(area + KX_NET_RING_OFF + (size_t)(g->tx_prod % KX_NET_SLOTS) * KX_NET_SLOT_SIZE);

	s->len = len;
	memset(s->frame, tag, sizeof(s->frame));
	g->tx_prod++;
}

static void test_tx_in_order_across_wrap(void **state)
{
	struct kx_net_guest_page *g = (void *)area;
	struct kx_net_mon_page *m = (void *)(area + KX_PAGE_SIZE);
	uint8_t buf[KX_NET_FRAME_MAX];
	const char *why = NULL;
	uint32_t avail;
	size_t len;

	(void)state;
	/* Start just before the indices wrap. */
	g->tx_prod = rings.tx_cons = UINT32_MAX - 2;
	for (int i = 0; i < 6; i++)
		guest_send((uint16_t)(60 + i), (uint8_t)i);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(net_tx_take(&rings, buf, &len, &avail, &why), 1);
		assert_int_equal(len, 60 + i);
		assert_int_equal(buf[0], i);
		assert_int_equal(buf[len - 1], i);
		assert_int_equal(avail, 5 - i);
	}
	assert_int_equal(net_tx_take(&rings, buf, &len, NULL, &why), 0);
	net_tx_publish(&rings);
	assert_int_equal(m->tx_cons, UINT32_MAX - 2 + 6);
}

static void test_tx_prod_too_far_ahead(void **state)
{
	struct kx_net_guest_page *g = (void *)area;
	uint8_t buf[KX_NET_FRAME_MAX];
	const char *why = NULL;
	size_t len;

	(void)state;
	g->tx_prod = KX_NET_SLOTS; /* a full ring: fine */
	assert_int_equal(net_tx_take(&rings, buf, &len, NULL, &why), -EMSGSIZE); /* len 0 */
	g->tx_prod = rings.tx_cons + KX_NET_SLOTS + 1;
	assert_int_equal(net_tx_take(&rings, buf, &len, NULL, &why), -EPROTO);
	assert_non_null(why);
	g->tx_prod = rings.tx_cons - 1; /* "behind": as far ahead as it gets */
	assert_int_equal(net_tx_take(&rings, buf, &len, NULL, &why), -EPROTO);
}

static void test_tx_bad_length_consumes_the_slot(void **state)
{
	uint8_t buf[KX_NET_FRAME_MAX];
	const char *why = NULL;
	size_t len;

	(void)state;
	guest_send(KX_NET_FRAME_MIN - 1, 1);
	guest_send(KX_NET_FRAME_MAX + 1, 2);
	guest_send(0xffff, 3);
	guest_send(KX_NET_FRAME_MAX, 4);
	guest_send(KX_NET_FRAME_MIN, 5);
	assert_int_equal(net_tx_take(&rings, buf, &len, NULL, &why), -EMSGSIZE);
	assert_int_equal(net_tx_take(&rings, buf, &len, NULL, &why), -EMSGSIZE);
	assert_int_equal(net_tx_take(&rings, buf, &len, NULL, &why), -EMSGSIZE);
	assert_int_equal(net_tx_take(&rings, buf, &len, NULL, &why), 1);
	assert_int_equal(len, KX_NET_FRAME_MAX);
	assert_int_equal(buf[KX_NET_FRAME_MAX - 1], 4);
	assert_int_equal(net_tx_take(&rings, buf, &len, NULL, &why), 1);
	assert_int_equal(len, KX_NET_FRAME_MIN);
}

static void test_tx_bytes_are_copied(void **state)
{
	struct kx_net_slot *s = (void *)(area + KX_NET_RING_OFF);
	uint8_t buf[KX_NET_FRAME_MAX];
	const char *why = NULL;
	size_t len;

	(void)state;
	guest_send(100, 7);
	assert_int_equal(net_tx_take(&rings, buf, &len, NULL, &why), 1);
	s->len = 1500;
	memset(s->frame, 9, 100);
	assert_int_equal(len, 100);
	assert_int_equal(buf[50], 7);
}

static void test_rx_full_and_hostile_cons(void **state)
{
	struct kx_net_guest_page *g = (void *)area;
	struct kx_net_mon_page *m = (void *)(area + KX_PAGE_SIZE);
	struct kx_net_slot *rx = (void *)(area + KX_NET_RING_OFF +
					  (size_t)KX_NET_SLOTS * KX_NET_SLOT_SIZE);
	uint8_t frame[64];
	const char *why = NULL;

	(void)state;
	memset(frame, 0xab, sizeof(frame));
	for (unsigned i = 0; i < KX_NET_SLOTS; i++)
		assert_int_equal(net_rx_put(&rings, frame, sizeof(frame), &why), 1);
	assert_int_equal(m->rx_prod, KX_NET_SLOTS);
	assert_int_equal(rx[3].len, sizeof(frame));
	assert_int_equal(rx[3].frame[63], 0xab);
	assert_int_equal(net_rx_put(&rings, frame, sizeof(frame), &why), 0); /* full */
	g->rx_cons = 10;
	assert_int_equal(net_rx_put(&rings, frame, sizeof(frame), &why), 1);
	assert_int_equal(net_rx_put(&rings, frame, 13, &why), -EMSGSIZE);
	g->rx_cons = 9; /* back */
	assert_int_equal(net_rx_put(&rings, frame, sizeof(frame), &why), -EPROTO);
	g->rx_cons = KX_NET_SLOTS + 2; /* past rx_prod (KX_NET_SLOTS + 1) */
	assert_int_equal(net_rx_put(&rings, frame, sizeof(frame), &why), -EPROTO);
	g->rx_cons = KX_NET_SLOTS + 1; /* everything consumed */
	assert_int_equal(net_rx_put(&rings, frame, sizeof(frame), &why), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tx_in_order_across_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_prod_too_far_ahead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_bad_length_consumes_the_slot, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tx_bytes_are_copied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_full_and_hostile_cons, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
