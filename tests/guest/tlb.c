/*
 * tlb — the guest half of the TLB-flush test (tests/guest/tlbcheck.c).
 * It writes tlb_target (so the CPU caches a writable translation), makes a
 * hypercall (a safe point: the driver makes the page read-only there), and
 * writes again: that write must fault.  "survived" means the monitor
 * changed the page tables behind a stale TLB.
 */
#include "guest/kxguest.h"

volatile char tlb_target[4096] __attribute__((aligned(4096)));

int main(int argc, char **argv)
{
	(void)argc, (void)argv;
	tlb_target[0] = 1;
	tlb_target[1] = (char)kx_clock_monotonic_ns();
	tlb_target[0] = 2;
	printf("survived\n");
	return 0;
}
