/*
 * thread.c — threads of a pVM on a user-level scheduler: clone (musl's
 * __clone, for pthread_create), exit, set_tid_address, set_robust_list,
 * sched_yield, gettid, prctl's thread names, and kx_block/kx_unblock, on
 * which every blocking call of the layer (pipes, poll, sleep, futex.c)
 * waits.
 *
 * A thread runs until it blocks (a futex wait, a read from an empty pipe,
 * poll, sleep), yields (sched_yield), exits — or the monitor's timer
 * PREEMPTS it (KX_HC_PREEMPT, armed once a second thread exists): at a
 * tick the monitor stores the interrupted registers in `parea` and enters
 * kx_preempt_trampoline, which saves the FPU/vector state, lets the
 * scheduler run another thread, and later restores everything and jumps
 * back.  The layer itself is never interrupted: parea.busy counts how deep
 * the calling thread is inside it (every entry from the program: a system
 * call, __kx_clone, __kx_unmapself), and a tick that comes while it is
 * non-zero — or while the trampoline restores a thread — only leaves a
 * note (parea.pending) on which the thread yields when it leaves the
 * layer.  One vCPU: threads never run at the same time, so the layer needs
 * no locks of its own.
 *
 * Switching saves the callee-saved registers, MXCSR and the x87 control
 * word on the outgoing stack and loads the incoming thread's FS base (its
 * TLS) through the platform (wrfsbase on KVM, a hypercall on Xen); start.c
 * has made sure it can.
 */
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "guest/posix/kxposix.h"
#include "guest/posix/posix.h"

#define MAX_THREADS 128

enum { T_FREE, T_RUNNABLE, T_BLOCKED };

struct thread {
	int state;
	uint32_t depth; /* parea.busy while switched out */
	long tid;
	void *sp;	     /* saved while switched out */
	uint64_t fs;	     /* its FS base (TLS) */
	const void *wait_on; /* T_BLOCKED: the address it waits on */
	uint64_t deadline;   /* T_BLOCKED: monotonic ns, or KX_NO_DEADLINE */
	uint64_t wait_seq;   /* wakes go oldest first */
	long wake_rc;	     /* 0 woken, -ETIMEDOUT, -EINTR */
	/* T_BLOCKED on another pVM (kx_block_watch): woken once one of the
	 * nwatch words no longer holds its value (the list is the blocked
	 * caller's, alive while it waits). */
	const struct kx_halt_word *watch;
	uint32_t nwatch;
	int *clear_tid;	     /* CLONE_CHILD_CLEARTID / set_tid_address */
	int (*fn)(void *);   /* a new thread starts in fn(arg) */
	void *arg;
	struct kx_sigstate sig;
	char name[16];
};

static struct thread threads[MAX_THREADS];
static struct thread *cur;
static long live = 1;
static long next_tid;
static uint64_t wait_seq;
static uint64_t halts; /* the scheduler's HALT / HALT_WATCH calls */
/* Watched words the monitor cannot sleep on (no HALT_WATCH, or more than
 * KX_HALT_WATCH_MAX of them) are looked at again this often. */
#define WATCH_RECHECK_NS 1000000ull
/* A detached thread's stack, unmapped once we are off it (__kx_unmapself). */
static struct {
	void *base;
	size_t size;
} unmap_later;

char kx_io_changed;

/* The save area the monitor writes at a tick (docs/guest-abi.md). */
struct kx_preempt_area kx_preempt_area __attribute__((aligned(64)));
#define parea kx_preempt_area
#define PREEMPT_INTERVAL_NS 10000000ull /* 10 ms, Linux's CFS order of magnitude */
static int preempting;
/* What the trampoline restores through (no-preempt code, one vCPU). */
uint64_t kx_resume_rip, kx_resume_rsp;
/* Bytes of FPU/vector state the trampoline saves; XSAVE when the OS side enabled it. */
uint64_t kx_fpu_size = 512;
uint8_t kx_use_xsave;
void kx_preempt_trampoline(void);
void kx_preempt_trampoline_end(void);
__attribute__((used)) void kx_preempt_enter(uint64_t *frame);

/* Save the callee-saved state on this stack, store %rsp in *save, load
 * load_sp and return into whatever was saved there. */
void kx_switch(void **save, void *load_sp);
void kx_thread_entry(void);
__attribute__((noreturn, used)) void kx_thread_main(void);
int __kx_clone(int (*fn)(void *), void *stack, int flags, void *arg, int *ptid, void *tls,
	       int *ctid);
