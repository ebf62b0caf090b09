/*
 * du_resolve.h — shared by each platform's du_resolve.S (guest/kvm/,
 * guest/xen/): the frame lazy binding keeps while the monitor resolves a
 * symbol.  Every argument register (and %rax, the vararg count) is saved
 * and restored around the platform's KX_HC_RESOLVE, so the target sees the
 * original call; the struct kx_hc_resolve block lies at SAVE(%rsp).
 *
 * Stack at entry:  0(%rsp) module id, 8(%rsp) PLT index, 16(%rsp) return.
 */
#ifndef KX_GUEST_DU_RESOLVE_H
#define KX_GUEST_DU_RESOLVE_H

#define HC_RESOLVE 5
#define SAVE	   (7 * 8 + 8 * 16)   /* gprs, xmm0-7 */
#define BLOCK	   40                 /* struct kx_hc_resolve */
#define FRAME	   (SAVE + BLOCK + 8) /* +8: keeps xmm saves 16-aligned */

/* %rsp is 8 mod 16 on entry (two pushes after a call); 0 mod 16 after. */
	.macro du_save
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
	.endm

/* Restore, drop the frame, the module id and the index; jump to %r11. */
	.macro du_restore_jmp
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
	.endm

#endif /* KX_GUEST_DU_RESOLVE_H */
