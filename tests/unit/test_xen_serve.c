/*
 * test_xen_serve: the Xen backend's transport (manager/hv/xen/serve.c) with
 * the real core, no Xen.  A test backend keeps the kx ring page in plain
 * memory and runs serve.c exactly as xen.c does (answer, then take the
 * next request); a scripted guest speaks the ring's front end
 * (guest/xen/ring.c) and publishes one request each time it got the
 * previous answer.  The core decodes each block it is handed
 * (hv_hcall_dispatch_copy): console output, the clock, exit status, and the
 * refusals — an unknown number, a block shorter than its call's, a pointer
 * outside guest memory, a ring the guest broke.
 */
#include <errno.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "manager/hv/backend.h"
#include "manager/hv/xen/xen.h"

#define MEM	 (16ull << 20)
#define MAX_REQS 8

struct req {
	uint8_t block[KX_RING_BLOCK_MAX];
	uint32_t len;
};

struct hv_vm {
	uint8_t *host;
	struct kx_ring_page page __attribute__((aligned(4096)));
	struct xen_serve serve;
	/* the scripted guest */
	struct kxr_front front;
	struct req reqs[MAX_REQS], answers[MAX_REQS];
	unsigned nreqs, sent, answered, notifies;
	uint64_t id; /* of the request awaiting its answer */
	void (*poke)(struct hv_vm *vm); /* hostile: before the next take */
	bool want;			 /* ask for a notification after each request */
};

static struct hv_vm *the_vm;
static char guest_dir[4096];

/* The guest: take the answer to the last request, publish the next. */
static void guest_step(struct hv_vm *vm)
{
	const char *why = NULL;
	int notify = 0;

	if (vm->sent > vm->answered) {
		struct req *a = &vm->answers[vm->answered];

		a->len = vm->reqs[vm->answered].len;
		assert_int_equal(kxr_front_take(&vm->front, vm->id, a->block, a->len, &why), 0);
		vm->answered++;
	}
	if (vm->sent < vm->nreqs) {
		assert_int_equal(kxr_front_put(&vm->front, vm->reqs[vm->sent].block,
					       vm->reqs[vm->sent].len, &vm->id, &notify),
				 0);
		vm->sent++;
		if (vm->want)
			kxr_front_want_response(&vm->front);
	}
	if (vm->poke != NULL)
		vm->poke(vm);
}

static int tb_create(uint64_t mem_size, struct hv_guest_mem *mem, uint64_t *features,
		     struct hv_vm **out, struct kx_error *err)
{
	struct hv_vm *vm = aligned_alloc(4096, sizeof(*vm));
	const char *why = NULL;

	(void)err;
	assert_non_null(vm);
	memset(vm, 0, sizeof(*vm));
	vm->host = calloc(1, mem_size);
	assert_non_null(vm->host);
	xen_serve_init(&vm->serve, &vm->page, 7);
	assert_int_equal(kxr_front_attach(&vm->front, &vm->page, &why), 0);
	mem->host = vm->host;
	mem->size = mem_size;
	*features = 0;
	*out = the_vm = vm;
	return 0;
}

static int tb_ok(void)
{
	return 0;
}

static int tb_boot(struct hv_vm *vm, uint64_t entry, uint64_t rsp, uint64_t arg,
		   struct kx_error *err)
{
	(void)vm, (void)entry, (void)rsp, (void)arg, (void)err;
	return tb_ok();
}

static int tb_protect(struct hv_vm *vm, uint64_t gpa, uint64_t size, unsigned prot,
		      struct kx_error *err)
{
	(void)vm, (void)gpa, (void)size, (void)prot, (void)err;
	return tb_ok();
}

static int tb_map_fd(struct hv_vm *vm, uint64_t gpa, int fd, uint64_t offset, uint64_t size,
		     unsigned prot, struct kx_error *err)
{
	(void)vm, (void)gpa, (void)fd, (void)offset, (void)size, (void)prot;
	return kx_err(err, -EOPNOTSUPP, "map_fd");
}

static int tb_unmap(struct hv_vm *vm, uint64_t gpa, uint64_t size, struct kx_error *err)
{
	(void)vm, (void)gpa, (void)size, (void)err;
	return tb_ok();
}

static int tb_flush(struct hv_vm *vm, struct kx_error *err)
{
	(void)vm, (void)err;
	return tb_ok();
}

/* What xen.c's run does, with the guest stepping where the vCPU would run. */
static int tb_run(struct hv_vm *vm, struct hv_exit *exit, struct kx_error *err)
{
	int notify;

	xen_serve_answer(&vm->serve, &notify);
	vm->notifies += (unsigned)notify;
	guest_step(vm);
	if (xen_serve_next(&vm->serve, exit))
		return 0;
	return kx_err(err, -ENOSYS, "the scripted guest has nothing more to say");
}

static uint64_t tb_rip(struct hv_vm *vm)
{
	(void)vm;
	return 0x401000;
}