__attribute__((noreturn)) void __kx_unmapself(void *base, size_t size);

__asm__(".text\n"
	".globl kx_switch\n"
	".type kx_switch, @function\n"
	"kx_switch:\n"
	"	push %rbp\n"
	"	push %rbx\n"
	"	push %r12\n"
	"	push %r13\n"
	"	push %r14\n"
	"	push %r15\n"
	"	sub $8, %rsp\n"
	"	stmxcsr (%rsp)\n"
	"	fnstcw 4(%rsp)\n"
	"	mov %rsp, (%rdi)\n"
	"	mov %rsi, %rsp\n"
	"	ldmxcsr (%rsp)\n"
	"	fldcw 4(%rsp)\n"
	"	add $8, %rsp\n"
	"	pop %r15\n"
	"	pop %r14\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	pop %rbx\n"
	"	pop %rbp\n"
	"	ret\n"
	".size kx_switch, . - kx_switch\n"
	/* A new thread's first switch returns here, on its own stack. */
	".globl kx_thread_entry\n"
	".type kx_thread_entry, @function\n"
	"kx_thread_entry:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	call kx_thread_main\n"
	"	ud2\n"
	".size kx_thread_entry, . - kx_thread_entry\n");

/*
 * Entered by the monitor at a tick with %rdi = &parea (every general
 * register of the interrupted code is there), parea.busy = 1, %rsp 16-byte
 * aligned below the interrupted stack's red zone.  Saves the FPU/vector
 * state, copies the registers into a frame on this stack and schedules;
 * once this thread runs again, restores them all: the flags with popfq,
 * then only moves, so nothing disturbs them, and busy drops to 0 on the
 * last instruction before the jump back (all of it is no-preempt code).
 */
__asm__(".text\n"
	".globl kx_preempt_trampoline\n"
	".type kx_preempt_trampoline, @function\n"
	"kx_preempt_trampoline:\n"
	"	cld\n"
	"	sub kx_fpu_size(%rip), %rsp\n"
	"	and $-64, %rsp\n"
	"	mov %rsp, %r12\n"
	"	cmpb $0, kx_use_xsave(%rip)\n"
	"	je 1f\n"
	"	mov $-1, %eax\n"
	"	mov $-1, %edx\n"
	"	xsave64 (%r12)\n"
	"	jmp 2f\n"
	"1:	fxsave64 (%r12)\n"
	"2:	sub $160, %rsp\n"
	"	mov %rsp, %rdi\n"
	"	call kx_preempt_enter\n"
	"	cmpb $0, kx_use_xsave(%rip)\n"
	"	je 3f\n"
	"	mov $-1, %eax\n"
	"	mov $-1, %edx\n"
	"	xrstor64 (%r12)\n"
	"	jmp 4f\n"
	"3:	fxrstor64 (%r12)\n"
	"4:	mov 128(%rsp), %rax\n"
	"	mov %rax, kx_resume_rip(%rip)\n"
	"	mov 32(%rsp), %rax\n"
	"	mov %rax, kx_resume_rsp(%rip)\n"
	"	pushq 136(%rsp)\n"
	"	popfq\n"
	"	mov 0(%rsp), %rax\n"
	"	mov 8(%rsp), %rcx\n"
	"	mov 16(%rsp), %rdx\n"
	"	mov 24(%rsp), %rbx\n"
	"	mov 40(%rsp), %rbp\n"
	"	mov 48(%rsp), %rsi\n"
	"	mov 56(%rsp), %rdi\n"
	"	mov 64(%rsp), %r8\n"
	"	mov 72(%rsp), %r9\n"
	"	mov 80(%rsp), %r10\n"
	"	mov 88(%rsp), %r11\n"
	"	mov 96(%rsp), %r12\n"
	"	mov 104(%rsp), %r13\n"
	"	mov 112(%rsp), %r14\n"
	"	mov 120(%rsp), %r15\n"
	"	mov kx_resume_rsp(%rip), %rsp\n"
	"	movl $0, kx_preempt_area(%rip)\n"
	"	jmp *kx_resume_rip(%rip)\n"
	".globl kx_preempt_trampoline_end\n"
	"kx_preempt_trampoline_end:\n"
	".size kx_preempt_trampoline, . - kx_preempt_trampoline\n");

_Static_assert(offsetof(struct kx_preempt_area, busy) == 0, "the trampoline clears busy at 0");

