/*
 * syscalls.h — private to guest/posix/: every system call the layer
 * implements, as one list (syscall.c builds its table from it; each
 * handler lives in the file the comment names).
 */
#ifndef KX_POSIX_SYSCALLS_H
#define KX_POSIX_SYSCALLS_H

/* Every implemented call: X(name) is SYS_name -> kx_sys_name; A(nr, fn)
 * maps a number to another's handler (same semantics here). */
#define KX_SYSCALLS(X, A)                                                                       \
	/* fd.c */                                                                              \
	X(read) X(write) X(pread64) X(pwrite64) X(readv) X(writev) X(preadv) X(pwritev)         \
	X(lseek) X(close) X(dup) X(dup2) X(dup3) X(fcntl) X(ioctl) X(fstat) X(ftruncate)        \
	X(getdents64) X(fsync) A(fdatasync, fsync) X(flock)                                     \
	/* sendfile.c */                                                                        \
	X(sendfile)                                                                             \
	/* tmpfs.c, fs.c */                                                                     \
	X(open) X(openat) X(creat) X(memfd_create) X(stat) X(lstat) X(newfstatat) X(access)     \
	X(faccessat) X(faccessat2) X(mkdir) X(mkdirat) X(unlink) X(unlinkat) X(rmdir)           \
	X(rename) X(renameat) X(renameat2) X(link) X(linkat) X(truncate) X(chdir) X(fchdir)     \
	X(getcwd) X(umask) X(chmod) X(fchmod) X(fchmodat) X(chown) X(lchown) X(fchown)          \
	X(fchownat) X(utimensat) X(readlink) X(readlinkat) X(statfs) X(fstatfs)                 \
	/* mem.c */                                                                             \
	X(brk) X(mmap) X(munmap) X(mremap) X(madvise) X(mprotect)                               \
	/* time.c */                                                                            \
	X(clock_gettime) X(clock_getres) X(gettimeofday) X(time) X(nanosleep)                   \
	X(clock_nanosleep)                                                                      \
	/* thread.c, futex.c */                                                                 \
	X(clone) X(exit) X(exit_group) X(set_tid_address) X(gettid) X(set_robust_list)          \
	X(sched_yield) X(futex) X(sched_getaffinity) X(sched_setaffinity) X(getcpu) X(prctl)    \
	/* signal.c */                                                                          \
	X(rt_sigaction) X(rt_sigprocmask) X(rt_sigpending) X(rt_sigsuspend) X(pause)            \
	X(sigaltstack) X(kill) X(tkill) X(tgkill) X(rt_sigreturn)                               \
	/* pipe.c, poll.c */                                                                    \
	X(pipe) X(pipe2) X(poll) X(ppoll) X(select) X(pselect6)                                 \
	/* epoll.c (posix-fs) */                                                                \
	X(epoll_create) X(epoll_create1) X(epoll_ctl) X(epoll_wait) X(epoll_pwait)              \
	/* eventfd.c, timerfd.c (issue 13) */                                                   \
	X(eventfd) X(eventfd2) X(timerfd_create) X(timerfd_settime) X(timerfd_gettime)          \
	/* signalfd.c (issue 13) */                                                             \
	X(signalfd) X(signalfd4)                                                                \
	/* socket.c (network) */                                                                \
	X(socket) X(bind) X(listen) X(accept) X(accept4) X(connect) X(sendto) X(recvfrom)       \
	X(sendmsg) X(recvmsg) X(shutdown) X(getsockname) X(getpeername) X(setsockopt)           \
	X(getsockopt)                                                                           \
	/* proc.c */                                                                            \
	X(getpid) X(getppid) X(getuid) A(geteuid, getuid) X(getgid) A(getegid, getgid)          \
	X(getresuid) X(getresgid) X(setuid) X(setgid) X(setreuid) X(setregid) X(setresuid)      \
	X(setresgid) X(getgroups) X(setgroups) X(getpgid) X(getpgrp) X(getsid) X(setsid)        \
	X(setpgid) X(wait4) X(waitid) X(uname) X(prlimit64) X(getrlimit) X(setrlimit)           \
	X(sysinfo) X(getrusage) X(times) X(getrandom) X(arch_prctl)                             \
	/* posix-mon: proc.c (processes are pVMs: fork through kxd) */                          \
	X(fork) A(vfork, fork)                                                                   \
	/* posix-mon: signal.c (ITIMER_REAL) */                                                 \
	X(alarm) X(setitimer) X(getitimer) X(rt_sigtimedwait)

/* Pasted with ##, never expanded: musl #defines pread64, prlimit64, ... */
#define KX_SYS_DECLARE(name) long kx_sys_##name(const long *a);
#define KX_SYS_DECLARE_ALIAS(nr, name)
KX_SYSCALLS(KX_SYS_DECLARE, KX_SYS_DECLARE_ALIAS)

#endif /* KX_POSIX_SYSCALLS_H */