static void tb_nothing(struct hv_vm *vm)
{
	(void)vm;
}

static int tb_get_vcpu(struct hv_vm *vm, struct hv_vcpu *st, unsigned parts,
		       struct kx_error *err)
{
	(void)vm, (void)parts, (void)err;
	memset(st, 0, sizeof(*st));
	return 0;
}

static int tb_set_vcpu(struct hv_vm *vm, const struct hv_vcpu *st, unsigned parts,
		       struct kx_error *err)
{
	(void)vm, (void)st, (void)parts;
	return kx_err(err, -EOPNOTSUPP, "set_vcpu");
}

static int tb_fork(struct hv_vm *vm, struct kx_error *err)
{
	(void)vm;
	return kx_err(err, -EOPNOTSUPP, "fork");
}

static void tb_destroy(struct hv_vm *vm)
{
	free(vm->host);
	free(vm);
}

static const struct hv_backend ring_backend = {
	.name = "ringtest",   .probe = NULL,	      .create = tb_create,
	.boot = tb_boot,      .protect = tb_protect,  .map_fd = tb_map_fd,
	.unmap = tb_unmap,    .flush = tb_flush,      .run = tb_run,
	.hcall_rip = tb_rip,  .kick = tb_nothing,     .pause = tb_nothing,
	.resume = tb_nothing, .get_vcpu = tb_get_vcpu, .set_vcpu = tb_set_vcpu,
	.fork_prepare = tb_fork, .fork_child = tb_fork, .destroy = tb_destroy,
};

/* ---- a loaded pVM with a console pipe -------------------------------------------- */

struct fixture {
	struct hv_pvm *p;
	int console[2];
	uint64_t heap; /* a guest address in the heap (read-write) */
};

static int setup(void **state)
{
	static uint8_t image[4 << 20]; /* the pVM keeps pointers into it */
	char name[] = "hello.kxe", path[4200];
	char *argv[] = {name, NULL};
	struct fixture *f = calloc(1, sizeof(*f));
	struct hv_config cfg = {.mem_size = MEM, .argc = 1, .argv = argv};
	struct kx_boot_info boot;
	struct kx_error err;
	size_t len;
	FILE *file;

	assert_non_null(f);
	assert_int_equal(pipe(f->console), 0);
	cfg.console_fd = f->console[1];
	assert_int_equal(hv_create(&ring_backend, &cfg, &f->p, &err), 0);
	snprintf(path, sizeof(path), "%s/hello.kxe", guest_dir);
	file = fopen(path, "rb");
	assert_non_null(file);
	len = fread(image, 1, sizeof(image), file);
	fclose(file);
	assert_int_equal(hv_load(f->p, image, len, &err), 0);
	memcpy(&boot, hv_pvm_mem(f->p)->host + 0x300000, sizeof(boot));
	assert_int_equal(boot.magic, KX_BOOT_MAGIC);
	f->heap = boot.heap_start;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	hv_destroy(f->p, 0, NULL, "");
	close(f->console[0]);
	close(f->console[1]);
	free(f);
	return 0;
}

static void add(const void *block, uint32_t len)
{
	struct req *r = &the_vm->reqs[the_vm->nreqs++];

	memcpy(r->block, block, len);
	r->len = len;
}

static struct kx_hc_hdr hdr(uint32_t nr)
{
	return (struct kx_hc_hdr){.abi_version = KX_HCALL_ABI_VERSION, .nr = nr};
}

/* ---- the tests ---------------------------------------------------------------------- */

static void console_clock_exit(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "hello over the ring\n";
	struct kx_hc_console_write cw = {.hdr = hdr(KX_HC_CONSOLE_WRITE), .buf = f->heap,
					 .len = sizeof(text) - 1};
	struct kx_hc_clock clk = {.hdr = hdr(KX_HC_CLOCK)};
	struct kx_hc_exit ex = {.hdr = hdr(KX_HC_EXIT), .status = 5};
	struct kx_hc_console_write cw_back;
	struct kx_hc_clock clk_back;
	struct hv_end end;
	struct kx_error err;
	char got[64] = "";

	memcpy(hv_pvm_mem(f->p)->host + f->heap, text, sizeof(text) - 1);
	add(&cw, sizeof(cw));
	add(&clk, sizeof(clk));
	add(&ex, sizeof(ex));
	assert_int_equal(hv_run(f->p, &end, &err), 0);
	assert_int_equal(end.reason, HV_END_EXIT);
	assert_int_equal(end.exit_status, 5);
	/* the console got the guest's bytes; the answers came back on the ring */
	assert_int_equal(read(f->console[0], got, sizeof(got)), sizeof(text) - 1);
	assert_memory_equal(got, text, sizeof(text) - 1);
	assert_int_equal(the_vm->answered, 2);
	memcpy(&cw_back, the_vm->answers[0].block, sizeof(cw_back));
	assert_int_equal(cw_back.hdr.ret, sizeof(text) - 1);
	assert_int_equal(cw_back.buf, f->heap); /* the block echoed, only ret written */
	memcpy(&clk_back, the_vm->answers[1].block, sizeof(clk_back));
	assert_int_equal(clk_back.hdr.ret, 0);
	assert_true(clk_back.monotonic_ns > 0);
	assert_true(clk_back.realtime_ns > 1577836800ull * 1000000000ull);
	/* the ring starts with rsp_event 1: the first answer notifies; a guest
	 * that never went to sleep never asked again */
	assert_int_equal(the_vm->notifies, 1);
}

