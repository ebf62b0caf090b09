/*
 * backend.h — what a hypervisor backend implements for the monitor's core
 * (manager/hv): a handful of primitives over one VM with one vCPU, and
 * nothing else.  Features (linking, update, fork and wait, IpC, signals,
 * recycling, the POSIX host half) live in the core, written once over these
 * primitives; a new backend is a folder that fills struct hv_backend
 * (hv/skeleton/ is the template: every primitive -ENOSYS).
 *
 * The backend's state is private to its folder (struct hv_vm).  Guest
 * memory is one host mapping the backend creates and the core reads and
 * writes (struct hv_guest_mem); the rights byte of every page is the core's
 * to keep: a backend's protect applies rights to its own structures (page
 * tables), the core records them.  Every primitive returns 0 or -errno with
 * err filled, unless it says otherwise; kick and pause are
 * async-signal-safe.
 */
#ifndef KX_HV_BACKEND_H
#define KX_HV_BACKEND_H

#include "manager/hv/hv.h"

struct hv_vm; /* private to each backend */

/* Backend-neutral vCPU state (what signals, update and debugging need). */
struct hv_vcpu {
	uint64_t gpr[16]; /* rax rcx rdx rbx rsp rbp rsi rdi r8..r15 */
	uint64_t rip;
	uint64_t rflags;
	uint64_t fs_base;
	uint64_t gs_base;
	bool user;	  /* get: the vCPU is at CPL3, where guest code runs */
	uint8_t fpu[512]; /* the x87/SSE state, FXSAVE layout */
};

/* Which parts of struct hv_vcpu get_vcpu / set_vcpu move. */
enum {
	HV_VCPU_REGS = 1, /* gpr, rip, rflags (set: only the arithmetic flags, TF, DF) */
	HV_VCPU_SEGS = 2, /* fs_base, gs_base, user */
	HV_VCPU_FPU = 4,  /* fpu */
};

/* Why run returned. */
enum hv_exit_kind {
	HV_EXIT_HCALL,	/* the guest made a hypercall: block */
	HV_EXIT_KICK,	/* kick was called: a safe point between two instructions */
	HV_EXIT_PAUSED, /* pause was called */
	HV_EXIT_END,	/* the guest can run no more: end filled (fault_addr, not where) */
};

struct hv_exit {
	enum hv_exit_kind kind;
	uint64_t block; /* HV_EXIT_HCALL: the argument block's guest address */
	/* HV_EXIT_HCALL from a backend whose transport copies blocks instead of
	 * passing an address (a shared ring): block_buf holds block_len bytes
	 * the guest wrote, copied out of its reach; the core decodes them and
	 * writes the answer back into block_buf, which the backend delivers
	 * when run is called again.  NULL: use block. */
	void *block_buf;
	size_t block_len;
	struct hv_end end;
};

