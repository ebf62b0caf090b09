/*
 * hv.h — the monitor's core (the public header of manager/hv/).
 *
 * One pVM, on one backend, in one monitor process.  The core owns everything
 * that is the same on every hypervisor: the layout of the pVM (image, heap,
 * stack, boot info), the hypercall decoder and its one checked accessor to
 * guest memory, linking and lazy binding, online update, fork and wait, IpC
 * objects, signals and recycling — each a module of its own file
 * (internal.h) — and the conversation with the manager (kxd) over the
 * channel of manager/chan.  A backend (backend.h) only implements a few
 * primitives: create, boot, protect/map/unmap guest pages, flush, run,
 * kick/pause, get/set the vCPU, fork, destroy.  docs/architecture.md draws
 * the map.
 *
 * Functions return 0 or -errno and print nothing; details go to a struct
 * kx_error (common/kxerr.h, the one error type of kx's libraries).  How a
 * pVM ended is data (struct hv_end), turned into one line of text by
 * hv_end_describe.
 */
#ifndef KX_HV_H
#define KX_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/kxerr.h"
#include "guest/kx_hcall_abi.h"
#include "manager/chan/chan.h"

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
 * bytes and one rights byte per page (what the guest may do with it).
 * Pages of the monitor region have rights 0: the guest cannot touch them,
 * and neither can a hypercall.
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

/* ---- the manager ---------------------------------------------------------- */

struct hv_pvm; /* one pVM: the core's state, opaque */

/*
 * The monitor's link to its manager (kxmon: the channel to kxd).  Every
 * message the core sends or receives is a struct kxmon_msg of
 * manager/chan; what comes back has passed chan_check_from_kxd.  Messages
 * kxd pushes on its own (LINK_PUSH, SIGNAL, UPDATE_PUSH, RECYCLE_*) reach
 * the core through hv_push, whenever the manager receives one.
 *   bind    called once by hv_create: where pushes go from now on
 *   call    send m (type and body set; the seq is assigned) and wait for
 *           its answer of type resp_type: 0 with *m and its fds (room for
 *           KXMON_MAX_FDS: the caller owns them), or -EPIPE (the channel broke)
 *   send    send m, expecting no answer: 0 or -EPIPE
 *   next    wait at most timeout_ms (-1: forever) for one message: 1 an
 *           answer to request seq (seq 0: none expected), 2 a push went to
 *           hv_push, 0 nothing in time (or a signal for the monitor), -EPIPE
 *   seq     the seq for a request the core sends itself (WAIT_REQ)
 *   child   in a forked child process: talk on chan (its own channel) from
 *           now on; 0 or -EPIPE
 *   console a pooled pVM's app comes with its client's console: the pVM's
 *           console and the monitor's reports go to out and err from now
 *           on (both consumed); 0 or -errno
 *   recycled  a pooled pVM's app was linked (rc 0) or could not be (why)
 *   reason  why the channel broke, "" while it works
 */
struct hv_manager_ops {
	void (*bind)(void *ctx, struct hv_pvm *p);
	int (*call)(void *ctx, struct kxmon_msg *m, uint32_t resp_type, int *fds, int *nfds);
	int (*send)(void *ctx, struct kxmon_msg *m);
	int (*next)(void *ctx, uint64_t seq, int timeout_ms, struct kxmon_msg *m, int *fds,
		    int *nfds);
	uint64_t (*seq)(void *ctx);
	int (*child)(void *ctx, int chan);
	int (*console)(void *ctx, int out, int err);
	void (*recycled)(void *ctx, int rc, const char *why);
	const char *(*reason)(void *ctx);
};

struct hv_manager {
	const struct hv_manager_ops *ops;
	void *ctx;
};

/* A message kxd pushed (fds consumed): 0, or -EPROTO when the pVM cannot
 * take it now (the manager then breaks the channel). */
int hv_push(struct hv_pvm *p, const struct kxmon_msg *m, const int *fds, int nfds);

/* ---- creating and running a pVM ------------------------------------------- */

struct hv_backend; /* backend.h */

/* The backend called `name` ("kvm", "skeleton"), or NULL; and all of them. */
const struct hv_backend *hv_backend(const char *name);
const char *hv_backend_name(const struct hv_backend *be);
/* Can this host run it?  0, or -errno with the reason. */
int hv_probe(const struct hv_backend *be, struct kx_error *err);
/* The ioctl request codes the backend issues once its VM exists (*n of
 * them): what the monitor's jail lets through (docs/jail.md). */
