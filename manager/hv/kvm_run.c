/*
 * kvm_run.c — the KVM backend's run loop: KVM_RUN, and every way a guest
 * stops (a hypercall, a CPU exception reported by the fault stubs, stray
 * port I/O, a triple fault, an MMIO access, a KVM error) turned into
 * struct hv_end.  Split from kvm.c, which builds the VM; the state (kvm.h)
 * is shared by kvm*.c only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "manager/hv/kvm.h"

/* ---- exits ----------------------------------------------------------------- */

static const char *classify_addr(const struct hv_vm *vm, uint64_t addr)
{
	unsigned prot;

	if (addr < KX_PAGE_SIZE)
		return "NULL page";
	if (addr < LAYOUT_MONITOR_END)
		return "monitor region";
	if (addr >= vm->mem.size)
		return "outside guest memory";
	if (vm->loaded && addr >= vm->stack_base - LAYOUT_STACK_GUARD && addr < vm->stack_base)
		return "stack guard page";
	prot = vm->mem.page_prot[addr / KX_PAGE_SIZE];
	if (prot == 0)
		return "unmapped page";
	if (prot & HV_PROT_EXEC)
		return "text page: read, execute";
	if (prot & HV_PROT_WRITE)
		return "data page: read, write, no execute";
	return "read-only page";
}

static uint8_t guest_byte(const struct hv_vm *vm, uint64_t gpa)
{
	const uint8_t *p = hv_guest_ptr(&vm->mem, gpa, 1, HV_ACCESS_MONITOR);

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
	struct hv_error ignored;

	end->rip = VCPU_IOCTL(vm, KVM_GET_REGS, &regs, &ignored) == 0 ? regs.rip : 0;
}

/* The fault stubs ran: the exception frame is on a monitor stack. */
static int end_fault(struct hv_vm *vm, const struct kvm_regs *regs, struct hv_end *end,
		     struct hv_error *err)
{
	const uint64_t *frame;
	struct kvm_sregs sregs;
	int rc;

	rc = VCPU_IOCTL(vm, KVM_GET_SREGS, &sregs, err);
	if (rc != 0)
		return rc;
	frame = hv_guest_ptr(&vm->mem, regs->rsp, FAULT_FRAME_WORDS * 8, HV_ACCESS_MONITOR);
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
	if (end->vector == 14) {
		end->fault_addr = sregs.cr2;
		end->where = classify_addr(vm, sregs.cr2);
	}
	return 0;
}

static int handle_hcall(struct hv_vm *vm, uint32_t value, struct hv_end *end);

static int handle_io(struct hv_vm *vm, struct hv_end *end, struct hv_error *err)
{
	const struct kvm_run *run = vm->run;
	uint32_t value = 0;
	struct kvm_regs regs;
	int rc;

	if (run->io.port == KX_HCALL_PORT && run->io.direction == KVM_EXIT_IO_OUT &&
	    run->io.size == 4 && run->io.count == 1 &&
	    run->io.data_offset <= vm->run_size - sizeof(value)) {
		memcpy(&value, (const uint8_t *)run + run->io.data_offset, sizeof(value));
		return handle_hcall(vm, value, end);
	}
	rc = VCPU_IOCTL(vm, KVM_GET_REGS, &regs, err);
	if (rc != 0)
		return rc;
	/* Only the ring-0 stubs can execute there: CPL3 has no access to the page. */
	if (run->io.port == KX_FAULT_PORT && regs.rip > LAYOUT_STUBS &&
	    regs.rip <= LAYOUT_STUBS + IDT_VECTORS * STUB_SIZE)
		return end_fault(vm, &regs, end, err);
	end->reason = HV_END_BAD_IO;
	end->io_port = run->io.port;
	end->detail = run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in";
	end->io_size = run->io.size;
	end->rip = io_insn_rip(vm, regs.rip, run->io.port);
	return 0;
}

