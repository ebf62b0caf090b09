/*
 * mm.c — guest memory of a Xen PV pVM.  The domain builder maps only the
 * bootstrap region (image, p2m list, start_info, console and XenStore
 * pages, page tables, boot stack, 512 KiB at least after it); the rest of
 * the domain's frames exist but are not mapped.  kx maps them once at boot
 * at VA = KX_XEN_VIRT_BASE + pfn * 4K, the layout every pVM sees: heap,
 * a guard page left unmapped, the stack at the top (boot.c decides where).
 *
 * A PV guest never writes a page table directly: it asks Xen (mmu_update,
 * update_va_mapping), and Xen checks that every frame named is the
 * domain's own and that page-table frames are mapped read-only.  New
 * tables come from the frames right after the boot stack, which are mapped
 * already (the PV boot contract guarantees 512 KiB there) and are made
 * read-only before Xen is asked to use them.  Tables are read through the
 * read-only mappings Xen allows, with the machine-to-physical table Xen
 * maps into every PV guest (MACH2PHYS_VIRT_START) to find their frames.
 */
#include "guest/xen/xen_public.h"

#include "guest/kxrt.h"
#include "guest/runtime.h"
#include "guest/xen/hypercall.h"
#include "guest/xen/pv.h"

#define BATCH 512 /* mmu_update requests per hypercall */

/* xen.ld: the ends of the text and rodata segments, page-aligned. */
extern char kx_text_end[], kx_rodata_end[];

static struct mmu_update batch[BATCH];
static unsigned batch_len;
static uint64_t pool_next, pool_end;

uint64_t kx_xen_pfn_to_mfn(uint64_t pfn)
{
	const uint64_t *p2m = (const uint64_t *)(uintptr_t)kx_xen.si->mfn_list;

	return pfn < kx_xen.si->nr_pages ? p2m[pfn] : ~0ull;
}

static uint64_t mfn_to_pfn(uint64_t mfn)
{
	const unsigned long *m2p = (const unsigned long *)MACH2PHYS_VIRT_START;

	return mfn < MACH2PHYS_NR_ENTRIES ? m2p[mfn] : ~0ull;
}

static uint64_t va_of_pfn(uint64_t pfn)
{
	return KX_XEN_VIRT_BASE + pfn * KX_XEN_PAGE;
}

static uint64_t pfn_of_va(uint64_t va)
{
	return (va - KX_XEN_VIRT_BASE) / KX_XEN_PAGE;
}

int kx_xen_map_frame(void *va, uint64_t mfn, int writable)
{
	uint64_t pte = mfn << 12 | PTE_P | PTE_USER | PTE_A | kx_xen.nx;

	if (writable)
		pte |= PTE_RW | PTE_D;
	return xen_update_va_mapping((uint64_t)(uintptr_t)va, pte, UVMF_INVLPG) == 0 ? 0 : -KX_EIO;
}

static int flush(void)
{
	unsigned done = 0;
	long rc = batch_len ? xen_mmu_update(batch, batch_len, &done) : 0;

	batch_len = 0;
	return rc == 0 ? 0 : -KX_EIO;
}

static int queue(uint64_t pte_maddr, uint64_t val)
{
	batch[batch_len++] =
		(struct mmu_update){.ptr = pte_maddr | MMU_NORMAL_PT_UPDATE, .val = val};
	return batch_len == BATCH ? flush() : 0;
}

/* The table an entry points to, as a pointer we may read, or NULL when the
 * frame is not one of ours below the mapped part of memory. */
static const uint64_t *table_of(uint64_t entry, uint64_t mapped_end)
{
	uint64_t pfn = mfn_to_pfn((entry & PTE_ADDR) >> 12);

	if (pfn >= kx_xen.si->nr_pages || va_of_pfn(pfn) >= mapped_end)
		return NULL;
	return (const uint64_t *)(uintptr_t)va_of_pfn(pfn);
}

/* A zeroed frame from the pool, read-only from now on, for a new table. */
static int new_table(uint64_t *mfn)
{
	uint64_t va = pool_next;

	if (va >= pool_end)
		return -KX_ENOMEM;
	pool_next += KX_XEN_PAGE;
	__builtin_memset((void *)(uintptr_t)va, 0, KX_XEN_PAGE);
	*mfn = kx_xen_pfn_to_mfn(pfn_of_va(va));
	return kx_xen_map_frame((void *)(uintptr_t)va, *mfn, 0);
}

/*
 * The L1 table mapping va, created (with its L2, below an existing L3) when
 * missing.  *l1_maddr is its machine address for mmu_update, *l1 a readable
 * view.  mapped_end: everything below is mapped and readable.
 */
static int l1_for(uint64_t va, uint64_t mapped_end, uint64_t *l1_maddr, const uint64_t **l1)
{
	const uint64_t *l4 = (const uint64_t *)(uintptr_t)kx_xen.si->pt_base;
	const uint64_t *l3, *l2;
	uint64_t mfn, link = PTE_P | PTE_RW | PTE_USER | PTE_A;
	unsigned i4 = (va >> 39) & 511, i3 = (va >> 30) & 511, i2 = (va >> 21) & 511;
	int rc;

	if (!(l4[i4] & PTE_P) || (l3 = table_of(l4[i4], mapped_end)) == NULL)
		return -KX_EINVAL; /* the builder maps our first GiB: its L3 exists */
	if (!(l3[i3] & PTE_P)) {
		if ((rc = new_table(&mfn)) != 0 || (rc = flush()) != 0 ||
		    (rc = queue((l4[i4] & PTE_ADDR) + i3 * 8, mfn << 12 | link)) != 0 ||
		    (rc = flush()) != 0)
			return rc;
	}
	if ((l2 = table_of(l3[i3], mapped_end)) == NULL)
		return -KX_EINVAL;
	if (!(l2[i2] & PTE_P)) {
		if ((rc = new_table(&mfn)) != 0 || (rc = flush()) != 0 ||
		    (rc = queue((l3[i3] & PTE_ADDR) + i2 * 8, mfn << 12 | link)) != 0 ||
		    (rc = flush()) != 0)
			return rc;
	}
	if ((*l1 = table_of(l2[i2], mapped_end)) == NULL)
		return -KX_EINVAL;
	*l1_maddr = l2[i2] & PTE_ADDR;
	return 0;
}

