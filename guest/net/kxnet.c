/*
 * kxnet.c — lwIP over the packet device (kxnet.h): lwIP's NO_SYS port
 * (sys_now, the random numbers) and the netif whose link is the rings.
 */
#include <string.h>
#include <time.h>

#include "guest/net/kxnet.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

/* The syscall layer's clocks and entropy (guest/posix/): kxnet runs
 * inside it, so it calls them directly, never through musl. */
void kx_timespec_now(clockid_t clock, struct timespec *ts);
long kx_random(void *buf, size_t len);

/* A coarse reading (milliseconds, no exit): lwIP's timers need no more. */
uint64_t kx_net_now_ns(void)
{
	struct timespec ts;

	kx_timespec_now(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

u32_t sys_now(void)
{
	return (u32_t)(kx_net_now_ns() / 1000000ull);
}

uint32_t kx_net_rand(void)
{
	static uint32_t x;
	uint32_t r;

	if (kx_random(&r, sizeof(r)) == (long)sizeof(r))
		return r;
	/* No entropy source (no RDRAND, no host entropy yet): a xorshift of
	 * the clock.  Only ports and initial sequence numbers use it. */
	x ^= (uint32_t)kx_net_now_ns();
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

static err_t link_output(struct netif *netif, struct pbuf *p)
{
	struct kx_net *n = netif->state;
	uint8_t frame[KX_NET_FRAME_MAX];
	u16_t len = p->tot_len;
	int rc;

	if (!n->has_dev)
		return ERR_IF; /* a forked child: the device stayed with the parent */
	if (len > sizeof(frame))
		return ERR_BUF;
	pbuf_copy_partial(p, frame, len, 0);
	if (len < 60) { /* Ethernet's minimum, padded with zeros */
		memset(frame + len, 0, 60 - len);
		len = 60;
	}
	/* A full tx ring: the monitor's thread is taking it (it never waits
	 * for the guest), so this ends. */
	while ((rc = kx_netdev_send(&n->dev, frame, len)) == -KX_EAGAIN)
		;
	if (rc != 0)
		return ERR_IF;
	n->frames_out++;
	return ERR_OK;
}

static err_t netif_setup(struct netif *netif)
{
	struct kx_net *n = netif->state;

	netif->name[0] = 'k';
	netif->name[1] = 'x';
	netif->mtu = (u16_t)n->dev.info.mtu;
	netif->hwaddr_len = 6;
	memcpy(netif->hwaddr, n->dev.info.mac, 6);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
		       NETIF_FLAG_LINK_UP;
	netif->output = etharp_output;
	netif->linkoutput = link_output;
	return ERR_OK;
}

static int lwip_started;

int kx_net_up_loopback(struct kx_net *n)
{
	memset(n, 0, sizeof(*n));
	if (!lwip_started) {
		lwip_init();
		lwip_started = 1;
	}
	return 0;
}

int kx_net_up(struct kx_net *n)
{
	ip4_addr_t addr, mask, gw;
	int rc;

	memset(n, 0, sizeof(*n));
	rc = kx_netdev_open(&n->dev, 0);
	if (rc != 0)
		return rc;
	if (!lwip_started) {
		lwip_init();
		lwip_started = 1;
	}
	n->has_dev = 1;
	addr.addr = lwip_htonl(n->dev.info.addr);
	mask.addr = lwip_htonl(n->dev.info.prefix ? ~0u << (32 - n->dev.info.prefix) : 0);
	gw.addr = lwip_htonl(n->dev.info.gateway);
	if (netif_add(&n->netif, &addr, &mask, &gw, n, netif_setup, ethernet_input) == NULL)
		return -KX_EINVAL;
	netif_set_default(&n->netif);
	netif_set_up(&n->netif);
	return 0;
}

void kx_net_forked(struct kx_net *n)
{
	if (!n->has_dev)
		return;
	n->has_dev = 0;
	netif_set_link_down(&n->netif);
	netif_set_down(&n->netif);
}

int kx_net_poll(struct kx_net *n, uint64_t deadline_ns)
{
	int frames = 0;

	for (; n->has_dev;) {
		struct pbuf *p;
		uint8_t frame[KX_NET_FRAME_MAX];
		long len = kx_netdev_recv(&n->dev, frame, sizeof(frame));

		if (len <= 0)
			break;
		frames++;
		p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
		if (p == NULL)
			continue; /* out of memory: as a lost frame */
		pbuf_take(p, frame, (u16_t)len);
		if (n->netif.input(p, &n->netif) != ERR_OK)
			pbuf_free(p);
	}
	n->frames_in += (uint64_t)frames;
	sys_check_timeouts();
	netif_poll_all();
	if (frames == 0 && n->has_dev) {
		u32_t sleep_ms = sys_timeouts_sleeptime();
		uint64_t until = sleep_ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE
					 ? deadline_ns
					 : kx_net_now_ns() + (uint64_t)sleep_ms * 1000000ull;

		if (until > deadline_ns)
			until = deadline_ns;
		if (until > kx_net_now_ns())
			kx_netdev_wait(&n->dev, until);
	}
	return frames;
}
