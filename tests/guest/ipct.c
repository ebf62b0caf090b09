/*
 * ipct — IpC objects in a pVM (tests/cli/kvm_ipc.bats, make bench).
 *   ipct pipe N      fork; the parent writes N bytes, the child reads them
 *                    back (checksummed), EOF once the writer closed
 *   ipct pipeup N    fork; the child writes N bytes and exits, the parent
 *                    reads them (checked) until end of file
 *   ipct epipe       the child closes its read end and exits: -KX_EPIPE
 *   ipct msgq        fork; 200 messages of 0..KX_IPC_MSG_MAX bytes, in order
 *   ipct shm         a segment written both ways across a fork
 *   ipct shmfault    shmdt, then touch the old address (the pVM faults)
 *   ipct errors      bad ids, sizes, flags, removed objects
 *   ipct serve KEY   create queue KEY, answer one message, wait for a second
 *   ipct ask KEY     open queue KEY (another app's), send, read the answer
 *   ipct shmkey KEY  create / open a segment with key KEY (kind test)
 *   ipct kill        fork a writer that stalls; report the end of file
 *                    once the operator killed it
 *   ipct famcap      keyed segments one family leaves in kxd, until refused
 *   ipct lockdeath   fork a child that dies holding a queue's lock mid-message
 *   ipct corrupt     fork a child that breaks the queue's indices; the
 *                    parent's msgrcv is -KX_EIO and it keeps running
 *   ipct rttpipe N   round trips over a pipe pair with a child only (ns)
 *   ipct rtt N [MS]  round trips over pipe, msgq and shm (ns per round trip),
 *                    pausing MS ms after each fork
 *   ipct mkq KEY     create queue KEY and exit (it stays)
 *   ipct firstcomm KEY   open another app's queue: first time vs again (ns)
 *   ipct hostile     raw hypercalls with hostile arguments: each gets an
 *                    error, the pVM keeps running
 *   ipct churn N     N pipes and N private queues made and dropped (kxd
 *                    must end where it started)
 */
#include "guest/kxguest.h"
#include "guest/runtime.h"

static uint8_t big[256 << 10];

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 131 + (i >> 9));
}

static int wait_child(long id)
{
	int status = -1;
	long rc = kx_wait((uint64_t)id, &status);

	return rc == 0 ? status : (int)rc;
}

static int pipe_test(uint64_t n)
{
	uint64_t sum = 0, got = 0;
	int fd[2];
	long id, rc;

	rc = kx_pipe(fd);
	if (rc != 0) {
		printf("pipe: %ld\n", rc);
		return 1;
	}
	id = kx_fork();
	if (id == 0) {
		kx_close(fd[1]);
		while ((rc = kx_read(fd[0], big, sizeof(big))) > 0) {
			for (long i = 0; i < rc; i++)
				if (big[i] != pattern(got + (uint64_t)i))
					kx_panic("byte %llu is wrong",
						 (unsigned long long)(got + i));
			for (long i = 0; i < rc; i++)
				sum += big[i];
			got += (uint64_t)rc;
		}
		printf("child read %llu bytes sum %llu then %ld\n", (unsigned long long)got,
		       (unsigned long long)sum, rc);
		return 0;
	}
	kx_close(fd[0]);
	for (uint64_t off = 0; off < n;) {
		uint64_t chunk = n - off < 100000 ? n - off : 100000;

		for (uint64_t i = 0; i < chunk; i++) {
			big[i] = pattern(off + i);
			sum += big[i];
		}
		rc = kx_write(fd[1], big, chunk);
		if (rc != (long)chunk) {
			printf("write: %ld\n", rc);
			return 1;
		}
		off += chunk;
	}
	kx_close(fd[1]);
	printf("parent wrote %llu bytes sum %llu\n", (unsigned long long)n,
	       (unsigned long long)sum);
	printf("child status %d\n", wait_child(id));
	return 0;
}

