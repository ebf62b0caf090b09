/*
 * hcall.c — the hypercall decoder.
 *
 * Input is untrusted: the block and every byte of guest memory it leads to
 * are chosen by the guest.  A block arrives one of two ways: as a guest
 * address (the guest wrote it to a port the backend traps: the decoder
 * copies the block out of guest memory once, so a second vCPU could not
 * change it under our feet), or already copied out by the backend (a
 * transport that carries blocks in a shared ring: the decoder checks the
 * copy's length).  Either way it checks version and call number, hands a
 * private copy to the module that serves the number (each module reaches
 * any further pointer in it through hv_guest_ptr), and writes the block
 * back only when the call succeeded.  It knows nothing of any hypervisor:
 * the fuzz harnesses drive it over a fake backend.
 */
#include <string.h>

#include "manager/hv/internal.h"

/* The call the header names, or NULL with res filled (hv_bad). */
static const struct hv_hcall_desc *lookup(const struct kx_hc_hdr *hdr,
					  struct hv_hcall_result *res)
{
	const struct hv_hcall_desc *desc;

	res->nr = hdr->nr;
	if (hdr->abi_version != KX_HCALL_ABI_VERSION) {
		hv_bad(res, "unsupported hypercall ABI version");
		return NULL;
	}
	desc = hv_core_find_hcall(hdr->nr);
	if (desc == NULL)
		hv_bad(res, "unknown hypercall number");
	return desc;
}

/* The call on a private copy of the block at where (desc->size bytes),
 * written back there only when the guest resumes. */
static void call(struct hv_pvm *p, const struct hv_hcall_desc *desc, void *where,
		 struct hv_hcall_result *res)
{
	union hv_block block;

	memcpy(&block, where, desc->size);
	desc->handle(p, &block, res);
	if (res->outcome == HV_HC_RESUME)
		memcpy(where, &block, desc->size);
}

void hv_hcall_dispatch(struct hv_pvm *p, uint64_t block_gpa, struct hv_hcall_result *res)
{
	struct kx_hc_hdr hdr;
	const struct hv_hcall_desc *desc;
	void *guest_block;

	memset(res, 0, sizeof(*res));
	res->outcome = HV_HC_RESUME;
	if (block_gpa % 8 != 0) {
		hv_bad(res, "argument block not 8-byte aligned");
		return;
	}
	/* Blocks must be writable: ret goes back into them. */
	guest_block = hv_guest_ptr(&p->mem, block_gpa, sizeof(hdr), HV_ACCESS_WRITE);
	if (guest_block == NULL) {
		hv_bad(res, "argument block outside writable guest memory");
		return;
	}
	memcpy(&hdr, guest_block, sizeof(hdr));
	desc = lookup(&hdr, res);
	if (desc == NULL)
		return;
	guest_block = hv_guest_ptr(&p->mem, block_gpa, desc->size, HV_ACCESS_WRITE);
	if (guest_block == NULL) {
		hv_bad(res, "argument block outside writable guest memory");
		return;
	}
	call(p, desc, guest_block, res);
}

void hv_hcall_dispatch_copy(struct hv_pvm *p, void *buf, size_t len,
			    struct hv_hcall_result *res)
{
	struct kx_hc_hdr hdr;
	const struct hv_hcall_desc *desc;

	memset(res, 0, sizeof(*res));
	res->outcome = HV_HC_RESUME;
	if (buf == NULL || len < sizeof(hdr)) {
		hv_bad(res, "argument block shorter than its header");
		return;
	}
	memcpy(&hdr, buf, sizeof(hdr));
	desc = lookup(&hdr, res);
	if (desc == NULL)
		return;
	if (len < desc->size) {
		hv_bad(res, "argument block shorter than its call's");
		return;
	}
	call(p, desc, buf, res);
}
