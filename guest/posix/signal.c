/*
 * signal.c — POSIX signals inside one pVM: rt_sigaction, rt_sigprocmask,
 * rt_sigpending, rt_sigsuspend, sigaltstack, kill, tkill, tgkill, and
 * ITIMER_REAL (alarm, setitimer, getitimer).
 *
 * The layer keeps the state Linux keeps (dispositions per process, a mask
 * and pending set per thread) and delivers signals the pVM sends itself:
 * at the end of the system call that made them deliverable (kill, raise, a
 * write to a pipe without a reader, unblocking with sigprocmask), or on the
 * way back from a preemption tick (thread.c; SIGALRM of a spinning loop).  A thread blocked in a wait is interrupted
 * (-EINTR) by a signal for it, as by Linux.  A handler runs on the thread's
 * own stack, or with SA_ONSTACK on its sigaltstack (per thread; not while
 * already on it; SS_AUTODISARM), with the signal (and sa_mask) blocked;
 * with SA_SIGINFO it gets a
 * siginfo_t and a ucontext_t whose uc_sigmask becomes the mask afterwards,
 * as after sigreturn (the machine context is not filled in).  Default
 * actions: ignore (SIGCHLD, SIGCONT, SIGURG, SIGWINCH and the stop signals:
 * there is no job control) or end the pVM.
 *
 * kill to another pVM is a kx signal (KX_HC_KILL).  Signals from other
 * pVMs and the operator (1..31) follow the dispositions set here: under kxd
 * every rt_sigaction tells the monitor too (KX_HC_SIGACTION) — the default
 * action, ignore, or a kx handler (async_handler) that only marks the
 * signal in kx_async_pending, at any point the monitor chooses; the layer
 * turns those marks into process-directed signals when it next runs (the
 * end of a system call, the scheduler, a preemption tick).
 */
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>

#include "guest/posix/posix.h"

#define NSIG_KX 64 /* signals 1..64, as Linux's _NSIG */

/* The kernel's struct sigaction on x86_64 (musl's k_sigaction). */
struct ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

static struct ksigaction actions[NSIG_KX + 1];

/* Linux's flag (<linux/signal.h>; glibc's headers lack it). */
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1u << 31)
#endif

static uint64_t bit(int sig)
{
	return 1ull << (sig - 1);
}

static const uint64_t unblockable = (1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1));

static int default_ignores(int sig)
{
	return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH ||
	       sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static int ignored(int sig)
{
	void (*h)(int) = actions[sig].handler;

	return h == SIG_IGN || (h == SIG_DFL && default_ignores(sig));
}

/* call_on_stack(top, fn, arg): fn(arg) with %rsp = top (16-byte aligned),
 * back on the caller's stack after; %rbp (callee-saved) keeps the way
 * back, so a handler that ends by siglongjmp leaves the alternate stack
 * as it would leave any frame. */
void kx_call_on_stack(uintptr_t top, void (*fn)(void *), void *arg);
__asm__(".text\n"
	".globl kx_call_on_stack\n"
	".type kx_call_on_stack, @function\n"
	"kx_call_on_stack:\n"
	"	push %rbp\n"
	"	mov %rsp, %rbp\n"
	"	mov %rdi, %rsp\n"
	"	mov %rdx, %rdi\n"
	"	call *%rsi\n"
	"	mov %rbp, %rsp\n"
	"	pop %rbp\n"
	"	ret\n"
	".size kx_call_on_stack, . - kx_call_on_stack\n");

/* 1 when sp lies on the thread's alternate stack, as Linux's on_sig_stack. */
static int on_altstack(const struct kx_sigstate *st, uintptr_t sp)
{
	return st->alt_size != 0 && sp > st->alt_sp && sp - st->alt_sp <= st->alt_size;
}

static uintptr_t stack_pointer(void)
{
	return (uintptr_t)__builtin_frame_address(0);
}

/* What sigaltstack reports and a handler's uc_stack holds. */
static stack_t altstack_of(const struct kx_sigstate *st, uintptr_t sp)
{
	stack_t ss = {.ss_sp = (void *)(uintptr_t)st->alt_sp, .ss_size = st->alt_size};

	if (st->alt_size == 0)
		ss.ss_flags = SS_DISABLE;
	else
		ss.ss_flags = (on_altstack(st, sp) ? SS_ONSTACK : 0) |
			      (st->alt_autodisarm ? (int)SS_AUTODISARM : 0);
	return ss;
}

/* One handler call, on whichever stack run_handler chose. */
struct invocation {
	struct ksigaction act;
	int sig;
	siginfo_t *si;
	ucontext_t *uc;
};

static void invoke(void *arg)
{
	struct invocation *in = arg;
	uint32_t depth = kx_runtime_suspend(); /* the handler is the program's code:
						* preemptible, and it may siglongjmp
						* out of the layer for good */

	if (in->act.flags & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))(void (*)(void))in->act.handler)(in->sig, in->si,
										      in->uc);
	else
		in->act.handler(in->sig);
	kx_runtime_resume(depth);
}

