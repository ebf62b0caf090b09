/* signals a process sends itself: handlers, masks, pending signals,
 * SA_SIGINFO, SA_RESETHAND, ignoring. */
#include <signal.h>

#include "check.h"

static volatile sig_atomic_t hits, last_sig, info_code_ok;

static void on_signal(int sig)
{
	hits++;
	last_sig = sig;
}

static void on_info(int sig, siginfo_t *si, void *ctx)
{
	hits++;
	last_sig = sig;
	info_code_ok = si->si_signo == sig && ctx != NULL;
}

static void nested(int sig)
{
	sigset_t now;

	(void)sig;
	sigprocmask(SIG_BLOCK, NULL, &now);
	hits += sigismember(&now, SIGUSR2) ? 10 : 1; /* blocked while it runs */
}

int main(int argc, char **argv)
{
	struct sigaction sa, old;
	sigset_t set, pending;

	enter_scratch(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	check(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction SIGUSR1");
	check(raise(SIGUSR1) == 0 && hits == 1 && last_sig == SIGUSR1, "raise runs the handler");
	check(kill(getpid(), SIGUSR1) == 0 && hits == 2, "kill(getpid()) too");
	check(sigaction(SIGUSR1, NULL, &old) == 0 && old.sa_handler == on_signal,
	      "sigaction reports the handler");

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	check(sigprocmask(SIG_BLOCK, &set, NULL) == 0, "block SIGUSR1");
	raise(SIGUSR1);
	check(hits == 2, "a blocked signal waits");
	check(sigpending(&pending) == 0 && sigismember(&pending, SIGUSR1), "sigpending shows it");
	check(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0 && hits == 3,
	      "unblocking delivers it before sigprocmask returns");
	check(sigpending(&pending) == 0 && !sigismember(&pending, SIGUSR1), "nothing pending now");

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_info;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	check(sigaction(SIGUSR2, &sa, NULL) == 0, "SA_SIGINFO | SA_RESETHAND");
	check(raise(SIGUSR2) == 0 && hits == 4 && last_sig == SIGUSR2 && info_code_ok,
	      "the handler gets siginfo and a context");
	check(sigaction(SIGUSR2, NULL, &old) == 0 && old.sa_handler == SIG_DFL,
	      "SA_RESETHAND restored the default");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nested;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	check(hits == 14, "sa_mask is blocked while the handler runs");
	sigprocmask(SIG_BLOCK, NULL, &set);
	check(!sigismember(&set, SIGUSR2) && !sigismember(&set, SIGUSR1),
	      "and unblocked after it");

	check(signal(SIGUSR1, SIG_IGN) != SIG_ERR && raise(SIGUSR1) == 0 && hits == 14,
	      "an ignored signal does nothing");
	check(signal(SIGCHLD, SIG_DFL) != SIG_ERR && raise(SIGCHLD) == 0, "SIGCHLD's default: ignore");
	CHECK_ERR(sigaction(SIGKILL, &sa, NULL), EINVAL, "sigaction on SIGKILL");
	CHECK_ERR(kill(getpid(), 1000), EINVAL, "kill with signal 1000");
	check(kill(getpid(), 0) == 0, "kill with signal 0 checks the target");
	sigemptyset(&set);
	sigaddset(&set, SIGKILL);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigprocmask(SIG_BLOCK, NULL, &set);
	check(!sigismember(&set, SIGKILL), "SIGKILL cannot be blocked");
	return summary();
}
