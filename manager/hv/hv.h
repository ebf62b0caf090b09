/*
 * hv.h — hypervisor backends behind one ops table (the public header of
 * manager/hv/).
 *
 * The manager knows a backend only through struct hv_ops and an opaque
 * struct hv_vm; each backend keeps its state private to its own file
 * (kvm.c).  Besides the ops table this header exposes the two pieces that
 * must be testable without a hypervisor: the guest-memory accessor
 * (hv_guest_ptr, the only way the host touches guest memory on the guest's
 * behalf) and the hypercall decoder (hv_hcall_dispatch), which the fuzz
 * harness drives with arbitrary guest memory.
 *
 * Functions return 0 or -errno and print nothing; details go to struct
 * hv_error.  Reports about how a pVM ended are data (struct hv_end), turned
 * into one line of text by hv_end_describe.
 */
#ifndef KX_HV_H
#define KX_HV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "guest/kx_hcall_abi.h"

struct hv_error {
	char msg[512]; /* room for a prefix and a kxelf message */
};

/* ---- guest memory ------------------------------------------------------ */

/* Rights the monitor grants the guest on a page (0: not mapped for it). */
enum {
	HV_PROT_READ = 1,
	HV_PROT_WRITE = 2,
	HV_PROT_EXEC = 4,
};

/* What the host is about to do with guest memory. */
enum hv_access {
	HV_ACCESS_READ,	   /* read on the guest's behalf: needs HV_PROT_READ */
	HV_ACCESS_WRITE,   /* write on the guest's behalf: needs HV_PROT_WRITE */
	HV_ACCESS_MONITOR, /* the monitor's own structures: any page in memory */
};

/*
 * Guest-physical memory as the host sees it: one host mapping of `size`
 * bytes and one rights byte per page (what the guest page tables grant at
 * CPL3).  Pages of the monitor region have rights 0: the guest cannot touch
 * them, and neither can a hypercall.
 */
struct hv_guest_mem {
	uint8_t *host;
	uint64_t size;	    /* bytes, a multiple of KX_PAGE_SIZE */
	uint8_t *page_prot; /* size / KX_PAGE_SIZE entries */
};

/*
 * The one checked accessor: the host address of [gpa, gpa + size) if the
 * whole range lies in guest memory and every page in it grants `access`;
 * NULL otherwise (overflow, out of range, rights).  size 0 is refused.
 */
void *hv_guest_ptr(const struct hv_guest_mem *mem, uint64_t gpa, uint64_t size,
		   enum hv_access access);

/* Set the guest rights of [gpa, gpa + size) (page-aligned).  -EINVAL if outside. */
int hv_mem_set_prot(struct hv_guest_mem *mem, uint64_t gpa, uint64_t size, unsigned prot);

/* ---- hypercalls -------------------------------------------------------- */

enum hv_hcall_outcome {
	HV_HC_RESUME, /* call done, ret stored; run the guest again */
	HV_HC_EXIT,   /* the guest asked to exit (exit_status) */
	HV_HC_PANIC,  /* the guest reported an error (message) */
	HV_HC_BAD,    /* malformed call: end the pVM (reason) */
};

/*
 * What the decoder needs for the linking calls (KX_HC_RESOLVE, DLOPEN,
 * DLSYM); NULL in hv_hcall_env when the pVM has no linker (kxmon without
 * --channel): RESOLVE then ends the pVM, DLOPEN returns -KX_EPERM.  Names
 * reach the hooks NUL-terminated, 1..KX_HC_NAME_MAX bytes, without a NUL
 * inside.  Return values:
 *   resolve  0 and *addr; -EINVAL for a module id or index the pVM does not
 *            have, -ENOENT for an unresolvable symbol (both end the pVM)
 *   dlopen   0 and *handle, or -errno for the guest (-EACCES: denied);
 *            -EPIPE when the channel to the manager broke (ends the pVM)
 *   dlsym    0 and *addr, -ENOENT, -EBADF
 */
