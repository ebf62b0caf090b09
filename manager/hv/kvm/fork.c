/*
 * fork.c — a forked monitor's VM on KVM.
 *
 * The core forks the monitor process; guest memory is a MAP_PRIVATE
 * mapping, so parent and child then hold copy-on-write views of it, and
 * ranges mapped from fds stay shared.  The VM and vCPU fds cannot be used
 * from the child (KVM answers EIO: they belong to the parent's mm), so the
 * child builds a new VM over the inherited mapping with the same memslots,
 * a new vCPU, and the vCPU state the parent had at fork_prepare — captured
 * before the fork, while the vCPU fd still worked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "manager/hv/kvm/kvm.h"

int kvm_fork_prepare(struct hv_vm *vm, struct kx_error *err)
{
	int rc = VCPU_IOCTL(vm, KVM_GET_REGS, &vm->fork.regs, err);

	if (rc == 0)
		rc = VCPU_IOCTL(vm, KVM_GET_SREGS, &vm->fork.sregs, err);
	if (rc == 0)
		rc = VCPU_IOCTL(vm, KVM_GET_FPU, &vm->fork.fpu, err);
	return rc;
}

int kvm_fork_child(struct hv_vm *vm, struct kx_error *err)
{
	int rc;

	if (vm->run != NULL)
		munmap(vm->run, vm->run_size);
	vm->run = NULL;
	close(vm->vcpu_fd);
	close(vm->vm_fd);
	vm->vcpu_fd = -1;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return kx_err(err, -errno, "KVM_CREATE_VM: %s", strerror(errno));
	for (unsigned i = 0; i < vm->nslots; i++) {
		if (vm->slots[i].memory_size == 0)
			continue;
		rc = kvm_slot_set(vm, &vm->slots[i], err);
		if (rc != 0)
			return rc;
	}
	rc = kvm_setup_vcpu(vm, err);
	if (rc == 0)
		rc = VCPU_IOCTL(vm, KVM_SET_SREGS, &vm->fork.sregs, err);
	if (rc == 0)
		rc = VCPU_IOCTL(vm, KVM_SET_FPU, &vm->fork.fpu, err);
	if (rc == 0)
		rc = VCPU_IOCTL(vm, KVM_SET_REGS, &vm->fork.regs, err);
	vm->pause_requested = vm->kick_requested = 0;
	return rc;
}