static int pipeup_test(uint64_t n)
{
	uint64_t sum = 0, got = 0;
	int fd[2];
	long id, rc;

	rc = kx_pipe(fd);
	if (rc != 0) {
		printf("pipe: %ld\n", rc);
		return 1;
	}
	id = kx_fork();
	if (id < 0) {
		printf("fork: %ld\n", id);
		return 1;
	}
	if (id == 0) {
		kx_close(fd[0]);
		for (uint64_t off = 0; off < n;) {
			uint64_t chunk = n - off < 100000 ? n - off : 100000;

			for (uint64_t i = 0; i < chunk; i++)
				big[i] = pattern(off + i);
			rc = kx_write(fd[1], big, chunk);
			if (rc != (long)chunk) {
				printf("child write: %ld\n", rc);
				return 1;
			}
			off += chunk;
		}
		return 0; /* its end closes with it */
	}
	kx_close(fd[1]);
	while ((rc = kx_read(fd[0], big, sizeof(big))) > 0) {
		for (long i = 0; i < rc; i++)
			if (big[i] != pattern(got + (uint64_t)i))
				kx_panic("byte %llu is wrong", (unsigned long long)(got + i));
		for (long i = 0; i < rc; i++)
			sum += big[i];
		got += (uint64_t)rc;
	}
	printf("parent read %llu bytes sum %llu then %ld\n", (unsigned long long)got,
	       (unsigned long long)sum, rc);
	printf("child status %d\n", wait_child(id));
	return 0;
}

static int epipe_test(void)
{
	int fd[2];
	long id, rc = kx_pipe(fd);

	if (rc != 0) {
		printf("pipe: %ld\n", rc);
		return 1;
	}
	id = kx_fork();
	if (id == 0)
		return kx_close(fd[0]) == 0 ? 0 : 1;
	kx_close(fd[0]);
	printf("child status %d\n", wait_child(id));
	printf("write: %ld\n", kx_write(fd[1], "x", 1));
	printf("read on the write end: %ld\n", kx_read(fd[1], big, 1));
	printf("close: %ld\n", kx_close(fd[1]));
	printf("close again: %ld\n", kx_close(fd[1]));
	return 0;
}

static size_t msg_len(int i)
{
	return (size_t)(i * 977) % (KX_IPC_MSG_MAX + 1);
}

static int msgq_test(void)
{
	long q = kx_msgget(KX_IPC_PRIVATE, 0), id, rc;
	int bad = 0;

	if (q <= 0) {
		printf("msgget: %ld\n", q);
		return 1;
	}
	id = kx_fork();
	if (id == 0) {
		for (int i = 0; i < 200; i++) {
			for (size_t k = 0; k < msg_len(i); k++)
				big[k] = (uint8_t)(i + k);
			rc = kx_msgsnd(q, big, msg_len(i), 0);
			if (rc != 0)
				kx_panic("msgsnd %d: %ld", i, rc);
		}
		return 0;
	}
	for (int i = 0; i < 200; i++) {
		rc = kx_msgrcv(q, big, sizeof(big), 0);
		if (rc != (long)msg_len(i))
			bad++;
		for (long k = 0; rc > 0 && k < rc; k++)
			if (big[k] != (uint8_t)(i + k))
				bad++;
	}
	printf("200 messages, %d wrong; child status %d\n", bad, wait_child(id));
	printf("empty, nowait: %ld\n", kx_msgrcv(q, big, sizeof(big), KX_IPC_NOWAIT));
	id = kx_fork();
	if (id == 0) {
		printf("child msgrcv after the removal: %ld\n", kx_msgrcv(q, big, sizeof(big), 0));
		return 0;
	}
	uint64_t until = kx_clock_monotonic_ns() + 100000000;
	while (kx_clock_monotonic_ns() < until)
		; /* let the child block (it gets -KX_EIDRM either way) */
	printf("msgrm: %ld\n", kx_msgrm(q));
	printf("child status %d\n", wait_child(id));
	return 0;
}

static int shm_test(void)
{
	long s = kx_shmget(KX_IPC_PRIVATE, 3 * 4096 + 100, KX_IPC_CREAT), id;
	char *p = s > 0 ? kx_shmat(s, NULL, 0) : NULL;

	if (p == NULL) {
		printf("shmget/shmat: %ld\n", s);
		return 1;
	}
	strcpy(p, "from the parent");
	strcpy(p + 4 * 4096 - 16, "end of segment");
	id = kx_fork();
	if (id == 0) {
		printf("child sees '%s' and '%s'\n", p, p + 4 * 4096 - 16);
		strcpy(p + 100, "from the child");
		return 0;
	}
	printf("child status %d\n", wait_child(id));
	printf("parent sees '%s'\n", p + 100);
	return 0;
}

