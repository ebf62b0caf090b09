/*
 * test_xen_signal: the core's signal delivery through a backend that cannot
 * redirect the vCPU (backend.h's signal_mark, which the Xen backend fills):
 * the real core on the fake backend (tests/hv/hv_fake.h) with signal_mark
 * added and set_vcpu failing the test, and a scripted kxd pushing signals.
 * Each hv_run takes one scripted hypercall exit, so each call is followed
 * by the core's safe point, as on Xen after each ring request.
 * Checked: a handled signal is marked once with its handler, never through
 * set_vcpu; no other is marked while it runs; KX_HC_SIGRETURN ends it (0)
 * and the next pending one is marked at that call's safe point; a
 * SIGRETURN outside a handler stays -KX_EINVAL; a default action still
 * ends the pVM; a failed mark ends it with the reason.
 */
#include <errno.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "manager/hv/layout.h"
#include "tests/hv/hv_fake.h"

#define HANDLER1 0x500000ull
#define HANDLER2 0x500100ull
#define TRAMP	 0x500200ull

static char guest_dir[4096];
static struct hv_backend marking; /* hv_fake_backend + signal_mark */

static struct {
	unsigned calls;
	uint32_t sig;
	uint64_t handler;
	int fail; /* the next mark fails with this */
} mark;

static int test_mark(struct hv_vm *vm, uint32_t sig, uint64_t handler, struct kx_error *err)
{
	(void)vm;
	if (mark.fail != 0)
		return kx_err(err, mark.fail, "no boot page");
	mark.calls++;
	mark.sig = sig;
	mark.handler = handler;
	return 0;
}

static int no_set_vcpu(struct hv_vm *vm, const struct hv_vcpu *st, unsigned parts,
		       struct kx_error *err)
{
	(void)vm, (void)st, (void)parts;
	fail_msg("set_vcpu called: the guest enters handlers itself");
	return kx_err(err, -EOPNOTSUPP, "not supported");
}

struct guest {
	struct hv_pvm *p;
	struct hv_guest_mem *mem;
	struct fake_mgr mgr;
	struct hv_manager manager;
	uint64_t heap;
};

static void guest_new(struct guest *g)
{
	static char name[] = "hello";
	static char *argv[] = {name, NULL};
	struct hv_config cfg = {.mem_size = 16ull << 20, .argc = 1, .argv = argv, .console_fd = -1};
	const struct kx_boot_info *boot;
	struct kx_error err;

	memset(g, 0, sizeof(*g));
	memset(&mark, 0, sizeof(mark));
	g->manager = (struct hv_manager){.ops = &fake_mgr_ops, .ctx = &g->mgr};
	cfg.manager = &g->manager;
	assert_int_equal(hv_create(&marking, &cfg, &g->p, &err), 0);
	fake_load(g->p, guest_dir, "hello.kxe");
	g->mem = hv_pvm_mem(g->p);
	boot = (const struct kx_boot_info *)(g->mem->host + LAYOUT_BOOT);
	g->heap = boot->heap_start;
}

/* One hypercall through hv_run (then the safe point), then a pause exit:
 * the answer's ret; end says HV_END_PAUSED, or why the core stopped the
 * pVM at that safe point. */
static int64_t run_call(struct guest *g, uint32_t nr, const void *b, size_t size,
			struct hv_end *end)
{
	struct hv_vm *vm = fake_vm_of(g->p);
	struct kx_hc_hdr *at = (struct kx_hc_hdr *)(g->mem->host + g->heap);
	struct kx_error err;

	memcpy(at, b, size);
	at->abi_version = KX_HCALL_ABI_VERSION;
	at->nr = nr;
	at->ret = 0;
	vm->script[0] = (struct hv_exit){.kind = HV_EXIT_HCALL, .block = g->heap};
	vm->script[1] = (struct hv_exit){.kind = HV_EXIT_PAUSED};
	vm->nscript = 2;
	vm->next_script = 0;
	assert_int_equal(hv_run(g->p, end, &err), 0);
	return at->ret;
}

static void push_signal(struct guest *g, uint32_t sig)
{
	struct kxmon_msg *m = &g->mgr.push[g->mgr.npush++];

	m->type = KXMON_MSG_SIGNAL;
	m->u.sig.sig = sig;
	m->u.sig.pvm_id = 1;
}

