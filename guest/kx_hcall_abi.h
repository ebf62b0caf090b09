/*
 * kx_hcall_abi.h — the pVM hypercall ABI, shared by the monitor
 * (manager/hv/) and the guest runtime (guest/).  Nothing else is shared
 * between the two sides.
 *
 * Self-contained: C99 headers only (<stddef.h>, <stdint.h>), so that both the hosted monitor
 * and the freestanding guest can include it.  Every structure's layout is
 * pinned below with _Static_assert; changing one is an ABI change and bumps
 * KX_HCALL_ABI_VERSION.  docs/guest-abi.md is the prose reference.
 *
 * Addresses: guest-virtual == guest-physical (identity mapping), so every
 * "address" below is both.
 *
 * A hypercall: the guest fills an argument block (8-byte aligned, in memory
 * it may write) that starts with struct kx_hc_hdr, then executes
 *     outl %eax, $KX_HCALL_PORT        with %eax = address of the block.
 * The monitor checks the block (version, number, every pointer and length),
 * performs the call and stores the result in hdr.ret before the guest
 * resumes.  Anything malformed ends the pVM: there is no error return for a
 * bad block, a bad pointer or an unknown call.
 */
#ifndef KX_HCALL_ABI_H
#define KX_HCALL_ABI_H

#include <stddef.h>
#include <stdint.h>

#define KX_HCALL_ABI_VERSION 1u

/* The only I/O port a guest may use (32-bit out).  Everything else faults. */
#define KX_HCALL_PORT 0x10u
/* Used by the monitor's own ring-0 fault stubs; a guest write to it ends the pVM. */
#define KX_FAULT_PORT 0x11u

/* Lowest address an image may be linked at; below it lives the monitor. */
#define KX_IMAGE_MIN 0x400000u
#define KX_PAGE_SIZE 4096u

enum kx_hcall_nr {
	KX_HC_CONSOLE_WRITE = 1, /* struct kx_hc_console_write */
	KX_HC_EXIT = 2,		 /* struct kx_hc_exit; does not return */
	KX_HC_CLOCK = 3,	 /* struct kx_hc_clock */
	KX_HC_PANIC = 4,	 /* struct kx_hc_panic; does not return */
	/* Linking (added in ABI 1, docs/guest-abi.md "Linking"). */
	KX_HC_RESOLVE = 5, /* struct kx_hc_resolve: lazy binding, from du_resolve */
	KX_HC_DLOPEN = 6,  /* struct kx_hc_dlopen: link a library at run time */
	KX_HC_DLSYM = 7,   /* struct kx_hc_dlsym: a symbol of a linked library */
	/* Families (docs/guest-abi.md "Fork and wait"). */
	KX_HC_FORK = 8, /* struct kx_hc_fork: copy this pVM */
	KX_HC_WAIT = 9, /* struct kx_hc_wait: the exit status of a child */
	/* Numbers reserved per feature: 10..19 IpC objects (pipe, msgq, shm,
	 * notification), 20..24 signals, 25..29 online update, 30..34 recycling,
	 * 35..39 runtime services (time page, TLS base, halt/sleep, entropy),
	 * 40..79 the POSIX layer's host half (files, memory rights, threads,
	 * poll; docs/posix.md), 80..89 the packet device (network), 90..99
	 * reserved for backend transports (a Xen ring carries these same
	 * numbers; nothing backend-specific gets a number). */
	/* IpC objects (docs/ipc.md). */
	KX_HC_IPC_GET = 10,	/* struct kx_hc_ipc_get: create or open a pipe, msgq, shm */
	KX_HC_IPC_DETACH = 11,	/* struct kx_hc_ipc_obj: drop ends / detach */
	KX_HC_IPC_RM = 12,	/* struct kx_hc_ipc_obj: destroy a msgq or shm */
	KX_HC_NOTIFY_WAIT = 13, /* struct kx_hc_notify: sleep while a word holds a value */
	KX_HC_NOTIFY_WAKE = 14, /* struct kx_hc_notify: wake sleepers on a word */
	KX_HC_IPC_SELF = 15,	/* struct kx_hc_ipc_obj: this pVM's lock token (in id) */
	/* Signals (docs/signals.md). */
	KX_HC_KILL = 20,      /* struct kx_hc_kill: send a signal to a pVM */
	KX_HC_SIGACTION = 21, /* struct kx_hc_sigaction: a signal's disposition */
	KX_HC_SIGRETURN = 22, /* struct kx_hc_sigreturn: from the handler trampoline only */
	KX_HC_PAUSE = 23,     /* struct kx_hc_pause: block until a signal arrives */
	KX_HC_WAITX = 24,     /* struct kx_hc_waitx: wait for any child, no-hang, timeout */
	/* Recycling (docs/recycle.md). */
	KX_HC_RECYCLE_WAIT = 30, /* struct kx_hc_recycle_wait: the pool placeholder waits */
	/* posix-mon: the POSIX layer's monitor services (docs/guest-abi.md
	 * "POSIX services"; 36 SET_FS stays reserved). */
	KX_HC_TIME_PAGE = 35,	   /* struct kx_hc_time_page: the clock page */
	KX_HC_HALT = 37,	   /* struct kx_hc_halt: every thread waits */
	KX_HC_PREEMPT = 38,	   /* struct kx_hc_preempt: timer ticks preempt threads */
	KX_HC_ENTROPY = 39,	   /* struct kx_hc_entropy: host entropy */
	KX_HC_POSIX_REPORT = 40,   /* struct kx_hc_posix_report: an unimplemented call */
	KX_HC_CONSOLE_READ = 41,   /* struct kx_hc_console_read: the console's input */
	KX_HC_CONSOLE_WRITE2 = 42, /* struct kx_hc_console_write2: stdout or stderr */
	KX_HC_SELF = 43,	   /* struct kx_hc_self: this pVM's id and its parent's */
	KX_HC_ENVIRON = 44,	   /* struct kx_hc_environ: the environment passed in */
	KX_HC_MPROTECT = 45,	   /* struct kx_hc_mprotect: rights of heap pages */
	/* end posix-mon */
	/* posix-fs: host directories granted by the manifest's `files` rules
	 * (docs/guest-abi.md "Host directories"); every one takes struct
	 * kx_hc_fs.  59..62 stay reserved for posix-fs. */
	KX_HC_FS_MOUNT = 46,	/* describe mount `mount` (-KX_ENOENT past the last) */
	KX_HC_FS_OPEN = 47,	/* open path under a mount: ret = a handle */
	KX_HC_FS_CLOSE = 48,	/* close handle */
	KX_HC_FS_PREAD = 49,	/* read len bytes at off into buf */
	KX_HC_FS_PWRITE = 50,	/* write len bytes at off from buf */
	KX_HC_FS_FSTAT = 51,	/* struct kx_fs_stat of handle into buf */
	KX_HC_FS_STAT = 52,	/* struct kx_fs_stat of path into buf */
	KX_HC_FS_GETDENTS = 53, /* linux_dirent64 records of handle from position off */
	KX_HC_FS_MKDIR = 54,	/* make directory path (mode in off) */
	KX_HC_FS_UNLINK = 55,	/* remove path (flags: KX_FS_REMOVEDIR) */
	KX_HC_FS_RENAME = 56,	/* rename path to path2 (flags: KX_FS_NOREPLACE) */
	KX_HC_FS_TRUNCATE = 57, /* set handle's size to off */
	KX_HC_FS_FSYNC = 58,	/* flush handle (flags: KX_FS_DATASYNC) */
	/* The packet device (docs/network.md); 83..89 stay reserved. */
	KX_HC_NET_INFO = 80, /* struct kx_hc_net_info: the interface, its address and rings */
	KX_HC_NET_KICK = 81, /* struct kx_hc_net_kick: frames wait in tx, the monitor sleeps */
	KX_HC_NET_WAIT = 82, /* struct kx_hc_net_wait: halt until a frame or the deadline */
	/* bench13 (#13): 97 stays reserved. */
	KX_HC_HALT_WATCH = 95,	 /* struct kx_hc_halt_watch: HALT, also woken by IpC words */
	KX_HC_POSIX_STATS = 96,	 /* struct kx_hc_posix_stats: the monitor's counters */
};

