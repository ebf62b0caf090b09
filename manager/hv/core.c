/*
 * core.c — one pVM over a backend: creating it, laying it out, the run
 * loop and its safe points, the modules, and the helpers every module uses
 * (the primitives with the core's checks, the manager, stopping).
 *
 * The run loop: the backend runs the vCPU until something needs the core
 * — a hypercall (decoded in hcall.c, served by a module), a kick or a pause
 * — or the guest can run no more.  After every hypercall that resumes and
 * at every kick the guest is stopped between two instructions: a safe
 * point, where messages kxd pushed (a link, an update, a signal) are taken
 * and applied.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager/hv/internal.h"

static const struct hv_module *const modules[] = {
	&hv_mod_base, &hv_mod_link,   &hv_mod_proc,    &hv_mod_ipc,
	&hv_mod_signal, &hv_mod_update, &hv_mod_recycle,
	&hv_mod_posix, /* posix-mon */
	&hv_mod_fs, /* posix-fs: host directories */
	&hv_mod_net, /* the packet device (net.c) */
};
#define NMODULES (sizeof(modules) / sizeof(modules[0]))

static const struct hv_backend *const backends[] = {
	&hv_kvm_backend,
	&hv_xen_backend,
	&hv_skeleton_backend,
};

const struct hv_backend *hv_backend(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

const char *hv_backend_name(const struct hv_backend *be)
{
	return be->name;
}

int hv_probe(const struct hv_backend *be, struct kx_error *err)
{
	return be->probe(err);
}

const unsigned long *hv_backend_ioctls(const struct hv_backend *be, size_t *n)
{
	*n = be->nioctls;
	return be->ioctls;
}

/* One monitor process, one jail: set once, before the guest runs. */
static bool monitor_jailed;
static hv_confine_fn monitor_confine;

void hv_set_jailed(hv_confine_fn confine_dirs)
{
	monitor_jailed = true;
	monitor_confine = confine_dirs;
}

bool hv_jailed(void)
{
	return monitor_jailed;
}

hv_confine_fn hv_jail_confine(void)
{
	return monitor_confine;
}

/* ---- helpers ------------------------------------------------------------------ */

void hv_bad(struct hv_hcall_result *res, const char *reason)
{
	res->outcome = HV_HC_BAD;
	res->reason = reason;
}

/*
 * The one map from the host's errno to the guest's: each value is the one
 * of the same name (the ABI numbers them as Linux does), so a module says
 * what the guest gets by the errno it returns; anything the ABI has no
 * number for is -KX_EINVAL.
 */
int64_t hv_guest_errno(int rc)
{
	static const int known[] = {
		EPERM,	 ENOENT, ESRCH, EINTR,	EIO,	E2BIG,	EBADF,	 ECHILD,    EAGAIN,
		ENOMEM,	 EACCES, EEXIST, EINVAL, ENOSPC, EPIPE, ENOSYS, EIDRM, ETIMEDOUT,
		/* posix-fs: host directories */
		ENXIO, EBUSY, EXDEV, ENOTDIR, EISDIR, EFBIG, EROFS, EMLINK, ENAMETOOLONG,
		ENOTEMPTY, ELOOP, EOVERFLOW,
		ENODEV, /* net */
		EOPNOTSUPP, /* what a backend cannot do (an IpC object on Xen) */
	};

	_Static_assert(KX_EPERM == EPERM && KX_ENOENT == ENOENT && KX_ESRCH == ESRCH &&
			       KX_EINTR == EINTR && KX_EIO == EIO && KX_E2BIG == E2BIG &&
			       KX_EBADF == EBADF && KX_ECHILD == ECHILD && KX_EAGAIN == EAGAIN &&
			       KX_ENOMEM == ENOMEM && KX_EACCES == EACCES && KX_EEXIST == EEXIST &&
			       KX_EINVAL == EINVAL && KX_ENOSPC == ENOSPC && KX_EPIPE == EPIPE &&
			       KX_ENOSYS == ENOSYS && KX_EIDRM == EIDRM &&
			       KX_ETIMEDOUT == ETIMEDOUT && KX_ENODEV == ENODEV &&
			       KX_EOPNOTSUPP == EOPNOTSUPP,
		       "the ABI's errno values are Linux's");
	_Static_assert(KX_ENXIO == ENXIO && KX_EBUSY == EBUSY && KX_EXDEV == EXDEV &&
			       KX_ENOTDIR == ENOTDIR && KX_EISDIR == EISDIR && KX_EFBIG == EFBIG &&
			       KX_EROFS == EROFS && KX_EMLINK == EMLINK &&
			       KX_ENAMETOOLONG == ENAMETOOLONG && KX_ENOTEMPTY == ENOTEMPTY &&
			       KX_ELOOP == ELOOP && KX_EOVERFLOW == EOVERFLOW,
		       "the ABI's errno values are Linux's (posix-fs)");
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (rc == -known[i])
			return rc;
	return -KX_EINVAL;
}

int hv_protect(struct hv_pvm *p, uint64_t gpa, uint64_t size, unsigned prot,
	       struct kx_error *err)
{
	uint64_t end;
	int rc;

	if ((prot & HV_PROT_WRITE) && (prot & HV_PROT_EXEC))
		return kx_err(err, -EPERM, "[0x%llx, +0x%llx): writable and executable (W^X)",
			      (unsigned long long)gpa, (unsigned long long)size);
	if (gpa < LAYOUT_BOOT || gpa % KX_PAGE_SIZE || size % KX_PAGE_SIZE ||
	    __builtin_add_overflow(gpa, size, &end) || end > p->mem.size ||
	    (prot & ~(unsigned)(HV_PROT_READ | HV_PROT_WRITE | HV_PROT_EXEC)) != 0)
		return kx_err(err, -EINVAL, "[0x%llx, +0x%llx): not pages of guest memory",
			      (unsigned long long)gpa, (unsigned long long)size);
	if (prot != 0)
		prot |= HV_PROT_READ; /* x86 has no execute-only or write-only pages */
	if (size == 0)
		return 0;
	rc = p->be->protect(p->vm, gpa, size, prot, err);
	if (rc != 0)
		return rc;
	memset(p->mem.page_prot + gpa / KX_PAGE_SIZE, (int)prot, size / KX_PAGE_SIZE);
	return 0;
}

int hv_map_fd(struct hv_pvm *p, uint64_t gpa, int fd, uint64_t offset, uint64_t size,
	      unsigned prot, struct kx_error *err)
{
	int rc;

	if ((prot & HV_PROT_WRITE) && (prot & HV_PROT_EXEC))
		return kx_err(err, -EPERM, "map_fd: writable and executable (W^X)");
	if (gpa < LAYOUT_BOOT || gpa % KX_PAGE_SIZE || size % KX_PAGE_SIZE || size == 0 ||
	    gpa > p->mem.size || size > p->mem.size - gpa)
		return kx_err(err, -EINVAL, "map_fd: bad range");
	prot |= HV_PROT_READ;
	rc = p->be->map_fd(p->vm, gpa, fd, offset, size, prot, err);
	if (rc == 0)
		memset(p->mem.page_prot + gpa / KX_PAGE_SIZE, (int)prot, size / KX_PAGE_SIZE);
	return rc;
}

int hv_unmap(struct hv_pvm *p, uint64_t gpa, uint64_t size, struct kx_error *err)
{
	int rc;

	if (gpa < LAYOUT_BOOT || gpa % KX_PAGE_SIZE || size % KX_PAGE_SIZE || size == 0 ||
	    gpa > p->mem.size || size > p->mem.size - gpa)
		return kx_err(err, -EINVAL, "unmap: bad range");
	memset(p->mem.page_prot + gpa / KX_PAGE_SIZE, 0, size / KX_PAGE_SIZE);
	rc = p->be->unmap(p->vm, gpa, size, err);
	return rc;
}

int hv_flush(struct hv_pvm *p, struct kx_error *err)
{
	int rc = p->be->flush(p->vm, err);

	if (rc > 0)
		p->stats.tlb_flushes++;
	return rc;
}

int hv_get_vcpu(struct hv_pvm *p, struct hv_vcpu *st, unsigned parts, struct kx_error *err)
{
	return p->be->get_vcpu(p->vm, st, parts, err);
}

int hv_set_vcpu(struct hv_pvm *p, const struct hv_vcpu *st, unsigned parts,
		struct kx_error *err)
{
	return p->be->set_vcpu(p->vm, st, parts, err);
}

void hv_stop(struct hv_pvm *p, const struct hv_end *why)
{
	if (!p->stopped) {
		p->stop = *why;
		p->stopped = true;
	}
	p->be->pause(p->vm);
}

void hv_stop_channel(struct hv_pvm *p, const char *fmt, ...)
{
	struct hv_end why = {.reason = HV_END_CHANNEL};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why.message, sizeof(why.message), fmt, ap);
	va_end(ap);
	hv_stop(p, &why);
}

