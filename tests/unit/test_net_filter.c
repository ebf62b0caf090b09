/*
 * test_net_filter: the per-frame policy of the packet device
 * (manager/hv/net_filter.c) on frames built field by field.  Rules: the
 * pVM is 10.0.0.2/24 with MAC 02:6b:78:00:00:02, listens on tcp/8080 and
 * udp/5353, may connect to 10.0.0.1:80 and udp/10.0.0.0/24:53.  Checked:
 * spoofed MACs and addresses (Ethernet, IPv4, ARP sender), listened ports
 * in, allowed peers out, replies on remembered flows both ways and nothing
 * else, the reset for a refused SYN (fields and checksums), frames for
 * others, what is not carried (IPv6, ICMP, fragments), malformed headers,
 * the flow table's eviction of the least recently used flow, and the
 * resets that end the pVM's open TCP connections when it ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "manager/hv/net.h"
#include "tests/net/frames.h"

#define ME   0x0a000002u
#define HOST 0x0a000001u
#define PEER 0x0a000009u

static const uint8_t my_mac[6] = {0x02, 0x6b, 0x78, 0, 0, 2};
static const uint8_t host_mac[6] = {0x02, 0, 0, 0, 0, 1};
static const uint8_t other_mac[6] = {0x02, 0x6b, 0x78, 0, 0, 3};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct net_filter filter;

static int setup(void **state)
{
	struct kxp_net_rules r;

	(void)state;
	memset(&r, 0, sizeof(r));
	strcpy(r.iface, "net0");
	r.addr = ME;
	r.prefix = 24;
	r.gateway = HOST;
	r.nlisten = 2;
	r.listen[0] = (struct kxp_net_port){.port = 8080, .proto = KXP_NET_PROTO_TCP};
	r.listen[1] = (struct kxp_net_port){.port = 5353, .proto = KXP_NET_PROTO_UDP};
	r.npeers = 2;
	r.peers[0] = (struct kxp_net_peer){.addr = HOST, .port = 80, .prefix = 32,
					   .proto = KXP_NET_PROTO_TCP};
	r.peers[1] = (struct kxp_net_peer){.addr = 0x0a000000u, .port = 53, .prefix = 24,
					   .proto = KXP_NET_PROTO_UDP};
	assert_true(kxp_net_rules_ok(&r));
	net_filter_init(&filter, &r, my_mac);
	return 0;
}

static int out(const struct fr_ip *f)
{
	uint8_t buf[1600];
	struct net_verdict v;
	size_t len = fr_ip(buf, f);

	net_filter_out(&filter, buf, len, &v);
	return v.drop;
}

static int in(const struct fr_ip *f, struct net_verdict *v)
{
	uint8_t buf[1600];
	struct net_verdict local;
	size_t len = fr_ip(buf, f);

	net_filter_in(&filter, buf, len, v != NULL ? v : &local);
	return (v != NULL ? v : &local)->drop;
}

/* From the pVM to peer:dport from sport. */
static struct fr_ip from_me(uint8_t proto, uint32_t peer, uint16_t sport, uint16_t dport)
{
	return (struct fr_ip){.dst_mac = host_mac, .src_mac = my_mac, .src = ME, .dst = peer,
			      .proto = proto, .sport = sport, .dport = dport,
			      .tcp_flags = 0x02};
}

/* To the pVM's dport from peer:sport. */
static struct fr_ip to_me(uint8_t proto, uint32_t peer, uint16_t sport, uint16_t dport)
{
	return (struct fr_ip){.dst_mac = my_mac, .src_mac = host_mac, .src = peer, .dst = ME,
			      .proto = proto, .sport = sport, .dport = dport,
			      .tcp_flags = 0x02, .seq = 1000};
}

