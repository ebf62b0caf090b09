/*
 * socket.c — BSD sockets as one more fd kind (docs/network.md, "Sockets"):
 * IPv4 TCP and UDP over lwIP (guest/net/kxnet.h), which runs in the
 * calling thread (NO_SYS): every socket call first lets lwIP take the
 * frames that arrived; lwIP's callbacks fill each socket's queues and wake
 * its waiters and kx_io_changed (poll, select); a thread that must wait
 * blocks on its socket (kx_block), and when every thread waits the
 * scheduler halts the vCPU in the packet device until a frame or the next
 * lwIP timer (kx_net_idle, called from thread.c).
 *
 * The stack starts at the first socket(): without an interface only
 * loopback (127.0.0.1) works.  Linux semantics kept: EAGAIN for
 * O_NONBLOCK, EINPROGRESS for a non-blocking connect (then POLLOUT and
 * SO_ERROR), ECONNREFUSED, ECONNRESET, EPIPE (with SIGPIPE unless
 * MSG_NOSIGNAL), EISCONN, ENOTCONN, EADDRINUSE, EAFNOSUPPORT for anything
 * but AF_INET.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
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

static struct kx_net *net;

static long net_start(void)
{
	static int failed;
	static struct kx_net n;

	if (net != NULL)
		return 0;
	if (failed)
		return -ENETDOWN;
	if (kx_net_up(&n) != 0 && kx_net_up_loopback(&n) != 0) {
		failed = 1;
		return -ENETDOWN;
	}
	net = &n;
	return 0;
}

/* Let lwIP take what arrived (no wait). */
static void service(void)
{
	if (net != NULL)
		kx_net_poll(net, 0);
}

static void wake(struct sock *s)
{
	kx_unblock(s, LONG_MAX);
	kx_unblock(&kx_io_changed, LONG_MAX);
}

/* ---- lwIP's callbacks --------------------------------------------------------- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct sock *s = arg;

	(void)pcb;
	if (p == NULL || err != ERR_OK)
		s->peer_closed = 1;
	else if (s->rx == NULL)
		s->rx = p;
	else
		pbuf_cat(s->rx, p);
	wake(s);
	return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	wake(arg);
	return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
	struct sock *s = arg;

	s->tcp = NULL; /* lwIP freed it */
	s->err = err == ERR_RST ? (s->connecting ? ECONNREFUSED : ECONNRESET)
	       : err == ERR_ABRT ? ECONNABORTED
				 : ECONNRESET;
	s->connecting = 0;
	s->peer_closed = 1;
	wake(s);
}

static void hook(struct sock *s)
{
	tcp_arg(s->tcp, s);
	tcp_recv(s->tcp, on_recv);
	tcp_sent(s->tcp, on_sent);
	tcp_err(s->tcp, on_err);
}

static err_t on_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
	struct sock *l = arg, *s;

	if (err != ERR_OK || newpcb == NULL)
		return ERR_VAL;
	if (l->nacq >= ACCEPT_MAX || (int)l->nacq >= l->backlog ||
	    (s = kx_kalloc(sizeof(*s))) == NULL) {
		tcp_abort(newpcb);
		return ERR_ABRT;
	}
	s->type = SOCK_STREAM;
	s->tcp = newpcb;
	s->connected = 1;
	hook(s);
	tcp_nagle_disable(newpcb);
	l->acq[l->nacq++] = s;
	wake(l);
	return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sock *s = arg;

	(void)pcb;
	s->connecting = 0;
	if (err == ERR_OK)
		s->connected = 1;
	else
		s->err = ECONNREFUSED;
	wake(s);
	return ERR_OK;
}

static void on_dgram(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		     u16_t port)
{
	struct sock *s = arg;

	(void)pcb;
	if (s->dq_len >= DGRAM_MAX) {
		pbuf_free(p); /* as a full socket buffer drops it */
		return;
	}
	s->dq[(s->dq_head + s->dq_len++) % DGRAM_MAX] =
		(struct dgram){.p = p, .addr = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(addr))),
			       .port = port};
	wake(s);
}

/* ---- helpers ------------------------------------------------------------------- */

