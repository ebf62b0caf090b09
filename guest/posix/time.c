/*
 * time.c — clock_gettime, clock_getres, gettimeofday, time, nanosleep,
 * clock_nanosleep.
 *
 * Readings come from the clock page the monitor keeps current
 * (KX_HC_TIME_PAGE, docs/guest-abi.md): its bases and TSC scale plus this
 * CPU's TSC, under the page's sequence counter — no exit.  A monitor that
 * cannot keep one (no usable TSC) leaves the layer on one KX_HC_CLOCK exit
 * per reading; then file timestamps and the *_COARSE clocks use a cached
 * reading, refreshed when the TSC says a few milliseconds have passed
 * (Linux stamps files from its coarse clock too).  CLOCK_MONOTONIC never
 * goes back, even when the monitor re-bases the page.
 *
 * CPU-time clocks count the pVM's time since boot: a pVM is one vCPU
 * working for one program, and the monitor does not report vCPU time yet.
 *
 * Sleeping is a wait with a deadline (thread.c): other threads run
 * meanwhile; with none to run, the vCPU halts until the deadline
 * (KX_HC_HALT).
 */
#include <sys/time.h>

#include "guest/posix/posix.h"

#define NS 1000000000ull
/* Refresh the coarse clock after this many TSC ticks (a few ms at the
 * clock rates of current CPUs, 1..5 GHz). */
#define COARSE_TICKS 8000000ull

static uint64_t boot_mono;
static struct {
	uint64_t tsc, mono, real;
} coarse;
static const volatile struct kx_time_page *page; /* NULL: one exit per reading */
static uint64_t last_mono;

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static struct kx_hc_clock read_clock(void)
{
	struct kx_hc_clock c = {0};

	kx_hcall(&c.hdr, KX_HC_CLOCK);
	coarse.tsc = rdtsc();
	coarse.mono = c.monotonic_ns;
	coarse.real = c.realtime_ns;
	return c;
}

/* Both clocks from the page: a consistent snapshot under its seq. */
static void page_read(uint64_t *mono, uint64_t *real)
{
	const volatile struct kx_time_page *t = page;
	uint32_t seq;
	uint64_t since;

	do {
		seq = t->seq;
		__asm__ volatile("" ::: "memory");
		since = rdtsc() - t->tsc_base;
		/* Just after a re-base the TSC may read a few cycles early. */
		since = (int64_t)since < 0 ? 0
					   : (uint64_t)(((unsigned __int128)since * t->mult) >>
							t->shift);
		*mono = t->mono_base + since;
		*real = t->real_base + since;
		__asm__ volatile("" ::: "memory");
	} while ((seq & 1) || seq != t->seq);
	if (*mono < last_mono)
		*mono = last_mono;
	last_mono = *mono;
}

uint64_t kx_now_ns(clockid_t clock)
{
	uint64_t mono, real;

	if (page) {
		page_read(&mono, &real);
	} else {
		struct kx_hc_clock c = read_clock();

		mono = c.monotonic_ns;
		real = c.realtime_ns;
	}
	return clock == CLOCK_REALTIME ? real : mono;
}

static uint64_t coarse_ns(clockid_t clock)
{
	if (page)
		return kx_now_ns(clock);
	if (coarse.tsc == 0 || rdtsc() - coarse.tsc > COARSE_TICKS)
		read_clock();
	return clock == CLOCK_REALTIME ? coarse.real : coarse.mono;
}

static void to_timespec(uint64_t ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ns / NS);
	ts->tv_nsec = (long)(ns % NS);
}

void kx_timespec_now(clockid_t clock, struct timespec *ts)
{
	to_timespec(coarse_ns(clock), ts);
}

void kx_time_init(void)
{
	struct kx_hc_time_page t = {0};

	if (kx_hcall(&t.hdr, KX_HC_TIME_PAGE) == 0 && t.addr != 0 &&
	    ((const struct kx_time_page *)(uintptr_t)t.addr)->magic == KX_TIME_PAGE_MAGIC)
		page = (const volatile struct kx_time_page *)(uintptr_t)t.addr;
	boot_mono = kx_now_ns(CLOCK_MONOTONIC);
}

uint64_t kx_uptime_ns(void)
{
	return kx_now_ns(CLOCK_MONOTONIC) - boot_mono;
}

/* Nanoseconds on `clock`, or -EINVAL for a clock Linux does not have. */
static long clock_ns(clockid_t clock, uint64_t *ns)
{
	switch (clock) {
	case CLOCK_REALTIME:
	case CLOCK_TAI:
		*ns = kx_now_ns(CLOCK_REALTIME);
		return 0;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_BOOTTIME:
		*ns = kx_now_ns(CLOCK_MONOTONIC);
		return 0;
	case CLOCK_REALTIME_COARSE:
		*ns = coarse_ns(CLOCK_REALTIME);
		return 0;
	case CLOCK_MONOTONIC_COARSE:
		*ns = coarse_ns(CLOCK_MONOTONIC);
		return 0;
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
		*ns = kx_uptime_ns();
		return 0;
	default:
		return -EINVAL;
	}
}

