/* forker: processes.  A parent forks three workers that share a pipe with
 * it: each computes a sum, writes one line and exits with its own status;
 * the parent reads the pipe to end of file (every write end closed in
 * every process), collects each worker by pid with waitpid, then kills a
 * child that waits in pause() and sees it die of the signal, and checks
 * the ids (getpid/getppid), WNOHANG, waitid and ECHILD, and a child's
 * SIGUSR1 handler running for the parent's kill.  In a pVM every
 * process is a pVM forked through kxd (tests/cli/libc_proc.bats); the
 * output must equal the native run's. */
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"

#define WORKERS 3

static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void worker(int i, int wfd, pid_t parent, long long forked_ms)
{
	char line[80];
	long long now = mono_ms();
	long sum = 0;
	int n;

	for (long k = 1; k <= 100000l * (i + 1); k++)
		sum += k % 7;
	/* The child's clock goes on from the parent's (a forked pVM's clock
	 * page is re-based for its new vCPU). */
	n = snprintf(line, sizeof(line), "worker %d: sum %ld, parent ok %d, clock ok %d\n", i, sum,
		     getppid() == parent, now >= forked_ms && now - forked_ms < 60000);
	if (write(wfd, line, (size_t)n) != n)
		_exit(99);
	_exit(10 + i);
}

int main(int argc, char **argv)
{
	char buf[512], lines[WORKERS][80];
	pid_t pids[WORKERS], me = getpid(), pid;
	int fds[2], status, nlines = 0, ok_status = 1, ok_order = 1;
	size_t got = 0;
	ssize_t n;
	siginfo_t si;

	enter_scratch(argc, argv);
	check(me > 0 && getppid() != me, "getpid and getppid");
	CHECK_ERR(waitpid(-1, &status, 0), ECHILD, "waitpid with no children");
	check(pipe(fds) == 0, "pipe");
	for (int i = 0; i < WORKERS; i++) {
		long long before = mono_ms();

		pids[i] = fork();
		if (pids[i] == 0) {
			close(fds[0]);
			worker(i, fds[1], me, before);
		}
		ok_order &= pids[i] > 0 && pids[i] != me;
	}
	check(ok_order, "fork: %d children, each with its own pid", WORKERS);
	close(fds[1]);
	while ((n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	check(n == 0, "the pipe reaches end of file once every writer closed it");
	close(fds[0]);
	buf[got] = '\0';
	for (char *s = buf, *nl; (nl = strchr(s, '\n')) && nlines < WORKERS; s = nl + 1) {
		snprintf(lines[nlines++], sizeof(lines[0]), "%.*s", (int)(nl - s), s);
	}
	qsort(lines, (size_t)nlines, sizeof(lines[0]), cmp_lines);
	for (int i = 0; i < nlines; i++)
		printf("%s\n", lines[i]);
	check(nlines == WORKERS, "one line from each worker");
	for (int i = WORKERS - 1; i >= 0; i--) {
		pid = waitpid(pids[i], &status, 0);
		ok_status &= pid == pids[i] && WIFEXITED(status) && WEXITSTATUS(status) == 10 + i;
	}
	check(ok_status, "waitpid by pid: each worker's exit status");
	CHECK_ERR(waitpid(pids[0], &status, 0), ECHILD, "a child is collected once");

	pid = fork();
	if (pid == 0) {
		pause(); /* until the parent's signal ends it */
		_exit(1);
	}
	check(waitpid(pid, &status, WNOHANG) == 0, "WNOHANG: the child still runs");
	check(kill(pid, SIGTERM) == 0, "kill(child, SIGTERM)");
	check(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
	      "the child died of SIGTERM");

	/* A handler in the child runs for the parent's signal. */
	check(pipe(fds) == 0, "a pipe for the child's go-ahead");
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = {.sa_handler = on_usr1};

		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
		close(fds[0]);
		if (write(fds[1], "r", 1) != 1)
			_exit(90);
		while (!usr1)
			pause();
		_exit(7);
	}
	close(fds[1]);
	check(read(fds[0], buf, 1) == 1 && kill(pid, SIGUSR1) == 0 && waitpid(pid, &status, 0) == pid &&
		      WIFEXITED(status) && WEXITSTATUS(status) == 7,
	      "the child's SIGUSR1 handler ran for the parent's kill: it exited 7");
	close(fds[0]);

	pid = fork();
	if (pid == 0)
		_exit(3);
	memset(&si, 0, sizeof(si));
	check(waitid(P_PID, (id_t)pid, &si, WEXITED) == 0 && si.si_pid == pid &&
		      si.si_code == CLD_EXITED && si.si_status == 3 && si.si_signo == SIGCHLD,
	      "waitid: CLD_EXITED with status 3");
	CHECK_ERR(kill(pid, 0), ESRCH, "kill(0) of a collected child");
	return summary();
}
