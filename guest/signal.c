/*
 * signal.c — signals in the guest (docs/signals.md): kx_kill, kx_signal
 * with the handler trampoline, kx_pause, kx_waitx.
 *
 * The monitor enters kx_sig_trampoline (the platform's: guest/kvm/hcall.c)
 * with %rdi = the signal, %rsi = the handler and %rsp 16-byte aligned below
 * the interrupted stack.  The trampoline calls the handler and asks for
 * KX_HC_SIGRETURN; the interrupted state was kept by the monitor, so
 * nothing is restored from this stack and the hypercall does not return
 * here.
 */
#include "guest/kxrt.h"
#include "guest/runtime.h"

long kx_kill(uint64_t pvm_id, int sig)
{
	struct kx_hc_kill k = {.pvm_id = pvm_id, .sig = (uint64_t)(int64_t)sig};

	return (long)kx_hcall(&k.hdr, KX_HC_KILL);
}

long kx_signal(int sig, kx_sighandler_t handler)
{
	struct kx_hc_sigaction a = {
		.sig = (uint64_t)(int64_t)sig,
		.handler = (uint64_t)(uintptr_t)handler,
		.trampoline = (uint64_t)(uintptr_t)kx_sig_trampoline,
	};

	return (long)kx_hcall(&a.hdr, KX_HC_SIGACTION);
}

long kx_pause(void)
{
	struct kx_hc_pause p = {0};

	return (long)kx_hcall(&p.hdr, KX_HC_PAUSE);
}

long kx_waitx(uint64_t child_id, unsigned flags, uint64_t timeout_ns, int *status)
{
	struct kx_hc_waitx w = {.child_id = child_id, .flags = flags, .timeout_ns = timeout_ns};
	int64_t ret = kx_hcall(&w.hdr, KX_HC_WAITX);

	if (ret > 0 && status != NULL)
		*status = (int)w.status;
	return (long)ret;
}
