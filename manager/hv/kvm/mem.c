/*
 * mem.c — guest memory on KVM: rights (page tables), backing (memslots) and
 * the TLB flush.
 *
 * Guest memory starts as one writable memslot over the private memfd
 * mapping.  map_fd carves a range out of it (kvm_slot_split) and backs the
 * range with another fd's pages, mapped MAP_SHARED over the host view too
 * (so the monitor reads what the guest runs): read-only memslots for
 * library text and IpC control pages, writable ones for IpC data.  unmap
 * carves a range out and leaves it without any memslot: a guest access
 * there is an MMIO exit, which ends the pVM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "manager/hv/kvm/paging.h"

int kvm_slot_set(struct hv_vm *vm, const struct kvm_userspace_memory_region *r,
		 struct kx_error *err)
{
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, r) != 0)
		return kx_err(err, -errno, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	return 0;
}

/* A free slot entry (memory_size 0) for slot number id = its index. */
static struct kvm_userspace_memory_region *slot_free(struct hv_vm *vm)
{
	for (unsigned i = 0; i < MAX_SLOTS; i++)
		if (vm->slots[i].memory_size == 0) {
			vm->slots[i].slot = i;
			if (i >= vm->nslots)
				vm->nslots = i + 1;
			return &vm->slots[i];
		}
	return NULL;
}

static int slot_add(struct hv_vm *vm, uint64_t gpa, uint64_t size, uint32_t flags,
		    struct kx_error *err)
{
	struct kvm_userspace_memory_region *r = slot_free(vm);
	int rc;

	if (r == NULL)
		return kx_err(err, -ENOSPC, "out of memslots");
	*r = (struct kvm_userspace_memory_region){
		.slot = r->slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)(vm->host + gpa),
	};
	rc = kvm_slot_set(vm, r, err);
	if (rc != 0)
		r->memory_size = 0;
	return rc;
}

static void slot_drop(struct hv_vm *vm, struct kvm_userspace_memory_region *r)
{
	struct kx_error ignored;

	r->memory_size = 0;
	kvm_slot_set(vm, r, &ignored);
}

/* Free slot entries: an operation that may split needs two. */
static unsigned slots_free(const struct hv_vm *vm)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_SLOTS; i++)
		n += vm->slots[i].memory_size == 0;
	return n;
}

/*
 * Take [gpa, end) out of the memslots: a slot wholly inside goes, the one
 * writable private slot around the range is split in two around it (empty
 * pieces are skipped).  A range that cuts any other slot is -EINVAL.
 */
