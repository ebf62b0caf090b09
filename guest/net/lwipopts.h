/*
 * lwipopts.h — lwIP's configuration for pVMs (guest/net/; docs/network.md).
 *
 * NO_SYS: lwIP runs in the caller's thread, driven by kx_net_poll
 * (kxnet.c), never on threads of its own; the raw (callback) API, under
 * the syscall layer's BSD sockets (guest/posix/socket.c).  IPv4, ARP,
 * TCP, UDP, a loopback interface inside the pVM.  Memory from the syscall
 * layer's allocator (the pVM's heap).
 */
#ifndef KX_LWIPOPTS_H
#define KX_LWIPOPTS_H

#include <stddef.h>

#define NO_SYS			1
#define LWIP_SOCKET		0
#define LWIP_NETCONN		0
#define SYS_LIGHTWEIGHT_PROT	0
#define LWIP_IPV4		1
#define LWIP_IPV6		0
#define LWIP_ARP		1
#define LWIP_ETHERNET		1
#define LWIP_ICMP		1 /* the monitor drops ICMP; lwIP's replies go nowhere */
#define LWIP_RAW		0
#define LWIP_UDP		1
#define LWIP_TCP		1
#define LWIP_DHCP		0 /* the address is the manifest's (NET_INFO) */
#define LWIP_AUTOIP		0
#define LWIP_IGMP		0
#define LWIP_DNS		0
#define LWIP_HAVE_LOOPIF	1
#define LWIP_NETIF_LOOPBACK	1
#define LWIP_STATS		0
#define LWIP_TIMERS		1
#define IP_REASSEMBLY		0 /* the monitor drops fragments */
#define IP_FRAG			0

#define MEM_LIBC_MALLOC		1 /* from the syscall layer's allocator (zeroed) */
void *kx_kalloc(size_t n);
void kx_kfree(void *p);
#define mem_clib_malloc		kx_kalloc
#define mem_clib_free		kx_kfree
#define mem_clib_calloc(n, s)	kx_kalloc((n) * (s))
#define MEMP_MEM_MALLOC		1
#define MEM_ALIGNMENT		8
#define PBUF_POOL_SIZE		256
#define MEMP_NUM_TCP_PCB	64
#define MEMP_NUM_TCP_PCB_LISTEN 16
#define MEMP_NUM_UDP_PCB	16

#define TCP_MSS			1460
#define TCP_WND			(32 * TCP_MSS)
#define TCP_SND_BUF		(32 * TCP_MSS)
#define TCP_SND_QUEUELEN	(4 * TCP_SND_BUF / TCP_MSS)
#define MEMP_NUM_TCP_SEG	TCP_SND_QUEUELEN
#define LWIP_WND_SCALE		1
#define TCP_RCV_SCALE		2

#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_LINK_CALLBACK   0
#define LWIP_CHECKSUM_ON_COPY	   1

#endif /* KX_LWIPOPTS_H */
