/*
 * kvm_ipc.c — IpC objects on KVM (docs/ipc.md, "Inside").
 *
 * Each pVM has an IpC window: guest-physical pages at the top of its heap
 * range that no memslot backs until an object is attached.  An object is a
 * memfd from kxd (through the ipc source): its first page (the control
 * page, written only by kxd) is mapped read-only — host mapping PROT_READ,
 * a KVM_MEM_READONLY memslot, a read-only page-table entry — and the rest
 * read-write, never executable.  Both are MAP_SHARED over the host view of
 * guest memory, so hv_guest_ptr, the fork of the monitor (which keeps
 * MAP_SHARED mappings shared, and whose child re-creates vm->slots) and the
 * futex words of NOTIFY all see the object's own pages.  Detaching clears
 * the page-table entries, flushes the guest's translations and removes the
 * memslots: a later access faults.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "manager/hv/kvm.h"

#define IPC_WINDOW_MAX	 (32ull << 20) /* bytes of guest-physical space for objects */
#define IPC_MAX_ATTACHED 48u	       /* objects one pVM maps at once (2 memslots each) */

struct ipc_attached {
	uint64_t id; /* kxd's object id; 0: free entry */
	uint32_t kind, ends;
	uint64_t gpa;  /* the control page; the data area follows */
	uint64_t size; /* bytes mapped: control page + data area */
	struct kvm_userspace_memory_region *slot_ctl, *slot_data;
};

struct kvm_ipc {
	uint64_t base, size; /* the window */
	struct ipc_attached att[IPC_MAX_ATTACHED];
};

/* Take [base, end) out of the writable memslot holding it: no memslot backs
 * the window until an object is attached. */
static int carve_window(struct hv_vm *vm, uint64_t base, uint64_t end, struct hv_error *err)
{
	struct kvm_userspace_memory_region *host = NULL, old, *piece;
	int rc;

	for (unsigned i = 0; i < vm->nslots; i++) {
		struct kvm_userspace_memory_region *r = &vm->slots[i];

		if (r->memory_size != 0 && r->flags == 0 && r->guest_phys_addr <= base &&
		    end <= r->guest_phys_addr + r->memory_size)
			host = r;
	}
	if (host == NULL)
		return kvm_seterr(err, -EINVAL, "IpC window: no memslot holds it");
	old = *host;
	host->memory_size = 0;
	rc = kvm_slot_set(vm, host, err);
	const uint64_t bounds[4] = {old.guest_phys_addr, base, end,
				    old.guest_phys_addr + old.memory_size};
	for (unsigned k = 0; rc == 0 && k < 3; k += 2) {
		if (bounds[k + 1] == bounds[k])
			continue;
		piece = kvm_slot_free(vm);
		if (piece == NULL)
			return kvm_seterr(err, -ENOSPC, "IpC window: out of memslots");
		piece->guest_phys_addr = bounds[k];
		piece->memory_size = bounds[k + 1] - bounds[k];
		piece->userspace_addr = (uint64_t)(uintptr_t)(vm->mem.host + bounds[k]);
		piece->flags = 0;
		rc = kvm_slot_set(vm, piece, err);
	}
	return rc;
}

int kvm_ipc_reserve(struct hv_vm *vm, uint64_t heap_start, uint64_t *heap_end, struct hv_error *err)
{
	uint64_t size = (*heap_end - heap_start) / 4;

	if (vm->ipc_src == NULL)
		return 0;
	if (size > IPC_WINDOW_MAX)
		size = IPC_WINDOW_MAX;
	size &= ~(uint64_t)(KX_PAGE_SIZE - 1);
	if (size < 4 * KX_PAGE_SIZE)
		return 0; /* no room: every IPC_GET is -KX_ENOSPC */
	vm->ipc = calloc(1, sizeof(*vm->ipc));
	if (vm->ipc == NULL)
		return kvm_seterr(err, -ENOMEM, "out of memory");
	vm->ipc->base = *heap_end - size;
	vm->ipc->size = size;
	/* One unmapped page between the heap and the window. */
	*heap_end = vm->ipc->base - KX_PAGE_SIZE;
	return carve_window(vm, vm->ipc->base, vm->ipc->base + size, err);
}

void kvm_ipc_destroy(struct hv_vm *vm)
{
	free(vm->ipc);
	vm->ipc = NULL;
}

static struct ipc_attached *find(struct kvm_ipc *ipc, uint64_t id)
{
	for (unsigned i = 0; id != 0 && i < IPC_MAX_ATTACHED; i++)
		if (ipc->att[i].id == id)
			return &ipc->att[i];
	return NULL;
}

