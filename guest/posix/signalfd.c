/*
 * signalfd.c — signalfd and signalfd4: pending signals read from an fd, as
 * Linux's (a program blocks the signals with sigprocmask and reads them
 * in its event loop instead of running handlers).
 *
 * The fd holds a mask.  A read takes, lowest number first, the signals of
 * the mask pending for the calling thread (signal.c's per-thread pending
 * set, where a signal for the process lands: kx_thread_for_signal), as
 * many struct signalfd_siginfo as fit (at least one: EINVAL for a smaller
 * buffer); with none it waits (SFD_NONBLOCK: EAGAIN) until signal.c says
 * one came (kx_signalfd_changed).  poll/select/epoll: readable while one
 * is pending.  SIGKILL and SIGSTOP in the mask are ignored, as by Linux.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>

#include "guest/posix/posix.h"

#define UNBLOCKABLE ((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)))

struct signalfd {
	uint64_t mask; /* bit sig-1 */
};

static const char readers; /* blocked reads wait on its address */

void kx_signalfd_changed(void)
{
	kx_unblock(&readers, LONG_MAX);
	kx_unblock(&kx_io_changed, LONG_MAX);
}

static long sfd_read(struct kx_file *f, void *buf, size_t len, off_t *off)
{
	struct signalfd *s = f->obj;
	struct kx_sigstate *st = kx_thread_sig();
	size_t done = 0;
	uint64_t ready;
	long rc;

	(void)off;
	if (len < sizeof(struct signalfd_siginfo))
		return -EINVAL;
	while (!(st->pending & s->mask)) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if ((rc = kx_block(&readers, KX_NO_DEADLINE)) != 0)
			return rc;
		kx_async_signals(); /* from other pVMs: pending now */
	}
	while (done + sizeof(struct signalfd_siginfo) <= len && (ready = st->pending & s->mask)) {
		int sig = __builtin_ctzll(ready) + 1;
		struct signalfd_siginfo si;

		st->pending &= ~(1ull << (sig - 1));
		memset(&si, 0, sizeof(si));
		si.ssi_signo = (uint32_t)sig;
		si.ssi_code = SI_USER;
		si.ssi_pid = (uint32_t)kx_pid();
		si.ssi_uid = KX_UID;
		memcpy((char *)buf + done, &si, sizeof(si));
		done += sizeof(si);
	}
	return (long)done;
}

static unsigned sfd_poll(struct kx_file *f)
{
	struct signalfd *s = f->obj;

	return (kx_thread_sig()->pending & s->mask) ? POLLIN : 0;
}

static const struct kx_file_ops signalfd_ops = {
	.kind = "signalfd",
	.read = sfd_read,
	.stat = kx_anon_stat,
	.poll = sfd_poll,
	.release = kx_obj_release,
};

KX_SYS(signalfd4)
{
	long fd = a[0];
	const uint64_t *mask = (const uint64_t *)a[1];
	int flags = (int)a[3];
	struct signalfd *s;
	struct kx_file *f;

	if (a[2] != sizeof(uint64_t) || (flags & ~(SFD_NONBLOCK | SFD_CLOEXEC)))
		return -EINVAL;
	if (fd != -1) {
		if (!(f = kx_fd_get(fd)))
			return -EBADF;
		if (f->ops != &signalfd_ops)
			return -EINVAL;
		((struct signalfd *)f->obj)->mask = *mask & ~UNBLOCKABLE;
		kx_signalfd_changed(); /* a waiting read may have one now */
		return fd;
	}
	s = kx_kalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->mask = *mask & ~UNBLOCKABLE;
	f = kx_file_new(&signalfd_ops, s, O_RDONLY | (flags & SFD_NONBLOCK));
	if (!f) {
		kx_kfree(s);
		return -ENOMEM;
	}
	/* The fd holds the description now, or nothing does (and s goes). */
	fd = kx_fd_install(f, 0, flags & SFD_CLOEXEC);
	kx_file_put(f);
	return fd;
}

KX_SYS(signalfd)
{
	long b[4] = {a[0], a[1], a[2], 0};

	return kx_sys_signalfd4(b);
}
