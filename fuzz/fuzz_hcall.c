/*
 * fuzz_hcall — drives the hypercall decoder (hv_hcall_dispatch) with
 * arbitrary guest memory, page rights and port values; no KVM involved.
 *
 * Input layout (all of it untrusted, any length):
 *   byte 0        flags: bit 0 = use the port value as is (else keep its
 *                 low 16 bits, so it lands in guest memory), bit 1 = the
 *                 console sink fails, bit 2 = the pVM has a linker (fake
 *                 hooks: 2 modules of 3 PLT slots) and a manager (fake
 *                 fork and wait hooks), bits 3-4 = what the fake dlopen
 *                 and fork answer (0, -EACCES, -EPIPE, -ENOMEM)
 *   bytes 1..4    port value, little-endian
 *   bytes 5..20   guest rights of the 16 pages (HV_PROT_* in the low 3 bits)
 *   bytes 21..    guest memory from address 0 (64 KiB; the rest is zero)
 *
 * Besides ASan/UBSan, the harness checks what the decoder promises: it
 * writes nothing but the argument block, and only when the call succeeded;
 * every buffer it hands the console lies in readable guest pages; a bad
 * call always carries a reason; a panic message is NUL-terminated; names
 * reach the link hooks NUL-terminated, 1..KX_HC_NAME_MAX bytes; a RESOLVE
 * the hooks refuse never resumes the guest; a fork or wait whose hook
 * reports a broken channel never resumes it either.  With bit 2 the pVM is
 * also in a recycle pool (a fake source handing over argv "app" "one");
 * RECYCLE_WAIT may write its argv buffer as well as its block.  With bit 2
 * it has fake IpC objects too (fake_ipc: a GET whose hook reports a broken
 * channel never resumes; DETACH ends and NOTIFY addresses reach the hooks
 * in range and aligned, waits capped).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "manager/hv/hv.h"

#define FUZZ_PAGES  16u
#define FUZZ_MEM    (FUZZ_PAGES * KX_PAGE_SIZE)
#define HEADER_SIZE (1 + 4 + FUZZ_PAGES)
#define MAX_BLOCK   64u /* larger than every argument block */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	const struct hv_guest_mem *mem;
	int fail;
};

static ssize_t sink_write(void *opaque, const void *buf, size_t len)
{
	const struct sink *s = opaque;
	const uint8_t *p = buf;

	/* The decoder must only pass readable guest memory it checked. */
	if (p < s->mem->host || len > s->mem->size ||
	    (size_t)(p - s->mem->host) > s->mem->size - len ||
	    hv_guest_ptr(s->mem, (uint64_t)(p - s->mem->host), len, HV_ACCESS_READ) != p)
		abort();
	return s->fail ? -5 : (ssize_t)len;
}

static uint64_t fake_clock(int clock_id)
{
	return clock_id == CLOCK_MONOTONIC ? 123456789ull : 1700000000000000000ull;
}

/* Fake linker: module ids 1..2, PLT indexes 0..2 (what link.c checks). */
#define FAKE_MODULES 2u
#define FAKE_SLOTS   3u

struct fake_link {
	int dlopen_rc;
	int resolve_refused;
	int channel_broke; /* a fork or wait hook said -EPIPE */
};

static void check_name(const char *name)
{
	size_t n = strnlen(name, KX_HC_NAME_MAX + 1);

	if (n == 0 || n > KX_HC_NAME_MAX)
		abort();
}

static int fake_resolve(void *opaque, uint64_t module_id, uint64_t index, uint64_t *addr)
{
	struct fake_link *f = opaque;

	if (module_id == 0 || module_id > FAKE_MODULES || index >= FAKE_SLOTS) {
		f->resolve_refused = 1;
		return -EINVAL;
	}
	*addr = 0x400000 + module_id * 0x1000 + index * 16;
	return 0;
}

static int fake_dlopen(void *opaque, const char *name, uint64_t *handle)
{
	const struct fake_link *f = opaque;

	check_name(name);
	if (f->dlopen_rc == 0)
		*handle = FAKE_MODULES + 1;
	return f->dlopen_rc;
}

static int fake_dlsym(void *opaque, uint64_t handle, const char *name, uint64_t *addr)
{
	(void)opaque;
	check_name(name);
	if (handle == 0 || handle > FAKE_MODULES)
		return -EBADF;
	*addr = 0x401000;
	return strcmp(name, "kvm_add") == 0 ? 0 : -ENOENT;
}

static const struct hv_link_hooks fake_hooks = {
	.resolve = fake_resolve,
	.dlopen = fake_dlopen,
	.dlsym = fake_dlsym,
};

/* Fake manager: one child, id 5, that exited with status 7. */
#define FAKE_CHILD 5u

