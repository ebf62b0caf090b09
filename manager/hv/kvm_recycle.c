/*
 * kvm_recycle.c — KX_HC_RECYCLE_WAIT on KVM: the placeholder of a pooled
 * pVM waits in this call until the manager hands it an app library
 * (docs/recycle.md).  The library is linked like an operator's push (its
 * DT_NEEDED through the link source, i.e. the gate), bound now, and its
 * `app_entry` must lie in an executable page of the pVM.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "manager/hv/hv.h"
#include "manager/hv/kvm.h"

static int recycle_wait(void *opaque, struct hv_recycle_work *work)
{
	struct hv_vm *vm = opaque;
	const struct hv_recycle_source *src = vm->recycle_src;
	struct hv_recycle_order order = {.fd = -1};
	struct hv_error err = {{0}};
	char why[sizeof(err.msg)] = "";
	uint64_t handle = 0, entry = 0;
	int rc;

	rc = src->take(src->ctx, &order, work, why, sizeof(why));
	if (rc != 0)
		goto out;
	rc = kvm_link(vm, order.name, order.fd, HV_BIND_NOW, &handle, &err);
	if (rc != 0) {
		snprintf(why, sizeof(why), "%s", err.msg);
		goto out;
	}
	rc = linker_hooks.dlsym(vm->linker, handle, "app_entry", &entry);
	if (rc != 0 || entry >= vm->mem.size ||
	    !(vm->mem.page_prot[entry / KX_PAGE_SIZE] & HV_PROT_EXEC)) {
		snprintf(why, sizeof(why), "%s: no function app_entry", order.name);
		rc = -ENOENT;
		goto out;
	}
	work->entry = entry;
out:
	src->started(src->ctx, rc, why);
	return rc;
}

const struct hv_recycle_hooks kvm_recycle_hooks = {
	.wait = recycle_wait,
};