static void set_fs(uint64_t base)
{
	/* Cannot fail: start.c checked that the platform sets the FS base,
	 * and every base here is one arch_prctl accepted. */
	(void)kx_plat_set_segbase(KX_SEG_FS, base);
}

void kx_threads_init(void)
{
	unsigned a, b, c, d;

	cur = &threads[0];
	cur->state = T_RUNNABLE;
	cur->tid = kx_pid();
	next_tid = cur->tid + 1;
	memcpy(cur->name, "main", 5);
	/* XSAVE keeps the AVX (and later) state too, when the OS side enabled it. */
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if ((c >> 27) & 1) { /* OSXSAVE */
		__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0xd), "c"(0));
		if (b >= 512 + 64) {
			kx_use_xsave = 1;
			kx_fpu_size = b;
		}
	}
}

/* Ticks once more than one thread exists (turned on at the first clone) or
 * an alarm is set. */
static void preempt_on(void)
{
	struct kx_hc_preempt r = {
		.trampoline = (uint64_t)(uintptr_t)kx_preempt_trampoline,
		.area = (uint64_t)(uintptr_t)&parea,
		.interval_ns = PREEMPT_INTERVAL_NS,
		.nopreempt_start = (uint64_t)(uintptr_t)kx_preempt_trampoline,
		.nopreempt_end = (uint64_t)(uintptr_t)kx_preempt_trampoline_end,
	};

	if (!preempting && kx_hcall(&r.hdr, KX_HC_PREEMPT) == 0)
		preempting = 1;
}

void kx_preempt_ticks(void)
{
	preempt_on();
}

long kx_thread_for_signal(uint64_t sigbit)
{
	for (size_t i = 0; i < MAX_THREADS; i++) /* sigtimedwait takes it first */
		if (threads[i].state != T_FREE && (threads[i].sig.waitset & sigbit))
			return threads[i].tid;
	for (size_t i = 0; i < MAX_THREADS; i++) /* threads[0] is the main thread */
		if (threads[i].state != T_FREE && !(threads[i].sig.blocked & sigbit))
			return threads[i].tid;
	return cur->tid;
}

void kx_runtime_enter(void)
{
	parea.busy++;
}

void kx_runtime_leave(void)
{
	if (--parea.busy == 0 && parea.pending) {
		/* A tick came while the layer ran: this thread's turn is over. */
		parea.busy = 1;
		parea.pending = 0;
		kx_yield();
		parea.busy = 0;
	}
}

/* In a forked child: only the thread that forked is left (POSIX), and it
 * is the new process's main thread, its tid the new pid. */
void kx_threads_forked(void)
{
	for (size_t i = 0; i < MAX_THREADS; i++)
		if (&threads[i] != cur)
			threads[i].state = T_FREE;
	live = 1;
	cur->tid = kx_pid();
	next_tid = cur->tid + 1;
	cur->sig.pending = 0;
	unmap_later.base = NULL;
}

uint32_t kx_runtime_suspend(void)
{
	uint32_t depth = parea.busy;

	parea.busy = 0;
	return depth;
}

void kx_runtime_resume(uint32_t depth)
{
	parea.busy = depth;
}

long kx_posix_preemptions(void)
{
	return (long)parea.ticks;
}

int kx_posix_monitor_stats(struct kx_posix_monitor_stats *out)
{
	struct kx_hc_posix_stats s = {0};
	long rc = (long)kx_hcall(&s.hdr, KX_HC_POSIX_STATS);

	if (rc != 0)
		return rc == -KX_ENOSYS ? -ENOSYS : -EIO;
	out->exits = s.hcalls + s.kicks;
	out->hcalls = s.hcalls;
	out->halts = s.halts;
	out->watch_wakes = s.watch_wakes;
	out->scheduler_halts = halts;
	return 0;
}

long kx_thread_tid(void)
{
	return cur->tid;
}

long kx_thread_count(void)
{
	return live;
}

void kx_thread_set_fs(uint64_t base)
{
	cur->fs = base;
}

struct kx_sigstate *kx_thread_sig(void)
{
	return &cur->sig;
}

static struct thread *find(long tid)
{
	for (size_t i = 0; i < MAX_THREADS; i++)
		if (threads[i].state != T_FREE && threads[i].tid == tid)
			return &threads[i];
	return NULL;
}

struct kx_sigstate *kx_thread_sig_of(long tid)
{
	struct thread *t = find(tid);

	return t ? &t->sig : NULL;
}

void kx_threads_discard(uint64_t sigs)
{
	for (size_t i = 0; i < MAX_THREADS; i++)
		threads[i].sig.pending &= ~sigs;
}

