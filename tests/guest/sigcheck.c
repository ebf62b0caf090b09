/*
 * sigcheck — does the monitor refuse to enter a signal handler while the
 * vCPU is not at CPL3?  (run by tests/cli/kvm_signal.bats)
 *
 * A kick (KVM_RUN interrupted) can stop the vCPU inside a ring-0 fault
 * stub (manager/hv/kvm/paging.c), and every kick is a safe point where the
 * core delivers signals.  This runs hello.kxe in-process with a hook whose
 * first safe point (the guest's first hypercall) puts the vCPU's code
 * segment at CPL0, as such a kick finds it, and asks the core to enter a
 * handler: it must refuse (-EBUSY: the signal stays pending) and leave RIP
 * alone.  Back at CPL3 the same call must enter the trampoline, and
 * KX_HC_SIGRETURN's restore must bring back the interrupted state, so the
 * guest then finishes normally.  Exit 0 when all that held, 1
 * otherwise, 2 when the test could not run.
 * usage: kvm_sigcheck GUEST_DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "manager/hv/kvm/paging.h" /* white box: the vCPU fd, SEL_KERNEL_CODE */
#include "tests/guest/hvdrive.h"

#define TRAMPOLINE 0x7000u /* never run: the handler is left at once */

static int verdict = 2, safe_points;

static void try_signals(struct hv_pvm *p, void *ctx)
{
	struct hv_vm *vm = hv_test_vm(p);
	struct kvm_sregs user, ring0;
	struct kvm_regs before, now;
	struct kx_error err;
	int busy, moved, entered, restored;

	(void)ctx;
	if (safe_points++ != 0)
		return;
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &user) != 0 ||
	    ioctl(vm->vcpu_fd, KVM_GET_REGS, &before) != 0) {
		perror("sigcheck: KVM_GET_SREGS / KVM_GET_REGS");
		return;
	}
	ring0 = user;
	ring0.cs.selector = SEL_KERNEL_CODE;
	ring0.cs.dpl = 0;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &ring0) != 0) {
		perror("sigcheck: KVM_SET_SREGS");
		return;
	}
	busy = hv_test_signal_enter(p, KX_SIGUSR1, TRAMPOLINE, TRAMPOLINE, &err);
	moved = ioctl(vm->vcpu_fd, KVM_GET_REGS, &now) != 0 || now.rip != before.rip;
	printf("at CPL0: %s, rip %s\n", busy == -EBUSY ? "refused" : "ENTERED",
	       moved ? "MOVED" : "kept");
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &user) != 0) {
		perror("sigcheck: KVM_SET_SREGS");
		verdict = 1;
		return;
	}
	entered = hv_test_signal_enter(p, KX_SIGUSR1, TRAMPOLINE, TRAMPOLINE, &err) == 0 &&
		  ioctl(vm->vcpu_fd, KVM_GET_REGS, &now) == 0 && now.rip == TRAMPOLINE &&
		  now.rdi == KX_SIGUSR1;
	printf("at CPL3: %s\n", entered ? "entered" : "NOT ENTERED");
	restored = hv_test_sigreturn(p) == 0 && ioctl(vm->vcpu_fd, KVM_GET_REGS, &now) == 0 &&
		   memcmp(&now, &before, sizeof(now)) == 0;
	printf("sigreturn: %s\n", restored ? "restored" : "NOT RESTORED");
	verdict = busy == -EBUSY && !moved && entered && restored ? 0 : 1;
}

int main(int argc, char **argv)
{
	char path[4096], what[sizeof(((struct kx_error *)0)->msg)];
	struct hv_end end;
	uint8_t *buf = NULL;
	size_t len = 0;
	int status = 2;

	if (hvdrive_read(argc, argv, "sigcheck", "hello.kxe", path, sizeof(path), &buf, &len) ==
		    0 &&
	    hvdrive_run("sigcheck", path, buf, len, try_signals, &end) == 0) {
		fflush(stdout);
		hv_end_describe(&end, what, sizeof(what));
		printf("sigcheck: %s\n", what);
		status = verdict == 0 && end.reason == HV_END_EXIT && end.exit_status == 0 ? 0 : 1;
	}
	free(buf);
	return status;
}
