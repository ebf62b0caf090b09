/*
 * start.c — from the monitor's entry (crt1.S) to musl's
 * __libc_start_main: the syscall layer is set up first (memory, threads,
 * fds 0..2, the file system), then the process's initial block is built
 * as Linux builds it on a new stack — argc's argv, the environment the
 * monitor was given (KX_HC_ENVIRON: kxmon -e, kxctl run -e), the auxiliary
 * vector — in pages of the heap region, with the strings copied so that
 * the program may write them (getopt_long permutes argv, putenv edits).
 *
 * The auxiliary vector gives musl what it reads: the page size, the ids,
 * the image's program headers (for PT_TLS: thread-local variables; the
 * SDK's linker script loads the headers), AT_RANDOM (16 bytes of RDRAND,
 * for the stack protector's canary and malloc's secret; absent without
 * RDRAND, and musl falls back to an address) and AT_EXECFN.
 */
#include <elf.h>
#include <string.h>

#include "guest/posix/posix.h"

int __libc_start_main(int (*main)(int, char **, char **), int argc, char **argv,
		      void (*init)(void), void (*fini)(void), void (*ldso)(void));
__attribute__((noreturn)) void kx_posix_start(const struct kx_boot_info *boot,
					      int (*main)(int, char **, char **));

/* The ELF header, when the linker script loads it (kx.ld does). */
extern const Elf64_Ehdr __ehdr_start __attribute__((weak, visibility("hidden")));

#define AUX_MAX 16

static char **initial_block(const struct kx_boot_info *boot)
{
	char *const *argv = (char *const *)boot->argv, *const *env;
	struct kx_hc_environ e = {0};
	size_t argc = boot->argc, envc, strings = 0, words, bytes;
	uint64_t aux[2 * AUX_MAX], *p;
	unsigned char random[16];
	size_t n = 0;
	char **block, *s;

	if (kx_hcall(&e.hdr, KX_HC_ENVIRON) != 0 || e.addr == 0)
		e.count = 0;
	env = (char *const *)(uintptr_t)e.addr;
	envc = (size_t)e.count;
	for (size_t i = 0; i < argc; i++)
		strings += strlen(argv[i]) + 1;
	for (size_t i = 0; i < envc; i++)
		strings += strlen(env[i]) + 1;
#define AUX(k, v) (aux[n++] = (k), aux[n++] = (uint64_t)(v))
	AUX(AT_PAGESZ, KX_PAGE);
	AUX(AT_UID, KX_UID);
	AUX(AT_EUID, KX_UID);
	AUX(AT_GID, KX_GID);
	AUX(AT_EGID, KX_GID);
	AUX(AT_SECURE, 0);
	if (&__ehdr_start != NULL) {
		AUX(AT_PHDR, (const char *)&__ehdr_start + __ehdr_start.e_phoff);
		AUX(AT_PHENT, __ehdr_start.e_phentsize);
		AUX(AT_PHNUM, __ehdr_start.e_phnum);
	}
	{
		unsigned a, b, c, d;

		__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
		AUX(AT_HWCAP, d); /* as Linux: CPUID.1:EDX */
	}
	/* AT_RANDOM and AT_EXECFN point into the block; filled in below. */
	words = argc + 1 + envc + 1 + n + 2 * 3;
	bytes = words * sizeof(uint64_t) + sizeof(random) + strings;
	block = kx_pages_alloc((bytes + KX_PAGE - 1) / KX_PAGE);
	if (!block)
		kx_panic("posix: no memory for argv");
	s = (char *)block + words * sizeof(uint64_t) + sizeof(random);
	for (size_t i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]) + 1;

		memcpy(s, argv[i], len);
		block[i] = s;
		s += len;
	}
	block[argc] = NULL; /* end of argv */
	for (size_t i = 0; i < envc; i++) {
		size_t len = strlen(env[i]) + 1;

		memcpy(s, env[i], len);
		block[argc + 1 + i] = s;
		s += len;
	}
	block[argc + 1 + envc] = NULL; /* end of the environment */
	p = (uint64_t *)&block[argc + 2 + envc];
	memcpy(p, aux, n * sizeof(uint64_t));
	p += n;
	if (kx_random(random, sizeof(random)) == (long)sizeof(random)) {
		unsigned char *r = (unsigned char *)block + words * sizeof(uint64_t);

		memcpy(r, random, sizeof(random));
		*p++ = AT_RANDOM;
		*p++ = (uint64_t)(uintptr_t)r;
	}
	if (argc > 0) {
		*p++ = AT_EXECFN;
		*p++ = (uint64_t)(uintptr_t)block[0];
	}
	*p++ = AT_NULL;
	*p = 0;
	return block;
#undef AUX
}

void kx_posix_start(const struct kx_boot_info *boot, int (*main)(int, char **, char **))
{
	char **argv;
	uint64_t fs;

	kx_boot_init(boot);
	/* musl keeps each thread's state at the FS base, which the platform
	 * sets (guest/platform.h: on KVM wrfsbase, allowed only when the host
	 * CPU has FSGSBASE; on Xen a hypercall). */
	if (kx_plat_get_segbase(KX_SEG_FS, &fs) != 0)
		kx_panic("posix: the host CPU has no FSGSBASE, and musl's TLS needs it "
			 "(the monitor's TLS hypercall is not there yet)");
	kx_mem_init(boot);
	kx_time_init();
	kx_threads_init();
	kx_limits_init(boot);
	kx_console_init();
	kx_tmpfs_init();
	argv = initial_block(boot);
	__libc_start_main(main, (int)boot->argc, argv, NULL, NULL, NULL);
	kx_panic("posix: __libc_start_main returned");
}
