/*
 * kxrt.h — the pVM runtime's own API (hypercalls, linking, families,
 * recycling, signals, IpC): what every pVM image can call, whichever C
 * library it uses.  Part of libkxrt.a; guest/kxguest.h adds kx's mini libc
 * on top (libkxguest.a), the SDK puts musl under it (<kx/kxrt.h>,
 * docs/sdk.md).
 *
 * Nothing here needs a C library: C99 freestanding headers only.
 */
#ifndef KX_RT_H
#define KX_RT_H

#include <stddef.h>
#include <stdint.h>

#include "guest/kx_hcall_abi.h"

#define KX_NORETURN	__attribute__((noreturn))
#define KX_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- hypercalls ---- */
/* Bytes written to the console, or -KX_EIO. */
long kx_console_write(const void *buf, size_t len);
KX_NORETURN void kx_exit(int status);
uint64_t kx_clock_monotonic_ns(void);
uint64_t kx_clock_realtime_ns(void);
/* End the pVM with a message (at most KX_HC_PANIC_MAX bytes are kept). */
KX_NORETURN KX_PRINTF(1, 2) void kx_panic(const char *fmt, ...);
/* What the monitor told the guest at boot (read-only). */
const struct kx_boot_info *kx_boot_info(void);

/* ---- linking (pVMs started by kxd; docs/guest-abi.md) ---- */
typedef uint64_t kx_handle_t;
/* Ask the manager to link library `name` (as kxd finds it in its library
 * directories, e.g. "libkvfmt.so"); the policy decides.  0 with *handle
 * set, or -KX_EACCES (denied), -KX_EPERM (kxmon runs alone), -KX_EINVAL,
 * -KX_ENOMEM.  A failed call changes nothing in the pVM. */
long kx_dlopen(const char *name, kx_handle_t *handle);
/* The address of `name` in the library behind handle, or NULL. */
void *kx_dlsym(kx_handle_t handle, const char *name);
/* The lazy binding stub (guest/du_resolve.S): reached from PLT0 only. */
void du_resolve(void);

/* ---- families (pVMs started by kxd; docs/guest-abi.md) ---- */
/* Copy this pVM (memory copy-on-write): the child's pVM id in the parent,
 * 0 in the child; -KX_EACCES (the policy's fork limits), -KX_EPERM,
 * -KX_EAGAIN. */
long kx_fork(void);
/* Wait for a child to end: 0 with *status (0..122 its own, 126 ended for
 * what it did, 128+N a signal), or -KX_ECHILD, -KX_EPERM. */
long kx_wait(uint64_t child_id, int *status);

/* ---- recycling (docs/recycle.md) ---- */
/* What an app built as a library for recycled starts exports. */
typedef int (*kx_app_entry_t)(int argc, char **argv);
int app_entry(int argc, char **argv);
/* The pool placeholder only: wait until kxd hands this pVM an app; then
 * 0 with its app_entry and argv (laid out in buf, size >=
 * KX_RECYCLE_BUF_MIN, 8-byte aligned), or -KX_EPERM (not in a pool). */
long kx_recycle_wait(void *buf, size_t size, kx_app_entry_t *entry, int *argc, char ***argv);

/* ---- signals (pVMs started by kxd; docs/signals.md) ---- */
typedef void (*kx_sighandler_t)(int sig);
#define KX_SIGH_DFL ((kx_sighandler_t)(uintptr_t)KX_SIG_DFL)
#define KX_SIGH_IGN ((kx_sighandler_t)(uintptr_t)KX_SIG_IGN)
/* Send sig (0: only check) to pVM pvm_id: 0, -KX_ESRCH, -KX_EACCES (the
 * policy: `signal` in the family or a mutual trust), -KX_EINVAL, -KX_EPERM. */
long kx_kill(uint64_t pvm_id, int sig);
/* Set sig's handler (or KX_SIGH_DFL, KX_SIGH_IGN): 0 or -KX_EINVAL
 * (KX_SIGKILL, out of range).  A handler runs at the next safe point, one
 * at a time; the interrupted code resumes with its registers intact. */
