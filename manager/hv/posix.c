/*
 * posix.c — the module "posix": the monitor's services for the POSIX layer
 * of guest/posix/ (docs/posix.md, docs/guest-abi.md "POSIX services"):
 *
 *   35 TIME_PAGE     a read-only clock page kept current here: the guest
 *                    reads CLOCK_MONOTONIC/REALTIME from it and its TSC,
 *                    with no exit
 *   37 HALT          every guest thread waits: sleep until a deadline, a
 *                    signal for the guest or a push from kxd (no busy wait)
 *   38 PREEMPT       timer ticks stop the vCPU; at a tick the interrupted
 *                    registers go to the guest's save area and the guest's
 *                    trampoline runs its scheduler
 *   39 ENTROPY       the host's getrandom
 *   40 POSIX_REPORT  an unimplemented system call, logged once per number
 *                    (kxmon's log, and kxd: kxctl list)
 *   41 CONSOLE_READ  the console's input (kxmon's stdin), waiting like HALT
 *   42 CONSOLE_WRITE2 stdout and stderr kept apart
 *   43 SELF          the pVM's ids from kxd (getpid, getppid)
 *   44 ENVIRON       the environment kxmon was given (-e), for environ
 *   45 MPROTECT      read-only and no-access heap pages (never executable)
 *   95 HALT_WATCH    HALT that a peer's wake of an IpC futex word also ends
 *                    (a thread waits on a pipe another pVM writes)
 *   96 POSIX_STATS   the counters below, for make bench's exits per call
 *
 * Everything the guest hands over is untrusted: numbers are range-checked,
 * every address goes through hv_guest_ptr with the right it needs, and the
 * save area is written, never read back (the guest restores its own state:
 * a forged frame can only do what the guest could do anyway).
 *
 * Host system calls used here (for the seccomp jail): clock_gettime,
 * getrandom, ppoll, poll, read, write, timer_create, timer_settime,
 * timer_delete, futex_waitv (HALT_WATCH, on shared words only), and
 * through the KVM backend's tsc_offset one KVM_GET_MSRS ioctl.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "manager/hv/internal.h"

#define NS_PER_S	1000000000ull
#define TIME_SHIFT	32u
#define CALIBRATE_NS	2000000ull	/* the first TSC rate: 2 ms against the clock */
#define REANCHOR_NS	1000000000ull	/* re-base the clock page every second */
#define HALT_SLICE_NS	1000000000ull	/* one host sleep at most: look again */

struct hv_posix {
	/* TIME_PAGE */
	uint64_t page_gpa; /* 0: no page reserved */
	bool page_live;	   /* the guest asked for it: kept current */
	int64_t tsc_offset;
	uint64_t anchor_ns; /* CLOCK_MONOTONIC of the last rewrite */
	/* PREEMPT */
	uint64_t trampoline, area, interval_ns, np_start, np_end;
	uint64_t next_tick_ns;
	timer_t timer;
	bool has_timer;
	/* POSIX_REPORT: numbers already reported */
	uint64_t reported[KX_POSIX_NR_MAX / 64];
	/* MPROTECT: the heap range, and its pages lowered from read-write */
	uint64_t heap_lo, heap_hi;
	uint8_t *lowered; /* a bit per page of guest memory */
	/* SELF: kxd's answer, asked once (again in a forked child) */
	bool self_known;
	uint64_t pvm_id, parent_id;
	struct hv_posix_stats stats;
};

/* ---- clocks ----------------------------------------------------------------------- */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/*
 * The host TSC's rate, measured against CLOCK_MONOTONIC_RAW from the first
 * use in this process (a forked monitor inherits it) and refined at every
 * call: the longer the baseline, the better the rate.
 */
static struct {
	uint64_t tsc0, ns0;
} calib;

static uint64_t tsc_hz(void)
{
	uint64_t tsc, ns;

	if (calib.ns0 == 0) {
		calib.ns0 = clock_ns(CLOCK_MONOTONIC_RAW);
		calib.tsc0 = __builtin_ia32_rdtsc();
		while (clock_ns(CLOCK_MONOTONIC_RAW) - calib.ns0 < CALIBRATE_NS)
			;
	}
	ns = clock_ns(CLOCK_MONOTONIC_RAW);
	tsc = __builtin_ia32_rdtsc();
	if (ns <= calib.ns0 || tsc <= calib.tsc0)
		return 0;
	return (uint64_t)((unsigned __int128)(tsc - calib.tsc0) * NS_PER_S / (ns - calib.ns0));
}

