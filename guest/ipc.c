/*
 * ipc.c — pipes, message queues and shared memory in the pVM
 * (docs/ipc.md).  kxd creates the objects and the gate decides who gets
 * them (KX_HC_IPC_GET); the data then moves through the shared pages with
 * no exit: a side that must wait spins a bounded number of times, then
 * sleeps in the monitor (KX_HC_NOTIFY_WAIT on a sequence word), and the
 * other side wakes it only when it said it sleeps.
 *
 * The data area is written by peers: ring indices and message headers are
 * checked (ipc_ring.c) and a broken ring is -KX_EIO.  The control page is
 * kxd's (read-only here): who still holds the object, whether it was
 * removed.
 */
#include "guest/ipc_ring.h"
#include "guest/kxrt.h"
#include "guest/runtime.h"

#define MAX_OBJECTS 48
#define MAX_FDS	    32
#define FD_BASE	    3 /* pipe ends are numbered like POSIX descriptors */

struct object {
	uint64_t id; /* 0: free */
	uint32_t kind;
	const volatile struct kx_ipc_ctl *ctl;
	uint8_t *data;
	uint64_t data_size;
	struct kx_ipc_ring *ring; /* pipe, msgq */
	uint8_t *bytes;		  /* the ring's bytes */
	uint64_t cap;		  /* ... a power of two */
	int shm_attached;
};

static struct object objects[MAX_OBJECTS];
static struct {
	struct object *obj; /* NULL: free */
	uint32_t end;	    /* KX_IPC_END_READ or KX_IPC_END_WRITE */
} fds[MAX_FDS];
static uint32_t lock_token; /* 0: ask the monitor (again after a fork) */
static uint64_t timeout_ns; /* 0: wait as long as it takes */
#define SPIN_FLOOR 64
static unsigned spin_iters = 4000;  /* the most a waiter spins */
static unsigned spin_budget = 4000; /* what it spins now (adaptive) */

void kx_ipc_timeout(uint64_t ns)
{
	timeout_ns = ns;
}

void kx_ipc_spin(unsigned iterations)
{
	spin_iters = spin_budget = iterations;
}

/* Adaptive spinning: a peer that answers while we spin (another CPU) earns
 * longer spins; one that never does (it shares our CPU, or is slow) makes
 * us sleep sooner, since spinning then only delays it. */
static void spun(int answered)
{
	spin_budget = answered ? spin_iters : spin_budget - spin_budget / 4;
	if (spin_budget < SPIN_FLOOR && spin_iters >= SPIN_FLOOR)
		spin_budget = SPIN_FLOOR; /* enough to notice when spinning pays again */
}

void kx_ipc_forked(void)
{
	lock_token = 0;
}

/* ---- objects -------------------------------------------------------------- */

static struct object *find(uint64_t id)
{
	for (int i = 0; id != 0 && i < MAX_OBJECTS; i++)
		if (objects[i].id == id)
			return &objects[i];
	return NULL;
}

static long get(uint32_t kind, uint64_t key, uint64_t size, uint32_t flags, struct object **out)
{
	struct kx_hc_ipc_get g = {.kind = kind, .flags = flags, .key = key, .size = size};
	struct object *o;
	int64_t rc = kx_hcall(&g.hdr, KX_HC_IPC_GET);
	int attached;

	if (rc != 0)
		return (long)rc;
	o = find(g.id);
	/* Opened again while attached: it stays attached (kx_shmrm must not
	 * unmap it under the program). */
	attached = o != NULL && o->shm_attached;
	for (int i = 0; o == NULL && i < MAX_OBJECTS; i++)
		if (objects[i].id == 0)
			o = &objects[i];
	if (o == NULL)
		return -KX_ENOSPC; /* the monitor maps fewer than MAX_OBJECTS */
	*o = (struct object){.id = g.id,
			     .kind = kind,
			     .ctl = (const volatile struct kx_ipc_ctl *)(uintptr_t)g.addr,
			     .data = (uint8_t *)(uintptr_t)(g.addr + KX_PAGE_SIZE),
			     .data_size = g.data_size,
			     .shm_attached = attached};
	if (o->ctl->magic != KX_IPC_CTL_MAGIC || o->ctl->id != g.id)
		kx_panic("ipc: object %llu has a bad control page", (unsigned long long)g.id);
	if (kind != KX_IPC_KIND_SHM) {
		o->ring = (struct kx_ipc_ring *)(void *)o->data;
		o->bytes = o->data + KX_IPC_RING_HDR;
		o->cap = g.data_size - KX_IPC_RING_HDR;
	}
	*out = o;
	return 0;
}

