/*
 * du_resolve.S (Xen) — lazy binding, as guest/kvm/du_resolve.S, but the
 * KX_HC_RESOLVE block goes to the monitor over the kx ring: kx_hcall, a C
 * call, which may clobber only what du_save saved (guest/du_resolve.h).
 */
#include "guest/du_resolve.h"

	.text
	.globl du_resolve
	.type du_resolve, @function
du_resolve:
	du_save
	/* struct kx_hc_resolve at SAVE(%rsp); kx_hcall fills its header */
	lea SAVE(%rsp), %rdi
	mov FRAME(%rsp), %rax     /* module id */
	mov %rax, 16(%rdi)
	mov FRAME+8(%rsp), %rax   /* PLT index */
	mov %rax, 24(%rdi)
	movq $0, 32(%rdi)
	mov $HC_RESOLVE, %esi     /* %rsp is 16-byte aligned here */
	call kx_hcall
	mov SAVE+32(%rsp), %r11   /* the target */
	du_restore_jmp
	.size du_resolve, . - du_resolve

	.section .note.GNU-stack, "", @progbits
