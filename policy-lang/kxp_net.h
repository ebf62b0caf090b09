/*
 * kxp_net.h — one network interface's rules as plain data, and the checks a
 * monitor runs on every frame.
 *
 * kxd asks the gate (gate_net, op `net`) when it attaches an interface to a
 * pVM; on ALLOW the gate hands back this table, built from the compiled
 * policy, and kxd passes it to the pVM's monitor.  The monitor then answers
 * "may this pVM accept on port P" and "may it connect to X:Y" itself, per
 * frame, with the inline functions below -- no call into kxd per frame.
 * `kxpolicy explain net ... listen=/connect=` runs the same functions, so an
 * auditor is told what the monitor enforces.
 *
 * Self-contained (C99 headers only) and fixed-size, so it can travel in one
 * channel message.  A receiver must check it with kxp_net_rules_ok() before
 * use: it came over a channel.  IPv4 addresses are numbers (10.0.0.2 is
 * 0x0a000002); ports are numbers, not in network byte order.
 */
#ifndef KX_POLICY_KXP_NET_H
#define KX_POLICY_KXP_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KXP_NET_IFNAME_MAX 16 /* interface name incl. NUL (Linux IFNAMSIZ) */
#define KXP_NET_IFACES_MAX 8  /* interfaces per app */
#define KXP_NET_LISTEN_MAX 64 /* listen ports per interface */
#define KXP_NET_PEERS_MAX 64  /* connect peers per interface */
#define KXP_NET_PROTO_TCP 6u  /* IANA protocol numbers */
#define KXP_NET_PROTO_UDP 17u

struct kxp_net_port {
	uint16_t port; /* 1..65535 */
	uint8_t proto; /* KXP_NET_PROTO_* */
	uint8_t reserved;
};

struct kxp_net_peer {
	uint32_t addr;   /* no bits set beyond prefix */
	uint16_t port;   /* 0: any port */
	uint8_t prefix;  /* 0..32 */
	uint8_t proto;   /* KXP_NET_PROTO_* */
};

struct kxp_net_rules {
	char iface[KXP_NET_IFNAME_MAX]; /* NUL-terminated */
	uint32_t addr;    /* the pVM's own address: the only source it may send from */
	uint32_t gateway; /* 0: none (only the subnet is reachable) */
	uint8_t prefix;   /* of the pVM's subnet, 1..32 */
	uint8_t reserved[3];
	uint32_t nlisten, npeers;
	struct kxp_net_port listen[KXP_NET_LISTEN_MAX];
	struct kxp_net_peer peers[KXP_NET_PEERS_MAX];
};

_Static_assert(sizeof(struct kxp_net_port) == 4, "kxp_net_port layout");
_Static_assert(sizeof(struct kxp_net_peer) == 8, "kxp_net_peer layout");
_Static_assert(offsetof(struct kxp_net_rules, listen) == 36, "kxp_net_rules layout");
_Static_assert(sizeof(struct kxp_net_rules) ==
		       36 + 4 * KXP_NET_LISTEN_MAX + 8 * KXP_NET_PEERS_MAX,
	       "kxp_net_rules layout");

/* The network mask of a prefix length (0..32). */
static inline uint32_t kxp_net_mask(uint8_t prefix)
{
	return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
}

/* Is addr inside net/prefix? */
static inline bool kxp_net_in(uint32_t addr, uint32_t net, uint8_t prefix)
{
	return ((addr ^ net) & kxp_net_mask(prefix)) == 0;
}

/* Well formed: counts within bounds, the name terminated, every field in
 * range.  Untrusted input (a channel message): check before any use. */
static inline bool kxp_net_rules_ok(const struct kxp_net_rules *r)
{
	size_t i;

	if (r->nlisten > KXP_NET_LISTEN_MAX || r->npeers > KXP_NET_PEERS_MAX ||
	    r->prefix < 1 || r->prefix > 32 || r->iface[0] == '\0' ||
	    r->iface[KXP_NET_IFNAME_MAX - 1] != '\0')
		return false;
	if (r->gateway != 0 && !kxp_net_in(r->gateway, r->addr, r->prefix))
		return false;
	for (i = 0; i < r->nlisten; i++)
		if (r->listen[i].port == 0 || (r->listen[i].proto != KXP_NET_PROTO_TCP &&
					       r->listen[i].proto != KXP_NET_PROTO_UDP))
			return false;
	for (i = 0; i < r->npeers; i++)
		if (r->peers[i].prefix > 32 ||
		    (r->peers[i].addr & ~kxp_net_mask(r->peers[i].prefix)) != 0 ||
		    (r->peers[i].proto != KXP_NET_PROTO_TCP &&
		     r->peers[i].proto != KXP_NET_PROTO_UDP))
			return false;
	return true;
}

/* May the pVM accept connections (TCP) or datagrams (UDP) on port?  The
 * index of the listen entry that allows it, or -1. */
static inline int kxp_net_listen_match(const struct kxp_net_rules *r, uint8_t proto,
				       uint16_t port)
{
	size_t i;

	for (i = 0; i < r->nlisten && i < KXP_NET_LISTEN_MAX; i++)
		if (r->listen[i].proto == proto && r->listen[i].port == port)
			return (int)i;
	return -1;
}

/* May the pVM open a connection (TCP) or send a datagram (UDP) to
 * addr:port?  The index of the first peer entry that allows it, or -1.
 * Replies to connections a peer opened to a listen port are the monitor's
 * connection tracking, not this question. */
static inline int kxp_net_connect_match(const struct kxp_net_rules *r, uint8_t proto,
					uint32_t addr, uint16_t port)
{
	size_t i;

	for (i = 0; i < r->npeers && i < KXP_NET_PEERS_MAX; i++) {
		const struct kxp_net_peer *p = &r->peers[i];

		if (p->proto == proto && kxp_net_in(addr, p->addr, p->prefix) &&
		    (p->port == 0 || p->port == port))
			return (int)i;
	}
	return -1;
}

#endif /* KX_POLICY_KXP_NET_H */