static int fake_fork(void *opaque, uint64_t *child_id)
{
	struct fake_link *f = opaque;

	if (f->dlopen_rc == -EPIPE)
		f->channel_broke = 1;
	if (f->dlopen_rc == 0)
		*child_id = FAKE_CHILD;
	return f->dlopen_rc;
}

static int fake_wait(void *opaque, uint64_t child_id, int64_t *status)
{
	(void)opaque;
	if (child_id != FAKE_CHILD)
		return -ECHILD;
	*status = 7;
	return 0;
}

static const struct hv_proc_hooks fake_proc = {
	.fork = fake_fork,
	.wait = fake_wait,
};

/* Fake recycle source: hands over "app" "one" (or the dlopen answer's
 * failure: a broken channel must end the pVM, like every failure here). */
static int fake_recycle_wait(void *opaque, struct hv_recycle_work *work)
{
	struct fake_link *f = opaque;
	static const char args[] = "app\0one";

	if (f->dlopen_rc != 0) {
		f->channel_broke = 1;
		return f->dlopen_rc;
	}
	work->entry = 0x401000;
	work->argc = 2;
	work->args_len = sizeof(args);
	memcpy(work->args, args, sizeof(args));
	return 0;
}

static const struct hv_recycle_hooks fake_recycle = {
	.wait = fake_recycle_wait,
};

/* Fake signals (docs/signals.md): kill answers what dlopen would (-EPIPE
 * must end the pVM), KX_SIGKILL cannot be handled, pause is interrupted,
 * waitx knows FAKE_CHILD only, no handler ever runs (SIGRETURN: -EINVAL). */
static int fake_kill(void *opaque, uint64_t pvm_id, uint32_t sig)
{
	struct fake_link *f = opaque;

	(void)pvm_id;
	if (sig >= KX_NSIG)
		abort(); /* the decoder checks the range first */
	if (f->dlopen_rc == -EPIPE)
		f->channel_broke = 1;
	return f->dlopen_rc;
}

static int fake_action(void *opaque, uint32_t sig, uint64_t handler, uint64_t trampoline)
{
	(void)opaque, (void)handler, (void)trampoline;
	return sig == 0 || sig == KX_SIGKILL ? -EINVAL : 0;
}

static int fake_pause(void *opaque)
{
	struct fake_link *f = opaque;

	if (f->dlopen_rc == -EPIPE) {
		f->channel_broke = 1;
		return -EPIPE;
	}
	return -EINTR;
}

static int fake_waitx(void *opaque, uint64_t child_id, uint32_t flags, uint64_t timeout_ns,
		      uint64_t *waited, int64_t *status)
{
	(void)opaque, (void)timeout_ns;
	if (child_id != 0 && child_id != FAKE_CHILD)
		return -ECHILD;
	*waited = flags & KX_WNOHANG ? 0 : FAKE_CHILD;
	*status = 7;
	return 0;
}

static int fake_sigreturn(void *opaque)
{
	(void)opaque;
	return -EINVAL;
}

static const struct hv_sig_hooks fake_sig = {
	.kill = fake_kill,
	.action = fake_action,
	.pause = fake_pause,
	.waitx = fake_waitx,
};

/* Fake IpC objects (docs/ipc.md): GET answers what dlopen would (-EPIPE
 * must end the pVM) with object 9 at 0x8000; DETACH and RM know object 9
 * only; NOTIFY words must be 4-byte aligned when they reach the hooks. */
static int fake_ipc_get(void *opaque, struct kx_hc_ipc_get *io)
{
	struct fake_link *f = opaque;

	if (io->kind < KX_IPC_KIND_PIPE || io->kind > KX_IPC_KIND_SHM)
		abort(); /* the decoder checks the kind first */
	if (f->dlopen_rc == -EPIPE)
		f->channel_broke = 1;
	if (f->dlopen_rc == 0) {
		io->id = 9;
		io->addr = 0x8000;
		io->data_size = KX_PAGE_SIZE;
	}
	return f->dlopen_rc;
}

static int fake_ipc_obj(void *opaque, uint64_t id, uint32_t ends)
{
	(void)opaque;
	if ((ends & ~(KX_IPC_END_READ | KX_IPC_END_WRITE)) != 0)
		abort(); /* checked by the decoder: kxd would end the pVM */
	return id == 9 ? 0 : -EINVAL;
}

static int fake_ipc_rm(void *opaque, uint64_t id)
{
	return fake_ipc_obj(opaque, id, 0);
}

static uint64_t fake_ipc_self(void *opaque)
{
	(void)opaque;
	return 4242;
}