KX_SYS(clock_gettime)
{
	uint64_t ns;
	long rc = clock_ns((clockid_t)a[0], &ns);

	if (rc == 0)
		to_timespec(ns, (struct timespec *)a[1]);
	return rc;
}

KX_SYS(clock_getres)
{
	uint64_t ns;
	clockid_t clock = (clockid_t)a[0];
	struct timespec *res = (struct timespec *)a[1];

	if (clock < 0 || clock > CLOCK_TAI || clock == 10 || clock == CLOCK_REALTIME_ALARM ||
	    clock == CLOCK_BOOTTIME_ALARM || clock_ns(clock, &ns) != 0)
		return -EINVAL;
	if (res) {
		int coarse_clock = clock == CLOCK_REALTIME_COARSE || clock == CLOCK_MONOTONIC_COARSE;

		res->tv_sec = 0;
		res->tv_nsec = coarse_clock ? 4000000 : 1; /* Linux: one jiffy at HZ=250 */
	}
	return 0;
}

KX_SYS(gettimeofday)
{
	struct timeval *tv = (struct timeval *)a[0];
	struct timezone *tz = (struct timezone *)a[1];

	if (tv) {
		uint64_t ns = kx_now_ns(CLOCK_REALTIME);

		tv->tv_sec = (time_t)(ns / NS);
		tv->tv_usec = (suseconds_t)(ns % NS / 1000);
	}
	if (tz)
		*tz = (struct timezone){0, 0}; /* UTC */
	return 0;
}

KX_SYS(time)
{
	time_t t = (time_t)(kx_now_ns(CLOCK_REALTIME) / NS);

	if (a[0])
		*(time_t *)a[0] = t;
	return (long)t;
}

static int valid_ts(const struct timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < (long)NS;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	uint64_t ns;

	if (__builtin_mul_overflow((uint64_t)ts->tv_sec, NS, &ns) ||
	    __builtin_add_overflow(ns, (uint64_t)ts->tv_nsec, &ns))
		return UINT64_MAX;
	return ns;
}

long kx_deadline_rel(const struct timespec *ts, uint64_t *deadline)
{
	uint64_t rel;

	if (!ts) {
		*deadline = KX_NO_DEADLINE;
		return 0;
	}
	if (!valid_ts(ts))
		return -EINVAL;
	rel = ts_ns(ts);
	if (__builtin_add_overflow(kx_now_ns(CLOCK_MONOTONIC), rel, deadline))
		*deadline = KX_NO_DEADLINE;
	return 0;
}

/* A monotonic deadline for an absolute time on clock. */
long kx_deadline_abs(clockid_t clock, const struct timespec *ts, uint64_t *deadline)
{
	uint64_t when, now_c, now_m;
	long rc;

	if (!valid_ts(ts))
		return -EINVAL;
	when = ts_ns(ts);
	if ((rc = clock_ns(clock, &now_c)) != 0)
		return rc;
	now_m = kx_now_ns(CLOCK_MONOTONIC);
	*deadline = when <= now_c ? now_m : (when - now_c > KX_NO_DEADLINE - now_m ? KX_NO_DEADLINE
										 : now_m + when - now_c);
	return 0;
}

/* Sleep until the deadline; on -EINTR the time left goes to rem. */
static long sleep_until(uint64_t deadline, struct timespec *rem)
{
	static const char sleeper; /* nobody wakes this address */
	long rc = kx_block(&sleeper, deadline);

	if (rc == -ETIMEDOUT)
		return 0;
	if (rc == -EINTR && rem) {
		uint64_t now = kx_now_ns(CLOCK_MONOTONIC);

		to_timespec(deadline > now ? deadline - now : 0, rem);
	}
	return rc;
}

KX_SYS(nanosleep)
{
	uint64_t deadline;
	long rc = kx_deadline_rel((const struct timespec *)a[0], &deadline);

	return rc ? rc : sleep_until(deadline, (struct timespec *)a[1]);
}

KX_SYS(clock_nanosleep)
{
	clockid_t clock = (clockid_t)a[0];
	const struct timespec *req = (const struct timespec *)a[2];
	uint64_t deadline;
	long rc;

	if (clock == CLOCK_THREAD_CPUTIME_ID)
		return -EINVAL;
	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC && clock != CLOCK_BOOTTIME &&
	    clock != CLOCK_TAI && clock != CLOCK_PROCESS_CPUTIME_ID)
		return -EOPNOTSUPP;
	if (a[1] & TIMER_ABSTIME)
		rc = kx_deadline_abs(clock, req, &deadline);
	else
		rc = kx_deadline_rel(req, &deadline);
	if (rc != 0)
		return rc;
	return sleep_until(deadline, (a[1] & TIMER_ABSTIME) ? NULL : (struct timespec *)a[3]);
}
