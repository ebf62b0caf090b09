/*
 * hcall.c — the hypercall decoder.
 *
 * Input is untrusted: the 32-bit port value and every byte of guest memory
 * it leads to are chosen by the guest.  The decoder copies the argument
 * block out of guest memory once (so a second vCPU could not change it
 * under our feet), checks version and call number, reaches every pointer in
 * it through hv_guest_ptr, and writes the block back only when the call
 * succeeded.  It knows nothing of KVM: the fuzz harness drives it with fake
 * guest memory.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "manager/hv/hv.h"
#include "manager/hv/ipc.h"

union hcall_block {
	struct kx_hc_hdr hdr;
	struct kx_hc_console_write console_write;
	struct kx_hc_exit exit;
	struct kx_hc_clock clock;
	struct kx_hc_panic panic;
	struct kx_hc_resolve resolve;
	struct kx_hc_dlopen dlopen;
	struct kx_hc_dlsym dlsym;
	struct kx_hc_fork fork;
	struct kx_hc_wait wait;
	struct kx_hc_kill kill;
	struct kx_hc_sigaction sigaction;
	struct kx_hc_waitx waitx;
	struct kx_hc_recycle_wait recycle_wait;
	struct kx_hc_ipc_get ipc_get;
	struct kx_hc_ipc_obj ipc_obj;
	struct kx_hc_notify notify;
};

static void bad(struct hv_hcall_result *res, const char *reason)
{
	res->outcome = HV_HC_BAD;
	res->reason = reason;
}

static void do_console_write(const struct hv_hcall_env *env, union hcall_block *b,
			     struct hv_hcall_result *res)
{
	const struct kx_hc_console_write *c = &b->console_write;
	const void *buf;
	ssize_t n;

	if (c->len > KX_HC_CONSOLE_MAX) {
		bad(res, "console length exceeds KX_HC_CONSOLE_MAX");
		return;
	}
	b->hdr.ret = 0;
	if (c->len == 0)
		return;
	buf = hv_guest_ptr(env->mem, c->buf, c->len, HV_ACCESS_READ);
	if (buf == NULL) {
		bad(res, "console buffer outside readable guest memory");
		return;
	}
	n = env->console_write(env->console_opaque, buf, (size_t)c->len);
	b->hdr.ret = n < 0 ? -KX_EIO : (int64_t)n;
}

static void do_exit(const struct hv_hcall_env *env, union hcall_block *b,
		    struct hv_hcall_result *res)
{
	(void)env;
	res->outcome = HV_HC_EXIT;
	res->exit_status = b->exit.status;
}

static void do_clock(const struct hv_hcall_env *env, union hcall_block *b,
		     struct hv_hcall_result *res)
{
	(void)res;
	b->clock.monotonic_ns = env->clock_ns(CLOCK_MONOTONIC);
	b->clock.realtime_ns = env->clock_ns(CLOCK_REALTIME);
	b->hdr.ret = 0;
}

static void do_panic(const struct hv_hcall_env *env, union hcall_block *b,
		     struct hv_hcall_result *res)
{
	const struct kx_hc_panic *p = &b->panic;
	const void *msg;

	if (p->len > KX_HC_PANIC_MAX) {
		bad(res, "panic message length exceeds KX_HC_PANIC_MAX");
		return;
	}
	if (p->len > 0) {
		msg = hv_guest_ptr(env->mem, p->msg, p->len, HV_ACCESS_READ);
		if (msg == NULL) {
			bad(res, "panic message outside readable guest memory");
			return;
		}
		memcpy(res->message, msg, (size_t)p->len);
	}
	res->message[p->len] = '\0';
	res->outcome = HV_HC_PANIC;
}

static void do_resolve(const struct hv_hcall_env *env, union hcall_block *b,
		       struct hv_hcall_result *res)
{
	uint64_t addr = 0;
	int rc;

	if (env->link == NULL) {
		bad(res, "lazy binding: this pVM has no linked modules");
		return;
	}
	rc = env->link->resolve(env->link_opaque, b->resolve.module_id, b->resolve.index, &addr);
	if (rc == -EINVAL) {
		bad(res, "lazy binding: module id or PLT index out of range");
		return;
	}
	if (rc != 0) {
		bad(res, "lazy binding: unresolvable symbol");
		return;
	}
	b->resolve.addr = addr;
	b->hdr.ret = 0;
}

/* Copy a name out of guest memory: 0, or -KX_EINVAL for the guest.  A
 * name outside readable memory ends the pVM like any bad pointer. */
