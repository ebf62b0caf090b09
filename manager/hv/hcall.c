/*
 * hcall.c — the hypercall decoder.
 *
 * Input is untrusted: the block address and every byte of guest memory it
 * leads to are chosen by the guest.  The decoder copies the argument block
 * out of guest memory once (so a second vCPU could not change it under our
 * feet), checks version and call number, hands the copy to the module that
 * serves the number (each module reaches any further pointer in it through
 * hv_guest_ptr), and writes the block back only when the call succeeded.
 * It knows nothing of any hypervisor: the fuzz harness drives it over a
 * fake backend.
 */
#include <string.h>

#include "manager/hv/internal.h"

void hv_hcall_dispatch(struct hv_pvm *p, uint64_t block_gpa, struct hv_hcall_result *res)
{
	union hv_block block;
	const struct hv_hcall_desc *desc;
	void *guest_block;

	memset(res, 0, sizeof(*res));
	res->outcome = HV_HC_RESUME;
	if (block_gpa % 8 != 0) {
		hv_bad(res, "argument block not 8-byte aligned");
		return;
	}
	/* Blocks must be writable: ret goes back into them. */
	guest_block = hv_guest_ptr(&p->mem, block_gpa, sizeof(block.hdr), HV_ACCESS_WRITE);
	if (guest_block == NULL) {
		hv_bad(res, "argument block outside writable guest memory");
		return;
	}
	memcpy(&block.hdr, guest_block, sizeof(block.hdr));
	res->nr = block.hdr.nr;
	if (block.hdr.abi_version != KX_HCALL_ABI_VERSION) {
		hv_bad(res, "unsupported hypercall ABI version");
		return;
	}
	desc = hv_core_find_hcall(block.hdr.nr);
	if (desc == NULL) {
		hv_bad(res, "unknown hypercall number");
		return;
	}
	guest_block = hv_guest_ptr(&p->mem, block_gpa, desc->size, HV_ACCESS_WRITE);
	if (guest_block == NULL) {
		hv_bad(res, "argument block outside writable guest memory");
		return;
	}
	memcpy(&block, guest_block, desc->size);
	desc->handle(p, &block, res);
	if (res->outcome == HV_HC_RESUME)
		memcpy(guest_block, &block, desc->size);
}