/* Rewrite the clock page: bases taken now, the guest's TSC at that instant. */
static int time_page_write(struct hv_pvm *p)
{
	struct hv_posix *px = p->posix;
	struct kx_time_page *tp;
	uint64_t hz = tsc_hz(), tsc, mono, real;

	tp = hv_guest_ptr(&p->mem, px->page_gpa, sizeof(*tp), HV_ACCESS_MONITOR);
	if (tp == NULL || hz < 1000000)
		return -ENOSYS;
	mono = clock_ns(CLOCK_MONOTONIC);
	real = clock_ns(CLOCK_REALTIME);
	tsc = __builtin_ia32_rdtsc();
	tp->seq++;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	tp->shift = TIME_SHIFT;
	tp->mult = (uint64_t)(((unsigned __int128)NS_PER_S << TIME_SHIFT) / hz);
	tp->tsc_base = tsc + (uint64_t)px->tsc_offset;
	tp->mono_base = mono;
	tp->real_base = real;
	tp->tsc_hz = hz;
	tp->magic = KX_TIME_PAGE_MAGIC;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	tp->seq++;
	px->anchor_ns = mono;
	return 0;
}

static int time_page_start(struct hv_pvm *p)
{
	struct hv_posix *px = p->posix;
	struct kx_error err;
	int rc;

	if (px->page_gpa == 0 || p->be->tsc_offset == NULL)
		return -ENOSYS;
	rc = p->be->tsc_offset(p->vm, &px->tsc_offset, &err);
	if (rc == 0)
		rc = time_page_write(p);
	px->page_live = rc == 0;
	return rc;
}

/* ---- the module's hooks ------------------------------------------------------------- */

/* The clock page: the top page of the heap range, read-only to the guest. */
static int posix_setup(struct hv_pvm *p, uint64_t heap_start, uint64_t *heap_end,
		       struct kx_error *err)
{
	struct hv_posix *px;

	if (*heap_end < heap_start + 2 * KX_PAGE_SIZE)
		return kx_err(err, -ENOMEM, "posix: no room for the clock page");
	px = calloc(1, sizeof(*px));
	if (px == NULL)
		return kx_err(err, -ENOMEM, "out of memory");
	p->posix = px;
	*heap_end -= KX_PAGE_SIZE;
	px->page_gpa = *heap_end;
	px->heap_lo = heap_start;
	px->heap_hi = *heap_end;
	px->lowered = calloc(p->mem.size / KX_PAGE_SIZE / 8 + 1, 1);
	if (px->lowered == NULL)
		return kx_err(err, -ENOMEM, "out of memory");
	return hv_protect(p, px->page_gpa, KX_PAGE_SIZE, HV_PROT_READ, err);
}

static void disarm(struct hv_posix *px)
{
	struct itimerspec off = {{0, 0}, {0, 0}};

	if (px->has_timer)
		timer_settime(px->timer, 0, &off, NULL);
}

static int arm(struct hv_pvm *p, struct hv_posix *px)
{
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = p->kick_signal};
	struct itimerspec every = {
		.it_interval = {(time_t)(px->interval_ns / NS_PER_S),
				(long)(px->interval_ns % NS_PER_S)},
	};

	if (p->kick_signal == 0)
		return -ENOSYS;
	if (!px->has_timer) {
		if (timer_create(CLOCK_MONOTONIC, &ev, &px->timer) != 0)
			return -errno;
		px->has_timer = true;
	}
	every.it_value = every.it_interval;
	px->next_tick_ns = clock_ns(CLOCK_MONOTONIC) + px->interval_ns;
	return timer_settime(px->timer, 0, &every, NULL) != 0 ? -errno : 0;
}

/*
 * A tick: interrupt the guest if it may be, else leave it a note.  Only at
 * CPL3 (a kick can stop the vCPU in a backend's fault stubs), never inside
 * a kx signal handler (the signal module keeps that state), the runtime or
 * its no-preempt code.
 */
