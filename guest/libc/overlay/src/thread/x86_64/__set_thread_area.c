/*
 * __set_thread_area.c — kx: set the thread pointer (the FS base) through
 * the syscall layer's arch_prctl(ARCH_SET_FS), which uses wrfsbase when the
 * monitor enabled FSGSBASE (guest/posix/).  Replaces musl's .s file, which
 * issues the arch_prctl system call with a `syscall` instruction.
 */
#include "pthread_impl.h"

#define ARCH_SET_FS 0x1002 /* Linux's value (asm/prctl.h, not in musl) */

int __set_thread_area(void *p)
{
	return __syscall(SYS_arch_prctl, ARCH_SET_FS, p);
}
