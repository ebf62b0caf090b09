/*
 * hv_fake.c — the fake backend and the scripted manager of hv_fake.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/hv/hv_fake.h"

static struct hv_vm *last_vm; /* the one fake_pvm just made */

static int fk_probe(struct kx_error *err)
{
	(void)err;
	return 0;
}

static int fk_create(uint64_t mem_size, struct hv_guest_mem *mem, uint64_t *features,
		     struct hv_vm **out, struct kx_error *err)
{
	struct hv_vm *vm = calloc(1, sizeof(*vm));
	void *host = MAP_FAILED;

	/* mmap, not calloc: fresh zero pages, paid for only when touched (a
	 * fuzz harness makes a pVM per input). */
	if (vm != NULL)
		host = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	if (host == MAP_FAILED) {
		free(vm);
		return kx_err(err, -ENOMEM, "out of memory");
	}
	vm->host = host;
	vm->size = mem_size;
	mem->host = vm->host;
	mem->size = mem_size;
	*features = 0;
	*out = last_vm = vm;
	return 0;
}

static int fk_boot(struct hv_vm *vm, uint64_t entry, uint64_t rsp, uint64_t arg,
		   struct kx_error *err)
{
	(void)err;
	vm->vcpu.rip = entry;
	vm->vcpu.gpr[4] = rsp;
	vm->vcpu.gpr[7] = arg;
	vm->vcpu.user = true;
	return 0;
}

static int fk_protect(struct hv_vm *vm, uint64_t gpa, uint64_t size, unsigned prot,
		      struct kx_error *err)
{
	(void)gpa, (void)size, (void)prot, (void)err;
	vm->protects++;
	return 0;
}

static int fk_map_fd(struct hv_vm *vm, uint64_t gpa, int fd, uint64_t offset, uint64_t size,
		     unsigned prot, struct kx_error *err)
{
	(void)gpa, (void)fd, (void)offset, (void)size, (void)prot, (void)err;
	vm->maps++;
	return 0;
}

static int fk_unmap(struct hv_vm *vm, uint64_t gpa, uint64_t size, struct kx_error *err)
{
	(void)gpa, (void)size, (void)err;
	vm->unmaps++;
	return 0;
}

static int fk_flush(struct hv_vm *vm, struct kx_error *err)
{
	(void)err;
	vm->flushes++;
	return 1;
}

static int fk_run(struct hv_vm *vm, struct hv_exit *exit, struct kx_error *err)
{
	if (vm->next_script < vm->nscript) {
		*exit = vm->script[vm->next_script++];
		return 0;
	}
	return kx_err(err, -ENOSYS, "the fake backend runs nothing more");
}

static uint64_t fk_hcall_rip(struct hv_vm *vm)
{
	return vm->vcpu.rip;
}

static void fk_kick(struct hv_vm *vm)
{
	vm->kicks++;
}

static void fk_pause(struct hv_vm *vm)
{
	vm->pauses++;
}

static void fk_resume(struct hv_vm *vm)
{
	(void)vm;
}

static int fk_get_vcpu(struct hv_vm *vm, struct hv_vcpu *st, unsigned parts,
		       struct kx_error *err)
{
	(void)parts, (void)err;
	*st = vm->vcpu;
	return 0;
}

static int fk_set_vcpu(struct hv_vm *vm, const struct hv_vcpu *st, unsigned parts,
		       struct kx_error *err)
{
	(void)err;
	if (parts & HV_VCPU_REGS) {
		memcpy(vm->vcpu.gpr, st->gpr, sizeof(st->gpr));
		vm->vcpu.rip = st->rip;
		vm->vcpu.rflags = st->rflags;
	}
	if (parts & HV_VCPU_FPU)
		memcpy(vm->vcpu.fpu, st->fpu, sizeof(st->fpu));
	return 0;
}

static int fk_fork(struct hv_vm *vm, struct kx_error *err)
{
	(void)vm;
	return kx_err(err, -ENOSYS, "the fake backend cannot fork");
}