/* Limits on lengths carried by hypercalls; a longer one ends the pVM. */
#define KX_HC_CONSOLE_MAX 65536u
#define KX_HC_PANIC_MAX	  256u

/* Library and symbol names: at most this many bytes, without a NUL. */
#define KX_HC_NAME_MAX 63u

/* Values of hdr.ret that report a failure (negated), as Linux numbers them. */
#define KX_EPERM  1  /* no channel to the manager: kxmon runs images alone */
#define KX_ENOENT 2  /* dlsym: no such symbol */
#define KX_EIO	  5
#define KX_EBADF  9  /* dlsym: not a handle kx_dlopen returned */
#define KX_ECHILD 10 /* wait: not a child of this pVM */
#define KX_EAGAIN 11 /* fork: the manager has no room for another pVM */
#define KX_ENOMEM 12 /* no room left in the dynamic segment */
#define KX_EACCES 13 /* the policy denied the link */
#define KX_EINVAL 22 /* the library is not loadable (ELF, symbols) */
/* Added for IpC, signals, update and recycling (meanings in docs/guest-abi.md). */
#define KX_ESRCH     3
#define KX_EINTR     4   /* a blocking call was interrupted by a signal for the guest */
#define KX_E2BIG     7
#define KX_EEXIST    17
#define KX_ENOSPC    28
#define KX_EPIPE     32
#define KX_ENOSYS    38
#define KX_EIDRM     43
#define KX_ETIMEDOUT 110
#define KX_EOPNOTSUPP 95 /* the backend cannot do it (docs/xen-backend.md) */
/* posix-fs: what the host-directory calls pass on (Linux's meanings). */
#define KX_ENXIO	 6  /* not a regular file or directory (a device, FIFO, socket) */
#define KX_EBUSY	 16
#define KX_EXDEV	 18 /* the path leads out of the mount (.., a symlink, a rename) */
#define KX_ENOTDIR	 20
#define KX_EISDIR	 21
#define KX_EFBIG	 27
#define KX_EROFS	 30 /* a read-only mount */
#define KX_EMLINK	 31
#define KX_ENAMETOOLONG 36
#define KX_ENOTEMPTY	 39
#define KX_ELOOP	 40
#define KX_EOVERFLOW	 75
/* Added for the packet device. */
#define KX_ENODEV    19  /* net: no such interface */

struct kx_hc_hdr {
	uint32_t abi_version; /* KX_HCALL_ABI_VERSION */
	uint32_t nr;	      /* enum kx_hcall_nr */
	int64_t ret;	      /* written by the monitor */
};

/* Write len bytes at buf to the pVM's console.  ret = bytes written or -KX_EIO. */
struct kx_hc_console_write {
	struct kx_hc_hdr hdr;
	uint64_t buf;
	uint64_t len; /* <= KX_HC_CONSOLE_MAX */
};

/* End the pVM with this status (the monitor passes 0..123 through). */
struct kx_hc_exit {
	struct kx_hc_hdr hdr;
	int64_t status;
};

/* Read the host clocks.  ret = 0. */
struct kx_hc_clock {
	struct kx_hc_hdr hdr;
	uint64_t monotonic_ns; /* out: CLOCK_MONOTONIC */
	uint64_t realtime_ns;  /* out: CLOCK_REALTIME (ns since the epoch) */
};

/* End the pVM reporting a guest-detected error (heap corruption, assert). */
struct kx_hc_panic {
	struct kx_hc_hdr hdr;
	uint64_t msg;
	uint64_t len; /* <= KX_HC_PANIC_MAX */
};

