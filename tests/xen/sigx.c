/*
 * sigx — signal handlers on Xen (tests/xen/dom0/signal.sh; signed as app
 * xsig, the same policy as tests/guest/sigt.c's Xen image).
 *
 * On Xen a handler runs at the pVM's next kx call (docs/xen-backend.md
 * "Signals"), so unlike sigt's `handler` mode, whose child computes without
 * any kx call, this child makes a kx call (KX_HC_CLOCK over the ring)
 * inside every round of its checksum: the handler interrupts the code in
 * the middle of that computation, and the round's checksum must still
 * equal the one made before any signal.
 *   sigx handler   the parent pings its child PINGS times with KX_SIGUSR1;
 *                  the child's handler checks its argument and acks with
 *                  KX_SIGUSR2, which the parent's handler takes while it
 *                  waits in kx_pause
 * Every line signal.sh matches is printed by the pVM that knows it.
 */
#include "guest/kxguest.h"
#include "guest/runtime.h"

#define ROUND_STEPS 20000u
#define CALL_EVERY  1000u
#define PINGS	    5

static volatile int got, acks, bad_arg;

/* A kx call that goes over the ring (the runtime's clock does not). */
static void ring_call(void)
{
	struct kx_hc_clock c = {0};

	kx_hcall(&c.hdr, KX_HC_CLOCK);
}

/* Keeps its state in registers across the kx calls the handler interrupts. */
static uint64_t checksum(uint64_t steps)
{
	uint64_t x = 88172645463325252ull, sum = 0;

	for (uint64_t i = 0; i < steps; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += x * (i | 1);
		if (i % CALL_EVERY == 0)
			ring_call();
	}
	return sum;
}

/* Clobbers general and SSE registers, uses the stack, makes kx calls. */
static void on_ping(int sig)
{
	volatile double f = 1.5;
	char scratch[256];

	memset(scratch, sig, sizeof(scratch));
	f = f * (double)scratch[3];
	bad_arg += sig != KX_SIGUSR1;
	got = got + 1 + (f < 0);
	kx_kill(0, KX_SIGUSR2); /* the parent: ack */
}

static void on_ack(int sig)
{
	bad_arg += sig != KX_SIGUSR2;
	acks = acks + 1;
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
		printf("child: %d signals handled, argument %s, %s rounds intact\n", got,
		       bad_arg == 0 ? "right" : "WRONG", bad == 0 && rounds > 0 ? "all" : "NOT all");
		return bad == 0 && bad_arg == 0 ? 0 : 1;
	}
	for (int i = 1; i <= PINGS + 1; i++) {
		while (acks < i)
			kx_pause();
		if (i <= PINGS)
			kx_kill((uint64_t)child, KX_SIGUSR1);
	}
	while (kx_wait((uint64_t)child, &status) == -KX_EINTR)
		;
	printf("parent: acks %d, argument %s, child status %d\n", acks,
	       bad_arg == 0 ? "right" : "WRONG", status);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "handler";

	if (strcmp(mode, "handler") == 0)
		return handler();
	printf("sigx: unknown mode %s\n", mode);
	return 2;
}
