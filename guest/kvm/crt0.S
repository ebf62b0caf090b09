/*
 * crt0.S — pVM entry.  The monitor enters here at CPL3 with %rdi = the
 * address of struct kx_boot_info and %rsp = the stack top.  Clear the frame
 * pointer so backtraces end here, keep the stack 16-byte aligned for the
 * SysV ABI, and hand over to C; kx_crt_main never returns.
 */
	.section .text.entry, "ax", @progbits
	.globl _start
	.type _start, @function
_start:
	xor %ebp, %ebp
	and $-16, %rsp
	call kx_crt_main
	ud2
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
