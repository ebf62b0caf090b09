/*
 * du_resolve.S — lazy binding.  A module's PLT0 pushes GOT[1] (its module
 * id) and jumps here through GOT[2]; below it on the stack is the PLT index
 * its stub pushed, then the caller's return address.  One KX_HC_RESOLVE
 * hypercall makes the monitor write the GOT entry (the guest cannot: the
 * GOT is read-only to it) and return the target; every argument register
 * is preserved so the target sees the original call (guest/du_resolve.h).
 */
#include "guest/du_resolve.h"

#define KX_HCALL_PORT 0x10
#define HC_VERSION    1

	.text
	.globl du_resolve
	.type du_resolve, @function
du_resolve:
	du_save
	/* struct kx_hc_resolve at SAVE(%rsp), 8-byte aligned */
	lea SAVE(%rsp), %r11
	movl $HC_VERSION, 0(%r11)
	movl $HC_RESOLVE, 4(%r11)
	movq $0, 8(%r11)
	mov FRAME(%rsp), %rax     /* module id */
	mov %rax, 16(%r11)
	mov FRAME+8(%rsp), %rax   /* PLT index */
	mov %rax, 24(%r11)
	movq $0, 32(%r11)
	mov %r11d, %eax
	outl %eax, $KX_HCALL_PORT
	mov 32(%r11), %r11        /* the target */
	du_restore_jmp
	.size du_resolve, . - du_resolve

	.section .note.GNU-stack, "", @progbits