static void test_spoofing(void **state)
{
	struct fr_ip f = from_me(FR_TCP, HOST, 40000, 80);
	uint8_t buf[64];
	struct net_verdict v;

	(void)state;
	f.src_mac = other_mac;
	assert_int_equal(out(&f), NET_DROP_SPOOF_MAC);
	f = from_me(FR_TCP, HOST, 40000, 80);
	f.src = 0x0a000003u;
	assert_int_equal(out(&f), NET_DROP_SPOOF_IP);
	/* ARP: the Ethernet source is ours but the sender fields are not. */
	net_filter_out(&filter, buf,
		       fr_arp(buf, bcast, my_mac, 1, other_mac, ME, bcast, HOST), &v);
	assert_int_equal(v.drop, NET_DROP_SPOOF_MAC);
	net_filter_out(&filter, buf,
		       fr_arp(buf, bcast, my_mac, 1, my_mac, 0x0a000007u, bcast, HOST), &v);
	assert_int_equal(v.drop, NET_DROP_SPOOF_IP);
	net_filter_out(&filter, buf, fr_arp(buf, bcast, my_mac, 1, my_mac, ME, bcast, HOST), &v);
	assert_int_equal(v.drop, NET_PASS);
}

static void test_peers_and_replies(void **state)
{
	struct fr_ip f;

	(void)state;
	/* Allowed peer: passes, and its replies come in to that port only. */
	f = from_me(FR_TCP, HOST, 40000, 80);
	assert_int_equal(out(&f), NET_PASS);
	f = to_me(FR_TCP, HOST, 80, 40000);
	f.tcp_flags = 0x12;
	assert_int_equal(in(&f, NULL), NET_PASS);
	f = to_me(FR_TCP, HOST, 80, 40001);
	f.tcp_flags = 0x12;
	assert_int_equal(in(&f, NULL), NET_DROP_PORT);
	f = to_me(FR_TCP, HOST, 81, 40000);
	assert_int_equal(in(&f, NULL), NET_DROP_PORT);
	/* Not a peer: another port of the host, another host, UDP to a TCP rule. */
	f = from_me(FR_TCP, HOST, 40000, 81);
	assert_int_equal(out(&f), NET_DROP_PEER);
	f = from_me(FR_TCP, PEER, 40000, 80);
	assert_int_equal(out(&f), NET_DROP_PEER);
	f = from_me(FR_UDP, HOST, 40000, 80);
	assert_int_equal(out(&f), NET_DROP_PEER);
	/* A prefix rule: any address of the subnet on udp/53. */
	f = from_me(FR_UDP, PEER, 5000, 53);
	assert_int_equal(out(&f), NET_PASS);
	f = from_me(FR_UDP, 0x0b000001u, 5000, 53);
	assert_int_equal(out(&f), NET_DROP_PEER);
}

static void test_listen(void **state)
{
	struct fr_ip f;

	(void)state;
	f = to_me(FR_TCP, PEER, 50000, 8080);
	assert_int_equal(in(&f, NULL), NET_PASS);
	/* The reply from the listened port goes back to that client only. */
	f = from_me(FR_TCP, PEER, 8080, 50000);
	f.tcp_flags = 0x12;
	assert_int_equal(out(&f), NET_PASS);
	f = from_me(FR_TCP, PEER, 8080, 50001);
	assert_int_equal(out(&f), NET_DROP_PEER);
	f = from_me(FR_TCP, HOST, 8080, 50000);
	assert_int_equal(out(&f), NET_DROP_PEER);
	/* UDP listen; TCP on a UDP port is another port. */
	f = to_me(FR_UDP, PEER, 7000, 5353);
	assert_int_equal(in(&f, NULL), NET_PASS);
	f = from_me(FR_UDP, PEER, 5353, 7000);
	assert_int_equal(out(&f), NET_PASS);
	f = to_me(FR_TCP, PEER, 7000, 5353);
	assert_int_equal(in(&f, NULL), NET_DROP_PORT);
}

