/*
 * netraw — a pVM speaking raw Ethernet through the packet device
 * (guest/net/netdev.h), for tests/cli/kvm_net.bats: no TCP/IP stack, only
 * ARP and UDP built by hand.
 *
 *   netraw echo SECS          answer ARP; echo every UDP datagram back to
 *                             its sender; "quit" ends it; SECS at most
 *   netraw send A.B.C.D PORT TEXT
 *                             resolve the peer (ARP, through the gateway
 *                             outside the subnet) and send TEXT in UDP
 *   netraw spoof A.B.C.D PORT send TEXT three times: from another address,
 *                             from another MAC, then as itself
 *   netraw flood N A.B.C.D PORT
 *                             N datagrams as fast as tx takes them, then
 *                             echo for 5 s (the monitor still serves it)
 *
 * Prints what it did ("net: ...") and the exits it took (kicks, waits).
 */
#include "guest/kxguest.h"
#include "guest/kxrt.h"
#include "guest/net/netdev.h"
#define KX_FRAMES_NO_LIBC
#include "tests/net/frames.h"

static struct kx_netdev dev;
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static uint8_t frame[2048];

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t parse_ip(const char *s)
{
	uint32_t a = 0;

	for (int i = 0; i < 4; i++) {
		char *end;

		a = a << 8 | (uint32_t)strtoul(s, &end, 10);
		s = *end ? end + 1 : end;
	}
	return a;
}

static void send_or_die(const void *fr, size_t len)
{
	int rc;

	while ((rc = kx_netdev_send(&dev, fr, len)) == -KX_EAGAIN)
		;
	if (rc != 0) {
		printf("net: send failed: %d\n", rc);
		exit(3);
	}
}

/* Answer an ARP request for our address; 1 if f was one. */
static int arp_answer(const uint8_t *f, long len)
{
	if (len < 42 || be16(f + 12) != 0x0806 || be16(f + 20) != 1 ||
	    be32(f + 38) != dev.info.addr)
		return 0;
	send_or_die(frame, fr_arp(frame, f + 6, dev.info.mac, 2, dev.info.mac, dev.info.addr,
				  f + 22, be32(f + 28)));
	return 1;
}

/* The MAC of addr (through the gateway outside the subnet): 0 or -1. */
static int resolve(uint32_t addr, uint8_t mac[6])
{
	uint32_t mask = dev.info.prefix ? ~0u << (32 - dev.info.prefix) : 0;
	uint32_t hop = ((addr ^ dev.info.addr) & mask) == 0 ? addr : dev.info.gateway;
	static uint8_t in[2048];
	uint64_t deadline = kx_clock_monotonic_ns() + 3000000000ull;

	send_or_die(frame, fr_arp(frame, bcast, dev.info.mac, 1, dev.info.mac, dev.info.addr,
				  bcast, hop));
	while (kx_clock_monotonic_ns() < deadline) {
		long n = kx_netdev_recv(&dev, in, sizeof(in));

		if (n == 0) {
			kx_netdev_wait(&dev, deadline);
			continue;
		}
		if (arp_answer(in, n))
			continue;
		if (n >= 42 && be16(in + 12) == 0x0806 && be16(in + 20) == 2 &&
		    be32(in + 28) == hop) {
			memcpy(mac, in + 22, 6);
			return 0;
		}
	}
	printf("net: no ARP answer for %u.%u.%u.%u\n", hop >> 24, (hop >> 16) & 255,
	       (hop >> 8) & 255, hop & 255);
	return -1;
}

static size_t udp(uint8_t *out, const uint8_t *dmac, const uint8_t *smac, uint32_t src,
		  uint32_t dst, uint16_t sport, uint16_t dport, const void *data, size_t len)
{
	struct fr_ip f = {.dst_mac = dmac, .src_mac = smac, .src = src, .dst = dst,
			  .proto = FR_UDP, .sport = sport, .dport = dport, .payload = len,
			  .data = data};

	return fr_ip(out, &f);
}

