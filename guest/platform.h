/*
 * platform.h — private to guest/: how a pVM reaches its host.  This is the
 * whole difference between backends on the guest side; everything else in
 * libkxguest (start.c, hcall.c, printf, malloc, IpC, signals) is written
 * once over it.  One implementation per backend, each in its own folder and
 * its own library:
 *
 *   guest/kvm/   libkxguest.a      `outl` of a block's address to the
 *                                  hypercall port; the monitor enters at
 *                                  crt0's _start with struct kx_boot_info
 *   guest/xen/   libkxguest-xen.a  a Xen PV domU: start_info, the PV
 *                                  console ring, Xen's clock, SCHEDOP_shutdown;
 *                                  kx hypercalls over the kx ring
 *                                  (guest/kx_ring_abi.h) when a monitor is
 *                                  attached
 *
 * A platform's entry point builds (or is handed) a struct kx_boot_info and
 * calls kx_crt_main (start.c), which never returns.
 */
#ifndef KX_GUEST_PLATFORM_H
#define KX_GUEST_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "guest/kx_hcall_abi.h"

/* start.c: check the boot info, set up the heap, run main, exit. */
__attribute__((noreturn)) void kx_crt_main(const struct kx_boot_info *boot);

/* One kx hypercall (guest/kx_hcall_abi.h): the rest of the block is filled
 * in; the platform sets hdr->abi_version, hdr->nr and returns hdr->ret once
 * the call is done.  Where no monitor can serve the call, ret is -KX_EPERM,
 * as kxmon answers when it runs without kxd. */
int64_t kx_hcall(struct kx_hc_hdr *hdr, uint32_t nr);

/* End the pVM reporting a guest-detected error; msg is len bytes, at most
 * KX_HC_PANIC_MAX.  Does not return. */
__attribute__((noreturn)) void kx_plat_panic(const char *msg, size_t len);

/* The signal trampoline the monitor enters (docs/signals.md): calls the
 * handler in %rsi with the signal in %rdi, then KX_HC_SIGRETURN. */
void kx_sig_trampoline(void);

/*
 * The segment bases musl's thread-local storage needs: FS is the thread
 * pointer (guest/posix/: arch_prctl, the thread switch); GS only because
 * arch_prctl offers it.  The platform decides how, as no exit is wanted:
 *   KVM      wrfsbase/rdfsbase at CPL3, when the monitor enabled
 *            CR4.FSGSBASE (kx_boot_info.features & KX_BOOT_FSGSBASE)
 *   Xen PV   HYPERVISOR_set_segment_base (a guest-kernel-mode call, no
 *            monitor involved); the last value set is kept for the reads
 * 0, -KX_ENOSYS when the platform cannot (KVM without FSGSBASE), -KX_EINVAL
 * for a base the CPU refuses (Xen: not canonical; seg unknown).
 */
#define KX_SEG_FS 0u
#define KX_SEG_GS 1u
int kx_plat_set_segbase(unsigned seg, uint64_t base);
int kx_plat_get_segbase(unsigned seg, uint64_t *base);

/*
 * Also the platform's, declared in kxguest.h because apps call them:
 * kx_console_write, kx_exit, kx_clock_monotonic_ns, kx_clock_realtime_ns.
 */

#endif /* KX_GUEST_PLATFORM_H */