static int64_t copy_name(const struct hv_hcall_env *env, uint64_t gpa, uint64_t len,
			 char name[KX_HC_NAME_MAX + 1], struct hv_hcall_result *res)
{
	const void *p;

	if (len == 0 || len > KX_HC_NAME_MAX)
		return -KX_EINVAL;
	p = hv_guest_ptr(env->mem, gpa, len, HV_ACCESS_READ);
	if (p == NULL) {
		bad(res, "name outside readable guest memory");
		return -KX_EINVAL;
	}
	memcpy(name, p, (size_t)len);
	name[len] = '\0';
	return memchr(name, '\0', (size_t)len) != NULL ? -KX_EINVAL : 0;
}

/* -errno from a hook, as the guest sees it. */
static int64_t guest_errno(int rc)
{
	switch (rc) {
	case -EACCES:
		return -KX_EACCES;
	case -ENOENT:
		return -KX_ENOENT;
	case -EBADF:
		return -KX_EBADF;
	case -ENOMEM:
	case -ENOSPC:
		return -KX_ENOMEM;
	case -EPERM:
		return -KX_EPERM;
	case -ECHILD:
		return -KX_ECHILD;
	case -EAGAIN:
		return -KX_EAGAIN;
	case -ESRCH:
		return -KX_ESRCH;
	case -EINTR:
		return -KX_EINTR;
	case -ETIMEDOUT:
		return -KX_ETIMEDOUT;
	default:
		return -KX_EINVAL;
	}
}

static void do_dlopen(const struct hv_hcall_env *env, union hcall_block *b,
		      struct hv_hcall_result *res)
{
	char name[KX_HC_NAME_MAX + 1];
	uint64_t handle = 0;
	int rc;

	b->hdr.ret = copy_name(env, b->dlopen.name, b->dlopen.len, name, res);
	if (b->hdr.ret != 0 || res->outcome != HV_HC_RESUME)
		return;
	if (env->link == NULL) {
		b->hdr.ret = -KX_EPERM;
		return;
	}
	rc = env->link->dlopen(env->link_opaque, name, &handle);
	if (rc == -EPIPE || rc == -EIO) {
		bad(res, rc == -EPIPE ? "kx_dlopen: the channel to the manager broke"
				      : "kx_dlopen: the library was half linked");
		return;
	}
	b->dlopen.handle = rc == 0 ? handle : 0;
	b->hdr.ret = rc == 0 ? 0 : guest_errno(rc);
}

static void do_dlsym(const struct hv_hcall_env *env, union hcall_block *b,
		     struct hv_hcall_result *res)
{
	char name[KX_HC_NAME_MAX + 1];
	uint64_t addr = 0;
	int rc;

	b->hdr.ret = copy_name(env, b->dlsym.name, b->dlsym.len, name, res);
	if (b->hdr.ret != 0 || res->outcome != HV_HC_RESUME)
		return;
	rc = env->link == NULL ? -EBADF
			       : env->link->dlsym(env->link_opaque, b->dlsym.handle, name, &addr);
	b->dlsym.addr = rc == 0 ? addr : 0;
	b->hdr.ret = rc == 0 ? 0 : guest_errno(rc);
}

/* In the child the block is written back into its own (copied) memory. */
static void do_fork(const struct hv_hcall_env *env, union hcall_block *b,
		    struct hv_hcall_result *res)
{
	uint64_t child_id = 0;
	int rc;

	if (env->proc == NULL) {
		b->hdr.ret = -KX_EPERM;
		return;
	}
	rc = env->proc->fork(env->proc_opaque, &child_id);
	if (rc == -EPIPE || rc == -EIO) {
		bad(res, rc == -EPIPE ? "kx_fork: the channel to the manager broke"
				      : "kx_fork: the child's VM could not be built");
		return;
	}
	b->hdr.ret = rc == 0 ? (int64_t)child_id : guest_errno(rc);
}

static void do_wait(const struct hv_hcall_env *env, union hcall_block *b,
		    struct hv_hcall_result *res)
{
	int64_t status = 0;
	int rc;

	if (env->proc == NULL) {
		b->hdr.ret = -KX_EPERM;
		return;
	}
	rc = env->proc->wait(env->proc_opaque, b->wait.child_id, &status);
	if (rc == -EPIPE) {
		bad(res, "kx_wait: the channel to the manager broke");
		return;
	}
	b->wait.status = rc == 0 ? status : 0;
	b->hdr.ret = rc == 0 ? 0 : guest_errno(rc);
}

/*
 * Recycling: the buffer is checked before the wait (the app is linked by
 * then, and a failure after it would leave the pVM half changed); the argv
 * the hook returns (bounded by HV_RECYCLE_*_MAX) always fits in
 * KX_RECYCLE_BUF_MIN bytes: the pointer array first, then the strings.
 */
_Static_assert((HV_RECYCLE_ARGC_MAX + 1) * 8 + HV_RECYCLE_ARGS_MAX <= KX_RECYCLE_BUF_MIN,
	       "recycled argv fits the placeholder's buffer");