/*
 * Lazy binding: PLT0 pushes GOT[1] (the module id the monitor gave the
 * module) and jumps to GOT[2] (du_resolve), which passes the id and the PLT
 * index the stub pushed.  The monitor resolves the slot, writes the GOT
 * entry itself (the guest's GOT is read-only to it) and returns the target
 * in addr.  An id or index the pVM does not have ends the pVM.
 */
struct kx_hc_resolve {
	struct kx_hc_hdr hdr;
	uint64_t module_id;
	uint64_t index;
	uint64_t addr; /* out */
};

/* Ask the manager to link library `name` (len bytes, no NUL needed).  ret = 0
 * with handle set, or -KX_EACCES (denied), -KX_EPERM (no manager),
 * -KX_EINVAL, -KX_ENOMEM; nothing changes on failure. */
struct kx_hc_dlopen {
	struct kx_hc_hdr hdr;
	uint64_t name;
	uint64_t len; /* 1..KX_HC_NAME_MAX */
	uint64_t handle; /* out */
};

/* The address of `name`, exported by the library behind handle.  ret = 0
 * with addr set, -KX_ENOENT or -KX_EBADF. */
struct kx_hc_dlsym {
	struct kx_hc_hdr hdr;
	uint64_t handle;
	uint64_t name;
	uint64_t len; /* 1..KX_HC_NAME_MAX */
	uint64_t addr; /* out */
};

/*
 * Fork: the manager asks the policy (fork limits of the app: children of
 * this pVM, depth and size of its family); on ALLOW this pVM is copied —
 * memory copy-on-write, the vCPU as it is — and the call returns in both:
 * ret = the child's pVM id (> 0) in the parent, 0 in the child.  A denied
 * fork returns -KX_EACCES; -KX_EPERM without a manager; -KX_EAGAIN when
 * the manager could not start the child.  Nothing changes on failure.
 */
struct kx_hc_fork {
	struct kx_hc_hdr hdr;
};

/* Wait for child `child_id` (a kx_fork return value) to end.  ret = 0 with
 * status: its exit status 0..122, or the monitor's (126: ended for what it
 * did, 128+N: killed by signal N); -KX_ECHILD if it is not a child of this
 * pVM or was already waited for; -KX_EPERM without a manager. */
struct kx_hc_wait {
	struct kx_hc_hdr hdr;
	uint64_t child_id;
	int64_t status; /* out */
};

/*
 * IpC objects (docs/ipc.md).  kxd owns every object: one control page that
 * only kxd writes (struct kx_ipc_ctl, read-only in the pVM) followed by the
 * data area its holders share (read-write, never executable).  IPC_GET maps
 * both into the pVM's IpC window and says where.  A pipe's or a message
 * queue's data area starts with struct kx_ipc_ring (one page), the ring's
 * bytes follow.  Everything in the data area is written by peers: a reader
 * checks every index and length it finds there (-KX_EIO when they are
 * impossible).
 */
enum kx_ipc_kind { KX_IPC_KIND_PIPE = 1, KX_IPC_KIND_MSGQ = 2, KX_IPC_KIND_SHM = 3 };

#define KX_IPC_PRIVATE	    0ull /* key: a new object nobody else can open by key */
#define KX_IPC_CREAT	    0x1u /* flags: create the key's object if there is none */
#define KX_IPC_EXCL	    0x2u /* flags, with CREAT: fail (-KX_EEXIST) if there is one */
#define KX_IPC_END_READ	    0x1u /* pipe ends (kx_hc_ipc_obj.ends) */
#define KX_IPC_END_WRITE    0x2u
#define KX_IPC_RING_MIN	    4096u	   /* ring bytes: a power of two in MIN..MAX */
#define KX_IPC_RING_MAX	    (1u << 20)
#define KX_IPC_RING_DEFAULT (64u << 10)
#define KX_IPC_SHM_MAX	    (16u << 20) /* bytes of one shared memory segment */
#define KX_IPC_MSG_MAX	    8192u	/* bytes of one message */
#define KX_IPC_WAIT_MAX_NS  100000000ull /* one NOTIFY_WAIT sleeps at most this long */

/* Create or open an object.  ret = 0 with id, addr, data_size; -KX_EACCES
 * (the policy), -KX_ENOENT (no such key, no CREAT), -KX_EEXIST (CREAT|EXCL
 * and the key exists), -KX_EINVAL (kind, flags, size), -KX_ENOSPC (no room
 * in the IpC window or in kxd), -KX_EPERM (no manager). */
struct kx_hc_ipc_get {
	struct kx_hc_hdr hdr;
	uint32_t kind;	    /* enum kx_ipc_kind */
	uint32_t flags;	    /* msgq, shm: KX_IPC_CREAT | KX_IPC_EXCL */
	uint64_t key;	    /* msgq, shm: KX_IPC_PRIVATE or a key; pipe: 0 */
	uint64_t size;	    /* shm: bytes (opening: 0 or at most the size); pipe, msgq:
			     * ring bytes (0: KX_IPC_RING_DEFAULT) */
	uint64_t id;	    /* out */
	uint64_t addr;	    /* out: the control page; the data area follows it */
	uint64_t data_size; /* out: bytes of the data area */
};

/* DETACH (a pipe: drop `ends`; other kinds: detach) and RM (destroy: its
 * key is free again, every holder gets -KX_EIDRM).  ret = 0 or -KX_EINVAL
 * (not an object this pVM holds).  SELF: ret = 0, id = this pVM's token. */
struct kx_hc_ipc_obj {
	struct kx_hc_hdr hdr;
	uint64_t id;
	uint32_t ends;
	uint32_t reserved;
};

/* WAIT: sleep while the 32-bit word at addr (in a data area this pVM
 * holds, 4-byte aligned) holds value, at most timeout_ns (capped at
 * KX_IPC_WAIT_MAX_NS).  ret = 0 (woken, or the value differed: look
 * again), -KX_ETIMEDOUT, -KX_EINTR (a signal for the guest), -KX_EINVAL
 * (addr).  WAKE: wake up to count sleepers; ret = how many. */