static void preempt(struct hv_pvm *p, struct hv_posix *px)
{
	struct kx_preempt_area *area;
	struct hv_vcpu st;
	struct kx_error err;
	uint64_t rip, rbp;

	area = hv_guest_ptr(&p->mem, px->area, sizeof(*area), HV_ACCESS_WRITE);
	if (area == NULL) {
		px->interval_ns = 0; /* the guest unmapped it: no more ticks */
		disarm(px);
		return;
	}
	if (hv_signal_interrupted_state(p, &rip, &rbp) ||
	    hv_get_vcpu(p, &st, HV_VCPU_REGS | HV_VCPU_SEGS, &err) != 0 || !st.user ||
	    __atomic_load_n(&area->busy, __ATOMIC_ACQUIRE) != 0 ||
	    (st.rip >= px->np_start && st.rip < px->np_end)) {
		__atomic_store_n(&area->pending, 1, __ATOMIC_RELEASE);
		px->stats.preempt_deferred++;
		return;
	}
	memcpy(area->gpr, st.gpr, sizeof(area->gpr));
	area->rip = st.rip;
	area->rflags = st.rflags;
	area->ticks++;
	area->busy = 1;
	st.rip = px->trampoline;
	st.gpr[7] = px->area;				 /* rdi */
	st.gpr[4] = (st.gpr[4] - 128) & ~15ull;		 /* below a red zone */
	if (hv_set_vcpu(p, &st, HV_VCPU_REGS, &err) != 0) {
		hv_stop_channel(p, "posix: cannot preempt the guest: %.400s", err.msg);
		return;
	}
	px->stats.preemptions++;
}

static void posix_safe_point(struct hv_pvm *p)
{
	struct hv_posix *px = p->posix;
	uint64_t now;

	if (px == NULL || (!px->page_live && px->interval_ns == 0))
		return;
	now = clock_ns(CLOCK_MONOTONIC);
	if (px->page_live && now - px->anchor_ns >= REANCHOR_NS)
		time_page_write(p);
	if (px->interval_ns != 0 && now >= px->next_tick_ns) {
		/* Keep the timer's phase: its next signal is then on time. */
		px->next_tick_ns += px->interval_ns;
		if (px->next_tick_ns <= now)
			px->next_tick_ns = now + px->interval_ns / 2;
		preempt(p, px);
	}
}

/* A forked child: a new vCPU (its TSC may differ) and no timer of its own yet. */
static void posix_fork_child(struct hv_pvm *p)
{
	struct hv_posix *px = p->posix;

	if (px == NULL)
		return;
	px->has_timer = false; /* POSIX timers are not inherited by fork() */
	if (px->interval_ns != 0 && arm(p, px) != 0)
		px->interval_ns = 0;
	memset(px->reported, 0, sizeof(px->reported)); /* once per pVM */
	px->self_known = false;				 /* a new pVM id */
	if (px->page_live && time_page_start(p) != 0)
		hv_stop_channel(p, "posix: cannot keep the clock page in the forked pVM");
}

static void posix_destroy(struct hv_pvm *p)
{
	struct hv_posix *px = p->posix;

	if (px == NULL)
		return;
	if (px->has_timer)
		timer_delete(px->timer);
	free(px->lowered);
	free(px);
	p->posix = NULL;
}

/* ---- hypercalls ----------------------------------------------------------------- */

static void hc_time_page(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct hv_posix *px = p->posix;

	(void)res;
	b->time_page.addr = 0;
	if (px == NULL || (!px->page_live && time_page_start(p) != 0)) {
		b->hdr.ret = -KX_ENOSYS;
		return;
	}
	b->time_page.addr = px->page_gpa;
	b->hdr.ret = 0;
}

/* Sleep until the deadline, a guest signal or a push; the host's own
 * signals (ticks, kicks) only make it look again. */
static int halt(struct hv_pvm *p, uint64_t deadline)
{
	struct kxmon_msg m;
	int fds[KXMON_MAX_FDS], nfds, rc;

	if (hv_handler_entered(p))
		return -EINTR;
	for (;;) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC), left;

		if (hv_interrupted(p))
			return -EINTR;
		if (now >= deadline)
			return -ETIMEDOUT;
		left = deadline - now < HALT_SLICE_NS ? deadline - now : HALT_SLICE_NS;
		if (p->mgr != NULL) {
			rc = hv_mgr_next(p, 0, (int)((left + 999999) / 1000000), &m, fds, &nfds);
			if (rc < 0)
				return -EPIPE;
			if (rc == 2)
				return hv_interrupted(p) ? -EINTR : 0;
		} else {
			struct timespec ts = {(time_t)(left / NS_PER_S), (long)(left % NS_PER_S)};

			ppoll(NULL, 0, &ts, NULL);
		}
	}
}