static int shmfault_test(void)
{
	long s = kx_shmget(KX_IPC_PRIVATE, 4096, 0);
	volatile char *p = kx_shmat(s, NULL, 0);

	p[0] = 'x';
	printf("shmdt: %ld\n", kx_shmdt((const void *)p));
	printf("shmdt again: %ld\n", kx_shmdt((const void *)p));
	printf("touching %p\n", (void *)p);
	p[1] = 'y';
	printf("not reached\n");
	return 0;
}

static int errors_test(void)
{
	char buf[16];
	long q, q2, s;

	q = kx_msgget(kx_ftok("/kx/errors", 7), KX_IPC_CREAT | KX_IPC_EXCL);
	printf("msgget create: %s\n", q > 0 ? "ok" : "failed");
	printf("msgget excl again: %ld\n",
	       kx_msgget(kx_ftok("/kx/errors", 7), KX_IPC_CREAT | KX_IPC_EXCL));
	q2 = kx_msgget(kx_ftok("/kx/errors", 7), 0);
	printf("msgget open: %s\n", q2 == q ? "same id" : "other id");
	printf("msgget missing key: %ld\n", kx_msgget(kx_ftok("/kx/missing", 7), 0));
	printf("msgget bad flags: %ld\n", kx_msgget(KX_IPC_PRIVATE, 0x100));
	printf("msgsnd bad id: %ld\n", kx_msgsnd(12345, "x", 1, 0));
	printf("msgsnd too large: %ld\n", kx_msgsnd(q, big, KX_IPC_MSG_MAX + 1, 0));
	kx_msgsnd(q, "0123456789abcdef", 16, 0);
	printf("msgrcv small buffer: %ld\n", kx_msgrcv(q, buf, 8, 0));
	printf("msgrcv: %ld\n", kx_msgrcv(q, buf, sizeof(buf), 0));
	printf("msgrm: %ld\n", kx_msgrm(q));
	printf("msgsnd after rm: %ld\n", kx_msgsnd(q, "x", 1, 0));
	printf("key free again: %s\n",
	       kx_msgget(kx_ftok("/kx/errors", 7), KX_IPC_CREAT | KX_IPC_EXCL) > 0 ? "yes" : "no");
	printf("shmget size 0: %ld\n", kx_shmget(KX_IPC_PRIVATE, 0, 0));
	printf("shmget too large: %ld\n", kx_shmget(KX_IPC_PRIVATE, KX_IPC_SHM_MAX + 1, 0));
	s = kx_shmget(kx_ftok("/kx/errors", 8), 4096, KX_IPC_CREAT);
	printf("shmget larger than the key's: %ld\n", kx_shmget(kx_ftok("/kx/errors", 8), 8192, 0));
	printf("shmat flags: %s\n", kx_shmat(s, NULL, 1) ? "mapped" : "NULL");
	printf("shmat wrong address: %s\n", kx_shmat(s, (void *)0x1000, 0) ? "mapped" : "NULL");
	printf("shmat bad id: %s\n", kx_shmat(999, NULL, 0) ? "mapped" : "NULL");
	printf("shmdt not attached: %ld\n", kx_shmdt(buf));
	printf("window full: %ld\n", kx_shmget(KX_IPC_PRIVATE, KX_IPC_SHM_MAX, 0));
	kx_ipc_timeout(50000000);
	q = kx_msgget(KX_IPC_PRIVATE, 0);
	printf("msgrcv timeout: %ld\n", kx_msgrcv(q, buf, sizeof(buf), 0));
	printf("read bad fd: %ld\n", kx_read(77, buf, 1));
	return 0;
}

static long raw_obj(uint32_t nr, uint64_t id, uint32_t ends)
{
	struct kx_hc_ipc_obj o = {.id = id, .ends = ends};

	return (long)kx_hcall(&o.hdr, nr);
}

static long raw_wait(uint64_t addr, uint32_t value, uint64_t timeout_ns)
{
	struct kx_hc_notify n = {.addr = addr, .value = value, .timeout_ns = timeout_ns};

	return (long)kx_hcall(&n.hdr, KX_HC_NOTIFY_WAIT);
}

