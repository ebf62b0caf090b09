/*
 * start.c — from the monitor's entry (crt0.S) to main() and back out
 * through exit.
 */
#include "guest/kxguest.h"
#include "guest/runtime.h"

KX_NORETURN void kx_crt_main(const struct kx_boot_info *boot);

static const struct kx_boot_info *boot_info;

const struct kx_boot_info *kx_boot_info(void)
{
	return boot_info;
}

void kx_crt_main(const struct kx_boot_info *boot)
{
	if (boot->magic != KX_BOOT_MAGIC || boot->abi_version != KX_HCALL_ABI_VERSION)
		kx_panic("boot info: bad magic or ABI version");
	boot_info = boot;
	kx_heap_init((void *)boot->heap_start, boot->heap_size);
	exit(main((int)boot->argc, (char **)boot->argv));
}

void exit(int status)
{
	kx_exit(status);
}

void abort(void)
{
	kx_panic("abort() called");
}
