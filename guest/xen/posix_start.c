/*
 * posix_start.c — where an SDK image (kx-cc --backend xen) leaves the Xen
 * platform for the POSIX layer.  The Xen entry (entry.S, xen.c) ends, on
 * the final stack, in kx_crt_main with the boot info; in-tree images get
 * kx's mini libc's (guest/start.c), an SDK image this one, which does what
 * KVM's crt1.S does: hand the boot info and the app's main to
 * guest/posix/start.c.  Linked with entry.o into kxcrt1-xen.o.
 */
#include "guest/kxrt.h"
#include "guest/runtime.h"

int main(int argc, char **argv, char **envp);
KX_NORETURN void kx_posix_start(const struct kx_boot_info *boot,
				int (*app_main)(int, char **, char **));

void kx_crt_main(const struct kx_boot_info *boot)
{
	kx_posix_start(boot, main);
}
