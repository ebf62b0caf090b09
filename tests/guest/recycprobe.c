/*
 * recycprobe.c — an app built as a library, for tests/cli/kvm_recycle.bats
 * ("a recycled pVM holds nothing of its previous life").
 *
 *   plant TOKEN     leave a secret in a heap block (never freed), a static
 *                   buffer and a stack frame; exit 7
 *   scan TOKEN      scan the pVM's whole heap and stack for it: exit 0 when
 *                   it is nowhere, 1 when it is found
 *   control TOKEN   plant, then scan: the scan must find it (exit 1)
 *   spin TOKEN      print "spinning" and never return (kxd --pvm-timeout)
 *
 * The secret is the token XORed with PROBE_XOR, so that a scan compares
 * against it without ever writing it into memory itself.
 */
#include "guest/kxguest.h"

#define PROBE_XOR 0x5a
#define TOKEN_MAX 64

static char kept[TOKEN_MAX];

static void plant_at(volatile char *dst, const char *token, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)(token[i] ^ PROBE_XOR);
}

static __attribute__((noinline)) void plant_on_stack(const char *token, size_t n)
{
	volatile char frame[TOKEN_MAX];

	plant_at(frame, token, n);
}

static int plant(const char *token, size_t n)
{
	char *heap = malloc(n);

	if (heap == NULL)
		return -1;
	plant_at(heap, token, n);
	plant_at(kept, token, n);
	plant_on_stack(token, n);
	return 0;
}

/* Copies of the secret in [start, start + size). */
static int scan_range(uint64_t start, uint64_t size, const char *token, size_t n)
{
	const volatile uint8_t *mem = (const volatile uint8_t *)(uintptr_t)start;
	int copies = 0;

	for (uint64_t i = 0; size >= n && i <= size - n; i++) {
		size_t j = 0;

		while (j < n && (uint8_t)(mem[i + j] ^ PROBE_XOR) == (uint8_t)token[j])
			j++;
		copies += j == n;
	}
	return copies;
}

int app_entry(int argc, char **argv)
{
	const struct kx_boot_info *b = kx_boot_info();
	const char *mode = argc == 3 ? argv[1] : "";
	size_t n = argc == 3 ? strlen(argv[2]) : 0;
	int copies;

	if (n < 8 || n > TOKEN_MAX ||
	    (strcmp(mode, "plant") && strcmp(mode, "scan") && strcmp(mode, "control") &&
	     strcmp(mode, "spin"))) {
		printf("usage: recycprobe plant|scan|control|spin TOKEN (8..%d bytes)\n",
		       TOKEN_MAX);
		return 2;
	}
	if (strcmp(mode, "spin") == 0) {
		printf("recycprobe: spinning\n");
		for (volatile int forever = 1; forever;)
			;
	}
	if (strcmp(mode, "scan") != 0 && plant(argv[2], n) != 0)
		return 3;
	if (strcmp(mode, "plant") == 0) {
		printf("recycprobe: secret left in the heap, the bss and the stack\n");
		return 7;
	}
	copies = scan_range(b->heap_start, b->heap_size, argv[2], n) +
		 scan_range(b->stack_top - b->stack_size, b->stack_size, argv[2], n);
	printf("recycprobe: scanned the whole heap (%lu bytes) and stack (%lu bytes): %s\n",
	       (unsigned long)b->heap_size, (unsigned long)b->stack_size,
	       copies ? "the secret is there" : "no trace of the secret");
	return copies ? 1 : 0;
}
