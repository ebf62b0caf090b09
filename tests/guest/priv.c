/*
 * priv — privileged instructions at CPL3.  Each must end the pVM with a
 * fault (or, for I/O the TSS bitmap lets through to the monitor, with a
 * "forbidden port I/O" report) naming the instruction's address.
 *   priv CASE      (run without arguments for the list)
 */
#include "insn.h"

/* name, instruction text, offset of the faulting instruction from the label */
#define PRIV_CASES(X)                                                                              \
	X(hlt, "hlt", 0)                                                                           \
	X(cli, "cli", 0)                                                                           \
	X(sti, "sti", 0)                                                                           \
	X(cr3_write, "mov %%rax, %%cr3", 0)                                                        \
	X(cr3_read, "mov %%cr3, %%rax", 0)                                                         \
	X(cr0_write, "mov %%rax, %%cr0", 0)                                                        \
	X(wrmsr, "wrmsr", 0)                                                                       \
	X(rdmsr, "rdmsr", 0)                                                                       \
	X(in_port, "in $0x60, %%al", 0)                                                            \
	X(out_port, "out %%al, $0x80", 0)                                                          \
	X(in_dx, "mov $0x3f8, %%edx\n\tin %%dx, %%al", 5)                                          \
	X(lgdt, "lgdt (%%rsp)", 0)                                                                 \
	X(lidt, "lidt (%%rsp)", 0)                                                                 \
	X(invlpg, "invlpg (%%rsp)", 0)                                                             \
	X(int80, "int $0x80", 0)                                                                   \
	X(fault_port, "outb %%al, $0x11", 0)                                                       \
	X(hcall_in, "inl $0x10, %%eax", 0)                                                         \
	X(hcall_byte, "outb %%al, $0x10", 0)

#define DEFINE_CASE(name, text, offset)                                                            \
	extern char insn_##name[];                                                                 \
	static void __attribute__((noipa)) run_##name(void)                                        \
	{                                                                                          \
		__asm__ volatile(INSN_LABEL(name) text : : : "rax", "rcx", "rdx", "memory");       \
	}
#define CASE_ROW(name, text, offset) {#name, run_##name, insn_##name + (offset), NO_ADDR},

PRIV_CASES(DEFINE_CASE)

static void __attribute__((noipa)) run_syscall(void)
{
	__asm__ volatile("syscall" : : : "rax", "rcx", "r11", "memory");
}

static const struct insn_case cases[] = {
	PRIV_CASES(CASE_ROW)
	/* where syscall lands depends on the host (#UD on VT-x; kvm_pvm jumps to 0) */
	{"syscall", run_syscall, NULL, NO_ADDR},
};

int main(int argc, char **argv)
{
	return insn_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
