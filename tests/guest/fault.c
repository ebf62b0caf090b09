/*
 * fault — CPU faults at CPL3.  Each must end the pVM with a fault report
 * naming the vector, the faulting instruction (RIP) and, for page faults,
 * the address and what lies there.
 *   fault CASE     (run without arguments for the list)
 */
#include "insn.h"

#define MONITOR_GDT  0x1000u /* see docs/kvm-backend.md */
#define MONITOR_PML4 0x10000u

extern char insn_null_read[], insn_null_write[], insn_text_write[], insn_rodata_write[],
	insn_div0[], insn_ud2[], insn_gdt_read[], insn_pagetable_read[], insn_boot_write[],
	insn_noncanonical[], insn_beyond[], insn_heap_gap[];

static const int read_only_value = 1;
static unsigned char data_code[16] = {0xc3}; /* ret */
static uintptr_t beyond_addr, heap_gap_addr, boot_addr;

static void __attribute__((noipa)) run_null_read(void)
{
	__asm__ volatile(INSN_LABEL(null_read) "movl 0, %%eax" : : : "rax", "memory");
}

static void __attribute__((noipa)) run_null_write(void)
{
	__asm__ volatile(INSN_LABEL(null_write) "movl %%eax, 0" : : : "memory");
}

static void __attribute__((noipa)) run_null_call(void)
{
	void (*volatile fn)(void) = NULL;

	fn();
}

static void __attribute__((noipa)) run_text_write(void)
{
	__asm__ volatile(INSN_LABEL(text_write) "movb %%al, insn_text_write(%%rip)" : : : "memory");
}

static void __attribute__((noipa)) run_rodata_write(void)
{
	__asm__ volatile(INSN_LABEL(rodata_write) "movl $2, (%0)"
			 :
			 : "r"(&read_only_value)
			 : "memory");
}

static void __attribute__((noipa)) run_exec_data(void)
{
	((void (*)(void))(uintptr_t)data_code)();
}

static void __attribute__((noipa)) run_exec_stack(void)
{
	volatile unsigned char code[16] = {0xc3};

	printf("RIP %p\nADDR %p\n", (void *)code, (void *)code);
	((void (*)(void))(uintptr_t)code)();
}

static void __attribute__((noipa)) run_exec_heap(void)
{
	unsigned char *code = malloc(16);

	code[0] = 0xc3;
	printf("RIP %p\nADDR %p\n", (void *)code, (void *)code);
	((void (*)(void))(uintptr_t)code)();
}

static void __attribute__((noipa)) run_div0(void)
{
	__asm__ volatile("xor %%ecx, %%ecx\n\t" INSN_LABEL(div0) "div %%ecx"
			 :
			 :
			 : "rax", "rcx", "rdx", "memory");
}

static void __attribute__((noipa)) run_ud2(void)
{
	__asm__ volatile(INSN_LABEL(ud2) "ud2" : : : "memory");
}

/* Deliberately unbounded: it must end in the stack guard page. */
#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int __attribute__((noipa)) recurse(int depth)
{
	volatile char frame[1024];

	frame[0] = (char)depth;
	return recurse(depth + 1) + frame[0];
}

static void __attribute__((noipa)) run_stack_overflow(void)
{
	recurse(0);
}

static void __attribute__((noipa)) run_gdt_read(void)
{
	__asm__ volatile(INSN_LABEL(gdt_read) "movl 0x1000, %%eax" : : : "rax", "memory");
}

static void __attribute__((noipa)) run_pagetable_read(void)
{
	__asm__ volatile(INSN_LABEL(pagetable_read) "movl 0x10000, %%eax" : : : "rax", "memory");
}

static void __attribute__((noipa)) run_boot_write(void)
{
	__asm__ volatile(INSN_LABEL(boot_write) "movl %%eax, (%0)" : : "r"(boot_addr) : "memory");
}

static void __attribute__((noipa)) run_noncanonical(void)
{
	__asm__ volatile(INSN_LABEL(noncanonical) "movabs 0x8000000000000000, %%eax"
			 :
			 :
			 : "rax", "memory");
}

static void __attribute__((noipa)) run_beyond(void)
{
	__asm__ volatile(INSN_LABEL(beyond) "movl (%0), %%eax"
			 :
			 : "r"(beyond_addr)
			 : "rax", "memory");
}

static void __attribute__((noipa)) run_heap_gap(void)
{
	__asm__ volatile(INSN_LABEL(heap_gap) "movl (%0), %%eax"
			 :
			 : "r"(heap_gap_addr)
			 : "rax", "memory");
}

int main(int argc, char **argv)
{
	const struct kx_boot_info *b = kx_boot_info();
	const struct insn_case cases[] = {
		{"null_read", run_null_read, insn_null_read, AT_ADDR(0)},
		{"null_write", run_null_write, insn_null_write, AT_ADDR(0)},
		{"null_call", run_null_call, NULL, AT_ADDR(0)},
		{"text_write", run_text_write, insn_text_write, AT_ADDR(insn_text_write)},
		{"rodata_write", run_rodata_write, insn_rodata_write, AT_ADDR(&read_only_value)},
		{"exec_data", run_exec_data, data_code, AT_ADDR(data_code)},
		{"exec_stack", run_exec_stack, NULL, NO_ADDR},
		{"exec_heap", run_exec_heap, NULL, NO_ADDR},
		{"div0", run_div0, insn_div0, NO_ADDR},
		{"ud2", run_ud2, insn_ud2, NO_ADDR},
		{"stack_overflow", run_stack_overflow, NULL, NO_ADDR},
		{"gdt_read", run_gdt_read, insn_gdt_read, AT_ADDR(MONITOR_GDT)},
		{"pagetable_read", run_pagetable_read, insn_pagetable_read, AT_ADDR(MONITOR_PML4)},
		{"boot_write", run_boot_write, insn_boot_write, AT_ADDR(b)},
		{"noncanonical", run_noncanonical, insn_noncanonical, NO_ADDR},
		{"beyond", run_beyond, insn_beyond, AT_ADDR(b->mem_size + 0x1000)},
		{"heap_gap", run_heap_gap, insn_heap_gap, AT_ADDR(b->image_end)},
	};

	boot_addr = (uintptr_t)b;
	beyond_addr = b->mem_size + 0x1000;
	heap_gap_addr = b->image_end;
	return insn_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
