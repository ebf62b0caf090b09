/*
 * socket.c — BSD sockets as one more fd kind (docs/network.md, "Sockets"):
 * the object behind a socket fd; the system calls are sockcall.c.  IPv4
 * TCP and UDP over lwIP (guest/net/kxnet.h), which runs in the calling
 * thread (NO_SYS): every socket call first lets lwIP take the frames that
 * arrived; lwIP's callbacks fill each socket's queues and wake its waiters and kx_io_changed (poll, select); a thread that must wait
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

#include "guest/posix/socket.h"

static struct kx_net *net;

struct kx_net *kx_sock_net(void)
{
	return net;
}

long kx_sock_start(void)
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

void kx_sock_forked(void)
{
	if (net != NULL)
		kx_net_forked(net);
}

/* Let lwIP take what arrived (no wait). */
void kx_sock_service(void)
{
	if (net != NULL)
		kx_net_poll(net, 0);
}

void kx_sock_wake(struct sock *s)
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
	kx_sock_wake(s);
	return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	kx_sock_wake(arg);
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
	kx_sock_wake(s);
}

void kx_sock_hook(struct sock *s)
{
	tcp_arg(s->tcp, s);
	tcp_recv(s->tcp, on_recv);
	tcp_sent(s->tcp, on_sent);
	tcp_err(s->tcp, on_err);
}

err_t kx_sock_on_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
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
	kx_sock_hook(s);
	tcp_nagle_disable(newpcb);
	l->acq[l->nacq++] = s;
	kx_sock_wake(l);
	return ERR_OK;
}

err_t kx_sock_on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sock *s = arg;

	(void)pcb;
	s->connecting = 0;
	if (err == ERR_OK)
		s->connected = 1;
	else
		s->err = ECONNREFUSED;
	kx_sock_wake(s);
	return ERR_OK;
}

void kx_sock_on_dgram(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
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
	kx_sock_wake(s);
}

/* ---- helpers ------------------------------------------------------------------- */

static const struct kx_file_ops sock_ops;

struct sock *kx_sock_of(long fd, struct kx_file **fp, long *rc)
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
	kx_sock_service();
	return f->obj;
}

long kx_sock_take_err(struct sock *s)
{
	int e = s->err;

	s->err = 0;
	return -e;
}

/* Block until woken, the deadline, or a signal: 0, -EINTR. */
long kx_sock_wait(struct sock *s)
{
	long rc = kx_block(s, KX_NO_DEADLINE);

	kx_sock_service();
	return rc == -ETIMEDOUT ? 0 : rc;
}

long kx_sock_addr_in(const void *ua, socklen_t len, ip_addr_t *ip, u16_t *port)
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

void kx_sock_addr_out(void *ua, socklen_t *ulen, uint32_t addr_net, u16_t port)
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

long kx_sock_recv(struct kx_file *f, struct sock *s, void *buf, size_t len, int flags,
		    void *ua, socklen_t *ulen)
{
	int nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
	long rc;

	for (;;) {
		if (s->type == SOCK_DGRAM && s->dq_len > 0) {
			struct dgram *d = &s->dq[s->dq_head];
			u16_t n = pbuf_copy_partial(d->p, buf,
						    (u16_t)(len > 0xffff ? 0xffff : len), 0);

			kx_sock_addr_out(ua, ulen, htonl(d->addr), d->port);
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
					kx_sock_addr_out(ua, ulen, ip4_addr_get_u32(&s->tcp->remote_ip),
						 s->tcp->remote_port);
				return tcp_read_into(s, buf, len, flags & MSG_PEEK);
			}
			if (s->err)
				return kx_sock_take_err(s);
			if (s->peer_closed || s->shut_rd)
				return 0;
			if (!s->connected && !s->connecting)
				return -ENOTCONN;
		}
		if (len == 0)
			return 0;
		if (nonblock)
			return -EAGAIN;
		if ((rc = kx_sock_wait(s)) != 0)
			return rc;
	}
}

long kx_sock_send(struct kx_file *f, struct sock *s, const void *buf, size_t len, int flags,
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
		if (ua != NULL && (rc = kx_sock_addr_in(ua, ulen, &ip, &port)) != 0)
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
			return done ? (long)done : kx_sock_take_err(s);
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
		if ((rc = kx_sock_wait(s)) != 0)
			return done ? (long)done : rc;
	}
	return (long)done;
}

static long sock_read(struct kx_file *f, void *buf, size_t len, off_t *off)
{
	(void)off;
	kx_sock_service();
	return kx_sock_recv(f, f->obj, buf, len, 0, NULL, NULL);
}

static long sock_write(struct kx_file *f, const void *buf, size_t len, off_t *off)
{
	(void)off;
	kx_sock_service();
	return kx_sock_send(f, f->obj, buf, len, 0, NULL, 0);
}

static unsigned sock_poll(struct kx_file *f)
{
	struct sock *s = f->obj;
	unsigned ev = 0;

	kx_sock_service();
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
	kx_sock_service();
	if (s->type == SOCK_DGRAM)
		*(int *)arg = s->dq_len ? s->dq[s->dq_head].p->tot_len : 0;
	else
		*(int *)arg = s->rx ? s->rx->tot_len : 0;
	return 0;
}

void kx_sock_free(struct sock *s)
{
	if (s->tcp != NULL) {
		tcp_arg(s->tcp, NULL);
		/* A listening pcb is lwIP's smaller tcp_pcb_listen: it has no
		 * recv, sent or err callbacks to clear (lwIP asserts it). */
		if (s->listening) {
			tcp_accept(s->tcp, NULL);
		} else {
			tcp_recv(s->tcp, NULL);
			tcp_sent(s->tcp, NULL);
			tcp_err(s->tcp, NULL);
		}
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
	kx_sock_free(f->obj);
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

long kx_sock_install(struct sock *s, int flags)
{
	struct kx_file *f = kx_file_new(&sock_ops, s, O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0));
	long fd;

	if (f == NULL) {
		kx_sock_free(s);
		return -ENOMEM;
	}
	fd = kx_fd_install(f, 0, flags & SOCK_CLOEXEC);
	kx_file_put(f);
	return fd;
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
