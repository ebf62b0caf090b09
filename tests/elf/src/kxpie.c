/*
 * kxpie: a position-independent executable without libc that reads a
 * variable of libkxtest.so directly, so the linker emits R_X86_64_COPY.
 * Its DT_NEEDED chain kxpie -> libkxtest.so -> libkxdep.so is two deep.
 */
extern int kxtest_global;
extern int kxtest_add(int a, int b);

int kxpie_result;

void _start(void)
{
	kxpie_result = kxtest_add(kxtest_global, 1);
	for (;;)
		__asm__ volatile("hlt");
}