static const struct kx_file_ops sock_ops;

static struct sock *sock_of(long fd, struct kx_file **fp, long *rc)
{
	struct kx_file *f = kx_fd_get(fd);

	*rc = 0;
	if (f == NULL) {
		*rc = -EBADF;
		return NULL;
	}
	if (f->ops != &sock_ops) {
		*rc = -ENOTSOCK;
		return NULL;
	}
	if (fp != NULL)
		*fp = f;
	service();
	return f->obj;
}

static long take_err(struct sock *s)
{
	int e = s->err;

	s->err = 0;
	return -e;
}

/* Block until woken, the deadline, or a signal: 0, -EINTR. */
static long wait_for(struct sock *s)
{
	long rc = kx_block(s, KX_NO_DEADLINE);

	service();
	return rc == -ETIMEDOUT ? 0 : rc;
}

static long addr_in(const void *ua, socklen_t len, ip_addr_t *ip, u16_t *port)
{
	struct sockaddr_in sin;

	if (ua == NULL || len < (socklen_t)sizeof(sin))
		return -EINVAL;
	memcpy(&sin, ua, sizeof(sin));
	if (sin.sin_family != AF_INET)
		return -EAFNOSUPPORT;
	ip_addr_set_ip4_u32(ip, sin.sin_addr.s_addr);
	*port = ntohs(sin.sin_port);
	return 0;
}

static void addr_out(void *ua, socklen_t *ulen, uint32_t addr_net, u16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = addr_net};
	socklen_t n;

	if (ua == NULL || ulen == NULL)
		return;
	n = *ulen < (socklen_t)sizeof(sin) ? *ulen : (socklen_t)sizeof(sin);
	memcpy(ua, &sin, n);
	*ulen = sizeof(sin);
}

/* ---- the fd kind ---------------------------------------------------------------- */

static long tcp_read_into(struct sock *s, void *buf, size_t len, int peek)
{
	u16_t n;

	if (s->rx == NULL)
		return 0;
	n = pbuf_copy_partial(s->rx, buf, (u16_t)(len > 0xffff ? 0xffff : len), 0);
	if (!peek) {
		s->rx = pbuf_free_header(s->rx, n);
		if (s->tcp != NULL)
			tcp_recved(s->tcp, n);
	}
	return n;
}

static long do_recv(struct kx_file *f, struct sock *s, void *buf, size_t len, int flags,
		    void *ua, socklen_t *ulen)
{
	int nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
	long rc;

	for (;;) {
		if (s->type == SOCK_DGRAM && s->dq_len > 0) {
			struct dgram *d = &s->dq[s->dq_head];
			u16_t n = pbuf_copy_partial(d->p, buf,
						    (u16_t)(len > 0xffff ? 0xffff : len), 0);

			addr_out(ua, ulen, htonl(d->addr), d->port);
			rc = (flags & MSG_TRUNC) ? d->p->tot_len : n;
			if (!(flags & MSG_PEEK)) {
				pbuf_free(d->p);
				s->dq_head = (s->dq_head + 1) % DGRAM_MAX;
				s->dq_len--;
			}
			return rc;
		}
		if (s->type == SOCK_STREAM) {
			if (s->rx != NULL) {
				if (ua != NULL && s->tcp != NULL)
					addr_out(ua, ulen, ip4_addr_get_u32(&s->tcp->remote_ip),
						 s->tcp->remote_port);
				return tcp_read_into(s, buf, len, flags & MSG_PEEK);
			}
			if (s->err)
				return take_err(s);
			if (s->peer_closed || s->shut_rd)
				return 0;
			if (!s->connected && !s->connecting)
				return -ENOTCONN;
		}
		if (len == 0)
			return 0;
		if (nonblock)
			return -EAGAIN;
		if ((rc = wait_for(s)) != 0)
			return rc;
	}
}

