/*
 * kvm.h — private to the KVM backend (kvm*.c): the state of one
 * pVM and the helpers both files use.  Nothing outside manager/hv/kvm*.c
 * sees struct hv_vm.
 */
#ifndef KX_HV_KVM_H
#define KX_HV_KVM_H

#include <linux/kvm.h>
#include <signal.h>
#include <stdbool.h>

#include "manager/hv/layout.h"

#define MAX_SLOTS 256u	     /* memslots: guest memory, split around shared text */
#define CR3_PWT	  (1ull << 3) /* toggled to make KVM flush the guest's TLB */

struct hv_vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_fd;
	int mem_fd;
	struct kvm_run *run;
	size_t run_size;
	struct hv_guest_mem mem;
	uint64_t cr4;
	uint64_t stack_size;
	uint64_t stack_base; /* lowest stack byte; the guard page is just below */
	uint32_t argc;
	uint64_t argv_gpa;
	int console_fd;
	bool load_tried; /* load_image runs once: a failed load leaves the pVM unusable */
	bool loaded;
	bool ran; /* KVM_RUN was entered: page-table changes need a TLB flush */
	volatile sig_atomic_t pause_requested;
	volatile sig_atomic_t kick_requested; /* run the safe point soon */
	const struct hv_link_source *link_src; /* NULL: static images only */
	const struct hv_proc_source *proc_src; /* NULL: no fork */
	const struct hv_ipc_source *ipc_src;   /* NULL: no IpC objects */
	struct kvm_ipc *ipc;		       /* kvm_ipc.c; NULL: no IpC window */
	const struct hv_sig_source *sig_src;   /* NULL: no signals */
	struct {
		bool active; /* a handler runs: the interrupted state is kept here */
		struct kvm_regs regs;
		struct kvm_fpu fpu;
	} sig_frame;
	const struct hv_recycle_source *recycle_src; /* NULL: not in a pool */
	struct hv_error fork_err; /* why the last fork's child could not be built */
	struct hv_linker *linker;
	struct kvm_userspace_memory_region slots[MAX_SLOTS]; /* memory_size 0: free */
	unsigned nslots;
};

int kvm_seterr(struct hv_error *err, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A vCPU ioctl that must succeed; the error names the request. */
int kvm_vcpu_ioctl(struct hv_vm *vm, unsigned long request, void *arg, const char *name,
		   struct hv_error *err);
#define VCPU_IOCTL(vm, request, arg, err) kvm_vcpu_ioctl(vm, request, arg, #request, err)

/* kvm.c: create the vCPU of vm->vm_fd in its boot mode. */
int kvm_setup_vcpu(struct hv_vm *vm, struct hv_error *err);
/* kvm.c: a kick arrived (KVM_RUN was interrupted): run the safe point. */
void kvm_kicked(struct hv_vm *vm);

/* kvm_run.c: hv_ops.run. */
int kvm_run_vm(struct hv_vm *vm, struct hv_end *end, struct hv_error *err);

/* kvm_fork.c: KX_HC_FORK and KX_HC_WAIT; the opaque is the vm. */
extern const struct hv_proc_hooks kvm_proc_hooks;

/* kvm_recycle.c: KX_HC_RECYCLE_WAIT; the opaque is the vm. */
extern const struct hv_recycle_hooks kvm_recycle_hooks;

/* kvm_signal.c: entering a handler and KX_HC_SIGRETURN (opaque: the vm). */
int kvm_signal_enter(struct hv_vm *vm, uint32_t sig, uint64_t handler, uint64_t trampoline,
		     struct hv_error *err);
int kvm_sigreturn(void *opaque);

/* kvm_ipc.c: IpC objects in a window below the heap's end (*heap_end is
 * lowered); the hooks' opaque is the vm. */
int kvm_ipc_reserve(struct hv_vm *vm, uint64_t heap_start, uint64_t *heap_end,
		    struct hv_error *err);
void kvm_ipc_destroy(struct hv_vm *vm);
extern const struct hv_ipc_hooks kvm_ipc_hooks;

/* kvm_link.c */
/* Memslots: set one (memory_size 0 deletes it), or a free entry of vm->slots. */
int kvm_slot_set(struct hv_vm *vm, struct kvm_userspace_memory_region *r, struct hv_error *err);
struct kvm_userspace_memory_region *kvm_slot_free(struct hv_vm *vm);
/* After the guest ran, make KVM drop its translations: 1 flushed, 0 the
 * guest never ran, -errno. */
int kvm_flush_tlb(struct hv_vm *vm, struct hv_error *err);
int kvm_share_pages(struct hv_vm *vm, uint64_t gpa, int fd, uint64_t offset, uint64_t size,
		    unsigned prot, struct hv_error *err);
/* Link a dynamic image into the window below `guard` (the stack guard). */
int kvm_load_dynamic(struct hv_vm *vm, uint64_t guard, const uint8_t *buf, size_t len,
		     struct image_info *info, struct hv_error *err);
int kvm_link(struct hv_vm *vm, const char *name, int fd, unsigned bind, uint64_t *handle,
	     struct hv_error *err);
void kvm_link_stats(const struct hv_vm *vm, struct hv_link_stats *out);

/* kvm_update.c: hv_ops.update (online library update, update.c). */
int kvm_update(struct hv_vm *vm, const struct hv_update_req *req, struct hv_update_result *res,
	       struct hv_error *err);

#endif /* KX_HV_KVM_H */