static void run_handler(int sig, struct kx_sigstate *st)
{
	struct ksigaction act = actions[sig];
	uint64_t saved = st->blocked;
	uintptr_t sp = stack_pointer();
	struct invocation in = {.act = act, .sig = sig};
	siginfo_t si;
	ucontext_t uc;
	/* SA_ONSTACK: on the alternate stack, unless already on it (a nested
	 * handler goes on below the one it interrupted, as on Linux). */
	int switch_stack = (act.flags & SA_ONSTACK) && st->alt_size != 0 && !on_altstack(st, sp);
	uint64_t alt_sp = st->alt_sp, alt_size = st->alt_size;
	uint32_t autodisarm = st->alt_autodisarm;

	if (act.flags & SA_RESETHAND)
		actions[sig].handler = SIG_DFL;
	st->blocked |= act.mask | ((act.flags & SA_NODEFER) ? 0 : bit(sig));
	st->blocked &= ~unblockable;
	memset(&si, 0, sizeof(si));
	memset(&uc, 0, sizeof(uc));
	si.si_signo = sig;
	si.si_code = SI_TKILL;
	si.si_pid = (pid_t)kx_pid();
	si.si_uid = KX_UID;
	memcpy(&uc.uc_sigmask, &saved, sizeof(saved));
	uc.uc_stack = altstack_of(st, sp);
	in.si = &si;
	in.uc = &uc;
	if (switch_stack) {
		if (autodisarm)
			st->alt_size = st->alt_sp = 0;
		kx_call_on_stack((uintptr_t)(alt_sp + alt_size) & ~(uintptr_t)15, invoke, &in);
		if (autodisarm) { /* as sigreturn restores it from uc_stack */
			st->alt_sp = alt_sp;
			st->alt_size = alt_size;
		}
	} else {
		invoke(&in);
	}
	if (act.flags & SA_SIGINFO) {
		memcpy(&st->blocked, &uc.uc_sigmask, sizeof(st->blocked)); /* as sigreturn */
		st->blocked &= ~unblockable;
	} else {
		st->blocked = saved;
	}
}

void kx_signals_deliver(void)
{
	struct kx_sigstate *st = kx_thread_sig();
	uint64_t ready;

	while ((ready = st->pending & ~st->blocked) != 0) {
		int sig = __builtin_ctzll(ready) + 1;

		st->pending &= ~bit(sig);
		if (ignored(sig))
			continue;
		if (actions[sig].handler == SIG_DFL)
			kx_panic("terminated by signal %d (%s)", sig, strsignal(sig));
		run_handler(sig, st);
	}
}

/* Make sig pending for thread tid (its wait ends with -EINTR when the
 * signal is not blocked); an ignored signal is dropped, as Linux drops it. */
static long send(long tid, int sig)
{
	struct kx_sigstate *st = kx_thread_sig_of(tid);

	if (!st)
		return -ESRCH;
	if (sig == 0 || ignored(sig))
		return 0;
	st->pending |= bit(sig);
	if (!(st->blocked & bit(sig)) && tid != kx_thread_tid())
		kx_thread_interrupt(tid);
	if (st->waitset & bit(sig))
		kx_unblock(st, 1); /* its sigtimedwait */
	kx_signalfd_changed();
	return 0;
}

void kx_signal_self(int sig)
{
	send(kx_thread_tid(), sig);
}

