/*
 * net.h — private to the packet device (manager/hv/net*.c): the ring
 * decoder, the per-frame filter, and what net.c builds from them.
 *
 * net_ring.c   the rings of guest/kx_hcall_abi.h ("The packet device"): every
 *              index the guest writes read once and checked, frames copied
 *              out before anything looks at them.  Pure: no threads, no fds
 *              (fuzz/fuzz_net.c drives it over arbitrary bytes).
 * net_filter.c the policy on every frame (policy-lang/kxp_net.h's rules):
 *              spoofing, listened ports, allowed peers, the pVM's own
 *              connections; the TCP reset the monitor answers a refused
 *              connection with.  Pure too.
 * net.c        the module "net": the hypercalls, kxd's NET_ATTACH, and the
 *              thread that bridges the rings to the TAP.
 */
#ifndef KX_HV_NET_H
#define KX_HV_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/kx_hcall_abi.h"
#include "policy-lang/kxp_net.h"

/* ---- rings (net_ring.c) ------------------------------------------------------- */

/* The monitor's view of one interface's area (host pointers into guest
 * memory) and its private copies of every index: nothing the monitor
 * decides with is read back from guest-writable memory. */
struct net_rings {
	volatile struct kx_net_guest_page *guest; /* guest-written: read once per use */
	volatile struct kx_net_mon_page *mon;	  /* monitor-written */
	volatile struct kx_net_slot *tx, *rx;	  /* KX_NET_SLOTS each */
	uint32_t tx_cons; /* frames taken from tx */
	uint32_t rx_prod; /* frames published in rx */
	uint32_t rx_cons; /* the last rx_cons the guest published, checked */
};

/* Point r at an area of KX_NET_AREA_SIZE bytes (the host view of guest
 * memory) and reset the indices, the monitor's page included. */
void net_rings_init(struct net_rings *r, volatile void *area);

/*
 * Take the next tx frame: 1 with the frame copied to buf (*len bytes), 0
 * when tx is empty, -EPROTO when the guest's tx_prod is impossible (more
 * than KX_NET_SLOTS ahead: why says so; the device is broken), -EMSGSIZE
 * when the slot's length is outside KX_NET_FRAME_MIN..MAX (the slot is
 * consumed: count the frame as malformed).  buf holds KX_NET_FRAME_MAX.
 * *avail (when not NULL) gets the frames still waiting.
 */
int net_tx_take(struct net_rings *r, uint8_t *buf, size_t *len, uint32_t *avail,
		const char **why);
/* Make taken tx slots the guest's again (publish tx_cons). */
void net_tx_publish(struct net_rings *r);

/*
 * Put a frame in rx: 1 published, 0 rx is full (drop it), -EPROTO when the
 * guest's rx_cons is impossible (went back, or past rx_prod), -EMSGSIZE
 * for a frame outside KX_NET_FRAME_MIN..MAX.
 */
int net_rx_put(struct net_rings *r, const uint8_t *frame, size_t len, const char **why);

/* ---- the filter (net_filter.c) ------------------------------------------------ */

enum net_drop_kind {
	NET_DROP_SPOOF_MAC,  /* out: a source MAC that is not the pVM's */
	NET_DROP_SPOOF_IP,   /* out: a source IPv4 address (or ARP sender) not the pVM's */
	NET_DROP_PORT,	     /* in: to a port the pVM does not listen on, not a reply */
	NET_DROP_PEER,	     /* out: to a peer no connect rule allows, not a reply */
	NET_DROP_MALFORMED,  /* a frame whose headers do not parse */
	NET_DROP_PROTO,	     /* not ARP, IPv4 TCP or UDP (IPv6, ICMP, fragments...) */
	NET_DROP_NOT_MINE,   /* in: for another MAC or address */
	NET_DROP_RING_FULL,  /* in: the guest's rx ring was full */
	NET_DROP_TAP_BUSY,   /* out: the TAP would block */
	NET_DROP_KINDS
};

/* The name of a kind ("spoof-mac", ...), for kxctl list and the audit log. */
const char *net_drop_name(unsigned kind);

#define NET_CONN_MAX 256u

/* A flow the policy let through once: replies travel back on it.  Of a
 * TCP flow the filter also follows what the pVM's end sent, so that the
 * monitor can reset the connection for it when the pVM ends (its stack is
 * gone with it: nobody else would tell the peer). */
struct net_conn {
	uint32_t peer;
	uint16_t peer_port, local_port;
	uint8_t proto;	  /* 0: free */
	uint8_t tcp;	  /* NET_TCP_* */
	uint8_t peer_mac[6]; /* the next hop towards the peer, as last seen */
	uint32_t snd_nxt; /* after the pVM's furthest segment (with NET_TCP_SENT) */
	uint64_t used;	  /* the filter's clock at last use: the oldest is evicted */
};

#define NET_TCP_SENT	1u /* the pVM's end sent on this connection: snd_nxt is known */
#define NET_TCP_FIN_OUT 2u /* the pVM's end sent its FIN */
#define NET_TCP_FIN_IN	4u /* the peer sent its FIN */
#define NET_TCP_RESET	8u /* a reset went either way: the connection is over */

struct net_filter {
	struct kxp_net_rules rules; /* checked with kxp_net_rules_ok */
	uint8_t mac[6];
	uint64_t clock;
	struct net_conn conn[NET_CONN_MAX];
};

#define NET_RST_LEN 54u /* Ethernet + IPv4 + TCP headers, no options */

/* The verdict on one frame: NET_PASS or a drop kind, a line about the
 * frame for the audit record, and for a refused TCP connection the reset
 * the monitor sends back (rst_len > 0). */
#define NET_PASS (-1)
struct net_verdict {
	int drop; /* NET_PASS or enum net_drop_kind */
	char what[160];
	/* The policy's question a port or peer drop answered (kxp_request):
	 * query 1 listen (proto, port), 2 connect (proto, addr, port), else 0. */
	uint8_t query, proto;
	uint16_t port;
	uint32_t addr;
	uint8_t rst[NET_RST_LEN];
	size_t rst_len;
};

/* rules must have passed kxp_net_rules_ok; mac is unicast. */
void net_filter_init(struct net_filter *f, const struct kxp_net_rules *rules,
		     const uint8_t mac[6]);
/* From the pVM to the TAP. */
void net_filter_out(struct net_filter *f, const uint8_t *frame, size_t len,
		    struct net_verdict *v);
/* From the TAP to the pVM. */
void net_filter_in(struct net_filter *f, const uint8_t *frame, size_t len,
		   struct net_verdict *v);

/* When the pVM ended: a reset for each of its TCP connections still open
 * (not reset, not closed both ways) whose sequence the pVM's end made
 * known — SEQ = where its last segment ended, which a peer that received
 * everything accepts (RFC 9293 3.10.7.4).  One frame per call into frame,
 * from *cursor on (start at 0): its length, or 0 when none is left. */
size_t net_filter_next_abort(const struct net_filter *f, size_t *cursor,
			     uint8_t frame[NET_RST_LEN]);

/* The Internet checksum of len bytes, folded onto sum (host order). */
uint16_t net_csum(const void *data, size_t len, uint32_t sum);

#endif /* KX_HV_NET_H */
