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

/* share.c: a range of an IpC object in the pVM. */
#define XEN_SHARED_MAX 96u /* two ranges per object the core maps */
struct xen_shared {
	uint64_t gpa, size;
	uint32_t owner;	 /* shared frames: the domain they belong to */
	int fd;		 /* >= 0: a copy refreshed from this file (a dup) at offset */
	uint64_t offset;
	/* A data area's doorbell: a word of the object's file that every
	 * holder's monitor maps (inherited across the monitor's fork), the
	 * host futex of its NOTIFY_WAIT/_WAKE; NULL: none (bell_page too). */
	uint32_t *bell;
	void *bell_page;
	uint32_t bell_seen; /* its value when the guest last got an answer */
};

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
	evtchn_port_t local;  /* dom0's end of the event channel */
	evtchn_port_t remote; /* the guest's end (its ring ident names it) */
	struct xen_serve serve;
	struct xen_reaper reaper;
	int wake[2]; /* kick, pause, resume -> the run loop */
	volatile sig_atomic_t kick_req, pause_req;
	bool paused; /* by the loop (kick, pause), or not yet unpaused since boot */
	/* fork.c: the child's domain, built by fork_prepare in this process;
	 * fork_child (in the new process) adopts it, and this process lets
	 * its copies of the child's handles go at its next run or destroy. */
	struct hv_vm *fork_pending;
	/* fork.c: reapers of children's domains that this process forked
	 * (xen_new_domain in fork_prepare) and let go of: its children, which
	 * it must wait for once they end, or they stay zombies. */
	pid_t *released;
	unsigned nreleased;
	/* share.c: IpC objects mapped with map_fd */
	struct xen_shared shared[XEN_SHARED_MAX];
	unsigned nshared;
};

/* xen.c, for fork.c */
int xen_open_handles(struct hv_vm *vm, struct kx_error *err);
void xen_close_handles(struct hv_vm *vm);
/* A new paused PV domain of vm->npages frames (vm->p2m filled), its reaper
 * started, vm->fmem restricted to it. */
int xen_new_domain(struct hv_vm *vm, struct kx_error *err);
void *xen_map_frame(struct hv_vm *vm, xen_pfn_t mfn, int prot);
int xen_set_paused(struct hv_vm *vm, bool paused, struct kx_error *err);
/* Zero frames [first, first + n) of vm->p2m (fresh frames may hold what a
 * live domain gave back: Xen did not scrub them). */
int xen_zero_frames(struct hv_vm *vm, uint64_t first, uint64_t n, struct kx_error *err);

/* pages.c: one leaf of the domain's (after boot) naming a frame of pg_owner. */
int xen_put_leaf(struct hv_vm *vm, uint64_t pfn, uint64_t entry, uint32_t pg_owner,
		 struct kx_error *err);

/* share.c */
/* map_fd of a file that is not write-sealed: an IpC object's control page
 * (a copy refreshed from the file) or data area (this domain's frames,
 * shared with forked children); -EOPNOTSUPP for anything else. */
int xen_share_map(struct hv_vm *vm, uint64_t gpa, int fd, uint64_t offset, uint64_t size,
		  unsigned prot, struct kx_error *err);
/* After the leaves of [gpa, gpa + size) were cleared: the ranges there
 * forgotten, and the frames zeroed — or, if they were shared frames of
 * this domain's that forked children may still map, replaced by new ones. */
int xen_share_unmap(struct hv_vm *vm, uint64_t gpa, uint64_t size, struct kx_error *err);
/* Control pages copied again from their files. */
void xen_share_refresh(struct hv_vm *vm);
/* Before an answer reaches the guest: each doorbell's value, which a
 * NOTIFY_WAIT made after the guest looked at its word waits to change. */
void xen_share_sample(struct hv_vm *vm);
/* NOTIFY_WAIT / _WAKE on the word at gpa (backend.h's ipc_wait, ipc_wake). */
int xen_share_wait(struct hv_vm *vm, uint64_t gpa, uint32_t value, uint64_t timeout_ns);
int xen_share_wake(struct hv_vm *vm, uint64_t gpa, uint32_t count);
/* The shared data range pfn lies in, or NULL. */
const struct xen_shared *xen_share_frames(const struct hv_vm *vm, uint64_t pfn);
void xen_share_close(struct hv_vm *vm);

/* fork.c */
int xen_fork_prepare(struct hv_vm *vm, struct kx_error *err);
int xen_fork_child(struct hv_vm *vm, struct kx_error *err);
/* The parent lets go of a child domain fork_prepare built (the child
 * process holds its own copies; with none, the reaper destroys it). */
void xen_fork_release(struct hv_vm *vm);
/* Wait for the released reapers that ended (never blocks). */
void xen_fork_reap(struct hv_vm *vm);

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