int hv_mgr_call(struct hv_pvm *p, struct kxmon_msg *m, uint32_t resp_type, int *fds, int *nfds)
{
	*nfds = 0;
	if (p->mgr == NULL)
		return -EPIPE;
	return p->mgr->ops->call(p->mgr->ctx, m, resp_type, fds, nfds);
}

int hv_mgr_send(struct hv_pvm *p, struct kxmon_msg *m)
{
	if (p->mgr == NULL)
		return -EPIPE;
	return p->mgr->ops->send(p->mgr->ctx, m);
}

int hv_mgr_next(struct hv_pvm *p, uint64_t seq, int timeout_ms, struct kxmon_msg *m, int *fds,
		int *nfds)
{
	*nfds = 0;
	if (p->mgr == NULL)
		return -EPIPE;
	return p->mgr->ops->next(p->mgr->ctx, seq, timeout_ms, m, fds, nfds);
}

const char *hv_mgr_reason(const struct hv_pvm *p)
{
	return p->mgr != NULL ? p->mgr->ops->reason(p->mgr->ctx) : "no manager";
}

bool hv_interrupted(struct hv_pvm *p)
{
	return p->pause_requested || hv_signal_deliverable(p);
}

/* A wait that halts the vCPU asks first: a handler entered since the last
 * such wait may have left a mark the guest checked for just before it
 * called, so the wait ends at once (-EINTR) and the guest looks again. */