void kx_thread_interrupt(long tid)
{
	struct thread *t = find(tid);

	if (t && t->state == T_BLOCKED) {
		t->wake_rc = -EINTR;
		t->state = T_RUNNABLE;
	}
}

/* Wake every blocked thread whose deadline has passed. */
static void expire(uint64_t now)
{
	for (size_t i = 0; i < MAX_THREADS; i++) {
		struct thread *t = &threads[i];

		if (t->state == T_BLOCKED && t->deadline <= now) {
			t->wake_rc = -ETIMEDOUT;
			t->state = T_RUNNABLE;
		}
	}
}

/* 1 when one of the n words no longer holds its value. */
static int word_changed(const struct kx_halt_word *w, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (__atomic_load_n((const uint32_t *)(uintptr_t)w[i].addr, __ATOMIC_ACQUIRE) !=
		    w[i].value)
			return 1;
	return 0;
}

/* 1 when a blocked thread watches a word. */
static int watching(void)
{
	for (size_t i = 0; i < MAX_THREADS; i++)
		if (threads[i].state == T_BLOCKED && threads[i].nwatch != 0)
			return 1;
	return 0;
}

/* Wake every blocked thread whose watched word (another pVM's side of a
 * shared pipe) changed; how many were woken. */
static long watched(void)
{
	long n = 0;

	for (size_t i = 0; i < MAX_THREADS; i++) {
		struct thread *t = &threads[i];

		if (t->state == T_BLOCKED && t->nwatch != 0 && word_changed(t->watch, t->nwatch)) {
			t->wake_rc = 0;
			t->state = T_RUNNABLE;
			n++;
		}
	}
	return n;
}

/* The earliest deadline of a blocked thread, or KX_NO_DEADLINE. */
static uint64_t earliest_deadline(void)
{
	uint64_t first = KX_NO_DEADLINE;

	for (size_t i = 0; i < MAX_THREADS; i++)
		if (threads[i].state == T_BLOCKED && threads[i].deadline < first)
			first = threads[i].deadline;
	return first;
}

/* Nobody can run before deadline: the vCPU sleeps in the monitor, until
 * then or (HALT_WATCH) until another pVM changes a word a blocked thread
 * watches: a peer's write to a shared pipe wakes the pVM at once. */
static void halt_until(uint64_t deadline)
{
	static struct kx_halt_word words[KX_HALT_WATCH_MAX];
	struct kx_hc_halt_watch hw = {.deadline_ns = deadline, .words = (uint64_t)(uintptr_t)words};
	struct kx_hc_halt h = {.deadline_ns = deadline};
	uint64_t now;
	long rc;
	int all = 1; /* every watched word fits in the one call */

	for (size_t i = 0; i < MAX_THREADS; i++)
		for (uint32_t j = 0; threads[i].state == T_BLOCKED && j < threads[i].nwatch; j++) {
			if (hw.nwords == KX_HALT_WATCH_MAX) {
				all = 0;
				break;
			}
			words[hw.nwords++] = threads[i].watch[j];
		}
	halts++;
	now = kx_now_ns(CLOCK_MONOTONIC);
	if (!all && deadline > now + WATCH_RECHECK_NS)
		hw.deadline_ns = now + WATCH_RECHECK_NS; /* the rest: looked at again soon */
	if (hw.nwords == 0) {
		kx_hcall(&h.hdr, KX_HC_HALT);
		return;
	}
	rc = (long)kx_hcall(&hw.hdr, KX_HC_HALT_WATCH);
	if (rc != -KX_ENOSYS && rc != -KX_EINVAL)
		return;
	/* A monitor that cannot sleep on the words (Xen, an older one; a word
	 * whose pipe went meanwhile): halt a millisecond at a time and look at
	 * them again. */
	if (deadline > now + WATCH_RECHECK_NS)
		h.deadline_ns = now + WATCH_RECHECK_NS;
	kx_hcall(&h.hdr, KX_HC_HALT);
}

/* The next runnable thread after cur, round robin (cur itself last). */
static struct thread *pick(void)
{
	size_t at = (size_t)(cur - threads);

	for (size_t i = 1; i <= MAX_THREADS; i++) {
		struct thread *t = &threads[(at + i) % MAX_THREADS];

		if (t->state == T_RUNNABLE)
			return t;
	}
	return NULL;
}

static void after_switch(void)
{
	if (unmap_later.base) {
		long a[6] = {(long)unmap_later.base, (long)unmap_later.size};

		unmap_later.base = NULL;
		kx_sys_munmap(a);
	}
}