static void fk_destroy(struct hv_vm *vm)
{
	if (vm == NULL)
		return;
	munmap(vm->host, vm->size);
	free(vm);
}

/* The fake guest's TSC is the host's. */
static int fk_tsc_offset(struct hv_vm *vm, int64_t *offset, struct kx_error *err)
{
	(void)vm, (void)err;
	*offset = 0;
	return 0;
}

const struct hv_backend hv_fake_backend = {
	.name = "fake",
	.probe = fk_probe,
	.create = fk_create,
	.boot = fk_boot,
	.protect = fk_protect,
	.map_fd = fk_map_fd,
	.unmap = fk_unmap,
	.flush = fk_flush,
	.run = fk_run,
	.hcall_rip = fk_hcall_rip,
	.kick = fk_kick,
	.pause = fk_pause,
	.resume = fk_resume,
	.get_vcpu = fk_get_vcpu,
	.set_vcpu = fk_set_vcpu,
	.fork_prepare = fk_fork,
	.fork_child = fk_fork,
	.destroy = fk_destroy,
	.tsc_offset = fk_tsc_offset,
};

/* ---- the scripted manager -------------------------------------------------------- */

static void fm_bind(void *ctx, struct hv_pvm *p)
{
	struct fake_mgr *f = ctx;

	f->p = p;
}

static int fm_call(void *ctx, struct kxmon_msg *m, uint32_t resp_type, int *fds, int *nfds)
{
	struct fake_mgr *f = ctx;

	*nfds = 0;
	if (m->type == KXMON_MSG_FS_MOUNT_REQ && !f->answer_mounts) {
		/* posix-fs: the app has no host directories (not counted) */
		memset(&m->u, 0, sizeof(m->u));
		m->type = resp_type;
		m->seq = ++f->seq;
		m->u.fs_mount.result = -ENOENT;
		return f->broken ? -EPIPE : 0;
	}
	f->calls++;
	f->last_call = *m;
	m->seq = ++f->seq;
	if (f->broken || f->answer == NULL)
		return -EPIPE;
	return f->answer(f, m, resp_type, fds, nfds);
}

static int fm_send(void *ctx, struct kxmon_msg *m)
{
	struct fake_mgr *f = ctx;

	f->sends++;
	f->last_sent = *m;
	return f->broken ? -EPIPE : 0;
}

static int fm_next(void *ctx, uint64_t seq, int timeout_ms, struct kxmon_msg *m, int *fds,
		   int *nfds)
{
	struct fake_mgr *f = ctx;
	unsigned i;

	*nfds = 0;
	if (f->broken)
		return -EPIPE;
	if (f->next_push >= f->npush && f->next != NULL)
		return f->next(f, seq, timeout_ms, m, fds, nfds);
	if (f->next_push >= f->npush)
		return timeout_ms < 0 ? -EPIPE : 0; /* nothing will ever come */
	i = f->next_push++;
	if (hv_push(f->p, &f->push[i], f->push_fds[i], f->push_nfds[i]) != 0) {
		f->broken = true;
		return -EPIPE;
	}
	return 2;
}

static uint64_t fm_seq(void *ctx)
{
	struct fake_mgr *f = ctx;

	return ++f->seq;
}

static int fm_child(void *ctx, int chan)
{
	(void)ctx;
	close(chan);
	return -EPIPE;
}

static int fm_console(void *ctx, int out, int err)
{
	struct fake_mgr *f = ctx;

	f->consoles++;
	close(out);
	close(err);
	return 0;
}

static void fm_recycled(void *ctx, int rc, const char *why)
{
	struct fake_mgr *f = ctx;

	(void)why;
	f->recycled++;
	f->recycled_rc = rc;
}

static const char *fm_reason(void *ctx)
{
	const struct fake_mgr *f = ctx;

	return f->broken ? "fake channel broken" : "";
}

const struct hv_manager_ops fake_mgr_ops = {
	.bind = fm_bind,
	.call = fm_call,
	.send = fm_send,
	.next = fm_next,
	.seq = fm_seq,
	.child = fm_child,
	.console = fm_console,
	.recycled = fm_recycled,
	.reason = fm_reason,
};

