/*
 * net.c — the module "net": the packet device (docs/network.md).
 *
 * kxd decides an interface at boot (gate_net, audited) and pushes
 * NET_ATTACH with two fds: the TAP it created and a sealed memfd holding
 * the interface's rules (struct kxp_net_rules).  This module then
 *
 *  - gives the guest the area setup reserved at the top of its heap range
 *    (guest/kx_hcall_abi.h, "The packet device"): its own page and the tx
 *    ring read-write, the monitor's page and the rx ring read-only;
 *  - runs one thread that bridges the rings to the TAP: every frame through
 *    net_filter (the rules), counted when dropped; the first drop of each
 *    kind is reported to kxd (NET_REPORT), which audits it; the counters
 *    follow at most once a second, for `kxctl list`;
 *  - serves KX_HC_NET_INFO, KX_HC_NET_KICK (the thread sleeps: wake it) and
 *    KX_HC_NET_WAIT (halt the vCPU until a frame or a deadline).
 *
 * Notification suppression: the thread polls tx while frames come, and
 * only before it sleeps sets mon.tx_kick, so a busy guest sends with no
 * exit; received frames need no exit either (the guest looks at rx_prod).
 *
 * The guest is hostile: net_ring.c reads its indices once and checks them.
 * An impossible index breaks the device: the thread stops, and the pVM ends
 * at its next safe point with the reason.  A flood of tx frames is taken in
 * batches of a ring at most, between which the TAP is served, and never
 * blocks the vCPU thread or kxd.  The thread holds no lock the vCPU thread
 * takes: counters are atomics, the first-drop lines are written once
 * before their bit is published.
 *
 * When the pVM ends, the connections its stack left open are reset from
 * here (net_filter_next_abort), so its peers do not wait for a timeout.
 *
 * A forked child gets no interface (its copy of the area is taken away);
 * Redis's BGSAVE child needs none.  One interface per pVM today.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/kxfd.h"
#include "manager/hv/internal.h"
#include "manager/hv/net.h"

#define NET_SPIN_NS	 50000ull     /* the thread polls this long before it sleeps */
#define NET_REPORT_NS	 1000000000ull /* counters to kxd at most this often */
#define NET_DECIDE_TRIES 100 /* x 100 ms: kxd's first message is long overdue */
#define NET_SEALS	 (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

_Static_assert(NET_DROP_KINDS <= KXMON_NET_KINDS, "the channel carries every drop kind");

