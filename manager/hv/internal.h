/*
 * internal.h — private to the monitor's core (manager/hv/ files): the state of
 * one pVM, the module interface every feature implements, and the helpers
 * the modules share.  Backends never include it (they see backend.h).
 *
 * A feature is a module: one file that registers its hypercalls, the
 * messages kxd pushes for it, and its hooks (setup once the image is
 * loaded, work at safe points, what a forked child drops, what is answered
 * when the pVM ends).  core.c lists the modules; adding a feature is a file
 * and a row there, never a change to a backend or to kxmon.
 */
#ifndef KX_HV_INTERNAL_H
#define KX_HV_INTERNAL_H

#include <signal.h>

#include "manager/hv/backend.h"
#include "manager/hv/layout.h"

/* Every argument block the decoder knows, to copy one out of guest memory. */
union hv_block {
	struct kx_hc_hdr hdr;
	struct kx_hc_console_write console_write;
	struct kx_hc_exit exit;
	struct kx_hc_clock clock;
	struct kx_hc_panic panic;
	struct kx_hc_resolve resolve;
	struct kx_hc_dlopen dlopen;
	struct kx_hc_dlsym dlsym;
	struct kx_hc_fork fork;
	struct kx_hc_wait wait;
	struct kx_hc_kill kill;
	struct kx_hc_sigaction sigaction;
	struct kx_hc_sigreturn sigreturn;
	struct kx_hc_pause pause;
	struct kx_hc_waitx waitx;
	struct kx_hc_recycle_wait recycle_wait;
	struct kx_hc_ipc_get ipc_get;
	struct kx_hc_ipc_obj ipc_obj;
	struct kx_hc_notify notify;
	/* posix-mon (posix.c) */
	struct kx_hc_time_page time_page;
	struct kx_hc_halt halt;
	struct kx_hc_preempt preempt;
	struct kx_hc_entropy entropy;
	struct kx_hc_posix_report posix_report;
	struct kx_hc_self self;
	struct kx_hc_mprotect mprotect;
	struct kx_hc_console_read console_read;
	struct kx_hc_console_write2 console_write2;
	struct kx_hc_environ environ;
	struct kx_hc_halt_watch halt_watch;   /* bench13 */
	struct kx_hc_posix_stats posix_stats; /* bench13 */
	/* end posix-mon */
	struct kx_hc_fs fs; /* posix-fs */
	/* net */
	struct kx_hc_net_info net_info;
	struct kx_hc_net_kick net_kick;
	struct kx_hc_net_wait net_wait;
};

/* One hypercall: the block is a copy the decoder made (written back when the
 * outcome is HV_HC_RESUME); a handler sets b->hdr.ret or calls hv_bad. */
struct hv_hcall_desc {
	uint32_t nr;
	size_t size; /* of its block */
	void (*handle)(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res);
};

struct hv_module {
	const char *name;
	const struct hv_hcall_desc *hcalls;
	size_t nhcalls;
	/* The kxd pushes it takes (enum kxmon_msg_type), and taking one (fds
	 * consumed): 0, or -EPROTO when it cannot be taken now. */
	const uint32_t *push_types;
	size_t npush_types;
	int (*push)(struct hv_pvm *p, const struct kxmon_msg *m, const int *fds, int nfds);
	/* Once the image is loaded, with the heap range still unmapped: a
	 * module may take its top part (*heap_end lowered). */
	int (*setup)(struct hv_pvm *p, uint64_t heap_start, uint64_t *heap_end,
		     struct kx_error *err);
	void (*safe_point)(struct hv_pvm *p);
	/* in the parent, just before the monitor is copied (undo: the copy failed) */
	void (*fork_parent)(struct hv_pvm *p, bool undo);
	void (*fork_child)(struct hv_pvm *p); /* in the child: drop the parent's work */
	void (*finish)(struct hv_pvm *p);     /* the pVM ended: answer what waits */
	void (*destroy)(struct hv_pvm *p);
};

