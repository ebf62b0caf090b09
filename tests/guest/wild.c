/*
 * wild — hypercalls with hostile arguments.  Each one must end this pVM
 * with a "bad hypercall" report; if the monitor ever resumes us, we print
 * "survived" and exit 0, which the test counts as a failure.
 *
 *   wild block KIND [CALL]   the argument block itself is wild
 *   wild console KIND        console write with a wild buffer
 *   wild panic KIND          panic with a wild message
 *   wild version | unknown   a good block with a bad version / call number
 *   wild resolve             KX_HC_RESOLVE in a pVM with no linked modules
 *   wild dlopen KIND         kx_dlopen / kx_dlsym with a wild name buffer
 *   wild dlsym KIND
 *   wild nolink              kx_dlopen without a channel: prints -KX_EPERM
 *
 * block KIND: null, unmapped, pagetable, gdt, misaligned, high (far beyond
 *   memory), readonly (boot info), text, end (a CALL block whose header fits
 *   but whose body crosses the end of memory).
 * buffer KIND: null, unmapped, pagetable, gdt, end (crosses the end of
 *   memory), wrap (address + length wraps around 2^64), toolong (length
 *   over the limit).
 * CALL: console, exit, clock, panic.
 */
#include "guest/kxguest.h"

#define MONITOR_GDT  0x1000u /* see docs/kvm-backend.md */
#define MONITOR_PML4 0x10000u

static void raw_out(uint32_t value)
{
	__asm__ volatile("outl %0, %1" : : "a"(value), "Nd"((uint16_t)KX_HCALL_PORT) : "memory");
}

static KX_NORETURN void survived(const char *what)
{
	printf("survived %s\n", what);
	exit(0);
}

static KX_NORETURN void usage(void)
{
	printf("usage: wild block KIND [CALL] | console KIND | panic KIND | version | unknown\n");
	exit(2);
}

static uint64_t wild_addr(const char *kind)
{
	const struct kx_boot_info *b = kx_boot_info();

	if (strcmp(kind, "null") == 0)
		return 0;
	if (strcmp(kind, "unmapped") == 0)
		return b->image_end; /* the unmapped page between image and heap */
	if (strcmp(kind, "pagetable") == 0)
		return MONITOR_PML4;
	if (strcmp(kind, "gdt") == 0)
		return MONITOR_GDT;
	if (strcmp(kind, "end") == 0)
		return b->mem_size - 8;
	if (strcmp(kind, "wrap") == 0)
		return 0xffffffffffffff80ull; /* + 256 bytes wraps to 0x80 */
	if (strcmp(kind, "readonly") == 0)
		return (uint64_t)(uintptr_t)b;
	if (strcmp(kind, "text") == 0)
		return (uint64_t)(uintptr_t)&main;
	usage();
}

static uint32_t call_nr(const char *name)
{
	static const char *const names[] = {"console", "exit", "clock", "panic"};

	for (unsigned i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return KX_HC_CONSOLE_WRITE + i;
	usage();
}

static void wild_block(const char *kind, const char *call)
{
	static uint64_t words[4] __attribute__((aligned(16)));

	if (strcmp(kind, "misaligned") == 0) {
		raw_out((uint32_t)(uintptr_t)words + 4);
	} else if (strcmp(kind, "high") == 0) {
		raw_out(0xfffffff8u); /* 32 bits is all a block address has */
	} else if (strcmp(kind, "end") == 0) {
		/* The last 16 bytes of memory (top of the stack, unused) hold a
		 * valid header; the rest of the block lies past the end. */
		struct kx_hc_hdr *h =
			(struct kx_hc_hdr *)(uintptr_t)(kx_boot_info()->mem_size - 16);

		*h = (struct kx_hc_hdr){KX_HCALL_ABI_VERSION, call ? call_nr(call) : KX_HC_CLOCK,
					0};
		raw_out((uint32_t)(uintptr_t)h);
	} else {
		raw_out((uint32_t)wild_addr(kind));
	}
	survived(kind);
}

/* console and panic blocks share a layout: {hdr, pointer, length}. */
static void wild_buffer(uint32_t nr, const char *kind)
{
	struct kx_hc_console_write c = {.hdr = {KX_HCALL_ABI_VERSION, nr, 0}};
	static char text[] = "ok";

	_Static_assert(sizeof(struct kx_hc_console_write) == sizeof(struct kx_hc_panic) &&
			       offsetof(struct kx_hc_console_write, len) ==
				       offsetof(struct kx_hc_panic, len),
		       "console and panic blocks share a layout");
	if (strcmp(kind, "toolong") == 0) {
		c.buf = (uint64_t)(uintptr_t)text;
		c.len = (nr == KX_HC_PANIC ? KX_HC_PANIC_MAX : KX_HC_CONSOLE_MAX) + 1;
	} else {
		c.buf = wild_addr(kind);
		c.len = strcmp(kind, "wrap") == 0 ? 256 : 16;
	}
	raw_out((uint32_t)(uintptr_t)&c);
	survived(kind);
}

/* dlopen and dlsym blocks with a wild name (the monitor reads it). */
static void wild_name(uint32_t nr, const char *kind)
{
	struct kx_hc_dlsym d = {.hdr = {KX_HCALL_ABI_VERSION, nr, 0}, .handle = 1};
	struct kx_hc_dlopen o = {.hdr = {KX_HCALL_ABI_VERSION, nr, 0}};
	uint64_t addr = wild_addr(kind), len = strcmp(kind, "wrap") == 0 ? 63 : 16;

	if (nr == KX_HC_DLOPEN) {
		o.name = addr;
		o.len = len;
		raw_out((uint32_t)(uintptr_t)&o);
	} else {
		d.name = addr;
		d.len = len;
		raw_out((uint32_t)(uintptr_t)&d);
	}
	survived(kind);
}

static void resolve_unlinked(void)
{
	struct kx_hc_resolve r = {.hdr = {KX_HCALL_ABI_VERSION, KX_HC_RESOLVE, 0},
				  .module_id = 1};

	raw_out((uint32_t)(uintptr_t)&r);
	survived("resolve");
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "resolve") == 0)
		resolve_unlinked();
	if (strcmp(argv[1], "dlopen") == 0 && argc > 2)
		wild_name(KX_HC_DLOPEN, argv[2]);
	if (strcmp(argv[1], "dlsym") == 0 && argc > 2)
		wild_name(KX_HC_DLSYM, argv[2]);
	if (strcmp(argv[1], "nolink") == 0) {
		kx_handle_t h = 0;

		printf("kx_dlopen: %ld\n", kx_dlopen("libkvmath.so", &h));
		printf("kx_dlsym: %p\n", kx_dlsym(1, "kvm_add"));
		return 0;
	}
	if (strcmp(argv[1], "block") == 0 && argc > 2)
		wild_block(argv[2], argc > 3 ? argv[3] : NULL);
	if (strcmp(argv[1], "console") == 0 && argc > 2)
		wild_buffer(KX_HC_CONSOLE_WRITE, argv[2]);
	if (strcmp(argv[1], "panic") == 0 && argc > 2)
		wild_buffer(KX_HC_PANIC, argv[2]);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "unknown") == 0) {
		struct kx_hc_exit e = {.hdr = {KX_HCALL_ABI_VERSION, KX_HC_EXIT, 0}, .status = 0};

		if (argv[1][0] == 'v')
			e.hdr.abi_version = KX_HCALL_ABI_VERSION + 1;
		else
			e.hdr.nr = 999;
		raw_out((uint32_t)(uintptr_t)&e);
		survived(argv[1]);
	}
	usage();
}
