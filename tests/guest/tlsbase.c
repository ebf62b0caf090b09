/* tlsbase — the guest sets its own TLS base (FS) without an exit when boot
 * info offers KX_BOOT_FSGSBASE, and reads memory through it.  Exit 0 when
 * it works, 3 when the feature is not offered (the host CPU lacks it). */
#include "guest/kxguest.h"

static uint64_t block[2];

int main(int argc, char **argv)
{
	const struct kx_boot_info *b = kx_boot_info();
	uint64_t base, self;

	(void)argc;
	(void)argv;
	if (!(b->features & KX_BOOT_FSGSBASE)) {
		printf("no FSGSBASE\n");
		return 3;
	}
	block[0] = (uint64_t)(uintptr_t)block;
	__asm__ volatile("wrfsbase %0" : : "r"((uint64_t)(uintptr_t)block) : "memory");
	__asm__ volatile("rdfsbase %0" : "=r"(base));
	__asm__ volatile("movq %%fs:0, %0" : "=r"(self));
	printf("fs base %s, %%fs:0 %s\n", base == block[0] ? "set" : "wrong",
	       self == block[0] ? "reads the block" : "wrong");
	return base == block[0] && self == block[0] ? 0 : 1;
}