static int64_t sigaction_call(struct guest *g, uint64_t sig, uint64_t handler)
{
	struct kx_hc_sigaction a = {.sig = sig, .handler = handler, .trampoline = TRAMP};
	struct hv_end end;
	int64_t ret = run_call(g, KX_HC_SIGACTION, &a, sizeof(a), &end);

	assert_int_equal(end.reason, HV_END_PAUSED);
	return ret;
}

/* A call whose safe point must not end the pVM. */
static int64_t plain_call(struct guest *g, uint32_t nr)
{
	struct kx_hc_clock c = {0}; /* the larger of the two blocks used */
	struct hv_end end;
	int64_t ret = run_call(g, nr, &c,
			       nr == KX_HC_CLOCK ? sizeof(c) : sizeof(struct kx_hc_sigreturn), &end);

	assert_int_equal(end.reason, HV_END_PAUSED);
	return ret;
}

static void test_marked_one_at_a_time(void **state)
{
	struct guest g;

	(void)state;
	guest_new(&g);
	assert_int_equal(sigaction_call(&g, KX_SIGUSR1, HANDLER1), 0);
	assert_int_equal(sigaction_call(&g, KX_SIGUSR2, HANDLER2), 0);
	assert_int_equal(plain_call(&g, KX_HC_SIGRETURN), -KX_EINVAL); /* none runs */
	push_signal(&g, KX_SIGUSR2);
	push_signal(&g, KX_SIGUSR1);
	assert_int_equal(plain_call(&g, KX_HC_CLOCK), 0);
	/* the lowest number first, its own handler, once */
	assert_int_equal(mark.calls, 1);
	assert_int_equal(mark.sig, KX_SIGUSR1);
	assert_int_equal(mark.handler, HANDLER1);
	/* the handler's own calls: SIGUSR2 waits */
	assert_int_equal(plain_call(&g, KX_HC_CLOCK), 0);
	assert_int_equal(plain_call(&g, KX_HC_CLOCK), 0);
	assert_int_equal(mark.calls, 1);
	/* its SIGRETURN returns 0 (the guest resumes itself); SIGUSR2 next */
	assert_int_equal(plain_call(&g, KX_HC_SIGRETURN), 0);
	assert_int_equal(mark.calls, 2);
	assert_int_equal(mark.sig, KX_SIGUSR2);
	assert_int_equal(mark.handler, HANDLER2);
	assert_int_equal(plain_call(&g, KX_HC_SIGRETURN), 0);
	assert_int_equal(mark.calls, 2);
	assert_int_equal(plain_call(&g, KX_HC_SIGRETURN), -KX_EINVAL);
	hv_destroy(g.p, 0, NULL, "");
}

static void test_default_action_ends(void **state)
{
	struct kx_hc_clock c = {0};
	struct hv_end end;
	struct guest g;

	(void)state;
	guest_new(&g);
	push_signal(&g, KX_SIGTERM);
	run_call(&g, KX_HC_CLOCK, &c, sizeof(c), &end);
	assert_int_equal(mark.calls, 0);
	assert_int_equal(end.reason, HV_END_SIGNAL);
	assert_int_equal(end.signal, KX_SIGTERM);
	hv_destroy(g.p, 0, NULL, "");
}

static void test_failed_mark_ends(void **state)
{
	struct kx_hc_clock c = {0};
	struct hv_end end;
	struct guest g;

	(void)state;
	guest_new(&g);
	assert_int_equal(sigaction_call(&g, KX_SIGUSR1, HANDLER1), 0);
	mark.fail = -EINVAL;
	push_signal(&g, KX_SIGUSR1);
	run_call(&g, KX_HC_CLOCK, &c, sizeof(c), &end);
	assert_int_equal(end.reason, HV_END_CHANNEL);
	assert_non_null(strstr(end.message, "cannot enter the handler of signal 10: no boot page"));
	assert_int_equal(mark.calls, 0);
	hv_destroy(g.p, 0, NULL, "");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marked_one_at_a_time),
		cmocka_unit_test(test_default_action_ends),
		cmocka_unit_test(test_failed_mark_ends),
	};
	char self[4096];

	(void)argc;
	marking = hv_fake_backend;
	marking.signal_mark = test_mark;
	marking.set_vcpu = no_set_vcpu;
	/* $B/tests/test_xen_signal -> $B/guest */
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(guest_dir, sizeof(guest_dir), "%s/../guest", dirname(self));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