static void test_refused_syn_gets_a_reset(void **state)
{
	struct fr_ip f = to_me(FR_TCP, PEER, 50000, 22);
	struct net_verdict v;
	const uint8_t *ip, *t;
	uint32_t sum;

	(void)state;
	f.payload = 3;
	assert_int_equal(in(&f, &v), NET_DROP_PORT);
	assert_int_equal(v.rst_len, 54);
	assert_non_null(strstr(v.what, "10.0.0.9:50000 -> 10.0.0.2:22"));
	assert_memory_equal(v.rst, host_mac, 6);
	assert_memory_equal(v.rst + 6, my_mac, 6);
	ip = v.rst + 14;
	t = ip + 20;
	assert_int_equal(fr_csum(ip, 20, 0), 0); /* a valid header checksums to 0 */
	assert_int_equal((ip[12] << 24 | ip[13] << 16 | ip[14] << 8 | ip[15]), ME);
	assert_int_equal((uint32_t)(ip[16] << 24 | ip[17] << 16 | ip[18] << 8 | ip[19]), PEER);
	assert_int_equal(t[0] << 8 | t[1], 22);
	assert_int_equal(t[2] << 8 | t[3], 50000);
	assert_int_equal((uint32_t)(t[8] << 24 | t[9] << 16 | t[10] << 8 | t[11]), 1000 + 1 + 3);
	assert_int_equal(t[13], 0x14); /* RST|ACK */
	sum = (ME >> 16) + (ME & 0xffff) + (PEER >> 16) + (PEER & 0xffff) + 6 + 20;
	assert_int_equal(fr_csum(t, 20, sum), 0);
	/* Only a bare SYN is answered: not an ACK, not a RST, not UDP. */
	f.tcp_flags = 0x10;
	assert_int_equal(in(&f, &v), NET_DROP_PORT);
	assert_int_equal(v.rst_len, 0);
	f.tcp_flags = 0x04;
	assert_int_equal(in(&f, &v), NET_DROP_PORT);
	assert_int_equal(v.rst_len, 0);
	f = to_me(FR_UDP, PEER, 50000, 22);
	assert_int_equal(in(&f, &v), NET_DROP_PORT);
	assert_int_equal(v.rst_len, 0);
}

static void test_not_mine_and_not_carried(void **state)
{
	struct fr_ip f = to_me(FR_TCP, PEER, 50000, 8080);
	uint8_t buf[1600];
	struct net_verdict v;
	size_t len;

	(void)state;
	f.dst_mac = other_mac;
	assert_int_equal(in(&f, NULL), NET_DROP_NOT_MINE);
	f.dst_mac = bcast;
	assert_int_equal(in(&f, NULL), NET_DROP_NOT_MINE);
	f = to_me(FR_TCP, PEER, 50000, 8080);
	f.dst = 0x0a000003u;
	assert_int_equal(in(&f, NULL), NET_DROP_NOT_MINE);
	/* ARP for us (broadcast) passes; for another address not. */
	net_filter_in(&filter, buf, fr_arp(buf, bcast, host_mac, 1, host_mac, HOST, bcast, ME),
		      &v);
	assert_int_equal(v.drop, NET_PASS);
	net_filter_in(&filter, buf,
		      fr_arp(buf, bcast, host_mac, 1, host_mac, HOST, bcast, 0x0a000005u), &v);
	assert_int_equal(v.drop, NET_DROP_NOT_MINE);
	/* A fragment of a listened port, ICMP, IPv6. */
	f = to_me(FR_TCP, PEER, 50000, 8080);
	f.frag = 0x2000; /* MF */
	assert_int_equal(in(&f, NULL), NET_DROP_PROTO);
	f = to_me(FR_TCP, PEER, 50000, 8080);
	len = fr_ip(buf, &f);
	buf[14 + 9] = 1; /* ICMP */
	net_filter_in(&filter, buf, len, &v);
	assert_int_equal(v.drop, NET_DROP_PROTO);
	fr_put16(buf + 12, 0x86dd);
	net_filter_in(&filter, buf, len, &v);
	assert_int_equal(v.drop, NET_DROP_PROTO);
}