/* A signal for the process: to a thread that does not block it (the main
 * one first), whose wait then ends with EINTR; pending there otherwise. */
static void send_process(int sig)
{
	long tid;
	struct kx_sigstate *st;

	if (ignored(sig))
		return;
	tid = kx_thread_for_signal(bit(sig));
	st = kx_thread_sig_of(tid);
	st->pending |= bit(sig);
	if (!(st->blocked & bit(sig)))
		kx_thread_interrupt(tid);
	if (st->waitset & bit(sig))
		kx_unblock(st, 1); /* its sigtimedwait */
	kx_signalfd_changed();
}

/* ---- signals from other pVMs (posix-mon) ---- */

static uint32_t kx_async_pending; /* bit sig: a kx signal came (async_handler) */

/* Entered by the monitor through the kx trampoline, anywhere: a mark only. */
static void async_handler(int sig)
{
	__atomic_or_fetch(&kx_async_pending, 1u << sig, __ATOMIC_SEQ_CST);
}

void kx_async_signals(void)
{
	uint32_t came;

	if (__atomic_load_n(&kx_async_pending, __ATOMIC_RELAXED) == 0)
		return;
	came = __atomic_exchange_n(&kx_async_pending, 0, __ATOMIC_SEQ_CST);
	for (int sig = 1; sig < KX_NSIG; sig++)
		if (came & (1u << sig))
			send_process(sig);
}

/* What the monitor does with sig (1..31) when it comes from outside. */
static void tell_monitor(int sig)
{
	kx_sighandler_t h;

	if (sig >= KX_NSIG || sig == SIGKILL || sig == SIGSTOP || !kx_under_kxd())
		return;
	if (actions[sig].handler == SIG_DFL)
		h = default_ignores(sig) ? KX_SIGH_IGN : KX_SIGH_DFL;
	else if (actions[sig].handler == SIG_IGN)
		h = KX_SIGH_IGN;
	else
		h = async_handler;
	kx_signal(sig, h);
}

/* ---- ITIMER_REAL: alarm, setitimer, getitimer (posix-mon) ---- */

/* The next expiry on CLOCK_MONOTONIC (KX_NO_DEADLINE: disarmed), and the
 * interval that re-arms it (0: once).  The scheduler wakes for it like a
 * sleeper's deadline, and the monitor's ticks bring a spinning program to
 * it (thread.c). */
static uint64_t alarm_at = KX_NO_DEADLINE, alarm_every;

uint64_t kx_alarm_deadline(void)
{
	return alarm_at;
}

void kx_alarm_check(uint64_t now)
{
	if (now < alarm_at)
		return;
	if (alarm_every == 0) {
		alarm_at = KX_NO_DEADLINE;
	} else { /* missed expiries merge into one signal, as Linux's */
		uint64_t late = (now - alarm_at) / alarm_every + 1;

		alarm_at += late * alarm_every;
	}
	send_process(SIGALRM);
}

void kx_alarm_forked(void)
{
	alarm_at = KX_NO_DEADLINE; /* a child's timers start disarmed */
	alarm_every = 0;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull + (uint64_t)tv->tv_usec * 1000ull;
}

static void ns_tv(uint64_t ns, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ns / 1000000000ull);
	tv->tv_usec = (suseconds_t)(ns % 1000000000ull / 1000ull);
}

static void itimer_now(struct itimerval *out)
{
	uint64_t now = kx_now_ns(CLOCK_MONOTONIC);

	memset(out, 0, sizeof(*out));
	ns_tv(alarm_every, &out->it_interval);
	if (alarm_at != KX_NO_DEADLINE)
		/* Linux never reports 0 left for an armed timer. */
		ns_tv(alarm_at > now ? alarm_at - now : 1000, &out->it_value);
}

KX_SYS(getitimer)
{
	if (a[0] != ITIMER_REAL)
		return a[0] == ITIMER_VIRTUAL || a[0] == ITIMER_PROF ? kx_enosys(SYS_getitimer)
								    : -EINVAL;
	itimer_now((struct itimerval *)a[1]);
	return 0;
}