bool hv_handler_entered(struct hv_pvm *p)
{
	bool entered = p->handler_entered;

	p->handler_entered = false;
	return entered;
}

/* ---- pushes and safe points -------------------------------------------------- */

int hv_push(struct hv_pvm *p, const struct kxmon_msg *m, const int *fds, int nfds)
{
	for (size_t i = 0; i < NMODULES; i++)
		for (size_t k = 0; k < modules[i]->npush_types; k++)
			if (modules[i]->push_types[k] == m->type)
				return modules[i]->push(p, m, fds, nfds);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	return -EPROTO;
}

static void safe_point(struct hv_pvm *p)
{
	struct kxmon_msg m;
	int fds[KXMON_MAX_FDS], nfds;

	if (p->mgr != NULL) {
		/* Whatever kxd pushed since: hv_push takes it. */
		while (hv_mgr_next(p, 0, 0, &m, fds, &nfds) == 2)
			;
		if (hv_mgr_reason(p)[0] != '\0') {
			hv_stop_channel(p, "%s", hv_mgr_reason(p));
			return;
		}
	}
	for (size_t i = 0; i < NMODULES && !p->stopped; i++)
		if (modules[i]->safe_point != NULL)
			modules[i]->safe_point(p);
	if (p->test_safe_point != NULL)
		p->test_safe_point(p, p->test_ctx);
}

void hv_test_safe_point(struct hv_pvm *p, void (*fn)(struct hv_pvm *p, void *ctx), void *ctx)
{
	p->test_safe_point = fn;
	p->test_ctx = ctx;
}

int hv_test_protect(struct hv_pvm *p, uint64_t gpa, uint64_t size, unsigned prot,
		    struct kx_error *err)
{
	int rc = hv_protect(p, gpa, size, prot, err);

	return rc != 0 ? rc : hv_flush(p, err);
}

struct hv_vm *hv_test_vm(struct hv_pvm *p)
{
	return p->vm;
}

/* ---- creating ---------------------------------------------------------------- */