static int fake_ipc_wait(void *opaque, uint64_t addr, uint32_t value, uint64_t timeout_ns)
{
	(void)opaque, (void)value;
	if (addr % 4 != 0 || timeout_ns > KX_IPC_WAIT_MAX_NS)
		abort(); /* checked and capped by the decoder */
	return -ETIMEDOUT;
}

static int fake_ipc_wake(void *opaque, uint64_t addr, uint32_t count)
{
	(void)opaque;
	if (addr % 4 != 0)
		abort();
	return count > 0;
}

static const struct hv_ipc_hooks fake_ipc = {
	.get = fake_ipc_get,
	.detach = fake_ipc_obj,
	.rm = fake_ipc_rm,
	.self = fake_ipc_self,
	.wait = fake_ipc_wait,
	.wake = fake_ipc_wake,
};

/* The argv buffer of a KX_HC_RECYCLE_WAIT block at value (as the guest
 * wrote it, in before): the decoder may write there too. */
static int in_recycle_buf(const uint8_t *before, uint32_t value, uint64_t a)
{
	struct kx_hc_recycle_wait r;

	if ((uint64_t)value + sizeof(r) > FUZZ_MEM)
		return 0;
	memcpy(&r, before + value, sizeof(r));
	return r.hdr.nr == KX_HC_RECYCLE_WAIT && a >= r.buf && a - r.buf < r.size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int dlopen_rcs[4] = {0, -EACCES, -EPIPE, -ENOMEM};
	struct fake_link fake = {0};
	struct hv_guest_mem mem = {0};
	struct hv_hcall_result res;
	struct sink sink;
	struct hv_hcall_env env;
	uint8_t *before = NULL;
	uint32_t value;
	uint8_t flags;

	if (size < HEADER_SIZE)
		return 0;
	flags = data[0];
	memcpy(&value, data + 1, sizeof(value));
	if (!(flags & 1))
		value &= 0xffff;

	mem.size = FUZZ_MEM;
	mem.host = calloc(1, FUZZ_MEM);
	mem.page_prot = calloc(FUZZ_PAGES, 1);
	before = malloc(FUZZ_MEM);
	if (mem.host == NULL || mem.page_prot == NULL || before == NULL)
		goto out;
	for (unsigned i = 0; i < FUZZ_PAGES; i++)
		mem.page_prot[i] = data[5 + i] & 7;
	if (size > HEADER_SIZE)
		memcpy(mem.host, data + HEADER_SIZE,
		       size - HEADER_SIZE < FUZZ_MEM ? size - HEADER_SIZE : FUZZ_MEM);
	memcpy(before, mem.host, FUZZ_MEM);

	sink = (struct sink){.mem = &mem, .fail = (flags & 2) != 0};
	env = (struct hv_hcall_env){
		.mem = &mem,
		.console_write = sink_write,
		.console_opaque = &sink,
		.clock_ns = fake_clock,
		.link = (flags & 4) ? &fake_hooks : NULL,
		.link_opaque = &fake,
		.proc = (flags & 4) ? &fake_proc : NULL,
		.proc_opaque = &fake,
		.recycle = (flags & 4) ? &fake_recycle : NULL,
		.recycle_opaque = &fake,
		.sig = (flags & 4) ? &fake_sig : NULL,
		.sig_opaque = &fake,
		.ipc = (flags & 4) ? &fake_ipc : NULL,
		.ipc_opaque = &fake,
		.sigreturn = fake_sigreturn,
		.sigreturn_opaque = &fake,
	};
	fake.dlopen_rc = dlopen_rcs[(flags >> 3) & 3];
	hv_hcall_dispatch(&env, value, &res);

	switch (res.outcome) {
	case HV_HC_BAD:
		if (res.reason == NULL)
			abort();
		break;
	case HV_HC_PANIC:
		if (memchr(res.message, '\0', sizeof(res.message)) == NULL)
			abort();
		break;
	case HV_HC_RESUME:
		if (fake.resolve_refused || fake.channel_broke)
			abort(); /* a refused RESOLVE, a broken channel must end the pVM */
		/* ret went back into the block: it must be writable guest memory. */
		if (hv_guest_ptr(&mem, value, sizeof(struct kx_hc_hdr), HV_ACCESS_WRITE) == NULL)
			abort();
		break;
	case HV_HC_EXIT:
		break;
	}
	/* Nothing outside the argument block changed, and nothing at all unless resumed. */
	for (uint64_t a = 0; a < FUZZ_MEM; a++) {
		int in_block = res.outcome == HV_HC_RESUME &&
			       ((a >= value && a < (uint64_t)value + MAX_BLOCK) ||
				(res.nr == KX_HC_RECYCLE_WAIT && in_recycle_buf(before, value, a)));

		if (!in_block && mem.host[a] != before[a])
			abort();
	}
out:
	free(before);
	free(mem.page_prot);
	free(mem.host);
	return 0;
}
