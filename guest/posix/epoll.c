/*
 * epoll.c — epoll_create/epoll_create1/epoll_ctl/epoll_wait/epoll_pwait
 * over every kind of fd that can be polled (kx_file_ops.poll: pipes, the
 * console and devices, another epoll fd; sockets when they come).  No
 * monitor part: an epoll instance is an fd kind of its own whose interest
 * list is scanned on each wait; a wait with nothing ready blocks on
 * kx_io_changed, as poll does.
 *
 * Linux semantics kept: an item is (fd, open description); closing every fd
 * of the description takes it out of the list (it is dropped when its fd
 * no longer names the description it was added with); EPOLLERR and
 * EPOLLHUP are reported whatever was asked; EPOLLONESHOT disables an item
 * after one report until EPOLL_CTL_MOD; regular files and directories
 * cannot be added (EPERM); an epoll fd is itself readable when one of its
 * items is ready, so it nests in poll, select and another epoll.
 * EPOLLET reports readiness that was not there at the item's previous
 * report (a level seen twice in a row is not reported again), which is
 * Linux's edge for data that arrives between waits; EPOLLEXCLUSIVE and
 * EPOLLWAKEUP are accepted and mean nothing in a one-process pVM.  Ready
 * items are reported round-robin when more are ready than maxevents.
 */
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>

#include "guest/posix/posix.h"

#define EP_ITEMS_MAX KX_FD_MAX
#define EP_EVENTS                                                                             \
	(EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDNORM | EPOLLRDBAND |     \
	 EPOLLWRNORM | EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP | EPOLLEXCLUSIVE | EPOLLWAKEUP |    \
	 EPOLLONESHOT | EPOLLET)

struct ep_item {
	int fd;
	const struct kx_file *f; /* compared, never used: the fd says whether it lives */
	uint32_t events;
	uint32_t last; /* EPOLLET: the readiness at the last report */
	uint64_t data;
	int disabled; /* EPOLLONESHOT, reported */
};

struct ep {
	unsigned n, cap, next; /* next: where the round-robin scan starts */
	struct ep_item *items;
};

static const struct kx_file_ops ep_ops;

static void drop(struct ep *ep, unsigned i)
{
	ep->items[i] = ep->items[--ep->n];
}

/* Fill out[0..max) with ready items (report = 1) or only count them. */
static long scan(struct ep *ep, struct epoll_event *out, int max, int report)
{
	long count = 0;
	unsigned start;

	for (unsigned i = ep->n; i-- > 0;)
		if (kx_fd_get(ep->items[i].fd) != ep->items[i].f)
			drop(ep, i); /* its description was closed */
	start = ep->n ? ep->next % ep->n : 0;
	for (unsigned k = 0; k < ep->n && count < max; k++) {
		unsigned i = (start + k) % ep->n;
		struct ep_item *it = &ep->items[i];
		struct kx_file *f = kx_fd_get(it->fd);
		uint32_t ev;

		if (it->disabled)
			continue;
		ev = kx_file_ready(f) & (it->events | EPOLLERR | EPOLLHUP);
		if (it->events & EPOLLET) {
			uint32_t fresh = ev & ~it->last;

			if (report)
				it->last = ev;
			ev = fresh;
		}
		if (!ev)
			continue;
		if (report) {
			out[count].events = ev;
			out[count].data.u64 = it->data;
			if (it->events & EPOLLONESHOT)
				it->disabled = 1;
			ep->next = i + 1;
		}
		count++;
	}
	return count;
}

static unsigned ep_poll(struct kx_file *f)
{
	return scan(f->obj, NULL, 1, 0) ? POLLIN | POLLRDNORM : 0;
}

static long ep_stat(struct kx_file *f, struct stat *st)
{
	(void)f;
	memset(st, 0, sizeof(*st));
	st->st_mode = 0600; /* an anonymous inode, as Linux's */
	st->st_nlink = 1;
	st->st_blksize = 4096;
	return 0;
}

static void ep_release(struct kx_file *f)
{
	struct ep *ep = f->obj;

	kx_kfree(ep->items);
	kx_kfree(ep);
}

static const struct kx_file_ops ep_ops = {
	.kind = "epoll",
	.stat = ep_stat,
	.poll = ep_poll,
	.release = ep_release,
};

static long create(int flags)
{
	struct ep *ep = kx_kalloc(sizeof(*ep));
	struct kx_file *f;
	long fd;

	if (!ep)
		return -ENOMEM;
	f = kx_file_new(&ep_ops, ep, O_RDWR);
	if (!f) {
		kx_kfree(ep);
		return -ENOMEM;
	}
	fd = kx_fd_install(f, 0, flags & EPOLL_CLOEXEC);
	kx_file_put(f);
	return fd;
}

