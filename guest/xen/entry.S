/*
 * entry.S — what makes an image a Xen PV kernel: the ELF notes libxc's
 * loader reads (xen/elfnote.h), the entry point, the hypercall page Xen
 * fills, and the exception stubs.
 *
 * Loader contract (libelf, Xen 4.17): LOADER "generic" and XEN_VERSION
 * "xen-3.0" are required for a non-Linux PV kernel; VIRT_BASE =
 * PADDR_OFFSET = KX_XEN_VIRT_BASE load the image where it is linked
 * (guest/xen/xen.ld) with pseudo-physical frame 0 at its first page, so
 * nothing is mapped below it (a NULL dereference faults).
 */
#include <xen/elfnote.h>

#define VIRT_BASE 0x400000

	.macro note type, name, namesz, desc:vararg
	.balign 4
	.long \namesz
	.long 2f - 1f
	.long \type
	.asciz "\name"
	.balign 4
1:	\desc
2:	.balign 4
	.endm

	.section .note.Xen, "a", @note
	note XEN_ELFNOTE_GUEST_OS, "Xen", 4, .asciz "kx"
	note XEN_ELFNOTE_GUEST_VERSION, "Xen", 4, .asciz "1"
	note XEN_ELFNOTE_XEN_VERSION, "Xen", 4, .asciz "xen-3.0"
	note XEN_ELFNOTE_LOADER, "Xen", 4, .asciz "generic"
	note XEN_ELFNOTE_VIRT_BASE, "Xen", 4, .quad VIRT_BASE
	note XEN_ELFNOTE_PADDR_OFFSET, "Xen", 4, .quad VIRT_BASE
	note XEN_ELFNOTE_ENTRY, "Xen", 4, .quad _start
	note XEN_ELFNOTE_HYPERCALL_PAGE, "Xen", 4, .quad kx_xen_hypercall_page
	/* kx makes every page-table change through mmu_update: it needs no
	 * writable page tables, and asks for no other feature. */
	note XEN_ELFNOTE_FEATURES, "Xen", 4, .asciz ""

	/* kx's own note (libelf skips it): where the kx ring page is, for a
	 * monitor (guest/kx_ring_abi.h: KX_ELFNOTE_NAME, KX_ELFNOTE_RING). */
	.section .note.kx, "a", @note
	note 1, "KX", 3, .quad kx_xen_ring

/*
 * Entry: %rsi = start_info, %rsp = the end of the boot stack (the last
 * bootstrap element), events masked.  Move to a stack in the image before
 * calling C, and pass the boot %rsp: it tells where free memory starts.
 * A domain a kx monitor built itself enters with %rsi = its boot page
 * (struct kx_ring_boot) and %rdi = the core's boot info: passed on third.
 */
	.section .text.entry, "ax", @progbits
	.globl _start
	.type _start, @function
_start:
	cld
	mov %rsp, %rbx
	lea kx_xen_boot_stack_top(%rip), %rsp
	xor %ebp, %ebp
	mov %rdi, %rdx
	mov %rsi, %rdi
	mov %rbx, %rsi
	call kx_xen_start
	ud2
	.size _start, . - _start

/* kx_xen_run_on(sp, boot): continue on the final stack with kx_crt_main. */
	.text
	.globl kx_xen_run_on
	.type kx_xen_run_on, @function
kx_xen_run_on:
	mov %rdi, %rsp
	xor %ebp, %ebp
	mov %rsi, %rdi
	call kx_crt_main
	ud2
	.size kx_xen_run_on, . - kx_xen_run_on

/*
 * The signal trampoline (guest/platform.h): entered with %rsp 16-byte
 * aligned; after the handler, KX_HC_SIGRETURN through kx_hcall, which the
 * monitor does not let return.
 */
	.globl kx_sig_trampoline
	.type kx_sig_trampoline, @function
kx_sig_trampoline:
	call *%rsi
	sub $16, %rsp
	mov %rsp, %rdi
	mov $22, %esi		/* KX_HC_SIGRETURN */
	call kx_hcall
	ud2
	.size kx_sig_trampoline, . - kx_sig_trampoline

/*
 * kx_xen_sig_enter(sig, handler) (pv.h): a signal delivery on Xen, entered
 * by the runtime itself after a kx call's answer (xen.c).  Keeps the
 * callee-saved registers and the stack pointer, calls handler(sig) on an
 * aligned stack, then asks KX_HC_SIGRETURN as the trampoline does; a
 * successful SIGRETURN — this one or one the handler made itself — comes
 * back through kx_xen_sig_resume, which unwinds whatever the handler left
 * on the stack, as KVM's kept state does.
 */
	.globl kx_xen_sig_enter
	.type kx_xen_sig_enter, @function
kx_xen_sig_enter:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	sub $8, %rsp			/* 16-byte aligned for the call */
	mov %rsp, sig_saved_rsp(%rip)
	call *%rsi			/* %rdi = the signal */
	sub $16, %rsp			/* struct kx_hc_sigreturn */
	mov %rsp, %rdi
	mov $22, %esi			/* KX_HC_SIGRETURN */
	call kx_hcall			/* resumes below unless it failed */
	.globl kx_xen_sig_resume
	.type kx_xen_sig_resume, @function
kx_xen_sig_resume:
	mov sig_saved_rsp(%rip), %rsp
	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
	.size kx_xen_sig_resume, . - kx_xen_sig_resume
	.size kx_xen_sig_enter, . - kx_xen_sig_enter

	.local sig_saved_rsp
	.comm sig_saved_rsp, 8, 8

/*
 * Exception stubs.  Xen's frame: %rcx, %r11 (its SYSRET leftovers), the
 * error code for vectors that have one, then %rip, %cs, %rflags, %rsp, %ss.
 * Each stub drops %rcx/%r11, pushes a 0 error code where the CPU gives
 * none, and calls kx_xen_trap(frame, vector) on an aligned stack.  The pVM
 * never resumes after a fault.
 */
	.macro trap vec, has_ec
	.globl kx_xen_trap_\vec
	.type kx_xen_trap_\vec, @function
kx_xen_trap_\vec:
	pop %rcx
	pop %r11
	.if \has_ec == 0
	push $0
	.endif
	mov %rsp, %rdi
	mov $\vec, %esi
	and $-16, %rsp
	call kx_xen_trap
	ud2
	.size kx_xen_trap_\vec, . - kx_xen_trap_\vec
	.endm

	trap 0, 0
	trap 1, 0
	trap 3, 0
	trap 4, 0
	trap 5, 0
	trap 6, 0
	trap 7, 0
	trap 8, 1
	trap 10, 1
	trap 11, 1
	trap 12, 1
	trap 13, 1
	trap 14, 1
	trap 16, 0
	trap 17, 1
	trap 18, 0
	trap 19, 0

/* Xen writes one 32-byte stub per hypercall here while building the domain. */
	.section .text.hypercall_page, "ax", @progbits
	.balign 4096
	.globl kx_xen_hypercall_page
kx_xen_hypercall_page:
	.fill 4096, 1, 0xcc
	.size kx_xen_hypercall_page, 4096

/* The C code's stack until memory is mapped (kx_xen_start). */
	.section .bss.boot_stack, "aw", @nobits
	.balign 16
	.space 16384
kx_xen_boot_stack_top:

	.section .note.GNU-stack, "", @progbits
