/*
 * net_filter.c — the policy on every frame (docs/network.md, "Enforcement").
 *
 * kxd asked the gate once, at attach (gate_net, audited with the rule's
 * file:line); what it decided is a struct kxp_net_rules the monitor applies
 * here to every frame, in both directions, with kxp_net.h's functions:
 *
 *   out (pVM -> TAP)  the source MAC and IPv4 address (ARP: the sender's)
 *                     must be the pVM's; TCP and UDP go to a peer a connect
 *                     rule allows (the flow is remembered) or are replies on
 *                     a remembered flow;
 *   in  (TAP -> pVM)  for the pVM's MAC (broadcast: ARP only) and address;
 *                     TCP and UDP to a listened port (remembered) or a reply
 *                     on a remembered flow.  A TCP SYN to any other port is
 *                     answered with a reset, so the peer sees "connection
 *                     refused" at once.
 *
 * Of each TCP connection it lets through, the filter follows the flags and
 * how far the pVM's end sent, so that when the pVM ends the monitor can
 * reset the connections still open (net_filter_next_abort): a peer learns
 * at once that the pVM is gone instead of waiting for its own timeout.
 *
 * Everything else is dropped: IPv6, ICMP, IP fragments, other ethertypes.
 * Frames are hostile bytes: every header is checked against the frame's
 * length before it is read.  Pure: fuzz/fuzz_net.c drives it.
 */
#include <stdio.h>
#include <string.h>

#include "manager/hv/net.h"

#define ETH_HDR	    14u
#define ETH_ARP	    0x0806u
#define ETH_IPV4    0x0800u
#define ARP_LEN	    28u
#define IP_MIN	    20u
#define TCP_MIN	    20u
#define UDP_LEN	    8u
#define TCP_FIN	    0x01u
#define TCP_SYN	    0x02u
#define TCP_RST	    0x04u
#define TCP_ACK	    0x10u

static const char *const drop_names[NET_DROP_KINDS] = {
	[NET_DROP_SPOOF_MAC] = "spoof-mac",   [NET_DROP_SPOOF_IP] = "spoof-ip",
	[NET_DROP_PORT] = "port",	      [NET_DROP_PEER] = "peer",
	[NET_DROP_MALFORMED] = "malformed",   [NET_DROP_PROTO] = "proto",
	[NET_DROP_NOT_MINE] = "not-mine",     [NET_DROP_RING_FULL] = "rx-full",
	[NET_DROP_TAP_BUSY] = "tap-busy",
};

