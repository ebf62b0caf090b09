/*
 * ipc.c — the module "ipc": IpC objects (docs/ipc.md, "Inside").
 *
 * kxd brokers every object — a pipe, a message queue, a shared memory
 * segment — as a memfd: a control page only kxd writes, then the data
 * area.  KX_HC_IPC_GET asks kxd (IPC_REQ / IPC_RESP; gate_ipc decides) and
 * maps the object into the pVM's IpC window: guest-physical pages at the
 * top of its heap range that nothing backs until an object is attached,
 * the control page read-only, the data area read-write, never executable,
 * one unmapped page after each object.  The mappings are shared, so every
 * holder and the host futex words of KX_HC_NOTIFY_* see the same pages.
 * Detaching takes the object away (rights, backing, cached translations):
 * a later access faults.  Every argument is checked here before it reaches
 * kxd or the backend: an id or address must name an object this pVM maps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/kxfd.h"
#include "manager/hv/internal.h"

#define IPC_WINDOW_MAX	 (32ull << 20) /* bytes of guest-physical space for objects */
#define IPC_MAX_ATTACHED 48u	       /* objects one pVM maps at once */

_Static_assert(KXMON_IPC_GET == 1 && KXMON_IPC_DETACH == 2 && KXMON_IPC_RM == 3,
	       "the channel's IpC ops");

struct ipc_attached {
	uint64_t id; /* kxd's object id; 0: free entry */
	uint32_t kind, ends;
	uint64_t gpa;  /* the control page; the data area follows */
	uint64_t size; /* bytes mapped: control page + data area */
};

struct hv_ipc {
	uint64_t base, size; /* the window */
	struct ipc_attached att[IPC_MAX_ATTACHED];
};

/* The window: a quarter of the heap range, at most IPC_WINDOW_MAX, at its
 * top, with one unmapped page below it; none when there is no room. */
static int ipc_setup(struct hv_pvm *p, uint64_t heap_start, uint64_t *heap_end,
		     struct kx_error *err)
{
	uint64_t size = (*heap_end - heap_start) / 4;

	if (p->mgr == NULL)
		return 0;
	if (size > IPC_WINDOW_MAX)
		size = IPC_WINDOW_MAX;
	size &= ~(uint64_t)(KX_PAGE_SIZE - 1);
	if (size < 4 * KX_PAGE_SIZE)
		return 0; /* no room: every IPC_GET is -KX_ENOSPC */
	p->ipc = calloc(1, sizeof(*p->ipc));
	if (p->ipc == NULL)
		return kx_err(err, -ENOMEM, "out of memory");
	p->ipc->base = *heap_end - size;
	p->ipc->size = size;
	*heap_end = p->ipc->base - KX_PAGE_SIZE;
	return hv_unmap(p, p->ipc->base, size, err);
}

static void ipc_destroy(struct hv_pvm *p)
{
	free(p->ipc);
	p->ipc = NULL;
}

static struct ipc_attached *find(struct hv_ipc *ipc, uint64_t id)
{
	for (unsigned i = 0; id != 0 && i < IPC_MAX_ATTACHED; i++)
		if (ipc->att[i].id == id)
			return &ipc->att[i];
	return NULL;
}

/* First fit in the window, one unmapped page after each object. */
static int place(struct hv_ipc *ipc, uint64_t size, uint64_t *gpa)
{
	uint64_t cand = ipc->base, need = size + KX_PAGE_SIZE;
	bool moved = true;

	while (moved) {
		moved = false;
		for (unsigned i = 0; i < IPC_MAX_ATTACHED; i++) {
			const struct ipc_attached *a = &ipc->att[i];

			if (a->id != 0 && cand < a->gpa + a->size + KX_PAGE_SIZE &&
			    a->gpa < cand + need) {
				cand = a->gpa + a->size + KX_PAGE_SIZE;
				moved = true;
			}
		}
	}
	if (cand + need > ipc->base + ipc->size)
		return -ENOSPC;
	*gpa = cand;
	return 0;
}