/* One declaration per module, so features add theirs without touching another's. */
extern const struct hv_module hv_mod_base, hv_mod_link, hv_mod_proc, hv_mod_ipc,
	hv_mod_signal, hv_mod_update, hv_mod_recycle;
extern const struct hv_module hv_mod_posix; /* posix.c: the POSIX layer's services */
extern const struct hv_module hv_mod_fs;    /* fs.c: host directories */
extern const struct hv_module hv_mod_net;   /* net.c: the packet device */

struct hv_linker;	 /* link.c */
struct hv_ipc;		 /* ipc.c */
struct hv_signals;	 /* signal.c */
struct hv_update_state;	 /* update_mod.c */
struct hv_recycle;	 /* recycle.c */
struct hv_posix;	 /* posix.c (posix-mon) */
struct hv_fs;		 /* fs.c (posix-fs) */
struct hv_net;		 /* net.c */

struct hv_pvm {
	const struct hv_backend *be;
	struct hv_vm *vm;
	struct hv_guest_mem mem; /* the backend's mapping; page_prot is the core's */
	uint64_t features;	 /* KX_BOOT_* */
	const struct hv_manager *mgr; /* NULL: a pVM alone */
	bool pool;
	int console_fd;
	int log_fd; /* monitor notices, a line each; 0: none (posix-mon) */
	int err_fd, input_fd; /* posix-mon: the guest's stderr, stdin; -1 none */
	uint64_t hcalls, kicks; /* exits the core served (posix-mon: hv_posix_stats) */
	const char *update_fail_step;
	int kick_signal;
	int (*jail_thread)(enum hv_thread thread); /* hv_config's */
	uint64_t stack_base, stack_size; /* the stack; its guard page is just below */
	uint32_t argc;
	uint64_t argv_gpa;
	uint32_t envc;	   /* posix-mon: the environment's strings ... */
	uint64_t envv_gpa; /* ... and their pointer array (0: none) */
	bool load_tried, loaded;
	bool ran; /* the guest ran: rights changes need a flush */
	volatile sig_atomic_t pause_requested;
	/* A kx handler was entered since the guest's last halt (signal.c): its
	 * next halt ends at once.  The guest checks for marks its handlers left
	 * and then halts; a handler entered between the two would otherwise
	 * leave it halted with the mark unseen (a lost wake-up, posix.c). */
	bool handler_entered;
	/* Why the core paused the pVM itself (a broken channel, a signal's
	 * default action): hv_run reports it instead of HV_END_PAUSED. */
	struct hv_end stop;
	bool stopped;
	struct hv_link_stats stats;
	struct hv_linker *linker;
	struct hv_ipc *ipc;
	struct hv_signals *sig;
	struct hv_update_state *update;
	struct hv_recycle *recycle;
	struct hv_posix *posix; /* posix-mon */
	struct hv_fs *fs; /* posix-fs: host directories */
	struct hv_net *net; /* net.c */
	void (*test_safe_point)(struct hv_pvm *p, void *ctx);
	void *test_ctx;
};

/* ---- helpers (core.c) --------------------------------------------------------- */

/* A malformed hypercall: the pVM ends with this reason (static text). */
void hv_bad(struct hv_hcall_result *res, const char *reason);

/*
 * The one map from a host -errno to the errno a guest sees (the KX_E*
 * values of guest/kx_hcall_abi.h), for every hypercall that passes a
 * failure on: the KX_E* of the same name (-ENOSPC is -KX_ENOSPC, -ENOMEM
 * -KX_ENOMEM), -KX_EINVAL for any errno the ABI has no name for.  So a
 * module returns what its call documents (docs/guest-abi.md): kx_dlopen's
 * one "no room" is -ENOMEM, an IpC object's -ENOSPC.  rc must be negative.
 */
int64_t hv_guest_errno(int rc);

/* The primitives, with what the core adds: W^X and the monitor region
 * refused (-EPERM), the rights recorded in mem.page_prot (read implied),
 * the flush counted. */
