/*
 * clone.s — kx: musl's __clone(func, stack, flags, arg, ptid, tls, ctid)
 * becomes a call into the syscall layer's thread scheduler (guest/posix/
 * thread.c, __kx_clone, same arguments), which makes a thread of the pVM
 * that starts in func(arg) on stack and exits with its return value.
 * Replaces musl's file, which issues the clone system call with `syscall`.
 */
.text
.global __clone
.hidden __clone
.type   __clone,@function
__clone:
	jmp __kx_clone
.size __clone, . - __clone
.section .note.GNU-stack,"",@progbits