static long detach(struct object *o, uint32_t ends)
{
	struct kx_hc_ipc_obj d = {.id = o->id, .ends = ends};
	int64_t rc = kx_hcall(&d.hdr, KX_HC_IPC_DETACH);

	return (long)rc;
}

/* ---- waiting ------------------------------------------------------------------ */

static uint32_t token(void)
{
	if (lock_token == 0) {
		struct kx_hc_ipc_obj s = {0};

		if (kx_hcall(&s.hdr, KX_HC_IPC_SELF) == 0)
			lock_token = (uint32_t)s.id;
	}
	return lock_token;
}

static long notify_wait(uint32_t *word, uint32_t value, uint64_t deadline)
{
	struct kx_hc_notify n = {.addr = (uint64_t)(uintptr_t)word, .value = value};
	uint64_t now;

	if (deadline != 0) {
		now = kx_clock_monotonic_ns();
		if (now >= deadline)
			return -KX_ETIMEDOUT;
		n.timeout_ns = deadline - now;
	} else {
		n.timeout_ns = KX_IPC_WAIT_MAX_NS;
	}
	/* A slice ending is no timeout of ours: the caller looks again. */
	long rc = (long)kx_hcall(&n.hdr, KX_HC_NOTIFY_WAIT);
	return rc == -KX_ETIMEDOUT && deadline == 0 ? 0 : rc;
}

static void notify_wake(uint32_t *word)
{
	struct kx_hc_notify n = {.addr = (uint64_t)(uintptr_t)word, .count = UINT32_MAX};

	kx_hcall(&n.hdr, KX_HC_NOTIFY_WAKE);
}

static uint64_t deadline_now(void)
{
	return timeout_ns ? kx_clock_monotonic_ns() + timeout_ns : 0;
}

