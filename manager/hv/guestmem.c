/*
 * guestmem.c — the one checked accessor to guest memory.
 *
 * Every address and length the host uses on a guest's behalf comes from
 * the guest and is untrusted: hv_guest_ptr checks the range against the
 * memory size without overflow, then checks the rights of every page it
 * touches, so a hypercall can never make the monitor read the monitor
 * region (page tables, GDT, IDT) or write the guest's read-only text.
 */
#include <errno.h>

#include "manager/hv/hv.h"

static int prot_allows(unsigned prot, enum hv_access access)
{
	switch (access) {
	case HV_ACCESS_READ:
		return (prot & HV_PROT_READ) != 0;
	case HV_ACCESS_WRITE:
		return (prot & HV_PROT_WRITE) != 0;
	case HV_ACCESS_MONITOR:
		return 1;
	}
	return 0;
}

void *hv_guest_ptr(const struct hv_guest_mem *mem, uint64_t gpa, uint64_t size,
		   enum hv_access access)
{
	uint64_t end;

	if (mem == NULL || mem->host == NULL || size == 0)
		return NULL;
	if (__builtin_add_overflow(gpa, size, &end) || end > mem->size)
		return NULL;
	for (uint64_t page = gpa / KX_PAGE_SIZE; page <= (end - 1) / KX_PAGE_SIZE; page++)
		if (!prot_allows(mem->page_prot[page], access))
			return NULL;
	return mem->host + gpa;
}
