/*
 * sockcall.c — the socket system calls (docs/network.md, "Sockets"): each
 * finds its socket (socket.h), checks its arguments as Linux does, and
 * works through lwIP's raw API; waiting and the data path are socket.c's.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "guest/posix/socket.h"

KX_SYS(socket)
{
	int domain = (int)a[0], type = (int)a[1] & 0xf, flags = (int)a[1] & ~0xf;
	int proto = (int)a[2];
	struct sock *s;
	long rc;

	if (domain != AF_INET)
		return -EAFNOSUPPORT;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if ((type != SOCK_STREAM && type != SOCK_DGRAM) ||
	    (proto != 0 && proto != (type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP)))
		return -EPROTONOSUPPORT;
	if ((rc = kx_sock_start()) != 0)
		return rc;
	s = kx_kalloc(sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->type = type;
	if (type == SOCK_STREAM) {
		s->tcp = tcp_new();
		if (s->tcp != NULL) {
			kx_sock_hook(s);
			tcp_nagle_disable(s->tcp);
		}
	} else {
		s->udp = udp_new();
		if (s->udp != NULL)
			udp_recv(s->udp, kx_sock_on_dgram, s);
	}
	if (s->tcp == NULL && s->udp == NULL) {
		kx_kfree(s);
		return -ENOBUFS;
	}
	return kx_sock_install(s, flags);
}

KX_SYS(bind)
{
	long rc;
	struct sock *s = kx_sock_of(a[0], NULL, &rc);
	ip_addr_t ip;
	u16_t port;
	err_t e;

	if (s == NULL)
		return rc;
	if ((rc = kx_sock_addr_in((const void *)a[1], (socklen_t)a[2], &ip, &port)) != 0)
		return rc;
	if (s->type == SOCK_STREAM && s->tcp == NULL)
		return -EINVAL;
	e = s->type == SOCK_STREAM ? tcp_bind(s->tcp, &ip, port) : udp_bind(s->udp, &ip, port);
	return e == ERR_OK ? 0 : e == ERR_USE ? -EADDRINUSE : -EINVAL;
}

KX_SYS(listen)
{
	long rc;
	struct sock *s = kx_sock_of(a[0], NULL, &rc);
	struct tcp_pcb *l;
	int backlog = (int)a[1];

	if (s == NULL)
		return rc;
	if (s->type != SOCK_STREAM)
		return -EOPNOTSUPP;
	s->backlog = backlog < 1 ? 1 : backlog > ACCEPT_MAX ? ACCEPT_MAX : backlog;
	if (s->listening)
		return 0;
	if (s->tcp == NULL || s->connected || s->connecting)
		return -EINVAL;
	if (s->tcp->local_port == 0 && tcp_bind(s->tcp, IP_ADDR_ANY, 0) != ERR_OK)
		return -EADDRINUSE;
	l = tcp_listen_with_backlog(s->tcp, (u8_t)s->backlog);
	if (l == NULL)
		return -ENOBUFS;
	s->tcp = l;
	s->listening = 1;
	tcp_arg(l, s);
	tcp_accept(l, kx_sock_on_accept);
	return 0;
}

static long do_accept(const long *a, int flags)
{
	struct kx_file *f;
	long rc;
	struct sock *s = kx_sock_of(a[0], &f, &rc), *c;

	if (s == NULL)
		return rc;
	if (!s->listening)
		return -EINVAL;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	while (s->nacq == 0) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if ((rc = kx_sock_wait(s)) != 0)
			return rc;
	}
	c = s->acq[0];
	memmove(s->acq, s->acq + 1, (--s->nacq) * sizeof(s->acq[0]));
	if (c->tcp != NULL)
		kx_sock_addr_out((void *)a[1], (socklen_t *)a[2], ip4_addr_get_u32(&c->tcp->remote_ip),
			 c->tcp->remote_port);
	return kx_sock_install(c, flags);
}

KX_SYS(accept)
{
	return do_accept(a, 0);
}

KX_SYS(accept4)
{
	return do_accept(a, (int)a[3]);
}

KX_SYS(connect)
{
	struct kx_file *f;
	long rc;
	struct sock *s = kx_sock_of(a[0], &f, &rc);
	ip_addr_t ip;
	u16_t port;

	if (s == NULL)
		return rc;
	if ((rc = kx_sock_addr_in((const void *)a[1], (socklen_t)a[2], &ip, &port)) != 0)
		return rc;
	if (s->type == SOCK_DGRAM) {
		if (udp_connect(s->udp, &ip, port) != ERR_OK)
			return -EINVAL;
		s->connected = 1;
		return 0;
	}
	if (s->connected)
		return -EISCONN;
	if (s->listening || s->tcp == NULL)
		return s->err ? kx_sock_take_err(s) : -EINVAL;
	if (!s->connecting) {
		if (tcp_connect(s->tcp, &ip, port, kx_sock_on_connected) != ERR_OK)
			return -ENOBUFS;
		s->connecting = 1;
		if (f->flags & O_NONBLOCK)
			return -EINPROGRESS;
	} else if (f->flags & O_NONBLOCK) {
		return -EALREADY;
	}
	while (s->connecting)
		if ((rc = kx_sock_wait(s)) != 0)
			return rc;
	return s->connected ? 0 : kx_sock_take_err(s);
}

KX_SYS(sendto)
{
	struct kx_file *f;
	long rc;
	struct sock *s = kx_sock_of(a[0], &f, &rc);

	if (s == NULL)
		return rc;
	return kx_sock_send(f, s, (const void *)a[1], (size_t)a[2], (int)a[3], (const void *)a[4],
		       (socklen_t)a[5]);
}

KX_SYS(recvfrom)
{
	struct kx_file *f;
	long rc;
	struct sock *s = kx_sock_of(a[0], &f, &rc);

	if (s == NULL)
		return rc;
	return kx_sock_recv(f, s, (void *)a[1], (size_t)a[2], (int)a[3], (void *)a[4],
		       (socklen_t *)a[5]);
}

KX_SYS(sendmsg)
{
	struct kx_file *f;
	long rc, total = 0;
	struct sock *s = kx_sock_of(a[0], &f, &rc);
	const struct msghdr *m = (const struct msghdr *)a[1];
	static char gather[65536];
	size_t len = 0;

	if (s == NULL)
		return rc;
	if (m->msg_iovlen > 1024)
		return -EMSGSIZE;
	for (size_t i = 0; i < (size_t)m->msg_iovlen; i++) {
		size_t n = m->msg_iov[i].iov_len;

		if (s->type == SOCK_DGRAM) {
			if (n > sizeof(gather) - len)
				return -EMSGSIZE;
			memcpy(gather + len, m->msg_iov[i].iov_base, n);
			len += n;
			continue;
		}
		rc = kx_sock_send(f, s, m->msg_iov[i].iov_base, n, (int)a[2], NULL, 0);
		if (rc < 0)
			return total ? total : rc;
		total += rc;
		if ((size_t)rc < n)
			return total;
	}
	if (s->type == SOCK_DGRAM)
		return kx_sock_send(f, s, gather, len, (int)a[2], m->msg_name, m->msg_namelen);
	return total;
}

KX_SYS(recvmsg)
{
	struct kx_file *f;
	long rc;
	struct sock *s = kx_sock_of(a[0], &f, &rc);
	struct msghdr *m = (struct msghdr *)a[1];
	static char scatter[65536];
	size_t cap = 0, at = 0;

	if (s == NULL)
		return rc;
	for (size_t i = 0; i < (size_t)m->msg_iovlen && i < 1024; i++)
		cap += m->msg_iov[i].iov_len;
	if (cap > sizeof(scatter))
		cap = sizeof(scatter);
	rc = kx_sock_recv(f, s, scatter, cap, (int)a[2], m->msg_name, &m->msg_namelen);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < (size_t)m->msg_iovlen && at < (size_t)rc; i++) {
		size_t n = m->msg_iov[i].iov_len < (size_t)rc - at ? m->msg_iov[i].iov_len
								   : (size_t)rc - at;

		memcpy(m->msg_iov[i].iov_base, scatter + at, n);
		at += n;
	}
	m->msg_controllen = 0;
	m->msg_flags = 0;
	return rc;
}

KX_SYS(shutdown)
{
	long rc;
	struct sock *s = kx_sock_of(a[0], NULL, &rc);
	int how = (int)a[1];

	if (s == NULL)
		return rc;
	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	if (s->type != SOCK_STREAM || !s->connected)
		return -ENOTCONN;
	if (how != SHUT_WR)
		s->shut_rd = 1;
	if (how != SHUT_RD && !s->shut_wr) {
		s->shut_wr = 1;
		if (s->tcp != NULL)
			tcp_shutdown(s->tcp, 0, 1);
	}
	kx_sock_wake(s);
	return 0;
}

static long name_of(const long *a, int peer)
{
	long rc;
	struct sock *s = kx_sock_of(a[0], NULL, &rc);
	uint32_t addr = 0;
	u16_t port = 0;

	if (s == NULL)
		return rc;
	if (s->tcp != NULL) {
		addr = ip4_addr_get_u32(peer ? &s->tcp->remote_ip : &s->tcp->local_ip);
		port = peer ? s->tcp->remote_port : s->tcp->local_port;
		if (!peer && addr == 0 && kx_sock_net() != NULL && (s->connected || s->connecting))
			addr = htonl(kx_sock_net()->dev.info.addr);
	} else if (s->udp != NULL) {
		addr = ip4_addr_get_u32(peer ? &s->udp->remote_ip : &s->udp->local_ip);
		port = peer ? s->udp->remote_port : s->udp->local_port;
	}
	if (peer && !s->connected)
		return -ENOTCONN;
	kx_sock_addr_out((void *)a[1], (socklen_t *)a[2], addr, port);
	return 0;
}

KX_SYS(getsockname)
{
	return name_of(a, 0);
}

KX_SYS(getpeername)
{
	return name_of(a, 1);
}

KX_SYS(setsockopt)
{
	long rc;
	struct sock *s = kx_sock_of(a[0], NULL, &rc);
	int level = (int)a[1], opt = (int)a[2], val = 0;

	if (s == NULL)
		return rc;
	if (a[3] != 0 && (socklen_t)a[4] >= sizeof(int))
		memcpy(&val, (const void *)a[3], sizeof(int));
	if (level == IPPROTO_TCP && opt == TCP_NODELAY) {
		if (s->tcp != NULL && !s->listening) {
			if (val)
				tcp_nagle_disable(s->tcp);
			else
				tcp_nagle_enable(s->tcp);
		}
		return 0;
	}
	if (level == SOL_SOCKET && opt == SO_REUSEADDR) {
		if (s->tcp != NULL && !s->listening) {
			if (val)
				ip_set_option(s->tcp, SOF_REUSEADDR);
			else
				ip_reset_option(s->tcp, SOF_REUSEADDR);
		}
		return 0;
	}
	/* Accepted and ignored, as the stack has no such knob: buffer sizes,
	 * keepalive, linger, SO_REUSEPORT (one process). */
	if ((level == SOL_SOCKET &&
	     (opt == SO_KEEPALIVE || opt == SO_SNDBUF || opt == SO_RCVBUF || opt == SO_LINGER ||
	      opt == SO_REUSEPORT || opt == SO_RCVTIMEO || opt == SO_SNDTIMEO)) ||
	    (level == IPPROTO_TCP && (opt == TCP_KEEPIDLE || opt == TCP_KEEPINTVL ||
				      opt == TCP_KEEPCNT)))
		return 0;
	return -ENOPROTOOPT;
}

