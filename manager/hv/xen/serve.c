/*
 * serve.c — the monitor's end of the kx ring (guest/kx_ring_abi.h) as the
 * core's hypercall exits.  The guest is untrusted: kxr_back_take copies a
 * request out of the shared page once and checks the copy (index range,
 * length, reserved field, ABI version); the core then decodes that copy
 * (hv_hcall_dispatch_copy) and writes the answer into it, and the next run
 * puts it back on the ring.  A ring the guest broke ends the pVM as a bad
 * hypercall and is never touched again.  No Xen library here: the event
 * channel is the caller's (xen.c), so tests/unit/test_xen_serve.c and
 * fuzz/fuzz_xenserve.c run this file on any host.
 */
#include <string.h>

#include "manager/hv/xen/xen.h"

void xen_serve_init(struct xen_serve *s, struct kx_ring_page *page, uint32_t evtchn)
{
	memset(s, 0, sizeof(*s));
	kxr_back_init(&s->back, page, evtchn);
}

void xen_serve_answer(struct xen_serve *s, int *notify)
{
	*notify = 0;
	if (!s->serving || s->broken)
		return;
	s->serving = false;
	/* Cannot fail: the request was taken and is the oldest unanswered. */
	if (kxr_back_put(&s->back, s->req.id, s->req.block.bytes, s->req.len, notify) != 0)
		s->broken = true;
}

static int broken(struct xen_serve *s, struct hv_exit *exit, const char *why)
{
	s->broken = true;
	memset(exit, 0, sizeof(*exit));
	exit->kind = HV_EXIT_END;
	exit->end.reason = HV_END_BAD_HCALL;
	exit->end.detail = why != NULL ? why : "the kx ring broke";
	return 1;
}

int xen_serve_next(struct xen_serve *s, struct hv_exit *exit)
{
	const char *why = NULL;
	int rc;

	if (s->broken)
		return broken(s, exit, "the kx ring broke");
	if (s->serving)
		return broken(s, exit, "a request taken before the last was answered");
	rc = kxr_back_take(&s->back, &s->req, &why);
	if (rc == -KX_EAGAIN) {
		/* Ask for a notification, then look once more before sleeping. */
		kxr_back_want_request(&s->back);
		rc = kxr_back_take(&s->back, &s->req, &why);
	}
	if (rc == -KX_EAGAIN)
		return 0;
	if (rc != 0)
		return broken(s, exit, why);
	s->serving = true;
	memset(exit, 0, sizeof(*exit));
	exit->kind = HV_EXIT_HCALL;
	exit->block_buf = s->req.block.bytes;
	exit->block_len = s->req.len;
	return 1;
}