static long do_send(struct kx_file *f, struct sock *s, const void *buf, size_t len, int flags,
		    const void *ua, socklen_t ulen)
{
	int nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
	size_t done = 0;
	long rc;

	if (s->type == SOCK_DGRAM) {
		ip_addr_t ip;
		u16_t port;
		struct pbuf *p;
		err_t e;

		if (len > 65507)
			return -EMSGSIZE;
		if (ua != NULL && (rc = addr_in(ua, ulen, &ip, &port)) != 0)
			return rc;
		if (ua == NULL && !s->connected)
			return -EDESTADDRREQ;
		p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
		if (p == NULL)
			return -ENOBUFS;
		pbuf_take(p, buf, (u16_t)len);
		e = ua != NULL ? udp_sendto(s->udp, p, &ip, port) : udp_send(s->udp, p);
		pbuf_free(p);
		return e == ERR_OK ? (long)len : e == ERR_RTE ? -EHOSTUNREACH : -ENOBUFS;
	}
	if (!s->connected && !s->err)
		return -ENOTCONN;
	while (done < len) {
		u16_t room, n;

		if (s->err)
			return done ? (long)done : take_err(s);
		if (s->shut_wr || s->tcp == NULL) {
			if (!(flags & MSG_NOSIGNAL))
				kx_signal_self(SIGPIPE);
			return done ? (long)done : -EPIPE;
		}
		if (!s->connected)
			return done ? (long)done : -ENOTCONN;
		room = tcp_sndbuf(s->tcp);
		if (room > 0 && tcp_sndqueuelen(s->tcp) < TCP_SND_QUEUELEN) {
			n = (u16_t)(len - done < room ? len - done : room);
			if (tcp_write(s->tcp, (const char *)buf + done, n, TCP_WRITE_FLAG_COPY) ==
			    ERR_OK) {
				done += n;
				tcp_output(s->tcp);
				continue;
			}
		}
		tcp_output(s->tcp);
		if (nonblock)
			return done ? (long)done : -EAGAIN;
		if ((rc = wait_for(s)) != 0)
			return done ? (long)done : rc;
	}
	return (long)done;
}

static long sock_read(struct kx_file *f, void *buf, size_t len, off_t *off)
{
	(void)off;
	service();
	return do_recv(f, f->obj, buf, len, 0, NULL, NULL);
}

static long sock_write(struct kx_file *f, const void *buf, size_t len, off_t *off)
{
	(void)off;
	service();
	return do_send(f, f->obj, buf, len, 0, NULL, 0);
}

static unsigned sock_poll(struct kx_file *f)
{
	struct sock *s = f->obj;
	unsigned ev = 0;

	service();
	if (s->listening)
		return s->nacq ? POLLIN : 0;
	if (s->type == SOCK_DGRAM)
		return (s->dq_len ? POLLIN : 0) | POLLOUT;
	if (s->rx != NULL || s->peer_closed || s->shut_rd)
		ev |= POLLIN;
	if (s->peer_closed && s->rx == NULL)
		ev |= POLLRDHUP | (s->shut_wr || s->err ? POLLHUP : 0);
	if (s->err)
		ev |= POLLERR;
	if (s->connected && s->tcp != NULL && !s->shut_wr && tcp_sndbuf(s->tcp) > 0)
		ev |= POLLOUT;
	if (!s->connected && !s->connecting && !s->listening)
		ev |= POLLOUT | POLLHUP;
	return ev;
}

static long sock_stat(struct kx_file *f, struct stat *st)
{
	(void)f;
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFSOCK | 0777;
	st->st_nlink = 1;
	st->st_blksize = 4096;
	return 0;
}

static long sock_ioctl(struct kx_file *f, unsigned long req, void *arg)
{
	struct sock *s = f->obj;

	if (req != FIONREAD)
		return -ENOTTY;
	service();
	if (s->type == SOCK_DGRAM)
		*(int *)arg = s->dq_len ? s->dq[s->dq_head].p->tot_len : 0;
	else
		*(int *)arg = s->rx ? s->rx->tot_len : 0;
	return 0;
}

