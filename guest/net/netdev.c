/*
 * netdev.c — the guest's side of the packet device (netdev.h).
 */
#include "guest/net/netdev.h"
#include "guest/platform.h"

void *memcpy(void *dst, const void *src, size_t n);

int kx_netdev_open(struct kx_netdev *d, unsigned index)
{
	struct kx_hc_net_info in = {.index = index};
	int64_t rc = kx_hcall(&in.hdr, KX_HC_NET_INFO);
	uint8_t *area;

	if (rc != 0)
		return (int)rc;
	area = (uint8_t *)(uintptr_t)in.area;
	d->info = in;
	d->g = (volatile struct kx_net_guest_page *)area;
	d->m = (const volatile struct kx_net_mon_page *)(area + KX_PAGE_SIZE);
	d->tx = (volatile struct kx_net_slot *)(area + KX_NET_RING_OFF);
	d->rx = (const volatile struct kx_net_slot *)(d->tx + KX_NET_SLOTS);
	d->tx_prod = d->g->tx_prod;
	d->rx_cons = d->g->rx_cons;
	d->kicks = d->waits = 0;
	return 0;
}

int kx_netdev_send(struct kx_netdev *d, const void *frame, size_t len)
{
	uint32_t cons = __atomic_load_n(&d->m->tx_cons, __ATOMIC_ACQUIRE);
	volatile struct kx_net_slot *s;

	if (len < KX_NET_FRAME_MIN || len > KX_NET_FRAME_MAX)
		return -KX_EINVAL;
	if (d->tx_prod - cons >= KX_NET_SLOTS)
		return -KX_EAGAIN;
	s = &d->tx[d->tx_prod % KX_NET_SLOTS];
	s->len = (uint16_t)len;
	s->flags = 0;
	memcpy((void *)s->frame, frame, len);
	d->tx_prod++;
	__atomic_store_n(&d->g->tx_prod, d->tx_prod, __ATOMIC_RELEASE);
	/* Publish, then look whether the monitor sleeps (its side: say so,
	 * then look at tx_prod): a full fence between, or both miss. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&d->m->tx_kick, __ATOMIC_ACQUIRE)) {
		struct kx_hc_net_kick k = {.index = d->info.index};

		d->kicks++;
		kx_hcall(&k.hdr, KX_HC_NET_KICK);
	}
	return 0;
}

long kx_netdev_recv(struct kx_netdev *d, void *buf, size_t cap)
{
	uint32_t prod = __atomic_load_n(&d->m->rx_prod, __ATOMIC_ACQUIRE);
	const volatile struct kx_net_slot *s;
	uint16_t len;

	if (prod == d->rx_cons)
		return 0;
	if (prod - d->rx_cons > KX_NET_SLOTS)
		return -KX_EIO;
	s = &d->rx[d->rx_cons % KX_NET_SLOTS];
	len = s->len;
	if (len < KX_NET_FRAME_MIN || len > KX_NET_FRAME_MAX)
		return -KX_EIO;
	if (len <= cap)
		memcpy(buf, (const void *)s->frame, len);
	d->rx_cons++;
	__atomic_store_n(&d->g->rx_cons, d->rx_cons, __ATOMIC_RELEASE);
	return len <= cap ? (long)len : -KX_E2BIG;
}

int kx_netdev_wait(struct kx_netdev *d, uint64_t deadline_ns)
{
	struct kx_hc_net_wait w = {.index = d->info.index, .seen = d->rx_cons,
				   .deadline_ns = deadline_ns};

	if (__atomic_load_n(&d->m->rx_prod, __ATOMIC_ACQUIRE) != d->rx_cons)
		return 0;
	d->waits++;
	return (int)kx_hcall(&w.hdr, KX_HC_NET_WAIT);
}