/* Take the object away from the guest: rights, backing, cached translations. */
static void unmap_object(struct hv_pvm *p, struct ipc_attached *a)
{
	struct kx_error ignored;

	hv_unmap(p, a->gpa, a->size, &ignored);
	memset(a, 0, sizeof(*a));
}

static int map_object(struct hv_pvm *p, struct ipc_attached *a, int fd, struct kx_error *err)
{
	int rc;

	rc = hv_map_fd(p, a->gpa, fd, 0, KX_PAGE_SIZE, HV_PROT_READ, err);
	if (rc == 0)
		rc = hv_map_fd(p, a->gpa + KX_PAGE_SIZE, fd, KX_PAGE_SIZE, a->size - KX_PAGE_SIZE,
			       HV_PROT_READ | HV_PROT_WRITE, err);
	if (rc == 0)
		rc = hv_flush(p, err);
	return rc < 0 ? rc : 0;
}

/* The object's memfd: exactly the size kxd announced, and it cannot change
 * size under the mapping (which would fault this monitor). */
static bool fd_ok(int fd, uint64_t data_size)
{
	struct stat st;

	return kx_fd_sealed(fd, F_SEAL_SHRINK | F_SEAL_GROW) && fstat(fd, &st) == 0 &&
	       (uint64_t)st.st_size == data_size + KX_PAGE_SIZE;
}

/* One IPC_REQ to kxd: 0 with its answer (*fd >= 0 when a new object must
 * be mapped: ours then), -errno for the guest, or -EPIPE. */
static int request(struct hv_pvm *p, const struct kxmon_ipc_req *req, struct kxmon_ipc_resp *resp,
		   int *fd)
{
	struct kxmon_msg m;
	int fds[KXMON_MAX_FDS], nfds;

	*fd = -1;
	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_IPC_REQ;
	m.u.ipc_req = *req;
	p->stats.requests++;
	if (hv_mgr_call(p, &m, KXMON_MSG_IPC_RESP, fds, &nfds) != 0)
		return -EPIPE;
	*resp = m.u.ipc_resp;
	if (resp->result != 0) {
		p->stats.denials += resp->result == -EACCES;
		return resp->result;
	}
	if ((nfds == 1 && !fd_ok(fds[0], resp->data_size)) ||
	    (req->op != KXMON_IPC_GET && resp->id != req->id)) {
		if (nfds == 1)
			close(fds[0]);
		return -EPIPE; /* kxd broke the protocol */
	}
	*fd = nfds == 1 ? fds[0] : -1;
	return 0;
}

/* A new object from kxd: check what it says, find room, map it.  On any
 * failure kxd is told to forget this pVM's hold. */
static int attach(struct hv_pvm *p, const struct kxmon_ipc_resp *g, int fd,
		  struct ipc_attached **out)
{
	const struct kxmon_ipc_req undo = {.op = KXMON_IPC_DETACH,
					   .ends = KX_IPC_END_READ | KX_IPC_END_WRITE,
					   .id = g->id};
	struct ipc_attached *a = NULL;
	struct kxmon_ipc_resp ignored;
	struct kx_error err;
	uint64_t gpa = 0;
	int ignored_fd, rc = -ENOSPC;

	for (unsigned i = 0; a == NULL && i < IPC_MAX_ATTACHED; i++)
		if (p->ipc->att[i].id == 0)
			a = &p->ipc->att[i];
	if (g->id == 0 || find(p->ipc, g->id) != NULL || g->data_size == 0 ||
	    g->data_size % KX_PAGE_SIZE != 0)
		rc = -EINVAL;
	else if (a != NULL && place(p->ipc, g->data_size + KX_PAGE_SIZE, &gpa) == 0)
		rc = 0;
	if (rc == 0) {
		*a = (struct ipc_attached){.id = g->id,
					   .kind = g->kind,
					   .ends = g->ends,
					   .gpa = gpa,
					   .size = g->data_size + KX_PAGE_SIZE};
		rc = map_object(p, a, fd, &err);
		if (rc != 0) {
			unmap_object(p, a);
			/* What the backend cannot map at all (Xen: an object
			 * another pVM's domain holds) is no lack of room. */
			rc = rc == -EOPNOTSUPP ? rc : -ENOSPC;
		}
	}
	close(fd);
	if (rc != 0) {
		if (request(p, &undo, &ignored, &ignored_fd) == 0 && ignored_fd >= 0)
			close(ignored_fd);
		return rc;
	}
	*out = a;
	return 0;
}

