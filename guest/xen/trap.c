/*
 * trap.c — CPU faults in a Xen PV pVM.  Xen bounces an exception to the
 * handler our trap table names (entry.S's stubs bring every frame to one
 * shape); the handler reports it on the console in the words kxmon uses on
 * KVM, "guest fault #PF page fault (vector 14, error 0x4: ...) at RIP 0x...:
 * address 0x...", and ends the domain with SHUTDOWN_crash.
 *
 * What only Xen can report: a fault Xen cannot deliver — the stack pointer
 * in the guard page or unmapped, so no frame can be pushed — crashes the
 * domain directly ("domain_crash" in Xen's log; xl shows it crashed), and
 * that report comes from outside the guest, as on KVM.  A kx monitor will
 * read the vCPU state of a crashed domain itself (docs/xen-backend.md).
 */
#include "guest/xen/xen_public.h"
#include <xen/sched.h>

#include "guest/kxrt.h"
#include "guest/platform.h"
#include "guest/runtime.h"
#include "guest/xen/hypercall.h"
#include "guest/xen/pv.h"

/* What entry.S's stubs leave on the stack. */
struct trap_frame {
	uint64_t error_code; /* 0 for vectors without one */
	uint64_t rip, cs, rflags, rsp, ss;
};

KX_NORETURN void kx_xen_trap(const struct trap_frame *f, unsigned vector);

/* entry.S */
extern char kx_xen_trap_0[], kx_xen_trap_1[], kx_xen_trap_3[], kx_xen_trap_4[], kx_xen_trap_5[],
	kx_xen_trap_6[], kx_xen_trap_7[], kx_xen_trap_8[], kx_xen_trap_10[], kx_xen_trap_11[],
	kx_xen_trap_12[], kx_xen_trap_13[], kx_xen_trap_14[], kx_xen_trap_16[], kx_xen_trap_17[],
	kx_xen_trap_18[], kx_xen_trap_19[];

/* DPL 0: `int n` from the guest is a #GP, not an entry here; flag 4: Xen
 * masks events on entry (they are masked anyway). */
#define TRAP(v)                                                                                    \
	{                                                                                          \
		(v), 0 | 4, FLAT_KERNEL_CS, (unsigned long)kx_xen_trap_##v                         \
	}

static const struct trap_info traps[] = {
	TRAP(0),  TRAP(1),  TRAP(3),  TRAP(4),	TRAP(5),  TRAP(6),
	TRAP(7),  TRAP(8),  TRAP(10), TRAP(11), TRAP(12), TRAP(13),
	TRAP(14), TRAP(16), TRAP(17), TRAP(18), TRAP(19), {0, 0, 0, 0},
};

int kx_xen_traps_init(void)
{
	return xen_set_trap_table(traps) == 0 ? 0 : -KX_EIO;
}

static const char *const names[20] = {
	[0] = "#DE divide error",	  [1] = "#DB debug",
	[3] = "#BP breakpoint",		  [4] = "#OF overflow",
	[5] = "#BR bound range",	  [6] = "#UD invalid opcode",
	[7] = "#NM device not available", [8] = "#DF double fault",
	[10] = "#TS invalid TSS",	  [11] = "#NP segment not present",
	[12] = "#SS stack fault",	  [13] = "#GP general protection",
	[14] = "#PF page fault",	  [16] = "#MF x87 error",
	[17] = "#AC alignment check",	  [18] = "#MC machine check",
	[19] = "#XM SIMD error",
};

/* Xen gives a PV kernel the error code with the user bit as the guest's
 * mode saw it (kernel: clear), so the words follow the bits, nothing more. */
static int pf_words(char *buf, size_t size, uint64_t ec)
{
	return kx_xen_fmt(buf, size, ": %s %s, %s", ec & 4 ? "user" : "kernel",
			  ec & 16  ? "instruction fetch"
			  : ec & 2 ? "write"
				   : "read",
			  ec & 1 ? "protection violation" : "page not present");
}

extern char kx_text_end[], kx_rodata_end[]; /* xen.ld */

/* What lies at addr, in the words kxmon uses for the same pages. */
static const char *where(uint64_t addr)
{
	const struct kx_xen_layout *l = &kx_xen.layout;

	if (addr < KX_XEN_PAGE)
		return "NULL page";
	if (addr < KX_XEN_VIRT_BASE)
		return "below guest memory";
	if (addr >= l->mem_end)
		return "outside guest memory";
	if (addr >= l->guard && addr < l->guard + KX_XEN_PAGE)
		return "stack guard page";
	if (addr < (uint64_t)(uintptr_t)kx_text_end)
		return "text page: read, execute";
	if (addr < (uint64_t)(uintptr_t)kx_rodata_end)
		return "read-only page";
	if (addr >= l->pt_pool && addr < l->pt_pool_end)
		return "page-table pool";
	return kx_xen.nx ? "data page: read, write, no execute" : "data page: read, write";
}

void kx_xen_trap(const struct trap_frame *f, unsigned vector)
{
	const char *name = vector < 20 && names[vector] ? names[vector] : "#?? exception";
	static int in_trap;
	char line[256], pf[96] = "";
	int n;

	if (in_trap++)
		kx_xen_shutdown(SHUTDOWN_crash); /* a fault while reporting one */
	if (vector == 14)
		pf_words(pf, sizeof(pf), f->error_code);
	n = kx_xen_fmt(line, sizeof(line),
		       "kx: guest fault %s (vector %u, error 0x%lx%s) at RIP 0x%lx", name, vector,
		       (unsigned long)f->error_code, pf, (unsigned long)f->rip);
	if (vector == 14 && n > 0 && (size_t)n < sizeof(line)) {
		uint64_t cr2 = kx_xen.shared->vcpu_info[0].arch.cr2;

		n += kx_xen_fmt(line + n, sizeof(line) - (size_t)n, ": address 0x%lx (%s)",
				(unsigned long)cr2, where(cr2));
	}
	/* Under a monitor that built the domain there is no PV console: the
	 * report reaches the monitor as a panic. */
	if (kx_xen.monitored && n > 0 && (size_t)n < sizeof(line))
		kx_plat_panic(line, (size_t)n);
	if (n > 0 && (size_t)n < sizeof(line) - 1) {
		line[n++] = '\n';
		kx_xen_console_raw(line, (size_t)n);
	}
	kx_xen_shutdown(SHUTDOWN_crash);
}