static void test_malformed(void **state)
{
	struct fr_ip f = to_me(FR_TCP, PEER, 50000, 8080);
	uint8_t buf[1600];
	struct net_verdict v;
	size_t len = fr_ip(buf, &f);

	(void)state;
	net_filter_in(&filter, buf, 13, &v);
	assert_int_equal(v.drop, NET_DROP_MALFORMED);
	net_filter_in(&filter, buf, 14 + 19, &v); /* IPv4 header cut */
	assert_int_equal(v.drop, NET_DROP_MALFORMED);
	buf[14] = 0x44; /* ihl 4 */
	net_filter_in(&filter, buf, len, &v);
	assert_int_equal(v.drop, NET_DROP_MALFORMED);
	buf[14] = 0x45;
	fr_put16(buf + 16, (uint16_t)(len - 14 + 1)); /* total length past the frame */
	net_filter_in(&filter, buf, len, &v);
	assert_int_equal(v.drop, NET_DROP_MALFORMED);
	fr_put16(buf + 16, (uint16_t)(len - 14));
	buf[14 + 20 + 12] = 0xf0; /* TCP data offset 60 > 20 bytes */
	net_filter_in(&filter, buf, len, &v);
	assert_int_equal(v.drop, NET_DROP_MALFORMED);
	buf[14 + 20 + 12] = 0x50;
	net_filter_in(&filter, buf, len, &v);
	assert_int_equal(v.drop, NET_PASS);
}

static void test_flow_table_evicts_least_recent(void **state)
{
	struct fr_ip f;

	(void)state;
	f = from_me(FR_UDP, PEER, 1, 53);
	assert_int_equal(out(&f), NET_PASS);
	for (uint16_t i = 0; i < NET_CONN_MAX; i++) {
		f = from_me(FR_UDP, PEER, (uint16_t)(2 + i), 53);
		assert_int_equal(out(&f), NET_PASS);
	}
	/* The first flow was the least recently used: its reply is gone. */
	f = to_me(FR_UDP, PEER, 53, 1);
	assert_int_equal(in(&f, NULL), NET_DROP_PORT);
	f = to_me(FR_UDP, PEER, 53, (uint16_t)(1 + NET_CONN_MAX));
	assert_int_equal(in(&f, NULL), NET_PASS);
}

