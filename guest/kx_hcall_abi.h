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
	 * notification), 20..24 signals, 25..29 online update, 30..34 recycling. */
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
};

/* Layout pins: the monitor and the guest must agree byte for byte. */
_Static_assert(sizeof(struct kx_hc_hdr) == 16, "kx_hc_hdr layout");
_Static_assert(sizeof(struct kx_hc_console_write) == 32, "kx_hc_console_write layout");
_Static_assert(sizeof(struct kx_hc_exit) == 24, "kx_hc_exit layout");
_Static_assert(sizeof(struct kx_hc_clock) == 32, "kx_hc_clock layout");
_Static_assert(sizeof(struct kx_hc_panic) == 32, "kx_hc_panic layout");
_Static_assert(sizeof(struct kx_boot_info) == 80, "kx_boot_info layout");
_Static_assert(sizeof(struct kx_hc_resolve) == 40, "kx_hc_resolve layout");
_Static_assert(sizeof(struct kx_hc_dlopen) == 40, "kx_hc_dlopen layout");
_Static_assert(sizeof(struct kx_hc_dlsym) == 48, "kx_hc_dlsym layout");
_Static_assert(sizeof(struct kx_hc_fork) == 16, "kx_hc_fork layout");
_Static_assert(sizeof(struct kx_hc_wait) == 32, "kx_hc_wait layout");
_Static_assert(offsetof(struct kx_hc_resolve, addr) == 32, "kx_hc_resolve.addr");
_Static_assert(offsetof(struct kx_hc_hdr, ret) == 8, "kx_hc_hdr.ret offset");
_Static_assert(offsetof(struct kx_boot_info, argv) == 16, "kx_boot_info.argv");
_Static_assert(offsetof(struct kx_boot_info, mem_size) == 72, "kx_boot_info.mem_size");

#endif /* KX_HCALL_ABI_H */