struct hv_link_hooks {
	int (*resolve)(void *opaque, uint64_t module_id, uint64_t index, uint64_t *addr);
	int (*dlopen)(void *opaque, const char *name, uint64_t *handle);
	int (*dlsym)(void *opaque, uint64_t handle, const char *name, uint64_t *addr);
};

/*
 * Fork and wait (KX_HC_FORK, KX_HC_WAIT); NULL in hv_hcall_env when the
 * pVM has no manager: both return -KX_EPERM.
 *   fork  0 with *child_id: > 0 in the parent, 0 in the (new) child; or
 *         -errno for the guest (-EACCES denied, -EAGAIN); -EPIPE when the
 *         channel broke or the child could not be built (ends the pVM)
 *   wait  0 with *status, -ECHILD, -EPIPE (ends the pVM)
 */
struct hv_proc_hooks {
	int (*fork)(void *opaque, uint64_t *child_id);
	int (*wait)(void *opaque, uint64_t child_id, int64_t *status);
};

/*
 * Recycling (KX_HC_RECYCLE_WAIT; docs/recycle.md); NULL in hv_hcall_env
 * when the pVM is not in a pool: the call returns -KX_EPERM.  wait blocks
 * until the manager hands this pVM an app, links it and fills *work:
 * app_entry's address and the argv strings (argc NUL-terminated strings in
 * args[0..args_len)).  0, or -errno (the pVM then ends: it may be half
 * linked).
 */
#define HV_RECYCLE_ARGS_MAX 512u /* bytes of argv strings, NULs included */
#define HV_RECYCLE_ARGC_MAX 64u

struct hv_recycle_work {
	uint64_t entry;
	uint32_t argc;
	uint32_t args_len;
	char args[HV_RECYCLE_ARGS_MAX];
};

struct hv_recycle_hooks {
	int (*wait)(void *opaque, struct hv_recycle_work *work);
};

/*
 * Signals (KX_HC_KILL, SIGACTION, PAUSE, WAITX; docs/signals.md); NULL in
 * hv_hcall_env when the pVM has no manager: the calls return -KX_EPERM.
 *   kill    0, -ESRCH, -EACCES (denied), -EINVAL; -EPIPE ends the pVM
 *   action  0, or -EINVAL (number out of range, KX_SIGKILL, no trampoline)
 *   pause   -EINTR once a signal that is not ignored is pending
 *   waitx   0 with *waited (0: KX_WNOHANG and no child ended yet) and
 *           *status; -ECHILD, -ETIMEDOUT, -EINTR; -EPIPE ends the pVM
 * KX_HC_SIGRETURN belongs to the backend (hv_hcall_env.sigreturn).
 */
struct hv_sig_hooks {
	int (*kill)(void *opaque, uint64_t pvm_id, uint32_t sig);
	int (*action)(void *opaque, uint32_t sig, uint64_t handler, uint64_t trampoline);
	int (*pause)(void *opaque);
	int (*waitx)(void *opaque, uint64_t child_id, uint32_t flags, uint64_t timeout_ns,
		     uint64_t *waited, int64_t *status);
};

/*
 * IpC objects (KX_HC_IPC_*, KX_HC_NOTIFY_*; docs/ipc.md); NULL in
 * hv_hcall_env when the pVM has no manager: the calls return -KX_EPERM.
 *   get     0 with io->id, addr, data_size filled; -errno for the guest
 *   detach  0, -EINVAL (not held); rm: the same
 *   self    the lock token of this pVM (never 0)
 *   wait    0 (woken or the word differs), -ETIMEDOUT, -EINTR, -EINVAL
 *   wake    the number woken, or -EINVAL
 * -EPIPE from any of them ends the pVM (the channel broke).
 */