struct kx_hc_notify {
	struct kx_hc_hdr hdr;
	uint64_t addr;
	uint32_t value;
	uint32_t count;
	uint64_t timeout_ns;
};

#define KX_IPC_CTL_MAGIC 0x6c7443637069784bull /* "KxipcCtl" */

/* The control page: written by kxd only. */
struct kx_ipc_ctl {
	uint64_t magic; /* KX_IPC_CTL_MAGIC */
	uint32_t kind;
	uint32_t destroyed; /* 1: removed; every call on it is -KX_EIDRM */
	uint64_t id;
	uint64_t data_size;
	uint32_t readers; /* pipe: pVMs holding the read end */
	uint32_t writers; /* pipe: pVMs holding the write end */
	uint32_t holders; /* pVMs attached */
	uint32_t gen;	  /* bumped on every change */
};

/* The first page of a pipe's or queue's data area; the ring follows. */
struct kx_ipc_ring {
	uint32_t lock;	      /* 0 free, else the holder's token (KX_HC_IPC_SELF) */
	uint32_t lock_wanted; /* sleepers on lock */
	uint32_t data_seq;    /* bumped when bytes are published, and by kxd */
	uint32_t space_seq;   /* bumped when bytes are consumed, and by kxd */
	uint32_t rd_waiting;  /* a reader sleeps on data_seq */
	uint32_t wr_waiting;  /* a writer sleeps on space_seq */
	uint32_t reserved[10];
	uint64_t head; /* bytes consumed (free-running) */
	uint8_t pad_head[56];
	uint64_t tail; /* bytes published (free-running) */
	uint8_t pad_tail[56];
};
#define KX_IPC_RING_HDR KX_PAGE_SIZE /* ring bytes start this far into the data area */

/*
 * Recycling: the placeholder of a pooled (empty) pVM waits here for an app.
 * buf..buf+size is guest memory it may write, size >= KX_RECYCLE_BUF_MIN;
 * the monitor links the app library kxd granted (its DT_NEEDED through the
 * gate), writes the app's argv into buf (the pointer array first, then the
 * strings) and returns ret = 0 with entry = app_entry's address (a function
 * `int app_entry(int argc, char **argv)`), argc and argv.  -KX_EPERM when
 * the pVM is not in a pool.  Any failure to start the app ends the pVM.
 */
#define KX_RECYCLE_BUF_MIN 4096u

struct kx_hc_recycle_wait {
	struct kx_hc_hdr hdr;
	uint64_t buf;
	uint64_t size;
	uint64_t entry; /* out */
	uint64_t argc;	/* out */
	uint64_t argv;	/* out: == buf */
};

/*
 * Signals (docs/signals.md).  Numbers as Linux's; 1..KX_NSIG-1 are valid.
 * Without a handler every signal ends the pVM with status 128+N, except
 * KX_SIGCHLD (ignored).  KX_SIGKILL cannot be caught or ignored.  A handled
 * signal is delivered at the pVM's next safe point: the monitor keeps the
 * interrupted vCPU state ON THE HOST and enters `trampoline` with %rdi = N,
 * %rsi = handler and %rsp 16-byte aligned below the interrupted stack; the
 * trampoline calls the handler and then KX_HC_SIGRETURN, which restores the
 * kept state (nothing is read back from guest memory).  One handler runs at
 * a time; other signals stay pending.
 */
#define KX_SIGHUP  1
#define KX_SIGINT  2
#define KX_SIGKILL 9
#define KX_SIGUSR1 10
#define KX_SIGUSR2 12
#define KX_SIGTERM 15
#define KX_SIGCHLD 17
#define KX_NSIG	   32
#define KX_SIG_DFL 0u /* kx_hc_sigaction.handler: the default action */
#define KX_SIG_IGN 1u /* ... ignore it */

/* Send signal sig (0: only check that pvm_id exists and may be signalled)
 * to pVM pvm_id (0: this pVM's parent, as getppid() would name it).  The policy decides (`signal` inside the family, or a
 * mutual cross-family trust).  ret = 0, -KX_ESRCH (no such running pVM),
 * -KX_EACCES (denied), -KX_EINVAL (sig out of range), -KX_EPERM. */
struct kx_hc_kill {
	struct kx_hc_hdr hdr;
	uint64_t pvm_id;
	uint64_t sig;
};

/* Set sig's disposition: KX_SIG_DFL, KX_SIG_IGN or a handler address
 * (then trampoline is where delivery enters).  ret = 0 or -KX_EINVAL. */
struct kx_hc_sigaction {
	struct kx_hc_hdr hdr;
	uint64_t sig;
	uint64_t handler;
	uint64_t trampoline;
};

/* Leave the handler: the state kept at delivery is restored, so this call
 * does not return to its caller.  -KX_EINVAL when no handler runs. */
struct kx_hc_sigreturn {
	struct kx_hc_hdr hdr;
};

/* Block until a signal that is not ignored is pending: ret = -KX_EINTR
 * (its handler runs right after); -KX_EPERM without a manager. */
struct kx_hc_pause {
	struct kx_hc_hdr hdr;
};

/* Wait for child child_id, or for any child when 0.  flags: KX_WNOHANG.
 * timeout_ns: 0 = no limit.  ret = the id of the child collected (status
 * set, as kx_hc_wait), 0 with KX_WNOHANG when none has ended yet;
 * -KX_ECHILD (no such child, or no children left to wait for),
 * -KX_ETIMEDOUT, -KX_EINTR (a signal that is not ignored arrived), -KX_EPERM. */
#define KX_WNOHANG 1u

struct kx_hc_waitx {
	struct kx_hc_hdr hdr;
	uint64_t child_id;
	uint64_t flags;
	uint64_t timeout_ns;
	int64_t status; /* out */
};

