/*
 * hcall.c — the runtime's calls to its monitor (guest/kx_hcall_abi.h): each
 * fills a block on the stack and hands it to the platform's kx_hcall
 * (guest/platform.h), which knows how the block reaches the host.
 */
#include "guest/kxrt.h"
#include "guest/platform.h"
#include "guest/runtime.h"

void kx_panic(const char *fmt, ...)
{
	char msg[KX_HC_PANIC_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kx_plat_panic(msg, n < 0 ? 0 : (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
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
	rc = kx_hcall(&d.hdr, KX_HC_DLOPEN);
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
	if (kx_hcall(&d.hdr, KX_HC_DLSYM) != 0)
		return NULL;
	return (void *)(uintptr_t)d.addr;
}

long kx_fork(void)
{
	struct kx_hc_fork f = {{0}};
	int64_t rc = kx_hcall(&f.hdr, KX_HC_FORK);

	if (rc == 0)
		kx_ipc_forked(); /* the child: its own IpC lock token */
	return (long)rc;
}

long kx_wait(uint64_t child_id, int *status)
{
	struct kx_hc_wait w = {.child_id = child_id};
	int64_t rc = kx_hcall(&w.hdr, KX_HC_WAIT);

	if (rc == 0 && status)
		*status = (int)w.status;
	return (long)rc;
}

long kx_recycle_wait(void *buf, size_t size, kx_app_entry_t *entry, int *argc, char ***argv)
{
	struct kx_hc_recycle_wait r = {.buf = (uint64_t)(uintptr_t)buf, .size = size};
	int64_t rc = kx_hcall(&r.hdr, KX_HC_RECYCLE_WAIT);

	if (rc == 0) {
		*entry = (kx_app_entry_t)(uintptr_t)r.entry;
		*argc = (int)r.argc;
		*argv = (char **)(uintptr_t)r.argv;
	}
	return (long)rc;
}
