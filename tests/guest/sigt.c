/*
 * sigt — signals between pVMs (tests/cli/kvm_signal.bats).
 *   sigt handler       a child's handler runs while it computes a checksum:
 *                      every round's checksum equals the one made before
 *   sigt default SIG   the child has no handler: SIG's default action
 *   sigt kill9         KX_SIGKILL cannot be caught; it ends the child (137)
 *   sigt send ID SIG   kx_kill(ID, SIG) and print what it returned
 *   sigt target        handle KX_SIGUSR1 once, then exit 0
 *   sigt linger        print "ready", then pause (default actions apply)
 *   sigt eintr         a signal interrupts kx_wait (-KX_EINTR)
 *   sigt chld          KX_SIGCHLD when a child exits
 *   sigt waitany       kx_waitx: no-hang, timeout, any child, -KX_ECHILD
 *   sigt hostile       bad numbers, a handler without trampoline, SIGRETURN
 *                      outside a handler and twice: each -KX_EINVAL
 *   sigt forkbench MIB ROUNDS   (make bench) touch MIB MiB, then time
 *                      kx_fork + the child's exit + kx_wait, ROUNDS times
 *   sigt sigbench ROUNDS          (make bench) after KX_SIGUSR2 from the
 *                      bench, time ROUNDS signal round trips with a child
 * Every line a test matches is printed by the pVM that knows it.
 */
#include "guest/kxguest.h"
#include "guest/runtime.h"

#define ROUND_STEPS 200000u
#define PINGS	    5

static volatile int got, acks;
static volatile int last_sig;

static uint64_t checksum(uint64_t steps)
{
	uint64_t x = 88172645463325252ull, sum = 0;

	for (uint64_t i = 0; i < steps; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += x * (i | 1);
	}
	return sum;
}

/* Clobbers general and SSE registers the interrupted code may hold. */
static void on_ping(int sig)
{
	volatile double f = 1.5;
	char scratch[64];

	memset(scratch, sig, sizeof(scratch));
	f = f * (double)scratch[3];
	got = got + 1 + (f < 0);
	kx_kill(0, KX_SIGUSR2); /* the parent: ack */
}

static void on_ack(int sig)
{
	(void)sig;
	acks = acks + 1;
}

static void on_note(int sig)
{
	last_sig = sig;
	got = got + 1;
}

static int handler(void)
{
	long child;
	int status = -1;

	kx_signal(KX_SIGUSR2, on_ack);
	child = kx_fork();
	if (child == 0) {
		uint64_t ref, rounds = 0, bad = 0;

		kx_signal(KX_SIGUSR1, on_ping);
		ref = checksum(ROUND_STEPS);
		kx_kill(0, KX_SIGUSR2); /* ready */
		while (got < PINGS) {
			bad += checksum(ROUND_STEPS) != ref;
			rounds++;
		}
		printf("child: %d signals handled, %s rounds intact\n", got,
		       bad == 0 && rounds > 0 ? "all" : "NOT all");
		return bad == 0 ? 0 : 1;
	}
	for (int i = 1; i <= PINGS; i++) {
		while (acks < i)
			kx_pause();
		kx_kill((uint64_t)child, KX_SIGUSR1);
	}
	while (kx_wait((uint64_t)child, &status) == -KX_EINTR)
		; /* the last ack may interrupt it */
	printf("parent: acks %d, child status %d\n", acks, status);
	return 0;
}

static long fork_pauser(void)
{
	long child = kx_fork();

	if (child == 0)
		for (;;)
			kx_pause();
	return child;
}

static int default_action(int sig)
{
	int status = -1;
	long child = fork_pauser();

	printf("kill: %ld\n", kx_kill((uint64_t)child, sig));
	kx_wait((uint64_t)child, &status);
	printf("child status %d\n", status);
	return 0;
}

static int kill9(void)
{
	int status = -1;
	long child;

	printf("catch SIGKILL: %ld\n", kx_signal(KX_SIGKILL, on_note));
	printf("ignore SIGKILL: %ld\n", kx_signal(KX_SIGKILL, KX_SIGH_IGN));
	printf("signal 32: %ld\n", kx_signal(KX_NSIG, on_note));
	kx_signal(KX_SIGTERM, on_note);
	child = fork_pauser();
	kx_kill((uint64_t)child, KX_SIGKILL);
	kx_wait((uint64_t)child, &status);
	printf("child status %d\n", status);
	return 0;
}

static int target(void)
{
	kx_signal(KX_SIGUSR1, on_note);
	printf("ready\n");
	while (!got)
		kx_pause();
	printf("target: handled signal %d\n", last_sig);
	return 0;
}