static void sock_free(struct sock *s)
{
	if (s->tcp != NULL) {
		tcp_arg(s->tcp, NULL);
		tcp_recv(s->tcp, NULL);
		tcp_sent(s->tcp, NULL);
		tcp_err(s->tcp, NULL);
		if (s->listening)
			tcp_accept(s->tcp, NULL);
		if (tcp_close(s->tcp) != ERR_OK)
			tcp_abort(s->tcp);
	}
	if (s->udp != NULL)
		udp_remove(s->udp);
	if (s->rx != NULL)
		pbuf_free(s->rx);
	while (s->dq_len > 0) {
		pbuf_free(s->dq[s->dq_head].p);
		s->dq_head = (s->dq_head + 1) % DGRAM_MAX;
		s->dq_len--;
	}
	for (unsigned i = 0; i < s->nacq; i++) {
		s->acq[i]->tcp != NULL ? tcp_abort(s->acq[i]->tcp) : (void)0;
		kx_kfree(s->acq[i]);
	}
	kx_kfree(s);
}

static void sock_release(struct kx_file *f)
{
	sock_free(f->obj);
	kx_unblock(&kx_io_changed, LONG_MAX);
}

static const struct kx_file_ops sock_ops = {
	.kind = "socket",
	.read = sock_read,
	.write = sock_write,
	.stat = sock_stat,
	.ioctl = sock_ioctl,
	.poll = sock_poll,
	.release = sock_release,
};

static long install(struct sock *s, int flags)
{
	struct kx_file *f = kx_file_new(&sock_ops, s, O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0));
	long fd;

	if (f == NULL) {
		sock_free(s);
		return -ENOMEM;
	}
	fd = kx_fd_install(f, 0, flags & SOCK_CLOEXEC);
	kx_file_put(f);
	return fd;
}

/* ---- the system calls -------------------------------------------------------------- */

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
	if ((rc = net_start()) != 0)
		return rc;
	s = kx_kalloc(sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->type = type;
	if (type == SOCK_STREAM) {
		s->tcp = tcp_new();
		if (s->tcp != NULL) {
			hook(s);
			tcp_nagle_disable(s->tcp);
		}
	} else {
		s->udp = udp_new();
		if (s->udp != NULL)
			udp_recv(s->udp, on_dgram, s);
	}
	if (s->tcp == NULL && s->udp == NULL) {
		kx_kfree(s);
		return -ENOBUFS;
	}
	return install(s, flags);
}

KX_SYS(bind)
{
	long rc;
	struct sock *s = sock_of(a[0], NULL, &rc);
	ip_addr_t ip;
	u16_t port;
	err_t e;

	if (s == NULL)
		return rc;
	if ((rc = addr_in((const void *)a[1], (socklen_t)a[2], &ip, &port)) != 0)
		return rc;
	if (s->type == SOCK_STREAM && s->tcp == NULL)
		return -EINVAL;
	e = s->type == SOCK_STREAM ? tcp_bind(s->tcp, &ip, port) : udp_bind(s->udp, &ip, port);
	return e == ERR_OK ? 0 : e == ERR_USE ? -EADDRINUSE : -EINVAL;
}

KX_SYS(listen)
{
	long rc;
	struct sock *s = sock_of(a[0], NULL, &rc);
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
	tcp_accept(l, on_accept);
	return 0;
}

static long do_accept(const long *a, int flags)
{
	struct kx_file *f;
	long rc;
	struct sock *s = sock_of(a[0], &f, &rc), *c;

	if (s == NULL)
		return rc;
	if (!s->listening)
		return -EINVAL;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	while (s->nacq == 0) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if ((rc = wait_for(s)) != 0)
			return rc;
	}
	c = s->acq[0];
	memmove(s->acq, s->acq + 1, (--s->nacq) * sizeof(s->acq[0]));
	if (c->tcp != NULL)
		addr_out((void *)a[1], (socklen_t *)a[2], ip4_addr_get_u32(&c->tcp->remote_ip),
			 c->tcp->remote_port);
	return install(c, flags);
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
	struct sock *s = sock_of(a[0], &f, &rc);
	ip_addr_t ip;
	u16_t port;

	if (s == NULL)
		return rc;
	if ((rc = addr_in((const void *)a[1], (socklen_t)a[2], &ip, &port)) != 0)
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
		return s->err ? take_err(s) : -EINVAL;
	if (!s->connecting) {
		if (tcp_connect(s->tcp, &ip, port, on_connected) != ERR_OK)
			return -ENOBUFS;
		s->connecting = 1;
		if (f->flags & O_NONBLOCK)
			return -EINPROGRESS;
	} else if (f->flags & O_NONBLOCK) {
		return -EALREADY;
	}
	while (s->connecting)
		if ((rc = wait_for(s)) != 0)
			return rc;
	return s->connected ? 0 : take_err(s);
}

