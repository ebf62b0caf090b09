/*
 * posix.h — private to guest/posix/: the guest half of kx's syscall layer.
 *
 * musl (guest/libc/) makes every system call as a function call,
 * __kx_syscall(nr, a1..a6), with Linux's numbers, argument layouts and
 * return convention (a value, or -errno).  This layer implements what a
 * pVM can do by itself — memory from the heap region, the console, an
 * in-memory tmpfs, pipes, poll, threads on a user-level scheduler — and
 * answers -ENOSYS for the rest (recorded once per number; docs/posix.md).
 *
 * Compiled against musl's headers (so struct stat, struct timespec, the
 * O_ and errno constants are Linux's, as musl's are on x86_64), without a
 * stack protector: this code runs before TLS exists.  It calls musl's
 * string functions only (no malloc, no stdio: those need musl initialised
 * and come back here); its objects come from its own allocator (kalloc.c).
 *
 * Every pointer an app passes is an app pointer in the app's own address
 * space: a bad one faults the pVM as it would fault the process (Linux
 * would return EFAULT; there is no kernel here to catch it).
 */
#ifndef KX_POSIX_H
#define KX_POSIX_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>

#include "guest/kxrt.h"
#include "guest/runtime.h"

#define KX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KX_PAGE		 4096ul

/* ---- files: an fd table of open file descriptions with an ops vtable ---- */

struct kx_file;

/* One kind of object an fd can name: console, tmpfs file or directory,
 * pipe end, device; image files, host files and sockets come later as more
 * of these.  Every operation is optional: a NULL one gives the errno Linux
 * gives for that kind of object (see fd.c).  `off` is the position to use
 * and advance (the description's, or pread/pwrite's own). */
struct kx_file_ops {
	const char *kind;
	long (*read)(struct kx_file *f, void *buf, size_t len, off_t *off);
	long (*write)(struct kx_file *f, const void *buf, size_t len, off_t *off);
	/* The size for SEEK_END; absent: the object is not seekable (ESPIPE). */
	long (*size)(struct kx_file *f, off_t *size);
	long (*stat)(struct kx_file *f, struct stat *st);
	long (*truncate)(struct kx_file *f, off_t len);
	long (*getdents)(struct kx_file *f, void *buf, size_t len);
	long (*ioctl)(struct kx_file *f, unsigned long req, void *arg);
	/* POLLIN/POLLOUT/POLLHUP/POLLERR that hold now (absent: in and out). */
	unsigned (*poll)(struct kx_file *f);
	/* The last fd naming this description was closed. */
	void (*release)(struct kx_file *f);
	/* fsync/fdatasync (absent: nothing to write back). */
	long (*fsync)(struct kx_file *f);
};

/* For the anonymous-inode kinds (eventfd, signalfd, timerfd): stat as Linux
 * answers for them, and release that frees obj (fd.c). */
long kx_anon_stat(struct kx_file *f, struct stat *st);
void kx_obj_release(struct kx_file *f);

/* An open file description (dup'ed fds share one). */
struct kx_file {
	const struct kx_file_ops *ops;
	unsigned refs;
	int flags; /* O_ACCMODE bits, O_APPEND, O_NONBLOCK, O_DIRECTORY... */
	off_t pos;
	void *obj; /* the object behind it, the ops' business */
};

#define KX_FD_MAX 1024 /* RLIMIT_NOFILE, soft and hard */

/* A new description holding one reference (or NULL: out of memory). */
struct kx_file *kx_file_new(const struct kx_file_ops *ops, void *obj, int flags);
/* The lowest free fd >= min naming f (which gains a reference), or -EMFILE. */
long kx_fd_install(struct kx_file *f, int min, int cloexec);
/* The description behind fd, or NULL (EBADF). */
struct kx_file *kx_fd_get(long fd);
void kx_file_put(struct kx_file *f);
long kx_fd_close(long fd);
/* ops for /dev/null-like objects and the console (console.c). */
void kx_console_init(void);
extern const struct kx_file_ops kx_null_ops, kx_zero_ops, kx_urandom_ops;

/* A path resolution that left tmpfs for a host directory (tmpfs.h, hostfs.c):
 * private, never an errno; a system call that cannot follow a path there
 * answers EOPNOTSUPP (syscall.c). */
#define KX_HOSTPATH (-4097L)
/* posix-mon (pipe.c): before a fork, every pipe becomes one kxd keeps
 * (shared with the child). */
void kx_pipes_share(void);
/* posix-mon (poll.c): set by an ops.poll that said "not ready" for an
 * object whose change wakes nobody here (the console's input, a shared
 * pipe the wait does not watch): a wait then looks again every
 * millisecond. */