/*
 * posix-mon: the POSIX layer's monitor services (docs/guest-abi.md "POSIX
 * services").
 *
 * TIME_PAGE: the monitor maps a page read-only at addr (the top of the heap
 * range, taken at load time) and keeps it current: the guest reads the
 * clocks from it and its own TSC, without an exit.  A reader loops while
 * seq is odd or changed under it (the monitor rewrites the page only while
 * the vCPU is out of the guest, so a reader that sees an odd seq retries):
 *     ns_since_base = ((tsc - tsc_base) * mult) >> shift   (128-bit product)
 *     CLOCK_MONOTONIC = mono_base + ns_since_base, CLOCK_REALTIME likewise.
 * ret = 0 (the same page on every call), -KX_ENOSYS when the monitor cannot
 * keep one (no stable TSC): the guest then asks KX_HC_CLOCK.
 */
#define KX_TIME_PAGE_MAGIC 0x656d695458ull /* "XTime" */

struct kx_time_page {
	uint32_t seq;	    /* even: stable; bumped before and after each rewrite */
	uint32_t shift;
	uint64_t mult;
	uint64_t tsc_base;  /* the guest's TSC at the bases below */
	uint64_t mono_base; /* CLOCK_MONOTONIC, ns */
	uint64_t real_base; /* CLOCK_REALTIME, ns since the epoch */
	uint64_t tsc_hz;    /* for information (sysconf, /proc-like answers) */
	uint64_t magic;	    /* KX_TIME_PAGE_MAGIC once the page is valid */
	uint64_t reserved;
};

struct kx_hc_time_page {
	struct kx_hc_hdr hdr;
	uint64_t addr; /* out */
};

/* HALT: every thread of the guest waits.  The vCPU sleeps (no busy wait)
 * until deadline_ns on CLOCK_MONOTONIC (KX_HALT_NO_DEADLINE: none), a
 * signal for the guest, or anything kxd pushes to the pVM.  ret = 0 (woken
 * early: look again), -KX_ETIMEDOUT (the deadline passed), -KX_EINTR (a kx
 * signal that is not ignored is pending: it is delivered on return).
 * flags must be 0. */
#define KX_HALT_NO_DEADLINE UINT64_MAX

struct kx_hc_halt {
	struct kx_hc_hdr hdr;
	uint64_t deadline_ns;
	uint64_t flags;
};

/* HALT_WATCH: HALT, and also woken when one of nwords 32-bit words in IpC
 * data areas this pVM maps no longer holds the value the guest saw there
 * (a peer in another pVM published into a shared pipe or queue and woke
 * the word's futex).  words is the guest address of nwords struct
 * kx_halt_word, read once.  ret as HALT (0 also when a word changed);
 * -KX_EINVAL when nwords is 0 or above KX_HALT_WATCH_MAX, flags is not 0,
 * or a word is not 4-byte aligned inside a data area this pVM maps;
 * -KX_ENOSYS on a backend whose IpC words are no host futexes (Xen). */
#define KX_HALT_WATCH_MAX 64u

struct kx_halt_word {
	uint64_t addr;
	uint32_t value;
	uint32_t reserved; /* 0 */
};

struct kx_hc_halt_watch {
	struct kx_hc_hdr hdr;
	uint64_t deadline_ns;
	uint64_t words; /* guest address of the struct kx_halt_word array */
	uint32_t nwords;
	uint32_t flags;
};

/* POSIX_STATS: the monitor's counters for this pVM, running totals (take
 * differences): what make bench reports as exits per call.  ret = 0. */
struct kx_hc_posix_stats {
	struct kx_hc_hdr hdr;
	uint64_t hcalls;      /* out: hypercall exits served */
	uint64_t kicks;	      /* out: kick exits (timer ticks, kxd's pushes) */
	uint64_t halts;	      /* out: HALT and HALT_WATCH calls */
	uint64_t watch_wakes; /* out: HALT_WATCH calls a watched word ended */
};

/*
 * PREEMPT: preemptive threads.  Every interval_ns (KX_PREEMPT_MIN_NS..
 * KX_PREEMPT_MAX_NS; 0 turns the ticks off) the monitor's timer stops the
 * vCPU.  If the guest may be interrupted there — area->busy is 0, RIP is
 * outside [nopreempt_start, nopreempt_end), the vCPU is at CPL3 and no kx
 * signal handler runs — the monitor stores the interrupted general
 * registers, RIP and RFLAGS in *area, sets area->busy = 1 and enters
 * trampoline with %rdi = area and %rsp 16-byte aligned at least 128 bytes
 * (a red zone) below the interrupted stack pointer; the FPU state is left
 * as it was.  Otherwise it sets area->pending = 1 and the guest yields at
 * its next chance.  The area is the guest's own memory and state: nothing
 * the guest writes there is trusted by the monitor.
 * ret = 0 or -KX_EINVAL (an interval out of range, an area that is not
 * guest memory it may write, a trampoline it may not execute).
 */
#define KX_PREEMPT_MIN_NS 1000000ull	/* 1 ms */
#define KX_PREEMPT_MAX_NS 1000000000ull /* 1 s */

struct kx_preempt_area {
	uint32_t busy;	  /* guest: the runtime must not be interrupted now */
	uint32_t pending; /* monitor: a tick came while busy */
	uint64_t ticks;	  /* monitor: preemptions so far */
	uint64_t gpr[16]; /* rax rcx rdx rbx rsp rbp rsi rdi r8..r15 */
	uint64_t rip;
	uint64_t rflags;
};

struct kx_hc_preempt {
	struct kx_hc_hdr hdr;
	uint64_t trampoline;
	uint64_t area; /* struct kx_preempt_area, 8-byte aligned */
	uint64_t interval_ns;
	uint64_t nopreempt_start;
	uint64_t nopreempt_end;
};

