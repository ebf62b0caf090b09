/*
 * fuzz_net — the packet device's monitor side against a hostile guest and
 * a hostile network: the rings (manager/hv/net_ring.c) over an area the
 * guest writes at will, and the per-frame policy (manager/hv/net_filter.c)
 * over any bytes, both directions.
 *
 * Input: a script, one op per byte (low 3 bits), operands after:
 *   0 guest sets tx_prod: u32          1 guest sets rx_cons: u32
 *   2 guest fills tx slot: u8 slot, u16 len, then up to len frame bytes
 *   3 monitor drains tx (at most a ring), each frame through filter_out
 *   4 a frame from the TAP: u16 len, bytes -> filter_in, then rx if passed
 *   5 filter_out on u16 len, bytes     6 filter_in on u16 len, bytes
 *   7 guest consumes everything published in rx
 *
 * Besides ASan/UBSan the harness checks what the code promises: a frame
 * taken has a length in KX_NET_FRAME_MIN..MAX and is what the slot held;
 * after -EPROTO the rings are not used again; rx never holds more than a
 * ring; a reset is 54 bytes with valid IPv4 and TCP checksums; a verdict
 * is NET_PASS or a drop kind, with text for a drop.  At the end, the resets
 * for the pVM's open connections (as when it ends): at most one per flow,
 * each from the pVM's MAC and address, a bare RST with valid checksums.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manager/hv/net.h"

static uint8_t area[KX_NET_AREA_SIZE] __attribute__((aligned(4096)));

static const uint8_t my_mac[6] = {0x02, 0x6b, 0x78, 0, 0, 2};

static void rules(struct kxp_net_rules *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->iface, "net0", 5);
	r->addr = 0x0a000002u;
	r->prefix = 24;
	r->gateway = 0x0a000001u;
	r->nlisten = 2;
	r->listen[0] = (struct kxp_net_port){.port = 8080, .proto = KXP_NET_PROTO_TCP};
	r->listen[1] = (struct kxp_net_port){.port = 53, .proto = KXP_NET_PROTO_UDP};
	r->npeers = 2;
	r->peers[0] = (struct kxp_net_peer){.addr = 0x0a000001u, .port = 80, .prefix = 32,
					    .proto = KXP_NET_PROTO_TCP};
	r->peers[1] = (struct kxp_net_peer){.addr = 0x0a000000u, .port = 0, .prefix = 24,
					    .proto = KXP_NET_PROTO_UDP};
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static void check_verdict(const struct net_verdict *v)
{
	if (v->drop != NET_PASS && (v->drop < 0 || v->drop >= NET_DROP_KINDS))
		abort();
	if (v->drop != NET_PASS && v->what[0] == '\0')
		abort();
	if (memchr(v->what, '\0', sizeof(v->what)) == NULL)
		abort();
	if (v->rst_len != 0) {
		const uint8_t *ip = v->rst + 14, *t = ip + 20;
		uint32_t src = (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 | ip[14] << 8 | ip[15];
		uint32_t dst = (uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | ip[18] << 8 | ip[19];
		uint32_t sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + 20;

		if (v->rst_len != 54 || v->drop != NET_DROP_PORT || net_csum(ip, 20, 0) != 0 ||
		    net_csum(t, 20, sum) != 0 || memcmp(v->rst + 6, my_mac, 6) != 0)
			abort();
	}
}

static void check_aborts(const struct net_filter *f, const struct kxp_net_rules *r)
{
	uint8_t e[NET_RST_LEN];
	size_t cursor = 0, len, n = 0;

	while ((len = net_filter_next_abort(f, &cursor, e)) > 0) {
		const uint8_t *ip = e + 14, *t = ip + 20;
		uint32_t src = (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 | ip[14] << 8 | ip[15];
		uint32_t dst = (uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | ip[18] << 8 | ip[19];
		uint32_t sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + 20;

		if (len != NET_RST_LEN || ++n > NET_CONN_MAX || src != r->addr ||
		    memcmp(e + 6, my_mac, 6) != 0 || t[13] != 0x04 || net_csum(ip, 20, 0) != 0 ||
		    net_csum(t, 20, sum) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kx_net_guest_page *g = (void *)area;
	struct kx_net_mon_page *m = (void *)(area + KX_PAGE_SIZE);
	struct kx_net_slot *tx = (void *)(area + KX_NET_RING_OFF), *rx = tx + KX_NET_SLOTS;
	static struct net_filter filter;
	static struct kxp_net_rules r;
	struct net_rings rings;
	struct net_verdict v;
	uint8_t buf[KX_NET_FRAME_MAX];
	bool dead = false;
	size_t at = 0;

	memset(area, 0, KX_NET_RING_OFF);
	net_rings_init(&rings, area);
	rules(&r);
	net_filter_init(&filter, &r, my_mac);
	while (at < size) {
		unsigned op = data[at++] & 7;
		size_t len, n;
		const char *why = NULL;
		int rc;

		switch (op) {
		case 0:
		case 1:
			if (size - at < 4)
				return 0;
			if (op == 0)
				g->tx_prod = get32(data + at);
			else
				g->rx_cons = get32(data + at);
			at += 4;
			break;
		case 2:
			if (size - at < 3)
				return 0;
			n = data[at];
			tx[n % KX_NET_SLOTS].len = get16(data + at + 1);
			at += 3;
			len = tx[n % KX_NET_SLOTS].len;
			len = len < size - at ? len : size - at;
			len = len < sizeof(tx[0].frame) ? len : sizeof(tx[0].frame);
			memcpy(tx[n % KX_NET_SLOTS].frame, data + at, len);
			at += len;
			break;
		case 3:
			for (unsigned i = 0; i < KX_NET_SLOTS && !dead; i++) {
				uint32_t slot = rings.tx_cons % KX_NET_SLOTS;

				rc = net_tx_take(&rings, buf, &len, NULL, &why);
				if (rc == 0)
					break;
				if (rc == -EPROTO) {
					if (why == NULL)
						abort();
					dead = true;
					break;
				}
				if (rc == -EMSGSIZE)
					continue;
				if (rc != 1 || len < KX_NET_FRAME_MIN || len > KX_NET_FRAME_MAX ||
				    memcmp(buf, tx[slot].frame, len) != 0)
					abort();
				net_filter_out(&filter, buf, len, &v);
				check_verdict(&v);
			}
			net_tx_publish(&rings);
			break;
		case 4:
		case 5:
		case 6:
			if (size - at < 2)
				return 0;
			len = get16(data + at);
			at += 2;
			len = len < size - at ? len : size - at;
			if (op == 5)
				net_filter_out(&filter, data + at, len, &v);
			else
				net_filter_in(&filter, data + at, len, &v);
			check_verdict(&v);
			if (op == 4 && v.drop == NET_PASS && !dead) {
				rc = net_rx_put(&rings, data + at, len, &why);
				if (rc == -EPROTO)
					dead = true;
				else if (rc < 0 && rc != -EMSGSIZE)
					abort();
				if (rc == 1 && (m->rx_prod - rings.rx_cons > KX_NET_SLOTS ||
						rx[(m->rx_prod - 1) % KX_NET_SLOTS].len != len))
					abort();
			}
			at += len;
			break;
		case 7:
			g->rx_cons = m->rx_prod;
			break;
		}
	}
	check_aborts(&filter, &r);
	return 0;
}