static void do_recycle_wait(const struct hv_hcall_env *env, union hcall_block *b,
			    struct hv_hcall_result *res)
{
	struct kx_hc_recycle_wait *r = &b->recycle_wait;
	struct hv_recycle_work work;
	size_t starts[HV_RECYCLE_ARGC_MAX];
	uint64_t *ptrs;
	char *strings;
	size_t off = 0;

	if (env->recycle == NULL) {
		b->hdr.ret = -KX_EPERM;
		return;
	}
	if (r->buf % 8 != 0 || r->size < KX_RECYCLE_BUF_MIN || r->size > HV_ARGS_MAX ||
	    hv_guest_ptr(env->mem, r->buf, r->size, HV_ACCESS_WRITE) == NULL) {
		bad(res, "recycle: argv buffer too small or outside writable guest memory");
		return;
	}
	memset(&work, 0, sizeof(work));
	if (env->recycle->wait(env->recycle_opaque, &work) != 0 ||
	    work.argc > HV_RECYCLE_ARGC_MAX || work.args_len > HV_RECYCLE_ARGS_MAX) {
		bad(res, "recycle: the app could not be started");
		return;
	}
	/* Where each string starts, all checked before anything is written. */
	for (uint32_t i = 0; i < work.argc; i++) {
		const char *nul = off < work.args_len
					  ? memchr(work.args + off, '\0', work.args_len - off)
					  : NULL;

		if (nul == NULL) {
			bad(res, "recycle: malformed argv from the manager");
			return;
		}
		starts[i] = off;
		off = (size_t)(nul - work.args) + 1;
	}
	ptrs = hv_guest_ptr(env->mem, r->buf, r->size, HV_ACCESS_WRITE);
	if (ptrs == NULL) { /* linking never maps over a mapped page: cannot happen */
		bad(res, "recycle: argv buffer no longer writable");
		return;
	}
	strings = (char *)(ptrs + work.argc + 1);
	memcpy(strings, work.args, work.args_len);
	for (uint32_t i = 0; i < work.argc; i++)
		ptrs[i] = r->buf + (uint64_t)(work.argc + 1) * 8 + starts[i];
	ptrs[work.argc] = 0;
	r->entry = work.entry;
	r->argc = work.argc;
	r->argv = r->buf;
	b->hdr.ret = 0;
}

/* Signals (docs/signals.md): the manager's hooks decide; -EPIPE ends the pVM. */
static void do_kill(const struct hv_hcall_env *env, union hcall_block *b,
		    struct hv_hcall_result *res)
{
	int rc = -EPERM;

	if (env->sig != NULL)
		rc = b->kill.sig >= KX_NSIG ? -EINVAL
					    : env->sig->kill(env->sig_opaque, b->kill.pvm_id,
							     (uint32_t)b->kill.sig);
	if (rc == -EPIPE)
		bad(res, "kx_kill: the channel to the manager broke");
	b->hdr.ret = rc == 0 ? 0 : guest_errno(rc);
}

static void do_sigaction(const struct hv_hcall_env *env, union hcall_block *b,
			 struct hv_hcall_result *res)
{
	const struct kx_hc_sigaction *a = &b->sigaction;
	int rc = -EPERM;

	(void)res;
	if (env->sig != NULL)
		rc = a->sig >= KX_NSIG ? -EINVAL
				       : env->sig->action(env->sig_opaque, (uint32_t)a->sig,
							  a->handler, a->trampoline);
	b->hdr.ret = rc == 0 ? 0 : guest_errno(rc);
}

/* On success the vCPU is back where the handler interrupted it: the block
 * written back lies in the handler's dead stack. */
static void do_sigreturn(const struct hv_hcall_env *env, union hcall_block *b,
			 struct hv_hcall_result *res)
{
	int rc = env->sigreturn ? env->sigreturn(env->sigreturn_opaque) : -EINVAL;

	if (rc == -EIO)
		bad(res, "kx_sigreturn: the interrupted state could not be restored");
	b->hdr.ret = rc == 0 ? 0 : guest_errno(rc);
}

static void do_pause(const struct hv_hcall_env *env, union hcall_block *b,
		     struct hv_hcall_result *res)
{
	int rc = env->sig ? env->sig->pause(env->sig_opaque) : -EPERM;

	if (rc == -EPIPE)
		bad(res, "kx_pause: the channel to the manager broke");
	b->hdr.ret = guest_errno(rc);
}

static void do_waitx(const struct hv_hcall_env *env, union hcall_block *b,
		     struct hv_hcall_result *res)
{
	struct kx_hc_waitx *w = &b->waitx;
	uint64_t waited = 0;
	int64_t status = 0;
	int rc = -EPERM;