/* ENTROPY: len bytes (1..KX_ENTROPY_MAX) from the host's getrandom into
 * buf.  ret = len, or -KX_EAGAIN.  A forked pVM asks anew: nothing is
 * cached on either side, so parent and child never share a stream. */
#define KX_ENTROPY_MAX 256u

struct kx_hc_entropy {
	struct kx_hc_hdr hdr;
	uint64_t buf;
	uint64_t len;
};

/* POSIX_REPORT: the guest answered -ENOSYS to Linux system call nr
 * (0..KX_POSIX_NR_MAX-1).  The monitor logs each number once per pVM and
 * tells kxd (kxctl list).  ret = 0, or -KX_EINVAL for a number out of range. */
#define KX_POSIX_NR_MAX 512u

struct kx_hc_posix_report {
	struct kx_hc_hdr hdr;
	uint64_t nr;
};

/* CONSOLE_READ: up to len (<= KX_HC_CONSOLE_MAX) bytes of the console's
 * input (kxmon's standard input) into buf.  ret = bytes, 0 at end of file
 * (or no input at all), -KX_EAGAIN (KX_CONSOLE_NONBLOCK and nothing there),
 * -KX_EINTR (a kx signal for the guest while it waited), -KX_EIO.  With
 * KX_CONSOLE_POLL nothing is read: ret = 1 when a read would not wait
 * (data or end of file), 0 when it would. */
#define KX_CONSOLE_NONBLOCK 0x1u
#define KX_CONSOLE_POLL	    0x2u

struct kx_hc_console_read {
	struct kx_hc_hdr hdr;
	uint64_t buf;
	uint64_t len;
	uint64_t flags;
};

/* CONSOLE_WRITE2: as KX_HC_CONSOLE_WRITE, to stream fd: 1 the console
 * (kxmon's stdout), 2 the error stream (kxmon's stderr).  ret = bytes
 * written, -KX_EIO, -KX_EBADF for another fd. */
struct kx_hc_console_write2 {
	struct kx_hc_hdr hdr;
	uint64_t fd;
	uint64_t buf;
	uint64_t len; /* <= KX_HC_CONSOLE_MAX */
};

/* SELF: this pVM's id and its parent's, as kxd numbers them (getpid,
 * getppid).  ret = 0; -KX_EPERM without a manager (kxmon runs alone). */
struct kx_hc_self {
	struct kx_hc_hdr hdr;
	uint64_t pvm_id;    /* out */
	uint64_t parent_id; /* out: 0 for a family's root (kxd started it) */
};

/* ENVIRON: the environment kxmon was given for the guest (kxmon -e,
 * kxctl run -e): count "NAME=VALUE" strings whose pointers (then a NULL)
 * are at addr, in the read-only argument pages after argv.  ret = 0
 * (count 0, addr 0: none). */
struct kx_hc_environ {
	struct kx_hc_hdr hdr;
	uint64_t addr;	/* out */
	uint64_t count; /* out */
};

/* MPROTECT: set the rights of [addr, addr + len) — pages of the heap range
 * the boot info reports, each read-write now or lowered by an earlier
 * MPROTECT — to prot: KX_PROT_READ | KX_PROT_WRITE, KX_PROT_READ, or 0 (no
 * access; a guard page).  Write implies read (x86).  ret = 0; -KX_EACCES
 * for KX_PROT_EXEC (heap pages never execute: W^X) or a page that is not
 * the heap's own (the monitor's, a library's); -KX_EINVAL for a range that
 * is not whole pages of the heap, or unknown bits. */
#define KX_PROT_READ  1u
#define KX_PROT_WRITE 2u
#define KX_PROT_EXEC  4u

struct kx_hc_mprotect {
	struct kx_hc_hdr hdr;
	uint64_t addr;
	uint64_t len;
	uint64_t prot;
};

/*
 * The packet device (docs/network.md).  An interface is two rings of
 * Ethernet frames in guest memory the monitor also maps: tx (the guest
 * produces, the monitor's network thread consumes and writes to a TAP) and
 * rx (the other way).  The area NET_INFO names is:
 *
 *   page 0     struct kx_net_guest_page   written by the guest
 *   page 1     struct kx_net_mon_page     written by the monitor, READ-ONLY
 *                                          to the guest
 *   then       KX_NET_SLOTS struct kx_net_slot: the tx ring
 *   then       KX_NET_SLOTS struct kx_net_slot: the rx ring
 *
 * Indices are free-running 32-bit counts of slots (slot = index %
 * KX_NET_SLOTS); a ring holds prod - cons frames (unsigned difference).
 *
 * tx: the guest fills slot tx_prod (len, frame), then stores tx_prod + 1
 * (release).  If, after a full fence, it finds mon.tx_kick set, the
 * monitor's thread is asleep: it calls KX_HC_NET_KICK.  Otherwise no exit:
 * the thread polls while frames keep coming.  The monitor publishes
 * mon.tx_cons as it takes frames (a slot is the guest's again after that).
 * rx: the monitor fills slot rx_prod and stores mon.rx_prod + 1; the guest
 * consumes and stores guest.rx_cons.  A guest with nothing to do calls
 * KX_HC_NET_WAIT: the vCPU halts until rx_prod moves or the deadline.
 *
 * The monitor reads each index the guest writes once, and checks it: a
 * tx_prod more than KX_NET_SLOTS ahead of tx_cons, or an rx_cons outside
 * [last rx_cons, rx_prod], ends the pVM.  A tx slot's len is read once;
 * outside KX_NET_FRAME_MIN..KX_NET_FRAME_MAX the frame is dropped and
 * counted (malformed).  Frame bytes are copied out before any check.
 */