/* What a guest can put in the IpC hypercalls that the libc wrappers never
 * would: every line is an error, and the pVM goes on to say "survived". */
static int hostile_test(void)
{
	uint64_t key = kx_ftok("/kx/hostile", 1);
	long s = kx_shmget(key, 4096, KX_IPC_CREAT);
	uint8_t *seg = kx_shmat(s, NULL, 0);
	uint64_t ctl = (uint64_t)(uintptr_t)seg - KX_PAGE_SIZE;
	int fd[2];

	printf("shmget open, size wraps: %ld\n", kx_shmget(key, (size_t)0 - KX_PAGE_SIZE, 0));
	printf("shmget open, size huge: %ld\n", kx_shmget(key, (size_t)0 - 1, 0));
	kx_pipe(fd);
	printf("detach, ends out of range: %ld\n", raw_obj(KX_HC_IPC_DETACH, (uint64_t)s, 0x4));
	printf("wait on the control page: %ld\n", raw_wait(ctl + 8, 0, 1000));
	printf("wait unaligned: %ld\n", raw_wait((uint64_t)(uintptr_t)seg + 2, 0, 1000));
	printf("wait past the segment: %ld\n", raw_wait((uint64_t)(uintptr_t)seg + 4096, 0, 1000));
	printf("wait on text: %ld\n",
	       raw_wait((uint64_t)(uintptr_t)&hostile_test & ~3ull, 0, 1000));
	printf("wait forever is capped: %ld\n", raw_wait((uint64_t)(uintptr_t)seg, 0, UINT64_MAX));
	printf("rm an id never held: %ld\n", raw_obj(KX_HC_IPC_RM, 100000, 0));
	/* System V: removing an attached segment leaves it mapped, also when
	 * the program opened it again by key in between. */
	seg[0] = 7;
	printf("shmget again: %s\n", kx_shmget(key, 0, 0) == s ? "same id" : "other id");
	printf("shmrm while attached: %ld\n", kx_shmrm(s));
	seg[1] = seg[0];
	printf("still mapped: %d\n", seg[1]);
	printf("shmdt: %ld\n", kx_shmdt(seg));
	printf("survived\n");
	return 0;
}

static int churn_test(int n)
{
	int fd[2], bad = 0;
	long q;

	for (int i = 0; i < n; i++) {
		bad += kx_pipe(fd) != 0 || kx_close(fd[0]) != 0 || kx_close(fd[1]) != 0;
		q = kx_msgget(KX_IPC_PRIVATE, 0);
		bad += q <= 0 || kx_msgrm(q) != 0;
	}
	printf("churn %d, %d failed\n", n, bad);
	return bad != 0;
}

/* Two queues: requests on key, answers on key + 1. */
static int serve(uint64_t key)
{
	char buf[64];
	long q = kx_msgget(key, KX_IPC_CREAT), r = kx_msgget(key + 1, KX_IPC_CREAT), rc;

	printf("serving: %s\n", q > 0 && r > 0 ? "ok" : "failed");
	if (q <= 0 || r <= 0)
		return 1;
	rc = kx_msgrcv(q, buf, sizeof(buf) - 1, 0);
	buf[rc > 0 ? rc : 0] = '\0';
	printf("server got '%s'\n", buf);
	kx_msgsnd(r, "pong", 4, 0);
	rc = kx_msgrcv(q, buf, sizeof(buf) - 1, 0);
	buf[rc > 0 ? rc : 0] = '\0';
	printf("server got '%s'\n", buf);
	kx_msgrm(q);
	kx_msgrm(r);
	return 0;
}

static int ask(uint64_t key)
{
	char buf[64];
	long q = kx_msgget(key, 0), r = kx_msgget(key + 1, 0), rc;

	printf("msgget: %ld\n", q > 0 ? 1 : q);
	if (q <= 0 || r <= 0)
		return 0;
	kx_msgsnd(q, "ping", 4, 0);
	rc = kx_msgrcv(r, buf, sizeof(buf) - 1, 0);
	buf[rc > 0 ? rc : 0] = '\0';
	printf("client got '%s'\n", buf);
	kx_msgsnd(q, "bye", 3, 0);
	return 0;
}