KX_SYS(sendto)
{
	struct kx_file *f;
	long rc;
	struct sock *s = sock_of(a[0], &f, &rc);

	if (s == NULL)
		return rc;
	return do_send(f, s, (const void *)a[1], (size_t)a[2], (int)a[3], (const void *)a[4],
		       (socklen_t)a[5]);
}

KX_SYS(recvfrom)
{
	struct kx_file *f;
	long rc;
	struct sock *s = sock_of(a[0], &f, &rc);

	if (s == NULL)
		return rc;
	return do_recv(f, s, (void *)a[1], (size_t)a[2], (int)a[3], (void *)a[4],
		       (socklen_t *)a[5]);
}

KX_SYS(sendmsg)
{
	struct kx_file *f;
	long rc, total = 0;
	struct sock *s = sock_of(a[0], &f, &rc);
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
		rc = do_send(f, s, m->msg_iov[i].iov_base, n, (int)a[2], NULL, 0);
		if (rc < 0)
			return total ? total : rc;
		total += rc;
		if ((size_t)rc < n)
			return total;
	}
	if (s->type == SOCK_DGRAM)
		return do_send(f, s, gather, len, (int)a[2], m->msg_name, m->msg_namelen);
	return total;
}

KX_SYS(recvmsg)
{
	struct kx_file *f;
	long rc;
	struct sock *s = sock_of(a[0], &f, &rc);
	struct msghdr *m = (struct msghdr *)a[1];
	static char scatter[65536];
	size_t cap = 0, at = 0;

	if (s == NULL)
		return rc;
	for (size_t i = 0; i < (size_t)m->msg_iovlen && i < 1024; i++)
		cap += m->msg_iov[i].iov_len;
	if (cap > sizeof(scatter))
		cap = sizeof(scatter);
	rc = do_recv(f, s, scatter, cap, (int)a[2], m->msg_name, &m->msg_namelen);
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
	struct sock *s = sock_of(a[0], NULL, &rc);
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
	wake(s);
	return 0;
}

static long name_of(const long *a, int peer)
{
	long rc;
	struct sock *s = sock_of(a[0], NULL, &rc);
	uint32_t addr = 0;
	u16_t port = 0;

	if (s == NULL)
		return rc;
	if (s->tcp != NULL) {
		addr = ip4_addr_get_u32(peer ? &s->tcp->remote_ip : &s->tcp->local_ip);
		port = peer ? s->tcp->remote_port : s->tcp->local_port;
		if (!peer && addr == 0 && net != NULL && (s->connected || s->connecting))
			addr = htonl(net->dev.info.addr);
	} else if (s->udp != NULL) {
		addr = ip4_addr_get_u32(peer ? &s->udp->remote_ip : &s->udp->local_ip);
		port = peer ? s->udp->remote_port : s->udp->local_port;
	}
	if (peer && !s->connected)
		return -ENOTCONN;
	addr_out((void *)a[1], (socklen_t *)a[2], addr, port);
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
	struct sock *s = sock_of(a[0], NULL, &rc);
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
	struct sock *s = sock_of(a[0], NULL, &rc);
	int level = (int)a[1], opt = (int)a[2], val;
	socklen_t *ulen = (socklen_t *)a[4];

	if (s == NULL)
		return rc;
	if (level == SOL_SOCKET && opt == SO_ERROR)
		val = (int)-take_err(s);
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

/* ---- the scheduler's idle time (thread.c) ------------------------------------- */

int kx_net_active(void)
{
	return net != NULL;
}

void kx_net_idle(uint64_t deadline_ns)
{
	if (kx_net_poll(net, deadline_ns) == 0 && !net->has_dev)
		__builtin_ia32_pause(); /* loopback only: nothing to halt for */
}
