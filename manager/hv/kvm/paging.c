/*
 * paging.c — the x86-64 structures a KVM pVM runs on, written by the
 * monitor into guest memory the guest cannot reach.
 *
 * The guest runs at CPL3 only.  The page tables are not mapped at all, so
 * no guest code can change them; GDT, TSS and IDT are supervisor-only; the
 * IDT's handlers are three-instruction ring-0 stubs that push the vector
 * and report it to the monitor on KX_FAULT_PORT.  RFLAGS.IOPL is 0, so the
 * TSS I/O bitmap decides which ports CPL3 may use: only the four bytes of
 * the 32-bit KX_HCALL_PORT.  Rights are W^X: a page is writable or
 * executable for the guest, never both.
 */
#include <errno.h>
#include <string.h>

#include "manager/hv/kvm/paging.h"

#define PTE_P	    0x1ull
#define PTE_RW	    0x2ull
#define PTE_US	    0x4ull
#define PTE_A	    0x20ull
#define PTE_D	    0x40ull
#define PTE_NX	    (1ull << 63)
#define TABLE_ENTRY (PTE_P | PTE_RW | PTE_US | PTE_A) /* leaves decide the rights */

#define PT_SPAN (512ull * KX_PAGE_SIZE) /* bytes mapped by one page-table page */

static uint64_t *entry_at(struct hv_vm *vm, uint64_t table, unsigned index)
{
	return (uint64_t *)kvm_gpa(vm, table + index * 8ull, 8);
}

static void set_pte(struct hv_vm *vm, uint64_t gpa, uint64_t flags)
{
	uint64_t pt = LAYOUT_PT + (gpa / PT_SPAN) * KX_PAGE_SIZE;

	*entry_at(vm, pt, (unsigned)((gpa / KX_PAGE_SIZE) % 512)) = flags ? (gpa | flags) : 0;
}

static uint64_t code_descriptor(unsigned dpl)
{
	/* present, code exec/read, long mode (L), 4 KiB granularity */
	return 0x00af9a000000ffffull | ((uint64_t)dpl << 45);
}

static uint64_t data_descriptor(unsigned dpl)
{
	return 0x00cf92000000ffffull | ((uint64_t)dpl << 45);
}

static void write_gdt(struct hv_vm *vm)
{
	uint64_t *gdt = kvm_gpa(vm, LAYOUT_GDT, GDT_ENTRIES * 8);
	uint64_t base = LAYOUT_TSS, limit = TSS_LIMIT;

	gdt[0] = 0;
	gdt[SEL_KERNEL_CODE >> 3] = code_descriptor(0);
	gdt[SEL_KERNEL_DATA >> 3] = data_descriptor(0);
	gdt[SEL_USER_CODE >> 3] = code_descriptor(3);
	gdt[SEL_USER_DATA >> 3] = data_descriptor(3);
	/* 64-bit available TSS (type 9), present, DPL 0; 16 bytes. */
	gdt[SEL_TSS >> 3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x9ull << 40) |
			    (1ull << 47) | (((limit >> 16) & 0xf) << 48) |
			    (((base >> 24) & 0xff) << 56);
	gdt[(SEL_TSS >> 3) + 1] = base >> 32;
}

static void write_tss(struct hv_vm *vm)
{
	uint8_t *tss = kvm_gpa(vm, LAYOUT_TSS, TSS_LIMIT + 1);
	uint64_t rsp0 = LAYOUT_EXC_STACK + KX_PAGE_SIZE, ist1 = LAYOUT_DF_STACK + KX_PAGE_SIZE;
	uint16_t iomap = TSS_IOMAP_OFFSET;
	uint8_t *bitmap = tss + TSS_IOMAP_OFFSET;

	memset(tss, 0, TSS_LIMIT + 1);
	memcpy(tss + 0x04, &rsp0, sizeof(rsp0));
	memcpy(tss + 0x24, &ist1, sizeof(ist1));
	memcpy(tss + 0x66, &iomap, sizeof(iomap));
	/* A set bit denies the port.  Allow KX_HCALL_PORT .. +3 (one 32-bit out). */
	memset(bitmap, 0xff, TSS_IOMAP_BYTES + 1);
	for (unsigned port = KX_HCALL_PORT; port < KX_HCALL_PORT + 4; port++)
		bitmap[port / 8] &= (uint8_t) ~(1u << (port % 8));
}