static int shmkey(uint64_t key)
{
	long s = kx_shmget(key, 4096, KX_IPC_CREAT);

	printf("shmget: %ld\n", s > 0 ? 1 : s);
	return 0;
}

static int kill_test(void)
{
	int fd[2];
	long id, rc;
	char buf[8];

	kx_pipe(fd);
	id = kx_fork();
	if (id == 0) {
		kx_write(fd[1], "half", 4);
		for (;;)
			; /* stalls mid-exchange until the operator kills it */
	}
	kx_close(fd[1]);
	rc = kx_read(fd[0], buf, sizeof(buf));
	printf("read %ld; child %ld stalls\n", rc, id);
	rc = kx_read(fd[0], buf, sizeof(buf));
	printf("after the kill: read %ld\n", rc);
	printf("child status %d\n", wait_child(id));
	return 0;
}

static int corrupt_test(void)
{
	long q = kx_msgget(kx_ftok("/kx/corrupt", 1), KX_IPC_CREAT), id, rc;
	struct kx_hc_ipc_get g = {.kind = KX_IPC_KIND_MSGQ, .key = kx_ftok("/kx/corrupt", 1)};
	char buf[16];

	kx_msgsnd(q, "good", 4, 0);
	id = kx_fork();
	if (id == 0) {
		/* A hostile holder: find the queue's pages and break its indices. */
		struct kx_ipc_ring *ring;

		if (kx_hcall(&g.hdr, KX_HC_IPC_GET) != 0)
			return 1;
		ring = (struct kx_ipc_ring *)(uintptr_t)(g.addr + KX_PAGE_SIZE);
		ring->tail = ring->head + (64ull << 30);
		return 0;
	}
	printf("child status %d\n", wait_child(id));
	rc = kx_msgrcv(q, buf, sizeof(buf), 0);
	printf("msgrcv: %ld\n", rc);
	printf("msgsnd: %ld\n", kx_msgsnd(q, "more", 4, 0));
	printf("still running\n");
	return 0;
}

/* A sender dies holding the queue's lock, half a message copied: the
 * survivor's msgsnd waits for the lock, which kxd frees at the death, and
 * the half message never shows. */
static int lockdeath_test(void)
{
	uint64_t key = kx_ftok("/kx/lockdeath", 1);
	long q = kx_msgget(key, KX_IPC_CREAT), id, rc;
	struct kx_hc_ipc_get g = {.kind = KX_IPC_KIND_MSGQ, .key = key};
	struct kx_hc_ipc_obj self = {0};
	char buf[16];

	id = kx_fork();
	if (id == 0) {
		struct kx_ipc_ring *ring;
		uint32_t *bytes;

		if (kx_hcall(&g.hdr, KX_HC_IPC_GET) != 0 ||
		    kx_hcall(&self.hdr, KX_HC_IPC_SELF) != 0)
			return 1;
		ring = (struct kx_ipc_ring *)(uintptr_t)(g.addr + KX_PAGE_SIZE);
		bytes = (uint32_t *)(uintptr_t)(g.addr + KX_PAGE_SIZE + KX_IPC_RING_HDR);
		__atomic_store_n(&ring->lock, (uint32_t)self.id, __ATOMIC_SEQ_CST);
		bytes[0] = 5; /* half a message, never published */
		bytes[1] = 0x71736d6b;
		printf("the child holds the lock\n");
		for (;;)
			;
	}
	printf("child %ld forked\n", id);
	if (kx_hcall(&g.hdr, KX_HC_IPC_GET) != 0) /* held: the same pages again */
		return 1;
	while (__atomic_load_n((uint32_t *)(uintptr_t)(g.addr + KX_PAGE_SIZE), __ATOMIC_SEQ_CST) ==
	       0)
		; /* until the child has the lock */
	rc = kx_msgsnd(q, "whole", 5, 0);
	printf("msgsnd after the death: %ld\n", rc);
	rc = kx_msgrcv(q, buf, sizeof(buf), 0);
	buf[rc > 0 ? rc : 0] = '\0';
	printf("msgrcv: %ld '%s'\n", rc, buf);
	printf("child status %d\n", wait_child(id));
	kx_msgrm(q);
	return 0;
}

/* Keyed segments outlive their creator's attachment: how many one family
 * may leave in kxd before -KX_ENOSPC. */
