/*
 * tlbcheck — does the monitor flush the guest's TLB when it changes page
 * tables after the guest has run?  (run by tests/cli/kvm_link.bats)
 *
 * Runs tlb.kxe in-process on the KVM backend with a hook whose first safe
 * point (the guest's first hypercall) takes write access away from the
 * page the guest has just written, as a module of the core would.  The guest's next write must
 * end it with a page fault on that page; if it survives, the write went
 * through a stale translation.  Exit 0 when the fault came, 1 otherwise,
 * 2 when the test could not run.
 * usage: kvm_tlbcheck GUEST_DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manager/elf/kxelf.h"
#include "tests/guest/hvdrive.h"

static uint64_t target;
static int safe_points;

static void take_write_access(struct hv_pvm *p, void *ctx)
{
	struct kx_error err;

	(void)ctx;
	if (safe_points++ == 0 && hv_test_protect(p, target, KX_PAGE_SIZE, HV_PROT_READ, &err) < 0)
		fprintf(stderr, "tlbcheck: protect: %s\n", err.msg);
}

/* The address of tlb_target in the (static, fixed) image. */
static int find_target(const uint8_t *buf, size_t len)
{
	struct kxelf_image *img = NULL;
	int rc = -1;

	if (kxelf_image_parse(buf, len, &img, NULL) != 0)
		return -1;
	for (size_t i = 0; i < kxelf_image_symbol_count(img, KXELF_SYMS_SYMTAB); i++) {
		struct kxelf_symbol s;

		if (kxelf_image_symbol(img, KXELF_SYMS_SYMTAB, i, &s) == 0 &&
		    strcmp(s.name, "tlb_target") == 0) {
			target = s.value;
			rc = 0;
		}
	}
	kxelf_image_free(img);
	return rc;
}

int main(int argc, char **argv)
{
	char path[4096], what[sizeof(((struct kx_error *)0)->msg)];
	struct hv_end end;
	uint8_t *buf = NULL;
	size_t len = 0;
	int status = 2;

	if (hvdrive_read(argc, argv, "tlbcheck", "tlb.kxe", path, sizeof(path), &buf, &len) != 0)
		goto out;
	if (find_target(buf, len) != 0) {
		fprintf(stderr, "tlbcheck: no tlb_target in %s\n", path);
		goto out;
	}
	if (hvdrive_run("tlbcheck", path, buf, len, take_write_access, &end) != 0)
		goto out;
	hv_end_describe(&end, what, sizeof(what));
	printf("tlbcheck: %s\n", what);
	status = end.reason == HV_END_FAULT && end.vector == 14 &&
				 end.fault_addr / KX_PAGE_SIZE == target / KX_PAGE_SIZE
			 ? 0
			 : 1;
	printf("tlbcheck: %s\n", status == 0 ? "flushed: the write after the change faulted"
					     : "STALE: the guest wrote through an old translation");
out:
	free(buf);
	return status;
}
