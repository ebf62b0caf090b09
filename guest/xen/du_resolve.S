/*
 * du_resolve.S (Xen) — lazy binding, as guest/kvm/du_resolve.S but the
 * KX_HC_RESOLVE block goes to the monitor over the kx ring (kx_hcall, a C
 * call: every register it may clobber is saved here first).  A module's PLT0 pushes GOT[1] (its module
 * id) and jumps here through GOT[2]; below it on the stack is the PLT index
 * its stub pushed, then the caller's return address.  One KX_HC_RESOLVE
 * hypercall makes the monitor write the GOT entry (the guest cannot: the
 * GOT is read-only to it) and return the target; every argument register
 * is preserved so the target sees the original call.
 *
 * Stack at entry:  0(%rsp) module id, 8(%rsp) PLT index, 16(%rsp) return.
 */
#define HC_RESOLVE    5
#define SAVE	      (7 * 8 + 8 * 16) /* gprs, xmm0-7 */
#define BLOCK	      40               /* struct kx_hc_resolve */
#define FRAME	      (SAVE + BLOCK + 8) /* +8: keeps xmm saves 16-aligned */

	.text
	.globl du_resolve
	.type du_resolve, @function
du_resolve:
	/* %rsp is 8 mod 16 here (two pushes after a call). */
	sub $FRAME, %rsp
	mov %rax, 0(%rsp)
	mov %rdi, 8(%rsp)
	mov %rsi, 16(%rsp)
	mov %rdx, 24(%rsp)
	mov %rcx, 32(%rsp)
	mov %r8, 40(%rsp)
	mov %r9, 48(%rsp)
	movdqu %xmm0, 56(%rsp)
	movdqu %xmm1, 72(%rsp)
	movdqu %xmm2, 88(%rsp)
	movdqu %xmm3, 104(%rsp)
	movdqu %xmm4, 120(%rsp)
	movdqu %xmm5, 136(%rsp)
	movdqu %xmm6, 152(%rsp)
	movdqu %xmm7, 168(%rsp)
	/* struct kx_hc_resolve at SAVE(%rsp), 8-byte aligned */
	lea SAVE(%rsp), %rdi
	mov FRAME(%rsp), %rax     /* module id */
	mov %rax, 16(%rdi)
	mov FRAME+8(%rsp), %rax   /* PLT index */
	mov %rax, 24(%rdi)
	movq $0, 32(%rdi)
	mov $HC_RESOLVE, %esi     /* kx_hcall fills the header; %rsp is 16-aligned */
	call kx_hcall
	mov SAVE+32(%rsp), %r11   /* the target */
	mov 0(%rsp), %rax
	mov 8(%rsp), %rdi
	mov 16(%rsp), %rsi
	mov 24(%rsp), %rdx
	mov 32(%rsp), %rcx
	mov 40(%rsp), %r8
	mov 48(%rsp), %r9
	movdqu 56(%rsp), %xmm0
	movdqu 72(%rsp), %xmm1
	movdqu 88(%rsp), %xmm2
	movdqu 104(%rsp), %xmm3
	movdqu 120(%rsp), %xmm4
	movdqu 136(%rsp), %xmm5
	movdqu 152(%rsp), %xmm6
	movdqu 168(%rsp), %xmm7
	add $FRAME + 16, %rsp     /* also drop the module id and the index */
	jmp *%r11
	.size du_resolve, . - du_resolve

	.section .note.GNU-stack, "", @progbits
