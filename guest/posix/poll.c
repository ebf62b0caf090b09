/*
 * poll.c — poll, ppoll, select and pselect6 over every kind of fd: each
 * kind says what holds now (kx_file_ops.poll); a call with nothing ready
 * waits on kx_io_changed, which every change of readiness wakes (pipes
 * today; sockets later), or until its timeout.  What another pVM changes
 * (a shared pipe) wakes nobody here: the wait also watches its futex word
 * (kx_io_wait), so the peer's write ends it at once.
 *
 * Linux details kept: a negative fd in poll is skipped, a closed one gives
 * POLLNVAL, POLLHUP and POLLERR are reported whatever was asked; select
 * fails with EBADF on a closed fd and writes the time left back into its
 * timeout (select and pselect6, as Linux does); ppoll and pselect6 apply
 * their signal mask while they wait.
 */
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/select.h>

#include "guest/posix/posix.h"

unsigned kx_file_ready(struct kx_file *f)
{
	unsigned ev = f->ops->poll ? f->ops->poll(f) : POLLIN | POLLOUT;

	if (ev & POLLIN)
		ev |= POLLRDNORM;
	if (ev & POLLOUT)
		ev |= POLLWRNORM;
	return ev;
}

static long scan(struct pollfd *fds, unsigned long n)
{
	long count = 0;

	for (unsigned long i = 0; i < n; i++) {
		struct kx_file *f;

		fds[i].revents = 0;
		if (fds[i].fd < 0)
			continue;
		f = kx_fd_get(fds[i].fd);
		if (!f)
			fds[i].revents = POLLNVAL;
		else
			fds[i].revents = (short)(kx_file_ready(f) &
						 ((unsigned short)fds[i].events | POLLHUP | POLLERR));
		count += fds[i].revents != 0;
	}
	return count;
}

int kx_io_recheck;
struct kx_io_watchset *kx_io_watching;

#define RECHECK_NS 1000000ull

void kx_io_watch(const uint32_t *word, uint32_t value)
{
	struct kx_io_watchset *ws = kx_io_watching;

	if (ws == NULL || ws->nwords == KX_IO_WATCH_MAX) {
		kx_io_recheck = 1;
		return;
	}
	ws->words[ws->nwords++] =
		(struct kx_halt_word){.addr = (uint64_t)(uintptr_t)word, .value = value};
}

/* kx_block_watch until deadline, but no later than until (then 0: look
 * again, before the caller's deadline). */
static long block_until(uint64_t deadline, uint64_t until, const struct kx_halt_word *words,
			uint32_t nwords)
{
	long rc;

	if (until >= deadline)
		return kx_block_watch(&kx_io_changed, deadline, words, nwords);
	rc = kx_block_watch(&kx_io_changed, until, words, nwords);
	return rc == -ETIMEDOUT ? 0 : rc;
}

long kx_io_wait(uint64_t deadline, long (*scan_again)(void *arg), void *arg)
{
	struct kx_io_watchset ws = {.nwords = 0};
	/* A timerfd's expiry makes it readable with no wake-up: look then. */
	uint64_t until = kx_timerfd_next();
	long count;

	if (!kx_io_recheck)
		return block_until(deadline, until, NULL, 0);
	/* Objects another pVM changes: look once more, arming their words
	 * (the peer is told to wake them before we look), then sleep on
	 * them. */
	kx_io_recheck = 0;
	kx_io_watching = &ws;
	count = scan_again(arg);
	kx_io_watching = NULL;
	if (count != 0)
		return count;
	if (kx_io_recheck) {
		/* Something no word wakes (the console's input): a millisecond. */
		uint64_t soon = kx_now_ns(CLOCK_MONOTONIC) + RECHECK_NS;

		if (soon < until)
			until = soon;
	}
	return block_until(deadline, until, ws.words, ws.nwords);
}

struct poll_args {
	struct pollfd *fds;
	unsigned long n;
};

static long scan_poll(void *arg)
{
	struct poll_args *pa = arg;

	return scan(pa->fds, pa->n);
}

/* Wait until one fd is ready or the deadline passes (0: do not wait). */
static long do_poll(struct pollfd *fds, unsigned long n, uint64_t deadline, int wait)
{
	struct poll_args pa = {fds, n};

	if (n > KX_FD_MAX)
		return -EINVAL;
	for (;;) {
		long count, rc;

		kx_io_recheck = 0;
		count = scan(fds, n);
		if (count > 0 || !wait)
			return count;
		rc = kx_io_wait(deadline, scan_poll, &pa);
		if (rc > 0)
			return rc;
		if (rc == -ETIMEDOUT)
			return scan(fds, n);
		if (rc != 0)
			return rc;
	}
}

/* ppoll's and pselect6's signal mask: NULL, or a kernel sigset. */
static long check_mask(const uint64_t *mask, long size)
{
	return mask && size != sizeof(uint64_t) ? -EINVAL : 0;
}