static int eintr(void)
{
	long pauser, nagger, rc;
	int status = -1;

	kx_signal(KX_SIGUSR1, on_note);
	pauser = fork_pauser();
	nagger = kx_fork();
	if (nagger == 0) {
		/* until the parent, blocked in kx_wait, ends it */
		for (;;) {
			uint64_t until = kx_clock_monotonic_ns() + 10000000ull;

			kx_kill(0, KX_SIGUSR1);
			while (kx_clock_monotonic_ns() < until)
				;
		}
	}
	rc = kx_wait((uint64_t)pauser, &status); /* the pauser never ends by itself */
	printf("wait: %ld, handler ran: %s\n", rc, got > 0 ? "yes" : "no");
	kx_kill((uint64_t)nagger, KX_SIGKILL);
	kx_kill((uint64_t)pauser, KX_SIGKILL);
	kx_wait((uint64_t)nagger, &status);
	printf("nagger status %d\n", status);
	return 0;
}

void kx_sig_trampoline(void); /* guest/signal.c */

static long raw_sigaction(uint64_t sig, uint64_t handler, uint64_t trampoline)
{
	struct kx_hc_sigaction a = {.sig = sig, .handler = handler, .trampoline = trampoline};

	return (long)kx_hcall(&a.hdr, KX_HC_SIGACTION);
}

static long raw_sigreturn(void)
{
	struct kx_hc_sigreturn r = {0};

	return (long)kx_hcall(&r.hdr, KX_HC_SIGRETURN);
}

static volatile long early_return;

/* Leaves through its own SIGRETURN, not the trampoline's: the code it
 * interrupted goes on, and the rest of the handler never runs. */
static void on_early(int sig)
{
	got = got + 1 + (sig != KX_SIGUSR1);
	early_return = raw_sigreturn();
	early_return = 99;
}

static int hostile(void)
{
	uint64_t tramp = (uint64_t)(uintptr_t)kx_sig_trampoline;
	int status = -1;
	long child;

	printf("sigreturn outside a handler: %ld\n", raw_sigreturn());
	printf("signal 0: %ld\n", kx_signal(0, on_note));
	printf("signal 32: %ld\n", kx_signal(32, on_note));
	printf("signal SIGKILL: %ld\n", kx_signal(KX_SIGKILL, on_note));
	printf("signal 2^32+10: %ld\n",
	       raw_sigaction((1ull << 32) | KX_SIGUSR1, (uint64_t)(uintptr_t)on_note, tramp));
	printf("handler without trampoline: %ld\n",
	       raw_sigaction(KX_SIGUSR1, (uint64_t)(uintptr_t)on_note, 0));
	printf("kill signal 64: %ld\n", kx_kill(0, 64));
	printf("kill signal -1: %ld\n", kx_kill(0, -1));
	kx_signal(KX_SIGUSR1, on_early);
	child = kx_fork();
	if (child == 0) {
		kx_kill(0, KX_SIGUSR1);
		return 0;
	}
	while (got == 0)
		kx_pause();
	printf("handler left early: %d, %ld\n", got, early_return);
	printf("sigreturn again: %ld\n", raw_sigreturn());
	kx_wait((uint64_t)child, &status);
	printf("survived\n");
	return 0;
}

static int chld(void)
{
	int status = -1;
	long child, rc;

	kx_signal(KX_SIGCHLD, on_note);
	child = kx_fork();
	if (child == 0)
		return 5;
	while (!got)
		kx_pause();
	printf("signal %d from the child\n", last_sig);
	rc = kx_wait((uint64_t)child, &status);
	printf("wait: %ld status %d\n", rc, status);
	return 0;
}

