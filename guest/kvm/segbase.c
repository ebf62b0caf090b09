/*
 * segbase.c — the FS and GS bases on KVM (guest/platform.h): wrfsbase and
 * friends at CPL3, which the monitor allows by setting CR4.FSGSBASE when
 * the host CPU has it (kx_boot_info.features).  No exit.
 */
#include "guest/kxrt.h"
#include "guest/platform.h"

int kx_plat_set_segbase(unsigned seg, uint64_t base)
{
	if (!(kx_boot_info()->features & KX_BOOT_FSGSBASE))
		return -KX_ENOSYS;
	if (seg == KX_SEG_FS)
		__asm__ volatile("wrfsbase %0" : : "r"(base) : "memory");
	else if (seg == KX_SEG_GS)
		__asm__ volatile("wrgsbase %0" : : "r"(base) : "memory");
	else
		return -KX_EINVAL;
	return 0;
}

int kx_plat_get_segbase(unsigned seg, uint64_t *base)
{
	uint64_t v;

	if (!(kx_boot_info()->features & KX_BOOT_FSGSBASE))
		return -KX_ENOSYS;
	if (seg == KX_SEG_FS)
		__asm__ volatile("rdfsbase %0" : "=r"(v));
	else if (seg == KX_SEG_GS)
		__asm__ volatile("rdgsbase %0" : "=r"(v));
	else
		return -KX_EINVAL;
	*base = v;
	return 0;
}
