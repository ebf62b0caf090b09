/*
 * __unmapself.s — kx: a detached thread frees its own stack and exits,
 * musl's __unmapself(base, size).  The syscall layer's scheduler does it
 * (guest/posix/thread.c, __kx_unmapself): it switches to another thread
 * first and unmaps the stack from there.  Replaces musl's file, which
 * issues munmap and exit with `syscall` (and musl's generic C version runs
 * them on a 256-byte static stack, too small for the layer).
 */
.text
.global __unmapself
.type   __unmapself,@function
__unmapself:
	jmp __kx_unmapself
.size __unmapself, . - __unmapself
.section .note.GNU-stack,"",@progbits
