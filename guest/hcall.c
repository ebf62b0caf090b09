/*
 * hcall.c — the guest half of the hypercall ABI (guest/kx_hcall_abi.h):
 * fill a block on the stack, `outl` its address to KX_HCALL_PORT.  The
 * monitor has completed the call when the instruction retires.
 */
#include "guest/kxrt.h"
#include "guest/runtime.h"

static int64_t hcall(struct kx_hc_hdr *hdr, uint32_t nr)
{
	hdr->abi_version = KX_HCALL_ABI_VERSION;
	hdr->nr = nr;
	hdr->ret = 0;
	/* Identity-mapped and below 4 GiB: the address fits in 32 bits. */
	__asm__ volatile("outl %0, %1"
			 :
			 : "a"((uint32_t)(uintptr_t)hdr), "Nd"((uint16_t)KX_HCALL_PORT)
			 : "memory");
	return hdr->ret;
}

int64_t kx_hcall(struct kx_hc_hdr *hdr, uint32_t nr)
{
	return hcall(hdr, nr);
}

long kx_console_write(const void *buf, size_t len)
{
	const char *p = buf;
	long done = 0;

	while (len > 0) {
		size_t chunk = len < KX_HC_CONSOLE_MAX ? len : KX_HC_CONSOLE_MAX;
		struct kx_hc_console_write c = {.buf = (uint64_t)(uintptr_t)p, .len = chunk};
		int64_t n = hcall(&c.hdr, KX_HC_CONSOLE_WRITE);

		if (n < 0)
			return done > 0 ? done : (long)n;
		done += n;
		p += chunk;
		len -= chunk;
	}
	return done;
}

void kx_exit(int status)
{
	struct kx_hc_exit e = {.status = status};

	hcall(&e.hdr, KX_HC_EXIT);
	for (;;)
		__builtin_trap(); /* the monitor never resumes an exited pVM */
}

static struct kx_hc_clock read_clock(void)
{
	struct kx_hc_clock c = {0};

	hcall(&c.hdr, KX_HC_CLOCK);
	return c;
}

uint64_t kx_clock_monotonic_ns(void)
{
	return read_clock().monotonic_ns;
}

uint64_t kx_clock_realtime_ns(void)
{
	return read_clock().realtime_ns;
}

void kx_panic(const char *fmt, ...)
{
	char msg[KX_HC_PANIC_MAX];
	struct kx_hc_panic p;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p = (struct kx_hc_panic){.msg = (uint64_t)(uintptr_t)msg,
				 .len = n < 0			  ? 0
					: (size_t)n < sizeof(msg) ? (size_t)n
								  : sizeof(msg) - 1};
	hcall(&p.hdr, KX_HC_PANIC);
	for (;;)
		__builtin_trap();
}

/* Copy a name's length for the hypercall; -KX_EINVAL when it cannot pass. */
static int64_t name_len(const char *name)
{
	size_t n = name ? strnlen(name, KX_HC_NAME_MAX + 1) : 0;

	return n == 0 || n > KX_HC_NAME_MAX ? -KX_EINVAL : (int64_t)n;
}

long kx_dlopen(const char *name, kx_handle_t *handle)
{
	int64_t len = name_len(name);
	struct kx_hc_dlopen d;
	int64_t rc;

	if (len < 0)
		return (long)len;
	d = (struct kx_hc_dlopen){.name = (uint64_t)(uintptr_t)name, .len = (uint64_t)len};
	rc = hcall(&d.hdr, KX_HC_DLOPEN);
	if (rc == 0)
		*handle = d.handle;
	return (long)rc;
}

void *kx_dlsym(kx_handle_t handle, const char *name)
{
	int64_t len = name_len(name);
	struct kx_hc_dlsym d;

	if (len < 0)
		return NULL;
	d = (struct kx_hc_dlsym){
		.handle = handle, .name = (uint64_t)(uintptr_t)name, .len = (uint64_t)len};
	if (hcall(&d.hdr, KX_HC_DLSYM) != 0)
		return NULL;
	return (void *)(uintptr_t)d.addr;
}

long kx_fork(void)
{
	struct kx_hc_fork f = {{0}};
	int64_t rc = hcall(&f.hdr, KX_HC_FORK);

	if (rc == 0)
		kx_ipc_forked(); /* the child: its own IpC lock token */
	return (long)rc;
}

long kx_wait(uint64_t child_id, int *status)
{
	struct kx_hc_wait w = {.child_id = child_id};
	int64_t rc = hcall(&w.hdr, KX_HC_WAIT);

	if (rc == 0 && status)
		*status = (int)w.status;
	return (long)rc;
}

long kx_recycle_wait(void *buf, size_t size, kx_app_entry_t *entry, int *argc, char ***argv)
{
	struct kx_hc_recycle_wait r = {.buf = (uint64_t)(uintptr_t)buf, .size = size};
	int64_t rc = hcall(&r.hdr, KX_HC_RECYCLE_WAIT);

	if (rc == 0) {
		*entry = (kx_app_entry_t)(uintptr_t)r.entry;
		*argc = (int)r.argc;
		*argv = (char **)(uintptr_t)r.argv;
	}
	return (long)rc;
}