long kx_signal(int sig, kx_sighandler_t handler);
/* Block until a signal that is not ignored arrives: -KX_EINTR (its handler
 * has run by the time this returns). */
long kx_pause(void);
/* Wait for child child_id, or any child (0); flags KX_WNOHANG; timeout_ns
 * 0 = none.  The child's id with *status, 0 (KX_WNOHANG: none ended yet),
 * -KX_ECHILD, -KX_ETIMEDOUT, -KX_EINTR, -KX_EPERM.  kx_wait is
 * kx_waitx(id, 0, 0, status) and may return -KX_EINTR too. */
long kx_waitx(uint64_t child_id, unsigned flags, uint64_t timeout_ns, int *status);

/* ---- IpC objects (pVMs started by kxd; docs/ipc.md) ---- */
/* Every call that gains access asks the policy (gate_ipc): -KX_EACCES when
 * it says no.  Blocking calls wait for data / room, a removal, a peer
 * leaving (pipes) or the kx_ipc_timeout (-KX_ETIMEDOUT); a broken ring
 * (a peer wrote impossible indices) is -KX_EIO. */
#define KX_IPC_NOWAIT 0x4 /* msgsnd / msgrcv: -KX_EAGAIN instead of waiting */
/* Two ends: fd[0] reads, fd[1] writes; a kx_fork child holds both too. */
long kx_pipe(int fd[2]);
/* Bytes read (at most len; 0: end of file, no writer left), -KX_EBADF. */
long kx_read(int fd, void *buf, size_t len);
/* All len bytes (fewer only if it failed midway), -KX_EPIPE (no reader). */
long kx_write(int fd, const void *buf, size_t len);
long kx_close(int fd);
/* Never waits: the read end fd has data (1, *bytes of it) or is at end of
 * file (2); the write end has room (1, *bytes of it); 0 not yet;
 * -KX_EPIPE (no reader left), -KX_EBADF, -KX_EIO, -KX_EIDRM. */
long kx_pipe_ready(int fd, uint64_t *bytes);
/* Announce a sleep on the pipe end fd without sleeping: what
 * kx_pipe_ready answers (and *bytes), looked at after the peer was told
 * to wake *word (a futex word in the ring; *value what it held before)
 * when it changes.  0 means sleep: a KX_HC_HALT_WATCH on (*word, *value)
 * ends once the other side has published or consumed (the POSIX layer's
 * scheduler halts so when several threads wait). */
long kx_pipe_arm(int fd, uint32_t **word, uint32_t *value, uint64_t *bytes);
/* A key from a path string and projid (no file is consulted). */
uint64_t kx_ftok(const char *path, int projid);
/* The queue of key (KX_IPC_PRIVATE: a new one), flags KX_IPC_CREAT,
 * KX_IPC_EXCL: its id (> 0), -KX_ENOENT, -KX_EEXIST, -KX_EACCES. */
long kx_msgget(uint64_t key, int flags);
/* One message of len <= KX_IPC_MSG_MAX bytes (-KX_E2BIG); 0. */
long kx_msgsnd(long id, const void *msg, size_t len, int flags);
/* The oldest message into buf: its length; -KX_E2BIG (len too small: it
 * stays queued), -KX_EIDRM (removed). */
long kx_msgrcv(long id, void *buf, size_t len, int flags);
long kx_msgrm(long id);
/* A segment of size bytes (opening: 0 or at most its size): its id. */
long kx_shmget(uint64_t key, size_t size, int flags);
/* Its address (addr NULL or that address, flags 0), or NULL. */
void *kx_shmat(long id, const void *addr, int flags);
/* Unmap it: a later access faults (ends the pVM).  0 or -KX_EINVAL. */
long kx_shmdt(const void *addr);
long kx_shmrm(long id);
/* Blocking calls give up after ns (0, the default: they wait on). */
void kx_ipc_timeout(uint64_t ns);
/* Pause-loop iterations before a waiter sleeps in the monitor (4000). */
void kx_ipc_spin(unsigned iterations);

#endif /* KX_RT_H */