static void hc_halt(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	int rc;

	if (b->halt.flags != 0) {
		b->hdr.ret = -KX_EINVAL;
		return;
	}
	if (p->posix != NULL)
		p->posix->stats.halts++;
	rc = halt(p, b->halt.deadline_ns);
	if (rc == -EPIPE) {
		hv_bad(res, "halt: the channel to the manager broke");
		return;
	}
	b->hdr.ret = rc == 0 ? 0 : hv_guest_errno(rc);
}

/* ---- HALT_WATCH: halting with threads that wait on another pVM ---- */

/* 1 when a watched word no longer holds what the guest saw. */
static int watched_changed(const struct futex_waitv *w, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (__atomic_load_n((const uint32_t *)(uintptr_t)w[i].uaddr, __ATOMIC_ACQUIRE) !=
		    (uint32_t)w[i].val)
			return 1;
	return 0;
}

/* Like halt(), but the vCPU sleeps in futex_waitv on the words, so a peer's
 * FUTEX_WAKE (its monitor's KX_HC_NOTIFY_WAKE, kxd) ends it at once.  A
 * push from kxd raises SIGIO (kxmon's kick), which interrupts the wait;
 * one that lands just before it waits is seen within a slice, as for
 * NOTIFY_WAIT.  Each slice also compares the words itself, so a wake a
 * hostile peer withholds costs latency, never a hang. */
static int halt_watch(struct hv_pvm *p, uint64_t deadline, struct futex_waitv *w, uint32_t n)
{
	struct kxmon_msg m;
	int fds[KXMON_MAX_FDS], nfds, rc;

	if (hv_handler_entered(p)) /* as halt(): a mark the guest looked for too early */
		return -EINTR;
	for (;;) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC), until;
		struct timespec ts;

		if (hv_interrupted(p))
			return -EINTR;
		if (watched_changed(w, n))
			return 1;
		if (now >= deadline)
			return -ETIMEDOUT;
		if (p->mgr != NULL) {
			rc = hv_mgr_next(p, 0, 0, &m, fds, &nfds);
			if (rc < 0)
				return -EPIPE;
			if (rc == 2)
				return hv_interrupted(p) ? -EINTR : 0;
		}
		until = deadline - now < KX_IPC_WAIT_MAX_NS ? deadline : now + KX_IPC_WAIT_MAX_NS;
		ts.tv_sec = (time_t)(until / NS_PER_S);
		ts.tv_nsec = (long)(until % NS_PER_S);
		/* Not private: the words are pages other processes map too.  The
		 * timeout is absolute, on CLOCK_MONOTONIC. */
		syscall(SYS_futex_waitv, w, n, 0, &ts, CLOCK_MONOTONIC);
	}
}

static void hc_halt_watch(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kx_hc_halt_watch *h = &b->halt_watch;
	struct futex_waitv w[KX_HALT_WATCH_MAX];
	const struct kx_halt_word *g;
	int rc;

	/* A backend with its own IpC wait (Xen: event channels) wakes no host
	 * futex: the guest halts briefly and looks again instead. */
	if (p->be->ipc_wait != NULL) {
		h->hdr.ret = -KX_ENOSYS;
		return;
	}
	if (h->flags != 0 || h->nwords == 0 || h->nwords > KX_HALT_WATCH_MAX ||
	    (g = hv_guest_ptr(&p->mem, h->words, (uint64_t)h->nwords * sizeof(*g),
			      HV_ACCESS_READ)) == NULL) {
		h->hdr.ret = -KX_EINVAL;
		return;
	}
	/* One copy of the guest's list: it cannot change under the checks. */
	for (uint32_t i = 0; i < h->nwords; i++) {
		struct kx_halt_word one;
		uint32_t *host;

		memcpy(&one, &g[i], sizeof(one));
		host = hv_ipc_word(p, one.addr);
		if (host == NULL || one.reserved != 0) {
			h->hdr.ret = -KX_EINVAL;
			return;
		}
		w[i] = (struct futex_waitv){.val = one.value, .uaddr = (uint64_t)(uintptr_t)host,
					    .flags = FUTEX_32};
	}
	if (p->posix != NULL)
		p->posix->stats.halts++;
	rc = halt_watch(p, h->deadline_ns, w, h->nwords);
	if (rc == -EPIPE) {
		hv_bad(res, "halt: the channel to the manager broke");
		return;
	}
	if (rc == 1 && p->posix != NULL)
		p->posix->stats.watch_wakes++;
	h->hdr.ret = rc >= 0 ? 0 : hv_guest_errno(rc);
}