/* First fit in the window, one unmapped page after each object. */
static int place(struct kvm_ipc *ipc, uint64_t size, uint64_t *gpa)
{
	uint64_t cand = ipc->base, need = size + KX_PAGE_SIZE;
	bool moved = true;

	while (moved) {
		moved = false;
		for (unsigned i = 0; i < IPC_MAX_ATTACHED; i++) {
			const struct ipc_attached *a = &ipc->att[i];

			if (a->id != 0 && cand < a->gpa + a->size + KX_PAGE_SIZE &&
			    a->gpa < cand + need) {
				cand = a->gpa + a->size + KX_PAGE_SIZE;
				moved = true;
			}
		}
	}
	if (cand + need > ipc->base + ipc->size)
		return -ENOSPC;
	*gpa = cand;
	return 0;
}

static struct kvm_userspace_memory_region *add_slot(struct hv_vm *vm, uint64_t gpa, uint64_t size,
						    uint32_t flags, struct hv_error *err)
{
	struct kvm_userspace_memory_region *r = kvm_slot_free(vm);

	if (r == NULL) {
		kvm_seterr(err, -ENOSPC, "IpC: out of memslots");
		return NULL;
	}
	r->guest_phys_addr = gpa;
	r->memory_size = size;
	r->userspace_addr = (uint64_t)(uintptr_t)(vm->mem.host + gpa);
	r->flags = flags;
	if (kvm_slot_set(vm, r, err) != 0) {
		r->memory_size = 0;
		return NULL;
	}
	return r;
}

static void drop_slot(struct hv_vm *vm, struct kvm_userspace_memory_region **r)
{
	struct hv_error ignored;

	if (*r == NULL)
		return;
	(*r)->memory_size = 0;
	kvm_slot_set(vm, *r, &ignored);
	*r = NULL;
}

/* Take the object away from the guest: page tables, TLB, memslots, and
 * plain private pages in the host view again. */
