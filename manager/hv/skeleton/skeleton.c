/*
 * skeleton.c — the template of a backend: every primitive of backend.h,
 * each returning -ENOSYS ("not implemented").  A new backend starts as a
 * copy of this folder; `make` builds it so it never rots, and
 * tests/unit/test_hv_skeleton.c runs the core over it.
 */
#include <errno.h>

#include "manager/hv/backend.h"

static int not_implemented(struct kx_error *err, const char *what)
{
	return kx_err(err, -ENOSYS, "skeleton backend: %s: not implemented", what);
}

static int sk_probe(struct kx_error *err)
{
	return not_implemented(err, "probe");
}

static int sk_create(uint64_t mem_size, struct hv_guest_mem *mem, uint64_t *features,
		     struct hv_vm **vm, struct kx_error *err)
{
	(void)mem_size, (void)mem, (void)features;
	*vm = NULL;
	return not_implemented(err, "create");
}

static int sk_boot(struct hv_vm *vm, uint64_t entry, uint64_t rsp, uint64_t arg,
		   struct kx_error *err)
{
	(void)vm, (void)entry, (void)rsp, (void)arg;
	return not_implemented(err, "boot");
}

static int sk_protect(struct hv_vm *vm, uint64_t gpa, uint64_t size, unsigned prot,
		      struct kx_error *err)
{
	(void)vm, (void)gpa, (void)size, (void)prot;
	return not_implemented(err, "protect");
}

static int sk_map_fd(struct hv_vm *vm, uint64_t gpa, int fd, uint64_t offset, uint64_t size,
		     unsigned prot, struct kx_error *err)
{
	(void)vm, (void)gpa, (void)fd, (void)offset, (void)size, (void)prot;
	return not_implemented(err, "map_fd");
}

static int sk_unmap(struct hv_vm *vm, uint64_t gpa, uint64_t size, struct kx_error *err)
{
	(void)vm, (void)gpa, (void)size;
	return not_implemented(err, "unmap");
}

static int sk_flush(struct hv_vm *vm, struct kx_error *err)
{
	(void)vm;
	return not_implemented(err, "flush");
}

static int sk_run(struct hv_vm *vm, struct hv_exit *exit, struct kx_error *err)
{
	(void)vm, (void)exit;
	return not_implemented(err, "run");
}

static uint64_t sk_hcall_rip(struct hv_vm *vm)
{
	(void)vm;
	return 0;
}

/* kick, pause and resume cannot fail: a skeleton VM never runs. */
static void sk_nothing(struct hv_vm *vm)
{
	(void)vm;
}

static int sk_get_vcpu(struct hv_vm *vm, struct hv_vcpu *st, unsigned parts,
		       struct kx_error *err)
{
	(void)vm, (void)st, (void)parts;
	return not_implemented(err, "get_vcpu");
}

static int sk_set_vcpu(struct hv_vm *vm, const struct hv_vcpu *st, unsigned parts,
		       struct kx_error *err)
{
	(void)vm, (void)st, (void)parts;
	return not_implemented(err, "set_vcpu");
}

static int sk_fork_prepare(struct hv_vm *vm, struct kx_error *err)
{
	(void)vm;
	return not_implemented(err, "fork_prepare");
}

static int sk_fork_child(struct hv_vm *vm, struct kx_error *err)
{
	(void)vm;
	return not_implemented(err, "fork_child");
}

static void sk_destroy(struct hv_vm *vm)
{
	(void)vm;
}

const struct hv_backend hv_skeleton_backend = {
	.name = "skeleton",
	.probe = sk_probe,
	.create = sk_create,
	.boot = sk_boot,
	.protect = sk_protect,
	.map_fd = sk_map_fd,
	.unmap = sk_unmap,
	.flush = sk_flush,
	.run = sk_run,
	.hcall_rip = sk_hcall_rip,
	.kick = sk_nothing,
	.pause = sk_nothing,
	.resume = sk_nothing,
	.get_vcpu = sk_get_vcpu,
	.set_vcpu = sk_set_vcpu,
	.fork_prepare = sk_fork_prepare,
	.fork_child = sk_fork_child,
	.destroy = sk_destroy,
};
