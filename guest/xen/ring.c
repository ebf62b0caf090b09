/*
 * ring.c — both ends of the kx hypercall ring (ring.h, guest/kx_ring_abi.h).
 *
 * Untrusted input: everything in the shared page.  Indices are read once
 * (acquire) into locals and checked against this end's private state with
 * unsigned arithmetic modulo 2^32, which is how the ring defines them; a
 * slot is copied out whole once and only the copy is checked and used.
 * Nothing here can index outside the page: slot numbers are always
 * `index % KX_RING_SLOTS`, lengths are checked before any copy.
 */
#include "guest/xen/ring.h"

#define load_acquire(p)	    __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define full_barrier()	    __atomic_thread_fence(__ATOMIC_SEQ_CST)

static struct kx_ring_slot *slot_at(struct kx_ring_page *page, uint32_t index)
{
	return &page->slot[index % KX_RING_SLOTS];
}

static int block_len_ok(uint32_t len)
{
	return len >= sizeof(struct kx_hc_hdr) && len <= KX_RING_BLOCK_MAX && len % 8 == 0;
}

/* Xen's rule: notify iff the peer's event index lies in (old, new]. */
static int must_notify(uint32_t old, uint32_t new, uint32_t event)
{
	return (uint32_t)(new - event) < (uint32_t)(new - old);
}

static void set_why(const char **why, const char *what)
{
	if (why)
		*why = what;
}

/* ---- the guest's end ---------------------------------------------------- */

int kxr_front_attach(struct kxr_front *f, struct kx_ring_page *page, const char **why)
{
	struct kx_ring_ident id;

	__builtin_memcpy(&id, &page->ident, sizeof(id));
	if (load_acquire(&page->ident.magic) != KX_RING_MAGIC || id.magic != KX_RING_MAGIC) {
		set_why(why, "no monitor set up the kx ring");
		return -KX_EPERM;
	}
	if (id.version != KX_RING_ABI_VERSION || id.slots != KX_RING_SLOTS ||
	    id.slot_size != KX_RING_SLOT_SIZE || (id.features & ~(uint64_t)KX_RING_FEATURES)) {
		set_why(why, "the monitor speaks another kx ring version or geometry");
		return -KX_ENOSYS;
	}
	*f = (struct kxr_front){.page = page, .next_id = 1, .evtchn = id.evtchn};
	store_release(&page->front.req_prod, 0u);
	store_release(&page->front.rsp_event, 1u);
	return 0;
}

int kxr_front_put(struct kxr_front *f, const void *block, uint32_t len, uint64_t *id, int *notify)
{
	struct kx_ring_slot *s;
	uint32_t old = f->req_prod;

	if (!block_len_ok(len))
		return -KX_EINVAL;
	/* Room: at most KX_RING_SLOTS requests without a response taken. */
	if ((uint32_t)(old - f->rsp_cons) >= KX_RING_SLOTS)
		return -KX_EAGAIN;
	s = slot_at(f->page, old);
	s->id = f->next_id;
	s->len = len;
	s->reserved = 0;
	__builtin_memcpy(s->block, block, len);
	f->req_prod = old + 1;
	store_release(&f->page->front.req_prod, f->req_prod);
	full_barrier(); /* publish before reading the monitor's event index */
	*notify = must_notify(old, f->req_prod, load_acquire(&f->page->back.req_event));
	*id = f->next_id++;
	return 0;
}

int kxr_front_take(struct kxr_front *f, uint64_t id, void *block, uint32_t len, const char **why)
{
	struct kx_ring_slot copy;
	uint32_t prod = load_acquire(&f->page->back.rsp_prod);

	/* The monitor answers only what was asked: rsp_cons <= prod <= req_prod. */
	if ((uint32_t)(prod - f->rsp_cons) > (uint32_t)(f->req_prod - f->rsp_cons)) {
		set_why(why, "the monitor published more responses than requests");
		return -KX_EIO;
	}
	if (prod == f->rsp_cons)
		return -KX_EAGAIN;
	__builtin_memcpy(&copy, slot_at(f->page, f->rsp_cons), sizeof(copy));
	if (copy.id != id || copy.len != len || !block_len_ok(copy.len)) {
		set_why(why, "a response does not answer the request");
		return -KX_EIO;
	}
	__builtin_memcpy(block, copy.block, len);
	f->rsp_cons++;
	return 0;
}

void kxr_front_want_response(struct kxr_front *f)
{
	store_release(&f->page->front.rsp_event, f->rsp_cons + 1);
	full_barrier(); /* the event index is visible before the caller looks again */
}

/* ---- the monitor's end ---------------------------------------------------- */

void kxr_back_init(struct kxr_back *b, struct kx_ring_page *page, uint32_t evtchn)
{
	__builtin_memset(page, 0, sizeof(*page));
	page->ident = (struct kx_ring_ident){
		.version = KX_RING_ABI_VERSION,
		.slots = KX_RING_SLOTS,
		.slot_size = KX_RING_SLOT_SIZE,
		.evtchn = evtchn,
		.features = KX_RING_FEATURES,
	};
	page->back.req_event = 1;
	store_release(&page->ident.magic, KX_RING_MAGIC);
	*b = (struct kxr_back){.page = page};
}

int kxr_back_take(struct kxr_back *b, struct kxr_req *req, const char **why)
{
	struct kx_ring_slot copy;
	uint32_t prod = load_acquire(&b->page->front.req_prod);
	uint32_t pending = prod - b->req_cons;

	/* Requests the guest may have outstanding: those taken and not yet
	 * answered, plus those published; never more than the slots. */
	if (pending > KX_RING_SLOTS || (uint32_t)(prod - b->rsp_prod) > KX_RING_SLOTS) {
		set_why(why, "kx ring: request index out of range");
		return -KX_EIO;
	}
	if (pending == 0)
		return -KX_EAGAIN;
	__builtin_memcpy(&copy, slot_at(b->page, b->req_cons), sizeof(copy));
	if (!block_len_ok(copy.len)) {
		set_why(why, "kx ring: request length out of range");
		return -KX_EIO;
	}
	if (copy.reserved != 0) {
		set_why(why, "kx ring: reserved field set");
		return -KX_EIO;
	}
	req->id = copy.id;
	req->len = copy.len;
	__builtin_memset(&req->block, 0, sizeof(req->block));
	__builtin_memcpy(req->block.bytes, copy.block, copy.len);
	if (req->block.hdr.abi_version != KX_HCALL_ABI_VERSION) {
		set_why(why, "unsupported hypercall ABI version");
		return -KX_EIO;
	}
	req->nr = req->block.hdr.nr;
	b->req_cons++;
	return 0;
}

int kxr_back_put(struct kxr_back *b, uint64_t id, const void *block, uint32_t len, int *notify)
{
	struct kx_ring_slot *s;
	uint32_t old = b->rsp_prod;

	if (!block_len_ok(len) || old == b->req_cons)
		return -KX_EINVAL;
	s = slot_at(b->page, old);
	s->id = id;
	s->len = len;
	s->reserved = 0;
	__builtin_memcpy(s->block, block, len);
	b->rsp_prod = old + 1;
	store_release(&b->page->back.rsp_prod, b->rsp_prod);
	full_barrier();
	*notify = must_notify(old, b->rsp_prod, load_acquire(&b->page->front.rsp_event));
	return 0;
}

void kxr_back_want_request(struct kxr_back *b)
{
	store_release(&b->page->back.req_event, b->req_cons + 1);
	full_barrier();
}
