/*
 * ring.h — both ends of the kx hypercall ring (guest/kx_ring_abi.h), in
 * freestanding C with no blocking and no notification: the caller decides
 * when to sleep and sends the event itself.  The guest runtime uses the
 * front end; the host backend (a dom0 monitor) links the same file for the
 * back end, and tests/unit/test_xen_ring.c and fuzz/fuzz_xenring.c drive
 * both on the host.
 *
 * The page is shared with a peer that may be hostile.  Each end keeps its
 * own indices privately, reads the peer's index once per call, checks it
 * against its own state before use, copies a slot out once and checks only
 * the copy.  Errors (kx_hcall_abi.h's numbers, negated):
 *   -KX_EAGAIN  nothing to take yet / no room to put
 *   -KX_EIO     the peer broke the ring (an index or a slot is impossible);
 *               *why names what, the ring must not be used again
 *   -KX_EINVAL  the caller's own mistake (a length out of range, a
 *               response for no request)
 *   -KX_EPERM   attach: no monitor set this page up (no magic)
 *   -KX_ENOSYS  attach: a monitor speaking another ring version or geometry
 */
#ifndef KX_GUEST_XEN_RING_H
#define KX_GUEST_XEN_RING_H

#include <stddef.h>
#include <stdint.h>

#include "guest/kx_hcall_abi.h"
#include "guest/kx_ring_abi.h"

/* ---- the guest's end ---- */
struct kxr_front {
	struct kx_ring_page *page;
	uint32_t req_prod; /* requests published */
	uint32_t rsp_cons; /* responses taken */
	uint64_t next_id;
	uint32_t evtchn;
};

/* Check the monitor's kx_ring_ident and start at index 0. */
int kxr_front_attach(struct kxr_front *f, struct kx_ring_page *page, const char **why);

/* Publish one request (a block of len bytes: a multiple of 8 in
 * 16..KX_RING_BLOCK_MAX).  0 with *id and *notify (1: send the event). */
int kxr_front_put(struct kxr_front *f, const void *block, uint32_t len, uint64_t *id, int *notify);

/* Take the next response: it must answer request id with len bytes; the
 * block is copied into block.  -KX_EAGAIN when none has been published. */
int kxr_front_take(struct kxr_front *f, uint64_t id, void *block, uint32_t len, const char **why);

/* About to sleep for a response: ask the monitor to notify, then the caller
 * must look once more (kxr_front_take) before sleeping. */
void kxr_front_want_response(struct kxr_front *f);

/* ---- the monitor's end ---- */
struct kxr_back {
	struct kx_ring_page *page;
	uint32_t req_cons; /* requests taken */
	uint32_t rsp_prod; /* responses published */
};

/* A request as the monitor may use it: a private, checked copy. */
struct kxr_req {
	uint64_t id;
	uint32_t len; /* bytes of block */
	uint32_t nr;  /* block's kx_hc_hdr.nr, not yet checked against the call table */
	union {
		struct kx_hc_hdr hdr;
		uint8_t bytes[KX_RING_BLOCK_MAX];
		uint64_t align;
	} block;
};

/* Write the ident (magic last) on a page the guest cannot run against yet,
 * and start at index 0. */
void kxr_back_init(struct kxr_back *b, struct kx_ring_page *page, uint32_t evtchn);

/* Take the next request.  0 with *req, -KX_EAGAIN, or -KX_EIO with *why. */
int kxr_back_take(struct kxr_back *b, struct kxr_req *req, const char **why);

/* Answer the oldest request taken and not yet answered with block (its id
 * and len).  0 with *notify, -KX_EINVAL when nothing awaits an answer. */
int kxr_back_put(struct kxr_back *b, uint64_t id, const void *block, uint32_t len, int *notify);

/* About to sleep for a request: ask the guest to notify, then look again. */
void kxr_back_want_request(struct kxr_back *b);

#endif /* KX_GUEST_XEN_RING_H */