static int ipc_get(struct hv_pvm *p, struct kx_hc_ipc_get *io)
{
	const struct kxmon_ipc_req req = {.op = KXMON_IPC_GET,
					  .kind = io->kind,
					  .flags = io->flags,
					  .key = io->key,
					  .size = io->size};
	struct kxmon_ipc_resp g;
	struct ipc_attached *a;
	int fd, rc;

	if (p->ipc == NULL)
		return -ENOSPC;
	rc = request(p, &req, &g, &fd);
	if (rc != 0)
		return rc;
	if (fd < 0) {
		a = find(p->ipc, g.id);
		if (a == NULL)
			return -EINVAL;
		a->ends = g.ends;
	} else {
		rc = attach(p, &g, fd, &a);
		if (rc != 0)
			return rc;
	}
	io->id = a->id;
	io->addr = a->gpa;
	io->data_size = a->size - KX_PAGE_SIZE;
	return 0;
}

static int ipc_detach(struct hv_pvm *p, uint64_t id, uint32_t ends)
{
	struct ipc_attached *a = p->ipc ? find(p->ipc, id) : NULL;
	const struct kxmon_ipc_req req = {.op = KXMON_IPC_DETACH, .ends = ends, .id = id};
	struct kxmon_ipc_resp g;
	int fd, rc;

	if (a == NULL)
		return -EINVAL;
	rc = request(p, &req, &g, &fd);
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		return rc;
	a->ends = g.ends;
	if (a->kind != KX_IPC_KIND_PIPE || a->ends == 0)
		unmap_object(p, a);
	return 0;
}

static int ipc_rm(struct hv_pvm *p, uint64_t id)
{
	const struct kxmon_ipc_req req = {.op = KXMON_IPC_RM, .id = id};
	struct kxmon_ipc_resp g;
	int fd, rc;

	if (p->ipc == NULL || find(p->ipc, id) == NULL)
		return -EINVAL;
	rc = request(p, &req, &g, &fd);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The host address of a 32-bit word in a data area this pVM maps. */
static uint32_t *word(struct hv_pvm *p, uint64_t addr)
{
	for (unsigned i = 0; p->ipc != NULL && i < IPC_MAX_ATTACHED; i++) {
		const struct ipc_attached *a = &p->ipc->att[i];

		if (a->id != 0 && addr >= a->gpa + KX_PAGE_SIZE && addr <= a->gpa + a->size - 4)
			return (uint32_t *)(void *)(p->mem.host + addr);
	}
	return NULL;
}

static int ipc_wait(struct hv_pvm *p, uint64_t addr, uint32_t value, uint64_t timeout_ns)
{
	uint32_t *w = word(p, addr);
	struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000ull),
			      .tv_nsec = (long)(timeout_ns % 1000000000ull)};

	if (w == NULL)
		return -EINVAL;
	if (p->be->ipc_wait != NULL)
		return p->be->ipc_wait(p->vm, addr, value, timeout_ns);
	/* Not FUTEX_PRIVATE: the other holders are other processes. */
	if (syscall(SYS_futex, w, FUTEX_WAIT, value, &ts, NULL, 0) == 0 || errno == EAGAIN)
		return 0;
	return errno == ETIMEDOUT ? -ETIMEDOUT : errno == EINTR ? -EINTR : 0;
}

