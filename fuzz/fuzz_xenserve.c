/*
 * fuzz_xenserve — the Xen backend's serving end (manager/hv/xen/serve.c)
 * with the real core behind it, against a hostile guest: the shared kx
 * ring page as the guest left it, then the guest's writes between the
 * monitor's steps.  Each step is what xen.c's run loop does: answer the
 * last request, take the next, let the core decode the copy
 * (hv_hcall_dispatch_copy, over the fake backend: no Xen).
 *
 * Input layout (all of it untrusted, any length):
 *   bytes 0..4095   the ring page after the monitor's init, as the guest
 *                   overwrote it (shorter: the rest as the monitor wrote it)
 *   bytes 4096..    10-byte pokes, one before each step: u16 offset (mod
 *                   4088), u64 value written into the page
 *
 * Besides ASan/UBSan the harness checks what serve.c promises: a request
 * handed to the core has a length in 16..KX_RING_BLOCK_MAX, a multiple of
 * 8; an end carries a reason; once the ring broke, every later step ends
 * the pVM again without reading the page.  A KX_HC_HALT is served with
 * the pVM paused (as kxmon's timeout would leave it), so that it comes back
 * at once instead of sleeping to a fuzzed deadline (a libFuzzer timeout).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manager/hv/xen/xen.h"
#include "tests/hv/hv_fake.h"

#define STEPS 24

static struct kx_ring_page page __attribute__((aligned(4096)));

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void need(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xen_serve s;
	struct hv_pvm *p = fake_pvm(16ull << 20, NULL, false);
	struct hv_guest_mem *mem = hv_pvm_mem(p);
	size_t pos = sizeof(page);
	bool broke = false;

	/* Some guest memory the blocks' pointers may name. */
	memset(mem->page_prot + 0x400, HV_PROT_READ | HV_PROT_WRITE, 16);
	xen_serve_init(&s, &page, 3);
	memcpy(&page, data, size < sizeof(page) ? size : sizeof(page));
	for (int step = 0; step < STEPS; step++) {
		struct hv_hcall_result res;
		struct hv_exit x;
		uint32_t nr;
		int notify;

		if (pos + 10 <= size) {
			uint16_t off;
			uint64_t v;

			memcpy(&off, data + pos, 2);
			memcpy(&v, data + pos + 2, 8);
			memcpy((uint8_t *)&page + off % (sizeof(page) - 8), &v, 8);
			pos += 10;
		}
		xen_serve_answer(&s, &notify);
		need(notify == 0 || notify == 1);
		if (!xen_serve_next(&s, &x))
			continue; /* the guest published nothing */
		if (x.kind == HV_EXIT_END) {
			need(x.end.reason == HV_END_BAD_HCALL && x.end.detail != NULL);
			broke = true;
			break;
		}
		need(x.kind == HV_EXIT_HCALL && x.block_buf != NULL);
		need(x.block_len >= 16 && x.block_len <= KX_RING_BLOCK_MAX && x.block_len % 8 == 0);
		memcpy(&nr, (const uint8_t *)x.block_buf + offsetof(struct kx_hc_hdr, nr), sizeof(nr));
		if (nr == KX_HC_HALT)
			hv_pause(p);
		hv_hcall_dispatch_copy(p, x.block_buf, x.block_len, &res);
		if (res.outcome == HV_HC_BAD)
			need(res.reason != NULL);
		if (res.outcome != HV_HC_RESUME)
			break; /* the pVM ended: the monitor destroys it */
	}
	if (broke) {
		struct hv_exit x;

		memset(&page, 0, sizeof(page)); /* whatever the page says now */
		need(xen_serve_next(&s, &x) == 1 && x.kind == HV_EXIT_END);
	}
	hv_destroy(p, 0, NULL, "");
	return 0;
}
