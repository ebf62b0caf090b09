/*
 * segbase.c — the FS and GS bases on Xen PV (guest/platform.h).  A 64-bit
 * PV guest cannot count on wrfsbase: Xen enables CR4.FSGSBASE for a PV
 * vCPU only when the guest asks and the CPU (or QEMU's TCG) has it, and kx
 * runs under TCG.  HYPERVISOR_set_segment_base always works: Xen loads the
 * base for us, checking it is canonical.  kx's PV guest runs in Xen's
 * guest-kernel mode throughout, so its live GS base is the "kernel" one.
 * Xen gives no call to read a base back: the last value set is kept here
 * (nothing else changes it; one vCPU).
 */
#include "guest/xen/xen_public.h"

#include "guest/kx_hcall_abi.h"
#include "guest/platform.h"
#include "guest/xen/hypercall.h"

static uint64_t seg_bases[2];

int kx_plat_set_segbase(unsigned seg, uint64_t base)
{
	static const unsigned which[2] = {[KX_SEG_FS] = SEGBASE_FS, [KX_SEG_GS] = SEGBASE_GS_KERNEL};

	if (seg > KX_SEG_GS)
		return -KX_EINVAL;
	if (xen_hcall3(__HYPERVISOR_set_segment_base, which[seg], base, 0) != 0)
		return -KX_EINVAL;
	seg_bases[seg] = base;
	return 0;
}

int kx_plat_get_segbase(unsigned seg, uint64_t *base)
{
	if (seg > KX_SEG_GS)
		return -KX_EINVAL;
	*base = seg_bases[seg];
	return 0;
}
