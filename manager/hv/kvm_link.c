/*
 * kvm_link.c — the KVM side of linking: library text shared from sealed
 * memfds through read-only memslots, the TLB flush after page-table
 * changes, and the hooks that connect link.c to this backend.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "manager/hv/kvm.h"

static int set_slot(struct hv_vm *vm, struct kvm_userspace_memory_region *r, struct hv_error *err)
{
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, r) != 0)
		return kvm_seterr(err, -errno, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	return 0;
}

/* A free slot entry (memory_size 0) for slot number id = its index. */
static struct kvm_userspace_memory_region *free_slot(struct hv_vm *vm)
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

int kvm_slot_set(struct hv_vm *vm, struct kvm_userspace_memory_region *r, struct hv_error *err)
{
	return set_slot(vm, r, err);
}

struct kvm_userspace_memory_region *kvm_slot_free(struct hv_vm *vm)
{
	return free_slot(vm);
}

/*
 * Map fd's pages read-only at gpa: over the host view of guest memory
 * (MAP_FIXED, so the monitor reads what the guest runs) and as a KVM
 * read-only memslot carved out of the writable one that held the range.
 * The guest's private pages under it are released (hole punched).
 */
int kvm_share_pages(struct hv_vm *vm, uint64_t gpa, int fd, uint64_t offset, uint64_t size,
		    unsigned prot, struct hv_error *err)
{
	struct kvm_userspace_memory_region *host_slot = NULL, *piece, old;
	uint64_t end;
	int rc;

	if ((prot & HV_PROT_WRITE) || gpa % KX_PAGE_SIZE || size % KX_PAGE_SIZE || size == 0 ||
	    offset % KX_PAGE_SIZE || __builtin_add_overflow(gpa, size, &end) ||
	    end > vm->mem.size || gpa < LAYOUT_MONITOR_END)
		return kvm_seterr(err, -EINVAL, "share_pages: bad range");
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0)
		return kvm_seterr(err, -ENOTSUP, "KVM_CAP_READONLY_MEM missing");
	for (unsigned i = 0; i < vm->nslots; i++) {
		struct kvm_userspace_memory_region *r = &vm->slots[i];

		if (r->memory_size != 0 && r->flags == 0 && r->guest_phys_addr <= gpa &&
		    end <= r->guest_phys_addr + r->memory_size)
			host_slot = r;
	}
	if (host_slot == NULL)
		return kvm_seterr(err, -EINVAL, "share_pages: range already shared");
	if (mmap(vm->mem.host + gpa, size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, (off_t)offset) ==
	    MAP_FAILED)
		return kvm_seterr(err, -errno, "mmap shared text: %s", strerror(errno));
	fallocate(vm->mem_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)gpa, (off_t)size);
	old = *host_slot;
	host_slot->memory_size = 0;
	rc = set_slot(vm, host_slot, err);
	if (rc != 0)
		return rc;
	/* Below, the shared range, above; empty pieces are skipped. */
	const uint64_t bounds[4] = {old.guest_phys_addr, gpa, end,
				    old.guest_phys_addr + old.memory_size};
	for (unsigned k = 0; k < 3; k++) {
		if (bounds[k + 1] == bounds[k])
			continue;
		piece = free_slot(vm);
		if (piece == NULL)
			return kvm_seterr(err, -ENOSPC, "share_pages: out of memslots");
		piece->guest_phys_addr = bounds[k];
		piece->memory_size = bounds[k + 1] - bounds[k];
		piece->userspace_addr = (uint64_t)(uintptr_t)(vm->mem.host + bounds[k]);
		piece->flags = k == 1 ? KVM_MEM_READONLY : 0;
		rc = set_slot(vm, piece, err);
		if (rc != 0)
			return rc;
	}
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
int kvm_flush_tlb(struct hv_vm *vm, struct hv_error *err)
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
		return kvm_seterr(err, -EINVAL, "no memslot holds the page tables");
	gone = *tables;
	gone.memory_size = 0;
	rc = set_slot(vm, &gone, err);
	if (rc == 0)
		rc = set_slot(vm, tables, err);
	return rc != 0 ? rc : 1;
}

static int be_share(void *be, uint64_t gpa, int fd, uint64_t offset, uint64_t size,
		    struct hv_error *err)
{
	return kvm_share_pages(be, gpa, fd, offset, size, HV_PROT_READ | HV_PROT_EXEC, err);
}

static int be_flush(void *be, struct hv_error *err)
{
	return kvm_flush_tlb(be, err);
}

/*
 * Dynamic images: the image and its libraries in a window from
 * KX_IMAGE_MIN (at most half the memory below the stack, 64 MiB at most),
 * kx_dlopen'ed libraries after them; the heap above the window.
 */
int kvm_load_dynamic(struct hv_vm *vm, uint64_t guard, const uint8_t *buf, size_t len,
		     struct image_info *info, struct hv_error *err)
{
	const struct linker_backend be = {.share = be_share, .flush = be_flush, .be = vm};
	uint64_t window = (guard - KX_IMAGE_MIN) / 2;
	int rc;

	if (guard <= KX_IMAGE_MIN + 2 * LAYOUT_HEAP_MIN)
		return kvm_seterr(err, -E2BIG, "no room for a dynamic image in guest memory");
	if (window > LAYOUT_DYN_MAX)
		window = LAYOUT_DYN_MAX;
	window &= ~(uint64_t)(KX_PAGE_SIZE - 1);
	rc = linker_create(&vm->mem, KX_IMAGE_MIN, KX_IMAGE_MIN + window, vm->link_src, &be,
			   &vm->linker);
	if (rc != 0)
		return kvm_seterr(err, rc, "cannot create the linker");
	return linker_boot(vm->linker, buf, len, "image", info, err);
}

int kvm_link(struct hv_vm *vm, const char *name, int fd, unsigned bind, uint64_t *handle,
	     struct hv_error *err)
{
	if (vm->linker == NULL) {
		close(fd);
		return kvm_seterr(err, -EPERM,
				  "this pVM has no linker (started without a channel)");
	}
	return linker_link_fd(vm->linker, name, fd, bind, handle, err);
}

void kvm_link_stats(const struct hv_vm *vm, struct hv_link_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (vm->linker != NULL)
		linker_stats(vm->linker, out);
}