static int echo(uint64_t secs)
{
	static uint8_t in[2048];
	uint64_t deadline = kx_clock_monotonic_ns() + secs * 1000000000ull;
	unsigned echoed = 0;

	printf("net: echo ready\n");
	while (kx_clock_monotonic_ns() < deadline) {
		long n = kx_netdev_recv(&dev, in, sizeof(in));
		size_t ihl, plen;

		if (n == 0) {
			kx_netdev_wait(&dev, deadline);
			continue;
		}
		if (n < 0) {
			printf("net: recv %ld\n", n);
			return 3;
		}
		if (arp_answer(in, n) || n < 42 || be16(in + 12) != 0x0800 || in[23] != FR_UDP)
			continue;
		ihl = (size_t)(in[14] & 15) * 4;
		if ((size_t)n < 14 + ihl + 8)
			continue;
		plen = be16(in + 14 + ihl + 4) - 8u;
		if (plen > (size_t)n - 14 - ihl - 8)
			continue;
		if (plen == 4 && memcmp(in + 14 + ihl + 8, "quit", 4) == 0)
			break;
		send_or_die(frame, udp(frame, in + 6, dev.info.mac, dev.info.addr, be32(in + 26),
				       be16(in + 14 + ihl + 2), be16(in + 14 + ihl),
				       in + 14 + ihl + 8, plen));
		echoed++;
	}
	printf("net: echoed %u\n", echoed);
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t mac[6];
	int rc;

	if (argc < 2) {
		printf("usage: netraw echo|send|spoof|flood ...\n");
		return 2;
	}
	rc = kx_netdev_open(&dev, 0);
	if (rc != 0) {
		printf("net: no interface: %d\n", rc);
		return 4;
	}
	printf("net: %u.%u.%u.%u/%u mac %02x:%02x:%02x:%02x:%02x:%02x\n", dev.info.addr >> 24,
	       (dev.info.addr >> 16) & 255, (dev.info.addr >> 8) & 255, dev.info.addr & 255,
	       dev.info.prefix, dev.info.mac[0], dev.info.mac[1], dev.info.mac[2], dev.info.mac[3],
	       dev.info.mac[4], dev.info.mac[5]);
	if (strcmp(argv[1], "echo") == 0 && argc == 3) {
		rc = echo(strtoul(argv[2], NULL, 10));
	} else if ((strcmp(argv[1], "send") == 0 || strcmp(argv[1], "spoof") == 0) && argc >= 4) {
		uint32_t peer = parse_ip(argv[2]);
		uint16_t port = (uint16_t)strtoul(argv[3], NULL, 10);
		const char *text = argc > 4 ? argv[4] : "hello";
		uint8_t other[6];

		if (resolve(peer, mac) != 0)
			return 3;
		if (argv[1][1] == 'p') { /* spoof */
			memcpy(other, dev.info.mac, 6);
			other[5] ^= 0x55;
			send_or_die(frame, udp(frame, mac, dev.info.mac, dev.info.addr + 7, peer,
					       40000, port, "spoofed-ip", 10));
			send_or_die(frame, udp(frame, mac, other, dev.info.addr, peer, 40000, port,
					       "spoofed-mac", 11));
		}
		send_or_die(frame, udp(frame, mac, dev.info.mac, dev.info.addr, peer, 40000, port,
				       text, strlen(text)));
		printf("net: sent\n");
		rc = echo(1);
	} else if (strcmp(argv[1], "flood") == 0 && argc == 5) {
		unsigned long n = strtoul(argv[2], NULL, 10);
		uint32_t peer = parse_ip(argv[3]);
		uint16_t port = (uint16_t)strtoul(argv[4], NULL, 10);
		static char payload[1400];
		size_t len;

		if (resolve(peer, mac) != 0)
			return 3;
		memset(payload, 'f', sizeof(payload));
		len = udp(frame, mac, dev.info.mac, dev.info.addr, peer, 40000, port, payload,
			  sizeof(payload));
		for (unsigned long i = 0; i < n; i++)
			send_or_die(frame, len);
		printf("net: flooded %lu\n", n);
		rc = echo(5);
	} else {
		printf("usage: netraw echo|send|spoof|flood ...\n");
		return 2;
	}
	printf("net: kicks %llu waits %llu\n", (unsigned long long)dev.kicks,
	       (unsigned long long)dev.waits);
	return rc;
}