/* A guest about to sleep asks for a notification: the answer sends one. */
static void answer_notifies(void **state)
{
	struct fixture *f = *state;
	struct kx_hc_clock clk = {.hdr = hdr(KX_HC_CLOCK)};
	struct kx_hc_exit ex = {.hdr = hdr(KX_HC_EXIT), .status = 0};
	struct hv_end end;
	struct kx_error err;

	add(&clk, sizeof(clk));
	add(&clk, sizeof(clk));
	add(&ex, sizeof(ex));
	the_vm->want = true;
	assert_int_equal(hv_run(f->p, &end, &err), 0);
	assert_int_equal(end.reason, HV_END_EXIT);
	assert_int_equal(the_vm->notifies, 2); /* both clocks' answers; exit has none */
}

static void unknown_number(void **state)
{
	struct fixture *f = *state;
	struct kx_hc_hdr h = hdr(999);
	struct hv_end end;
	struct kx_error err;

	add(&h, sizeof(h));
	assert_int_equal(hv_run(f->p, &end, &err), 0);
	assert_int_equal(end.reason, HV_END_BAD_HCALL);
	assert_int_equal(end.hcall_nr, 999);
	assert_string_equal(end.detail, "unknown hypercall number");
}

static void short_block(void **state)
{
	struct fixture *f = *state;
	struct kx_hc_hdr h = hdr(KX_HC_CONSOLE_WRITE); /* the header alone */
	struct hv_end end;
	struct kx_error err;

	add(&h, sizeof(h));
	assert_int_equal(hv_run(f->p, &end, &err), 0);
	assert_int_equal(end.reason, HV_END_BAD_HCALL);
	assert_string_equal(end.detail, "argument block shorter than its call's");
}

/* A pointer inside a block is still a guest address, checked by the accessor. */
static void pointer_outside_memory(void **state)
{
	struct fixture *f = *state;
	struct kx_hc_console_write cw = {.hdr = hdr(KX_HC_CONSOLE_WRITE), .buf = MEM - 4,
					 .len = 16};
	struct hv_end end;
	struct kx_error err;

	add(&cw, sizeof(cw));
	assert_int_equal(hv_run(f->p, &end, &err), 0);
	assert_int_equal(end.reason, HV_END_BAD_HCALL);
	assert_string_equal(end.detail, "console buffer outside readable guest memory");
}

static void poke_index(struct hv_vm *vm)
{
	vm->page.front.req_prod += 1000;
	vm->poke = NULL;
}

static void broken_ring(void **state)
{
	struct fixture *f = *state;
	struct kx_hc_clock clk = {.hdr = hdr(KX_HC_CLOCK)};
	struct hv_exit x;
	struct hv_end end;
	struct kx_error err;

	add(&clk, sizeof(clk));
	the_vm->poke = poke_index;
	assert_int_equal(hv_run(f->p, &end, &err), 0);
	assert_int_equal(end.reason, HV_END_BAD_HCALL);
	assert_string_equal(end.detail, "kx ring: request index out of range");
	/* never used again, whatever the page says now */
	the_vm->page.front.req_prod -= 1000;
	assert_int_equal(xen_serve_next(&the_vm->serve, &x), 1);
	assert_int_equal(x.kind, HV_EXIT_END);
	assert_string_equal(x.end.detail, "the kx ring broke");
}

/* Nothing published: the monitor asks to be notified and may sleep. */
static void nothing_yet(void **state)
{
	struct hv_exit x;
	int notify = 1;

	(void)state;
	xen_serve_answer(&the_vm->serve, &notify); /* nothing to answer */
	assert_int_equal(notify, 0);
	assert_int_equal(the_vm->page.back.rsp_prod, 0);
	the_vm->page.back.req_event = 0;
	assert_int_equal(xen_serve_next(&the_vm->serve, &x), 0);
	assert_int_equal(the_vm->page.back.req_event, 1);
}

int main(int argc, char **argv)
{
	char self[4096];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(console_clock_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(answer_notifies, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_number, setup, teardown),
		cmocka_unit_test_setup_teardown(short_block, setup, teardown),
		cmocka_unit_test_setup_teardown(pointer_outside_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(broken_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(nothing_yet, setup, teardown),
	};

	(void)argc;
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(guest_dir, sizeof(guest_dir), "%s/../guest", dirname(self));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
