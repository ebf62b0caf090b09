/*
 * pipex — cross-domain wakeups on Xen (tests/xen/dom0/pipe.sh; signed as
 * app xipc).  A pipe round trip between a parent and its forked child,
 * each pVM its own domain: a side that sleeps in KX_HC_NOTIFY_WAIT must be
 * woken by the other's write, not find the byte when its wait reaches its
 * time limit (KX_IPC_WAIT_MAX_NS).  The monitor counts both kinds of
 * endings on the boot page (struct kx_ring_boot: ipc_waits_woken,
 * ipc_waits_timed_out); each side prints its own.
 *   pipex rtt N   N round trips of one byte each way
 *   pipex msgq N  message queues both ways: the parent sends N messages
 *                 of growing length on one queue, the child returns each,
 *                 changed, on another; the parent checks every byte
 *   pipex leak    (SECURITY.md, Xen frames) fill a shared segment with a
 *                 marker, let a forked child hold it while this pVM detaches
 *                 it (its frames go back to Xen once the child ends, and
 *                 Xen does not scrub them while this pVM lives), print
 *                 "ready", then wait to be killed
 *   pipex zeroheap  every byte of the untouched half of the heap is 0 (a
 *                 fresh pVM's memory, as on KVM), the marker nowhere
 *   pipex forks N   N rounds of fork, the child's exit and wait, print
 *                 "forked N", then wait to be killed (the script counts
 *                 zombie processes meanwhile)
 */
#include "guest/kxguest.h"
#include "guest/runtime.h"
#include "guest/xen/pv.h"

static void counts(const char *who, int n)
{
	const volatile struct kx_ring_boot *bp = kx_xen_boot_page();

	if (bp == NULL) {
		printf("%s: no monitor\n", who);
		return;
	}
	printf("%s: %d round trips, waits woken %llu, timed out %llu\n", who, n,
	       (unsigned long long)bp->ipc_waits_woken,
	       (unsigned long long)bp->ipc_waits_timed_out);
}

static int rtt(int n)
{
	int ab[2], ba[2], status = -1;
	char c = 0;
	long id;

	/* Sleep at once when the byte is not there: no spinning that could
	 * hide whether the other side's write wakes us. */
	kx_ipc_spin(0);
	if (kx_pipe(ab) != 0 || kx_pipe(ba) != 0) {
		printf("pipe failed\n");
		return 1;
	}
	id = kx_fork();
	if (id == 0) {
		for (int i = 0; i < n; i++)
			if (kx_read(ab[0], &c, 1) != 1 || kx_write(ba[1], &c, 1) != 1)
				return 1;
		counts("child", n);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		c = (char)i;
		if (kx_write(ab[1], &c, 1) != 1 || kx_read(ba[0], &c, 1) != 1 || c != (char)i) {
			printf("round trip %d failed\n", i);
			return 1;
		}
	}
	kx_wait((uint64_t)id, &status);
	counts("parent", n);
	printf("child status %d\n", status);
	return 0;
}

static uint8_t msg[4096];

static size_t msg_len(int i)
{
	return 1 + (size_t)i * 37 % 2000;
}

