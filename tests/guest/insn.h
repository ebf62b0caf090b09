/*
 * insn.h — for test guests that must fault on purpose: mark the faulting
 * instruction with a global label so the guest can print its address
 * ("RIP 0x...") before running it, and the test can check the monitor's
 * report names exactly that instruction.
 */
#ifndef KX_TEST_INSN_H
#define KX_TEST_INSN_H

#include "guest/kxguest.h"

/* Emit a global label insn_NAME at this point of an asm statement. */
#define INSN_LABEL(name) ".globl insn_" #name "\ninsn_" #name ":\n\t"

struct insn_case {
	const char *name;
	void (*run)(void);
	const void *rip; /* where the fault must be reported, or NULL */
	int has_addr;	 /* a page fault at a known address: */
	uintptr_t addr;
};

#define AT_ADDR(a) 1, (uintptr_t)(a)
#define NO_ADDR	   0, 0

/* Run the case called argv[1]; print "survived" and exit 0 if it returns. */
static inline int insn_main(const struct insn_case *cases, size_t n, int argc, char **argv)
{
	for (size_t i = 0; argc > 1 && i < n; i++) {
		if (strcmp(argv[1], cases[i].name) != 0)
			continue;
		if (cases[i].rip != NULL)
			printf("RIP %p\n", cases[i].rip);
		if (cases[i].has_addr)
			printf("ADDR %p\n", (void *)cases[i].addr);
		cases[i].run();
		printf("survived %s\n", cases[i].name);
		return 0;
	}
	printf("usage: %s CASE; cases:", argv[0]);
	for (size_t i = 0; i < n; i++)
		printf(" %s", cases[i].name);
	printf("\n");
	return 2;
}

#endif
