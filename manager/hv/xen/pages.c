/*
 * pages.c — the page tables of a pVM's domain.  The backend builds them so
 * that guest address == pseudo-physical address (pfn * 4096), the core's
 * layout: one L4, L3, L2 and one L1 per 2 MiB in the backend's frames
 * (pfn 1..), never mapped for the guest.  Before boot the leaves live in the
 * backend's copy (vm->l1) and are written and pinned at boot, where Xen
 * validates every entry; after boot a change goes to both, the domain's
 * through mmu_update (a PV guest owns its page tables: Xen lets dom0 write
 * them but not flush the guest's TLB, hence flush_seq, xen.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "manager/hv/xen/domain.h"

#define PTE_P	(1ull << 0)
#define PTE_RW	(1ull << 1)
#define PTE_U	(1ull << 2)
#define PTE_A	(1ull << 5)
#define PTE_D	(1ull << 6)
#define PTE_NX	(1ull << 63)
#define PTE_DIR (PTE_P | PTE_RW | PTE_U | PTE_A) /* upper levels: the leaves decide */

#define PFN_L3	    (XEN_PFN_L4 + 1)
#define PFN_L2	    (XEN_PFN_L4 + 2)
#define PFN_L1	    (XEN_PFN_L4 + 3)

uint64_t xen_leaf(const struct hv_vm *vm, xen_pfn_t mfn, unsigned prot)
{
	uint64_t e;

	if (prot == 0)
		return 0;
	e = (uint64_t)mfn << 12 | PTE_P | PTE_U | PTE_A;
	if (prot & HV_PROT_WRITE)
		e |= PTE_RW | PTE_D;
	if (!(prot & HV_PROT_EXEC) && vm->nx)
		e |= PTE_NX;
	return e;
}

#define MMU_BATCH 512u

/*
 * The leaves of [gpa, gpa + size) to leaf(prot).  Before boot only the
 * backend's copy; after boot also the domain's L1 tables, which the guest
 * owns: dom0 writes them through mmu_update naming the domain as the owner
 * of both the page tables and the pages (Xen checks each entry), and the
 * guest flushes its TLB after its next kx call (flush, flush_seq).
 */
int xen_set_leaves(struct hv_vm *vm, uint64_t gpa, uint64_t size, unsigned prot,
		      struct kx_error *err)
{
	struct mmu_update *req = NULL;
	uint64_t first = gpa / XEN_PAGE, n = size / XEN_PAGE;
	int rc = 0;

	for (uint64_t i = first; i < first + n; i++)
		vm->l1[i] = xen_leaf(vm, vm->p2m[i], prot);
	if (!vm->booted || n == 0)
		return 0;
	req = xencall_alloc_buffer(vm->xcall, MMU_BATCH * sizeof(*req));
	if (req == NULL)
		return kx_err(err, -ENOMEM, "out of hypercall memory");
	for (uint64_t i = first; i < first + n && rc == 0;) {
		unsigned k = 0;

		for (; k < MMU_BATCH && i < first + n; k++, i++) {
			req[k].ptr = ((uint64_t)vm->p2m[PFN_L1 + i / 512] << 12) + (i % 512) * 8 +
				     MMU_NORMAL_PT_UPDATE;
			req[k].val = vm->l1[i];
		}
		/* foreigndom: (page-table owner + 1) << 16 | page owner */
		if (xencall4(vm->xcall, __HYPERVISOR_mmu_update, (uint64_t)(uintptr_t)req, k, 0,
			     ((uint64_t)(vm->domid + 1) << 16) | vm->domid) != 0)
			rc = kx_err(err, -errno, "d%u: Xen refused a page-table update: %s",
				    vm->domid, strerror(errno));
	}
	xencall_free_buffer(vm->xcall, req);
	vm->dirty = true;
	return rc;
}

/* One leaf naming a frame of pg_owner (this domain or another): Xen checks
 * that the frame is pg_owner's and takes a reference for the mapping. */
int xen_put_leaf(struct hv_vm *vm, uint64_t pfn, uint64_t entry, uint32_t pg_owner,
		 struct kx_error *err)
{
	struct mmu_update *req = xencall_alloc_buffer(vm->xcall, sizeof(*req));
	int rc = 0;

	if (req == NULL)
		return kx_err(err, -ENOMEM, "out of hypercall memory");
	req->ptr = ((uint64_t)vm->p2m[PFN_L1 + pfn / 512] << 12) + (pfn % 512) * 8 +
		   MMU_NORMAL_PT_UPDATE;
	req->val = entry;
	if (xencall4(vm->xcall, __HYPERVISOR_mmu_update, (uint64_t)(uintptr_t)req, 1, 0,
		     ((uint64_t)(vm->domid + 1) << 16) | pg_owner) != 0)
		rc = kx_err(err, -errno, "d%u: Xen refused a leaf naming d%u's frame: %s",
			    vm->domid, pg_owner, strerror(errno));
	xencall_free_buffer(vm->xcall, req);
	if (rc == 0)
		vm->l1[pfn] = entry;
	return rc;
}

/* The page tables into the backend's frames, then pinned (Xen checks them). */
int xen_write_page_tables(struct hv_vm *vm, struct kx_error *err)
{
	uint64_t nl1 = (vm->npages + 511) / 512, nframes = 3 + nl1;
	xen_pfn_t mfns[3 + 512];
	int errs[3 + 512];
	uint64_t *t;
	struct mmuext_op pin = {.cmd = MMUEXT_PIN_L4_TABLE};

	if (PFN_L1 + nl1 > XEN_PFN_BOOT || nl1 > 512)
		return kx_err(err, -E2BIG, "xen: too much memory for the page-table frames");
	for (uint64_t i = 0; i < nframes; i++)
		mfns[i] = vm->p2m[XEN_PFN_L4 + i];
	t = xenforeignmemory_map(vm->fmem, vm->domid, PROT_READ | PROT_WRITE, nframes, mfns,
				 errs);
	if (t == NULL)
		return kx_err(err, -errno, "d%u: cannot map its page-table frames: %s", vm->domid,
			      strerror(errno));
	for (uint64_t i = 0; i < nframes; i++)
		if (errs[i] != 0) {
			xenforeignmemory_unmap(vm->fmem, t, nframes);
			return kx_err(err, errs[i], "d%u: cannot map a page-table frame",
				      vm->domid);
		}
	memset(t, 0, nframes * XEN_PAGE);
	t[0] = (uint64_t)vm->p2m[PFN_L3] << 12 | PTE_DIR;		 /* L4[0] */
	t[512] = (uint64_t)vm->p2m[PFN_L2] << 12 | PTE_DIR;		 /* L3[0] */
	for (uint64_t i = 0; i < nl1; i++)				 /* L2[i] */
		t[1024 + i] = (uint64_t)vm->p2m[PFN_L1 + i] << 12 | PTE_DIR;
	memcpy(t + 1536, vm->l1, vm->npages * sizeof(uint64_t)); /* the L1s */
	/* No writable mapping of a page table may exist when Xen validates it. */
	xenforeignmemory_unmap(vm->fmem, t, nframes);
	pin.arg1.mfn = vm->p2m[XEN_PFN_L4];
	if (xc_mmuext_op(vm->xch, &pin, 1, vm->domid) != 0)
		return kx_err(err, -errno, "d%u: Xen refused its page tables: %s", vm->domid,
			      strerror(errno));
	return 0;
}

