/*
 * kvm_fork.c — KX_HC_FORK and KX_HC_WAIT on KVM.
 *
 * A fork is a fork() of the monitor process (the proc source does it,
 * after the manager allowed it).  Guest memory is a MAP_PRIVATE mapping, so
 * the two processes then hold copy-on-write views of it; library text
 * stays in its shared read-only memfd mappings.  The VM and vCPU fds
 * cannot be used from the child (KVM answers EIO: they belong to the
 * parent's mm), so the child builds a new VM over the inherited mapping
 * with the same memslots, a new vCPU, and the vCPU state the parent had at
 * the hypercall — captured before the fork, when the vCPU fd still works.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "manager/hv/kvm.h"

struct vcpu_snapshot {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
};

static int snapshot(struct hv_vm *vm, struct vcpu_snapshot *s, struct hv_error *err)
{
	int rc = VCPU_IOCTL(vm, KVM_GET_REGS, &s->regs, err);

	if (rc == 0)
		rc = VCPU_IOCTL(vm, KVM_GET_SREGS, &s->sregs, err);
	if (rc == 0)
		rc = VCPU_IOCTL(vm, KVM_GET_FPU, &s->fpu, err);
	return rc;
}

/* In the child process: a new VM + vCPU over the inherited memory. */
static int rebuild(struct hv_vm *vm, struct vcpu_snapshot *s, struct hv_error *err)
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
		return kvm_seterr(err, -errno, "KVM_CREATE_VM: %s", strerror(errno));
	for (unsigned i = 0; i < vm->nslots; i++) {
		if (vm->slots[i].memory_size == 0)
			continue;
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &vm->slots[i]) != 0)
			return kvm_seterr(err, -errno, "KVM_SET_USER_MEMORY_REGION: %s",
					  strerror(errno));
	}
	rc = kvm_setup_vcpu(vm, err);
	if (rc == 0)
		rc = VCPU_IOCTL(vm, KVM_SET_SREGS, &s->sregs, err);
	if (rc == 0)
		rc = VCPU_IOCTL(vm, KVM_SET_FPU, &s->fpu, err);
	if (rc == 0)
		rc = VCPU_IOCTL(vm, KVM_SET_REGS, &s->regs, err);
	return rc;
}

static int proc_fork(void *opaque, uint64_t *child_id)
{
	struct hv_vm *vm = opaque;
	struct vcpu_snapshot s;
	char why[256];
	sigset_t kicks, before;
	int rc;

	rc = snapshot(vm, &s, &vm->fork_err);
	if (rc != 0)
		return -EIO;
	rc = vm->proc_src->fork(vm->proc_src->ctx, child_id, why, sizeof(why));
	if (rc != 0 || *child_id != 0)
		return rc;
	/* The child: until rebuilt, it has no vCPU at all, and no kvm_run for
	 * a kick (SIGIO: a signal may already wait on its new channel) or the
	 * timeout (SIGALRM) to write to: both wait until it has. */
	sigemptyset(&kicks);
	sigaddset(&kicks, SIGIO);
	sigaddset(&kicks, SIGALRM);
	sigprocmask(SIG_BLOCK, &kicks, &before);
	rc = rebuild(vm, &s, &vm->fork_err);
	sigprocmask(SIG_SETMASK, &before, NULL);
	return rc != 0 ? -EIO : 0;
}

static int proc_wait(void *opaque, uint64_t child_id, int64_t *status)
{
	struct hv_vm *vm = opaque;

	return vm->proc_src->wait(vm->proc_src->ctx, child_id, status);
}

const struct hv_proc_hooks kvm_proc_hooks = {
	.fork = proc_fork,
	.wait = proc_wait,
};