/* NX: only when Xen's view of the CPU (the forced-emulation CPUID prefix
 * asks Xen, not the hardware) says so; a reserved bit would be refused. */
static uint64_t nx_bit(void)
{
	uint32_t a = 0x80000000u, b, c = 0, d;

	__asm__ volatile("ud2a; .ascii \"xen\"; cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	if (a < 0x80000001u)
		return 0;
	a = 0x80000001u;
	c = 0;
	__asm__ volatile("ud2a; .ascii \"xen\"; cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return d & (1u << 20) ? PTE_NX : 0;
}

/*
 * W^X for the image and the bootstrap region, which the builder mapped
 * read-write and executable: text read + execute, rodata read-only, the
 * rest no-execute; frames stay as they are (shared_info sits over a bss
 * page).  Inside a PV guest this is the guest's own protection: it owns
 * its page tables (docs/xen-backend.md).
 */
static int protect_image(const struct kx_xen_layout *l)
{
	uint64_t va, l1_maddr = 0, l1_for_va = ~0ull;
	const uint64_t *l1 = NULL;
	struct mmuext_op flush_tlb = {.cmd = MMUEXT_TLB_FLUSH_LOCAL};
	int rc = 0;

	for (va = KX_XEN_VIRT_BASE; va < l->pt_pool; va += KX_XEN_PAGE) {
		uint64_t old, new, idx = (va >> 12) & 511;

		if ((va >> 21) != l1_for_va) {
			if ((rc = flush()) != 0 ||
			    (rc = l1_for(va, l->pt_pool, &l1_maddr, &l1)) != 0)
				return rc;
			l1_for_va = va >> 21;
		}
		old = l1[idx];
		if (!(old & PTE_P))
			continue;
		if (va < (uint64_t)(uintptr_t)kx_text_end)
			new = old & ~(PTE_RW | PTE_NX);
		else if (va < (uint64_t)(uintptr_t)kx_rodata_end)
			new = (old & ~PTE_RW) | kx_xen.nx;
		else
			new = old | kx_xen.nx; /* page tables stay read-only */
		if (new != old && (rc = queue(l1_maddr + idx * 8, new)) != 0)
			return rc;
	}
	if ((rc = flush()) != 0)
		return rc;
	/* Rights were taken away: no stale writable or executable TLB entry. */
	return xen_mmuext_op(&flush_tlb, 1) == 0 ? 0 : -KX_EIO;
}

int kx_xen_mm_init(const struct kx_xen_layout *l, const char **why)
{
	uint64_t va, l1_maddr = 0, l1_for_va = ~0ull;
	const uint64_t *l1 = NULL;
	int rc = 0;

	kx_xen.nx = nx_bit();
	pool_next = l->pt_pool;
	pool_end = l->pt_pool_end;

	/* In address order, flushing before each new L1: when a table is
	 * needed, every page below va is mapped, and so is the pool frame it
	 * comes from (pool frames run far behind va). */
	for (va = l->pt_pool; va < l->mem_end; va += KX_XEN_PAGE) {
		uint64_t want, idx;

		if ((va >> 21) != l1_for_va) {
			/* Readable now: the boot contract's padding, and what we mapped. */
			uint64_t mapped_end = va > l->pt_pool + KX_XEN_BOOT_PAD
						      ? va
						      : l->pt_pool + KX_XEN_BOOT_PAD;

			if ((rc = flush()) != 0 ||
			    (rc = l1_for(va, mapped_end, &l1_maddr, &l1)) != 0)
				break;
			l1_for_va = va >> 21;
		}
		idx = (va >> 12) & 511;
		if (va == l->guard)
			continue; /* unmapped below, with its TLB entry */
		if (l1[idx] & PTE_P) {
			/* The builder's mapping: read-write, and executable. */
			if ((l1[idx] & PTE_NX) != kx_xen.nx &&
			    (rc = queue(l1_maddr + idx * 8, l1[idx] | kx_xen.nx)) != 0)
				break;
			continue;
		}
		want = kx_xen_pfn_to_mfn(pfn_of_va(va)) << 12 | PTE_P | PTE_RW | PTE_USER | PTE_A |
		       PTE_D | kx_xen.nx;
		if ((rc = queue(l1_maddr + idx * 8, want)) != 0)
			break;
	}
	if (rc == 0)
		rc = flush();
	if (rc == 0)
		rc = protect_image(l);
	if (rc != 0 && why)
		*why = rc == -KX_ENOMEM ? "the page-table pool ran out"
					: "Xen refused a page-table update";
	/* The guard page: unmapped whatever the builder did there, and out of
	 * the TLB (a PV guest cannot invlpg; Xen does it for this call). */
	if (rc == 0 && xen_update_va_mapping(l->guard, 0, UVMF_INVLPG) != 0) {
		rc = -KX_EIO;
		if (why)
			*why = "Xen refused to unmap the stack guard page";
	}
	return rc;
}