static void hc_posix_stats(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kx_hc_posix_stats *s = &b->posix_stats;

	(void)res;
	s->hcalls = p->hcalls;
	s->kicks = p->kicks;
	s->halts = p->posix != NULL ? p->posix->stats.halts : 0;
	s->watch_wakes = p->posix != NULL ? p->posix->stats.watch_wakes : 0;
	s->hdr.ret = 0;
}

/* ---- the console's input and error stream ---- */

/* 1 the input is readable (data or end of file), 0 not yet, -EINTR a guest
 * signal, -EPIPE the channel broke.  wait: until one of those. */
static int input_ready(struct hv_pvm *p, bool wait)
{
	struct pollfd pfd = {.fd = p->input_fd, .events = POLLIN};
	struct kxmon_msg m;
	int fds[KXMON_MAX_FDS], nfds, rc;

	for (;;) {
		struct timespec slice = {1, 0};

		if (hv_interrupted(p))
			return -EINTR;
		rc = ppoll(&pfd, 1, wait ? &slice : &(struct timespec){0, 0}, NULL);
		if (rc > 0)
			return 1;
		if (rc == 0 && !wait)
			return 0;
		/* A kick (kxd pushed something, a tick): take what kxd sent. */
		if (p->mgr != NULL)
			while ((rc = hv_mgr_next(p, 0, 0, &m, fds, &nfds)) == 2)
				;
		if (p->mgr != NULL && rc < 0)
			return -EPIPE;
	}
}

static void hc_console_read(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	const struct kx_hc_console_read *c = &b->console_read;
	void *buf = NULL;
	ssize_t n;
	int rc;

	if (c->len > KX_HC_CONSOLE_MAX || (c->flags & ~(uint64_t)(KX_CONSOLE_NONBLOCK |
								    KX_CONSOLE_POLL))) {
		b->hdr.ret = -KX_EINVAL;
		return;
	}
	if (!(c->flags & KX_CONSOLE_POLL) && c->len > 0 &&
	    (buf = hv_guest_ptr(&p->mem, c->buf, c->len, HV_ACCESS_WRITE)) == NULL) {
		hv_bad(res, "console read buffer outside writable guest memory");
		return;
	}
	if (p->input_fd < 0) {
		b->hdr.ret = (c->flags & KX_CONSOLE_POLL) ? 1 : 0; /* no input: its end */
		return;
	}
	rc = input_ready(p, !(c->flags & (KX_CONSOLE_NONBLOCK | KX_CONSOLE_POLL)));
	if (rc == -EPIPE) {
		hv_bad(res, "console read: the channel to the manager broke");
		return;
	}
	if (c->flags & KX_CONSOLE_POLL) {
		b->hdr.ret = rc > 0;
		return;
	}
	if (rc <= 0) {
		b->hdr.ret = rc == 0 ? -KX_EAGAIN : -KX_EINTR;
		return;
	}
	if (c->len == 0) {
		b->hdr.ret = 0;
		return;
	}
	do
		n = read(p->input_fd, buf, (size_t)c->len);
	while (n < 0 && errno == EINTR);
	b->hdr.ret = n >= 0 ? n : errno == EAGAIN ? -KX_EAGAIN : -KX_EIO;
}

static void hc_console_write2(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	const struct kx_hc_console_write2 *c = &b->console_write2;

	if (c->fd != 1 && c->fd != 2) {
		b->hdr.ret = -KX_EBADF;
		return;
	}
	hv_console_out(p, c->fd == 2 ? p->err_fd : p->console_fd, c->buf, c->len, &b->hdr.ret, res);
}