struct hv_backend {
	const char *name;
	/* Can this host run it?  0, or -errno with the reason in err. */
	int (*probe)(struct kx_error *err);
	/* A VM with one vCPU and mem_size bytes of guest memory (private: a
	 * fork of the monitor copies it on write), all of it unmapped for the
	 * guest; everything below the core's LAYOUT_MONITOR_END is the
	 * backend's.  *features: KX_BOOT_* bits the guest may use. */
	int (*create)(uint64_t mem_size, struct hv_guest_mem *mem, uint64_t *features,
		      struct hv_vm **vm, struct kx_error *err);
	/* Enter the guest at CPL3 at entry, with rsp and rdi = arg. */
	int (*boot)(struct hv_vm *vm, uint64_t entry, uint64_t rsp, uint64_t arg,
		    struct kx_error *err);
	/* Give the guest rights prot (HV_PROT_*; 0 takes them away) on
	 * [gpa, gpa + size) of its private memory.  Page-aligned, at or above
	 * LAYOUT_MONITOR_END, never W+X: the core checked.  Translations the
	 * guest cached stay until flush. */
	int (*protect)(struct hv_vm *vm, uint64_t gpa, uint64_t size, unsigned prot,
		       struct kx_error *err);
	/* Back [gpa, gpa + size) with size bytes of fd at offset, shared (the
	 * host view of guest memory too), with rights prot: read-only pages
	 * stay read-only to the guest whatever the page tables say.  The
	 * guest's private pages there are released. */
	int (*map_fd)(struct hv_vm *vm, uint64_t gpa, int fd, uint64_t offset, uint64_t size,
		      unsigned prot, struct kx_error *err);
	/* Take [gpa, gpa + size) away from the guest: no rights, no backing (a
	 * later access faults) until a map_fd there, and private zero pages in
	 * the host view.  The IpC window is reserved this way. */
	int (*unmap)(struct hv_vm *vm, uint64_t gpa, uint64_t size, struct kx_error *err);
	/* The guest may have run with rights that changed since: drop what it
	 * cached.  1 flushed, 0 it never ran. */
	int (*flush)(struct hv_vm *vm, struct kx_error *err);
	/* Run until an exit the core must handle.  -errno only if the host failed. */
	int (*run)(struct hv_vm *vm, struct hv_exit *exit, struct kx_error *err);
	/* For reports: where the hypercall that last stopped the vCPU was made
	 * (kept off the hot path: a hypercall exit reads no register). */
	uint64_t (*hcall_rip)(struct hv_vm *vm);
	void (*kick)(struct hv_vm *vm);
	void (*pause)(struct hv_vm *vm);
	void (*resume)(struct hv_vm *vm);
	int (*get_vcpu)(struct hv_vm *vm, struct hv_vcpu *st, unsigned parts,
			struct kx_error *err);
	int (*set_vcpu)(struct hv_vm *vm, const struct hv_vcpu *st, unsigned parts,
			struct kx_error *err);
	/* Optional, for a backend that cannot redirect a running vCPU (Xen
	 * PV: a hypercall is a ring request the guest itself waits for): hand
	 * signal sig and its handler to the guest, which runs the handler after
	 * it took the answer to its current or next hypercall and then asks
	 * KX_HC_SIGRETURN, which on success resumes the code that made that
	 * call.  NULL: the core enters handlers with set_vcpu. */
	int (*signal_mark)(struct hv_vm *vm, uint32_t sig, uint64_t handler,
			   struct kx_error *err);
	/* Optional, for a backend whose host view of an IpC data area is not
	 * the other holders' pages (Xen PV: each monitor maps its own domain's
	 * frames, where a host futex wakes nobody): KX_HC_NOTIFY_WAIT and
	 * _WAKE on the word at gpa, which the core checked lies in a data area
	 * the pVM maps.  ipc_wait: 0 (woken, or look again), -ETIMEDOUT,
	 * -EINTR; ipc_wake: how many were woken (or 0).  NULL: the core's host
	 * futex on its view of guest memory. */
	int (*ipc_wait)(struct hv_vm *vm, uint64_t gpa, uint32_t value, uint64_t timeout_ns);
	int (*ipc_wake)(struct hv_vm *vm, uint64_t gpa, uint32_t count);
	/* Fork, in two steps around the monitor process's fork(): prepare in
	 * the parent before it, child in the new process after it (the VM then
	 * runs there over the inherited, copy-on-write memory, in the state
	 * the parent had at prepare). */
	int (*fork_prepare)(struct hv_vm *vm, struct kx_error *err);
	int (*fork_child)(struct hv_vm *vm, struct kx_error *err);
	/* Free everything; the host view of guest memory goes with it. */
	void (*destroy)(struct hv_vm *vm);
	/* The guest's TSC minus the host's, at the same instant, as the
	 * guest's rdtsc sees it (a clock page in guest memory needs it; it may
	 * change across fork_child).  Optional: NULL or -ENOSYS when unknown. */
	int (*tsc_offset)(struct hv_vm *vm, int64_t *offset, struct kx_error *err);
	/* The ioctl request codes the backend issues once its VM exists (run,
	 * vCPU state, memory slots, fork_child's new VM): the jail's seccomp
	 * filter lets through these and no other (manager/jail, docs/jail.md). */
	const unsigned long *ioctls;
	size_t nioctls;
};

extern const struct hv_backend hv_kvm_backend;
extern const struct hv_backend hv_xen_backend;
extern const struct hv_backend hv_skeleton_backend;

#endif /* KX_HV_BACKEND_H */
