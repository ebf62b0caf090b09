/*
 * eventfd.c — eventfd and eventfd2: a 64-bit counter behind an fd, as
 * Linux's (event loops use one to wake themselves from another thread or
 * a signal handler).
 *
 * A write of 8 bytes adds to the counter (waiting while the sum would pass
 * 2^64 - 2); a read of 8 bytes takes it all and resets it to 0, or with
 * EFD_SEMAPHORE takes 1; a read of a zero counter waits.  EFD_NONBLOCK
 * makes both waits EAGAIN; a buffer shorter than 8 bytes, or a write of
 * 2^64 - 1, is EINVAL.  poll/select/epoll: readable while the counter is
 * not 0, writable while 1 can still be added.  The counter lives in the
 * pVM: a forked child gets its own copy (docs/posix.md).
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>

#include "guest/posix/posix.h"

#define COUNTER_MAX 0xfffffffffffffffeull

struct eventfd {
	uint64_t count;
	int semaphore;
};

/* Everyone waiting on e, and poll/select/epoll. */
static void changed(struct eventfd *e)
{
	kx_unblock(e, LONG_MAX);
	kx_unblock(&kx_io_changed, LONG_MAX);
}

static long efd_read(struct kx_file *f, void *buf, size_t len, off_t *off)
{
	struct eventfd *e = f->obj;
	uint64_t value;
	long rc;

	(void)off;
	if (len < sizeof(value))
		return -EINVAL;
	while (e->count == 0) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if ((rc = kx_block(e, KX_NO_DEADLINE)) != 0)
			return rc;
	}
	value = e->semaphore ? 1 : e->count;
	e->count -= value;
	memcpy(buf, &value, sizeof(value));
	changed(e); /* a writer may fit now */
	return sizeof(value);
}

static long efd_write(struct kx_file *f, const void *buf, size_t len, off_t *off)
{
	struct eventfd *e = f->obj;
	uint64_t value;
	long rc;

	(void)off;
	if (len < sizeof(value))
		return -EINVAL;
	memcpy(&value, buf, sizeof(value));
	if (value == UINT64_MAX)
		return -EINVAL;
	while (COUNTER_MAX - e->count < value) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if ((rc = kx_block(e, KX_NO_DEADLINE)) != 0)
			return rc;
	}
	e->count += value;
	if (value != 0)
		changed(e);
	return sizeof(value);
}

static unsigned efd_poll(struct kx_file *f)
{
	struct eventfd *e = f->obj;

	return (e->count > 0 ? POLLIN : 0) | (e->count < COUNTER_MAX ? POLLOUT : 0);
}

static const struct kx_file_ops eventfd_ops = {
	.kind = "eventfd",
	.read = efd_read,
	.write = efd_write,
	.stat = kx_anon_stat,
	.poll = efd_poll,
	.release = kx_obj_release,
};

KX_SYS(eventfd2)
{
	unsigned initval = (unsigned)a[0];
	int flags = (int)a[1];
	struct eventfd *e;
	struct kx_file *f;
	long fd;

	if (flags & ~(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK))
		return -EINVAL;
	e = kx_kalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = (struct eventfd){.count = initval, .semaphore = !!(flags & EFD_SEMAPHORE)};
	f = kx_file_new(&eventfd_ops, e, O_RDWR | (flags & EFD_NONBLOCK));
	if (!f) {
		kx_kfree(e);
		return -ENOMEM;
	}
	/* The fd holds the description now, or nothing does (and e goes). */
	fd = kx_fd_install(f, 0, flags & EFD_CLOEXEC);
	kx_file_put(f);
	return fd;
}

KX_SYS(eventfd)
{
	long b[2] = {a[0], 0};

	return kx_sys_eventfd2(b);
}
