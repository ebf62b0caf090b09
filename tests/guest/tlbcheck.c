/*
 * tlbcheck — does the monitor flush the guest's TLB when it changes page
 * tables after the guest has run?  (run by tests/cli/kvm_link.bats)
 *
 * Runs tlb.kxe in-process with a link source whose safe point (the
 * guest's first hypercall) takes write access away from the page the guest
 * has just written, through hv_ops.map_pages.  The guest's next write must
 * end it with a page fault on that page; if it survives, the write went
 * through a stale translation.  Exit 0 when the fault came, 1 otherwise,
 * 2 when the test could not run.
 * usage: kvm_tlbcheck GUEST_DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manager/elf/kxelf.h"
#include "manager/hv/hv.h"

static uint64_t target;
static int safe_points;

static int no_libraries(void *ctx, const char *name, int at_boot, struct hv_lib_grant *grant,
			char *why, size_t whylen)
{
	(void)ctx, (void)name, (void)at_boot, (void)grant;
	snprintf(why, whylen, "tlbcheck links no library");
	return -EACCES;
}

static void take_write_access(void *ctx, struct hv_vm *vm)
{
	struct hv_error err;

	(void)ctx;
	if (safe_points++ == 0 &&
	    hv_kvm_ops.map_pages(vm, target, KX_PAGE_SIZE, HV_PROT_READ, &err) != 0)
		fprintf(stderr, "tlbcheck: map_pages: %s\n", err.msg);
}

/* The address of tlb_target in the (static, fixed) image. */
static int find_target(const uint8_t *buf, size_t len)
{
	struct kxelf_image *img = NULL;
	int rc = -1;

	if (kxelf_image_parse(buf, len, &img, NULL) != KXELF_OK)
		return -1;
	for (size_t i = 0; i < kxelf_image_symbol_count(img, KXELF_SYMS_SYMTAB); i++) {
		struct kxelf_symbol s;

		if (kxelf_image_symbol(img, KXELF_SYMS_SYMTAB, i, &s) == KXELF_OK &&
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
	const struct hv_link_source src = {.request = no_libraries,
					   .safe_point = take_write_access};
	char path[4096];
	char *gargv[] = {path, NULL};
	struct hv_config cfg = {.mem_size = 16ull << 20, .argc = 1, .argv = gargv,
				.console_fd = STDOUT_FILENO, .link = &src};
	struct hv_vm *vm = NULL;
	struct hv_error err;
	struct hv_end end;
	struct stat st;
	uint8_t *buf = NULL;
	int fd, status = 2;

	if (argc != 2) {
		fprintf(stderr, "usage: kvm_tlbcheck GUEST_DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/tlb.kxe", argv[1]);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0 ||
	    (buf = malloc((size_t)st.st_size)) == NULL ||
	    read(fd, buf, (size_t)st.st_size) != st.st_size ||
	    find_target(buf, (size_t)st.st_size) != 0) {
		fprintf(stderr, "tlbcheck: cannot read %s\n", path);
		goto out;
	}
	if (hv_kvm_ops.create(&cfg, &vm, &err) != 0 ||
	    hv_kvm_ops.load_image(vm, buf, (size_t)st.st_size, &err) != 0 ||
	    hv_kvm_ops.run(vm, &end, &err) != 0) {
		fprintf(stderr, "tlbcheck: %s\n", err.msg);
		goto out;
	}
	hv_end_describe(&end, err.msg, sizeof(err.msg));
	printf("tlbcheck: %s\n", err.msg);
	status = end.reason == HV_END_FAULT && end.vector == 14 &&
				 end.fault_addr / KX_PAGE_SIZE == target / KX_PAGE_SIZE
			 ? 0
			 : 1;
	printf("tlbcheck: %s\n", status == 0 ? "flushed: the write after the change faulted"
					     : "STALE: the guest wrote through an old translation");
out:
	if (vm != NULL)
		hv_kvm_ops.destroy(vm);
	if (fd >= 0)
		close(fd);
	free(buf);
	return status;
}
