/*
 * kxnet.h — lwIP over the packet device (docs/network.md): the pVM's
 * interface as an lwIP netif, and the loop that drives lwIP (NO_SYS: in
 * the caller's thread).
 *
 *   struct kx_net n;
 *   kx_net_up(&n);                 NET_INFO, lwip_init, the netif (its
 *                                  address, prefix and gateway from the
 *                                  manifest), loopback
 *   ... tcp_new / tcp_bind / tcp_listen (lwIP's raw API) ...
 *   for (;;) kx_net_poll(&n, deadline);
 *
 * Built with kx-cc against musl and Debian's lwIP (guest/net/module.mk).
 */
#ifndef KX_GUEST_NET_KXNET_H
#define KX_GUEST_NET_KXNET_H

#include <stdint.h>

#include "lwip/netif.h"
#include "guest/net/netdev.h"

struct kx_net {
	struct kx_netdev dev;
	struct netif netif;
	uint64_t frames_in, frames_out;
	int has_dev; /* 0: loopback only */
};

/* 0, or the NET_INFO error (-KX_ENODEV: no interface). */
int kx_net_up(struct kx_net *n);
/* lwIP without the packet device: loopback only.  0. */
int kx_net_up_loopback(struct kx_net *n);
/* In a forked child: the packet device is not there (the monitor took its
 * area from the copy), so nothing is sent or received on it again; lwIP
 * keeps the loopback. */
void kx_net_forked(struct kx_net *n);
/* Take every frame waiting, run lwIP's timers and the loopback; if there
 * was nothing, halt until a frame, the next timer, or deadline_ns
 * (CLOCK_MONOTONIC).  Returns the frames taken. */
int kx_net_poll(struct kx_net *n, uint64_t deadline_ns);
/* CLOCK_MONOTONIC in ns. */
uint64_t kx_net_now_ns(void);

#endif /* KX_GUEST_NET_KXNET_H */