extern int kx_io_recheck;
/* While a wait collects them (kx_io_watching set), an ops.poll that said
 * "not ready" for an object another pVM changes adds the futex word that
 * change wakes (with the value it read before it looked, as kx_pipe_arm):
 * the wait ends when the word moves, at once, with no polling (the
 * vCPU halts in KX_HC_HALT_WATCH).  Outside such a wait, or past
 * KX_IO_WATCH_MAX words, it only sets kx_io_recheck. */
#define KX_IO_WATCH_MAX KX_HALT_WATCH_MAX
struct kx_io_watchset {
	struct kx_halt_word words[KX_IO_WATCH_MAX];
	uint32_t nwords;
};
extern struct kx_io_watchset *kx_io_watching;
void kx_io_watch(const uint32_t *word, uint32_t value);
/* A scan found nothing ready (kx_io_recheck as it left it): wait for
 * kx_io_changed, the deadline or a watched word.  When kx_io_recheck is
 * set, scan(arg) runs again first, collecting the words: its count when
 * it finds something (> 0).  Else 0 (look again), -ETIMEDOUT, -EINTR. */
long kx_io_wait(uint64_t deadline, long (*scan)(void *arg), void *arg);
/* timerfd.c: the earliest expiry (monotonic ns) of a timer with nothing
 * to read yet, or KX_NO_DEADLINE; the waits of poll.c end there. */
uint64_t kx_timerfd_next(void);

/* tmpfs (tmpfs.c): the file system of a pVM today. */
void kx_tmpfs_init(void);
/* The tmpfs directory behind fd (for *at calls and fchdir), or -errno. */
long kx_tmpfs_fd_dir(long fd, void **dir);

/* ---- waiting: the scheduler (thread.c) ---- */

/* Threads wait on an address (a futex word, a pipe, ...) and are woken by
 * kx_unblock on the same address.  Every change in readiness (pipe data,
 * room, a closed end) wakes the address of kx_io_changed too: poll and
 * select wait on it. */
extern char kx_io_changed;
/* What holds now for f: its ops.poll (POLLIN|POLLOUT without one), with
 * POLLRDNORM/POLLWRNORM beside POLLIN/POLLOUT (poll.c; epoll.c uses it). */
unsigned kx_file_ready(struct kx_file *f);

#define KX_NO_DEADLINE UINT64_MAX
/* Block the calling thread until kx_unblock(q) or the monotonic clock passes
 * deadline_ns (then -ETIMEDOUT); -EINTR when a signal for it arrives.  With
 * no other thread able to run, the vCPU halts in the monitor until the
 * earliest deadline; a wait no one can end (every thread blocked, none with
 * a deadline) ends the pVM with a panic: a deadlock. */
long kx_block(const void *q, uint64_t deadline_ns);
/* kx_block, and also woken (0) once one of the nwords 32-bit words no
 * longer holds its value: futex words of IpC objects another pVM changes
 * (kx_pipe_arm; .addr the word's address).  When nothing can run the vCPU
 * halts with KX_HC_HALT_WATCH on every such word, so the other pVM's wake
 * ends the halt at once.  words must stay alive until it returns. */
long kx_block_watch(const void *q, uint64_t deadline_ns, const struct kx_halt_word *words,
		    uint32_t nwords);
/* Only blocked threads' words are read (watched(), the halt): a close that
 * unmaps a ring wakes its waiters (pipe.c's changed(): the pipe and
 * kx_io_changed) before the scheduler runs again, so none is read after. */
/* Move up to n threads blocked on from to wait on to (FUTEX_REQUEUE);
 * how many moved. */
long kx_requeue(const void *from, const void *to, long n);
/* Wake up to n threads blocked on q; how many were woken. */
long kx_unblock(const void *q, long n);
void kx_yield(void);
/* The program enters / leaves the layer (a system call, __kx_clone): no
 * preemption in between; leaving, the thread yields if a tick came. */
void kx_runtime_enter(void);
void kx_runtime_leave(void);
/* Around a signal handler: out of the layer (returns the depth to give
 * back), and back in. */
uint32_t kx_runtime_suspend(void);
void kx_runtime_resume(uint32_t depth);
/* The calling thread's id (the main thread's is the pid). */
long kx_thread_tid(void);
/* The FS base of the calling thread changed (arch_prctl). */
void kx_thread_set_fs(uint64_t base);
/* Threads that exist, counting the caller. */
long kx_thread_count(void);
void kx_threads_init(void);
/* A thread's signals (signal.c's business; kept with the thread). */
struct kx_sigstate {
	uint64_t blocked; /* bit sig-1 */
	uint64_t pending;
	uint64_t waitset; /* posix-mon: sigtimedwait waits for these (blocked) */
	/* sigaltstack, per thread as Linux keeps it (a new thread has none):
	 * [alt_sp, alt_sp + alt_size); alt_size 0: none.  alt_autodisarm:
	 * SS_AUTODISARM (a handler entered on it disables it until it ends). */
	uint64_t alt_sp, alt_size;
	uint32_t alt_autodisarm;
};
struct kx_sigstate *kx_thread_sig(void);
/* Thread tid's signals (NULL: no such thread). */
struct kx_sigstate *kx_thread_sig_of(long tid);
/* Drop these pending signals in every thread (now ignored). */
void kx_threads_discard(uint64_t sigs);
/* Thread tid is blocked: end its wait with -EINTR. */
void kx_thread_interrupt(long tid);

