/*
 * layout.h — private to manager/hv: the memory layout of a KVM pVM, the
 * x86-64 structures the monitor builds in it (page tables, GDT, TSS, IDT,
 * fault stubs) and the image loader.  docs/kvm-backend.md draws the map.
 *
 * Guest-virtual == guest-physical.  Everything below LAYOUT_MONITOR_END is
 * the monitor's: supervisor-only pages the guest (CPL3) cannot touch, or
 * pages not mapped at all (page tables, page 0).
 */
#ifndef KX_HV_LAYOUT_H
#define KX_HV_LAYOUT_H

#include "manager/hv/hv.h"

#define LAYOUT_GDT	   0x1000ull  /* supervisor RW NX */
#define LAYOUT_TSS	   0x2000ull  /* supervisor RW NX, I/O bitmap inside */
#define LAYOUT_IDT	   0x3000ull  /* supervisor RW NX */
#define LAYOUT_STUBS	   0x4000ull  /* supervisor R X: fault stubs */
#define LAYOUT_EXC_STACK   0x5000ull  /* supervisor RW NX: rsp0 stack, one page */
#define LAYOUT_DF_STACK	   0x6000ull  /* supervisor RW NX: IST1 stack for #DF */
#define LAYOUT_PML4	   0x10000ull /* page tables: not mapped at all */
#define LAYOUT_PDPT	   0x11000ull
#define LAYOUT_PD	   0x12000ull
#define LAYOUT_PT	   0x13000ull /* one page per 2 MiB of guest memory */
#define LAYOUT_MONITOR_END 0x300000ull
#define LAYOUT_BOOT	   0x300000ull /* user R: struct kx_boot_info, argv */
#define LAYOUT_BOOT_SIZE   (KX_PAGE_SIZE + HV_ARGS_MAX)
#define LAYOUT_STACK_GUARD KX_PAGE_SIZE	  /* unmapped page below the stack */
#define LAYOUT_HEAP_GAP	   KX_PAGE_SIZE	  /* unmapped page between image and heap */
#define LAYOUT_HEAP_MIN	   (256ull << 10) /* an image must leave at least this much heap */
#define LAYOUT_DYN_MAX	   (64ull << 20)  /* the window for a dynamic image and its libraries */

/* GDT selectors (index << 3 | RPL). */
#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#define SEL_USER_CODE	0x1b
#define SEL_USER_DATA	0x23
#define SEL_TSS		0x28
#define GDT_ENTRIES	7 /* the TSS descriptor takes two */

#define TSS_IOMAP_OFFSET  0x68u
#define TSS_IOMAP_BYTES	  3u /* ports 0..23; one more 0xff byte ends the map */
#define TSS_LIMIT	  (TSS_IOMAP_OFFSET + TSS_IOMAP_BYTES) /* last byte: the 0xff */
#define IDT_VECTORS	  32
#define STUB_SIZE	  16
#define FAULT_FRAME_WORDS 7 /* vector, error code, rip, cs, rflags, rsp, ss */

/*
 * Write GDT, TSS, IDT, fault stubs and the page-table skeleton into guest
 * memory; map the monitor pages supervisor-only.  mem->size must be a
 * multiple of 2 MiB, at most HV_MEM_MAX.
 */
int layout_build(struct hv_guest_mem *mem);

/*
 * Grant the guest (CPL3) `prot` on [gpa, gpa + size): the page tables and
 * mem->page_prot change together.  Refuses (-EPERM) writable+executable and
 * anything below LAYOUT_BOOT; -EINVAL for unaligned or out-of-range.
 */
int layout_map_user(struct hv_guest_mem *mem, uint64_t gpa, uint64_t size, unsigned prot);

/* Where an image ended up. */
struct image_info {
	uint64_t entry;
	uint64_t start; /* page-aligned */
	uint64_t end;	/* page-aligned, exclusive */
};

/*
 * Load an image (untrusted bytes) into guest memory between KX_IMAGE_MIN
 * and `limit`, with the rights its segments ask for (W^X).
 */
int image_load(struct hv_guest_mem *mem, uint64_t limit, const uint8_t *buf, size_t len,
	       struct image_info *info, struct hv_error *err);

/* ---- link.c: a dynamic image and its libraries ---------------------------- */

/* The backend's part in linking. */
struct linker_backend {
	/* Map size bytes of fd at offset read-only (and shared) at gpa. */
	int (*share)(void *be, uint64_t gpa, int fd, uint64_t offset, uint64_t size,
		     struct hv_error *err);
	/* The page tables changed: flush the guest's TLB if it has run (1),
	 * 0 if it never ran, -errno. */
	int (*flush)(void *be, struct hv_error *err);
	void *be;
};

struct hv_linker;

/* Link into the window [start, end) of guest memory (page-aligned). */
int linker_create(struct hv_guest_mem *mem, uint64_t start, uint64_t end,
		  const struct hv_link_source *src, const struct linker_backend *be,
		  struct hv_linker **out);
void linker_destroy(struct hv_linker *l); /* NULL is fine */

/* Load a dynamic image (untrusted bytes, kept by the caller while the pVM
 * lives) and its DT_NEEDED tree; each library through src->request. */
int linker_boot(struct hv_linker *l, const uint8_t *buf, size_t len, const char *name,
		struct image_info *info, struct hv_error *err);

/* Link a library given as a sealed memfd (consumed) into the running pVM. */
int linker_link_fd(struct hv_linker *l, const char *name, int fd, unsigned bind,
		   uint64_t *handle, struct hv_error *err);

/* The hypercall hooks; their opaque pointer is the linker. */
extern const struct hv_link_hooks linker_hooks;

void linker_stats(const struct hv_linker *l, struct hv_link_stats *out);

#endif /* KX_HV_LAYOUT_H */