struct hv_net {
	uint64_t area; /* guest address; 0: no room was left */
	bool set_up;   /* the image is loaded: area decided */
	bool decided;  /* kxd said whether there is an interface */
	bool attached;
	/* kxd's NET_ATTACH taken while the image was still being linked (its
	 * libraries asked for): applied once the area exists. */
	bool has_pending;
	struct kxmon_msg pending;
	int pending_fds[2];
	int tap, wake; /* the TAP; an eventfd: kicks and stop */
	pthread_t thread;
	bool thread_running;
	int (*jail_thread)(enum hv_thread thread); /* the pVM's, for the thread */
	struct net_rings rings;
	struct net_filter filter;
	char iface[KXP_NET_IFNAME_MAX];
	/* Shared with the thread. */
	volatile int stop;
	uint32_t rx_seq;   /* bumped after frames are published: the futex */
	uint32_t waiting;  /* the vCPU sleeps on rx_seq */
	uint32_t broken;   /* 1: the thread stopped, why says so */
	const char *why;
	uint64_t tx_frames, rx_frames, drops[NET_DROP_KINDS];
	uint32_t first_pending; /* bit k: kind k's first drop to report */
	uint32_t first_sent;
	struct net_verdict first[NET_DROP_KINDS]; /* written once, before its bit */
	/* The vCPU thread's. */
	uint64_t reported_at;
	uint64_t reported_sum;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the thread ----------------------------------------------------------------- */

static void count_drop(struct hv_net *n, const struct net_verdict *v)
{
	uint32_t bit = 1u << v->drop;

	__atomic_add_fetch(&n->drops[v->drop], 1, __ATOMIC_RELAXED);
	if ((__atomic_load_n(&n->first_pending, __ATOMIC_ACQUIRE) & bit) == 0) {
		n->first[v->drop] = *v;
		__atomic_or_fetch(&n->first_pending, bit, __ATOMIC_RELEASE);
	}
}

static void drop_kind(struct hv_net *n, int kind, const char *what)
{
	struct net_verdict v;

	memset(&v, 0, sizeof(v));
	v.drop = kind;
	snprintf(v.what, sizeof(v.what), "%s", what);
	count_drop(n, &v);
}

static void set_broken(struct hv_net *n, const char *why)
{
	n->why = why;
	__atomic_store_n(&n->broken, 1, __ATOMIC_RELEASE);
	n->stop = 1;
}

/* Up to a ring of tx frames to the TAP: how many were taken, or -1 broken. */
static int pump_tx(struct hv_net *n)
{
	uint8_t buf[KX_NET_FRAME_MAX];
	struct net_verdict v;
	const char *why = NULL;
	int done = 0;

	while (done < (int)KX_NET_SLOTS) {
		size_t len;
		int rc = net_tx_take(&n->rings, buf, &len, NULL, &why);

		if (rc == 0)
			break;
		done++;
		if (rc == -EPROTO) {
			set_broken(n, why);
			return -1;
		}
		if (rc == -EMSGSIZE) {
			drop_kind(n, NET_DROP_MALFORMED, "out: a tx slot length outside a frame's");
			continue;
		}
		net_filter_out(&n->filter, buf, len, &v);
		if (v.drop != NET_PASS) {
			count_drop(n, &v);
			continue;
		}
		if (write(n->tap, buf, len) != (ssize_t)len) {
			drop_kind(n, NET_DROP_TAP_BUSY, "out: the TAP did not take the frame");
			continue;
		}
		__atomic_add_fetch(&n->tx_frames, 1, __ATOMIC_RELAXED);
	}
	if (done > 0)
		net_tx_publish(&n->rings);
	return done;
}

/* Up to a ring of frames from the TAP: how many were read, or -1 broken. */
static int pump_rx(struct hv_net *n)
{
	uint8_t buf[65536];
	struct net_verdict v;
	const char *why = NULL;
	int done = 0, published = 0;

	while (done < (int)KX_NET_SLOTS) {
		ssize_t len = read(n->tap, buf, sizeof(buf));
		int rc;

		if (len < 0)
			break;
		done++;
		if (len < (ssize_t)KX_NET_FRAME_MIN || len > (ssize_t)KX_NET_FRAME_MAX) {
			drop_kind(n, NET_DROP_MALFORMED, "in: a frame larger than the MTU");
			continue;
		}
		net_filter_in(&n->filter, buf, (size_t)len, &v);
		if (v.drop != NET_PASS) {
			count_drop(n, &v);
			if (v.rst_len > 0 && write(n->tap, v.rst, v.rst_len) < 0)
				drop_kind(n, NET_DROP_TAP_BUSY, "out: the TAP did not take a reset");
			continue;
		}
		rc = net_rx_put(&n->rings, buf, (size_t)len, &why);
		if (rc < 0) {
			set_broken(n, why);
			return -1;
		}
		if (rc == 0) {
			drop_kind(n, NET_DROP_RING_FULL, "in: the pVM's rx ring was full");
			continue;
		}
		published++;
		__atomic_add_fetch(&n->rx_frames, 1, __ATOMIC_RELAXED);
	}
	if (published > 0) {
		__atomic_add_fetch(&n->rx_seq, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&n->waiting, __ATOMIC_SEQ_CST))
			syscall(SYS_futex, &n->rx_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
	return done;
}

static bool tx_pending(struct hv_net *n)
{
	return __atomic_load_n(&n->rings.guest->tx_prod, __ATOMIC_ACQUIRE) != n->rings.tx_cons;
}

static void *net_thread(void *arg)
{
	struct hv_net *n = arg;
	uint64_t idle_since = 0;

	/* Its own, narrower filter before it reads a byte of the guest's. */
	if (n->jail_thread != NULL && n->jail_thread(HV_THREAD_NET) < 0) {
		set_broken(n, "the network thread could not enter its jail");
		return NULL;
	}
	while (!n->stop) {
		int t = pump_tx(n), r = t < 0 ? -1 : pump_rx(n);
		struct pollfd pfd[2] = {{.fd = n->tap, .events = POLLIN},
					{.fd = n->wake, .events = POLLIN}};
		uint64_t ev;

		if (t < 0 || r < 0)
			break;
		if (t > 0 || r > 0) {
			idle_since = 0;
			continue;
		}
		if (idle_since == 0)
			idle_since = now_ns();
		if (now_ns() - idle_since < NET_SPIN_NS) {
			sched_yield();
			continue;
		}
		/* Sleep: say so first, then look once more (the guest publishes,
		 * fences, then reads tx_kick). */
		__atomic_store_n(&n->rings.mon->tx_kick, 1, __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!tx_pending(n) && !n->stop)
			poll(pfd, 2, -1);
		__atomic_store_n(&n->rings.mon->tx_kick, 0, __ATOMIC_RELAXED);
		if (read(n->wake, &ev, sizeof(ev)) < 0) {
			/* nothing to clear */
		}
		idle_since = 0;
	}
	return NULL;
}

static void stop_thread(struct hv_net *n)
{
	uint64_t one = 1;

	if (!n->thread_running)
		return;
	n->stop = 1;
	if (write(n->wake, &one, sizeof(one)) < 0) {
		/* the counter is full: the thread is awake anyway */
	}
	pthread_join(n->thread, NULL);
	n->thread_running = false;
}

/* ---- attaching ------------------------------------------------------------------ */

static struct hv_net *net_state(struct hv_pvm *p)
{
	if (p->net == NULL) {
		p->net = calloc(1, sizeof(*p->net));
		if (p->net != NULL)
			p->net->tap = p->net->wake = -1;
	}
	return p->net;
}

static int attach(struct hv_pvm *p, const struct kxmon_msg *m, const int *fds, int nfds);

/* The network question is settled (an interface and its thread, or none):
 * the vCPU thread will start no more threads and narrows its jail. */
static void vcpu_settled(struct hv_pvm *p)
{
	if (p->jail_thread != NULL && p->jail_thread(HV_THREAD_VCPU) < 0)
		hv_stop_channel(p, "the vCPU thread could not narrow its jail");
}

static int net_setup(struct hv_pvm *p, uint64_t heap_start, uint64_t *heap_end,
		     struct kx_error *err)
{
	struct hv_net *n;
	uint64_t area;
	int rc;

	if (p->mgr == NULL) {
		vcpu_settled(p); /* no kxd, no interface */
		return 0;
	}
	n = net_state(p);
	if (n == NULL)
		return kx_err(err, -ENOMEM, "out of memory");
	n->set_up = true;
	if (*heap_end - heap_start >= 4ull * KX_NET_AREA_SIZE) {
		area = (*heap_end - KX_NET_AREA_SIZE) & ~(uint64_t)(KX_PAGE_SIZE - 1);
		/* Backed, but no rights until kxd attaches the interface. */
		rc = hv_protect(p, area, KX_NET_AREA_SIZE, 0, err);
		if (rc != 0)
			return rc;
		n->area = area;
		*heap_end = area - KX_PAGE_SIZE;
	} /* else no room: NET_INFO says -KX_ENOSPC */
	if (n->has_pending) {
		n->has_pending = false;
		rc = attach(p, &n->pending, n->pending_fds, 2);
		vcpu_settled(p);
		if (rc != 0)
			return kx_err(err, -EPROTO, "net: kxd's NET_ATTACH could not be applied");
	}
	return 0;
}

static int read_rules(int fd, struct kxp_net_rules *rules)
{
	struct stat st;

	if (!kx_fd_sealed(fd, NET_SEALS) || fstat(fd, &st) != 0 ||
	    st.st_size != (off_t)sizeof(*rules) ||
	    pread(fd, rules, sizeof(*rules), 0) != (ssize_t)sizeof(*rules) ||
	    !kxp_net_rules_ok(rules))
		return -EPROTO;
	return 0;
}

/* Rights on the area: the guest's page and tx read-write, the rest read. */
static int grant_area(struct hv_pvm *p, struct kx_error *err)
{
	uint64_t a = p->net->area, ring = KX_NET_SLOTS * KX_NET_SLOT_SIZE;
	int rc = hv_protect(p, a, KX_PAGE_SIZE, HV_PROT_READ | HV_PROT_WRITE, err);

	if (rc == 0)
		rc = hv_protect(p, a + KX_PAGE_SIZE, KX_PAGE_SIZE, HV_PROT_READ, err);
	if (rc == 0)
		rc = hv_protect(p, a + KX_NET_RING_OFF, ring, HV_PROT_READ | HV_PROT_WRITE, err);
	if (rc == 0)
		rc = hv_protect(p, a + KX_NET_RING_OFF + ring, ring, HV_PROT_READ, err);
	if (rc == 0 && p->ran)
		rc = hv_flush(p, err) < 0 ? -EIO : 0;
	return rc;
}

static int net_push(struct hv_pvm *p, const struct kxmon_msg *m, const int *fds, int nfds)
{
	struct hv_net *n = net_state(p);
	int rc;

	if (n != NULL && nfds == 0 && !n->decided && m->u.net_attach.iface[0] == '\0') {
		n->decided = true; /* no interface */
		vcpu_settled(p);
		return 0;
	}
	if (n != NULL && n->decided && !n->attached && nfds == 2) {
		/* One answer per pVM (kxd's first message): after "none" the
		 * vCPU thread's jail no longer lets it start a thread. */
		close(fds[0]);
		close(fds[1]);
		return -EPROTO;
	}
	if (n != NULL)
		n->decided = true;
	if (n != NULL && !n->set_up && !n->has_pending && nfds == 2) {
		n->pending = *m; /* the image is still being linked */
		n->pending_fds[0] = fds[0];
		n->pending_fds[1] = fds[1];
		n->has_pending = true;
		return 0;
	}
	rc = attach(p, m, fds, nfds);
	if (n != NULL)
		vcpu_settled(p);
	return rc;
}

static int attach(struct hv_pvm *p, const struct kxmon_msg *m, const int *fds, int nfds)
{
	struct hv_net *n = p->net;
	struct kxp_net_rules rules;
	struct kx_error err;
	sigset_t all, before;
	volatile void *host;
	int rc = -EPROTO;

	if (nfds != 2 || n == NULL || n->attached || n->area == 0 ||
	    read_rules(fds[1], &rules) != 0 ||
	    strncmp(rules.iface, m->u.net_attach.iface, sizeof(rules.iface)) != 0)
		goto fail;
	host = hv_guest_ptr(&p->mem, n->area, KX_NET_AREA_SIZE, HV_ACCESS_MONITOR);
	n->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (host == NULL || n->wake < 0 || fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0 ||
	    grant_area(p, &err) != 0)
		goto fail;
	close(fds[1]);
	n->tap = fds[0];
	memcpy(n->iface, rules.iface, sizeof(n->iface));
	net_rings_init(&n->rings, host);
	net_filter_init(&n->filter, &rules, m->u.net_attach.mac);
	n->jail_thread = p->jail_thread;
	/* The thread takes no signal: kicks and the timeout are the vCPU's. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &before);
	rc = pthread_create(&n->thread, NULL, net_thread, n);
	pthread_sigmask(SIG_SETMASK, &before, NULL);
	if (rc != 0) {
		n->tap = -1;
		rc = -EPROTO;
		goto fail;
	}
	n->thread_running = true;
	n->attached = true;
	return 0;
fail:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (n != NULL && n->wake >= 0 && !n->attached) {
		close(n->wake);
		n->wake = -1;
	}
	return rc;
}

/* ---- reports -------------------------------------------------------------------- */

static void report(struct hv_pvm *p, int first)
{
	struct hv_net *n = p->net;
	struct kxmon_msg m;

	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_NET_REPORT;
	m.u.net_report.first = first < 0 ? 0 : (uint32_t)first + 1;
	m.u.net_report.tx_frames = __atomic_load_n(&n->tx_frames, __ATOMIC_RELAXED);
	m.u.net_report.rx_frames = __atomic_load_n(&n->rx_frames, __ATOMIC_RELAXED);
	for (unsigned k = 0; k < NET_DROP_KINDS; k++)
		m.u.net_report.drops[k] = __atomic_load_n(&n->drops[k], __ATOMIC_RELAXED);
	snprintf(m.u.net_report.iface, sizeof(m.u.net_report.iface), "%s", n->iface);
	if (first >= 0) {
		const struct net_verdict *v = &n->first[first];

		snprintf(m.u.net_report.what, sizeof(m.u.net_report.what), "%s", v->what);
		m.u.net_report.query = v->query;
		m.u.net_report.proto = v->proto;
		m.u.net_report.port = v->port;
		m.u.net_report.addr = v->addr;
	}
	hv_mgr_send(p, &m);
}

static void net_safe_point(struct hv_pvm *p)
{
	struct hv_net *n = p->net;
	uint32_t pending;
	uint64_t sum, t;

	if (n == NULL || !n->attached)
		return;
	if (__atomic_load_n(&n->broken, __ATOMIC_ACQUIRE)) {
		hv_stop_channel(p, "net: the guest broke its rings: %s", n->why);
		return;
	}
	pending = __atomic_load_n(&n->first_pending, __ATOMIC_ACQUIRE) & ~n->first_sent;
	for (unsigned k = 0; k < NET_DROP_KINDS; k++)
		if (pending & (1u << k)) {
			n->first_sent |= 1u << k;
			report(p, (int)k);
		}
	sum = __atomic_load_n(&n->tx_frames, __ATOMIC_RELAXED) +
	      __atomic_load_n(&n->rx_frames, __ATOMIC_RELAXED);
	for (unsigned k = 0; k < NET_DROP_KINDS; k++)
		sum += __atomic_load_n(&n->drops[k], __ATOMIC_RELAXED);
	t = now_ns();
	if (sum != n->reported_sum && t - n->reported_at >= NET_REPORT_NS) {
		n->reported_sum = sum;
		n->reported_at = t;
		report(p, -1);
	}
}

/* ---- hypercalls ----------------------------------------------------------------- */

/* The interface, once kxd's NET_ATTACH was taken: 0 or -errno for the guest. */
static int attached(struct hv_pvm *p, uint32_t index)
{
	struct kxmon_msg m;
	int fds[KXMON_MAX_FDS], nfds;

	if (p->mgr == NULL)
		return -EPERM;
	if (p->net == NULL || index != 0)
		return -ENODEV;
	/* kxd's answer is the first message it sent: wait for it if need be
	 * (it says "none" when there is no interface). */
	for (int i = 0; i < NET_DECIDE_TRIES && !p->net->decided && !hv_interrupted(p); i++)
		if (hv_mgr_next(p, 0, 100, &m, fds, &nfds) < 0)
			return -EPIPE;
	if (!p->net->attached)
		return p->net->area == 0 ? -ENOSPC : -ENODEV;
	return 0;
}

static void hc_net_info(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kx_hc_net_info *in = &b->net_info;
	const struct kxp_net_rules *r;
	int rc = attached(p, in->index);

	(void)res;
	if (rc != 0) {
		in->hdr.ret = hv_guest_errno(rc);
		return;
	}
	r = &p->net->filter.rules;
	in->mtu = KX_NET_MTU;
	in->area = p->net->area;
	memcpy(in->mac, p->net->filter.mac, 6);
	in->prefix = r->prefix;
	in->reserved = 0;
	in->addr = r->addr;
	in->gateway = r->gateway;
	in->hdr.ret = 0;
}

static void hc_net_kick(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	int rc = attached(p, b->net_kick.index);
	uint64_t one = 1;

	(void)res;
	if (rc == 0 && write(p->net->wake, &one, sizeof(one)) < 0) {
		/* the counter is full: the thread wakes anyway */
	}
	b->hdr.ret = rc == 0 ? 0 : hv_guest_errno(rc);
}

static void hc_net_wait(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kx_hc_net_wait *w = &b->net_wait;
	struct hv_net *n = p->net;
	uint64_t start = now_ns(), cap = start + KX_NET_WAIT_MAX_NS;
	int rc = attached(p, w->index);

	(void)res;
	if (rc != 0) {
		w->hdr.ret = hv_guest_errno(rc);
		return;
	}
	if (hv_handler_entered(p)) {
		w->hdr.ret = -KX_EINTR;
		return;
	}
	for (;;) {
		uint32_t seq = __atomic_load_n(&n->rx_seq, __ATOMIC_ACQUIRE);
		uint64_t t = now_ns(), until = w->deadline_ns < cap ? w->deadline_ns : cap;
		struct timespec ts;

		if (__atomic_load_n(&n->rings.mon->rx_prod, __ATOMIC_ACQUIRE) != w->seen ||
		    __atomic_load_n(&n->broken, __ATOMIC_ACQUIRE)) {
			w->hdr.ret = 0;
			return;
		}
		if (hv_interrupted(p)) {
			w->hdr.ret = -KX_EINTR;
			return;
		}
		if (t >= w->deadline_ns) {
			w->hdr.ret = -KX_ETIMEDOUT;
			return;
		}
		if (t >= until) {
			w->hdr.ret = 0; /* the cap: look again, call again */
			return;
		}
		ts.tv_sec = (time_t)((until - t) / 1000000000ull);
		ts.tv_nsec = (long)((until - t) % 1000000000ull);
		__atomic_store_n(&n->waiting, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&n->rings.mon->rx_prod, __ATOMIC_ACQUIRE) == w->seen)
			syscall(SYS_futex, &n->rx_seq, FUTEX_WAIT_PRIVATE, seq, &ts, NULL, 0);
		__atomic_store_n(&n->waiting, 0, __ATOMIC_RELAXED);
	}
}

/* ---- the pVM's life ------------------------------------------------------------- */

static void release(struct hv_net *n)
{
	stop_thread(n);
	if (n->has_pending) {
		close(n->pending_fds[0]);
		close(n->pending_fds[1]);
		n->has_pending = false;
	}
	if (n->tap >= 0)
		close(n->tap);
	if (n->wake >= 0)
		close(n->wake);
	n->tap = n->wake = -1;
	n->attached = false;
}

/* The child of a fork has no interface: the area is taken from its guest
 * (its copy; the parent's stays), the TAP closed in this process only. */
static void net_fork_child(struct hv_pvm *p)
{
	struct kx_error err;
	struct hv_net *n = p->net;

	if (n == NULL)
		return;
	n->thread_running = false; /* it stayed in the parent */
	n->decided = true;	   /* no interface in a child */
	vcpu_settled(p);
	if (n->tap >= 0)
		close(n->tap);
	if (n->wake >= 0)
		close(n->wake);
	n->tap = n->wake = -1;
	if (n->attached && hv_protect(p, n->area, KX_NET_AREA_SIZE, 0, &err) == 0)
		hv_flush(p, &err);
	n->attached = false;
	n->area = 0;
}

/* The pVM's TCP stack ended with it: reset each connection it left open,
 * so that its peers learn it at once instead of after their own timeouts
 * (a client of a pVM that crashed would otherwise hang).  The thread has
 * stopped: the filter is the caller's alone. */
static void reset_open_connections(struct hv_net *n)
{
	uint8_t frame[NET_RST_LEN];
	size_t cursor = 0, len;

	while ((len = net_filter_next_abort(&n->filter, &cursor, frame)) > 0) {
		if (write(n->tap, frame, len) != (ssize_t)len)
			break; /* the TAP is closed next anyway: the peers time out */
		__atomic_add_fetch(&n->tx_frames, 1, __ATOMIC_RELAXED);
	}
}

static void net_finish(struct hv_pvm *p)
{
	if (p->net != NULL && p->net->attached) {
		stop_thread(p->net);
		reset_open_connections(p->net);
		report(p, -1);
	}
}

static void net_destroy(struct hv_pvm *p)
{
	if (p->net == NULL)
		return;
	release(p->net);
	free(p->net);
	p->net = NULL;
}

int hv_net_stats(const struct hv_pvm *p, struct hv_net_stats *out)
{
	const struct hv_net *n = p->net;

	memset(out, 0, sizeof(*out));
	if (n == NULL || !n->attached)
		return -ENODEV;
	out->tx_frames = __atomic_load_n(&n->tx_frames, __ATOMIC_RELAXED);
	out->rx_frames = __atomic_load_n(&n->rx_frames, __ATOMIC_RELAXED);
	for (unsigned k = 0; k < NET_DROP_KINDS && k < HV_NET_KINDS; k++)
		out->drops[k] = __atomic_load_n(&n->drops[k], __ATOMIC_RELAXED);
	out->broken = __atomic_load_n(&n->broken, __ATOMIC_ACQUIRE) != 0;
	return 0;
}

static const struct hv_hcall_desc net_hcalls[] = {
	{KX_HC_NET_INFO, sizeof(struct kx_hc_net_info), hc_net_info},
	{KX_HC_NET_KICK, sizeof(struct kx_hc_net_kick), hc_net_kick},
	{KX_HC_NET_WAIT, sizeof(struct kx_hc_net_wait), hc_net_wait},
};

static const uint32_t net_push_types[] = {KXMON_MSG_NET_ATTACH};

const struct hv_module hv_mod_net = {
	.name = "net",
	.hcalls = net_hcalls,
	.nhcalls = sizeof(net_hcalls) / sizeof(net_hcalls[0]),
	.push_types = net_push_types,
	.npush_types = 1,
	.push = net_push,
	.setup = net_setup,
	.safe_point = net_safe_point,
	.fork_child = net_fork_child,
	.finish = net_finish,
	.destroy = net_destroy,
};