struct hv_ipc_hooks {
	int (*get)(void *opaque, struct kx_hc_ipc_get *io);
	int (*detach)(void *opaque, uint64_t id, uint32_t ends);
	int (*rm)(void *opaque, uint64_t id);
	uint64_t (*self)(void *opaque);
	int (*wait)(void *opaque, uint64_t addr, uint32_t value, uint64_t timeout_ns);
	int (*wake)(void *opaque, uint64_t addr, uint32_t count);
};

struct hv_hcall_env {
	const struct hv_guest_mem *mem;
	const struct hv_ipc_hooks *ipc; /* NULL: no manager */
	void *ipc_opaque;
	const struct hv_recycle_hooks *recycle; /* NULL: not in a pool */
	void *recycle_opaque;
	const struct hv_proc_hooks *proc; /* NULL: no manager */
	void *proc_opaque;
	const struct hv_link_hooks *link; /* NULL: no linker */
	void *link_opaque;
	/* Console sink: returns bytes written or -errno. */
	ssize_t (*console_write)(void *opaque, const void *buf, size_t len);
	void *console_opaque;
	/* Host clocks, in ns. */
	uint64_t (*clock_ns)(int clock_id);
	/* Is a signal pending for the guest?  A blocking call (wait, IpC
	 * notification) that the host interrupted (EINTR) asks this and returns
	 * -KX_EINTR when true.  NULL: never. */
	int (*interrupted)(void *opaque);
	void *interrupted_opaque;
	const struct hv_sig_hooks *sig; /* NULL: no manager */
	void *sig_opaque;
	/* KX_HC_SIGRETURN: restore the vCPU state kept when the handler was
	 * entered: 0 (the guest resumes there), -EINVAL when no handler runs,
	 * -EIO (ends the pVM).  NULL: -KX_EINVAL. */
	int (*sigreturn)(void *opaque);
	void *sigreturn_opaque;
};

struct hv_hcall_result {
	enum hv_hcall_outcome outcome;
	uint32_t nr;			   /* call number, when the header could be read */
	int64_t exit_status;		   /* HV_HC_EXIT */
	const char *reason;		   /* HV_HC_BAD: static text */
	char message[KX_HC_PANIC_MAX + 1]; /* HV_HC_PANIC: NUL-terminated copy */
};

/*
 * Decode and perform one hypercall: `port_value` is the 32-bit value the
 * guest wrote to KX_HCALL_PORT.  Guest memory is untrusted input: every
 * field is read through hv_guest_ptr.  Never fails; the outcome says what
 * the caller must do.
 */
void hv_hcall_dispatch(const struct hv_hcall_env *env, uint32_t port_value,
		       struct hv_hcall_result *res);

/* ---- pVMs -------------------------------------------------------------- */

struct hv_vm; /* private to each backend */

/* ---- linking (link.c) --------------------------------------------------- */

enum hv_bind { HV_BIND_LAZY = 0, HV_BIND_NOW = 1 };

/* The manager's answer for one library: a sealed memfd of the verified bytes. */
struct hv_lib_grant {
	int fd;	       /* the linker owns it from then on */
	unsigned bind; /* enum hv_bind */
};

/*
 * Where libraries come from (kxmon: the channel to kxd).  request asks for
 * library `name` (a DT_NEEDED entry while booting, a kx_dlopen later):
 * 0 with *grant, -EACCES with why (denied: nothing is mapped), or -EPIPE
 * (the channel broke).  safe_point is called after each hypercall, when
 * the guest is stopped between two instructions and a link pushed by the
 * operator may be applied with hv_ops.link.
 */
struct hv_link_source {
	int (*request)(void *ctx, const char *name, int at_boot, struct hv_lib_grant *grant,
		       char *why, size_t whylen);
	void (*safe_point)(void *ctx, struct hv_vm *vm);
	void *ctx;
};

/*
 * Where forks are decided (kxmon: the channel to kxd).  fork asks the
 * manager and, when allowed, fork()s the monitor process: 0 with
 * *child_id > 0 in the parent, 0 with *child_id == 0 in the child process
 * (which must then rebuild its VM: the backend does that), or -errno
 * (-EACCES denied, with why; -EPIPE the channel broke).  wait: as
 * hv_proc_hooks.wait.
 */