#define KX_NET_SLOTS	  256u
#define KX_NET_SLOT_SIZE  2048u
#define KX_NET_FRAME_MIN  14u	/* an Ethernet header */
#define KX_NET_FRAME_MAX  1514u /* header + 1500 (no FCS, no VLAN tag) */
#define KX_NET_MTU	  1500u
#define KX_NET_RING_OFF	  (2u * KX_PAGE_SIZE) /* the tx ring, from the area's start */
#define KX_NET_AREA_SIZE  (KX_NET_RING_OFF + 2u * KX_NET_SLOTS * KX_NET_SLOT_SIZE)
#define KX_NET_WAIT_MAX_NS 100000000ull /* one NET_WAIT halts at most this long */

struct kx_net_guest_page {
	uint32_t tx_prod; /* frames published in tx */
	uint32_t pad0[15];
	uint32_t rx_cons; /* frames taken from rx */
	uint32_t pad1[15];
};

struct kx_net_mon_page {
	uint32_t tx_cons; /* frames the monitor took from tx */
	uint32_t tx_kick; /* 1: the monitor's thread sleeps; kick after publishing */
	uint32_t pad0[14];
	uint32_t rx_prod; /* frames published in rx */
	uint32_t pad1[15];
};

struct kx_net_slot {
	uint16_t len; /* frame bytes */
	uint16_t flags; /* 0 */
	uint32_t reserved;
	uint8_t frame[KX_NET_SLOT_SIZE - 8];
};

/* Interface `index` (0: the first; one per pVM today).  ret = 0 with the
 * rest filled; -KX_ENODEV (none: no network rule, or a forked child),
 * -KX_EPERM (no manager).  The guest may call it again: same answer. */
struct kx_hc_net_info {
	struct kx_hc_hdr hdr;
	uint32_t index;
	uint32_t mtu;	   /* out: KX_NET_MTU */
	uint64_t area;	   /* out: page-aligned; KX_NET_AREA_SIZE bytes */
	uint8_t mac[6];	   /* out: the only source MAC the monitor forwards */
	uint8_t prefix;	   /* out: of the subnet */
	uint8_t reserved;
	uint32_t addr;	   /* out: IPv4, host order: the only source address forwarded */
	uint32_t gateway;  /* out: 0 = none */
};

/* tx holds frames and mon.tx_kick was set: wake the monitor's thread.
 * ret = 0. */
struct kx_hc_net_kick {
	struct kx_hc_hdr hdr;
	uint32_t index;
	uint32_t reserved;
};

/* Halt while mon.rx_prod == seen and the monotonic clock is before
 * deadline_ns (at most KX_NET_WAIT_MAX_NS from now: call again).  ret = 0
 * (rx_prod moved, or differed already: look again), -KX_ETIMEDOUT,
 * -KX_EINTR (a signal for the guest, or the monitor must stop).  A general
 * halt (KX_HC_HALT, 37: IpC, signals, timers and frames) will subsume it. */
struct kx_hc_net_wait {
	struct kx_hc_hdr hdr;
	uint32_t index;
	uint32_t seen;
	uint64_t deadline_ns;
};

/*
 * Boot information.  At entry, %rdi holds its address and %rsp the top of the
 * stack (16-byte aligned).  It lives in a read-only page: the guest copies
 * what it wants to keep.
 */
#define KX_BOOT_MAGIC 0x746f6f42584bull /* "KXBoot" */

struct kx_boot_info {
	uint64_t magic;	      /* KX_BOOT_MAGIC */
	uint32_t abi_version; /* KX_HCALL_ABI_VERSION */
	uint32_t argc;	      /* argv[0] is the image name */
	uint64_t argv;	      /* address of char *[argc + 1], NULL-terminated */
	uint64_t heap_start;  /* page-aligned, readable and writable */
	uint64_t heap_size;
	uint64_t stack_top;
	uint64_t stack_size;
	uint64_t image_start;
	uint64_t image_end;
	uint64_t mem_size; /* bytes of guest-physical memory */
	uint64_t features; /* KX_BOOT_* */
};

/* kx_boot_info.features */
#define KX_BOOT_FSGSBASE 0x1ull /* rdfsbase/wrfsbase work at CPL3 (the TLS base) */

/* ---- posix-fs: host directories (KX_HC_FS_*, docs/guest-abi.md) ---- */

#define KX_FS_PATH_MAX	 4095u	/* path, path2: bytes, no NUL; relative to the mount */
#define KX_FS_IO_MAX	 (1u << 20) /* PREAD, PWRITE, GETDENTS: len at most */
#define KX_FS_MOUNTS_MAX 16u
#define KX_FS_HANDLES_MAX 1024u

/* flags */
#define KX_FS_RW	 0x1u	/* FS_MOUNT out: the mount is writable */
#define KX_FS_REMOVEDIR	 0x200u /* UNLINK: rmdir (Linux's AT_REMOVEDIR) */
#define KX_FS_NOFOLLOW	 0x100u /* STAT: lstat (Linux's AT_SYMLINK_NOFOLLOW) */
#define KX_FS_NOREPLACE	 0x1u	/* RENAME: fail with EEXIST (Linux's RENAME_NOREPLACE) */
#define KX_FS_DATASYNC	 0x1u	/* FSYNC: fdatasync */

struct kx_hc_fs {
	struct kx_hc_hdr hdr;
	uint32_t mount;	   /* the mount's index (0..KX_FS_MOUNTS_MAX-1) */
	uint32_t flags;	   /* OPEN: Linux O_* flags; others: KX_FS_* above; MOUNT out */
	uint64_t handle;   /* CLOSE, PREAD, PWRITE, FSTAT, GETDENTS, TRUNCATE, FSYNC */
	uint64_t path;	   /* guest address of a path under the mount ("" = its root) */
	uint64_t path_len; /* 0..KX_FS_PATH_MAX */
	uint64_t path2;	   /* RENAME: the new path, in the same mount */
	uint64_t path2_len;
	uint64_t buf;	   /* PREAD/PWRITE data, FSTAT/STAT a struct kx_fs_stat, GETDENTS
			    * records, MOUNT the guest path (NUL-terminated) */
	uint64_t len;	   /* bytes at buf */
	uint64_t off;	   /* PREAD/PWRITE offset, TRUNCATE size, OPEN/MKDIR mode,
			    * GETDENTS position (in and out), MOUNT out: the size cap */
};

