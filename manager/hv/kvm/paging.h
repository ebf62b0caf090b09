/*
 * paging.h — private to the KVM backend: the x86-64 structures a pVM runs
 * on (page tables, GDT, TSS, IDT, fault stubs), written by the monitor into
 * the part of guest memory below LAYOUT_MONITOR_END, which the guest cannot
 * reach.  docs/kvm-backend.md draws the map.
 */
#ifndef KX_HV_KVM_PAGING_H
#define KX_HV_KVM_PAGING_H

#include "manager/hv/kvm/kvm.h"

#define LAYOUT_GDT	 0x1000ull  /* supervisor RW NX */
#define LAYOUT_TSS	 0x2000ull  /* supervisor RW NX, I/O bitmap inside */
#define LAYOUT_IDT	 0x3000ull  /* supervisor RW NX */
#define LAYOUT_STUBS	 0x4000ull  /* supervisor R X: fault stubs */
#define LAYOUT_EXC_STACK 0x5000ull  /* supervisor RW NX: rsp0 stack, one page */
#define LAYOUT_DF_STACK	 0x6000ull  /* supervisor RW NX: IST1 stack for #DF */
#define LAYOUT_PML4	 0x10000ull /* page tables: not mapped at all */
#define LAYOUT_PDPT	 0x11000ull
#define LAYOUT_PD	 0x12000ull
#define LAYOUT_PT	 0x13000ull /* one page per 2 MiB of guest memory */

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
 * memory.  vm->size must be a multiple of 2 MiB, at most HV_MEM_MAX.
 */
int paging_build(struct hv_vm *vm);

/* The page-table entries of [gpa, gpa + size) for guest rights prot
 * (HV_PROT_*; 0: not present).  The core checked range and W^X. */
void paging_map_user(struct hv_vm *vm, uint64_t gpa, uint64_t size, unsigned prot);

#endif /* KX_HV_KVM_PAGING_H */