struct hv_proc_source {
	int (*fork)(void *ctx, uint64_t *child_id, char *why, size_t whylen);
	int (*wait)(void *ctx, uint64_t child_id, int64_t *status);
	void *ctx;
};

/*
 * Where a pooled pVM's app comes from (kxmon: the channel to kxd).  take
 * blocks until the manager hands over an app: 0 with the library (a sealed
 * memfd, consumed by the linker), its name and bind mode, and the argv in
 * work->argc/args_len/args; -errno with why.  started reports the outcome
 * of linking it (0 or -errno, and why).
 */
struct hv_recycle_order {
	char name[KX_HC_NAME_MAX + 1];
	int fd;
	unsigned bind; /* enum hv_bind */
};

struct hv_recycle_source {
	int (*take)(void *ctx, struct hv_recycle_order *order, struct hv_recycle_work *work,
		    char *why, size_t whylen);
	void (*started)(void *ctx, int rc, const char *why);
	void *ctx;
};

/* Where signals come from and go to (kxmon: the channel to kxd): the
 * hooks get ctx as their opaque; interrupted(ctx) is hv_hcall_env's. */
struct hv_sig_source {
	const struct hv_sig_hooks *hooks;
	int (*interrupted)(void *ctx);
	void *ctx;
};

/*
 * Where IpC objects come from (kxmon: the channel to kxd).  request sends
 * one struct kxmon_ipc_req-like order and returns kxd's answer: 0 with
 * *grant (grant->fd >= 0 when a new object must be mapped: the backend
 * owns it then), -errno for the guest with why, or -EPIPE (broken).
 */
enum hv_ipc_op { HV_IPC_GET = 1, HV_IPC_DETACH = 2, HV_IPC_RM = 3 };

struct hv_ipc_order {
	uint32_t op; /* enum hv_ipc_op */
	uint32_t kind, flags, ends;
	uint64_t key, size, id;
};

struct hv_ipc_grant {
	int fd;		    /* -1: an object this pVM already maps */
	uint32_t kind;
	uint64_t id;
	uint64_t data_size; /* the fd holds one control page more */
	uint32_t ends;	    /* pipe: the ends this pVM now holds */
};

struct hv_ipc_source {
	int (*request)(void *ctx, const struct hv_ipc_order *order, struct hv_ipc_grant *grant,
		       char *why, size_t whylen);
	void *ctx;
};

/* Counters for kxmon -v and the tests. */
struct hv_link_stats {
	uint64_t modules;	    /* image + libraries linked */
	uint64_t resolves;	    /* KX_HC_RESOLVE calls served */
	uint64_t bound_now;	    /* PLT slots resolved at link time */
	uint64_t shared_text_bytes; /* library text mapped from sealed memfds */
	uint64_t got_pages;	    /* GOT pages made read-only to the guest */
	uint64_t tlb_flushes;	    /* page tables changed after the guest ran */
};

#define HV_LINK_MAX_FILES 64u /* libraries opened for one pVM */

/*
 * Online update (update.c; docs/update.md): replace a linked library by a
 * new version at a safe point, keeping its variables.  Phases are timed
 * for UPDATE_DONE and make bench.
 */
enum hv_update_phase {
	HV_UPD_QUIESCE,	  /* the stack walk */
	HV_UPD_LOAD,	  /* map + relocate the new library (not yet visible) */
	HV_UPD_RESOLVE,	  /* every GOT entry into the old library: its new value */
	HV_UPD_VARIABLES, /* carry (and rebase) the variables */
	HV_UPD_SHARE,	  /* commit: the new library's rights and shared text */
	HV_UPD_GOT,	  /* commit: write the GOT entries */
	HV_UPD_UNMAP,	  /* commit: the old library unmapped, the TLB flushed */
	HV_UPD_PHASES,
};

