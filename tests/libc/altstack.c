/* sigaltstack and SA_ONSTACK: a handler runs on the alternate stack only
 * when its action asks for it; a nested handler stays on it (below the
 * outer one) instead of starting again at its top; the stack is per thread;
 * changing it while on it is EPERM; SS_AUTODISARM disables it inside the
 * handler; a siglongjmp out of a handler leaves it; Linux's errors. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>

#include "check.h"

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1u << 31) /* <linux/signal.h>; glibc's headers lack it */
#endif

#define ALT_SIZE (64 * 1024)

static char alt[ALT_SIZE] __attribute__((aligned(16)));
static char alt2[ALT_SIZE] __attribute__((aligned(16)));

/* What a handler saw, read by main after it returned. */
static volatile uintptr_t local_at, nested_at;
static volatile int query_flags, query_rc, change_errno, big_sum, uc_ok;
static sigjmp_buf out;

static int on(const char *stack, uintptr_t at)
{
	return at > (uintptr_t)stack && at <= (uintptr_t)stack + ALT_SIZE;
}

static void where(int sig)
{
	volatile char here = 0;
	stack_t now;

	(void)sig;
	local_at = (uintptr_t)&here;
	query_rc = sigaltstack(NULL, &now);
	query_flags = now.ss_flags;
}

static void change_inside(int sig)
{
	stack_t other = {.ss_sp = alt2, .ss_size = ALT_SIZE};

	where(sig);
	errno = 0;
	change_errno = sigaltstack(&other, NULL) == 0 ? 0 : errno;
}

static void inner(int sig)
{
	volatile char here = 0;

	(void)sig;
	nested_at = (uintptr_t)&here;
}

static void outer(int sig)
{
	where(sig);
	raise(SIGUSR2); /* SIGUSR2's action is SA_ONSTACK too */
}

/* 16 KiB of locals: more than a small stack would hold, well inside ours. */
static void big(int sig)
{
	volatile char buf[16 * 1024];

	where(sig);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)i;
	big_sum = 0;
	for (size_t i = 0; i < sizeof(buf); i += 1024)
		big_sum += buf[i];
}

static void with_info(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	where(sig);
	uc_ok = si->si_signo == sig && uc->uc_stack.ss_sp == alt &&
		uc->uc_stack.ss_size == ALT_SIZE;
}

static void jump_out(int sig)
{
	where(sig);
	siglongjmp(out, 1);
}

static void *thread_query(void *arg)
{
	stack_t now;

	(void)arg;
	query_rc = sigaltstack(NULL, &now);
	query_flags = now.ss_flags;
	raise(SIGUSR1); /* SA_ONSTACK, but this thread has no alternate stack */
	return NULL;
}

static int handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	return sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv)
{
	stack_t ss, old;
	struct sigaction sa;
	pthread_t t;

	enter_scratch(argc, argv);

	check(sigaltstack(NULL, &old) == 0 && old.ss_flags == SS_DISABLE,
	      "no alternate stack at first (SS_DISABLE)");
	ss = (stack_t){.ss_sp = alt, .ss_size = 1024}; /* below 2048, the kernel's MINSIGSTKSZ */
	errno = 0;
	check(sigaltstack(&ss, NULL) == -1 && errno == ENOMEM, "1 KiB, below MINSIGSTKSZ: ENOMEM");
	ss = (stack_t){.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 0x4000};
	errno = 0;
	check(sigaltstack(&ss, NULL) == -1 && errno == EINVAL, "an unknown flag: EINVAL");
	ss = (stack_t){.ss_sp = alt, .ss_size = ALT_SIZE};
	check(sigaltstack(&ss, NULL) == 0, "sigaltstack: 64 KiB");
	check(sigaltstack(NULL, &old) == 0 && old.ss_sp == alt && old.ss_size == ALT_SIZE &&
		      old.ss_flags == 0,
	      "it reports the stack, not on it (flags 0)");

	check(handle(SIGUSR1, where, 0) == 0 && raise(SIGUSR1) == 0, "a handler without SA_ONSTACK");
	check(!on(alt, local_at) && query_rc == 0 && query_flags == 0,
	      "runs on the thread's own stack");
	check(handle(SIGUSR1, where, SA_ONSTACK) == 0 && raise(SIGUSR1) == 0,
	      "a handler with SA_ONSTACK");
	check(on(alt, local_at), "runs on the alternate stack");
	check(query_rc == 0 && query_flags == SS_ONSTACK, "where sigaltstack says SS_ONSTACK");
	check(sigaltstack(NULL, &old) == 0 && old.ss_flags == 0, "and after it returned, 0 again");

	check(handle(SIGUSR1, change_inside, SA_ONSTACK) == 0 && raise(SIGUSR1) == 0 &&
		      change_errno == EPERM,
	      "changing the stack while on it: EPERM");
	check(sigaltstack(NULL, &old) == 0 && old.ss_sp == alt, "the stack stayed");

	local_at = nested_at = 0;
	check(handle(SIGUSR1, outer, SA_ONSTACK) == 0 && handle(SIGUSR2, inner, SA_ONSTACK) == 0 &&
		      raise(SIGUSR1) == 0,
	      "a handler on it raises another SA_ONSTACK signal");
	check(on(alt, local_at) && on(alt, nested_at) && nested_at < local_at,
	      "the nested handler runs on it too, below the outer one");

	check(handle(SIGUSR1, big, SA_ONSTACK) == 0 && raise(SIGUSR1) == 0, "16 KiB of locals");
	check(on(alt, local_at) && big_sum == 0, "fit on the alternate stack");

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = with_info;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	uc_ok = 0;
	check(sigaction(SIGUSR1, &sa, NULL) == 0 && raise(SIGUSR1) == 0 && on(alt, local_at),
	      "SA_SIGINFO | SA_ONSTACK runs on it");
	check(uc_ok, "its ucontext's uc_stack names the alternate stack");

	check(handle(SIGUSR1, jump_out, SA_ONSTACK) == 0, "a handler that siglongjmps out");
	if (sigsetjmp(out, 1) == 0)
		raise(SIGUSR1);
	check(on(alt, local_at), "it ran on the alternate stack");
	check(sigaltstack(NULL, &old) == 0 && old.ss_flags == 0, "and left it with the jump");

	check(handle(SIGUSR1, where, SA_ONSTACK) == 0 && pthread_create(&t, NULL, thread_query,
									  NULL) == 0 &&
		      pthread_join(t, NULL) == 0,
	      "a new thread raises an SA_ONSTACK signal");
	check(query_rc == 0 && query_flags == SS_DISABLE && !on(alt, local_at),
	      "a new thread has no alternate stack: its own stack");

	ss = (stack_t){.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = (int)SS_AUTODISARM};
	check(sigaltstack(&ss, NULL) == 0 && raise(SIGUSR1) == 0 && on(alt, local_at),
	      "SS_AUTODISARM: the handler runs on it");
	check(query_flags == SS_DISABLE, "with the stack disabled while it runs");
	check(sigaltstack(NULL, &old) == 0 && old.ss_sp == alt &&
		      (old.ss_flags & ~(int)SS_AUTODISARM) == 0,
	      "and back after it returned");

	ss = (stack_t){.ss_flags = SS_DISABLE};
	check(sigaltstack(&ss, NULL) == 0 && sigaltstack(NULL, &old) == 0 &&
		      old.ss_flags == SS_DISABLE,
	      "SS_DISABLE: no stack");
	check(raise(SIGUSR1) == 0 && !on(alt, local_at), "SA_ONSTACK then runs on the own stack");
	return summary();
}
