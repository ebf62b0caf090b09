/*
 * kvm_update.c — the KVM side of an online update (update.c): the vCPU's
 * registers (and, while a signal handler runs, the state it interrupted)
 * and the stack bounds for the quiescence walk.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/ioctl.h>

#include "manager/hv/kvm.h"
#include "manager/hv/update.h"

#define SHARE_SLOTS 3 /* below, the shared text, above */

int kvm_update(struct hv_vm *vm, const struct hv_update_req *req, struct hv_update_result *res,
	       struct hv_error *err)
{
	struct kvm_regs regs;
	struct update_cpu cpu;
	unsigned free_slots = 0;
	int rc;

	if (vm->linker == NULL)
		return kvm_seterr(err, -EPERM,
				  "this pVM has no linker (started without a channel)");
	/* Sharing the new text splits a memslot in three: refuse now rather
	 * than fail half way through that split. */
	for (unsigned i = 0; i < MAX_SLOTS; i++)
		free_slots += vm->slots[i].memory_size == 0;
	if (free_slots < SHARE_SLOTS)
		return kvm_seterr(err, -ENOSPC, "update: out of memslots (%u left)", free_slots);
	rc = VCPU_IOCTL(vm, KVM_GET_REGS, &regs, err);
	if (rc != 0)
		return rc;
	cpu = (struct update_cpu){
		.rip = regs.rip,
		.rsp = regs.rsp,
		.rbp = regs.rbp,
		.stack_lo = vm->stack_base,
		.stack_hi = vm->stack_base + vm->stack_size,
	};
	if (vm->sig_frame.active) { /* resumed by KX_HC_SIGRETURN: it must stay valid */
		cpu.in_handler = true;
		cpu.int_rip = vm->sig_frame.regs.rip;
		cpu.int_rbp = vm->sig_frame.regs.rbp;
	}
	return linker_update(vm->linker, &cpu, req, res, err);
}