/* A TCP segment with flags, seq and payload length, either way. */
static struct fr_ip seg(struct fr_ip f, uint8_t flags, uint32_t seq, size_t payload)
{
	f.tcp_flags = flags;
	f.seq = seq;
	f.payload = payload;
	return f;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Collects the resets for the pVM's end into frames[]; how many. */
static size_t aborts(uint8_t frames[][NET_RST_LEN], size_t max)
{
	size_t cursor = 0, n = 0, len;
	uint8_t frame[NET_RST_LEN];

	while ((len = net_filter_next_abort(&filter, &cursor, frame)) > 0) {
		assert_int_equal(len, NET_RST_LEN);
		assert_true(n < max);
		memcpy(frames[n++], frame, len);
	}
	return n;
}

/* The reset for peer:pport from the pVM's lport at seq: its fields and
 * checksums. */
static void assert_abort(const uint8_t *e, uint32_t peer, uint16_t pport, uint16_t lport,
			 uint32_t seq)
{
	const uint8_t *ip = e + 14, *t = ip + 20;
	uint32_t sum = (ME >> 16) + (ME & 0xffff) + (peer >> 16) + (peer & 0xffff) + 6 + 20;

	assert_memory_equal(e, host_mac, 6);
	assert_memory_equal(e + 6, my_mac, 6);
	assert_int_equal(fr_csum(ip, 20, 0), 0);
	assert_int_equal(rd32(ip + 12), ME);
	assert_int_equal(rd32(ip + 16), peer);
	assert_int_equal(t[0] << 8 | t[1], lport);
	assert_int_equal(t[2] << 8 | t[3], pport);
	assert_int_equal(rd32(t + 4), seq);
	assert_int_equal(t[13], 0x04); /* RST alone: the peer accepts it at exactly SEQ */
	assert_int_equal(fr_csum(t, 20, sum), 0);
}

/* PEER connects from pport to the pVM's 8080, which answers SYN|ACK at isn. */
static void accepted(uint16_t pport, uint32_t isn)
{
	struct fr_ip f = to_me(FR_TCP, PEER, pport, 8080);

	assert_int_equal(in(&f, NULL), NET_PASS);
	f = seg(from_me(FR_TCP, PEER, 8080, pport), 0x12, isn, 0);
	assert_int_equal(out(&f), NET_PASS);
}

static void test_pvm_end_resets_open_connections(void **state)
{
	uint8_t frames[8][NET_RST_LEN];
	struct fr_ip f;

	(void)state;
	assert_int_equal(aborts(frames, 8), 0);
	/* The pVM connects to HOST:80 and sends 100 bytes; a retransmission of
	 * 50 of them does not move where its end is. */
	f = from_me(FR_TCP, HOST, 40000, 80);
	assert_int_equal(out(&f), NET_PASS);
	f = seg(from_me(FR_TCP, HOST, 40000, 80), 0x10, 0, 100);
	f.seq = 5001;
	assert_int_equal(out(&f), NET_PASS);
	f = seg(from_me(FR_TCP, HOST, 40000, 80), 0x10, 5001, 50);
	assert_int_equal(out(&f), NET_PASS);
	/* A peer connects to the pVM's 8080; the pVM answers SYN|ACK. */
	accepted(50000, 7000);
	/* Closed both ways: nothing to end. */
	accepted(50001, 8999);
	f = seg(from_me(FR_TCP, PEER, 8080, 50001), 0x11, 9000, 0);
	assert_int_equal(out(&f), NET_PASS);
	f = seg(to_me(FR_TCP, PEER, 50001, 8080), 0x11, 1001, 0);
	assert_int_equal(in(&f, NULL), NET_PASS);
	/* Reset by the peer: nothing to end. */
	accepted(50002, 3000);
	f = seg(to_me(FR_TCP, PEER, 50002, 8080), 0x04, 1001, 0);
	assert_int_equal(in(&f, NULL), NET_PASS);
	/* The pVM never answered: its sequence is unknown, no reset. */
	f = to_me(FR_TCP, PEER, 50003, 8080);
	assert_int_equal(in(&f, NULL), NET_PASS);
	/* UDP flows have nothing to reset. */
	f = from_me(FR_UDP, HOST, 5000, 53);
	assert_int_equal(out(&f), NET_PASS);

	assert_int_equal(aborts(frames, 8), 2);
	assert_abort(frames[0], HOST, 80, 40000, 5001 + 100);
	assert_abort(frames[1], PEER, 50000, 8080, 7001);

	/* A new connection on the four numbers of the closed one counts
	 * again; the pVM's FIN alone (half closed) still needs the reset. */
	accepted(50001, 0xfffffff0u);
	f = seg(from_me(FR_TCP, PEER, 8080, 50001), 0x11, 0xfffffff1u, 0x20);
	assert_int_equal(out(&f), NET_PASS);
	assert_int_equal(aborts(frames, 8), 3);
	assert_abort(frames[2], PEER, 50001, 8080, 0xfffffff1u + 0x20 + 1); /* wraps to 0x10 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_spoofing, setup),
		cmocka_unit_test_setup(test_peers_and_replies, setup),
		cmocka_unit_test_setup(test_listen, setup),
		cmocka_unit_test_setup(test_refused_syn_gets_a_reset, setup),
		cmocka_unit_test_setup(test_not_mine_and_not_carried, setup),
		cmocka_unit_test_setup(test_malformed, setup),
		cmocka_unit_test_setup(test_flow_table_evicts_least_recent, setup),
		cmocka_unit_test_setup(test_pvm_end_resets_open_connections, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
