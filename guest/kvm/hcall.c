/*
 * kvm/hcall.c — the KVM platform (guest/platform.h): every call is a block
 * whose address goes to KX_HCALL_PORT with one `outl`; the monitor has
 * completed it when the instruction retires (guest/kx_hcall_abi.h).  The
 * console, the exit, the clocks and a panic are such calls too.
 */
#include "guest/kxrt.h"
#include "guest/platform.h"

int64_t kx_hcall(struct kx_hc_hdr *hdr, uint32_t nr)
{
	hdr->abi_version = KX_HCALL_ABI_VERSION;
	hdr->nr = nr;
	hdr->ret = 0;
	/* Identity-mapped and below 4 GiB: the address fits in 32 bits. */
	__asm__ volatile("outl %0, %1"
			 :
			 : "a"((uint32_t)(uintptr_t)hdr), "Nd"((uint16_t)KX_HCALL_PORT)
			 : "memory");
	return hdr->ret;
}

long kx_console_write(const void *buf, size_t len)
{
	const char *p = buf;
	long done = 0;

	while (len > 0) {
		size_t chunk = len < KX_HC_CONSOLE_MAX ? len : KX_HC_CONSOLE_MAX;
		struct kx_hc_console_write c = {.buf = (uint64_t)(uintptr_t)p, .len = chunk};
		int64_t n = kx_hcall(&c.hdr, KX_HC_CONSOLE_WRITE);

		if (n < 0)
			return done > 0 ? done : (long)n;
		done += n;
		p += chunk;
		len -= chunk;
	}
	return done;
}

void kx_exit(int status)
{
	struct kx_hc_exit e = {.status = status};

	kx_hcall(&e.hdr, KX_HC_EXIT);
	for (;;)
		__builtin_trap(); /* the monitor never resumes an exited pVM */
}

static struct kx_hc_clock read_clock(void)
{
	struct kx_hc_clock c = {0};

	kx_hcall(&c.hdr, KX_HC_CLOCK);
	return c;
}

uint64_t kx_clock_monotonic_ns(void)
{
	return read_clock().monotonic_ns;
}

uint64_t kx_clock_realtime_ns(void)
{
	return read_clock().realtime_ns;
}

void kx_plat_panic(const char *msg, size_t len)
{
	struct kx_hc_panic p = {.msg = (uint64_t)(uintptr_t)msg, .len = len};

	kx_hcall(&p.hdr, KX_HC_PANIC);
	for (;;)
		__builtin_trap();
}

/* The numbers the trampoline below spells out. */
_Static_assert(KX_HCALL_ABI_VERSION == 1u && KX_HC_SIGRETURN == 22 && KX_HCALL_PORT == 0x10u,
	       "kx_sig_trampoline's constants");

/* Entered by the monitor with %rsp 16-byte aligned: call the handler, then
 * KX_HC_SIGRETURN with the block on this stack; the monitor restores the
 * interrupted state it kept, so the call does not return here. */
__asm__(".text\n"
	".globl kx_sig_trampoline\n"
	".type kx_sig_trampoline, @function\n"
	"kx_sig_trampoline:\n"
	"	call *%rsi\n"
	/* struct kx_hc_sigreturn on the stack: abi_version, nr, ret */
	"	subq $16, %rsp\n"
	"	movl $1, (%rsp)\n"
	"	movl $22, 4(%rsp)\n"
	"	movq $0, 8(%rsp)\n"
	"	movl %esp, %eax\n"
	"	outl %eax, $0x10\n"
	"	ud2\n"
	".size kx_sig_trampoline, . - kx_sig_trampoline\n");
