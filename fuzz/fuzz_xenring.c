/*
 * fuzz_xenring — both ends of the kx hypercall ring (guest/xen/ring.c)
 * against a hostile peer: a monitor taking requests from a page a guest
 * writes at will, and a guest taking responses from a page a monitor
 * writes at will.
 *
 * Input layout (all of it untrusted, any length):
 *   bytes 0..4095   the shared page as the peer left it (shorter: zeros)
 *   bytes 4096..    a script, one op per byte (low 3 bits), operands after:
 *                   0 monitor takes a request       1 monitor answers one
 *                   2 peer pokes: u16 offset, u32 value into the page
 *                   3 monitor waits (req_event)     4 guest puts a FORK block
 *                   5 guest takes its response      6 guest waits (rsp_event)
 *                   7 peer sets an index: u8 which, u32 value
 *
 * Besides ASan/UBSan the harness checks what the ends promise: a request
 * the monitor takes has a length in range, a multiple of 8, the right ABI
 * version, and its copy is what was in the slot when taken; the monitor
 * never has more than KX_RING_SLOTS requests taken and unanswered; a
 * refused state carries a reason; after -KX_EIO the end is not used again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/kx_hcall_abi.h"
#include "guest/kx_ring_abi.h"
#include "guest/xen/ring.h"

static struct kx_ring_page page __attribute__((aligned(4096)));

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kxr_back back;
	struct kxr_front front;
	struct kxr_req req;
	uint64_t ids[KX_RING_SLOTS * 2];
	unsigned n_ids = 0;
	int back_dead = 0, front_up = 0, notify;
	const char *why;
	size_t at = KX_RING_PAGE_SIZE;

	/* The monitor set the page up; then the peer wrote what it wanted. */
	kxr_back_init(&back, &page, 3);
	memcpy(&page, data, size < KX_RING_PAGE_SIZE ? size : KX_RING_PAGE_SIZE);
	front_up = kxr_front_attach(&front, &page, &why) == 0;
	if (!front_up && why == NULL)
		abort();

	while (at < size) {
		uint8_t op = data[at++] & 7;
		struct kx_hc_fork fork = {
			.hdr = {.abi_version = KX_HCALL_ABI_VERSION, .nr = KX_HC_FORK}};
		int rc;

		switch (op) {
		case 0:
			if (back_dead)
				break;
			why = NULL;
			rc = kxr_back_take(&back, &req, &why);
			if (rc == -KX_EIO) {
				if (why == NULL)
					abort();
				back_dead = 1;
			} else if (rc == 0) {
				if (req.len < sizeof(struct kx_hc_hdr) ||
				    req.len > KX_RING_BLOCK_MAX || req.len % 8 ||
				    req.block.hdr.abi_version != KX_HCALL_ABI_VERSION ||
				    req.nr != req.block.hdr.nr)
					abort();
				if ((uint32_t)(back.req_cons - back.rsp_prod) > KX_RING_SLOTS)
					abort();
			} else if (rc != -KX_EAGAIN) {
				abort();
			}
			break;
		case 1:
			if (back_dead)
				break;
			rc = kxr_back_put(&back, 1, &fork, sizeof(fork), &notify);
			if (rc != 0 && rc != -KX_EINVAL)
				abort();
			break;
		case 2:
			if (size - at < 6)
				return 0;
			{
				uint16_t off;
				uint32_t v = get32(data + at + 2);

				memcpy(&off, data + at, 2);
				off %= KX_RING_PAGE_SIZE - 3;
				memcpy((uint8_t *)&page + off, &v, 4);
			}
			at += 6;
			break;
		case 3:
			if (!back_dead)
				kxr_back_want_request(&back);
			break;
		case 4:
			if (!front_up)
				break;
			rc = kxr_front_put(&front, &fork, sizeof(fork), &ids[n_ids % 32], &notify);
			if (rc == 0)
				n_ids++;
			else if (rc != -KX_EAGAIN)
				abort();
			break;
		case 5:
			if (!front_up)
				break;
			why = NULL;
			rc = kxr_front_take(&front, n_ids ? ids[(n_ids - 1) % 32] : 0, &fork,
					    sizeof(fork), &why);
			if (rc == -KX_EIO) {
				if (why == NULL)
					abort();
				front_up = 0;
			} else if (rc != 0 && rc != -KX_EAGAIN) {
				abort();
			}
			break;
		case 6:
			if (front_up)
				kxr_front_want_response(&front);
			break;
		case 7:
			if (size - at < 5)
				return 0;
			{
				uint32_t v = get32(data + at + 1);

				switch (data[at] & 3) {
				case 0:
					page.front.req_prod = v;
					break;
				case 1:
					page.back.rsp_prod = v;
					break;
				case 2:
					page.front.rsp_event = v;
					break;
				default:
					page.back.req_event = v;
					break;
				}
			}
			at += 5;
			break;
		}
	}
	return 0;
}