	if (env->sig != NULL)
		rc = w->flags & ~(uint64_t)KX_WNOHANG
			     ? -EINVAL
			     : env->sig->waitx(env->sig_opaque, w->child_id, (uint32_t)w->flags,
					       w->timeout_ns, &waited, &status);
	if (rc == -EPIPE) {
		bad(res, "kx_waitx: the channel to the manager broke");
		return;
	}
	w->status = rc == 0 ? status : 0;
	b->hdr.ret = rc == 0 ? (int64_t)waited : guest_errno(rc);
}

/* IpC objects and notification: ipc_hcall.c. */
static void do_ipc(const struct hv_hcall_env *env, union hcall_block *b,
		   struct hv_hcall_result *res)
{
	hv_ipc_hcall(env, &b->hdr, res);
}

static const struct hcall_desc {
	uint32_t nr;
	size_t size;
	void (*handle)(const struct hv_hcall_env *env, union hcall_block *b,
		       struct hv_hcall_result *res);
} hcalls[] = {
	{KX_HC_CONSOLE_WRITE, sizeof(struct kx_hc_console_write), do_console_write},
	{KX_HC_EXIT, sizeof(struct kx_hc_exit), do_exit},
	{KX_HC_CLOCK, sizeof(struct kx_hc_clock), do_clock},
	{KX_HC_PANIC, sizeof(struct kx_hc_panic), do_panic},
	{KX_HC_RESOLVE, sizeof(struct kx_hc_resolve), do_resolve},
	{KX_HC_DLOPEN, sizeof(struct kx_hc_dlopen), do_dlopen},
	{KX_HC_DLSYM, sizeof(struct kx_hc_dlsym), do_dlsym},
	{KX_HC_FORK, sizeof(struct kx_hc_fork), do_fork},
	{KX_HC_WAIT, sizeof(struct kx_hc_wait), do_wait},
	{KX_HC_IPC_GET, sizeof(struct kx_hc_ipc_get), do_ipc},
	{KX_HC_IPC_DETACH, sizeof(struct kx_hc_ipc_obj), do_ipc},
	{KX_HC_IPC_RM, sizeof(struct kx_hc_ipc_obj), do_ipc},
	{KX_HC_IPC_SELF, sizeof(struct kx_hc_ipc_obj), do_ipc},
	{KX_HC_NOTIFY_WAIT, sizeof(struct kx_hc_notify), do_ipc},
	{KX_HC_NOTIFY_WAKE, sizeof(struct kx_hc_notify), do_ipc},
	{KX_HC_KILL, sizeof(struct kx_hc_kill), do_kill},
	{KX_HC_SIGACTION, sizeof(struct kx_hc_sigaction), do_sigaction},
	{KX_HC_SIGRETURN, sizeof(struct kx_hc_sigreturn), do_sigreturn},
	{KX_HC_PAUSE, sizeof(struct kx_hc_pause), do_pause},
	{KX_HC_WAITX, sizeof(struct kx_hc_waitx), do_waitx},
	{KX_HC_RECYCLE_WAIT, sizeof(struct kx_hc_recycle_wait), do_recycle_wait},
};

static const struct hcall_desc *find_hcall(uint32_t nr)
{
	for (size_t i = 0; i < sizeof(hcalls) / sizeof(hcalls[0]); i++)
		if (hcalls[i].nr == nr)
			return &hcalls[i];
	return NULL;
}

void hv_hcall_dispatch(const struct hv_hcall_env *env, uint32_t port_value,
		       struct hv_hcall_result *res)
{
	union hcall_block block;
	const struct hcall_desc *desc;
	void *guest_block;

	memset(res, 0, sizeof(*res));
	res->outcome = HV_HC_RESUME;
	if (port_value % 8 != 0) {
		bad(res, "argument block not 8-byte aligned");
		return;
	}
	/* Blocks must be writable: ret goes back into them. */
	guest_block = hv_guest_ptr(env->mem, port_value, sizeof(block.hdr), HV_ACCESS_WRITE);
	if (guest_block == NULL) {
		bad(res, "argument block outside writable guest memory");
		return;
	}
	memcpy(&block.hdr, guest_block, sizeof(block.hdr));
	res->nr = block.hdr.nr;
	if (block.hdr.abi_version != KX_HCALL_ABI_VERSION) {
		bad(res, "unsupported hypercall ABI version");
		return;
	}
	desc = find_hcall(block.hdr.nr);
	if (desc == NULL) {
		bad(res, "unknown hypercall number");
		return;
	}
	guest_block = hv_guest_ptr(env->mem, port_value, desc->size, HV_ACCESS_WRITE);
	if (guest_block == NULL) {
		bad(res, "argument block outside writable guest memory");
		return;
	}
	memcpy(&block, guest_block, desc->size);
	desc->handle(env, &block, res);
	if (res->outcome == HV_HC_RESUME)
		memcpy(guest_block, &block, desc->size);
}