/* Linux's struct stat fields, in a layout of our own. */
struct kx_fs_stat {
	uint64_t dev, ino, nlink, size, blocks, rdev;
	uint32_t mode, uid, gid, blksize;
	int64_t atime_sec, atime_nsec, mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
};

/* Layout pins: the monitor and the guest must agree byte for byte. */
_Static_assert(sizeof(struct kx_hc_hdr) == 16, "kx_hc_hdr layout");
_Static_assert(sizeof(struct kx_hc_console_write) == 32, "kx_hc_console_write layout");
_Static_assert(sizeof(struct kx_hc_exit) == 24, "kx_hc_exit layout");
_Static_assert(sizeof(struct kx_hc_clock) == 32, "kx_hc_clock layout");
_Static_assert(sizeof(struct kx_hc_panic) == 32, "kx_hc_panic layout");
_Static_assert(sizeof(struct kx_boot_info) == 88, "kx_boot_info layout");
_Static_assert(sizeof(struct kx_hc_resolve) == 40, "kx_hc_resolve layout");
_Static_assert(sizeof(struct kx_hc_dlopen) == 40, "kx_hc_dlopen layout");
_Static_assert(sizeof(struct kx_hc_dlsym) == 48, "kx_hc_dlsym layout");
_Static_assert(sizeof(struct kx_hc_fork) == 16, "kx_hc_fork layout");
_Static_assert(sizeof(struct kx_hc_wait) == 32, "kx_hc_wait layout");
_Static_assert(sizeof(struct kx_hc_ipc_get) == 64, "kx_hc_ipc_get layout");
_Static_assert(sizeof(struct kx_hc_ipc_obj) == 32, "kx_hc_ipc_obj layout");
_Static_assert(sizeof(struct kx_hc_notify) == 40, "kx_hc_notify layout");
_Static_assert(sizeof(struct kx_ipc_ctl) == 48, "kx_ipc_ctl layout");
_Static_assert(sizeof(struct kx_ipc_ring) == 192, "kx_ipc_ring layout");
_Static_assert(offsetof(struct kx_ipc_ring, tail) == 128, "kx_ipc_ring.tail");
_Static_assert(sizeof(struct kx_hc_kill) == 32, "kx_hc_kill layout");
_Static_assert(sizeof(struct kx_hc_sigaction) == 40, "kx_hc_sigaction layout");
_Static_assert(sizeof(struct kx_hc_sigreturn) == 16, "kx_hc_sigreturn layout");
_Static_assert(sizeof(struct kx_hc_pause) == 16, "kx_hc_pause layout");
_Static_assert(sizeof(struct kx_hc_waitx) == 48, "kx_hc_waitx layout");
_Static_assert(sizeof(struct kx_hc_recycle_wait) == 56, "kx_hc_recycle_wait layout");
_Static_assert(sizeof(struct kx_time_page) == 64, "kx_time_page layout");
_Static_assert(sizeof(struct kx_hc_time_page) == 24, "kx_hc_time_page layout");
_Static_assert(sizeof(struct kx_hc_halt) == 32, "kx_hc_halt layout");
_Static_assert(sizeof(struct kx_halt_word) == 16, "kx_halt_word layout");
_Static_assert(sizeof(struct kx_hc_halt_watch) == 40, "kx_hc_halt_watch layout");
_Static_assert(sizeof(struct kx_hc_posix_stats) == 48, "kx_hc_posix_stats layout");
_Static_assert(sizeof(struct kx_preempt_area) == 160, "kx_preempt_area layout");
_Static_assert(sizeof(struct kx_hc_preempt) == 56, "kx_hc_preempt layout");
_Static_assert(sizeof(struct kx_hc_entropy) == 32, "kx_hc_entropy layout");
_Static_assert(sizeof(struct kx_hc_posix_report) == 24, "kx_hc_posix_report layout");
_Static_assert(sizeof(struct kx_net_guest_page) == 128, "kx_net_guest_page layout");
_Static_assert(sizeof(struct kx_net_mon_page) == 128, "kx_net_mon_page layout");
_Static_assert(sizeof(struct kx_net_slot) == KX_NET_SLOT_SIZE, "kx_net_slot layout");
_Static_assert(sizeof(struct kx_hc_net_info) == 48, "kx_hc_net_info layout");
_Static_assert(sizeof(struct kx_hc_net_kick) == 24, "kx_hc_net_kick layout");
_Static_assert(sizeof(struct kx_hc_net_wait) == 32, "kx_hc_net_wait layout");
_Static_assert(sizeof(struct kx_hc_self) == 32, "kx_hc_self layout");
_Static_assert(sizeof(struct kx_hc_console_read) == 40, "kx_hc_console_read layout");
_Static_assert(sizeof(struct kx_hc_console_write2) == 40, "kx_hc_console_write2 layout");
_Static_assert(sizeof(struct kx_hc_mprotect) == 40, "kx_hc_mprotect layout");
_Static_assert(sizeof(struct kx_hc_environ) == 32, "kx_hc_environ layout");
_Static_assert(offsetof(struct kx_hc_resolve, addr) == 32, "kx_hc_resolve.addr");
_Static_assert(sizeof(struct kx_hc_fs) == 88, "kx_hc_fs layout");
_Static_assert(sizeof(struct kx_fs_stat) == 112, "kx_fs_stat layout");
_Static_assert(offsetof(struct kx_hc_hdr, ret) == 8, "kx_hc_hdr.ret offset");
_Static_assert(offsetof(struct kx_boot_info, argv) == 16, "kx_boot_info.argv");
_Static_assert(offsetof(struct kx_boot_info, mem_size) == 72, "kx_boot_info.mem_size");

#endif /* KX_HCALL_ABI_H */