static long lock(struct object *o, uint64_t deadline)
{
	uint32_t me = token(), seen;

	for (unsigned spins = 0;; spins++) {
		seen = 0;
		if (__atomic_compare_exchange_n(&o->ring->lock, &seen, me, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return 0;
		if (o->ctl->destroyed)
			return -KX_EIDRM;
		if (spins < spin_budget) {
			__builtin_ia32_pause();
			continue;
		}
		__atomic_add_fetch(&o->ring->lock_wanted, 1, __ATOMIC_SEQ_CST);
		long rc = notify_wait(&o->ring->lock, seen, deadline);
		__atomic_sub_fetch(&o->ring->lock_wanted, 1, __ATOMIC_SEQ_CST);
		if (rc < 0)
			return rc;
	}
}

static void unlock(struct object *o)
{
	__atomic_store_n(&o->ring->lock, 0, __ATOMIC_RELEASE);
	if (__atomic_load_n(&o->ring->lock_wanted, __ATOMIC_SEQ_CST) != 0)
		notify_wake(&o->ring->lock);
}

/* Tell sleepers on seq (flag: someone said it sleeps there). */
static void signal_seq(uint32_t *seq, uint32_t *flag)
{
	__atomic_add_fetch(seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(flag, __ATOMIC_SEQ_CST) != 0) {
		__atomic_store_n(flag, 0, __ATOMIC_SEQ_CST);
		notify_wake(seq);
	}
}

/* What a blocked call waits for: >0 go on, 0 keep waiting, <0 that error. */
typedef long (*ready_fn)(struct object *o, uint64_t need);

/* Spin, then sleep on seq (announced in flag), until ready says so. */
static long block(struct object *o, uint32_t *seq, uint32_t *flag, ready_fn ready, uint64_t need,
		  uint64_t deadline)
{
	for (unsigned spins = 0;; spins++) {
		uint32_t seen = __atomic_load_n(seq, __ATOMIC_SEQ_CST);
		long r = ready(o, need);

		if (r != 0) {
			if (spins > 0)
				spun(spins <= spin_budget);
			return r;
		}
		if (spins < spin_budget) {
			__builtin_ia32_pause();
			continue;
		}
		__atomic_store_n(flag, 1, __ATOMIC_SEQ_CST);
		r = ready(o, need);
		if (r != 0)
			return r;
		r = notify_wait(seq, seen, deadline);
		if (r < 0)
			return r;
	}
}

/* ---- rings: the readiness tests ------------------------------------------------- */

static long can_read(struct object *o, uint64_t need)
{
	struct ring_view v;

	(void)need;
	if (o->ctl->destroyed)
		return -KX_EIDRM;
	if (ring_look(o->ring, o->cap, &v) != 0)
		return -KX_EIO;
	if (v.used > 0)
		return 1;
	/* A pipe with no writer left: end of file. */
	return o->kind == KX_IPC_KIND_PIPE && o->ctl->writers == 0 ? 2 : 0;
}

static long can_write(struct object *o, uint64_t need)
{
	struct ring_view v;

	if (o->ctl->destroyed)
		return -KX_EIDRM;
	if (o->kind == KX_IPC_KIND_PIPE && o->ctl->readers == 0)
		return -KX_EPIPE;
	if (ring_look(o->ring, o->cap, &v) != 0)
		return -KX_EIO;
	return o->cap - v.used >= need ? 1 : 0;
}

/* Wait (unless nowait) until the ring has need bytes of room (writing)
 * or any data (reading), then take its lock: 0 with *v, locked; 1 end of
 * file (a pipe with no writer left; not locked); or a -KX_ error. */
static long acquire(struct object *o, int writing, uint64_t need, int nowait, uint64_t deadline,
		    struct ring_view *v)
{
	uint32_t *seq = writing ? &o->ring->space_seq : &o->ring->data_seq;
	uint32_t *flag = writing ? &o->ring->wr_waiting : &o->ring->rd_waiting;
	ready_fn ready = writing ? can_write : can_read;
	long rc;

	for (;;) {
		rc = ready(o, need);
		if (rc == 0 && nowait)
			return -KX_EAGAIN;
		if (rc == 0)
			rc = block(o, seq, flag, ready, need, deadline);
		if (rc == 2)
			return 1;
		if (rc > 0)
			rc = lock(o, deadline);
		if (rc < 0)
			return rc;
		if (ring_look(o->ring, o->cap, v) != 0) {
			unlock(o);
			return -KX_EIO;
		}
		if (writing ? o->cap - v->used >= need : v->used > 0)
			return 0;
		unlock(o); /* another reader or writer was first */
	}
}

/* ---- pipes ------------------------------------------------------------------------- */

long kx_pipe(int fd[2])
{
	struct object *o;
	int r = -1, w = -1;
	long rc;

	for (int i = 0; i < MAX_FDS && w < 0; i++)
		if (fds[i].obj == NULL) {
			if (r < 0)
				r = i;
			else
				w = i;
		}
	if (w < 0)
		return -KX_ENOSPC;
	rc = get(KX_IPC_KIND_PIPE, 0, 0, 0, &o);
	if (rc != 0)
		return rc;
	fds[r].obj = fds[w].obj = o;
	fds[r].end = KX_IPC_END_READ;
	fds[w].end = KX_IPC_END_WRITE;
	fd[0] = FD_BASE + r;
	fd[1] = FD_BASE + w;
	return 0;
}

static struct object *pipe_end(int fd, uint32_t end)
{
	unsigned i = (unsigned)fd - FD_BASE;

	if (fd < FD_BASE || i >= MAX_FDS || fds[i].obj == NULL || fds[i].end != end)
		return NULL;
	return fds[i].obj;
}

long kx_pipe_ready(int fd, uint64_t *bytes)
{
	struct object *o = pipe_end(fd, KX_IPC_END_READ);
	struct ring_view v;
	long rc;

	*bytes = 0;
	if (o == NULL && (o = pipe_end(fd, KX_IPC_END_WRITE)) == NULL)
		return -KX_EBADF;
	rc = o == pipe_end(fd, KX_IPC_END_READ) ? can_read(o, 0) : can_write(o, 1);
	if (rc == 1 && ring_look(o->ring, o->cap, &v) == 0)
		*bytes = o == pipe_end(fd, KX_IPC_END_READ) ? v.used : o->cap - v.used;
	return rc;
}

long kx_pipe_arm(int fd, uint32_t **word, uint32_t *value, uint64_t *bytes)
{
	struct object *o = pipe_end(fd, KX_IPC_END_READ);
	int writing = o == NULL;

	if (o == NULL && (o = pipe_end(fd, KX_IPC_END_WRITE)) == NULL)
		return -KX_EBADF;
	/* As block(): the sequence word first, then the flag, then look again,
	 * so a peer that publishes after our look both changes the word and
	 * sees the flag. */
	*word = writing ? &o->ring->space_seq : &o->ring->data_seq;
	*value = __atomic_load_n(*word, __ATOMIC_SEQ_CST);
	__atomic_store_n(writing ? &o->ring->wr_waiting : &o->ring->rd_waiting, 1,
			 __ATOMIC_SEQ_CST);
	return kx_pipe_ready(fd, bytes);
}

long kx_read(int fd, void *buf, size_t len)
{
	struct object *o = pipe_end(fd, KX_IPC_END_READ);
	struct ring_view v;
	long rc;

	if (o == NULL)
		return -KX_EBADF;
	if (len == 0)
		return 0;
	rc = acquire(o, 0, 0, 0, deadline_now(), &v);
	if (rc != 0)
		return rc == 1 ? 0 : rc; /* 1: end of file */
	if (len > v.used)
		len = (size_t)v.used;
	ring_get(o->bytes, o->cap, v.head, buf, len);
	ring_consume(o->ring, v.head, len);
	unlock(o);
	signal_seq(&o->ring->space_seq, &o->ring->wr_waiting);
	return (long)len;
}

long kx_write(int fd, const void *buf, size_t len)
{
	struct object *o = pipe_end(fd, KX_IPC_END_WRITE);
	uint64_t deadline = deadline_now(), chunk;
	const uint8_t *p = buf;
	size_t done = 0;
	struct ring_view v;
	long rc;

	if (o == NULL)
		return -KX_EBADF;
	while (done < len) {
		rc = acquire(o, 1, 1, 0, deadline, &v);
		if (rc != 0)
			return done > 0 ? (long)done : rc;
		chunk = o->cap - v.used < len - done ? o->cap - v.used : len - done;
		ring_put(o->bytes, o->cap, v.tail, p + done, (size_t)chunk);
		ring_publish(o->ring, v.tail, chunk);
		unlock(o);
		signal_seq(&o->ring->data_seq, &o->ring->rd_waiting);
		done += (size_t)chunk;
	}
	return (long)done;
}

long kx_close(int fd)
{
	unsigned i = (unsigned)fd - FD_BASE;
	struct object *o;
	long rc;

	if (fd < FD_BASE || i >= MAX_FDS || fds[i].obj == NULL)
		return -KX_EBADF;
	o = fds[i].obj;
	rc = detach(o, fds[i].end);
	if (rc != 0)
		return rc;
	fds[i].obj = NULL;
	for (int k = 0; k < MAX_FDS; k++)
		if (fds[k].obj == o)
			return 0;
	*o = (struct object){0}; /* both ends closed: the monitor unmapped it */
	return 0;
}

/* ---- message queues ------------------------------------------------------------- */

uint64_t kx_ftok(const char *path, int projid)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the path string: no file is read */

	for (const char *c = path; c && *c; c++)
		h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
	h = (h & 0x00ffffffffffffffull) | ((uint64_t)(projid & 0xff) << 56);
	return h == KX_IPC_PRIVATE ? 1 : h;
}

static long get_id(uint32_t kind, uint64_t key, uint64_t size, int flags)
{
	struct object *o;
	long rc;

	if ((flags & ~(KX_IPC_CREAT | KX_IPC_EXCL)) != 0)
		return -KX_EINVAL;
	rc = get(kind, key, size, (uint32_t)flags, &o);
	return rc != 0 ? rc : (long)o->id;
}

long kx_msgget(uint64_t key, int flags)
{
	return get_id(KX_IPC_KIND_MSGQ, key, 0, flags);
}

static struct object *queue(long id)
{
	struct object *o = find((uint64_t)id);

	return o && o->kind == KX_IPC_KIND_MSGQ ? o : NULL;
}

long kx_msgsnd(long id, const void *msg, size_t len, int flags)
{
	struct object *o = queue(id);
	uint64_t need = ring_msg_size(len);
	uint32_t hdr[2] = {(uint32_t)len, KX_MSG_MAGIC};
	struct ring_view v;
	long rc;

	if (o == NULL)
		return -KX_EINVAL;
	if (len > KX_IPC_MSG_MAX)
		return -KX_E2BIG;
	rc = acquire(o, 1, need, flags & KX_IPC_NOWAIT, deadline_now(), &v);
	if (rc != 0)
		return rc;
	/* Published only once whole: a sender dying mid-copy leaves nothing. */
	ring_put(o->bytes, o->cap, v.tail, hdr, sizeof(hdr));
	ring_put(o->bytes, o->cap, v.tail + KX_MSG_HDR, msg, len);
	ring_publish(o->ring, v.tail, need);
	unlock(o);
	signal_seq(&o->ring->data_seq, &o->ring->rd_waiting);
	return 0;
}

long kx_msgrcv(long id, void *buf, size_t len, int flags)
{
	struct object *o = queue(id);
	struct ring_view v;
	uint32_t size;
	long rc;

	if (o == NULL)
		return -KX_EINVAL;
	rc = acquire(o, 0, 0, flags & KX_IPC_NOWAIT, deadline_now(), &v);
	if (rc != 0)
		return rc;
	rc = ring_msg_peek(o->bytes, o->cap, &v, &size);
	if (rc == 0 && size > len)
		rc = -KX_E2BIG; /* the message stays queued */
	if (rc == 0) {
		ring_get(o->bytes, o->cap, v.head + KX_MSG_HDR, buf, size);
		ring_consume(o->ring, v.head, ring_msg_size(size));
	}
	unlock(o);
	if (rc != 0)
		return rc;
	signal_seq(&o->ring->space_seq, &o->ring->wr_waiting);
	return (long)size;
}

static long remove(struct object *o)
{
	struct kx_hc_ipc_obj r = {.id = o->id};
	long rc = (long)kx_hcall(&r.hdr, KX_HC_IPC_RM);

	if (rc == 0)
		rc = detach(o, KX_IPC_END_READ | KX_IPC_END_WRITE);
	if (rc == 0)
		*o = (struct object){0};
	return rc;
}

long kx_msgrm(long id)
{
	struct object *o = queue(id);

	return o ? remove(o) : -KX_EINVAL;
}

/* ---- shared memory ---------------------------------------------------------------- */

long kx_shmget(uint64_t key, size_t size, int flags)
{
	return get_id(KX_IPC_KIND_SHM, key, size, flags);
}

static struct object *segment(long id)
{
	struct object *o = find((uint64_t)id);

	return o && o->kind == KX_IPC_KIND_SHM ? o : NULL;
}

void *kx_shmat(long id, const void *addr, int flags)
{
	struct object *o = segment(id);

	if (o == NULL || flags != 0 || o->ctl->destroyed || (addr && addr != o->data))
		return NULL;
	o->shm_attached = 1;
	return o->data;
}

long kx_shmdt(const void *addr)
{
	for (int i = 0; addr && i < MAX_OBJECTS; i++) {
		struct object *o = &objects[i];
		long rc;

		if (o->id == 0 || o->kind != KX_IPC_KIND_SHM || o->data != addr)
			continue;
		rc = detach(o, KX_IPC_END_READ | KX_IPC_END_WRITE);
		if (rc == 0)
			*o = (struct object){0};
		return rc;
	}
	return -KX_EINVAL;
}

long kx_shmrm(long id)
{
	struct object *o = segment(id);
	struct kx_hc_ipc_obj r;

	if (o == NULL)
		return -KX_EINVAL;
	if (o->shm_attached) { /* as System V: it goes when the last holder detaches */
		r = (struct kx_hc_ipc_obj){.id = o->id};
		return (long)kx_hcall(&r.hdr, KX_HC_IPC_RM);
	}
	return remove(o);
}