static int ipc_wake(struct hv_pvm *p, uint64_t addr, uint32_t count)
{
	uint32_t *w = word(p, addr);
	long n;

	if (w == NULL)
		return -EINVAL;
	if (p->be->ipc_wake != NULL)
		return p->be->ipc_wake(p->vm, addr, count);
	n = syscall(SYS_futex, w, FUTEX_WAKE, count > INT32_MAX ? INT32_MAX : (int)count, NULL,
		    NULL, 0);
	return n < 0 ? 0 : (int)n;
}

uint32_t *hv_ipc_word(struct hv_pvm *p, uint64_t addr)
{
	return addr % 4 == 0 ? word(p, addr) : NULL;
}

/* ---- hypercalls ----------------------------------------------------------------- */

static int notify(struct hv_pvm *p, const struct kx_hc_notify *n, uint32_t nr)
{
	int rc;

	if (n->addr % 4 != 0)
		return -EINVAL;
	if (nr == KX_HC_NOTIFY_WAKE)
		return ipc_wake(p, n->addr, n->count);
	rc = ipc_wait(p, n->addr, n->value,
		      n->timeout_ns < KX_IPC_WAIT_MAX_NS ? n->timeout_ns : KX_IPC_WAIT_MAX_NS);
	/* Interrupted by the host: a guest signal ends the wait, else the
	 * guest simply looks again. */
	if (rc == -EINTR && !hv_interrupted(p))
		rc = 0;
	return rc;
}

static void hc_ipc(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct kx_hc_ipc_obj *o = &b->ipc_obj;
	int rc;

	if (p->mgr == NULL) {
		b->hdr.ret = -KX_EPERM;
		return;
	}
	switch (b->hdr.nr) {
	case KX_HC_IPC_GET:
		b->ipc_get.id = b->ipc_get.addr = b->ipc_get.data_size = 0;
		rc = b->ipc_get.kind < KX_IPC_KIND_PIPE || b->ipc_get.kind > KX_IPC_KIND_SHM ||
				     (b->ipc_get.flags & ~(KX_IPC_CREAT | KX_IPC_EXCL)) != 0
			     ? -EINVAL
			     : ipc_get(p, &b->ipc_get);
		break;
	case KX_HC_IPC_DETACH:
		/* Checked here: kxd would take other bits from kxmon for a
		 * malformed message and end the pVM instead of answering. */
		rc = (o->ends & ~(KX_IPC_END_READ | KX_IPC_END_WRITE)) != 0
			     ? -EINVAL
			     : ipc_detach(p, o->id, o->ends);
		break;
	case KX_HC_IPC_RM:
		rc = ipc_rm(p, o->id);
		break;
	case KX_HC_IPC_SELF:
		/* The lock token: the monitor's pid, which kxd knows for every
		 * pVM (a forked pVM has its own). */
		o->id = (uint64_t)getpid();
		rc = 0;
		break;
	default: /* NOTIFY_WAIT, NOTIFY_WAKE */
		rc = notify(p, &b->notify, b->hdr.nr);
		break;
	}
	if (rc == -EPIPE) {
		hv_bad(res, "IpC: the channel to the manager broke");
		return;
	}
	b->hdr.ret = rc >= 0 ? rc : hv_guest_errno(rc);
}

static const struct hv_hcall_desc hcalls[] = {
	{KX_HC_IPC_GET, sizeof(struct kx_hc_ipc_get), hc_ipc},
	{KX_HC_IPC_DETACH, sizeof(struct kx_hc_ipc_obj), hc_ipc},
	{KX_HC_IPC_RM, sizeof(struct kx_hc_ipc_obj), hc_ipc},
	{KX_HC_IPC_SELF, sizeof(struct kx_hc_ipc_obj), hc_ipc},
	{KX_HC_NOTIFY_WAIT, sizeof(struct kx_hc_notify), hc_ipc},
	{KX_HC_NOTIFY_WAKE, sizeof(struct kx_hc_notify), hc_ipc},
};

const struct hv_module hv_mod_ipc = {
	.name = "ipc",
	.hcalls = hcalls,
	.nhcalls = sizeof(hcalls) / sizeof(hcalls[0]),
	.setup = ipc_setup,
	.destroy = ipc_destroy,
};