const unsigned long *hv_backend_ioctls(const struct hv_backend *be, size_t *n);
/* kxmon says when it has entered its jail; a backend whose fork needs what
 * the jail took away (Xen's child monitor opens privcmd) refuses it then.
 * confine_dirs, when not NULL, is the jail's wall around host directories
 * (jail_confine_beneath): the fs module calls it once kxd granted the
 * pVM's mounts, with their directory fds and whether each is writable;
 * its -EOPNOTSUPP (no such wall on this kernel) lets the boot go on. */
typedef int (*hv_confine_fn)(const int *dirfds, const bool *writable, size_t n,
			     struct kx_error *err);
void hv_set_jailed(hv_confine_fn confine_dirs);
bool hv_jailed(void);
hv_confine_fn hv_jail_confine(void);

/* The threads of a monitor, for its jail (hv_config.jail_thread). */
enum hv_thread {
	HV_THREAD_VCPU, /* the thread that runs hv_run: it starts no more threads */
	HV_THREAD_NET,	/* the packet device's network thread, at its start */
};

struct hv_config {
	uint64_t mem_size;   /* bytes of guest memory (HV_MEM_MIN..HV_MEM_MAX) */
	uint64_t stack_size; /* bytes; 0 = HV_STACK_DEFAULT */
	int argc;	     /* guest argv, argv[0] being the image name */
	char *const *argv;
	int console_fd; /* where KX_HC_CONSOLE_WRITE goes */
	/* Where the monitor's notices go, one line each (an unimplemented
	 * system call of the POSIX layer); 0: nowhere. */
	int log_fd;
	/* posix-mon: the guest's error stream and console input, when
	 * has_stdio (else errors go to console_fd and input is at its end). */
	bool has_stdio;
	int err_fd, input_fd;
	/* posix-mon: the guest's environment, "NAME=VALUE" strings (KX_HC_ENVIRON);
	 * with argv they share HV_ARGS_MAX bytes. */
	int envc;
	char *const *envv;
	/* NULL: a pVM alone — static images only, and linking, fork, IpC and
	 * signals are -KX_EPERM for the guest. */
	const struct hv_manager *manager;
	bool pool; /* an empty pVM of a pool: KX_HC_RECYCLE_WAIT takes an app */
	/* A signal whose handler calls hv_kick (0: none): the core arms timers
	 * with it to come back to a safe point (an update waiting for the
	 * guest to leave the old library). */
	int kick_signal;
	/* The monitor's jail (kxmon, docs/jail.md), NULL: none.  Called first
	 * thing on a thread the core starts (HV_THREAD_NET), and on the vCPU
	 * thread once it will start no more (HV_THREAD_VCPU: the network
	 * question is settled), maybe more than once.  Nonzero: that thread
	 * must not go on (the device breaks; the pVM ends). */
	int (*jail_thread)(enum hv_thread thread);
	/* TEST ONLY (kxmon: KXMON_TEST_FAIL_UPDATE): fail the first update at
	 * the step of this name (hv_update_phase_name), NULL: never. */
	const char *update_fail_step;
};

#define HV_MEM_MIN	 (8ull << 20)
#define HV_MEM_MAX	 (1ull << 30)
#define HV_MEM_DEFAULT	 (64ull << 20)
#define HV_STACK_DEFAULT (1ull << 20)
#define HV_ARGS_MAX	 65536u /* bytes of argv strings + pointers */

int hv_create(const struct hv_backend *be, const struct hv_config *cfg, struct hv_pvm **out,
	      struct kx_error *err);
/* Load the image (untrusted bytes, kept by the caller while the pVM lives)
 * and make the vCPU ready to enter it.  A library the manager denies:
 * -EACCES, err "boot denied: LIB: the manager's reason". */
int hv_load(struct hv_pvm *p, const uint8_t *buf, size_t len, struct kx_error *err);

/* Why hv_run returned. */
enum hv_end_reason {
	HV_END_EXIT,	     /* the guest exited: exit_status */
	HV_END_PAUSED,	     /* hv_pause was called; hv_run may be called again */
	HV_END_BAD_HCALL,    /* malformed hypercall: hcall_nr, detail */
	HV_END_PANIC,	     /* guest-reported error: message */
	HV_END_FAULT,	     /* CPU exception: vector, error_code, fault_addr */
	HV_END_BAD_IO,	     /* port I/O other than a hypercall: io_port, io_size, detail */
	HV_END_TRIPLE_FAULT, /* the vCPU shut down */
	HV_END_MMIO,	     /* access to an unbacked guest-physical address */
	HV_END_INTERNAL,     /* the hypervisor could not run the guest: detail, hw_reason */
	HV_END_SIGNAL,	     /* a signal's default action ended it: signal, signal_from */
	HV_END_CHANNEL,	     /* the channel to the manager broke: detail (its reason) */
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
	uint32_t signal;      /* HV_END_SIGNAL */
	uint64_t signal_from; /* the sending pVM, 0 an operator or kxd */
	char message[KX_HC_PANIC_MAX + 1];
};

