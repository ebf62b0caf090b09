/*
 * start.c — kx's mini libc: from the platform's entry (guest/kvm/crt0.S,
 * guest/xen/entry.S) to main() and back out through exit.  (SDK images
 * start in guest/posix/start.c.)
 */
#include "guest/kxguest.h"
#include "guest/runtime.h"

void kx_crt_main(const struct kx_boot_info *boot)
{
	kx_boot_init(boot);
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
