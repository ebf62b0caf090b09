/*
 * boot.h — private to guest/xen/: the parts of the Xen PV platform layer
 * that are plain computation over what the domain builder handed us
 * (start_info, the clock structures, the console ring), kept free of
 * hypercalls so that tests/unit/test_xen_boot.c runs them on any host.
 *
 * start_info comes from the toolstack, not from a peer we trust blindly:
 * kx_xen_layout checks every field it uses against the others and against
 * the image, so a builder that broke the PV boot contract ends the pVM with
 * a named reason instead of a stray fault.
 */
#ifndef KX_GUEST_XEN_BOOT_H
#define KX_GUEST_XEN_BOOT_H

#include <stddef.h>
#include <stdint.h>

#define KX_XEN_PAGE 4096ull
/* The image is linked at KX_IMAGE_MIN and Xen maps pseudo-physical frame 0
 * there (ELF notes VIRT_BASE = PADDR_OFFSET = this): VA = base + pfn * 4K. */
#define KX_XEN_VIRT_BASE 0x400000ull
/* Everything the pVM maps lies under one L4 slot. */
#define KX_XEN_VA_LIMIT (1ull << 39)
/* The PV boot contract: at least this much mapped, free memory follows the
 * last bootstrap element (the boot stack). */
#define KX_XEN_BOOT_PAD (512ull << 10)
#define KX_XEN_STACK	(1ull << 20) /* as kxmon's default */
#define KX_XEN_HEAP_MIN (64ull << 10)

/* What kx_xen_layout reads, gathered by the caller (start_info fields and
 * where things ended up). */
struct kx_xen_boot_in {
	uint64_t image_end; /* page-aligned end of the image (its bss) */
	uint64_t boot_sp;   /* %rsp at entry: the end of the boot stack */
	uint64_t start_info;
	uint64_t nr_pages;
	uint64_t pt_base;
	uint64_t nr_pt_frames;
	uint64_t mfn_list;
	uint64_t console_pfn; /* the console page's frame, from its MFN */
	uint64_t store_pfn;   /* XenStore's page, likewise */
};

/* Where the platform puts things, all page-aligned virtual addresses. */
struct kx_xen_layout {
	uint64_t mem_end; /* base + nr_pages * 4K: the end of guest memory */
	uint64_t pt_pool; /* frames for the page tables we add, from here */
	uint64_t pt_pool_end;
	uint64_t heap_start, heap_end;
	uint64_t guard; /* one unmapped page below the stack */
	uint64_t stack_bottom, stack_top;
};

/* 0 with *out, or -KX_EINVAL with *why naming the field that is wrong. */
int kx_xen_layout(const struct kx_xen_boot_in *in, struct kx_xen_layout *out, const char **why);

/* Page tables needed to map [from, to) below KX_XEN_VA_LIMIT at most: one
 * L1 per 2 MiB and one L2 per 1 GiB the range touches. */
uint64_t kx_xen_pt_frames(uint64_t from, uint64_t to);

/* Split start_info's command line (at most cap bytes, NUL-terminated or
 * not) at blanks into argv, the words copied into buf.  At most max_argv - 1
 * words; argv[argc] = NULL.  Returns argc, or -KX_E2BIG when the words do
 * not fit. */
int kx_xen_split_cmdline(const char *cmd, size_t cap, char *buf, size_t bufsz, char **argv,
			 size_t max_argv);

/* Xen's vcpu_time_info and shared_info wallclock, as read consistently. */
struct kx_xen_time {
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t mul;
	int8_t shift;
};

/* System time (ns since Xen booted) at tsc for this sample:
 * system_time + ((tsc - tsc_timestamp) << shift) * mul / 2^32. */
uint64_t kx_xen_time_ns(const struct kx_xen_time *t, uint64_t tsc);

/* Put up to n bytes of src into the output ring of a console page
 * (struct xencons_interface) and publish them.  Returns the bytes put (0:
 * full), or -KX_EIO when the page's indices are impossible (more than the
 * ring in use): then nothing is written. */
long kx_xen_cons_put(void *intf, const char *src, size_t n);

/* Bytes still in the console's output ring (-KX_EIO as above). */
long kx_xen_cons_pending(const void *intf);

/* Bytes of call nr's block (guest/kx_hcall_abi.h), which the kx ring
 * carries whole; 0 for a number the header does not define. */
uint32_t kx_xen_block_size(uint32_t nr);

#endif /* KX_GUEST_XEN_BOOT_H */