KX_SYS(setitimer)
{
	const struct itimerval *want = (const struct itimerval *)a[1];
	struct itimerval old;

	if (a[0] != ITIMER_REAL)
		return a[0] == ITIMER_VIRTUAL || a[0] == ITIMER_PROF ? kx_enosys(SYS_setitimer)
								    : -EINVAL;
	if (want && (want->it_value.tv_sec < 0 || want->it_value.tv_usec < 0 ||
		     want->it_value.tv_usec >= 1000000 || want->it_interval.tv_sec < 0 ||
		     want->it_interval.tv_usec < 0 || want->it_interval.tv_usec >= 1000000))
		return -EINVAL;
	itimer_now(&old);
	if (want) {
		uint64_t value = tv_ns(&want->it_value);

		alarm_every = value ? tv_ns(&want->it_interval) : 0;
		alarm_at = value ? kx_now_ns(CLOCK_MONOTONIC) + value : KX_NO_DEADLINE;
		if (value)
			kx_preempt_ticks(); /* a program that spins gets its SIGALRM too */
	}
	if (a[2])
		*(struct itimerval *)a[2] = old;
	return 0;
}

KX_SYS(alarm)
{
	struct itimerval want = {.it_value = {.tv_sec = (time_t)(unsigned)a[0]}}, old;
	long args[3] = {ITIMER_REAL, (long)&want, (long)&old};

	kx_sys_setitimer(args);
	return (long)old.it_value.tv_sec + (old.it_value.tv_usec != 0);
}

static int valid(long sig)
{
	return sig >= 0 && sig <= NSIG_KX;
}

