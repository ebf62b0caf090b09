/*
 * domain.h — private to the Xen backend's domain side (xen.c, pages.c):
 * the state of one pVM's domain.  serve.c and its tests do not see it.
 */
#ifndef KX_HV_XEN_DOMAIN_H
#define KX_HV_XEN_DOMAIN_H

#include <signal.h>

#include <xencall.h>
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>

#include "manager/hv/xen/xen.h"

struct hv_vm {
	xc_interface *xch;
	xencall_handle *xcall; /* mmu_update on the domain's page tables after boot */
	xenforeignmemory_handle *fmem;
	xenevtchn_handle *xce;
	uint32_t domid;
	bool have_domain;
	uint64_t mem_size, npages;
	xen_pfn_t *p2m;	  /* pfn -> machine frame */
	uint8_t *host;	  /* mem_size bytes: anonymous below the monitor end, then the frames */
	void *frames;	  /* the foreign mapping inside host */
	uint64_t *l1;	  /* the leaf entry of every pfn (after boot: as last written) */
	bool nx;	  /* the guest's CPUID view has NX: no-execute leaves */
	bool booted;
	struct kx_ring_page *ring;
	volatile struct kx_ring_boot *bootpg; /* flush_seq */
	bool dirty; /* leaves changed since the guest last flushed */
	evtchn_port_t local;
	struct xen_serve serve;
	struct xen_reaper reaper;
	int wake[2]; /* kick, pause, resume -> the run loop */
	volatile sig_atomic_t kick_req, pause_req;
	bool paused; /* by the loop (kick, pause), or not yet unpaused since boot */
};

/* pages.c: the domain's page tables (guest address == pfn * 4096). */

/* The leaf entry mapping machine frame mfn with rights prot (0: none). */
uint64_t xen_leaf(const struct hv_vm *vm, xen_pfn_t mfn, unsigned prot);
/* [gpa, gpa + size) to rights prot: the backend's copy, and after boot the
 * domain's L1 tables (mmu_update); vm->dirty set for flush. */
int xen_set_leaves(struct hv_vm *vm, uint64_t gpa, uint64_t size, unsigned prot,
		   struct kx_error *err);
/* At boot: every table written into the backend's frames, the L4 pinned. */
int xen_write_page_tables(struct hv_vm *vm, struct kx_error *err);

#endif /* KX_HV_XEN_DOMAIN_H */
