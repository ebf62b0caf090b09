/*
 * linkt — a dynamic test image linked against libkvmath.so (DT_NEEDED):
 *   calls N       call kvm_add N times (lazy binding: one RESOLVE for it)
 *   gotwrite      write the image's own GOT (read-only to the guest: #PF)
 *   textwrite     write libkvmath's text (read-only, shared: #PF)
 *   dlopen LIB    kx_dlopen(LIB), then call its acme_log through kx_dlsym
 *   dlsym-bad     kx_dlsym with a handle kx_dlopen never returned
 *   resolve ID I  a raw KX_HC_RESOLVE for module ID, PLT index I (hostile)
 *   wait-push SYM wait up to 10 s for a pushed library (handles 3..8) to
 *                 export SYM, then call it as acme_log (kxctl link tests)
 *   spin          loop forever without a hypercall (a push must still be
 *                 applied: the channel kicks the vCPU out to a safe point)
 */
#include "guest/examples/kvmath.h"
#include "guest/kxguest.h"

extern char _GLOBAL_OFFSET_TABLE_[];

static int do_dlopen(const char *lib)
{
	int (*log_line)(const char *, const char *, long);
	kx_handle_t h = 0;
	long rc = kx_dlopen(lib, &h);

	printf("dlopen %s: %ld\n", lib, rc);
	if (rc != 0)
		return 3;
	log_line = (int (*)(const char *, const char *, long))kx_dlsym(h, "acme_log");
	printf("dlsym acme_log: %s\n", log_line ? "found" : "missing");
	printf("dlsym nosuch: %s\n", kx_dlsym(h, "nosuch") ? "found" : "missing");
	if (log_line == NULL)
		return 4;
	log_line("linkt", "answer", kvm_add(40, 2));
	return 0;
}

typedef int (*log_fn)(const char *, const char *, long);

static log_fn find_pushed(const char *sym)
{
	for (kx_handle_t h = 3; h <= 8; h++) {
		log_fn f = (log_fn)kx_dlsym(h, sym);

		if (f != NULL)
			return f;
	}
	return NULL;
}

static int wait_push(const char *sym)
{
	uint64_t deadline = kx_clock_monotonic_ns() + 10000000000ull;
	log_fn f;

	while ((f = find_pushed(sym)) == NULL) {
		if (kx_clock_monotonic_ns() > deadline) {
			printf("no pushed library exports %s\n", sym);
			return 5;
		}
	}
	f("linkt", "pushed", 7);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "calls";

	if (strcmp(mode, "calls") == 0) {
		long n = argc > 2 ? strtol(argv[2], NULL, 10) : 1, s = 0;

		for (long i = 0; i < n; i++)
			s = kvm_add(s, 1);
		printf("sum %ld, libkvmath %s, %lu calls\n", s, kvm_version, kvm_calls);
		return 0;
	}
	if (strcmp(mode, "gotwrite") == 0) {
		printf("writing the GOT\n");
		*(volatile char *)_GLOBAL_OFFSET_TABLE_ = 0;
		printf("survived\n");
		return 1;
	}
	if (strcmp(mode, "textwrite") == 0) {
		volatile char *text = kvm_text();

		printf("writing libkvmath text\n");
		*text = (char)0xc3;
		printf("survived\n");
		return 1;
	}
	if (strcmp(mode, "dlopen") == 0 && argc > 2)
		return do_dlopen(argv[2]);
	if (strcmp(mode, "resolve") == 0 && argc > 3) {
		struct kx_hc_resolve r = {.hdr = {KX_HCALL_ABI_VERSION, KX_HC_RESOLVE, 0},
					  .module_id = strtoul(argv[2], NULL, 0),
					  .index = strtoul(argv[3], NULL, 0)};

		__asm__ volatile("outl %0, %1"
				 :
				 : "a"((uint32_t)(uintptr_t)&r), "Nd"((uint16_t)KX_HCALL_PORT)
				 : "memory");
		printf("survived: resolved to %p\n", (void *)(uintptr_t)r.addr);
		return 0;
	}
	if (strcmp(mode, "spin") == 0) {
		printf("spinning\n");
		for (;;)
			__asm__ volatile("pause");
	}
	if (strcmp(mode, "wait-push") == 0 && argc > 2)
		return wait_push(argv[2]);
	if (strcmp(mode, "dlsym-bad") == 0) {
		printf("dlsym: %s\n", kx_dlsym(12345, "acme_log") ? "found" : "missing");
		return 0;
	}
	printf("usage: linkt calls N | gotwrite | textwrite | dlopen LIB | dlsym-bad |\n"
	       "       resolve ID I | wait-push SYM | spin\n");
	return 2;
}
