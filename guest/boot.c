/*
 * boot.c — the boot information the monitor hands the image at entry
 * (%rdi), kept for kx_boot_info().  Shared by both start paths: kx's mini
 * libc (start.c) and the POSIX layer (guest/posix/start.c).
 */
#include "guest/kxrt.h"
#include "guest/runtime.h"

static const struct kx_boot_info *boot_info;

const struct kx_boot_info *kx_boot_info(void)
{
	return boot_info;
}

void kx_boot_init(const struct kx_boot_info *boot)
{
	if (boot->magic != KX_BOOT_MAGIC || boot->abi_version != KX_HCALL_ABI_VERSION)
		kx_panic("boot info: bad magic or ABI version");
	boot_info = boot;
}
