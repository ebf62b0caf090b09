/*
 * socket.h — private to guest/posix/socket.c and sockcall.c: a socket (the
 * object behind a socket fd) and what the system calls use of it.
 *
 *   socket.c    the object: lwIP's callbacks, its queues, reading and
 *               writing, the fd kind, the stack's start and idle time
 *   sockcall.c  the system calls (socket, bind, listen, accept, ...)
 */
#ifndef KX_POSIX_SOCKET_H
#define KX_POSIX_SOCKET_H

#include <sys/socket.h>

#include "guest/net/kxnet.h"
#include "guest/posix/posix.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#define ACCEPT_MAX 64 /* connections waiting for accept() per listener */
#define DGRAM_MAX  64 /* datagrams waiting per UDP socket */

struct dgram {
	struct pbuf *p;
	uint32_t addr; /* host order */
	uint16_t port;
};

struct sock {
	int type; /* SOCK_STREAM, SOCK_DGRAM */
	struct tcp_pcb *tcp;
	struct udp_pcb *udp;
	int listening, connecting, connected;
	int peer_closed; /* FIN received: reads end with 0 */
	int shut_rd, shut_wr;
	int err;	 /* pending error for SO_ERROR / the next call (positive) */
	struct pbuf *rx; /* TCP: bytes received, not read yet */
	struct sock *acq[ACCEPT_MAX];
	unsigned nacq;
	struct dgram dq[DGRAM_MAX];
	unsigned dq_head, dq_len;
	int backlog;
};

/* The stack, started at the first socket (0, or -ENETDOWN); NULL before. */
long kx_sock_start(void);
struct kx_net *kx_sock_net(void);
/* Let lwIP take what arrived, without waiting. */
void kx_sock_service(void);
/* Wake s's waiters and poll/select. */
void kx_sock_wake(struct sock *s);
/* lwIP's callbacks on a TCP socket (arg = s); on a listener, accept;
 * connect's; a UDP socket's datagrams. */
void kx_sock_hook(struct sock *s);
err_t kx_sock_on_accept(void *arg, struct tcp_pcb *newpcb, err_t err);
err_t kx_sock_on_connected(void *arg, struct tcp_pcb *pcb, err_t err);
void kx_sock_on_dgram(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		      u16_t port);
/* The socket behind fd (and its description), the stack serviced; NULL
 * with *rc -EBADF or -ENOTSOCK. */
struct sock *kx_sock_of(long fd, struct kx_file **fp, long *rc);
/* The pending error as -errno, cleared. */
long kx_sock_take_err(struct sock *s);
/* Block until woken (0) or a signal (-EINTR). */
long kx_sock_wait(struct sock *s);
/* A sockaddr_in from the app (-EINVAL, -EAFNOSUPPORT), and one to it. */
long kx_sock_addr_in(const void *ua, socklen_t len, ip_addr_t *ip, u16_t *port);
void kx_sock_addr_out(void *ua, socklen_t *ulen, uint32_t addr_net, u16_t port);
/* recv/send with Linux's flags (MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC,
 * MSG_NOSIGNAL) and optional addresses. */
long kx_sock_recv(struct kx_file *f, struct sock *s, void *buf, size_t len, int flags,
		  void *ua, socklen_t *ulen);
long kx_sock_send(struct kx_file *f, struct sock *s, const void *buf, size_t len, int flags,
		  const void *ua, socklen_t ulen);
/* An fd for s (SOCK_NONBLOCK, SOCK_CLOEXEC in flags); s is freed on failure. */
long kx_sock_install(struct sock *s, int flags);
void kx_sock_free(struct sock *s);

#endif /* KX_POSIX_SOCKET_H */
