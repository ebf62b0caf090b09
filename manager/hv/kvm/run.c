/*
 * run.c — the KVM backend's run loop: KVM_RUN, and every way a guest stops
 * turned into an exit for the core: a hypercall (an `out` to
 * KX_HCALL_PORT), a kick or a pause, or an end — a CPU exception reported
 * by the fault stubs, stray port I/O, a triple fault, an MMIO access, a KVM
 * error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "manager/hv/kvm/paging.h"

static uint8_t guest_byte(const struct hv_vm *vm, uint64_t gpa)
{
	const uint8_t *p = kvm_gpa(vm, gpa, 1);

	return p ? *p : 0;
}

/*
 * KVM reports port I/O with RIP already past the instruction.  Find its
 * start for the report: `in/out imm8` (e4..e7 port) or `in/out dx` (ec..ef).
 */
static uint64_t io_insn_rip(const struct hv_vm *vm, uint64_t rip, uint32_t port)
{
	uint8_t op2 = guest_byte(vm, rip - 2), op1 = guest_byte(vm, rip - 1);

	if (rip >= 2 && op2 >= 0xe4 && op2 <= 0xe7 && op1 == port)
		return rip - 2;
	if (rip >= 1 && op1 >= 0xec && op1 <= 0xef)
		return rip - 1;
	return rip;
}

static void current_rip(struct hv_vm *vm, struct hv_end *end)
{
	struct kvm_regs regs;
	struct kx_error ignored;

	end->rip = VCPU_IOCTL(vm, KVM_GET_REGS, &regs, &ignored) == 0 ? regs.rip : 0;
}

/* The fault stubs ran: the exception frame is on a monitor stack. */
static int end_fault(struct hv_vm *vm, const struct kvm_regs *regs, struct hv_end *end,
		     struct kx_error *err)
{
	const uint64_t *frame;
	struct kvm_sregs sregs;
	int rc;

	rc = VCPU_IOCTL(vm, KVM_GET_SREGS, &sregs, err);
	if (rc != 0)
		return rc;
	frame = kvm_gpa(vm, regs->rsp, FAULT_FRAME_WORDS * 8);
	if (frame == NULL || regs->rsp < LAYOUT_EXC_STACK ||
	    regs->rsp + FAULT_FRAME_WORDS * 8 > LAYOUT_DF_STACK + KX_PAGE_SIZE) {
		end->reason = HV_END_INTERNAL;
		end->detail = "fault stub ran on a bad stack";
		end->rip = regs->rip;
		return 0;
	}
	end->reason = HV_END_FAULT;
	end->vector = (uint32_t)frame[0];
	end->error_code = frame[1];
	end->rip = frame[2];
	if (end->vector == 14)
		end->fault_addr = sregs.cr2;
	return 0;
}

/* 1: an exit for the core (filled); 0: resume; -errno: the host failed. */
static int handle_io(struct hv_vm *vm, struct hv_exit *exit, struct kx_error *err)
{
	const struct kvm_run *run = vm->run;
	struct hv_end *end = &exit->end;
	uint32_t value = 0;
	struct kvm_regs regs;
	int rc;

	if (run->io.port == KX_HCALL_PORT && run->io.direction == KVM_EXIT_IO_OUT &&
	    run->io.size == 4 && run->io.count == 1 &&
	    run->io.data_offset <= vm->run_size - sizeof(value)) {
		memcpy(&value, (const uint8_t *)run + run->io.data_offset, sizeof(value));
		exit->kind = HV_EXIT_HCALL;
		exit->block = value;
		return 1; /* no register read on the hot path: kvm_hcall_rip if needed */
	}
	rc = VCPU_IOCTL(vm, KVM_GET_REGS, &regs, err);
	if (rc != 0)
		return rc;
	exit->kind = HV_EXIT_END;
	/* Only the ring-0 stubs can execute there: CPL3 has no access to the page. */
	if (run->io.port == KX_FAULT_PORT && regs.rip > LAYOUT_STUBS &&
	    regs.rip <= LAYOUT_STUBS + IDT_VECTORS * STUB_SIZE) {
		rc = end_fault(vm, &regs, end, err);
		return rc != 0 ? rc : 1;
	}
	end->reason = HV_END_BAD_IO;
	end->io_port = run->io.port;
	end->detail = run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in";
	end->io_size = run->io.size;
	end->rip = io_insn_rip(vm, regs.rip, run->io.port);
	return 1;
}

/* 1: an exit for the core; -errno: the host failed. */
static int handle_exit(struct hv_vm *vm, struct hv_exit *exit, struct kx_error *err)
{
	const struct kvm_run *run = vm->run;
	struct hv_end *end = &exit->end;

	if (run->exit_reason == KVM_EXIT_IO)
		return handle_io(vm, exit, err);
	exit->kind = HV_EXIT_END;
	switch (run->exit_reason) {
	case KVM_EXIT_SHUTDOWN:
		end->reason = HV_END_TRIPLE_FAULT;
		break;
	case KVM_EXIT_MMIO:
		end->reason = HV_END_MMIO;
		end->fault_addr = run->mmio.phys_addr;
		break;
	case KVM_EXIT_FAIL_ENTRY:
		end->reason = HV_END_INTERNAL;
		end->detail = "VM entry failed";
		end->hw_reason = run->fail_entry.hardware_entry_failure_reason;
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		end->reason = HV_END_INTERNAL;
		end->detail = "KVM internal error";
		end->hw_reason = run->internal.suberror;
		break;
	default:
		end->reason = HV_END_INTERNAL;
		end->detail = "unexpected KVM exit";
		end->hw_reason = run->exit_reason;
		break;
	}
	current_rip(vm, end);
	return 1;
}

int kvm_run(struct hv_vm *vm, struct hv_exit *exit, struct kx_error *err)
{
	int rc;

	memset(exit, 0, sizeof(*exit));
	for (;;) {
		if (vm->pause_requested) {
			exit->kind = HV_EXIT_PAUSED;
			current_rip(vm, &exit->end);
			return 0;
		}
		if (vm->kick_requested) {
			/* A safe point outside a hypercall: the vCPU left KVM_RUN. */
			vm->kick_requested = 0;
			if (!vm->pause_requested)
				vm->run->immediate_exit = 0;
			exit->kind = HV_EXIT_KICK;
			return 0;
		}
		vm->ran = true;
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0) != 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return kx_err(err, -errno, "KVM_RUN: %s", strerror(errno));
		}
		rc = handle_exit(vm, exit, err);
		return rc < 0 ? rc : 0;
	}
}

uint64_t kvm_hcall_rip(struct hv_vm *vm)
{
	struct hv_end end;

	current_rip(vm, &end);
	return io_insn_rip(vm, end.rip, KX_HCALL_PORT);
}