static int kvm_slot_split(struct hv_vm *vm, uint64_t gpa, uint64_t end, struct kx_error *err)
{
	for (unsigned i = 0; i < vm->nslots; i++) {
		struct kvm_userspace_memory_region *r = &vm->slots[i], old;
		uint64_t lo = r->guest_phys_addr, hi = lo + r->memory_size;
		int rc;

		if (r->memory_size == 0 || hi <= gpa || end <= lo)
			continue;
		if (gpa <= lo && hi <= end) {
			slot_drop(vm, r);
			continue;
		}
		if (r->flags != 0 || gpa < lo || end > hi)
			return kx_err(err, -EINVAL,
				      "[0x%llx, 0x%llx) cuts a mapped range of guest memory",
				      (unsigned long long)gpa, (unsigned long long)end);
		if (slots_free(vm) < 2)
			return kx_err(err, -ENOSPC, "out of memslots");
		old = *r;
		slot_drop(vm, r);
		rc = gpa > lo ? slot_add(vm, lo, gpa - lo, old.flags, err) : 0;
		if (rc == 0 && hi > end)
			rc = slot_add(vm, end, hi - end, old.flags, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int range_ok(const struct hv_vm *vm, uint64_t gpa, uint64_t size, uint64_t *end)
{
	return gpa % KX_PAGE_SIZE == 0 && size % KX_PAGE_SIZE == 0 && size != 0 &&
	       !__builtin_add_overflow(gpa, size, end) && *end <= vm->size &&
	       gpa >= LAYOUT_MONITOR_END;
}

int kvm_protect(struct hv_vm *vm, uint64_t gpa, uint64_t size, unsigned prot,
		struct kx_error *err)
{
	uint64_t end;

	if (!range_ok(vm, gpa, size, &end))
		return kx_err(err, -EINVAL, "protect: bad range");
	paging_map_user(vm, gpa, size, prot);
	return 0;
}

int kvm_map_fd(struct hv_vm *vm, uint64_t gpa, int fd, uint64_t offset, uint64_t size,
	       unsigned prot, struct kx_error *err)
{
	int host_prot = PROT_READ | ((prot & HV_PROT_WRITE) ? PROT_WRITE : 0);
	uint64_t end;
	int rc;

	if (!range_ok(vm, gpa, size, &end) || offset % KX_PAGE_SIZE != 0)
		return kx_err(err, -EINVAL, "map_fd: bad range");
	rc = kvm_slot_split(vm, gpa, end, err);
	if (rc != 0)
		return rc;
	if (mmap(vm->host + gpa, size, host_prot, MAP_SHARED | MAP_FIXED, fd, (off_t)offset) ==
	    MAP_FAILED)
		return kx_err(err, -errno, "map_fd: mmap: %s", strerror(errno));
	/* The guest's private pages under it are not needed any more. */
	fallocate(vm->mem_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)gpa, (off_t)size);
	rc = slot_add(vm, gpa, size, (prot & HV_PROT_WRITE) ? 0 : KVM_MEM_READONLY, err);
	if (rc == 0)
		paging_map_user(vm, gpa, size, prot);
	return rc;
}

int kvm_unmap(struct hv_vm *vm, uint64_t gpa, uint64_t size, struct kx_error *err)
{
	uint64_t end;
	int rc;

	if (!range_ok(vm, gpa, size, &end))
		return kx_err(err, -EINVAL, "unmap: bad range");
	paging_map_user(vm, gpa, size, 0);
	rc = kvm_flush(vm, err);
	if (rc < 0)
		return rc;
	rc = kvm_slot_split(vm, gpa, end, err);
	if (rc != 0)
		return rc;
	if (mmap(vm->host + gpa, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		return kx_err(err, -errno, "unmap: mmap: %s", strerror(errno));
	return 0;
}

/*
 * After the guest has run, the translations it caches — its TLB on VT-x,
 * KVM's shadow page tables under shadow paging (kvm_pvm) — may hold rights
 * the monitor just took away: the monitor writes the page tables through
 * its own mapping, which KVM does not watch.  Two steps, both needed:
 *   - set CR3 to another value (PWT) and back through KVM_SET_SREGS, which
 *     resets KVM's MMU context and flushes the guest's TLB;
 *   - delete and re-create the memslot holding the page tables, which makes
 *     KVM drop every shadow page built from them (kvm_pvm keeps those across
 *     a CR3 reload; kvm_tlbcheck shows the guest writing through one).
 * 1: flushed; 0: the guest never ran; -errno.
 */
int kvm_flush(struct hv_vm *vm, struct kx_error *err)
{
	struct kvm_userspace_memory_region *tables = NULL, gone;
	struct kvm_sregs sregs;
	int rc;

	if (!vm->ran)
		return 0;
	rc = VCPU_IOCTL(vm, KVM_GET_SREGS, &sregs, err);
	if (rc != 0)
		return rc;
	sregs.cr3 ^= CR3_PWT;
	rc = VCPU_IOCTL(vm, KVM_SET_SREGS, &sregs, err);
	if (rc != 0)
		return rc;
	sregs.cr3 ^= CR3_PWT;
	rc = VCPU_IOCTL(vm, KVM_SET_SREGS, &sregs, err);
	if (rc != 0)
		return rc;
	for (unsigned i = 0; i < vm->nslots; i++)
		if (vm->slots[i].memory_size != 0 && vm->slots[i].guest_phys_addr <= LAYOUT_PML4 &&
		    LAYOUT_PML4 < vm->slots[i].guest_phys_addr + vm->slots[i].memory_size)
			tables = &vm->slots[i];
	if (tables == NULL)
		return kx_err(err, -EINVAL, "no memslot holds the page tables");
	gone = *tables;
	gone.memory_size = 0;
	rc = kvm_slot_set(vm, &gone, err);
	if (rc == 0)
		rc = kvm_slot_set(vm, tables, err);
	return rc != 0 ? rc : 1;
}
