/*
 * frames.h — Ethernet frames for the packet device's tests and fuzz seeds:
 * ARP and IPv4 TCP/UDP built field by field (network byte order), with
 * correct checksums, so a test says what it sends in one line.
 */
#ifndef KX_TESTS_NET_FRAMES_H
#define KX_TESTS_NET_FRAMES_H

#include <stddef.h>
#include <stdint.h>
#ifndef KX_FRAMES_NO_LIBC
#include <string.h>
#endif

#define FR_TCP 6
#define FR_UDP 17

struct fr_ip {
	const uint8_t *dst_mac, *src_mac;
	uint32_t src, dst; /* host order */
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint32_t seq;
	uint16_t frag; /* flags + offset field */
	size_t payload;
	const void *data; /* payload bytes; NULL: zeros */
};

static inline void fr_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void fr_put32(uint8_t *p, uint32_t v)
{
	fr_put16(p, (uint16_t)(v >> 16));
	fr_put16(p + 2, (uint16_t)v);
}

static inline uint16_t fr_csum(const uint8_t *b, size_t len, uint32_t sum)
{
	for (; len > 1; len -= 2, b += 2)
		sum += (uint32_t)(b[0] << 8 | b[1]);
	if (len)
		sum += (uint32_t)b[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An IPv4 TCP or UDP frame into buf (>= 54 + payload bytes); its length. */
static inline size_t fr_ip(uint8_t *buf, const struct fr_ip *f)
{
	size_t l4len = (f->proto == FR_TCP ? 20 : 8) + f->payload;
	uint8_t *ip = buf + 14, *l4 = ip + 20;
	uint32_t sum;

	memset(buf, 0, 14 + 20 + l4len);
	memcpy(buf, f->dst_mac, 6);
	memcpy(buf + 6, f->src_mac, 6);
	fr_put16(buf + 12, 0x0800);
	ip[0] = 0x45;
	fr_put16(ip + 2, (uint16_t)(20 + l4len));
	fr_put16(ip + 6, f->frag);
	ip[8] = 64;
	ip[9] = f->proto;
	fr_put32(ip + 12, f->src);
	fr_put32(ip + 16, f->dst);
	fr_put16(ip + 10, fr_csum(ip, 20, 0));
	fr_put16(l4, f->sport);
	fr_put16(l4 + 2, f->dport);
	if (f->proto == FR_TCP) {
		fr_put32(l4 + 4, f->seq);
		l4[12] = 5 << 4;
		l4[13] = f->tcp_flags;
		fr_put16(l4 + 14, 65535);
	} else {
		fr_put16(l4 + 4, (uint16_t)l4len);
	}
	if (f->data != NULL)
		memcpy(l4 + (f->proto == FR_TCP ? 20 : 8), f->data, f->payload);
	sum = (f->src >> 16) + (f->src & 0xffff) + (f->dst >> 16) + (f->dst & 0xffff) + f->proto +
	      (uint32_t)l4len;
	fr_put16(l4 + (f->proto == FR_TCP ? 16 : 6), fr_csum(l4, l4len, sum));
	return 14 + 20 + l4len;
}

/* An ARP request (op 1) or reply (op 2) into buf (>= 42 bytes); 42. */
static inline size_t fr_arp(uint8_t *buf, const uint8_t *dst_mac, const uint8_t *src_mac,
			    uint16_t op, const uint8_t *sha, uint32_t spa, const uint8_t *tha,
			    uint32_t tpa)
{
	uint8_t *a = buf + 14;

	memcpy(buf, dst_mac, 6);
	memcpy(buf + 6, src_mac, 6);
	fr_put16(buf + 12, 0x0806);
	fr_put16(a, 1);
	fr_put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	fr_put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	fr_put32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	fr_put32(a + 24, tpa);
	return 42;
}

#endif /* KX_TESTS_NET_FRAMES_H */