KX_SYS(poll)
{
	int timeout = (int)a[2];
	uint64_t deadline = KX_NO_DEADLINE;

	if (timeout > 0)
		deadline = kx_now_ns(CLOCK_MONOTONIC) + (uint64_t)timeout * 1000000ull;
	return do_poll((struct pollfd *)a[0], (unsigned long)a[1], deadline, timeout != 0);
}

KX_SYS(ppoll)
{
	const struct timespec *ts = (const struct timespec *)a[2];
	const uint64_t *mask = (const uint64_t *)a[3];
	struct kx_sigstate *st = kx_thread_sig();
	uint64_t deadline, saved = st->blocked;
	long rc;

	if ((rc = check_mask(mask, a[4])) != 0)
		return rc;
	if ((rc = kx_deadline_rel(ts, &deadline)) != 0)
		return rc;
	if (mask)
		st->blocked = *mask;
	rc = do_poll((struct pollfd *)a[0], (unsigned long)a[1], deadline,
		     !ts || ts->tv_sec || ts->tv_nsec);
	if (mask) {
		kx_signals_deliver(); /* what the temporary mask let through */
		st->blocked = saved;
	}
	return rc;
}

/* select's three sets as one poll array, and back. */
static long do_select(int n, fd_set *r, fd_set *w, fd_set *e, uint64_t deadline, int wait)
{
	struct pollfd fds[FD_SETSIZE];
	unsigned long count = 0;
	long rc, total = 0;

	if (n < 0 || n > FD_SETSIZE)
		return -EINVAL;
	for (int fd = 0; fd < n; fd++) {
		short ev = 0;

		if (r && FD_ISSET(fd, r))
			ev |= POLLIN;
		if (w && FD_ISSET(fd, w))
			ev |= POLLOUT;
		if (e && FD_ISSET(fd, e))
			ev |= POLLPRI;
		if (!ev)
			continue;
		if (!kx_fd_get(fd))
			return -EBADF;
		fds[count++] = (struct pollfd){.fd = fd, .events = ev};
	}
	rc = do_poll(fds, count, deadline, wait);
	if (rc < 0)
		return rc;
	if (r)
		FD_ZERO(r);
	if (w)
		FD_ZERO(w);
	if (e)
		FD_ZERO(e);
	for (unsigned long i = 0; i < count; i++) {
		short re = fds[i].revents;

		if (r && (fds[i].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
			FD_SET(fds[i].fd, r);
			total++;
		}
		if (w && (fds[i].events & POLLOUT) && (re & (POLLOUT | POLLERR))) {
			FD_SET(fds[i].fd, w);
			total++;
		}
		if (e && (fds[i].events & POLLPRI) && (re & POLLPRI)) {
			FD_SET(fds[i].fd, e);
			total++;
		}
	}
	return total;
}

static uint64_t left(uint64_t deadline)
{
	uint64_t now = kx_now_ns(CLOCK_MONOTONIC);

	return deadline > now ? deadline - now : 0;
}

KX_SYS(select)
{
	struct timeval *tv = (struct timeval *)a[4];
	uint64_t deadline = KX_NO_DEADLINE;
	long rc;

	if (tv) {
		struct timespec ts;

		if (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000)
			return -EINVAL;
		ts = (struct timespec){tv->tv_sec, tv->tv_usec * 1000};
		if ((rc = kx_deadline_rel(&ts, &deadline)) != 0)
			return rc;
	}
	rc = do_select((int)a[0], (fd_set *)a[1], (fd_set *)a[2], (fd_set *)a[3], deadline,
		       !tv || tv->tv_sec || tv->tv_usec);
	if (tv && rc >= 0) {
		uint64_t ns = deadline == KX_NO_DEADLINE ? 0 : left(deadline);

		tv->tv_sec = (time_t)(ns / 1000000000ull);
		tv->tv_usec = (suseconds_t)(ns % 1000000000ull / 1000);
	}
	return rc;
}

KX_SYS(pselect6)
{
	struct timespec *ts = (struct timespec *)a[4];
	/* The sixth argument: { const sigset_t *mask; size_t size; }. */
	const long *sig = (const long *)a[5];
	const uint64_t *mask = sig ? (const uint64_t *)sig[0] : NULL;
	struct kx_sigstate *st = kx_thread_sig();
	uint64_t deadline, saved = st->blocked;
	long rc;

	if ((rc = check_mask(mask, sig ? sig[1] : 0)) != 0)
		return rc;
	if ((rc = kx_deadline_rel(ts, &deadline)) != 0)
		return rc;
	if (mask)
		st->blocked = *mask;
	rc = do_select((int)a[0], (fd_set *)a[1], (fd_set *)a[2], (fd_set *)a[3], deadline,
		       !ts || ts->tv_sec || ts->tv_nsec);
	if (mask) {
		kx_signals_deliver();
		st->blocked = saved;
	}
	if (ts && rc >= 0 && deadline != KX_NO_DEADLINE) {
		uint64_t ns = left(deadline);

		ts->tv_sec = (time_t)(ns / 1000000000ull);
		ts->tv_nsec = (long)(ns % 1000000000ull);
	}
	return rc;
}