static void unmap_object(struct hv_vm *vm, struct ipc_attached *a)
{
	struct hv_error ignored;

	layout_map_user(&vm->mem, a->gpa, a->size, 0);
	kvm_flush_tlb(vm, &ignored);
	drop_slot(vm, &a->slot_ctl);
	drop_slot(vm, &a->slot_data);
	mmap(vm->mem.host + a->gpa, a->size, PROT_READ | PROT_WRITE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	memset(a, 0, sizeof(*a));
}

static int map_object(struct hv_vm *vm, struct ipc_attached *a, int fd, struct hv_error *err)
{
	uint8_t *host = vm->mem.host + a->gpa;
	uint64_t data = a->size - KX_PAGE_SIZE;
	int rc;

	if (mmap(host, KX_PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED ||
	    mmap(host + KX_PAGE_SIZE, data, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
		 KX_PAGE_SIZE) == MAP_FAILED)
		return kvm_seterr(err, -errno, "IpC: mmap: %s", strerror(errno));
	a->slot_ctl = add_slot(vm, a->gpa, KX_PAGE_SIZE, KVM_MEM_READONLY, err);
	a->slot_data = a->slot_ctl ? add_slot(vm, a->gpa + KX_PAGE_SIZE, data, 0, err) : NULL;
	if (a->slot_data == NULL)
		return -ENOSPC;
	rc = layout_map_user(&vm->mem, a->gpa, KX_PAGE_SIZE, HV_PROT_READ);
	if (rc == 0)
		rc = layout_map_user(&vm->mem, a->gpa + KX_PAGE_SIZE, data,
				     HV_PROT_READ | HV_PROT_WRITE);
	if (rc != 0)
		return kvm_seterr(err, rc, "IpC: page tables");
	rc = kvm_flush_tlb(vm, err);
	return rc < 0 ? rc : 0;
}

static int request(struct hv_vm *vm, const struct hv_ipc_order *o, struct hv_ipc_grant *g)
{
	char why[256];

	memset(g, 0, sizeof(*g));
	g->fd = -1;
	return vm->ipc_src->request(vm->ipc_src->ctx, o, g, why, sizeof(why));
}

/* A new object from kxd: check what it says, find room, map it.  On any
 * failure kxd is told to forget this pVM's hold. */
static int attach(struct hv_vm *vm, const struct hv_ipc_grant *g, struct ipc_attached **out)
{
	struct ipc_attached *a = NULL;
	struct hv_error err;
	struct hv_ipc_order undo = {
		.op = HV_IPC_DETACH, .ends = KX_IPC_END_READ | KX_IPC_END_WRITE, .id = g->id};
	struct hv_ipc_grant ignored;
	uint64_t size = 0, gpa = 0;
	int rc = -ENOSPC;

	for (unsigned i = 0; a == NULL && i < IPC_MAX_ATTACHED; i++)
		if (vm->ipc->att[i].id == 0)
			a = &vm->ipc->att[i];
	if (g->id == 0 || find(vm->ipc, g->id) != NULL || g->data_size == 0 ||
	    g->data_size % KX_PAGE_SIZE != 0)
		rc = -EINVAL;
	else if (a != NULL && place(vm->ipc, g->data_size + KX_PAGE_SIZE, &gpa) == 0)
		rc = 0;
	size = g->data_size + KX_PAGE_SIZE;
	if (rc == 0) {
		*a = (struct ipc_attached){
			.id = g->id, .kind = g->kind, .ends = g->ends, .gpa = gpa, .size = size};
		rc = map_object(vm, a, g->fd, &err);
		if (rc != 0) {
			unmap_object(vm, a);
			rc = -ENOSPC;
		}
	}
	close(g->fd);
	if (rc != 0) {
		request(vm, &undo, &ignored);
		return rc;
	}
	*out = a;
	return 0;
}

static int ipc_get(void *opaque, struct kx_hc_ipc_get *io)
{
	struct hv_vm *vm = opaque;
	const struct hv_ipc_order o = {.op = HV_IPC_GET,
				       .kind = io->kind,
				       .flags = io->flags,
				       .key = io->key,
				       .size = io->size};
	struct hv_ipc_grant g;
	struct ipc_attached *a;
	int rc;

	if (vm->ipc == NULL)
		return -ENOSPC;
	rc = request(vm, &o, &g);
	if (rc != 0)
		return rc;
	if (g.fd < 0) {
		a = find(vm->ipc, g.id);
		if (a == NULL)
			return -EINVAL;
		a->ends = g.ends;
	} else {
		rc = attach(vm, &g, &a);
		if (rc != 0)
			return rc;
	}
	io->id = a->id;
	io->addr = a->gpa;
	io->data_size = a->size - KX_PAGE_SIZE;
	return 0;
}

static int ipc_detach(void *opaque, uint64_t id, uint32_t ends)
{
	struct hv_vm *vm = opaque;
	struct ipc_attached *a = vm->ipc ? find(vm->ipc, id) : NULL;
	const struct hv_ipc_order o = {.op = HV_IPC_DETACH, .ends = ends, .id = id};
	struct hv_ipc_grant g;
	int rc;

	if (a == NULL)
		return -EINVAL;
	rc = request(vm, &o, &g);
	if (rc != 0)
		return rc;
	a->ends = g.ends;
	if (a->kind != KX_IPC_KIND_PIPE || a->ends == 0)
		unmap_object(vm, a);
	return 0;
}

static int ipc_rm(void *opaque, uint64_t id)
{
	struct hv_vm *vm = opaque;
	const struct hv_ipc_order o = {.op = HV_IPC_RM, .id = id};
	struct hv_ipc_grant g;

	if (vm->ipc == NULL || find(vm->ipc, id) == NULL)
		return -EINVAL;
	return request(vm, &o, &g);
}

/* The lock token: the monitor's pid, which kxd knows for every pVM (a
 * forked pVM has its own). */
static uint64_t ipc_self(void *opaque)
{
	(void)opaque;
	return (uint64_t)getpid();
}

/* The host address of a 32-bit word in a data area this pVM maps. */
static uint32_t *word(struct hv_vm *vm, uint64_t addr)
{
	for (unsigned i = 0; vm->ipc != NULL && i < IPC_MAX_ATTACHED; i++) {
		const struct ipc_attached *a = &vm->ipc->att[i];

		if (a->id != 0 && addr >= a->gpa + KX_PAGE_SIZE && addr <= a->gpa + a->size - 4)
			return (uint32_t *)(void *)(vm->mem.host + addr);
	}
	return NULL;
}

static int ipc_wait(void *opaque, uint64_t addr, uint32_t value, uint64_t timeout_ns)
{
	uint32_t *w = word(opaque, addr);
	struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000ull),
			      .tv_nsec = (long)(timeout_ns % 1000000000ull)};

	if (w == NULL)
		return -EINVAL;
	/* Not FUTEX_PRIVATE: the other holders are other processes. */
	if (syscall(SYS_futex, w, FUTEX_WAIT, value, &ts, NULL, 0) == 0 || errno == EAGAIN)
		return 0;
	return errno == ETIMEDOUT ? -ETIMEDOUT : errno == EINTR ? -EINTR : 0;
}

static int ipc_wake(void *opaque, uint64_t addr, uint32_t count)
{
	uint32_t *w = word(opaque, addr);
	long n;

	if (w == NULL)
		return -EINVAL;
	n = syscall(SYS_futex, w, FUTEX_WAKE, count > INT32_MAX ? INT32_MAX : (int)count, NULL,
		    NULL, 0);
	return n < 0 ? 0 : (int)n;
}

const struct hv_ipc_hooks kvm_ipc_hooks = {
	.get = ipc_get,
	.detach = ipc_detach,
	.rm = ipc_rm,
	.self = ipc_self,
	.wait = ipc_wait,
	.wake = ipc_wake,
};