/* ---- sockets (socket.c) ---- */
/* The network stack runs (a socket was made): the scheduler, when every
 * thread waits, lets it halt the vCPU until a frame or deadline_ns. */
/* In a forked child (proc.c): the network device stayed with the parent. */
void kx_sock_forked(void);
int kx_net_active(void);
void kx_net_idle(uint64_t deadline_ns);

/* ---- time (time.c) ---- */
void kx_time_init(void);
uint64_t kx_now_ns(clockid_t clock); /* CLOCK_MONOTONIC or CLOCK_REALTIME: one exit */
uint64_t kx_uptime_ns(void);
/* The monotonic deadline for a relative timespec (NULL: none), -EINVAL. */
long kx_deadline_rel(const struct timespec *ts, uint64_t *deadline);
/* ... for an absolute time on clock. */
long kx_deadline_abs(clockid_t clock, const struct timespec *ts, uint64_t *deadline);
/* A coarse (millisecond) reading without an exit, for file timestamps. */
void kx_timespec_now(clockid_t clock, struct timespec *ts);

/* ---- memory (mem.c, kalloc.c) ---- */
void kx_mem_init(const struct kx_boot_info *boot);
/* Free heap bytes, for sysinfo and statfs. */
uint64_t kx_mem_free_bytes(void);
/* n zeroed pages of the heap region for the layer itself (NULL: none). */
void *kx_pages_alloc(size_t n);
void kx_pages_free(void *p, size_t n);
/* Resize a run of pages in place: 1 done, 0 the pages after it are taken. */
int kx_pages_grow(void *p, size_t n, size_t new_n);
/* The layer's allocator (zeroed blocks; a bad pointer ends the pVM). */
void *kx_kalloc(size_t n);
void *kx_krealloc(void *p, size_t n);
void kx_kfree(void *p);

/* ---- signals (signal.c) ---- */
void kx_signals_init(void);
/* Deliver what is pending and not blocked for the calling thread: at the
 * end of every system call (the safe point of a pVM without preemption). */
void kx_signals_deliver(void);
/* Raise sig against the calling thread (write to a pipe without a reader). */
void kx_signal_self(int sig);
/* posix-mon: ITIMER_REAL.  Its next expiry (KX_NO_DEADLINE: none); past
 * it, SIGALRM goes to a thread that does not block it (check: the
 * scheduler, whenever it looks at the clock); a forked child's is off. */
uint64_t kx_alarm_deadline(void);
/* posix-mon: signals other pVMs sent since, made the process's (signal.c). */
void kx_async_signals(void);
/* signalfd.c: a signal became pending (signal.c): wake the signalfd
 * reads and poll/select/epoll. */
void kx_signalfd_changed(void);
void kx_alarm_check(uint64_t now);
void kx_alarm_forked(void);
/* thread.c: a thread that does not block sigbit (the main one first), for a
 * process-directed signal; the caller's when all do. */
long kx_thread_for_signal(uint64_t sigbit);
/* thread.c: the monitor's ticks from now on (spinning code reaches the
 * scheduler: preemption, a due alarm). */
void kx_preempt_ticks(void);

/* ---- system calls: one handler per Linux number, a[0..5] its arguments;
 * syscall.c holds the table (docs/posix.md lists them) ---- */
typedef long kx_sysfn(const long *a);
#define KX_SYS(name) long kx_sys_##name(const long *a)
/* musl's way in (guest/libc/overlay/arch/x86_64/syscall_arch.h). */
long __kx_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6);
/* Record an unimplemented number (once) and return -ENOSYS. */
long kx_enosys(long nr);
#include "guest/posix/syscalls.h"

/* ---- the process (proc.c) ---- */
void kx_limits_init(const struct kx_boot_info *boot);
/* len bytes of entropy (RDRAND, else the host's): len or -EAGAIN. */
long kx_random(void *buf, size_t len);

/* The process's ids: its pVM's and its parent's under kxd (KX_HC_SELF),
 * else the fixed KX_PID and KX_PPID of a pVM alone (docs/posix.md). */
#define KX_PID	1
#define KX_PPID 0
#define KX_UID	0
#define KX_GID	0
long kx_pid(void);
long kx_ppid(void);
/* 1: kxd runs this pVM (ids, fork, kx signals); 0: kxmon alone. */
int kx_under_kxd(void);
/* fork (proc.c): in the child, the layer's own state (thread.c). */
void kx_threads_forked(void);
void kx_ids_forked(void);

#endif /* KX_POSIX_H */