static void hc_preempt(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	const struct kx_hc_preempt *r = &b->preempt;
	struct hv_posix *px = p->posix;
	unsigned tprot;
	int rc;

	(void)res;
	if (px == NULL) {
		b->hdr.ret = -KX_ENOSYS;
		return;
	}
	if (r->interval_ns == 0) {
		px->interval_ns = 0;
		disarm(px);
		b->hdr.ret = 0;
		return;
	}
	tprot = r->trampoline < p->mem.size ? p->mem.page_prot[r->trampoline / KX_PAGE_SIZE] : 0;
	if (r->interval_ns < KX_PREEMPT_MIN_NS || r->interval_ns > KX_PREEMPT_MAX_NS ||
	    r->area % 8 != 0 ||
	    hv_guest_ptr(&p->mem, r->area, sizeof(struct kx_preempt_area), HV_ACCESS_WRITE) ==
		    NULL ||
	    !(tprot & HV_PROT_EXEC) || r->nopreempt_start > r->nopreempt_end) {
		b->hdr.ret = -KX_EINVAL;
		return;
	}
	px->trampoline = r->trampoline;
	px->area = r->area;
	px->np_start = r->nopreempt_start;
	px->np_end = r->nopreempt_end;
	px->interval_ns = r->interval_ns;
	rc = arm(p, px);
	if (rc != 0)
		px->interval_ns = 0;
	b->hdr.ret = rc == 0 ? 0 : -KX_ENOSYS;
}

static void hc_entropy(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	const struct kx_hc_entropy *e = &b->entropy;
	uint8_t *buf;
	size_t done = 0;

	if (e->len == 0 || e->len > KX_ENTROPY_MAX) {
		b->hdr.ret = -KX_EINVAL;
		return;
	}
	buf = hv_guest_ptr(&p->mem, e->buf, e->len, HV_ACCESS_WRITE);
	if (buf == NULL) {
		hv_bad(res, "entropy buffer outside writable guest memory");
		return;
	}
	while (done < e->len) {
		ssize_t n = getrandom(buf + done, (size_t)e->len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			b->hdr.ret = -KX_EAGAIN;
			return;
		}
		done += (size_t)n;
	}
	b->hdr.ret = (int64_t)done;
}

static void hc_posix_report(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct hv_posix *px = p->posix;
	uint64_t nr = b->posix_report.nr, bit;
	char line[160];
	int n;

	(void)res;
	if (px == NULL || nr >= KX_POSIX_NR_MAX) {
		b->hdr.ret = -KX_EINVAL;
		return;
	}
	b->hdr.ret = 0;
	bit = 1ull << (nr % 64);
	if (px->reported[nr / 64] & bit)
		return; /* once per number: the guest cannot flood the log */
	px->reported[nr / 64] |= bit;
	px->stats.reported++;
	if (p->log_fd > 0) {
		n = snprintf(line, sizeof(line),
			     "kxmon: pVM %d: system call %llu is not implemented (ENOSYS)\n",
			     (int)getpid(), (unsigned long long)nr);
		if (write(p->log_fd, line, (size_t)n) < 0) {
			/* a closed log is no reason to stop the guest */
		}
	}
	if (p->mgr != NULL) {
		struct kxmon_msg m;

		memset(&m, 0, sizeof(m));
		m.type = KXMON_MSG_POSIX_ENOSYS;
		m.u.enosys.nr = (uint32_t)nr;
		hv_mgr_send(p, &m); /* a broken channel shows at the next safe point */
	}
}

static bool lowered(const struct hv_posix *px, uint64_t page)
{
	return (px->lowered[page / 8] >> (page % 8)) & 1;
}

/* Only the heap's own pages: read-write, or lowered by this call before
 * (never the clock page, the IpC window, a library's GOT or text). */
