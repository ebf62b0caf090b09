/*
 * crt1.S — the entry of an SDK image (kx-cc links it first): the monitor
 * enters at CPL3 with %rdi = struct kx_boot_info and %rsp = the stack top.
 * kx_posix_start (start.c) sets up the syscall layer and hands main to
 * musl's __libc_start_main; it never returns.
 */
	.section .text.entry, "ax", @progbits
	.globl _start
	.type _start, @function
_start:
	xor %ebp, %ebp
	and $-16, %rsp
	lea main(%rip), %rsi
	call kx_posix_start
	ud2
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