static int has_error_code(unsigned vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 ||
	       vector == 29 || vector == 30;
}

/*
 * Stub for one vector:  [push $0]  push $vector  out %al, $KX_FAULT_PORT
 * hlt  jmp .-1.  The monitor never resumes a faulted guest; hlt only
 * stops a runaway if it ever did.
 */
static void write_idt(struct hv_vm *vm)
{
	uint8_t *stubs = kvm_gpa(vm, LAYOUT_STUBS, KX_PAGE_SIZE);
	uint64_t *idt = kvm_gpa(vm, LAYOUT_IDT, IDT_VECTORS * 16);

	memset(stubs, 0xcc, KX_PAGE_SIZE);
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		uint8_t *s = stubs + v * STUB_SIZE;
		uint64_t handler = LAYOUT_STUBS + v * STUB_SIZE;
		uint64_t ist = v == 8 ? 1 : 0;
		unsigned n = 0;

		if (!has_error_code(v)) {
			s[n++] = 0x6a; /* push $0 */
			s[n++] = 0x00;
		}
		s[n++] = 0x6a; /* push $v */
		s[n++] = (uint8_t)v;
		s[n++] = 0xe6; /* out %al, $port */
		s[n++] = KX_FAULT_PORT;
		s[n++] = 0xf4; /* hlt */
		s[n++] = 0xeb; /* jmp back to hlt */
		s[n++] = 0xfd;
		/* 64-bit interrupt gate, DPL 0 (so `int n` from CPL3 faults), present. */
		idt[2 * v] = (handler & 0xffff) | ((uint64_t)SEL_KERNEL_CODE << 16) | (ist << 32) |
			     (0x8eull << 40) | (((handler >> 16) & 0xffff) << 48);
		idt[2 * v + 1] = handler >> 32;
	}
}

int paging_build(struct hv_vm *vm)
{
	uint64_t n_pt = vm->size / PT_SPAN;

	if (vm->size % PT_SPAN != 0 || vm->size > HV_MEM_MAX || vm->size < HV_MEM_MIN ||
	    LAYOUT_PT + n_pt * KX_PAGE_SIZE > LAYOUT_MONITOR_END)
		return -EINVAL;
	*entry_at(vm, LAYOUT_PML4, 0) = LAYOUT_PDPT | TABLE_ENTRY;
	*entry_at(vm, LAYOUT_PDPT, 0) = LAYOUT_PD | TABLE_ENTRY;
	for (unsigned i = 0; i < n_pt; i++)
		*entry_at(vm, LAYOUT_PD, i) = (LAYOUT_PT + i * KX_PAGE_SIZE) | TABLE_ENTRY;

	write_gdt(vm);
	write_tss(vm);
	write_idt(vm);
	set_pte(vm, LAYOUT_GDT, PTE_P | PTE_RW | PTE_A | PTE_D | PTE_NX);
	set_pte(vm, LAYOUT_TSS, PTE_P | PTE_RW | PTE_A | PTE_D | PTE_NX);
	set_pte(vm, LAYOUT_IDT, PTE_P | PTE_RW | PTE_A | PTE_D | PTE_NX);
	set_pte(vm, LAYOUT_STUBS, PTE_P | PTE_A);
	set_pte(vm, LAYOUT_EXC_STACK, PTE_P | PTE_RW | PTE_A | PTE_D | PTE_NX);
	set_pte(vm, LAYOUT_DF_STACK, PTE_P | PTE_RW | PTE_A | PTE_D | PTE_NX);
	return 0;
}

void paging_map_user(struct hv_vm *vm, uint64_t gpa, uint64_t size, unsigned prot)
{
	uint64_t flags = 0;

	if (prot != 0) {
		flags = PTE_P | PTE_US | PTE_A;
		if (prot & HV_PROT_WRITE)
			flags |= PTE_RW | PTE_D;
		if (!(prot & HV_PROT_EXEC))
			flags |= PTE_NX;
	}
	for (uint64_t off = 0; off < size; off += KX_PAGE_SIZE)
		set_pte(vm, gpa + off, flags);
}