/* Run until the pVM ends or is paused.  -errno only if the host failed. */
int hv_run(struct hv_pvm *p, struct hv_end *end, struct kx_error *err);
/* Make hv_run return HV_END_PAUSED soon, and blocking hypercalls give up
 * (the timeout).  Async-signal-safe. */
void hv_pause(struct hv_pvm *p);
void hv_resume(struct hv_pvm *p);
/* Make the vCPU leave the guest soon for a safe point, where pushed work
 * (a link, an update, a signal) is applied.  Async-signal-safe. */
void hv_kick(struct hv_pvm *p);
/* Tell the manager the pVM ended (EXIT; pushes never applied are answered
 * -ESRCH) and free everything.  NULL is fine. */
void hv_destroy(struct hv_pvm *p, int status, const struct hv_end *end, const char *report);

/*
 * One line describing how a pVM ended (no trailing newline), e.g.
 * "guest fault #PF (vector 14, error 0x6) at RIP 0x401000: address 0x0 (NULL page)".
 * Guest-supplied text is escaped.  Returns buf.
 */
const char *hv_end_describe(const struct hv_end *end, char *buf, size_t size);

/* TEST ONLY — the in-process checks of tests/guest (kvm_tlbcheck,
 * kvm_sigcheck) drive the core with these:
 *   safe_point    fn is called at every safe point after the core's own work
 *   protect       give the guest rights prot on pages of its memory, as a
 *                 module would, and flush (1 flushed, 0 not needed, -errno)
 *   signal_enter  enter trampoline(sig, handler) as a signal delivery would:
 *                 0, or -EBUSY when the vCPU is not where guest code runs
 *   sigreturn     leave it as KX_HC_SIGRETURN does: 0, -EINVAL, -EIO
 *   vm            the backend's VM, for white-box checks of one backend */
void hv_test_safe_point(struct hv_pvm *p, void (*fn)(struct hv_pvm *p, void *ctx), void *ctx);
int hv_test_protect(struct hv_pvm *p, uint64_t gpa, uint64_t size, unsigned prot,
		    struct kx_error *err);
int hv_test_signal_enter(struct hv_pvm *p, uint32_t sig, uint64_t handler, uint64_t trampoline,
			 struct kx_error *err);
int hv_test_sigreturn(struct hv_pvm *p);
struct hv_vm *hv_test_vm(struct hv_pvm *p);

/* ---- linking ------------------------------------------------------------ */

enum hv_bind { HV_BIND_LAZY = 0, HV_BIND_NOW = 1 };

/* Link a library given as a sealed memfd (an operator's push, a bench) at a
 * safe point; its DT_NEEDED go to the manager.  fd is consumed. */
int hv_link(struct hv_pvm *p, const char *name, int fd, unsigned bind, uint64_t *handle,
	    struct kx_error *err);

/* Counters for kxmon -v and the tests. */
struct hv_link_stats {
	uint64_t modules;	    /* image + libraries linked */
	uint64_t requests;	    /* libraries and IpC objects asked of the manager */
	uint64_t denials;	    /* ... of them denied */
	uint64_t pushes;	    /* links the manager pushed */
	uint64_t resolves;	    /* KX_HC_RESOLVE calls served */
	uint64_t bound_now;	    /* PLT slots resolved at link time */
	uint64_t shared_text_bytes; /* library text mapped from sealed memfds */
	uint64_t got_pages;	    /* GOT pages made read-only to the guest */
	uint64_t tlb_flushes;	    /* page tables changed after the guest ran */
};
void hv_link_stats(const struct hv_pvm *p, struct hv_link_stats *out);

