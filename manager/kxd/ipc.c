/*
 * ipc.c — kxd as the broker of IpC objects (docs/ipc.md).
 *
 * An object is a memfd kxd creates: one control page that only kxd writes
 * (struct kx_ipc_ctl: holders, pipe ends, destroyed) and the data area its
 * holders share.  kxd keeps it mapped to update the control page, to free
 * a ring lock a dead pVM held, and to wake sleepers (FUTEX_WAKE on the
 * shared pages: the kxmons' futexes are on the same file pages).
 *
 * Tenants (docs/ipc.md "Keys and limits"): a key names an object in the
 * namespace of the family whose pVM made it.  A pVM sees its own family's
 * keys and those of families of apps its app has a mutual trust rule with;
 * any other family's key is invisible — looking it up is "no such key",
 * creating it makes a new object in the pVM's own namespace — so there is
 * no existence oracle and no squatting.  Each app may have at most its
 * policy's ipc-objects live objects (default 64), kxd at most 256 and
 * 256 MiB in all; an app's keyed objects are removed when its last pVM
 * ends, unless its policy says they persist.
 *
 * Every time a pVM gains access — it
 * creates an object, opens another pVM's by key, or inherits one across a
 * fork — gate_ipc decides and audits first; a denial changes nothing.
 *
 * The requests come from kxmon (IPC_REQ, checked by chan_check_from_kxmon for
 * ranges); the pVM is identified by its channel, never by the message.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest/kx_hcall_abi.h" /* the IpC object layout */
#include "manager/kxd/internal.h"

#define IPC_MAX_OBJECTS 256
#define IPC_MAX_HOLDERS 64		    /* pVMs attached to one object */
#define IPC_BYTES_MAX	((size_t)256 << 20) /* all objects together */
#define IPC_MSGQ_MIN	(32u << 10) /* a queue holds at least two largest messages */
#define BOTH_ENDS	(KX_IPC_END_READ | KX_IPC_END_WRITE)

struct ipc_hold {
	uint64_t pvm;
	uint32_t ends; /* pipe: the ends held; other kinds: BOTH_ENDS while attached */
};

struct ipc_obj {
	uint64_t id; /* 0: free */
	uint32_t kind;
	uint64_t key; /* KX_IPC_PRIVATE: none */
	bool destroyed;
	int memfd;
	uint8_t *map;
	size_t size; /* control page + data area */
	/* The creator as the gate saw it (it may have ended since). */
	uint64_t creator;
	char creator_app[KXD_APP_MAX];
	uint64_t creator_family;
	uint32_t creator_depth;
	struct ipc_hold holds[IPC_MAX_HOLDERS];
	unsigned nholds;
};

struct kxd_ipc {
	struct ipc_obj obj[IPC_MAX_OBJECTS];
	uint64_t next_id;
	size_t bytes;
};

static struct kxd_ipc *state(struct kxd *d)
{
	if (d->ipc == NULL) {
		d->ipc = calloc(1, sizeof(*d->ipc));
		if (d->ipc != NULL)
			d->ipc->next_id = 1;
	}
	return d->ipc;
}

static const char *kind_name(uint32_t kind)
{
	return kind == KX_IPC_KIND_PIPE ? "pipe" : kind == KX_IPC_KIND_MSGQ ? "msgq" : "shm";
}

static uint32_t policy_kind(uint32_t kind)
{
	return kind == KX_IPC_KIND_PIPE	  ? KXP_IPC_PIPE
	       : kind == KX_IPC_KIND_MSGQ ? KXP_IPC_MSGQ
					  : KXP_IPC_SHM;
}

static struct ipc_hold *hold_of(struct ipc_obj *o, uint64_t pvm)
{
	for (unsigned i = 0; i < o->nholds; i++)
		if (o->holds[i].pvm == pvm)
			return &o->holds[i];
	return NULL;
}

static struct kx_ipc_ring *ring_of(struct ipc_obj *o)
{
	return o->kind == KX_IPC_KIND_SHM ? NULL
					  : (struct kx_ipc_ring *)(void *)(o->map + KX_PAGE_SIZE);
}

