/*
 * libkxtest.so: a small library that makes the linker emit every
 * relocation kind the kx loader applies (R_X86_64_64, RELATIVE, GLOB_DAT,
 * JUMP_SLOT, DTPMOD64/DTPOFF64, TPOFF64), plus a weak undefined reference, a
 * .symtab-only static variable and a DT_NEEDED on libkxdep.so.
 * tests/elf/generate.py builds it; tests/unit/test_elf_load.c checks the
 * values the loader writes.
 */
#include <stddef.h>

extern int kxdep_value(int x);                          /* JUMP_SLOT */
extern int kxdep_counter;                               /* GLOB_DAT */
extern void kx_optional_hook(void) __attribute__((weak)); /* weak undefined */

int kxtest_global = 42;
static int kxtest_static = 7; /* local: only in .symtab */
__thread int kxtest_tls = 5;  /* global-dynamic: DTPMOD64 + DTPOFF64 */
static __thread int kxtest_tls_ie __attribute__((tls_model("initial-exec"))) = 9; /* TPOFF64 */
int *kxtest_ptr = &kxtest_global;   /* R_X86_64_64 against an interposable symbol */
const char *kxtest_name = "kxtest"; /* RELATIVE */

int kxtest_add(int a, int b)
{
	return a + b + kxtest_static++;
}

int kxtest_call_dep(int x)
{
	return kxdep_value(x) + kxdep_counter;
}

int kxtest_has_hook(void)
{
	return kx_optional_hook != NULL;
}

int *kxtest_tls_addr(void)
{
	return &kxtest_tls;
}

int kxtest_tls_ie_get(void)
{
	return kxtest_tls_ie++;
}
