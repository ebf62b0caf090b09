/*
 * hypercall.h — private to guest/xen/: Xen hypercalls from a 64-bit PV
 * guest: `syscall` with the call's number in %rax, made in guest-kernel
 * mode, is a hypercall (exactly what each 32-byte stub of the hypercall
 * page Xen fills does); arguments in %rdi %rsi %rdx %r10 %r8, result in
 * %rax, %rcx and %r11 clobbered.  Inline, so a domain a kx monitor built
 * itself, whose hypercall page nobody filled, calls Xen the same way as a
 * domain libxc's builder made (the HYPERCALL_PAGE note stays: the builder
 * wants it).  The interfaces are Xen 4.17's public
 * headers (libxen-dev, /usr/include/xen); only these calls are used:
 *
 *   set_trap_table      our exception handlers (trap.c)
 *   mmu_update          page-table entries (mm.c)
 *   mmuext_op           MMUEXT_TLB_FLUSH_LOCAL after taking rights away
 *   update_va_mapping   one page's mapping: shared_info, guard, RO tables
 *   console_io          nothing on a domU (release Xen refuses writes)
 *   sched_op            SCHEDOP_shutdown (exit), SCHEDOP_poll (waiting)
 *   event_channel_op    EVTCHNOP_send (console, kx ring)
 */
#ifndef KX_GUEST_XEN_HYPERCALL_H
#define KX_GUEST_XEN_HYPERCALL_H

#include <stdint.h>

#include "guest/xen/xen_public.h"
#include <xen/event_channel.h>
#include <xen/sched.h>

extern char kx_xen_hypercall_page[4096];

static inline long xen_hcall3(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3)
{
	long ret;
	register unsigned long rdi __asm__("rdi") = a1;
	register unsigned long rsi __asm__("rsi") = a2;
	register unsigned long rdx __asm__("rdx") = a3;

	__asm__ volatile("syscall"
			 : "=a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx)
			 : "a"((unsigned long)nr)
			 : "rcx", "r11", "r8", "r10", "memory");
	return ret;
}

static inline long xen_hcall4(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3,
			      unsigned long a4)
{
	long ret;
	register unsigned long rdi __asm__("rdi") = a1;
	register unsigned long rsi __asm__("rsi") = a2;
	register unsigned long rdx __asm__("rdx") = a3;
	register unsigned long r10 __asm__("r10") = a4;

	__asm__ volatile("syscall"
			 : "=a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10)
			 : "a"((unsigned long)nr)
			 : "rcx", "r11", "r8", "memory");
	return ret;
}

static inline long xen_sched_op(int cmd, void *arg)
{
	return xen_hcall3(__HYPERVISOR_sched_op, (unsigned long)cmd, (unsigned long)arg, 0);
}

static inline long xen_evtchn_send(uint32_t port)
{
	struct evtchn_send send = {.port = port};

	return xen_hcall3(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&send, 0);
}

static inline long xen_update_va_mapping(uint64_t va, uint64_t pte, unsigned long flags)
{
	return xen_hcall3(__HYPERVISOR_update_va_mapping, va, pte, flags);
}

static inline long xen_mmu_update(struct mmu_update *req, unsigned count, unsigned *done)
{
	return xen_hcall4(__HYPERVISOR_mmu_update, (unsigned long)req, count, (unsigned long)done,
			  DOMID_SELF);
}

static inline long xen_mmuext_op(struct mmuext_op *op, unsigned count)
{
	return xen_hcall4(__HYPERVISOR_mmuext_op, (unsigned long)op, count, 0, DOMID_SELF);
}

static inline long xen_set_trap_table(const struct trap_info *table)
{
	return xen_hcall3(__HYPERVISOR_set_trap_table, (unsigned long)table, 0, 0);
}

#endif /* KX_GUEST_XEN_HYPERCALL_H */