struct hv_update_req {
	const char *old_name; /* the linked library: its soname, with or without ".so" */
	int fd;		      /* sealed memfd of the new, verified library (consumed) */
	unsigned bind;	      /* HV_BIND_NOW: GOT entries resolved now; LAZY: reset to the PLT */
	/* TEST ONLY (kxmon: KXMON_TEST_FAIL_UPDATE): fail at the step of this
	 * name ("quiesce", "load", ..., as hv_update_phase_name), NULL: never. */
	const char *fail_step;
};

struct hv_update_result {
	uint64_t phase_ns[HV_UPD_PHASES];
	uint32_t got_entries; /* GOT entries redirected */
	uint32_t lazy_entries; /* ... of them back to their PLT stub (lazy) */
	uint32_t variables;   /* variables carried */
	uint32_t rebased;     /* pointers rebased to the new library */
	uint64_t busy_addr;   /* -EBUSY: the address in the old library on the stack */
};

/* "quiesce", "load", ... ("?" when out of range). */
const char *hv_update_phase_name(unsigned phase);

struct hv_config {
	uint64_t mem_size;   /* bytes of guest memory (HV_MEM_MIN..HV_MEM_MAX) */
	uint64_t stack_size; /* bytes; 0 = HV_STACK_DEFAULT */
	int argc;	     /* guest argv, argv[0] being the image name */
	char *const *argv;
	int console_fd; /* where KX_HC_CONSOLE_WRITE goes */
	/* NULL: static images only (no DT_NEEDED) and kx_dlopen is -KX_EPERM. */
	const struct hv_link_source *link;
	/* NULL: kx_fork and kx_wait are -KX_EPERM. */
	const struct hv_proc_source *proc;
	/* NULL: the IpC calls are -KX_EPERM. */
	const struct hv_ipc_source *ipc;
	/* NULL: the signal calls are -KX_EPERM. */
	const struct hv_sig_source *sig;
	/* A pooled pVM (needs link too); NULL: KX_HC_RECYCLE_WAIT is -KX_EPERM. */
	const struct hv_recycle_source *recycle;
};

#define HV_MEM_MIN	 (8ull << 20)
#define HV_MEM_MAX	 (1ull << 30)
#define HV_MEM_DEFAULT	 (64ull << 20)
#define HV_STACK_DEFAULT (1ull << 20)
#define HV_ARGS_MAX	 65536u /* bytes of argv strings + pointers */

/* Why hv_ops.run returned. */
enum hv_end_reason {
	HV_END_EXIT,	     /* the guest exited: exit_status */
	HV_END_PAUSED,	     /* hv_ops.pause was called; run may be called again */
	HV_END_BAD_HCALL,    /* malformed hypercall: hcall_nr, detail */
	HV_END_PANIC,	     /* guest-reported error: message */
	HV_END_FAULT,	     /* CPU exception: vector, error_code, fault_addr */
	HV_END_BAD_IO,	     /* port I/O other than a hypercall: io_port, io_size, detail */
	HV_END_TRIPLE_FAULT, /* the vCPU shut down */
	HV_END_MMIO,	     /* access to an unbacked guest-physical address */
	HV_END_INTERNAL,     /* the hypervisor could not run the guest: detail, hw_reason */
};

struct hv_end {
	enum hv_end_reason reason;
	uint64_t rip;
	int64_t exit_status;
	uint32_t hcall_nr;
	const char *detail; /* static text, or NULL */
	uint32_t vector;
	uint64_t error_code;
	uint64_t fault_addr; /* CR2 for #PF; MMIO address */
	const char *where;   /* what lies at fault_addr ("stack guard page"), or NULL */
	uint32_t io_port;
	uint32_t io_size; /* bytes */
	uint64_t hw_reason;
	char message[KX_HC_PANIC_MAX + 1];
};

