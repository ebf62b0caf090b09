/*
 * syscall_arch.h — kx's replacement for musl's x86_64 file of the same name
 * (guest/libc/, copied over Debian's musl tree before the build).
 *
 * In a pVM the guest runs at CPL3 with no kernel below it: a `syscall`
 * instruction jumps to RIP 0 on kvm_pvm and is never what we want.  Every
 * system call musl makes is a plain function call into kx's syscall layer
 * (guest/posix/), which implements it inside the pVM or asks the monitor
 * with a hypercall.  The return convention is the kernel's: a value, or
 * -errno in [-4095, -1].
 *
 * No vDSO: clock_gettime goes through __kx_syscall as well (the layer keeps
 * it cheap), so VDSO_USEFUL is not defined.
 */
#define __SYSCALL_LL_E(x) (x)
#define __SYSCALL_LL_O(x) (x)

long __kx_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6);

static __inline long __syscall0(long n)
{
	return __kx_syscall(n, 0, 0, 0, 0, 0, 0);
}

static __inline long __syscall1(long n, long a1)
{
	return __kx_syscall(n, a1, 0, 0, 0, 0, 0);
}

static __inline long __syscall2(long n, long a1, long a2)
{
	return __kx_syscall(n, a1, a2, 0, 0, 0, 0);
}

static __inline long __syscall3(long n, long a1, long a2, long a3)
{
	return __kx_syscall(n, a1, a2, a3, 0, 0, 0);
}

static __inline long __syscall4(long n, long a1, long a2, long a3, long a4)
{
	return __kx_syscall(n, a1, a2, a3, a4, 0, 0);
}

static __inline long __syscall5(long n, long a1, long a2, long a3, long a4, long a5)
{
	return __kx_syscall(n, a1, a2, a3, a4, a5, 0);
}

static __inline long __syscall6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	return __kx_syscall(n, a1, a2, a3, a4, a5, a6);
}

#define IPC_64 0