int hv_protect(struct hv_pvm *p, uint64_t gpa, uint64_t size, unsigned prot,
	       struct kx_error *err);
int hv_map_fd(struct hv_pvm *p, uint64_t gpa, int fd, uint64_t offset, uint64_t size,
	      unsigned prot, struct kx_error *err);
int hv_unmap(struct hv_pvm *p, uint64_t gpa, uint64_t size, struct kx_error *err);
int hv_flush(struct hv_pvm *p, struct kx_error *err); /* 1 flushed, 0 not needed */
int hv_get_vcpu(struct hv_pvm *p, struct hv_vcpu *st, unsigned parts, struct kx_error *err);
int hv_set_vcpu(struct hv_pvm *p, const struct hv_vcpu *st, unsigned parts,
		struct kx_error *err);

/* The pVM cannot go on (reason HV_END_CHANNEL with text, or HV_END_SIGNAL):
 * recorded, and the vCPU paused; hv_run reports it. */
void hv_stop(struct hv_pvm *p, const struct hv_end *why);
void hv_stop_channel(struct hv_pvm *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The manager (NULL-safe: -EPIPE without one); a broken channel is -EPIPE. */
int hv_mgr_call(struct hv_pvm *p, struct kxmon_msg *m, uint32_t resp_type, int *fds, int *nfds);
int hv_mgr_send(struct hv_pvm *p, struct kxmon_msg *m);
int hv_mgr_next(struct hv_pvm *p, uint64_t seq, int timeout_ms, struct kxmon_msg *m, int *fds,
		int *nfds);
const char *hv_mgr_reason(const struct hv_pvm *p);

/* Should a blocking call give up now (-EINTR)?  The monitor's timeout, or a
 * signal for the guest that will do something (signal.c). */
bool hv_interrupted(struct hv_pvm *p);
/* A handler was entered since the last halting wait (and is forgotten now). */
bool hv_handler_entered(struct hv_pvm *p);

/* The hypercall of number nr, from the modules' tables; NULL if none. */
const struct hv_hcall_desc *hv_core_find_hcall(uint32_t nr);
/* In a forked child process: every module drops what was the parent's. */
void hv_core_fork_parent(struct hv_pvm *p, bool undo);
void hv_core_fork_child(struct hv_pvm *p);

/* ---- between modules ---------------------------------------------------------- */

/* base.c: a console write hypercall's work — len bytes of guest memory at
 * buf_gpa to fd; *ret the bytes written or -KX_EIO; a bad length or buffer
 * ends the pVM (res). */
void hv_console_out(struct hv_pvm *p, int fd, uint64_t buf_gpa, uint64_t len, int64_t *ret,
		    struct hv_hcall_result *res);

/* link.c */
int hv_link_load_image(struct hv_pvm *p, uint64_t guard, const uint8_t *buf, size_t len,
		       struct image_info *info, struct kx_error *err);
int hv_link_dlsym(struct hv_pvm *p, uint64_t handle, const char *name, uint64_t *addr);

/* signal.c */
bool hv_signal_deliverable(const struct hv_pvm *p);
/* ipc.c: the host address of the 4-byte-aligned word at guest address addr
 * inside an IpC data area this pVM maps (a futex word other holders wake),
 * or NULL.  posix.c's HALT_WATCH sleeps on such words. */
uint32_t *hv_ipc_word(struct hv_pvm *p, uint64_t addr);
/* The state a running handler interrupted, kept by the monitor: its RIP and
 * RBP (the update's quiescence walk counts them); false when none runs. */
bool hv_signal_interrupted_state(const struct hv_pvm *p, uint64_t *rip, uint64_t *rbp);

/* proc.c: kx_wait with flags (signal.c's pause and the decoder use it). */
int hv_proc_waitx(struct hv_pvm *p, uint64_t child_id, uint32_t flags, uint64_t timeout_ns,
		  uint64_t *waited, int64_t *status);

#endif /* KX_HV_INTERNAL_H */