KX_SYS(epoll_create)
{
	return a[0] <= 0 ? -EINVAL : create(0);
}

KX_SYS(epoll_create1)
{
	return a[0] & ~(long)EPOLL_CLOEXEC ? -EINVAL : create((int)a[0]);
}

static long ep_of(long epfd, struct ep **ep)
{
	struct kx_file *f = kx_fd_get(epfd);

	if (!f)
		return -EBADF;
	if (f->ops != &ep_ops)
		return -EINVAL;
	*ep = f->obj;
	return 0;
}

static struct ep_item *find(struct ep *ep, int fd, const struct kx_file *f)
{
	for (unsigned i = 0; i < ep->n; i++)
		if (ep->items[i].fd == fd && ep->items[i].f == f)
			return &ep->items[i];
	return NULL;
}

KX_SYS(epoll_ctl)
{
	int op = (int)a[1], fd = (int)a[2];
	const struct epoll_event *ev = (const struct epoll_event *)a[3];
	struct kx_file *f;
	struct ep_item *it;
	struct ep *ep;
	long rc;

	if ((rc = ep_of(a[0], &ep)) != 0)
		return rc;
	if (!(f = kx_fd_get(fd)))
		return -EBADF;
	if (fd == (int)a[0])
		return -EINVAL;
	if (!f->ops->poll)
		return -EPERM; /* a regular file or directory: always ready, Linux refuses */
	if (op != EPOLL_CTL_DEL && (ev->events & ~(uint32_t)EP_EVENTS))
		return -EINVAL;
	it = find(ep, fd, f);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it)
			return -EEXIST;
		if (ep->n == ep->cap) {
			unsigned cap = ep->cap ? ep->cap * 2 : 8;
			struct ep_item *items;

			if (ep->n >= EP_ITEMS_MAX)
				return -ENOSPC;
			items = kx_krealloc(ep->items, cap * sizeof(*items));
			if (!items)
				return -ENOMEM;
			ep->items = items;
			ep->cap = cap;
		}
		ep->items[ep->n++] = (struct ep_item){
			.fd = fd, .f = f, .events = ev->events, .data = ev->data.u64};
		break;
	case EPOLL_CTL_MOD:
		if (!it)
			return -ENOENT;
		*it = (struct ep_item){.fd = fd, .f = f, .events = ev->events, .data = ev->data.u64};
		break;
	case EPOLL_CTL_DEL:
		if (!it)
			return -ENOENT;
		drop(ep, (unsigned)(it - ep->items));
		break;
	default:
		return -EINVAL;
	}
	kx_unblock(&kx_io_changed, LONG_MAX); /* a waiter may have something now */
	return 0;
}

struct wait_args {
	struct ep *ep;
	struct epoll_event *out;
	int max;
};

/* kx_io_wait's second look, collecting the words of shared pipes. */
static long scan_again(void *arg)
{
	struct wait_args *wa = arg;

	return scan(wa->ep, wa->out, wa->max, 1);
}

static long do_wait(long epfd, struct epoll_event *out, int max, int timeout)
{
	uint64_t deadline = KX_NO_DEADLINE;
	struct ep *ep;
	long rc;

	if ((rc = ep_of(epfd, &ep)) != 0)
		return rc;
	if (max <= 0)
		return -EINVAL;
	if (timeout > 0)
		deadline = kx_now_ns(CLOCK_MONOTONIC) + (uint64_t)timeout * 1000000ull;
	for (;;) {
		struct wait_args wa = {ep, out, max};
		long n;

		kx_io_recheck = 0;
		n = scan(ep, out, max, 1);
		if (n > 0 || timeout == 0)
			return n;
		rc = kx_io_wait(deadline, scan_again, &wa);
		if (rc > 0)
			return rc;
		if (rc == -ETIMEDOUT)
			return scan(ep, out, max, 1);
		if (rc != 0)
			return rc;
	}
}

KX_SYS(epoll_wait)
{
	return do_wait(a[0], (struct epoll_event *)a[1], (int)a[2], (int)a[3]);
}

KX_SYS(epoll_pwait)
{
	const uint64_t *mask = (const uint64_t *)a[4];
	struct kx_sigstate *st = kx_thread_sig();
	uint64_t saved = st->blocked;
	long rc;

	if (mask && a[5] != sizeof(uint64_t))
		return -EINVAL;
	if (mask)
		st->blocked = *mask;
	rc = do_wait(a[0], (struct epoll_event *)a[1], (int)a[2], (int)a[3]);
	if (mask) {
		kx_signals_deliver(); /* what the temporary mask let through */
		st->blocked = saved;
	}
	return rc;
}
