/*
 * syscall_cp.s — kx: a cancellation point, musl's
 *     long __syscall_cp_asm(volatile int *cancel, nr, u, v, w, x, y, z)
 * with the `syscall` instruction replaced by a call to
 *     long __kx_syscall(nr, u, v, w, x, y, z)
 * (guest/posix/).  Threads in a pVM are switched by the syscall layer, never
 * interrupted by a signal, so a pending cancellation is seen here, at the
 * entry (musl's cancel flag), or when a blocking call returns -EINTR;
 * __cp_begin/__cp_end still bracket the call for musl's signal handler.
 */
.text
.global __cp_begin
.hidden __cp_begin
.global __cp_end
.hidden __cp_end
.global __cp_cancel
.hidden __cp_cancel
.hidden __cancel
.global __syscall_cp_asm
.hidden __syscall_cp_asm
.type   __syscall_cp_asm,@function
__syscall_cp_asm:

__cp_begin:
	mov (%rdi),%eax
	test %eax,%eax
	jnz __cp_cancel
	mov %rsi,%rdi		/* nr */
	mov %rdx,%rsi		/* u */
	mov %rcx,%rdx		/* v */
	mov %r8,%rcx		/* w */
	mov %r9,%r8		/* x */
	mov 8(%rsp),%r9		/* y */
	mov 16(%rsp),%rax	/* z: the seventh argument goes on the stack */
	push %rax		/* and realigns it to 16 bytes for the call */
	call __kx_syscall
__cp_end:
	add $8,%rsp
	ret
__cp_cancel:
	jmp __cancel
.size __syscall_cp_asm, . - __syscall_cp_asm
.section .note.GNU-stack,"",@progbits
