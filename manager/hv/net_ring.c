/*
 * net_ring.c — the packet device's rings, the monitor's side
 * (guest/kx_hcall_abi.h, "The packet device"; docs/network.md).
 *
 * The guest shares these pages and may change any byte at any time, from
 * its vCPU while the monitor's thread reads.  So every index the guest
 * writes is read exactly once per use into a local and checked against the
 * monitor's own copy; a slot's length is read once and checked; the frame
 * is copied out before the filter parses it.  Nothing here trusts a value
 * it has not just checked, and nothing is read back from the monitor's page
 * (the guest cannot write it, but the monitor's copies are the truth).
 */
#include <errno.h>
#include <string.h>

#include "manager/hv/net.h"

void net_rings_init(struct net_rings *r, volatile void *area)
{
	volatile uint8_t *base = area;

	memset(r, 0, sizeof(*r));
	r->guest = (volatile struct kx_net_guest_page *)base;
	r->mon = (volatile struct kx_net_mon_page *)(base + KX_PAGE_SIZE);
	r->tx = (volatile struct kx_net_slot *)(base + KX_NET_RING_OFF);
	r->rx = r->tx + KX_NET_SLOTS;
	r->mon->tx_cons = 0;
	r->mon->tx_kick = 0;
	r->mon->rx_prod = 0;
}

int net_tx_take(struct net_rings *r, uint8_t *buf, size_t *len, uint32_t *avail,
		const char **why)
{
	uint32_t prod = __atomic_load_n(&r->guest->tx_prod, __ATOMIC_ACQUIRE);
	uint32_t pending = prod - r->tx_cons;
	volatile struct kx_net_slot *s;
	uint16_t n;

	*len = 0;
	if (avail != NULL)
		*avail = 0;
	if (pending > KX_NET_SLOTS) {
		*why = "tx_prod is more than a ring ahead of tx_cons";
		return -EPROTO;
	}
	if (pending == 0)
		return 0;
	s = &r->tx[r->tx_cons % KX_NET_SLOTS];
	n = s->len; /* once */
	r->tx_cons++;
	if (avail != NULL)
		*avail = pending - 1;
	if (n < KX_NET_FRAME_MIN || n > KX_NET_FRAME_MAX) {
		*why = "tx slot length outside an Ethernet frame's";
		return -EMSGSIZE;
	}
	memcpy(buf, (const void *)s->frame, n);
	*len = n;
	return 1;
}

void net_tx_publish(struct net_rings *r)
{
	__atomic_store_n(&r->mon->tx_cons, r->tx_cons, __ATOMIC_RELEASE);
}

int net_rx_put(struct net_rings *r, const uint8_t *frame, size_t len, const char **why)
{
	uint32_t cons = __atomic_load_n(&r->guest->rx_cons, __ATOMIC_ACQUIRE);
	volatile struct kx_net_slot *s;

	/* cons may only move forward, up to what was published. */
	if (cons - r->rx_cons > r->rx_prod - r->rx_cons) {
		*why = "rx_cons went back or past rx_prod";
		return -EPROTO;
	}
	r->rx_cons = cons;
	if (len < KX_NET_FRAME_MIN || len > KX_NET_FRAME_MAX) {
		*why = "rx frame length outside an Ethernet frame's";
		return -EMSGSIZE;
	}
	if (r->rx_prod - cons >= KX_NET_SLOTS)
		return 0;
	s = &r->rx[r->rx_prod % KX_NET_SLOTS];
	s->len = (uint16_t)len;
	s->flags = 0;
	s->reserved = 0;
	memcpy((void *)s->frame, frame, len);
	r->rx_prod++;
	__atomic_store_n(&r->mon->rx_prod, r->rx_prod, __ATOMIC_RELEASE);
	return 1;
}