static int waitany(void)
{
	int status = -1;
	long pauser = fork_pauser(), quick, rc;

	printf("no-hang: %ld\n", kx_waitx((uint64_t)pauser, KX_WNOHANG, 0, &status));
	printf("timeout: %ld\n", kx_waitx((uint64_t)pauser, 0, 50000000ull, &status));
	quick = kx_fork();
	if (quick == 0)
		return 4;
	rc = kx_waitx(0, 0, 0, &status);
	printf("any: %s status %d\n", rc == quick ? "the quick child" : "another", status);
	kx_kill((uint64_t)pauser, KX_SIGKILL);
	rc = kx_waitx(0, 0, 0, &status);
	printf("any: %s status %d\n", rc == pauser ? "the pauser" : "another", status);
	printf("none left: %ld\n", kx_waitx(0, 0, 0, &status));
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median, in place (a small sort: the runtime has no qsort). */
static uint64_t median(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && cmp_u64(&v[j - 1], &v[j]) > 0; j--) {
			uint64_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

/* One kx_fork + the child's exit + kx_wait; with trace, both sides print
 * their clock readings (round I parent T0 T1 T2 / round I child TC), out
 * of the way of untraced rounds' timing. */
static int fork_round(int i, int trace, uint64_t *total)
{
	int status = -1;
	uint64_t t0 = kx_clock_monotonic_ns(), t1, t2;
	long id = kx_fork();

	t1 = kx_clock_monotonic_ns();
	if (id == 0) {
		if (trace)
			printf("round %d child %llu\n", i, (unsigned long long)t1);
		kx_exit(0);
	}
	if (id < 0 || kx_wait((uint64_t)id, &status) != 0 || status != 0)
		return -1;
	t2 = kx_clock_monotonic_ns();
	*total = t2 - t0;
	if (trace)
		printf("round %d parent %llu %llu %llu\n", i, (unsigned long long)t0,
		       (unsigned long long)t1, (unsigned long long)t2);
	return 0;
}

/* The gate's answer alone: forks denied by max-children while a child lives. */
static uint64_t fork_ask(int rounds, uint64_t *t)
{
	long keeper = fork_pauser(), denied;
	int status;

	for (int i = 0; i < rounds; i++) {
		uint64_t t0 = kx_clock_monotonic_ns();

		denied = kx_fork();
		t[i] = kx_clock_monotonic_ns() - t0;
		if (denied >= 0)
			return 0; /* the bench's policy allows one child at a time */
	}
	kx_kill((uint64_t)keeper, KX_SIGKILL);
	kx_wait((uint64_t)keeper, &status);
	return median(t, rounds);
}

static int forkbench(unsigned mib, int rounds)
{
	size_t size = (size_t)mib << 20;
	uint64_t t[256], ask;
	char *mem = malloc(size);

	if (mem == NULL || rounds < 1 || rounds > 256)
		return 2;
	for (size_t off = 0; off < size; off += KX_PAGE_SIZE)
		mem[off] = (char)off; /* every page touched, as the Linux side does */
	for (int i = -3; i < rounds; i++)
		if (fork_round(i, 0, &t[i < 0 ? 0 : i]) != 0)
			return 3;
	printf("fork %u MiB: median %llu ns\n", mib, (unsigned long long)median(t, rounds));
	for (int i = 0; i < rounds; i++)
		if (fork_round(i, 1, &t[i]) != 0)
			return 3;
	ask = fork_ask(rounds, t);
	printf("ask: median %llu ns\n", (unsigned long long)ask);
	return ask ? 0 : 4;
}

static void on_echo(int sig)
{
	kx_kill(0, sig); /* the child answers at once */
}

static int sigbench(int rounds)
{
	long child;
	uint64_t t0 = 0;
	int status;

	kx_signal(KX_SIGUSR1, on_ack);
	kx_signal(KX_SIGUSR2, on_note);
	child = kx_fork();
	if (child == 0) {
		kx_signal(KX_SIGUSR1, on_echo);
		for (;;)
			kx_pause();
	}
	printf("ready: child %ld\n", child);
	while (!got)
		kx_pause(); /* the bench pins both kxmons, then says go */
	for (int i = -100; i < rounds; i++) {
		int want = acks + 1;

		if (i == 0)
			t0 = kx_clock_monotonic_ns();
		kx_kill((uint64_t)child, KX_SIGUSR1);
		while (acks < want)
			kx_pause();
	}
	printf("signal round trip: %llu ns\n",
	       (unsigned long long)((kx_clock_monotonic_ns() - t0) / (uint64_t)rounds));
	kx_kill((uint64_t)child, KX_SIGKILL);
	kx_wait((uint64_t)child, &status);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "handler";

	if (strcmp(mode, "default") == 0)
		return default_action(argc > 2 ? atoi(argv[2]) : KX_SIGTERM);
	if (strcmp(mode, "kill9") == 0)
		return kill9();
	if (strcmp(mode, "send") == 0 && argc > 3) {
		printf("kill %s %s: %ld\n", argv[2], argv[3],
		       kx_kill(strtoul(argv[2], NULL, 10), atoi(argv[3])));
		return 0;
	}
	if (strcmp(mode, "target") == 0)
		return target();
	if (strcmp(mode, "linger") == 0) {
		printf("ready\n");
		for (;;)
			kx_pause();
	}
	if (strcmp(mode, "eintr") == 0)
		return eintr();
	if (strcmp(mode, "chld") == 0)
		return chld();
	if (strcmp(mode, "waitany") == 0)
		return waitany();
	if (strcmp(mode, "hostile") == 0)
		return hostile();
	if (strcmp(mode, "forkbench") == 0 && argc > 3)
		return forkbench(strtoul(argv[2], NULL, 10), atoi(argv[3]));
	if (strcmp(mode, "sigbench") == 0 && argc > 2)
		return sigbench(atoi(argv[2]));
	return handler();
}