static int famcap_test(void)
{
	long rc = 0;
	int n = 0;

	for (; n < 100; n++) {
		rc = kx_shmget(kx_ftok("/kx/famcap", n), 4096, KX_IPC_CREAT);
		if (rc < 0)
			break;
		kx_shmdt(kx_shmat(rc, NULL, 0));
	}
	printf("created %d, then %ld\n", n, rc);
	return 0;
}

/* ---- round trips ---------------------------------------------------------------- */

static uint64_t settle_ms; /* rtt: pause after each fork (the bench pins the monitors) */

static void settle(void)
{
	uint64_t until = kx_clock_monotonic_ns() + settle_ms * 1000000;

	while (kx_clock_monotonic_ns() < until)
		;
}

static uint64_t rtt_pipe(int n)
{
	int ab[2], ba[2];
	char c = 0;
	uint64_t t0;
	long id;

	kx_pipe(ab);
	kx_pipe(ba);
	id = kx_fork();
	if (id == 0) {
		for (int i = 0; i < n + 1; i++) {
			kx_read(ab[0], &c, 1);
			kx_write(ba[1], &c, 1);
		}
		exit(0);
	}
	settle();
	kx_write(ab[1], &c, 1); /* warm up */
	kx_read(ba[0], &c, 1);
	t0 = kx_clock_monotonic_ns();
	for (int i = 0; i < n; i++) {
		kx_write(ab[1], &c, 1);
		kx_read(ba[0], &c, 1);
	}
	t0 = kx_clock_monotonic_ns() - t0;
	wait_child(id);
	for (int i = 0; i < 2; i++) {
		kx_close(ab[i]);
		kx_close(ba[i]);
	}
	return t0 / (uint64_t)n;
}

static uint64_t rtt_msgq(int n)
{
	long ab = kx_msgget(KX_IPC_PRIVATE, 0), ba = kx_msgget(KX_IPC_PRIVATE, 0), id;
	char c[8] = {0};
	uint64_t t0;

	id = kx_fork();
	if (id == 0) {
		for (int i = 0; i < n + 1; i++) {
			kx_msgrcv(ab, c, sizeof(c), 0);
			kx_msgsnd(ba, c, 1, 0);
		}
		exit(0);
	}
	settle();
	kx_msgsnd(ab, c, 1, 0);
	kx_msgrcv(ba, c, sizeof(c), 0);
	t0 = kx_clock_monotonic_ns();
	for (int i = 0; i < n; i++) {
		kx_msgsnd(ab, c, 1, 0);
		kx_msgrcv(ba, c, sizeof(c), 0);
	}
	t0 = kx_clock_monotonic_ns() - t0;
	wait_child(id);
	return t0 / (uint64_t)n;
}

/* Shared memory: a word each way (w[0]) and a "sleeping" flag beside it
 * (w[1]); the waiter spins, then says it sleeps and sleeps on the word. */
static unsigned shm_budget = 4000; /* adaptive, as guest/ipc.c spins */

static void shm_wait(uint32_t *w, uint32_t want)
{
	struct kx_hc_notify nt;
	unsigned spins = 0;

	for (; __atomic_load_n(&w[0], __ATOMIC_ACQUIRE) != want; spins++) {
		if (spins < shm_budget) {
			__builtin_ia32_pause();
			continue;
		}
		__atomic_store_n(&w[1], 1, __ATOMIC_SEQ_CST);
		nt = (struct kx_hc_notify){.addr = (uint64_t)(uintptr_t)w,
					   .value = __atomic_load_n(&w[0], __ATOMIC_SEQ_CST),
					   .timeout_ns = 1000000};
		if (nt.value != want)
			kx_hcall(&nt.hdr, KX_HC_NOTIFY_WAIT);
		__atomic_store_n(&w[1], 0, __ATOMIC_SEQ_CST);
	}
	if (spins > 0)
		shm_budget = spins <= shm_budget ? 4000 : shm_budget - shm_budget / 4 + 1;
}

static void shm_post(uint32_t *w, uint32_t v)
{
	struct kx_hc_notify nt = {.addr = (uint64_t)(uintptr_t)w, .count = 1};

	__atomic_store_n(&w[0], v, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&w[1], __ATOMIC_SEQ_CST) != 0)
		kx_hcall(&nt.hdr, KX_HC_NOTIFY_WAKE);
}