static int check_config(const struct hv_config *cfg, struct kx_error *err)
{
	uint64_t stack = cfg->stack_size ? cfg->stack_size : HV_STACK_DEFAULT;

	if (cfg->mem_size < HV_MEM_MIN || cfg->mem_size > HV_MEM_MAX ||
	    cfg->mem_size % (2ull << 20) != 0)
		return kx_err(err, -EINVAL,
			      "memory size must be a multiple of 2 MiB in 8 MiB..1 GiB");
	if (stack % KX_PAGE_SIZE != 0 || stack < 4 * KX_PAGE_SIZE || stack > cfg->mem_size / 4)
		return kx_err(err, -EINVAL, "stack size must be whole pages, 16 KiB..memory/4");
	if (cfg->argc < 1 || cfg->argv == NULL)
		return kx_err(err, -EINVAL, "argv[0] (the image name) is required");
	if (cfg->envc < 0 || (cfg->envc > 0 && cfg->envv == NULL))
		return kx_err(err, -EINVAL, "a bad environment");
	return 0;
}

/* n strings as a NULL-terminated pointer array at *at, then the strings;
 * *at advanced past them.  -E2BIG past end. */
static int put_strings(struct hv_pvm *p, uint64_t *at, uint64_t end, int n, char *const *v,
		       struct kx_error *err)
{
	uint64_t ptrs = (*at + 7) & ~7ull, strings = ptrs + ((uint64_t)n + 1) * 8;
	uint64_t *slot;

	if ((uint64_t)n >= HV_ARGS_MAX / 8 || strings > end)
		return kx_err(err, -E2BIG, "too many arguments");
	slot = hv_guest_ptr(&p->mem, ptrs, ((uint64_t)n + 1) * 8, HV_ACCESS_MONITOR);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(v[i]) + 1;
		char *dst;

		if (len > end - strings)
			return kx_err(err, -E2BIG, "arguments exceed %u bytes", HV_ARGS_MAX);
		dst = hv_guest_ptr(&p->mem, strings, len, HV_ACCESS_MONITOR);
		memcpy(dst, v[i], len);
		slot[i] = strings;
		strings += len;
	}
	slot[n] = 0;
	*at = strings;
	return 0;
}

/* argv (pointers then strings), then the environment the same way, after
 * the boot-info page; read-only to the guest. */
static int write_args(struct hv_pvm *p, const struct hv_config *cfg, struct kx_error *err)
{
	uint64_t at = LAYOUT_BOOT + KX_PAGE_SIZE, end = LAYOUT_BOOT + LAYOUT_BOOT_SIZE;
	int rc;

	p->argv_gpa = at;
	rc = put_strings(p, &at, end, cfg->argc, cfg->argv, err);
	if (rc < 0)
		return rc;
	p->argc = (uint32_t)cfg->argc;
	if (cfg->envc > 0) {
		p->envv_gpa = (at + 7) & ~7ull;
		rc = put_strings(p, &at, end, cfg->envc, cfg->envv, err);
		if (rc < 0)
			return rc;
		p->envc = (uint32_t)cfg->envc;
	}
	return hv_protect(p, LAYOUT_BOOT, LAYOUT_BOOT_SIZE, HV_PROT_READ, err);
}

int hv_create(const struct hv_backend *be, const struct hv_config *cfg, struct hv_pvm **out,
	      struct kx_error *err)
{
	struct hv_pvm *p = NULL;
	int rc;