/* posix-mon: exits and the POSIX services' work (posix.c; kxmon -v). */
struct hv_posix_stats {
	uint64_t hcalls;	   /* hypercall exits served */
	uint64_t kicks;		   /* kick exits (timer ticks, kxd's pushes) */
	uint64_t halts;		   /* KX_HC_HALT and KX_HC_HALT_WATCH calls */
	uint64_t watch_wakes;	   /* KX_HC_HALT_WATCH calls a watched IpC word ended */
	uint64_t preemptions;	   /* guest threads interrupted at a tick */
	uint64_t preempt_deferred; /* ticks the guest could not take then */
	uint64_t reported;	   /* unimplemented system calls reported */
	bool used;		   /* the guest used a POSIX service (an SDK program) */
};
void hv_posix_stats(const struct hv_pvm *p, struct hv_posix_stats *out);

#define HV_LINK_MAX_FILES 64u /* libraries opened for one pVM */

/* The packet device's counters (net.c; docs/network.md): frames forwarded
 * each way and drops per kind (spoof-mac, spoof-ip, port, peer, malformed,
 * proto, not-mine, rx-full, tap-busy).  -ENODEV without an interface. */
#define HV_NET_KINDS 12u
struct hv_net_stats {
	uint64_t tx_frames, rx_frames;
	uint64_t drops[HV_NET_KINDS];
	bool broken; /* the guest broke its rings: the pVM is ending */
};
int hv_net_stats(const struct hv_pvm *p, struct hv_net_stats *out);

/* ---- online update (update.c; docs/update.md) -------------------------------- */

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
	int fd;		      /* sealed memfd of the new, verified library (the update dups it) */
	unsigned bind;	      /* HV_BIND_NOW: GOT entries resolved now; LAZY: reset to the PLT */
	const char *fail_step; /* TEST ONLY: as hv_config.update_fail_step */
};

struct hv_update_result {
	uint64_t phase_ns[HV_UPD_PHASES];
	uint32_t got_entries;  /* GOT entries redirected */
	uint32_t lazy_entries; /* ... of them back to their PLT stub (lazy) */
	uint32_t variables;    /* variables carried */
	uint32_t rebased;      /* pointers rebased to the new library */
	uint32_t untyped;      /* ... of the variables: no type in the pointer map, verbatim */
	bool no_ptrmap;        /* the old library has no pointer map: all verbatim */
	uint64_t busy_addr;    /* -EBUSY: the address in the old library on the stack */
};

/* "quiesce", "load", ... ("?" when out of range). */
const char *hv_update_phase_name(unsigned phase);

/* Replace a linked library at a safe point (docs/update.md): 0 done;
 * -EBUSY the guest is inside the old library (retry later); any other
 * -errno: refused or failed, the pVM runs on the old library, its state
 * intact; -EIO only if that could not be restored (end the pVM). */
int hv_update(struct hv_pvm *p, const struct hv_update_req *req, struct hv_update_result *res,
	      struct kx_error *err);

/* ---- the hypercall decoder (for the fuzz harness and unit tests) ---------- */

enum hv_hcall_outcome {
	HV_HC_RESUME, /* call done, ret stored; run the guest again */
	HV_HC_EXIT,   /* the guest asked to exit (exit_status) */
	HV_HC_PANIC,  /* the guest reported an error (message) */
	HV_HC_BAD,    /* malformed call: end the pVM (reason) */
};

struct hv_hcall_result {
	enum hv_hcall_outcome outcome;
	uint32_t nr;			   /* call number, when the header could be read */
	int64_t exit_status;		   /* HV_HC_EXIT */
	const char *reason;		   /* HV_HC_BAD: static text */
	char message[KX_HC_PANIC_MAX + 1]; /* HV_HC_PANIC: NUL-terminated copy */
};

/*
 * Decode and perform one hypercall: `block` is the guest address of the
 * argument block the guest handed over (the 32-bit value it wrote to
 * KX_HCALL_PORT on KVM).  Guest memory is untrusted input: every field is
 * read through hv_guest_ptr.  Never fails; the outcome says what to do.
 */
void hv_hcall_dispatch(struct hv_pvm *p, uint64_t block, struct hv_hcall_result *res);

/*
 * The same for a block the backend already copied out of the guest's reach
 * (a transport that carries blocks in a shared ring, not by address): buf
 * holds len bytes the guest chose; the answer (ret and the outputs) is
 * written back into buf, the call's block size of it, only when the
 * outcome is HV_HC_RESUME.  Any further pointer in the block is still a
 * guest address, read through hv_guest_ptr.
 */
void hv_hcall_dispatch_copy(struct hv_pvm *p, void *buf, size_t len,
			    struct hv_hcall_result *res);

/* The guest memory of a pVM (the fuzz harness fills it). */
struct hv_guest_mem *hv_pvm_mem(struct hv_pvm *p);

#endif /* KX_HV_H */
