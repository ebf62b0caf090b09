/*
 * layout.h — private to the monitor's core: where things live in a pVM's
 * guest-physical memory (guest-virtual == guest-physical).  The backend
 * owns everything below LAYOUT_MONITOR_END (on KVM: page tables, GDT, TSS,
 * IDT, fault stubs; hv/kvm/paging.h); the guest never touches it.
 * docs/kvm-backend.md draws the map.
 *
 *   LAYOUT_BOOT        boot info page, then argv (read-only to the guest)
 *   KX_IMAGE_MIN       the image (and, for dynamic images, its libraries)
 *   heap               from the image's end (after a gap page) up to the
 *                      IpC window (when the pVM has a manager)
 *   stack              at the top of memory, a guard page below it
 */
#ifndef KX_HV_LAYOUT_H
#define KX_HV_LAYOUT_H

#include "manager/hv/hv.h"

#define LAYOUT_MONITOR_END 0x300000ull
#define LAYOUT_BOOT	   0x300000ull /* user R: struct kx_boot_info, argv */
#define LAYOUT_BOOT_SIZE   (KX_PAGE_SIZE + HV_ARGS_MAX)
#define LAYOUT_STACK_GUARD KX_PAGE_SIZE	  /* unmapped page below the stack */
#define LAYOUT_HEAP_GAP	   KX_PAGE_SIZE	  /* unmapped page between image and heap */
#define LAYOUT_HEAP_MIN	   (256ull << 10) /* an image must leave at least this much heap */
#define LAYOUT_DYN_MAX	   (64ull << 20)  /* the window for a dynamic image and its libraries */

/* Where an image ended up. */
struct image_info {
	uint64_t entry;
	uint64_t start; /* page-aligned */
	uint64_t end;	/* page-aligned, exclusive */
};

/*
 * Load a static image (untrusted bytes) into guest memory between
 * KX_IMAGE_MIN and `limit`, with the rights its segments ask for (W^X).
 */
int image_load(struct hv_pvm *p, uint64_t limit, const uint8_t *buf, size_t len,
	       struct image_info *info, struct kx_error *err);

#endif /* KX_HV_LAYOUT_H */