static int msgq(int n)
{
	long to_child = kx_msgget(KX_IPC_PRIVATE, 0), to_parent = kx_msgget(KX_IPC_PRIVATE, 0);
	long id, rc;
	int bad = 0, status = -1;

	if (to_child <= 0 || to_parent <= 0) {
		printf("msgget: %ld %ld\n", to_child, to_parent);
		return 1;
	}
	id = kx_fork();
	if (id == 0) {
		for (int i = 0; i < n; i++) {
			rc = kx_msgrcv(to_child, msg, sizeof(msg), 0);
			if (rc != (long)msg_len(i))
				return 1;
			for (long k = 0; k < rc; k++)
				msg[k] = (uint8_t)(msg[k] ^ 0x5a);
			if (kx_msgsnd(to_parent, msg, (size_t)rc, 0) != 0)
				return 1;
		}
		return 0;
	}
	for (int i = 0; i < n; i++) {
		for (size_t k = 0; k < msg_len(i); k++)
			msg[k] = (uint8_t)(i + k);
		if (kx_msgsnd(to_child, msg, msg_len(i), 0) != 0) {
			printf("msgsnd %d failed\n", i);
			return 1;
		}
		rc = kx_msgrcv(to_parent, msg, sizeof(msg), 0);
		if (rc != (long)msg_len(i))
			bad++;
		for (long k = 0; rc > 0 && k < rc; k++)
			bad += msg[k] != (uint8_t)((uint8_t)(i + k) ^ 0x5a);
	}
	kx_wait((uint64_t)id, &status);
	printf("msgq: %d messages each way, %d wrong, child status %d\n", n, bad, status);
	printf("msgrm: %ld %ld\n", kx_msgrm(to_child), kx_msgrm(to_parent));
	return 0;
}

static unsigned long long self_id(void)
{
	struct kx_hc_self self = {0};

	kx_hcall(&self.hdr, KX_HC_SELF);
	return (unsigned long long)self.pvm_id;
}

#define LEAK_PAGES  64
#define LEAK_MARKER 0x6b61654c6e654b58ull /* "XKenLeak" */

static int leak(void)
{
	long s = kx_shmget(KX_IPC_PRIVATE, LEAK_PAGES * 4096, KX_IPC_CREAT), id;
	uint64_t *p = s > 0 ? kx_shmat(s, NULL, 0) : NULL;
	int go[2], status = -1;
	char c = 0;

	if (p == NULL || kx_pipe(go) != 0) {
		printf("shmget/shmat/pipe failed: %ld\n", s);
		return 1;
	}
	for (size_t i = 0; i < LEAK_PAGES * 4096 / 8; i++)
		p[i] = LEAK_MARKER;
	id = kx_fork();
	if (id == 0) {
		kx_read(go[0], &c, 1); /* holds the frames until the parent let go */
		return 0;
	}
	printf("shmdt: %ld\n", kx_shmdt(p));
	kx_write(go[1], &c, 1);
	kx_wait((uint64_t)id, &status);
	printf("ready %llu\n", self_id());
	for (;;)
		kx_pause();
}

static int zeroheap(void)
{
	const struct kx_boot_info *b = kx_boot_info();
	const uint64_t *from = (const uint64_t *)(uintptr_t)(b->heap_start + (1u << 20));
	const uint64_t *to = (const uint64_t *)(uintptr_t)(b->heap_start + b->heap_size / 2);
	uint64_t nonzero = 0, marker = 0;

	for (const uint64_t *q = from; q < to; q++) {
		nonzero += *q != 0;
		marker += *q == LEAK_MARKER;
	}
	printf("heap: %llu KiB scanned, %llu nonzero words, %llu marker words\n",
	       (unsigned long long)((uintptr_t)to - (uintptr_t)from) >> 10,
	       (unsigned long long)nonzero, (unsigned long long)marker);
	return 0;
}

static int forks(int n)
{
	for (int i = 0; i < n; i++) {
		int status = -1;
		long id = kx_fork();

		if (id == 0)
			kx_exit(0);
		if (id < 0 || kx_wait((uint64_t)id, &status) != 0 || status != 0) {
			printf("fork round %d failed: %ld\n", i, id);
			return 1;
		}
	}
	printf("forked %d, pvm %llu\n", n, self_id());
	for (;;)
		kx_pause();
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "rtt") == 0)
		return rtt(atoi(argv[2]));
	if (argc > 2 && strcmp(argv[1], "msgq") == 0)
		return msgq(atoi(argv[2]));
	if (argc > 1 && strcmp(argv[1], "leak") == 0)
		return leak();
	if (argc > 1 && strcmp(argv[1], "zeroheap") == 0)
		return zeroheap();
	if (argc > 2 && strcmp(argv[1], "forks") == 0)
		return forks(atoi(argv[2]));
	printf("usage: pipex rtt N | msgq N\n");
	return 2;
}
