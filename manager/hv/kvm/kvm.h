/*
 * kvm.h — private to the KVM backend (manager/hv/kvm/): the state of one
 * VM and the helpers its files share.  Nothing outside hv/kvm/ sees
 * struct hv_vm, and nothing here knows a feature of the core.
 */
#ifndef KX_HV_KVM_KVM_H
#define KX_HV_KVM_KVM_H

#include <linux/kvm.h>
#include <signal.h>
#include <stdbool.h>

#include "manager/hv/backend.h"
#include "manager/hv/layout.h"

#define MAX_SLOTS 256u	     /* memslots: guest memory, split around mapped fds */
#define CR3_PWT	  (1ull << 3) /* toggled to make KVM flush the guest's TLB */

struct hv_vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_fd;
	int mem_fd;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *host; /* guest memory, MAP_PRIVATE over mem_fd */
	uint64_t size;
	uint64_t cr4;
	bool ran; /* KVM_RUN was entered: page-table changes need a TLB flush */
	volatile sig_atomic_t pause_requested;
	volatile sig_atomic_t kick_requested;
	struct kvm_userspace_memory_region slots[MAX_SLOTS]; /* memory_size 0: free */
	unsigned nslots;
	struct { /* fork_prepare's snapshot of the vCPU */
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		struct kvm_fpu fpu;
	} fork;
};

/* A vCPU ioctl that must succeed; the error names the request. */
int kvm_vcpu_ioctl(struct hv_vm *vm, unsigned long request, void *arg, const char *name,
		   struct kx_error *err);
#define VCPU_IOCTL(vm, request, arg, err) kvm_vcpu_ioctl(vm, request, arg, #request, err)

/* The host address of [gpa, gpa + size) of guest memory, or NULL. */
void *kvm_gpa(const struct hv_vm *vm, uint64_t gpa, uint64_t size);

/* kvm.c: create the vCPU of vm->vm_fd in its boot mode. */
int kvm_setup_vcpu(struct hv_vm *vm, struct kx_error *err);

/* run.c */
int kvm_run(struct hv_vm *vm, struct hv_exit *exit, struct kx_error *err);
uint64_t kvm_hcall_rip(struct hv_vm *vm);

/* mem.c: the memslots (one writable slot for guest memory, split around
 * the ranges map_fd backs with a file and the ranges unmap takes away). */
int kvm_slot_set(struct hv_vm *vm, const struct kvm_userspace_memory_region *r,
		 struct kx_error *err);
int kvm_protect(struct hv_vm *vm, uint64_t gpa, uint64_t size, unsigned prot,
		struct kx_error *err);
int kvm_map_fd(struct hv_vm *vm, uint64_t gpa, int fd, uint64_t offset, uint64_t size,
	       unsigned prot, struct kx_error *err);
int kvm_unmap(struct hv_vm *vm, uint64_t gpa, uint64_t size, struct kx_error *err);
int kvm_flush(struct hv_vm *vm, struct kx_error *err);

/* fork.c */
int kvm_fork_prepare(struct hv_vm *vm, struct kx_error *err);
int kvm_fork_child(struct hv_vm *vm, struct kx_error *err);

#endif /* KX_HV_KVM_KVM_H */