/* Run another thread until cur is runnable again and picked. */
static void schedule(void)
{
	struct thread *next, *prev = cur;

	for (;;) {
		uint64_t first = earliest_deadline(), alarm = kx_alarm_deadline();

		if (first != KX_NO_DEADLINE || alarm != KX_NO_DEADLINE) {
			uint64_t now = kx_now_ns(CLOCK_MONOTONIC);

			kx_alarm_check(now); /* may end a wait with EINTR */
			expire(now);
		}
		kx_async_signals(); /* from other pVMs: may end a wait too */
		watched();
		if (kx_alarm_deadline() < first)
			first = kx_alarm_deadline();
		next = pick();
		if (next)
			break;
		/* Nobody can run.  With the network up (socket.c), a frame may
		 * wake someone: halt until one comes or the next deadline. */
		if (kx_net_active()) {
			/* NET_WAIT sleeps on frames, not on watched words: look
			 * at those again every millisecond meanwhile. */
			if (watching()) {
				uint64_t soon = kx_now_ns(CLOCK_MONOTONIC) + WATCH_RECHECK_NS;

				if (soon < first)
					first = soon;
			}
			kx_net_idle(first);
			continue;
		}
		/* Nobody can run: halt until the first deadline passes.  With no
		 * deadline only a signal from another pVM can end the wait (under
		 * kxd); alone, it is a deadlock. */
		if (first == KX_NO_DEADLINE && !kx_under_kxd())
			kx_panic("deadlock: all %ld threads of the pVM wait, none with a deadline",
				 live);
		halt_until(first);
	}
	if (next == prev)
		return;
	cur = next;
	if (next->fs != prev->fs)
		set_fs(next->fs);
	prev->depth = parea.busy;
	kx_switch(&prev->sp, next->sp);
	parea.busy = cur->depth;
	after_switch();
}

long kx_block(const void *q, uint64_t deadline_ns)
{
	return kx_block_watch(q, deadline_ns, NULL, 0);
}

long kx_block_watch(const void *q, uint64_t deadline_ns, const struct kx_halt_word *words,
		    uint32_t nwords)
{
	cur->state = T_BLOCKED;
	cur->wait_on = q;
	cur->deadline = deadline_ns;
	cur->wait_seq = ++wait_seq;
	cur->wake_rc = 0;
	cur->watch = words;
	cur->nwatch = nwords;
	schedule();
	cur->nwatch = 0;
	return cur->wake_rc;
}

long kx_unblock(const void *q, long n)
{
	long woken = 0;

	while (woken < n) {
		struct thread *oldest = NULL;

		for (size_t i = 0; i < MAX_THREADS; i++) {
			struct thread *t = &threads[i];

			if (t->state == T_BLOCKED && t->wait_on == q &&
			    (!oldest || t->wait_seq < oldest->wait_seq))
				oldest = t;
		}
		if (!oldest)
			break;
		oldest->state = T_RUNNABLE;
		oldest->wake_rc = 0;
		woken++;
	}
	return woken;
}

void kx_yield(void)
{
	schedule(); /* cur stays runnable: others first, then cur again */
}

/* The trampoline's C half: the interrupted registers into frame (gpr[16],
 * rip, rflags, as struct kx_preempt_area has them), then others run. */
void kx_preempt_enter(uint64_t *frame)
{
	memcpy(frame, parea.gpr, sizeof(parea.gpr));
	frame[16] = parea.rip;
	frame[17] = parea.rflags;
	parea.pending = 0;
	kx_yield();
	/* Back to this thread: what is due for it runs now, as Linux delivers
	 * on the way back from its timer interrupt. */
	kx_async_signals();
	if (cur->sig.pending)
		kx_signals_deliver();
}

void kx_thread_main(void)
{
	after_switch();
	parea.busy = 0; /* out of the layer: into the thread's own code */
	{
		long a[6] = {cur->fn(cur->arg)};

		kx_sys_exit(a);
	}
	__builtin_unreachable();
}

/* musl's __clone for pthread_create: a thread of this pVM (CLONE_VM |
 * CLONE_THREAD); process creation is not a thread: fork and vfork are pVM
 * fork (proc.c), posix_spawn's clone(CLONE_VM | CLONE_VFORK) is ENOSYS. */