	*out = NULL;
	rc = check_config(cfg, err);
	if (rc != 0)
		return rc;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return kx_err(err, -ENOMEM, "out of memory");
	p->be = be;
	p->mgr = cfg->manager;
	p->pool = cfg->pool;
	p->console_fd = cfg->console_fd;
	p->log_fd = cfg->log_fd;
	p->err_fd = cfg->has_stdio ? cfg->err_fd : cfg->console_fd;
	p->input_fd = cfg->has_stdio ? cfg->input_fd : -1;
	p->update_fail_step = cfg->update_fail_step;
	p->kick_signal = cfg->kick_signal;
	p->jail_thread = cfg->jail_thread;
	p->stack_size = cfg->stack_size ? cfg->stack_size : HV_STACK_DEFAULT;
	rc = be->create(cfg->mem_size, &p->mem, &p->features, &p->vm, err);
	if (rc != 0)
		goto out;
	p->mem.page_prot = calloc(p->mem.size / KX_PAGE_SIZE, 1);
	if (p->mem.page_prot == NULL) {
		rc = kx_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = write_args(p, cfg, err);
	if (rc != 0)
		goto out;
	if (p->mgr != NULL)
		p->mgr->ops->bind(p->mgr->ctx, p);
	*out = p;
	p = NULL;
out:
	if (p != NULL) {
		if (p->vm != NULL)
			be->destroy(p->vm);
		free(p->mem.page_prot);
		free(p);
	}
	return rc;
}

int hv_load(struct hv_pvm *p, const uint8_t *buf, size_t len, struct kx_error *err)
{
	struct image_info info;
	struct kx_boot_info *boot;
	uint64_t guard, heap_start, heap_end;
	int rc;

	if (p->load_tried)
		return kx_err(err, -EBUSY, "load was already called for this pVM");
	p->load_tried = true;
	p->stack_base = p->mem.size - p->stack_size;
	guard = p->stack_base - LAYOUT_STACK_GUARD;
	if (p->mgr != NULL)
		rc = hv_link_load_image(p, guard, buf, len, &info, err);
	else
		rc = image_load(p, guard - LAYOUT_HEAP_GAP - LAYOUT_HEAP_MIN, buf, len, &info, err);
	if (rc != 0)
		return rc;
	heap_start = info.end + LAYOUT_HEAP_GAP;
	heap_end = guard;
	for (size_t i = 0; i < NMODULES; i++)
		if (modules[i]->setup != NULL &&
		    (rc = modules[i]->setup(p, heap_start, &heap_end, err)) != 0)
			return rc;
	rc = hv_protect(p, heap_start, heap_end - heap_start, HV_PROT_READ | HV_PROT_WRITE, err);
	if (rc == 0)
		rc = hv_protect(p, p->stack_base, p->stack_size, HV_PROT_READ | HV_PROT_WRITE,
				err);
	if (rc != 0)
		return kx_err(err, rc, "cannot map heap and stack");
	boot = hv_guest_ptr(&p->mem, LAYOUT_BOOT, sizeof(*boot), HV_ACCESS_MONITOR);
	*boot = (struct kx_boot_info){
		.magic = KX_BOOT_MAGIC,
		.abi_version = KX_HCALL_ABI_VERSION,
		.argc = p->argc,
		.argv = p->argv_gpa,
		.heap_start = heap_start,
		.heap_size = heap_end - heap_start,
		.stack_top = p->mem.size,
		.stack_size = p->stack_size,
		.image_start = info.start,
		.image_end = info.end,
		.mem_size = p->mem.size,
		.features = p->features,
	};
	rc = p->be->boot(p->vm, info.entry, p->mem.size, LAYOUT_BOOT, err);
	if (rc != 0)
		return rc;
	p->loaded = true;
	return 0;
}

/* ---- running ------------------------------------------------------------------ */

/* What lies at addr, for a fault report. */
static const char *classify_addr(const struct hv_pvm *p, uint64_t addr)
{
	unsigned prot;

	if (addr < KX_PAGE_SIZE)
		return "NULL page";
	if (addr < LAYOUT_MONITOR_END)
		return "monitor region";
	if (addr >= p->mem.size)
		return "outside guest memory";
	if (p->loaded && addr >= p->stack_base - LAYOUT_STACK_GUARD && addr < p->stack_base)
		return "stack guard page";
	prot = p->mem.page_prot[addr / KX_PAGE_SIZE];
	if (prot == 0)
		return "unmapped page";
	if (prot & HV_PROT_EXEC)
		return "text page: read, execute";
	if (prot & HV_PROT_WRITE)
		return "data page: read, write, no execute";
	return "read-only page";
}

/* 1: resume the guest; 0: the pVM ended (end filled). */
static int hcall(struct hv_pvm *p, const struct hv_exit *x, struct hv_end *end)
{
	struct hv_hcall_result res;

	if (x->block_buf != NULL)
		hv_hcall_dispatch_copy(p, x->block_buf, x->block_len, &res);
	else
		hv_hcall_dispatch(p, x->block, &res);
	switch (res.outcome) {
	case HV_HC_RESUME:
		safe_point(p);
		return 1;
	case HV_HC_EXIT:
		end->reason = HV_END_EXIT;
		end->exit_status = res.exit_status;
		break;
	case HV_HC_PANIC:
		end->reason = HV_END_PANIC;
		memcpy(end->message, res.message, sizeof(end->message));
		break;
	case HV_HC_BAD:
		end->reason = HV_END_BAD_HCALL;
		end->hcall_nr = res.nr;
		end->detail = res.reason;
		break;
	}
	end->rip = p->be->hcall_rip(p->vm);
	return 0;
}

int hv_run(struct hv_pvm *p, struct hv_end *end, struct kx_error *err)
{
	struct hv_exit x;
	int rc;

	memset(end, 0, sizeof(*end));
	if (!p->loaded)
		return kx_err(err, -EINVAL, "no image loaded");
	p->ran = true;
	for (;;) {
		x.block_buf = NULL; /* only a backend with a block in hand sets it */
		rc = p->be->run(p->vm, &x, err);
		if (rc != 0)
			return rc;
		switch (x.kind) {
		case HV_EXIT_HCALL:
			p->hcalls++;
			if (hcall(p, &x, end))
				continue;
			return 0;
		case HV_EXIT_KICK:
			p->kicks++;
			safe_point(p);
			continue;
		case HV_EXIT_PAUSED:
			*end = x.end;
			end->reason = HV_END_PAUSED;
			if (p->stopped) {
				uint64_t rip = end->rip;

				*end = p->stop;
				end->rip = rip;
			}
			return 0;
		case HV_EXIT_END:
			*end = x.end;
			if (end->reason == HV_END_FAULT && end->vector == 14)
				end->where = classify_addr(p, end->fault_addr);
			if (end->reason == HV_END_MMIO)
				end->where = classify_addr(p, end->fault_addr);
			return 0;
		}
	}
}

void hv_pause(struct hv_pvm *p)
{
	p->pause_requested = 1;
	p->be->pause(p->vm);
}

void hv_resume(struct hv_pvm *p)
{
	p->pause_requested = 0;
	p->be->resume(p->vm);
}

void hv_kick(struct hv_pvm *p)
{
	p->be->kick(p->vm);
}

void hv_destroy(struct hv_pvm *p, int status, const struct hv_end *end, const char *report)
{
	struct kxmon_msg m;

	if (p == NULL)
		return;
	for (size_t i = 0; i < NMODULES; i++)
		if (modules[i]->finish != NULL)
			modules[i]->finish(p);
	if (p->mgr != NULL) {
		memset(&m, 0, sizeof(m));
		m.type = KXMON_MSG_EXIT;
		m.u.exit.status = status;
		m.u.exit.by_guest = end != NULL && end->reason == HV_END_EXIT;
		m.u.exit.rip = end != NULL ? end->rip : 0;
		snprintf(m.u.exit.report, sizeof(m.u.exit.report), "%s", report ? report : "");
		hv_mgr_send(p, &m);
	}
	for (size_t i = NMODULES; i-- > 0;)
		if (modules[i]->destroy != NULL)
			modules[i]->destroy(p);
	if (p->vm != NULL)
		p->be->destroy(p->vm);
	free(p->mem.page_prot);
	free(p);
}

/* ---- for kxmon and the tests ---------------------------------------------------- */

void hv_link_stats(const struct hv_pvm *p, struct hv_link_stats *out)
{
	*out = p->stats;
}

struct hv_guest_mem *hv_pvm_mem(struct hv_pvm *p)
{
	return &p->mem;
}

/* Run the parent's module hooks before its monitor is copied, or undo them
 * when the copy failed (proc.c). */
void hv_core_fork_parent(struct hv_pvm *p, bool undo)
{
	for (size_t i = 0; i < NMODULES; i++)
		if (modules[i]->fork_parent != NULL)
			modules[i]->fork_parent(p, undo);
}

/* Run a forked child's module hooks (proc.c). */
void hv_core_fork_child(struct hv_pvm *p)
{
	for (size_t i = 0; i < NMODULES; i++)
		if (modules[i]->fork_child != NULL)
			modules[i]->fork_child(p);
}

const struct hv_hcall_desc *hv_core_find_hcall(uint32_t nr)
{
	for (size_t i = 0; i < NMODULES; i++)
		for (size_t k = 0; k < modules[i]->nhcalls; k++)
			if (modules[i]->hcalls[k].nr == nr)
				return &modules[i]->hcalls[k];
	return NULL;
}