KX_SYS(getsockopt)
{
	long rc;
	struct sock *s = kx_sock_of(a[0], NULL, &rc);
	int level = (int)a[1], opt = (int)a[2], val;
	socklen_t *ulen = (socklen_t *)a[4];

	if (s == NULL)
		return rc;
	if (level == SOL_SOCKET && opt == SO_ERROR)
		val = (int)-kx_sock_take_err(s);
	else if (level == SOL_SOCKET && opt == SO_TYPE)
		val = s->type;
	else if (level == SOL_SOCKET && (opt == SO_SNDBUF || opt == SO_RCVBUF))
		val = opt == SO_SNDBUF ? TCP_SND_BUF : TCP_WND;
	else if (level == SOL_SOCKET && opt == SO_ACCEPTCONN)
		val = s->listening;
	else if (level == IPPROTO_TCP && opt == TCP_NODELAY)
		val = s->tcp != NULL && tcp_nagle_disabled(s->tcp);
	else if (level == SOL_SOCKET && (opt == SO_REUSEADDR || opt == SO_KEEPALIVE))
		val = 0;
	else
		return -ENOPROTOOPT;
	if (ulen == NULL || *ulen < sizeof(int))
		return -EINVAL;
	memcpy((void *)a[3], &val, sizeof(int));
	*ulen = sizeof(int);
	return 0;
}