/* Backend-neutral vCPU state (what fork and debugging need). */
struct hv_vcpu_state {
	uint64_t gpr[16]; /* rax rcx rdx rbx rsp rbp rsi rdi r8..r15 */
	uint64_t rip;
	uint64_t rflags;
	uint64_t fs_base;
	uint64_t gs_base;
};

struct hv_ops {
	const char *name;
	/* Can this host run it?  0, or -errno with the reason in err. */
	int (*probe)(struct hv_error *err);
	int (*create)(const struct hv_config *cfg, struct hv_vm **vm, struct hv_error *err);
	/* Load an image (untrusted bytes) and make the vCPU ready to enter it. */
	int (*load_image)(struct hv_vm *vm, const uint8_t *buf, size_t len, struct hv_error *err);
	/* Grant the guest `prot` on [gpa, gpa + size) (page-aligned); once the
	 * guest has run, its cached translations are flushed. */
	int (*map_pages)(struct hv_vm *vm, uint64_t gpa, uint64_t size, unsigned prot,
			 struct hv_error *err);
	/* Map `size` bytes of fd at offset into the guest at gpa (shared). */
	int (*share_pages)(struct hv_vm *vm, uint64_t gpa, int fd, uint64_t offset, uint64_t size,
			   unsigned prot, struct hv_error *err);
	/* Signal an event to the guest. */
	int (*notify)(struct hv_vm *vm, uint32_t event, struct hv_error *err);
	/* Run until the pVM ends or is paused.  -errno only if the host failed. */
	int (*run)(struct hv_vm *vm, struct hv_end *end, struct hv_error *err);
	/* Make run return HV_END_PAUSED soon.  Async-signal-safe. */
	void (*pause)(struct hv_vm *vm);
	/* Make the vCPU leave the guest soon and call the link source's
	 * safe_point (a pushed link waits).  Async-signal-safe. */
	void (*kick)(struct hv_vm *vm);
	void (*resume)(struct hv_vm *vm);
	int (*get_vcpu)(struct hv_vm *vm, struct hv_vcpu_state *st, struct hv_error *err);
	int (*set_vcpu)(struct hv_vm *vm, const struct hv_vcpu_state *st, struct hv_error *err);
	/* Link a library given as a sealed memfd (an operator's push) at a safe
	 * point; its DT_NEEDED go through the link source.  fd is consumed. */
	int (*link)(struct hv_vm *vm, const char *name, int fd, unsigned bind, uint64_t *handle,
		    struct hv_error *err);
	void (*link_stats)(const struct hv_vm *vm, struct hv_link_stats *out);
	/* Replace a linked library at a safe point (docs/update.md): 0 done;
	 * -EBUSY the guest is inside the old library (retry later); any other
	 * -errno: refused or failed, the pVM runs on the old library, its state
	 * intact; -EIO only if that could not be restored (end the pVM). */
	int (*update)(struct hv_vm *vm, const struct hv_update_req *req,
		      struct hv_update_result *res, struct hv_error *err);
	/* Deliver signal sig at a safe point: keep the vCPU state (registers,
	 * FPU) on the host and enter trampoline(sig, handler) on the guest's
	 * stack.  -EBUSY while a handler runs (the signal stays pending). */
	int (*signal_enter)(struct hv_vm *vm, uint32_t sig, uint64_t handler,
			    uint64_t trampoline, struct hv_error *err);
	void (*destroy)(struct hv_vm *vm);
};

extern const struct hv_ops hv_kvm_ops;

/* The backend called `name` ("kvm"), or NULL. */
const struct hv_ops *hv_backend(const char *name);

/*
 * One line describing how a pVM ended (no trailing newline), e.g.
 * "guest fault #PF (vector 14, error 0x6) at RIP 0x401000: address 0x0 (NULL page)".
 * Guest-supplied text is escaped.  Returns buf.
 */
const char *hv_end_describe(const struct hv_end *end, char *buf, size_t size);

#endif /* KX_HV_H */
