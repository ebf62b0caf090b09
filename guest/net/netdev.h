/*
 * netdev.h — the guest's side of the packet device (guest/kx_hcall_abi.h,
 * "The packet device"; docs/network.md): frames in and out of the two
 * rings kx's monitor shares with the pVM.  The layer a TCP/IP stack's
 * network interface sits on.
 *
 * Sending publishes a frame with no exit while the monitor's thread polls;
 * only when it says it sleeps (mon.tx_kick) does the guest kick it.
 * Receiving reads the ring; kx_netdev_wait halts the vCPU until a frame
 * or a deadline.  The monitor's indices are checked too (a bug there must
 * not become a wild read here).  One thread at a time per device.
 */
#ifndef KX_GUEST_NET_NETDEV_H
#define KX_GUEST_NET_NETDEV_H

#include <stddef.h>
#include <stdint.h>

#include "guest/kx_hcall_abi.h"

struct kx_netdev {
	struct kx_hc_net_info info; /* mac, addr, prefix, gateway, mtu */
	volatile struct kx_net_guest_page *g;
	const volatile struct kx_net_mon_page *m;
	volatile struct kx_net_slot *tx;
	const volatile struct kx_net_slot *rx;
	uint32_t tx_prod, rx_cons;
	uint64_t kicks; /* exits taken to wake the monitor */
	uint64_t waits; /* exits taken to halt */
};

/* Interface index (0): 0, or -KX_ENODEV (no interface), -KX_EPERM, -KX_ENOSPC. */
int kx_netdev_open(struct kx_netdev *d, unsigned index);
/* Queue one frame (KX_NET_FRAME_MIN..MAX bytes): 0, -KX_EAGAIN (tx full:
 * the monitor has not taken the ring yet), -KX_EINVAL (length). */
int kx_netdev_send(struct kx_netdev *d, const void *frame, size_t len);
/* The next received frame into buf: its length, 0 when none waits,
 * -KX_EIO when the monitor's index or length is impossible, -KX_E2BIG
 * when cap is too small (the frame is dropped). */
long kx_netdev_recv(struct kx_netdev *d, void *buf, size_t cap);
/* Halt until a frame waits or the monotonic clock reaches deadline_ns:
 * 0 (look), -KX_ETIMEDOUT, -KX_EINTR. */
int kx_netdev_wait(struct kx_netdev *d, uint64_t deadline_ns);

#endif /* KX_GUEST_NET_NETDEV_H */