const char *net_drop_name(unsigned kind)
{
	return kind < NET_DROP_KINDS ? drop_names[kind] : "?";
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

uint16_t net_csum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *b = data;
	uint64_t s = sum;

	for (; len > 1; len -= 2, b += 2)
		s += be16(b);
	if (len)
		s += (uint32_t)b[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

void net_filter_init(struct net_filter *f, const struct kxp_net_rules *rules,
		     const uint8_t mac[6])
{
	memset(f, 0, sizeof(*f));
	f->rules = *rules;
	memcpy(f->mac, mac, 6);
}

/* ---- flows -------------------------------------------------------------------- */

static struct net_conn *conn_find(struct net_filter *f, uint8_t proto, uint32_t peer,
				  uint16_t peer_port, uint16_t local_port)
{
	for (size_t i = 0; i < NET_CONN_MAX; i++) {
		struct net_conn *c = &f->conn[i];

		if (c->proto == proto && c->peer == peer && c->peer_port == peer_port &&
		    c->local_port == local_port) {
			c->used = ++f->clock;
			return c;
		}
	}
	return NULL;
}

static struct net_conn *conn_add(struct net_filter *f, uint8_t proto, uint32_t peer,
				 uint16_t peer_port, uint16_t local_port)
{
	struct net_conn *victim = conn_find(f, proto, peer, peer_port, local_port);

	if (victim != NULL)
		return victim;
	victim = &f->conn[0];
	for (size_t i = 0; i < NET_CONN_MAX; i++) {
		if (f->conn[i].proto == 0) {
			victim = &f->conn[i];
			break;
		}
		if (f->conn[i].used < victim->used)
			victim = &f->conn[i];
	}
	*victim = (struct net_conn){.peer = peer, .peer_port = peer_port,
				    .local_port = local_port, .proto = proto,
				    .used = ++f->clock};
	return victim;
}

/* ---- parsing ------------------------------------------------------------------ */

struct l4 {
	uint32_t src, dst;
	uint8_t proto, tcp_flags;
	uint16_t sport, dport;
	uint32_t seq;
	size_t payload; /* TCP: bytes after the header */
};

static int drop(struct net_verdict *v, int kind, const char *fmt, const struct l4 *x,
		const char *dir)
{
	v->drop = kind;
	if (x != NULL && (kind == NET_DROP_PORT || kind == NET_DROP_PEER)) {
		v->query = kind == NET_DROP_PORT ? 1 : 2;
		v->proto = x->proto;
		v->port = x->dport;
		v->addr = kind == NET_DROP_PEER ? x->dst : 0;
	}
	if (x != NULL)
		snprintf(v->what, sizeof(v->what), "%s %s %u.%u.%u.%u:%u -> %u.%u.%u.%u:%u: %s",
			 dir, x->proto == KXP_NET_PROTO_TCP ? "tcp" : "udp", x->src >> 24,
			 (x->src >> 16) & 255, (x->src >> 8) & 255, x->src & 255, x->sport,
			 x->dst >> 24, (x->dst >> 16) & 255, (x->dst >> 8) & 255, x->dst & 255,
			 x->dport, fmt);
	else
		snprintf(v->what, sizeof(v->what), "%s: %s", dir, fmt);
	return kind;
}

/* An ARP packet for Ethernet and IPv4 (a points past the Ethernet header). */
static bool arp_ok(const uint8_t *a, size_t frame_len)
{
	return frame_len >= ETH_HDR + ARP_LEN && be16(a) == 1 && be16(a + 2) == ETH_IPV4 &&
	       a[4] == 6 && a[5] == 4;
}

/* An IPv4 frame's addresses, protocol and ports: NET_PASS or a drop kind
 * (another ethertype than IPv4 is `proto`). */
static int parse_ipv4(const uint8_t *fr, size_t len, struct l4 *x, struct net_verdict *v,
		      const char *dir)
{
	const uint8_t *ip = fr + ETH_HDR;
	size_t room = len - ETH_HDR, ihl, total;
	const uint8_t *l4;

	if (be16(fr + 12) != ETH_IPV4)
		return drop(v, NET_DROP_PROTO, "ethertype neither ARP nor IPv4", NULL, dir);
	if (room < IP_MIN || ip[0] >> 4 != 4)
		return drop(v, NET_DROP_MALFORMED, "short IPv4 header or not version 4", NULL,
			    dir);
	ihl = (size_t)(ip[0] & 15) * 4;
	total = be16(ip + 2);
	if (ihl < IP_MIN || total < ihl || total > room)
		return drop(v, NET_DROP_MALFORMED, "IPv4 lengths do not fit the frame", NULL, dir);
	x->src = be32(ip + 12);
	x->dst = be32(ip + 16);
	x->proto = ip[9];
	if ((be16(ip + 6) & 0x3fff) != 0) /* MF, or an offset */
		return drop(v, NET_DROP_PROTO, "an IPv4 fragment", NULL, dir);
	if (x->proto != KXP_NET_PROTO_TCP && x->proto != KXP_NET_PROTO_UDP)
		return drop(v, NET_DROP_PROTO, "IPv4 neither TCP nor UDP", NULL, dir);
	l4 = ip + ihl;
	room = total - ihl;
	if (x->proto == KXP_NET_PROTO_TCP) {
		size_t doff;

		if (room < TCP_MIN)
			return drop(v, NET_DROP_MALFORMED, "short TCP header", NULL, dir);
		doff = (size_t)(l4[12] >> 4) * 4;
		if (doff < TCP_MIN || doff > room)
			return drop(v, NET_DROP_MALFORMED, "TCP data offset outside the packet",
				    NULL, dir);
		x->seq = be32(l4 + 4);
		x->tcp_flags = l4[13];
		x->payload = room - doff;
	} else if (room < UDP_LEN) {
		return drop(v, NET_DROP_MALFORMED, "short UDP header", NULL, dir);
	}
	x->sport = be16(l4);
	x->dport = be16(l4 + 2);
	return NET_PASS;
}

/* ---- following TCP connections (for the resets at the pVM's end) ------------ */

/* A bare SYN opens a connection anew on its four numbers: what an earlier
 * one on them did no longer counts. */
static void track_flags(struct net_conn *c, const struct l4 *x, unsigned fin_bit)
{
	if ((x->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		c->tcp = 0;
	if (x->tcp_flags & TCP_FIN)
		c->tcp |= (uint8_t)fin_bit;
	if (x->tcp_flags & TCP_RST)
		c->tcp |= NET_TCP_RESET;
}

/* Where a TCP segment ends in sequence space: its data, and SYN and FIN
 * one each. */
static uint32_t seq_end(const struct l4 *x)
{
	return x->seq + (uint32_t)x->payload + ((x->tcp_flags & TCP_SYN) ? 1u : 0u) +
	       ((x->tcp_flags & TCP_FIN) ? 1u : 0u);
}

/* A segment the pVM sent: where it ends moves snd_nxt forward, never back
 * (a retransmission). */
static void track_out(struct net_conn *c, const uint8_t *fr, const struct l4 *x)
{
	uint32_t end;

	if (x->proto != KXP_NET_PROTO_TCP)
		return;
	end = seq_end(x);
	track_flags(c, x, NET_TCP_FIN_OUT);
	memcpy(c->peer_mac, fr, 6);
	if (!(c->tcp & NET_TCP_SENT) || (int32_t)(end - c->snd_nxt) > 0)
		c->snd_nxt = end;
	c->tcp |= NET_TCP_SENT;
}

static void track_in(struct net_conn *c, const uint8_t *fr, const struct l4 *x)
{
	if (x->proto != KXP_NET_PROTO_TCP)
		return;
	track_flags(c, x, NET_TCP_FIN_IN);
	memcpy(c->peer_mac, fr + 6, 6);
}

static void verdict_reset(struct net_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->drop = NET_PASS;
}

void net_filter_out(struct net_filter *f, const uint8_t *fr, size_t len, struct net_verdict *v)
{
	const struct kxp_net_rules *r = &f->rules;
	struct net_conn *c;
	struct l4 x = {0};
	uint16_t type;

	verdict_reset(v);
	if (len < ETH_HDR) {
		drop(v, NET_DROP_MALFORMED, "shorter than an Ethernet header", NULL, "out");
		return;
	}
	if (memcmp(fr + 6, f->mac, 6) != 0) {
		drop(v, NET_DROP_SPOOF_MAC, "source MAC is not the pVM's", NULL, "out");
		return;
	}
	type = be16(fr + 12);
	if (type == ETH_ARP) {
		const uint8_t *a = fr + ETH_HDR;

		if (!arp_ok(a, len))
			drop(v, NET_DROP_MALFORMED, "not an Ethernet/IPv4 ARP packet", NULL, "out");
		else if (memcmp(a + 8, f->mac, 6) != 0)
			drop(v, NET_DROP_SPOOF_MAC, "ARP sender MAC is not the pVM's", NULL, "out");
		else if (be32(a + 14) != r->addr)
			drop(v, NET_DROP_SPOOF_IP, "ARP sender address is not the pVM's", NULL,
			     "out");
		return;
	}
	if (parse_ipv4(fr, len, &x, v, "out") != NET_PASS)
		return;
	if (x.src != r->addr) {
		drop(v, NET_DROP_SPOOF_IP, "source address is not the pVM's", &x, "out");
		return;
	}
	c = conn_find(f, x.proto, x.dst, x.dport, x.sport);
	if (c == NULL && kxp_net_connect_match(r, x.proto, x.dst, x.dport) < 0) {
		drop(v, NET_DROP_PEER, "no connect rule allows the peer", &x, "out");
		return;
	}
	if (c == NULL)
		c = conn_add(f, x.proto, x.dst, x.dport, x.sport);
	track_out(c, fr, &x);
}

/* A TCP segment without data or options from the pVM's address and MAC,
 * to dst (at dst_mac), into e (NET_RST_LEN bytes). */
static void put_tcp(const struct net_filter *f, const uint8_t dst_mac[6], uint32_t dst,
		    uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		    uint8_t *e)
{
	uint8_t *ip = e + ETH_HDR, *t = ip + IP_MIN;
	uint32_t sum;

	memset(e, 0, NET_RST_LEN);
	memcpy(e, dst_mac, 6);
	memcpy(e + 6, f->mac, 6);
	put16(e + 12, ETH_IPV4);
	ip[0] = 0x45;
	put16(ip + 2, IP_MIN + TCP_MIN);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = KXP_NET_PROTO_TCP;
	put32(ip + 12, f->rules.addr);
	put32(ip + 16, dst);
	put16(ip + 10, net_csum(ip, IP_MIN, 0));
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	sum = (f->rules.addr >> 16) + (f->rules.addr & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	      KXP_NET_PROTO_TCP + TCP_MIN;
	put16(t + 16, net_csum(t, TCP_MIN, sum));
}

/* The reset the pVM's side would send to a SYN on a closed port (RFC 9293
 * 3.10.7.1: SEQ 0, ACK = SYN's SEQ + its length, RST|ACK). */
static void make_rst(const struct net_filter *f, const uint8_t *fr, const struct l4 *x,
		     struct net_verdict *v)
{
	put_tcp(f, fr + 6, x->src, x->dport, x->sport, 0, seq_end(x), TCP_RST | TCP_ACK, v->rst);
	v->rst_len = NET_RST_LEN;
}

size_t net_filter_next_abort(const struct net_filter *f, size_t *cursor,
			     uint8_t frame[NET_RST_LEN])
{
	while (*cursor < NET_CONN_MAX) {
		const struct net_conn *c = &f->conn[(*cursor)++];
		const unsigned closed = NET_TCP_FIN_OUT | NET_TCP_FIN_IN;

		if (c->proto != KXP_NET_PROTO_TCP || !(c->tcp & NET_TCP_SENT) ||
		    (c->tcp & NET_TCP_RESET) || (c->tcp & closed) == closed)
			continue;
		put_tcp(f, c->peer_mac, c->peer, c->local_port, c->peer_port, c->snd_nxt, 0,
			TCP_RST, frame);
		return NET_RST_LEN;
	}
	return 0;
}

void net_filter_in(struct net_filter *f, const uint8_t *fr, size_t len, struct net_verdict *v)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	const struct kxp_net_rules *r = &f->rules;
	struct net_conn *c;
	struct l4 x = {0};
	bool to_bcast;
	uint16_t type;

	verdict_reset(v);
	if (len < ETH_HDR) {
		drop(v, NET_DROP_MALFORMED, "shorter than an Ethernet header", NULL, "in");
		return;
	}
	to_bcast = memcmp(fr, bcast, 6) == 0;
	if (!to_bcast && memcmp(fr, f->mac, 6) != 0) {
		drop(v, NET_DROP_NOT_MINE, "for another MAC", NULL, "in");
		return;
	}
	type = be16(fr + 12);
	if (type == ETH_ARP) {
		const uint8_t *a = fr + ETH_HDR;

		if (!arp_ok(a, len))
			drop(v, NET_DROP_MALFORMED, "not an Ethernet/IPv4 ARP packet", NULL, "in");
		else if (be32(a + 24) != r->addr)
			drop(v, NET_DROP_NOT_MINE, "ARP for another address", NULL, "in");
		return;
	}
	if (type == ETH_IPV4 && to_bcast) {
		drop(v, NET_DROP_NOT_MINE, "IPv4 to the broadcast MAC", NULL, "in");
		return;
	}
	if (parse_ipv4(fr, len, &x, v, "in") != NET_PASS)
		return;
	if (x.dst != r->addr) {
		drop(v, NET_DROP_NOT_MINE, "for another address", &x, "in");
		return;
	}
	c = conn_find(f, x.proto, x.src, x.sport, x.dport);
	if (c == NULL && kxp_net_listen_match(r, x.proto, x.dport) >= 0)
		c = conn_add(f, x.proto, x.src, x.sport, x.dport);
	if (c != NULL) {
		track_in(c, fr, &x);
		return;
	}
	drop(v, NET_DROP_PORT, "the pVM does not listen on the port", &x, "in");
	if (x.proto == KXP_NET_PROTO_TCP && (x.tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN)
		make_rst(f, fr, &x, v);
}