static ssize_t console_write(void *opaque, const void *buf, size_t len)
{
	const struct hv_vm *vm = opaque;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(vm->console_fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static uint64_t clock_ns(int clock_id)
{
	struct timespec ts;

	if (clock_gettime((clockid_t)clock_id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* 1: resume the guest; 0: the pVM ended (end filled). */
static int handle_hcall(struct hv_vm *vm, uint32_t value, struct hv_end *end)
{
	const struct hv_hcall_env env = {
		.mem = &vm->mem,
		.link = vm->linker ? &linker_hooks : NULL,
		.link_opaque = vm->linker,
		.proc = vm->proc_src ? &kvm_proc_hooks : NULL,
		.proc_opaque = vm,
		.ipc = vm->ipc_src ? &kvm_ipc_hooks : NULL,
		.ipc_opaque = vm,
		.sig = vm->sig_src ? vm->sig_src->hooks : NULL,
		.sig_opaque = vm->sig_src ? vm->sig_src->ctx : NULL,
		.interrupted = vm->sig_src ? vm->sig_src->interrupted : NULL,
		.interrupted_opaque = vm->sig_src ? vm->sig_src->ctx : NULL,
		.sigreturn = kvm_sigreturn, .sigreturn_opaque = vm,
		.recycle = vm->recycle_src && vm->linker ? &kvm_recycle_hooks : NULL,
		.recycle_opaque = vm,
		.console_write = console_write,
		.console_opaque = vm,
		.clock_ns = clock_ns,
	};
	struct hv_hcall_result res;

	hv_hcall_dispatch(&env, value, &res);
	switch (res.outcome) {
	case HV_HC_RESUME:
		/* A safe point: the guest is between two instructions. */
		if (vm->link_src != NULL && vm->link_src->safe_point != NULL)
			vm->link_src->safe_point(vm->link_src->ctx, vm);
		return 1;
	case HV_HC_EXIT:
		end->reason = HV_END_EXIT;
		end->exit_status = res.exit_status;
		break;
	case HV_HC_PANIC:
		end->reason = HV_END_PANIC;
		memcpy(end->message, res.message, sizeof(end->message));
		break;
	case HV_HC_BAD:
		end->reason = HV_END_BAD_HCALL;
		end->hcall_nr = res.nr;
		end->detail = res.reason;
		break;
	}
	current_rip(vm, end);
	end->rip = io_insn_rip(vm, end->rip, KX_HCALL_PORT);
	return 0;
}

/* 1: resume the guest; 0: the pVM ended; -errno: the host failed. */
static int handle_exit(struct hv_vm *vm, struct hv_end *end, struct hv_error *err)
{
	const struct kvm_run *run = vm->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(vm, end, err);
	case KVM_EXIT_SHUTDOWN:
		end->reason = HV_END_TRIPLE_FAULT;
		break;
	case KVM_EXIT_MMIO:
		end->reason = HV_END_MMIO;
		end->fault_addr = run->mmio.phys_addr;
		end->where = classify_addr(vm, run->mmio.phys_addr);
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
	return 0;
}

int kvm_run_vm(struct hv_vm *vm, struct hv_end *end, struct hv_error *err)
{
	memset(end, 0, sizeof(*end));
	if (!vm->loaded)
		return kvm_seterr(err, -EINVAL, "no image loaded");
	for (;;) {
		int rc;

		if (vm->pause_requested) {
			end->reason = HV_END_PAUSED;
			current_rip(vm, end);
			return 0;
		}
		vm->ran = true;
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0) != 0) {
			if (errno == EINTR || errno == EAGAIN) {
				if (vm->kick_requested)
					kvm_kicked(vm);
				continue;
			}
			return kvm_seterr(err, -errno, "KVM_RUN: %s", strerror(errno));
		}
		rc = handle_exit(vm, end, err);
		if (rc <= 0)
			return rc;
	}
}
