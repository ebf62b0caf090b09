/*
 * pv.h — private to guest/xen/: what the Xen PV platform's files share.
 */
#ifndef KX_GUEST_XEN_PV_H
#define KX_GUEST_XEN_PV_H

#include "guest/xen/xen_public.h"

#include "guest/kx_ring_abi.h"
#include "guest/xen/boot.h"

/* Page-table entry bits (x86-64). */
#define PTE_P	 0x001ull
#define PTE_RW	 0x002ull
#define PTE_USER 0x004ull
#define PTE_A	 0x020ull
#define PTE_D	 0x040ull
#define PTE_NX	 (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

struct kx_xen {
	start_info_t *si;
	shared_info_t *shared;
	void *console; /* struct xencons_interface */
	uint32_t cons_port;
	uint64_t nx; /* PTE_NX when the CPU and Xen use it, else 0 */
	int monitored; /* a kx monitor built the domain (struct kx_ring_boot) */
	const volatile struct kx_ring_boot *boot; /* then its boot page: flush_seq */
	uint64_t flush_seen;
	uint64_t sig_seen; /* the boot page's sig_seq last acted on */
	struct kx_xen_layout layout;
};
extern struct kx_xen kx_xen;

/* mm.c: map guest memory past the bootstrap region as the layout says
 * (heap and stack read-write, the guard page unmapped).  0 or -KX_E* with
 * *why. */
int kx_xen_mm_init(const struct kx_xen_layout *l, const char **why);

/* Map one machine frame at va (a page of the image reserved for it). */
int kx_xen_map_frame(void *va, uint64_t mfn, int writable);

/* The machine frame behind pseudo-physical frame pfn (start_info's list). */
uint64_t kx_xen_pfn_to_mfn(uint64_t pfn);

/* entry.S: run handler(sig) as a signal delivery; it returns when the
 * handler returned or asked KX_HC_SIGRETURN (then through
 * kx_xen_sig_resume, with the callee-saved registers and the stack of the
 * kx_xen_sig_enter call). */
void kx_xen_sig_enter(uint64_t sig, uint64_t handler);
__attribute__((noreturn)) void kx_xen_sig_resume(void);

/* The boot page of the monitor that built this domain, or NULL (xl create):
 * for tests that read its counters (tests/xen/pipex.c). */
const volatile struct kx_ring_boot *kx_xen_boot_page(void);

/* trap.c: register the exception handlers. */
int kx_xen_traps_init(void);

/* xen.c: write to the PV console directly (no kx ring), for reports. */
void kx_xen_console_raw(const char *buf, size_t len);

/* snprintf over vsnprintf: the runtime core may use only memcpy, memset,
 * strnlen and vsnprintf from a C library (guest/runtime.h), so that it
 * links under kx's mini libc and under musl alike. */
__attribute__((format(printf, 3, 4))) int kx_xen_fmt(char *buf, size_t size, const char *fmt, ...);

/* Xen's system time now, in ns. */
uint64_t kx_xen_system_ns(void);

/* End the domain: flush the console, SCHEDOP_shutdown(reason). */
__attribute__((noreturn)) void kx_xen_shutdown(unsigned reason);

#endif /* KX_GUEST_XEN_PV_H */