static int clone_thread(int (*fn)(void *), void *stack, int flags, void *arg, int *ptid,
			void *tls, int *ctid)
{
	struct thread *t = NULL;
	uint64_t *sp;

	if ((flags & (CLONE_VM | CLONE_THREAD)) != (CLONE_VM | CLONE_THREAD))
		return (int)kx_enosys(SYS_clone);
	if (!(flags & CLONE_SIGHAND) || !stack)
		return -EINVAL;
	for (size_t i = 0; i < MAX_THREADS && !t; i++)
		if (threads[i].state == T_FREE)
			t = &threads[i];
	if (!t)
		return -EAGAIN;
	memset(t, 0, sizeof(*t));
	t->tid = next_tid++;
	t->fn = fn;
	t->arg = arg;
	t->fs = (flags & CLONE_SETTLS) ? (uint64_t)(uintptr_t)tls : cur->fs;
	t->sig.blocked = cur->sig.blocked;
	if (flags & CLONE_CHILD_CLEARTID)
		t->clear_tid = ctid;
	if (flags & CLONE_PARENT_SETTID)
		*ptid = (int)t->tid;
	if (flags & CLONE_CHILD_SETTID)
		*ctid = (int)t->tid;
	memcpy(t->name, cur->name, sizeof(t->name));
	/* What kx_switch pops: MXCSR and x87 control word (the ABI's initial
	 * values), r15..r12, rbx, rbp, then the return into kx_thread_entry. */
	sp = (uint64_t *)((uintptr_t)stack & ~(uintptr_t)15);
	*--sp = 0; /* keeps the entry's stack as a call would leave it */
	*--sp = (uint64_t)(uintptr_t)kx_thread_entry;
	for (int i = 0; i < 6; i++)
		*--sp = 0;
	*--sp = 0x1f80ull | (0x37full << 32);
	t->sp = sp;
	t->state = T_RUNNABLE;
	live++;
	preempt_on();
	return (int)t->tid;
}

int __kx_clone(int (*fn)(void *), void *stack, int flags, void *arg, int *ptid, void *tls,
	       int *ctid)
{
	int rc;

	kx_runtime_enter();
	rc = clone_thread(fn, stack, flags, arg, ptid, tls, ctid);
	kx_runtime_leave();
	return rc;
}

KX_SYS(clone)
{
	(void)a;
	/* The raw call returns in two places; musl's clone() goes through
	 * __clone (__kx_clone) instead, and fork through SYS_fork (proc.c). */
	return kx_enosys(SYS_clone);
}

/* The end of the calling thread; the end of the pVM for the last one. */
KX_SYS(exit)
{
	if (live == 1)
		kx_exit((int)(a[0] & 0xff));
	if (cur->clear_tid) {
		*cur->clear_tid = 0;
		kx_unblock(cur->clear_tid, 1);
	}
	live--;
	cur->state = T_FREE; /* its slot is reusable once we are off its stack */
	schedule();
	kx_panic("posix: an exited thread was resumed");
}

void __kx_unmapself(void *base, size_t size)
{
	long a[6] = {0};

	kx_runtime_enter(); /* for good: this thread ends in there */
	unmap_later.base = base;
	unmap_later.size = size;
	kx_sys_exit(a);
	__builtin_unreachable();
}

KX_SYS(exit_group)
{
	kx_exit((int)(a[0] & 0xff));
}

KX_SYS(set_tid_address)
{
	cur->clear_tid = (int *)a[0];
	return cur->tid;
}

KX_SYS(gettid)
{
	(void)a;
	return cur->tid;
}

KX_SYS(set_robust_list)
{
	/* Robust mutexes need a dying thread's list walked; threads here end
	 * only by exiting, which musl handles itself. */
	return a[1] == 3 * (long)sizeof(void *) ? 0 : -EINVAL;
}

KX_SYS(sched_yield)
{
	(void)a;
	kx_yield();
	return 0;
}

long kx_requeue(const void *from, const void *to, long n)
{
	long moved = 0;

	for (size_t i = 0; i < MAX_THREADS && moved < n; i++)
		if (threads[i].state == T_BLOCKED && threads[i].wait_on == from) {
			threads[i].wait_on = to;
			moved++;
		}
	return moved;
}

KX_SYS(prctl)
{
	switch ((int)a[0]) {
	case PR_SET_NAME:
		strncpy(cur->name, (const char *)a[1], sizeof(cur->name) - 1);
		cur->name[sizeof(cur->name) - 1] = '\0';
		return 0;
	case PR_GET_NAME:
		memcpy((char *)a[1], cur->name, sizeof(cur->name));
		return 0;
	default:
		return -EINVAL;
	}
}