static void hc_mprotect(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	const struct kx_hc_mprotect *m = &b->mprotect;
	struct hv_posix *px = p->posix;
	struct kx_error err;
	unsigned prot;
	uint64_t end;

	if (px == NULL || (m->prot & ~(uint64_t)(KX_PROT_READ | KX_PROT_WRITE | KX_PROT_EXEC)) ||
	    m->addr % KX_PAGE_SIZE || m->len == 0 || m->len % KX_PAGE_SIZE ||
	    __builtin_add_overflow(m->addr, m->len, &end) || m->addr < px->heap_lo ||
	    end > px->heap_hi) {
		b->hdr.ret = -KX_EINVAL;
		return;
	}
	if (m->prot & KX_PROT_EXEC) {
		b->hdr.ret = -KX_EACCES;
		return;
	}
	for (uint64_t pg = m->addr / KX_PAGE_SIZE; pg < end / KX_PAGE_SIZE; pg++) {
		unsigned now = p->mem.page_prot[pg];

		if (now != (HV_PROT_READ | HV_PROT_WRITE) &&
		    !(lowered(px, pg) && (now & ~(unsigned)HV_PROT_READ) == 0)) {
			b->hdr.ret = -KX_EACCES;
			return;
		}
	}
	prot = (m->prot & KX_PROT_WRITE) ? HV_PROT_READ | HV_PROT_WRITE
					 : (m->prot & KX_PROT_READ) ? HV_PROT_READ : 0;
	if (hv_protect(p, m->addr, m->len, prot, &err) != 0 || hv_flush(p, &err) < 0) {
		hv_bad(res, "mprotect: the backend could not change the rights");
		return;
	}
	for (uint64_t pg = m->addr / KX_PAGE_SIZE; pg < end / KX_PAGE_SIZE; pg++) {
		if (prot == (HV_PROT_READ | HV_PROT_WRITE))
			px->lowered[pg / 8] &= (uint8_t) ~(1u << (pg % 8));
		else
			px->lowered[pg / 8] |= (uint8_t)(1u << (pg % 8));
	}
	b->hdr.ret = 0;
}

static void hc_environ(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	(void)res;
	b->environ.addr = p->envv_gpa;
	b->environ.count = p->envc;
	b->hdr.ret = 0;
}

static void hc_self(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct hv_posix *px = p->posix;
	struct kxmon_msg m;
	int fds[KXMON_MAX_FDS], nfds;

	b->self.pvm_id = b->self.parent_id = 0;
	if (p->mgr == NULL || px == NULL) {
		b->hdr.ret = -KX_EPERM;
		return;
	}
	if (!px->self_known) {
		memset(&m, 0, sizeof(m));
		m.type = KXMON_MSG_SELF_REQ;
		if (hv_mgr_call(p, &m, KXMON_MSG_SELF_RESP, fds, &nfds) != 0) {
			hv_bad(res, "self: the channel to the manager broke");
			return;
		}
		px->pvm_id = m.u.self.pvm_id;
		px->parent_id = m.u.self.parent_id;
		px->self_known = true;
	}
	b->self.pvm_id = px->pvm_id;
	b->self.parent_id = px->parent_id;
	b->hdr.ret = 0;
}

static const struct hv_hcall_desc hcalls[] = {
	{KX_HC_TIME_PAGE, sizeof(struct kx_hc_time_page), hc_time_page},
	{KX_HC_HALT, sizeof(struct kx_hc_halt), hc_halt},
	{KX_HC_PREEMPT, sizeof(struct kx_hc_preempt), hc_preempt},
	{KX_HC_ENTROPY, sizeof(struct kx_hc_entropy), hc_entropy},
	{KX_HC_POSIX_REPORT, sizeof(struct kx_hc_posix_report), hc_posix_report},
	{KX_HC_CONSOLE_READ, sizeof(struct kx_hc_console_read), hc_console_read},
	{KX_HC_CONSOLE_WRITE2, sizeof(struct kx_hc_console_write2), hc_console_write2},
	{KX_HC_SELF, sizeof(struct kx_hc_self), hc_self},
	{KX_HC_ENVIRON, sizeof(struct kx_hc_environ), hc_environ},
	{KX_HC_MPROTECT, sizeof(struct kx_hc_mprotect), hc_mprotect},
	{KX_HC_HALT_WATCH, sizeof(struct kx_hc_halt_watch), hc_halt_watch},
	{KX_HC_POSIX_STATS, sizeof(struct kx_hc_posix_stats), hc_posix_stats},
};

void hv_posix_stats(const struct hv_pvm *p, struct hv_posix_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (p->posix != NULL) {
		*out = p->posix->stats;
		out->used = p->posix->page_live || p->posix->stats.halts ||
			    p->posix->interval_ns || p->posix->stats.reported ||
			    p->posix->self_known;
	}
	out->hcalls = p->hcalls;
	out->kicks = p->kicks;
}

const struct hv_module hv_mod_posix = {
	.name = "posix",
	.hcalls = hcalls,
	.nhcalls = sizeof(hcalls) / sizeof(hcalls[0]),
	.setup = posix_setup,
	.safe_point = posix_safe_point,
	.fork_child = posix_fork_child,
	.destroy = posix_destroy,
};