struct hv_pvm *fake_pvm_with(uint64_t mem_size, const struct hv_manager *mgr, bool pool)
{
	static char name[] = "fake";
	static char *argv[] = {name, NULL};
	struct hv_config cfg = {.mem_size = mem_size, .argc = 1, .argv = argv, .console_fd = -1,
				.pool = pool, .manager = mgr};
	struct hv_pvm *p = NULL;
	struct kx_error err;

	if (hv_create(&hv_fake_backend, &cfg, &p, &err) != 0) {
		fprintf(stderr, "fake_pvm: %s\n", err.msg);
		abort();
	}
	return p;
}

struct hv_pvm *fake_pvm(uint64_t mem_size, struct fake_mgr *mgr, bool pool)
{
	static struct hv_manager manager; /* one pVM with a fake manager at a time */

	if (mgr == NULL)
		return fake_pvm_with(mem_size, NULL, pool);
	manager = (struct hv_manager){.ops = &fake_mgr_ops, .ctx = mgr};
	return fake_pvm_with(mem_size, &manager, pool);
}

void fake_load(struct hv_pvm *p, const char *dir, const char *image)
{
	static uint8_t buf[4 << 20]; /* the pVM keeps pointers into it while it lives */
	struct kx_error err;
	char path[4200];
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, image);
	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "fake_load: cannot open %s\n", path);
		abort();
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (hv_load(p, buf, len, &err) != 0) {
		fprintf(stderr, "fake_load: %s: %s\n", path, err.msg);
		abort();
	}
}

struct hv_vm *fake_vm_of(struct hv_pvm *p)
{
	(void)p;
	return last_vm;
}

/* ---- files and the stand-in for kxd ------------------------------------------------- */

int fake_sealed_file(const char *path, uint8_t **bytes, size_t *len)
{
	struct stat st;
	int in = open(path, O_RDONLY | O_CLOEXEC), fd = -1;
	uint8_t *buf = NULL;

	if (in < 0 || fstat(in, &st) != 0 || st.st_size <= 0)
		goto out;
	buf = malloc((size_t)st.st_size);
	if (buf == NULL || read(in, buf, (size_t)st.st_size) != st.st_size)
		goto out;
	fd = memfd_create("kx-lib", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd >= 0 && (write(fd, buf, (size_t)st.st_size) != st.st_size ||
			fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW) != 0)) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0 && bytes != NULL) {
		*bytes = buf;
		*len = (size_t)st.st_size;
		buf = NULL;
	}
out:
	free(buf);
	if (in >= 0)
		close(in);
	return fd;
}

int fake_serve_answer(struct fake_mgr *f, struct kxmon_msg *m, uint32_t resp_type, int *fds,
		      int *nfds)
{
	const struct fake_serve *serve = f->ctx;
	char name[KXMON_NAME_MAX], path[4200];

	if (m->type != KXMON_MSG_LINK_REQ || resp_type != KXMON_MSG_LINK_RESP)
		return -EPIPE;
	snprintf(name, sizeof(name), "%s", m->u.link_req.name);
	memset(&m->u, 0, sizeof(m->u));
	m->type = KXMON_MSG_LINK_RESP;
	snprintf(m->u.link.name, sizeof(m->u.link.name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s", serve->dir, name);
	if (serve->shared_name != NULL && serve->shared_fd >= 0 &&
	    strcmp(name, serve->shared_name) == 0)
		fds[0] = fcntl(serve->shared_fd, F_DUPFD_CLOEXEC, 3);
	else
		fds[0] = fake_sealed_file(path, NULL, NULL);
	if (fds[0] < 0) {
		snprintf(m->u.link.reason, sizeof(m->u.link.reason), "%.400s: cannot read", path);
		return 0;
	}
	m->u.link.allow = 1;
	m->u.link.bind = KXMON_BIND_LAZY;
	*nfds = 1;
	return 0;
}