static void futex_wake_all(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* The control page says who holds what now; sleepers look again. */
static void publish(struct ipc_obj *o)
{
	struct kx_ipc_ctl *ctl = (struct kx_ipc_ctl *)(void *)o->map;
	struct kx_ipc_ring *ring = ring_of(o);
	uint32_t readers = 0, writers = 0;

	for (unsigned i = 0; i < o->nholds; i++) {
		readers += (o->holds[i].ends & KX_IPC_END_READ) != 0;
		writers += (o->holds[i].ends & KX_IPC_END_WRITE) != 0;
	}
	__atomic_store_n(&ctl->readers, readers, __ATOMIC_SEQ_CST);
	__atomic_store_n(&ctl->writers, writers, __ATOMIC_SEQ_CST);
	__atomic_store_n(&ctl->holders, o->nholds, __ATOMIC_SEQ_CST);
	__atomic_store_n(&ctl->destroyed, o->destroyed ? 1u : 0u, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&ctl->gen, 1, __ATOMIC_SEQ_CST);
	if (ring == NULL)
		return;
	__atomic_add_fetch(&ring->data_seq, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&ring->space_seq, 1, __ATOMIC_SEQ_CST);
	futex_wake_all(&ring->data_seq);
	futex_wake_all(&ring->space_seq);
	futex_wake_all(&ring->lock);
}

static void free_obj(struct kxd_ipc *ipc, struct ipc_obj *o)
{
	munmap(o->map, o->size);
	close(o->memfd);
	ipc->bytes -= o->size;
	memset(o, 0, sizeof(*o));
}

/* Private objects go with their last holder; keyed ones stay (as System V
 * objects do) until removed. */
static void maybe_free(struct kxd_ipc *ipc, struct ipc_obj *o)
{
	if (o->nholds == 0 && (o->key == KX_IPC_PRIVATE || o->destroyed))
		free_obj(ipc, o);
}

static void drop_hold(struct ipc_obj *o, struct ipc_hold *h)
{
	*h = o->holds[--o->nholds];
}

static void creator_subject(const struct ipc_obj *o, struct gate_subject *out)
{
	*out = (struct gate_subject){.kind = GATE_SUBJECT_PVM,
				     .pvm_id = o->creator,
				     .app = o->creator_app,
				     .family_id = o->creator_family,
				     .depth = o->creator_depth};
}

/* gate_ipc for a pVM gaining access to o (creator == a when it creates). */
static int decide(struct kxd *d, const struct gate_subject *a, const struct gate_subject *b,
		  uint32_t kind, char *why, size_t whylen)
{
	struct gate_decision dec;
	int rc = gate_ipc(d->gate, a, b, policy_kind(kind), &dec);
	char what[64];

	if (rc == 0 && dec.verdict == KXP_ALLOW)
		return 0;
	snprintf(what, sizeof(what), "ipc %s", kind_name(kind));
	kxd_describe_denial(&dec, rc, what, why, whylen);
	return -EACCES;
}

/* The app's policy: how many objects its pVMs may have; whether its keyed
 * objects outlive its last pVM.  An app the policy no longer has (after a
 * reload) gets the defaults. */
static unsigned app_cap(struct kxd *d, const char *app)
{
	struct kxp_app_info info;

	return kxp_app_lookup(d->policy, app, &info) == 0 ? info.ipc_objects
							   : KXP_IPC_OBJECTS_DEFAULT;
}

static bool app_persists(struct kxd *d, const char *app)
{
	struct kxp_app_info info;

	return kxp_app_lookup(d->policy, app, &info) == 0 && info.ipc_persist;
}

/* May p see keys in o's namespace: o's creator's family is p's, or its app
 * and p's have a mutual trust rule (then gate_ipc still decides the kind). */
static bool visible(struct kxd *d, const struct kxd_pvm *p, const struct ipc_obj *o)
{
	return o->creator_family == p->family_id ||
	       kxp_ipc_trust_kinds(d->policy, p->app, o->creator_app) != 0;
}

/* Ring sizes: a power of two in range; shm: whole pages. */
static int data_size(uint32_t kind, uint64_t asked, uint64_t *out)
{
	uint64_t ring = asked ? asked : KX_IPC_RING_DEFAULT;

	if (kind == KX_IPC_KIND_SHM) {
		if (asked == 0 || asked > KX_IPC_SHM_MAX)
			return -EINVAL;
		*out = (asked + KX_PAGE_SIZE - 1) & ~(uint64_t)(KX_PAGE_SIZE - 1);
		return 0;
	}
	if (ring < (kind == KX_IPC_KIND_MSGQ ? IPC_MSGQ_MIN : KX_IPC_RING_MIN) ||
	    ring > KX_IPC_RING_MAX || (ring & (ring - 1)) != 0)
		return -EINVAL;
	*out = KX_IPC_RING_HDR + ring;
	return 0;
}

static int create(struct kxd *d, struct kxd_pvm *p, const struct kxmon_ipc_req *req,
		  struct ipc_obj **out, char *why, size_t whylen)
{
	struct kxd_ipc *ipc = state(d);
	struct ipc_obj *o = NULL;
	struct gate_subject self;
	struct kx_ipc_ctl *ctl;
	uint64_t data = 0;
	unsigned mine = 0;
	size_t size;
	int rc;

	if (data_size(req->kind, req->size, &data) != 0) {
		snprintf(why, whylen, "ipc %s: size %llu out of range", kind_name(req->kind),
			 (unsigned long long)req->size);
		return -EINVAL;
	}
	kxd_pvm_subject(p, &self);
	rc = decide(d, &self, &self, req->kind, why, whylen);
	if (rc != 0)
		return rc;
	size = (size_t)data + KX_PAGE_SIZE;
	for (unsigned i = 0; ipc && i < IPC_MAX_OBJECTS; i++) {
		if (ipc->obj[i].id == 0 && o == NULL)
			o = &ipc->obj[i];
		/* Keyed objects outlive their creators: one app cannot fill kxd. */
		if (ipc->obj[i].id != 0 && strcmp(ipc->obj[i].creator_app, p->app) == 0)
			mine++;
	}
	if (mine >= app_cap(d, p->app)) {
		snprintf(why, whylen, "ipc: app %s has %u objects, its limit (family.ipc-objects)",
			 p->app, mine);
		return -ENOSPC;
	}
	if (o == NULL || ipc->bytes + size > IPC_BYTES_MAX) {
		snprintf(why, whylen, "ipc: kxd holds %d objects or %zu MiB, all it keeps",
			 IPC_MAX_OBJECTS, IPC_BYTES_MAX >> 20);
		return -ENOSPC;
	}
	o->memfd = memfd_create("kx-ipc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (o->memfd < 0 || ftruncate(o->memfd, (off_t)size) != 0 ||
	    fcntl(o->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0 ||
	    (o->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, o->memfd, 0)) ==
		    MAP_FAILED) {
		snprintf(why, whylen, "ipc: cannot make the object: %s", strerror(errno));
		if (o->memfd >= 0)
			close(o->memfd);
		memset(o, 0, sizeof(*o));
		return -ENOSPC;
	}
	o->id = ipc->next_id++;
	o->kind = req->kind;
	o->key = req->kind == KX_IPC_KIND_PIPE ? KX_IPC_PRIVATE : req->key;
	o->size = size;
	o->creator = p->id;
	snprintf(o->creator_app, sizeof(o->creator_app), "%s", p->app);
	o->creator_family = p->family_id;
	o->creator_depth = p->depth;
	ipc->bytes += size;
	ctl = (struct kx_ipc_ctl *)(void *)o->map;
	ctl->magic = KX_IPC_CTL_MAGIC;
	ctl->kind = o->kind;
	ctl->id = o->id;
	ctl->data_size = data;
	*out = o;
	return 0;
}

/* The object key names for p: in p's own family's namespace, else in a
 * trusted app's family's (the oldest), else none. */
static struct ipc_obj *by_key(struct kxd *d, const struct kxd_pvm *p, uint32_t kind,
			      uint64_t key)
{
	struct kxd_ipc *ipc = state(d);
	struct ipc_obj *found = NULL;

	for (unsigned i = 0; ipc && key != KX_IPC_PRIVATE && i < IPC_MAX_OBJECTS; i++) {
		struct ipc_obj *o = &ipc->obj[i];

		if (o->id == 0 || o->destroyed || o->kind != kind || o->key != key)
			continue;
		if (o->creator_family == p->family_id)
			return o;
		if ((found == NULL || o->id < found->id) && visible(d, p, o))
			found = o;
	}
	return found;
}

static struct ipc_obj *by_id(struct kxd_ipc *ipc, uint64_t id)
{
	for (unsigned i = 0; ipc && id != 0 && i < IPC_MAX_OBJECTS; i++)
		if (ipc->obj[i].id == id)
			return &ipc->obj[i];
	return NULL;
}

/* GET: *map is set when p must map the object (it did not hold it). */
static int get(struct kxd *d, struct kxd_pvm *p, const struct kxmon_ipc_req *req,
	       struct ipc_obj **out, bool *map, char *why, size_t whylen)
{
	struct ipc_obj *o =
		req->kind == KX_IPC_KIND_PIPE ? NULL : by_key(d, p, req->kind, req->key);
	struct gate_subject self, creator;
	int rc;

	*map = false;
	if (o != NULL) {
		if ((req->flags & KX_IPC_CREAT) && (req->flags & KX_IPC_EXCL)) {
			snprintf(why, whylen, "ipc %s: key %llu exists", kind_name(req->kind),
				 (unsigned long long)req->key);
			return -EEXIST;
		}
		/* req->size is the guest's: compared without adding to it (a
		 * size near 2^64 would wrap past the check). */
		if (req->kind == KX_IPC_KIND_SHM && req->size > o->size - KX_PAGE_SIZE) {
			snprintf(why, whylen, "ipc shm: key %llu is smaller than %llu bytes",
				 (unsigned long long)req->key, (unsigned long long)req->size);
			return -EINVAL;
		}
		if (hold_of(o, p->id) == NULL) {
			/* Another pVM's object: first communication, decided now. */
			kxd_pvm_subject(p, &self);
			creator_subject(o, &creator);
			rc = decide(d, &self, &creator, o->kind, why, whylen);
			if (rc != 0)
				return rc;
		}
	} else if (req->kind != KX_IPC_KIND_PIPE && req->key != KX_IPC_PRIVATE &&
		   !(req->flags & KX_IPC_CREAT)) {
		snprintf(why, whylen, "ipc %s: no object has key %llu", kind_name(req->kind),
			 (unsigned long long)req->key);
		return -ENOENT;
	} else {
		rc = create(d, p, req, &o, why, whylen);
		if (rc != 0)
			return rc;
	}
	if (hold_of(o, p->id) == NULL) {
		if (o->nholds >= IPC_MAX_HOLDERS) {
			snprintf(why, whylen, "ipc: object %llu has %d holders",
				 (unsigned long long)o->id, IPC_MAX_HOLDERS);
			maybe_free(state(d), o);
			return -ENOSPC;
		}
		o->holds[o->nholds++] = (struct ipc_hold){.pvm = p->id, .ends = BOTH_ENDS};
		publish(o);
		*map = true;
	}
	*out = o;
	return 0;
}

void kxd_ipc_req(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in)
{
	const struct kxmon_ipc_req *req = &in->u.ipc_req;
	struct kxmon_ipc_resp *r;
	struct ipc_obj *o = NULL;
	struct ipc_hold *h = NULL;
	struct kxmon_msg msg;
	bool map = false;
	int rc = 0;

	memset(&msg, 0, sizeof(msg));
	msg.type = KXMON_MSG_IPC_RESP;
	msg.size = sizeof(msg);
	msg.seq = in->seq;
	r = &msg.u.ipc_resp;
	if (state(d) == NULL) {
		rc = -ENOSPC;
	} else if (req->op == KXMON_IPC_GET) {
		rc = get(d, p, req, &o, &map, r->reason, sizeof(r->reason));
	} else {
		o = by_id(d->ipc, req->id);
		h = o ? hold_of(o, p->id) : NULL;
		if (h == NULL || (req->op == KXMON_IPC_RM && o->kind == KX_IPC_KIND_PIPE)) {
			snprintf(r->reason, sizeof(r->reason), "ipc: pVM %llu holds no such object",
				 (unsigned long long)p->id);
			rc = -EINVAL;
		}
	}
	if (rc == 0 && req->op == KXMON_IPC_DETACH) {
		h->ends &= o->kind == KX_IPC_KIND_PIPE ? ~req->ends : 0;
	} else if (rc == 0 && req->op == KXMON_IPC_RM) {
		o->destroyed = true;
		kxd_log("pVM %llu (%s): ipc %s %llu removed", (unsigned long long)p->id, p->app,
			kind_name(o->kind), (unsigned long long)o->id);
	}
	if (rc == 0) {
		h = hold_of(o, p->id);
		r->kind = o->kind;
		r->id = o->id;
		r->data_size = o->size - KX_PAGE_SIZE;
		r->ends = o->kind == KX_IPC_KIND_PIPE ? h->ends : 0;
		r->map = map;
		if (h->ends == 0)
			drop_hold(o, h);
		if (req->op != KXMON_IPC_GET)
			publish(o);
	} else {
		kxd_log("pVM %llu (%s): %s", (unsigned long long)p->id, p->app, r->reason);
	}
	r->result = rc;
	rc = kxd_chan_send(d, p, &msg, sizeof(msg), o && map ? &o->memfd : NULL, o && map ? 1 : 0);
	if (o != NULL)
		maybe_free(d->ipc, o);
	if (rc != 0) {
		kxd_log("pVM %llu (%s): cannot answer IPC_REQ; ending it",
			(unsigned long long)p->id, p->app);
		kxd_pvm_end(d, p, "ended by kxd: its channel broke");
	}
}

int kxd_ipc_fork_check(struct kxd *d, struct kxd_pvm *parent, char *why, size_t whylen)
{
	struct gate_subject child, creator;

	kxd_pvm_subject(parent, &child);
	child.pvm_id = d->next_id; /* the id kxd_pvm_fork gives it */
	child.depth++;
	for (unsigned i = 0; d->ipc && i < IPC_MAX_OBJECTS; i++) {
		struct ipc_obj *o = &d->ipc->obj[i];

		if (o->id == 0 || hold_of(o, parent->id) == NULL)
			continue;
		if (o->nholds >= IPC_MAX_HOLDERS) {
			snprintf(why, whylen, "ipc: object %llu has %d holders",
				 (unsigned long long)o->id, IPC_MAX_HOLDERS);
			return -EAGAIN;
		}
		creator_subject(o, &creator);
		if (decide(d, &child, &creator, o->kind, why, whylen) != 0)
			return -EACCES;
	}
	return 0;
}

void kxd_ipc_fork(struct kxd *d, struct kxd_pvm *parent, struct kxd_pvm *child)
{
	for (unsigned i = 0; d->ipc && i < IPC_MAX_OBJECTS; i++) {
		struct ipc_obj *o = &d->ipc->obj[i];
		struct ipc_hold *h = o->id ? hold_of(o, parent->id) : NULL;

		if (h == NULL || o->nholds >= IPC_MAX_HOLDERS)
			continue;
		o->holds[o->nholds++] = (struct ipc_hold){.pvm = child->id, .ends = h->ends};
		publish(o);
	}
}

/* p was its app's last running pVM: its keyed objects go (as soon as no
 * other holder is left), unless the app's policy says they persist. */
static void app_gone(struct kxd *d, const struct kxd_pvm *p)
{
	unsigned removed = 0;

	if (p->app[0] == '\0' || app_persists(d, p->app))
		return;
	for (int i = 0; i < KXD_MAX_PVMS; i++) {
		const struct kxd_pvm *v = &d->pvms[i];

		if (v->used && v->id != p->id && v->state != KXD_PVM_EXITED &&
		    strcmp(v->app, p->app) == 0)
			return;
	}
	for (unsigned i = 0; d->ipc && i < IPC_MAX_OBJECTS; i++) {
		struct ipc_obj *o = &d->ipc->obj[i];

		if (o->id == 0 || o->destroyed || o->key == KX_IPC_PRIVATE ||
		    strcmp(o->creator_app, p->app) != 0)
			continue;
		o->destroyed = true;
		removed++;
		publish(o);
		maybe_free(d->ipc, o);
	}
	if (removed > 0)
		kxd_log("app %s has no pVM left: its %u keyed IpC objects removed", p->app,
			removed);
}

void kxd_ipc_gone(struct kxd *d, struct kxd_pvm *p)
{
	for (unsigned i = 0; d->ipc && i < IPC_MAX_OBJECTS; i++) {
		struct ipc_obj *o = &d->ipc->obj[i];
		struct ipc_hold *h = o->id ? hold_of(o, p->id) : NULL;
		struct kx_ipc_ring *ring;
		uint32_t token = (uint32_t)p->pid;

		if (h == NULL)
			continue;
		drop_hold(o, h);
		/* A lock the dead pVM held: what it was copying was never published. */
		ring = ring_of(o);
		if (ring != NULL && token != 0)
			__atomic_compare_exchange_n(&ring->lock, &token, 0, false, __ATOMIC_SEQ_CST,
						    __ATOMIC_SEQ_CST);
		publish(o);
		maybe_free(d->ipc, o);
	}
	app_gone(d, p);
}

void kxd_ipc_close(struct kxd *d)
{
	for (unsigned i = 0; d->ipc && i < IPC_MAX_OBJECTS; i++)
		if (d->ipc->obj[i].id != 0)
			free_obj(d->ipc, &d->ipc->obj[i]);
	free(d->ipc);
	d->ipc = NULL;
}