static uint64_t rtt_shm(int n)
{
	long s = kx_shmget(KX_IPC_PRIVATE, 4096, 0), id;
	uint32_t *w = kx_shmat(s, NULL, 0); /* w[0..1] ping, w[16..17] pong */
	uint64_t t0;

	id = kx_fork();
	if (id == 0) {
		for (uint32_t i = 1; i <= (uint32_t)n + 1; i++) {
			shm_wait(&w[0], i);
			shm_post(&w[16], i);
		}
		exit(0);
	}
	settle();
	shm_post(&w[0], 1);
	shm_wait(&w[16], 1);
	t0 = kx_clock_monotonic_ns();
	for (uint32_t i = 2; i <= (uint32_t)n + 1; i++) {
		shm_post(&w[0], i);
		shm_wait(&w[16], i);
	}
	t0 = kx_clock_monotonic_ns() - t0;
	wait_child(id);
	return t0 / (uint64_t)n;
}

/* First communication of a non-lineal pair: opening another app's queue
 * (the gate decides, kxd hands over the object, the monitor maps it)
 * beside opening it again (held already: one round trip to kxd). */
static int firstcomm(uint64_t key, int n)
{
	uint64_t t0 = kx_clock_monotonic_ns(), first, again;
	long q = kx_msgget(key, 0);

	first = kx_clock_monotonic_ns() - t0;
	if (q <= 0) {
		printf("msgget: %ld\n", q);
		return 1;
	}
	t0 = kx_clock_monotonic_ns();
	for (int i = 0; i < n; i++)
		kx_msgget(key, 0);
	again = (kx_clock_monotonic_ns() - t0) / (uint64_t)n;
	printf("first %llu\nagain %llu\n", (unsigned long long)first, (unsigned long long)again);
	return 0;
}

static int rtt(int n)
{
	printf("rtt pipe %llu\n", (unsigned long long)rtt_pipe(n));
	printf("rtt msgq %llu\n", (unsigned long long)rtt_msgq(n));
	printf("rtt shm %llu\n", (unsigned long long)rtt_shm(n));
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	uint64_t arg = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;

	if (strcmp(mode, "pipe") == 0)
		return pipe_test(arg);
	if (strcmp(mode, "pipeup") == 0)
		return pipeup_test(arg);
	if (strcmp(mode, "rttpipe") == 0) {
		printf("rtt pipe %llu\n", (unsigned long long)rtt_pipe(arg > 0 ? (int)arg : 100));
		return 0;
	}
	if (strcmp(mode, "epipe") == 0)
		return epipe_test();
	if (strcmp(mode, "msgq") == 0)
		return msgq_test();
	if (strcmp(mode, "shm") == 0)
		return shm_test();
	if (strcmp(mode, "shmfault") == 0)
		return shmfault_test();
	if (strcmp(mode, "errors") == 0)
		return errors_test();
	if (strcmp(mode, "serve") == 0)
		return serve(arg);
	if (strcmp(mode, "ask") == 0)
		return ask(arg);
	if (strcmp(mode, "shmkey") == 0)
		return shmkey(arg);
	if (strcmp(mode, "kill") == 0)
		return kill_test();
	if (strcmp(mode, "corrupt") == 0)
		return corrupt_test();
	if (strcmp(mode, "famcap") == 0)
		return famcap_test();
	if (strcmp(mode, "lockdeath") == 0)
		return lockdeath_test();
	if (strcmp(mode, "mkq") == 0)
		return kx_msgget(arg, KX_IPC_CREAT) > 0 ? 0 : 1; /* it outlives this pVM */
	if (strcmp(mode, "firstcomm") == 0)
		return firstcomm(arg, 100);
	if (strcmp(mode, "hostile") == 0)
		return hostile_test();
	if (strcmp(mode, "churn") == 0)
		return churn_test((int)arg);
	if (strcmp(mode, "rtt") == 0) {
		settle_ms = argc > 3 ? strtoul(argv[3], NULL, 0) : 0;
		return rtt(arg ? (int)arg : 1000);
	}
	printf("usage: ipct pipe N|epipe|msgq|shm|shmfault|errors|serve K|ask K|shmkey K|kill|"
	       "corrupt|rtt N\n");
	return 2;
}
