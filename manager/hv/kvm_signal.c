/*
 * kvm_signal.c — entering a guest's signal handler and leaving it
 * (KX_HC_SIGRETURN) on KVM (docs/signals.md).
 *
 * The interrupted state — every general register, RIP, RFLAGS and the
 * FPU/SSE state — stays in the monitor (hv_vm.sig_frame) while the handler
 * runs; KX_HC_SIGRETURN restores exactly that.  Nothing is read back from
 * guest memory, so a handler cannot forge a frame (its own RFLAGS, another
 * RIP): the worst it can do is run on, which it could anyway.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "manager/hv/kvm.h"

/* Below the interrupted stack: skip a red zone (the runtime is built
 * without one, but an app need not be) and keep the ABI's 16-byte
 * alignment at the trampoline's entry, which then `call`s the handler. */
#define SIG_RED_ZONE 128u

int kvm_signal_enter(struct hv_vm *vm, uint32_t sig, uint64_t handler, uint64_t trampoline,
		     struct hv_error *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int rc;

	if (vm->sig_frame.active)
		return kvm_seterr(err, -EBUSY, "a signal handler is running");
	/* A kick can stop the vCPU inside a ring-0 fault stub (layout.c), on
	 * its way to report a fault: entering the handler there would run
	 * guest code at CPL0 on the monitor's stack.  Only where the guest
	 * itself runs (CPL3); elsewhere the signal stays pending. */
	rc = VCPU_IOCTL(vm, KVM_GET_SREGS, &sregs, err);
	if (rc != 0)
		return rc;
	if ((sregs.cs.selector & 3) != 3 || sregs.cs.dpl != 3)
		return kvm_seterr(err, -EBUSY, "the vCPU is not at CPL3");
	rc = VCPU_IOCTL(vm, KVM_GET_REGS, &vm->sig_frame.regs, err);
	if (rc == 0)
		rc = VCPU_IOCTL(vm, KVM_GET_FPU, &vm->sig_frame.fpu, err);
	if (rc != 0)
		return rc;
	regs = vm->sig_frame.regs;
	regs.rip = trampoline;
	regs.rdi = sig;
	regs.rsi = handler;
	regs.rsp = (regs.rsp - SIG_RED_ZONE) & ~15ull;
	rc = VCPU_IOCTL(vm, KVM_SET_REGS, &regs, err);
	if (rc == 0)
		vm->sig_frame.active = true;
	return rc;
}

int kvm_sigreturn(void *opaque)
{
	struct hv_vm *vm = opaque;
	struct hv_error err;

	if (!vm->sig_frame.active)
		return -EINVAL;
	vm->sig_frame.active = false;
	if (VCPU_IOCTL(vm, KVM_SET_FPU, &vm->sig_frame.fpu, &err) != 0 ||
	    VCPU_IOCTL(vm, KVM_SET_REGS, &vm->sig_frame.regs, &err) != 0)
		return -EIO;
	return 0;
}
