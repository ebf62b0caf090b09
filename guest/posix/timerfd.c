/*
 * timerfd.c — timerfd_create, timerfd_settime, timerfd_gettime: a timer
 * an fd reads, as Linux's (event loops put one in their epoll set).
 *
 * A timer keeps the monotonic time of its next expiry (0: disarmed), its
 * interval and the expirations not read yet; they are counted when looked
 * at (read, poll, gettime), so nothing runs when a timer expires.  A read
 * of 8 bytes returns the count and resets it, waiting for the next expiry
 * while it is 0 (TFD_NONBLOCK: EAGAIN); poll/select/epoll see it readable
 * while the count is not 0, and their waits end at the earliest expiry of
 * any timer (kx_timerfd_next, poll.c).  CLOCK_REALTIME times, absolute
 * (TFD_TIMER_ABSTIME) or not, are turned into monotonic ones when set: a
 * later change of the realtime clock does not move the timer, and
 * TFD_TIMER_CANCEL_ON_SET is accepted but never cancels.  A forked child
 * gets its own copy of each timer (docs/posix.md).
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/timerfd.h>

#include "guest/posix/posix.h"

#define NS_PER_S 1000000000ull

struct timerfd {
	struct timerfd *next_timer; /* all_timers */
	clockid_t clock;
	uint64_t next;	   /* monotonic ns of the next expiry; 0: disarmed */
	uint64_t interval; /* ns; 0: once */
	uint64_t ticks;	   /* expirations not read yet */
};

static struct timerfd *all_timers;

/* Count the expirations up to now. */
static void advance(struct timerfd *t, uint64_t now)
{
	uint64_t n;

	if (t->next == 0 || now < t->next)
		return;
	if (t->interval == 0) {
		t->ticks++;
		t->next = 0;
		return;
	}
	n = (now - t->next) / t->interval + 1;
	t->ticks += n;
	t->next += n * t->interval;
}

uint64_t kx_timerfd_next(void)
{
	uint64_t first = KX_NO_DEADLINE, now;

	if (!all_timers)
		return first;
	now = kx_now_ns(CLOCK_MONOTONIC);
	for (struct timerfd *t = all_timers; t; t = t->next_timer) {
		advance(t, now); /* an expired one moves on (or disarms) */
		if (t->next != 0 && t->ticks == 0 && t->next < first)
			first = t->next;
	}
	return first;
}

static long tfd_read(struct kx_file *f, void *buf, size_t len, off_t *off)
{
	struct timerfd *t = f->obj;
	long rc;

	(void)off;
	if (len < sizeof(t->ticks))
		return -EINVAL;
	for (;;) {
		advance(t, kx_now_ns(CLOCK_MONOTONIC));
		if (t->ticks != 0)
			break;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		/* Disarmed: only a settime from another thread ends the wait. */
		rc = kx_block(t, t->next != 0 ? t->next : KX_NO_DEADLINE);
		if (rc != 0 && rc != -ETIMEDOUT)
			return rc;
	}
	memcpy(buf, &t->ticks, sizeof(t->ticks));
	t->ticks = 0;
	return sizeof(t->ticks);
}

static unsigned tfd_poll(struct kx_file *f)
{
	struct timerfd *t = f->obj;

	advance(t, kx_now_ns(CLOCK_MONOTONIC));
	return t->ticks != 0 ? POLLIN : 0;
}

static void tfd_release(struct kx_file *f)
{
	struct timerfd *t = f->obj;

	for (struct timerfd **at = &all_timers; *at; at = &(*at)->next_timer)
		if (*at == t) {
			*at = t->next_timer;
			break;
		}
	kx_kfree(t);
}

static const struct kx_file_ops timerfd_ops = {
	.kind = "timerfd",
	.read = tfd_read,
	.stat = kx_anon_stat,
	.poll = tfd_poll,
	.release = tfd_release,
};

KX_SYS(timerfd_create)
{
	clockid_t clock = (clockid_t)a[0];
	int flags = (int)a[1];
	struct timerfd *t;
	struct kx_file *f;
	long fd;

	if (clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM)
		return -EPERM; /* Linux without CAP_WAKE_ALARM: nothing to wake here */
	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC && clock != CLOCK_BOOTTIME)
		return -EINVAL;
	if (flags & ~(TFD_CLOEXEC | TFD_NONBLOCK))
		return -EINVAL;
	t = kx_kalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct timerfd){.clock = clock};
	f = kx_file_new(&timerfd_ops, t, O_RDONLY | (flags & TFD_NONBLOCK));
	if (!f) {
		kx_kfree(t);
		return -ENOMEM;
	}
	t->next_timer = all_timers;
	all_timers = t;
	/* The fd holds the description now, or nothing does (and t goes). */
	fd = kx_fd_install(f, 0, flags & TFD_CLOEXEC);
	kx_file_put(f);
	return fd;
}

/* The timer behind fd: EBADF for no fd, EINVAL for another kind. */
static long timer_of(long fd, struct timerfd **t)
{
	struct kx_file *f = kx_fd_get(fd);

	if (!f)
		return -EBADF;
	if (f->ops != &timerfd_ops)
		return -EINVAL;
	*t = f->obj;
	return 0;
}

static int valid(const struct timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && (uint64_t)ts->tv_nsec < NS_PER_S &&
	       (uint64_t)ts->tv_sec < KX_NO_DEADLINE / NS_PER_S / 4;
}

static uint64_t ns_of(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * NS_PER_S + (uint64_t)ts->tv_nsec;
}

static void ts_of(uint64_t ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ns / NS_PER_S);
	ts->tv_nsec = (long)(ns % NS_PER_S);
}

/* What timerfd_gettime reports: the time to the next expiry, relative. */
static void current(struct timerfd *t, uint64_t now, struct itimerspec *out)
{
	advance(t, now);
	ts_of(t->next != 0 ? t->next - now : 0, &out->it_value);
	ts_of(t->interval, &out->it_interval);
}

KX_SYS(timerfd_settime)
{
	int flags = (int)a[1];
	const struct itimerspec *want = (const struct itimerspec *)a[2];
	struct itimerspec *old = (struct itimerspec *)a[3];
	struct timerfd *t;
	uint64_t now, value;
	long rc;

	if ((rc = timer_of(a[0], &t)) != 0)
		return rc;
	if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
		return -EINVAL;
	if (!valid(&want->it_value) || !valid(&want->it_interval))
		return -EINVAL;
	now = kx_now_ns(CLOCK_MONOTONIC);
	if (old)
		current(t, now, old);
	value = ns_of(&want->it_value);
	t->ticks = 0;
	t->interval = ns_of(&want->it_interval);
	if (value == 0) {
		t->next = 0;
	} else if (flags & TFD_TIMER_ABSTIME) {
		/* The same instant on the monotonic clock; one already past
		 * expires at once. */
		uint64_t on_clock = kx_now_ns(t->clock == CLOCK_REALTIME ? CLOCK_REALTIME
									  : CLOCK_MONOTONIC);

		t->next = value <= on_clock ? now : now + (value - on_clock);
		if (t->next == 0)
			t->next = 1;
	} else {
		t->next = now + value;
	}
	kx_unblock(t, LONG_MAX); /* a reader waits for the new expiry */
	kx_unblock(&kx_io_changed, LONG_MAX);
	return 0;
}

KX_SYS(timerfd_gettime)
{
	struct itimerspec *out = (struct itimerspec *)a[1];
	struct timerfd *t;
	long rc;

	if ((rc = timer_of(a[0], &t)) != 0)
		return rc;
	current(t, kx_now_ns(CLOCK_MONOTONIC), out);
	return 0;
}