KX_SYS(rt_sigaction)
{
	int sig = (int)a[0];
	const struct ksigaction *act = (const struct ksigaction *)a[1];
	struct ksigaction *old = (struct ksigaction *)a[2];

	if (a[3] != sizeof(uint64_t) || sig < 1 || sig > NSIG_KX)
		return -EINVAL;
	if (act && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	if (old)
		*old = actions[sig];
	if (act) {
		void (*before)(int) = actions[sig].handler;

		actions[sig] = *act;
		actions[sig].mask &= ~unblockable;
		if (ignored(sig))
			kx_threads_discard(bit(sig)); /* pending ones go too (POSIX) */
		if (act->handler != before)
			tell_monitor(sig);
	}
	return 0;
}

KX_SYS(rt_sigprocmask)
{
	struct kx_sigstate *st = kx_thread_sig();
	const uint64_t *set = (const uint64_t *)a[1];
	uint64_t *old = (uint64_t *)a[2];
	uint64_t want;

	if (a[3] != sizeof(uint64_t))
		return -EINVAL;
	if (set) {
		switch ((int)a[0]) {
		case SIG_BLOCK:
			want = st->blocked | *set;
			break;
		case SIG_UNBLOCK:
			want = st->blocked & ~*set;
			break;
		case SIG_SETMASK:
			want = *set;
			break;
		default:
			return -EINVAL;
		}
	}
	if (old)
		*old = st->blocked;
	if (set)
		st->blocked = want & ~unblockable; /* delivery follows at the call's end */
	return 0;
}

KX_SYS(rt_sigpending)
{
	struct kx_sigstate *st = kx_thread_sig();

	if ((size_t)a[1] > sizeof(uint64_t))
		return -EINVAL;
	*(uint64_t *)a[0] = st->pending & st->blocked;
	return 0;
}

KX_SYS(rt_sigsuspend)
{
	struct kx_sigstate *st = kx_thread_sig();
	uint64_t saved = st->blocked;
	static const char suspended; /* only a signal ends this wait */
	long rc;

	if (a[1] != sizeof(uint64_t))
		return -EINVAL;
	st->blocked = *(const uint64_t *)a[0] & ~unblockable;
	while (!(st->pending & ~st->blocked)) {
		rc = kx_block(&suspended, KX_NO_DEADLINE);
		if (rc == -EINTR)
			break;
	}
	kx_signals_deliver(); /* under the temporary mask, as Linux */
	st->blocked = saved;
	return -EINTR;
}

/* posix-mon: sigwait, sigwaitinfo, sigtimedwait.  A signal of the set
 * pending for the thread is taken (the lowest first) without running a
 * handler; else the thread waits for one (a process-directed one goes to
 * it first) until the timeout (-EAGAIN) or another signal (-EINTR). */
KX_SYS(rt_sigtimedwait)
{
	struct kx_sigstate *st = kx_thread_sig();
	siginfo_t *info = (siginfo_t *)a[1];
	uint64_t set, deadline, ready;
	long rc = 0;
	int sig;

	if (a[3] != sizeof(uint64_t))
		return -EINVAL;
	set = *(const uint64_t *)a[0] & ~unblockable;
	if ((rc = kx_deadline_rel((const struct timespec *)a[2], &deadline)) != 0)
		return rc;
	while (!(ready = st->pending & set)) {
		st->waitset = set;
		rc = kx_block(st, deadline);
		st->waitset = 0;
		kx_async_signals();
		if (st->pending & set)
			break;
		if (rc == -ETIMEDOUT)
			return -EAGAIN;
		if (rc == -EINTR || (st->pending & ~st->blocked))
			return -EINTR; /* another signal: its handler runs on return */
	}
	ready = st->pending & set;
	sig = __builtin_ctzll(ready) + 1;
	st->pending &= ~bit(sig);
	if (info) {
		memset(info, 0, sizeof(*info));
		info->si_signo = sig;
		info->si_code = SI_USER;
	}
	return sig;
}

KX_SYS(pause)
{
	long set[2] = {(long)&kx_thread_sig()->blocked, sizeof(uint64_t)};

	(void)a;
	return kx_sys_rt_sigsuspend(set);
}

/* Linux's rules: EPERM while on the stack, EINVAL for another mode,
 * ENOMEM below MINSIGSTKSZ; SS_DISABLE forgets the stack. */
KX_SYS(sigaltstack)
{
	const stack_t *ss = (const stack_t *)a[0];
	stack_t *old = (stack_t *)a[1];
	struct kx_sigstate *st = kx_thread_sig();
	uintptr_t sp = stack_pointer();

	if (ss) {
		stack_t want = *ss;
		int mode = want.ss_flags & ~(int)SS_AUTODISARM;

		if (on_altstack(st, sp))
			return -EPERM;
		if (mode != 0 && mode != SS_ONSTACK && mode != SS_DISABLE)
			return -EINVAL;
		if (mode != SS_DISABLE && want.ss_size < MINSIGSTKSZ)
			return -ENOMEM;
		if (old)
			*old = altstack_of(st, sp);
		old = NULL;
		st->alt_sp = mode == SS_DISABLE ? 0 : (uint64_t)(uintptr_t)want.ss_sp;
		st->alt_size = mode == SS_DISABLE ? 0 : want.ss_size;
		st->alt_autodisarm = mode != SS_DISABLE && (want.ss_flags & (int)SS_AUTODISARM);
	}
	if (old)
		*old = altstack_of(st, sp);
	return 0;
}

KX_SYS(kill)
{
	long pid = a[0];
	int sig = (int)a[1];

	if (!valid(sig))
		return -EINVAL;
	/* Itself (by pid, group, or "every process" it may signal: itself). */
	if (pid == kx_pid() || pid == 0 || pid == -1 || pid == -kx_pid())
		return send(kx_thread_tid(), sig);
	if (pid < 0)
		return -ESRCH; /* another process group: there are none */
	/* Another pVM: a kx signal, if the policy lets this one send it. */
	switch (kx_kill((uint64_t)pid, sig)) {
	case 0:
		return 0;
	case -KX_EACCES:
		return -EPERM;
	case -KX_EINVAL:
		return -EINVAL;
	default: /* -KX_ESRCH, or -KX_EPERM: alone, no other pVM exists */
		return -ESRCH;
	}
}

KX_SYS(tkill)
{
	if (!valid(a[1]))
		return -EINVAL;
	if (a[0] <= 0)
		return -EINVAL;
	return send(a[0], (int)a[1]);
}

KX_SYS(tgkill)
{
	if (!valid(a[2]))
		return -EINVAL;
	if (a[0] <= 0 || a[1] <= 0)
		return -EINVAL;
	if (a[0] != kx_pid())
		return -ESRCH;
	return send(a[1], (int)a[2]);
}

KX_SYS(rt_sigreturn)
{
	(void)a;
	/* Handlers are called and returned from by this layer; nothing ever
	 * gets here through a restorer. */
	return kx_enosys(SYS_rt_sigreturn);
}
