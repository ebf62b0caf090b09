/*
 * xen.h — private to the Xen backend (manager/hv/xen/): the monitor's end
 * of the kx ring as the core's hypercall exits (serve.c, no Xen library:
 * unit-tested and fuzzed on any host), and the domain's layout in the
 * backend's region below the core's monitor end (xen.c, pages.c; the
 * domain's state is domain.h's).
 *
 * A pVM is a 64-bit PV domain whose pseudo-physical frame N is guest
 * address N * 4096, exactly the core's guest-physical layout: the backend
 * builds the domain's page tables itself (guest-virtual == pfn * 4096), so
 * the core's accessor, layout and loader are unchanged.  Below
 * LAYOUT_MONITOR_END the frames are the backend's: page tables (never
 * mapped for the guest), the boot page (read-only), the kx ring page
 * (read-write) and a mapping of the domain's shared_info.
 */
#ifndef KX_HV_XEN_H
#define KX_HV_XEN_H

#include <stdbool.h>

#include "guest/kx_ring_abi.h"
#include "guest/xen/ring.h"
#include "manager/hv/backend.h"

/* ---- cmdline.c --------------------------------------------------------------- */

/* Whether Xen's command line (size bytes at most, NUL-terminated or not)
 * turns on scrub-domheap: Xen then zeroes every frame a domain frees. */
bool xen_cmdline_scrubs_domheap(const char *cmdline, size_t size);

/* ---- serve.c ---------------------------------------------------------------- */

struct xen_serve {
	struct kxr_back back;
	struct kxr_req req; /* the request the core serves: it answers into req.block */
	bool serving;	    /* req was handed to the core, its answer not yet sent */
	bool broken;	    /* the guest broke the ring: never used again */
};

/* Start serving a ring page the guest cannot run against yet (writes its
 * ident, magic last). */
void xen_serve_init(struct xen_serve *s, struct kx_ring_page *page, uint32_t evtchn);

/* The answer to the request last handed out goes to the guest (the core
 * wrote it into req.block).  *notify: 1 when the guest must be signalled.
 * Nothing to answer: 0, *notify 0. */
void xen_serve_answer(struct xen_serve *s, int *notify);

/*
 * The next request as the core's exit: 1 with exit an HV_EXIT_HCALL whose
 * block is in hand (exit->block_buf, exit->block_len), or an HV_EXIT_END
 * (HV_END_BAD_HCALL with the reason) when the guest broke the ring; 0 when
 * the guest has published nothing: it was asked to notify, so the caller
 * may sleep on the event channel.
 */
int xen_serve_next(struct xen_serve *s, struct hv_exit *exit);

/* ---- reaper.c: a domain never outlives its monitor ------------------------------ */

struct xen_reaper {
	int fd; /* the write end: closed (by exit or kill) -> the domain is destroyed */
	int pid;
};

/* Fork the reaper of domain domid (whose handle is handle). */
int xen_reaper_start(uint32_t domid, const uint8_t handle[16], struct xen_reaper *r,
		     struct kx_error *err);
/* The monitor destroyed the domain itself: let the reaper go, and wait for it. */
void xen_reaper_stop(struct xen_reaper *r);

/* Xen's libraries log to stderr by default: kx reports errors itself. */
struct xentoollog_logger;
extern struct xentoollog_logger xen_quiet_logger;

/* ---- the domain's layout (pfns of the backend's region) ------------------------ */

#define XEN_PAGE	    4096ull
#define XEN_PFN_L4	    1u	    /* then L3, L2, and one L1 per 2 MiB of memory */
#define XEN_PFN_BOOT	    0x2fcu  /* struct kx_ring_boot, read-only to the guest */
#define XEN_PFN_RING	    0x2fdu  /* struct kx_ring_page, read-write */
#define XEN_VA_SHARED_INFO  0x2fe000ull /* the domain's shared_info frame, read-write */
#define XEN_MONITOR_PAGES   0x300u  /* = LAYOUT_MONITOR_END / 4096 */

#endif /* KX_HV_XEN_H */
