/*
 * test_hcall_posix: the POSIX services of the monitor (manager/hv/posix.c)
 * through the core's decoder, over the fake backend (tests/hv/hv_fake.h)
 * with the guest build's hello.kxe loaded: the clock page (read-only to
 * the guest, its bases and TSC scale agree with the host's clocks), HALT
 * (deadline, a pending signal, refused flags), PREEMPT (every refusal; at a
 * tick the interrupted registers go to the guest's area and the vCPU
 * enters the trampoline below a red zone — or, while the guest is busy or
 * in its no-preempt code, only `pending` is set), ENTROPY (bounds, a
 * read-only buffer ends the pVM, two reads differ) and POSIX_REPORT (once
 * per number on the log, out-of-range numbers refused).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "manager/hv/layout.h"
#include "tests/hv/hv_fake.h"

static char guest_dir[4096];

struct guest {
	int in[2], out[2]; /* posix-mon console: the guest's stdin, its stdout/stderr */
	struct hv_pvm *p;
	struct hv_guest_mem *mem;
	struct fake_mgr mgr;
	struct hv_manager manager;
	uint64_t heap; /* start of the heap: the test's blocks live there */
	int log[2];
};

static void on_kick(int sig)
{
	(void)sig;
}

/* The backend guest_new creates the pVM on (a test may swap it). */
static const struct hv_backend *backend = &hv_fake_backend;

static void guest_new(struct guest *g, bool with_mgr)
{
	static char name[] = "hello";
	static char *argv[] = {name, NULL};
	struct hv_config cfg = {.mem_size = 16ull << 20, .argc = 1, .argv = argv, .console_fd = -1,
				.kick_signal = SIGUSR2};
	const struct kx_boot_info *boot;
	struct kx_error err;

	memset(g, 0, sizeof(*g));
	assert_int_equal(pipe2(g->log, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(pipe2(g->in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(g->out, O_CLOEXEC | O_NONBLOCK), 0);
	cfg.log_fd = g->log[1];
	cfg.has_stdio = true;
	cfg.input_fd = g->in[0];
	cfg.err_fd = g->log[1]; /* stderr beside the monitor's notices */
	cfg.console_fd = g->out[1];
	signal(SIGUSR2, on_kick);
	if (with_mgr) {
		g->manager = (struct hv_manager){.ops = &fake_mgr_ops, .ctx = &g->mgr};
		cfg.manager = &g->manager;
	}
	assert_int_equal(hv_create(backend, &cfg, &g->p, &err), 0);
	fake_load(g->p, guest_dir, "hello.kxe");
	g->mem = hv_pvm_mem(g->p);
	boot = (const struct kx_boot_info *)(g->mem->host + LAYOUT_BOOT);
	g->heap = boot->heap_start;
}

static void guest_free(struct guest *g)
{
	hv_destroy(g->p, 0, NULL, "");
	close(g->log[0]);
	close(g->log[1]);
	for (int i = 0; i < 2; i++) {
		close(g->in[i]);
		close(g->out[i]);
	}
}

/* A block of `size` bytes at the heap's start, number nr, body as given. */
static void *block(struct guest *g, uint32_t nr, const void *b, size_t size)
{
	void *at = g->mem->host + g->heap;

	memcpy(at, b, size);
	((struct kx_hc_hdr *)at)->abi_version = KX_HCALL_ABI_VERSION;
	((struct kx_hc_hdr *)at)->nr = nr;
	return at;
}

static enum hv_hcall_outcome call(struct guest *g)
{
	struct hv_hcall_result res;

	hv_hcall_dispatch(g->p, g->heap, &res);
	return res.outcome;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- TIME_PAGE ---------------------------------------------------------------------- */

static void test_time_page(void **state)
{
	struct kx_hc_time_page t = {0}, *out;
	const struct kx_time_page *tp;
	struct guest g;
	uint64_t before, after, since, ns;

	(void)state;
	guest_new(&g, false);
	before = mono_ns();
	out = block(&g, KX_HC_TIME_PAGE, &t, sizeof(t));
	assert_int_equal(call(&g), HV_HC_RESUME);
	after = mono_ns();
	assert_int_equal(out->hdr.ret, 0);
	assert_true(out->addr > g.heap && out->addr % KX_PAGE_SIZE == 0);
	/* Read-only to the guest: the monitor's to write. */
	assert_int_equal(g.mem->page_prot[out->addr / KX_PAGE_SIZE], HV_PROT_READ);
	assert_null(hv_guest_ptr(g.mem, out->addr, 8, HV_ACCESS_WRITE));
	tp = (const struct kx_time_page *)(g.mem->host + out->addr);
	assert_int_equal(tp->magic, KX_TIME_PAGE_MAGIC);
	assert_int_equal(tp->seq % 2, 0);
	assert_true(tp->seq >= 2);
	assert_true(tp->mono_base >= before && tp->mono_base <= after);
	assert_true(tp->tsc_hz > 1000000);
	/* The guest's formula (its TSC is the host's on the fake backend)
	 * against the host's clock, now: within a millisecond. */
	before = mono_ns();
	since = __builtin_ia32_rdtsc() - tp->tsc_base;
	ns = tp->mono_base + (uint64_t)(((unsigned __int128)since * tp->mult) >> tp->shift);
	after = mono_ns();
	assert_true(ns + 1000000 >= before && ns <= after + 1000000);
	/* The same page on the next call. */
	t.addr = 0;
	out = block(&g, KX_HC_TIME_PAGE, &t, sizeof(t));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_int_equal(out->hdr.ret, 0);
	assert_int_equal(out->addr, (uint64_t)((const uint8_t *)tp - g.mem->host));
	guest_free(&g);
}

/* A pVM with nothing loaded has no page: the guest falls back to KX_HC_CLOCK. */
static void test_time_page_unloaded(void **state)
{
	struct hv_pvm *p = fake_pvm(16ull << 20, NULL, false);
	struct hv_guest_mem *mem = hv_pvm_mem(p);
	struct kx_hc_time_page t = {.hdr = {KX_HCALL_ABI_VERSION, KX_HC_TIME_PAGE, 0}, .addr = 7};
	struct hv_hcall_result res;

	(void)state;
	memset(mem->page_prot + 0x100000 / KX_PAGE_SIZE, HV_PROT_READ | HV_PROT_WRITE, 1);
	memcpy(mem->host + 0x100000, &t, sizeof(t));
	hv_hcall_dispatch(p, 0x100000, &res);
	assert_int_equal(res.outcome, HV_HC_RESUME);
	memcpy(&t, mem->host + 0x100000, sizeof(t));
	assert_int_equal(t.hdr.ret, -KX_ENOSYS);
	assert_int_equal(t.addr, 0);
	hv_destroy(p, 0, NULL, "");
}

/* ---- ENVIRON ------------------------------------------------------------------------ */

static void test_environ(void **state)
{
	static char name[] = "fake", *argv[] = {name, NULL};
	static char e1[] = "LANG=C", e2[] = "EMPTY=", *env[] = {e1, e2, NULL};
	struct hv_config cfg = {.mem_size = 16ull << 20, .argc = 1, .argv = argv, .console_fd = -1,
				.envc = 2, .envv = env};
	struct kx_hc_environ e = {.hdr = {KX_HCALL_ABI_VERSION, KX_HC_ENVIRON, 0}};
	struct hv_hcall_result res;
	struct hv_guest_mem *mem;
	struct kx_error err;
	struct hv_pvm *p;
	const uint64_t *v;

	(void)state;
	assert_int_equal(hv_create(&hv_fake_backend, &cfg, &p, &err), 0);
	mem = hv_pvm_mem(p);
	memset(mem->page_prot + 0x100000 / KX_PAGE_SIZE, HV_PROT_READ | HV_PROT_WRITE, 1);
	memcpy(mem->host + 0x100000, &e, sizeof(e));
	hv_hcall_dispatch(p, 0x100000, &res);
	assert_int_equal(res.outcome, HV_HC_RESUME);
	memcpy(&e, mem->host + 0x100000, sizeof(e));
	assert_int_equal(e.hdr.ret, 0);
	assert_int_equal(e.count, 2);
	/* Pointers, NULL-terminated, to strings the guest may read, not write. */
	v = hv_guest_ptr(mem, e.addr, 3 * 8, HV_ACCESS_READ);
	assert_non_null(v);
	assert_null(hv_guest_ptr(mem, e.addr, 8, HV_ACCESS_WRITE));
	assert_string_equal((const char *)hv_guest_ptr(mem, v[0], 7, HV_ACCESS_READ), "LANG=C");
	assert_string_equal((const char *)hv_guest_ptr(mem, v[1], 7, HV_ACCESS_READ), "EMPTY=");
	assert_int_equal(v[2], 0);
	hv_destroy(p, 0, NULL, "");
	/* Too much for the argument pages: the pVM is not created. */
	{
		static char big[40000];
		static char *bigenv[] = {big, big, NULL};

		memset(big, 'x', sizeof(big) - 1);
		big[0] = 'B', big[1] = '=';
		cfg.envv = bigenv;
		assert_int_equal(hv_create(&hv_fake_backend, &cfg, &p, &err), -E2BIG);
	}
}

/* ---- HALT --------------------------------------------------------------------------- */

static void test_halt(void **state)
{
	struct kx_hc_halt h = {0}, *out;
	struct hv_posix_stats st;
	struct guest g;
	uint64_t t0;

	(void)state;
	guest_new(&g, false);
	h.flags = 1;
	out = block(&g, KX_HC_HALT, &h, sizeof(h));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_int_equal(out->hdr.ret, -KX_EINVAL);
	h.flags = 0;
	h.deadline_ns = 1; /* long past */
	out = block(&g, KX_HC_HALT, &h, sizeof(h));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_int_equal(out->hdr.ret, -KX_ETIMEDOUT);
	t0 = mono_ns();
	h.deadline_ns = t0 + 20000000;
	out = block(&g, KX_HC_HALT, &h, sizeof(h));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_int_equal(out->hdr.ret, -KX_ETIMEDOUT);
	assert_true(mono_ns() >= t0 + 20000000); /* it slept to the deadline, not less */
	hv_posix_stats(g.p, &st);
	assert_int_equal(st.halts, 2); /* the refused one does not count */
	guest_free(&g);
}

/* A signal kxd pushes during a halt without a deadline ends it: -EINTR. */
static void test_halt_signal(void **state)
{
	struct kx_hc_halt h = {.deadline_ns = KX_HALT_NO_DEADLINE}, *out;
	struct guest g;

	(void)state;
	guest_new(&g, true);
	g.mgr.push[0].type = KXMON_MSG_SIGNAL;
	g.mgr.push[0].u.sig.sig = KX_SIGTERM;
	g.mgr.npush = 1;
	out = block(&g, KX_HC_HALT, &h, sizeof(h));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_int_equal(out->hdr.ret, -KX_EINTR);
	guest_free(&g);
}

/* HALT_WATCH (bench13): every malformed list is refused before any sleep,
 * and a word outside the IpC data areas (this pVM maps none) is never
 * slept on; POSIX_STATS counts the halts that went ahead. */
static void test_halt_watch_refusals(void **state)
{
	struct kx_hc_halt_watch h = {0}, *out;
	struct kx_hc_posix_stats s = {0}, *so;
	struct kx_halt_word *words;
	struct guest g;

	(void)state;
	guest_new(&g, false);
	/* The word list lives one page above the block. */
	words = (struct kx_halt_word *)(void *)(g.mem->host + g.heap + KX_PAGE_SIZE);
	words[0] = (struct kx_halt_word){.addr = g.heap + 2 * KX_PAGE_SIZE, .value = 0};
	h.deadline_ns = 1;
	h.words = g.heap + KX_PAGE_SIZE;
	const struct {
		uint32_t nwords, flags;
		uint64_t words;
	} bad[] = {
		{1, 1, h.words},			 /* flags */
		{0, 0, h.words},			 /* no word */
		{KX_HALT_WATCH_MAX + 1, 0, h.words},	 /* too many */
		{1, 0, g.mem->size},			 /* the list outside guest memory */
		{1, 0, h.words},			 /* a heap word: no IpC area */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h.nwords = bad[i].nwords;
		h.flags = bad[i].flags;
		h.words = bad[i].words;
		out = block(&g, KX_HC_HALT_WATCH, &h, sizeof(h));
		assert_int_equal(call(&g), HV_HC_RESUME);
		assert_int_equal(out->hdr.ret, -KX_EINVAL);
	}
	/* A plain HALT past its deadline counts; the refusals did not. */
	struct kx_hc_halt plain = {.deadline_ns = 1};
	block(&g, KX_HC_HALT, &plain, sizeof(plain));
	assert_int_equal(call(&g), HV_HC_RESUME);
	so = block(&g, KX_HC_POSIX_STATS, &s, sizeof(s));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_int_equal(so->hdr.ret, 0);
	assert_int_equal(so->halts, 1);
	assert_int_equal(so->watch_wakes, 0);
	guest_free(&g);
}

static int own_ipc_wait(struct hv_vm *vm, uint64_t gpa, uint32_t value, uint64_t timeout_ns)
{
	(void)vm, (void)gpa, (void)value, (void)timeout_ns;
	return 0;
}

/* A backend with its own IpC wait (Xen's event channels) wakes no host
 * futex: HALT_WATCH is ENOSYS there, before it looks at the list, and
 * counts no halt (the guest then halts a millisecond at a time). */
static void test_halt_watch_own_ipc_wait(void **state)
{
	struct hv_backend xen_like = hv_fake_backend;
	struct kx_hc_halt_watch h = {.deadline_ns = UINT64_MAX, .nwords = 1}, *out;
	struct kx_hc_posix_stats s = {0}, *so;
	struct guest g;

	(void)state;
	xen_like.ipc_wait = own_ipc_wait;
	backend = &xen_like;
	guest_new(&g, false);
	backend = &hv_fake_backend;
	h.words = g.heap + KX_PAGE_SIZE;
	out = block(&g, KX_HC_HALT_WATCH, &h, sizeof(h));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_int_equal(out->hdr.ret, -KX_ENOSYS);
	so = block(&g, KX_HC_POSIX_STATS, &s, sizeof(s));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_int_equal(so->halts, 0);
	guest_free(&g);
}

/* ---- PREEMPT ------------------------------------------------------------------------ */

static uint64_t exec_page(const struct guest *g)
{
	for (uint64_t pg = 0; pg < g->mem->size / KX_PAGE_SIZE; pg++)
		if (g->mem->page_prot[pg] & HV_PROT_EXEC)
			return pg * KX_PAGE_SIZE;
	fail_msg("hello.kxe has no text page");
	return 0;
}

/* A handler entered just before a halt ends that halt at once: the guest
 * checked for the marks its handlers leave, then a kx signal's handler ran
 * (a kick), then it halted — before, without a deadline, for good (a
 * pause() in tests/libc/forker.c hung so under ASan). */
static void test_halt_after_handler(void **state)
{
	struct kx_hc_halt h = {0}, *out;
	struct kx_error err;
	struct guest g;
	uint64_t text;

	(void)state;
	guest_new(&g, true);
	text = exec_page(&g);
	assert_int_equal(hv_test_signal_enter(g.p, KX_SIGUSR1, text, text, &err), 0);
	h.deadline_ns = mono_ns() + 60ull * 1000000000ull;
	out = block(&g, KX_HC_HALT, &h, sizeof(h));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_int_equal(out->hdr.ret, -KX_EINTR); /* not a minute's sleep */
	/* once: the next halt sleeps to its deadline */
	h.deadline_ns = mono_ns() + 20000000;
	out = block(&g, KX_HC_HALT, &h, sizeof(h));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_int_equal(out->hdr.ret, -KX_ETIMEDOUT);
	guest_free(&g);
}

static int64_t preempt_call(struct guest *g, uint64_t tramp, uint64_t area, uint64_t interval)
{
	struct kx_hc_preempt r = {.trampoline = tramp, .area = area, .interval_ns = interval,
				  .nopreempt_start = tramp, .nopreempt_end = tramp + 64};
	struct kx_hc_preempt *out = block(g, KX_HC_PREEMPT, &r, sizeof(r));

	assert_int_equal(call(g), HV_HC_RESUME);
	return out->hdr.ret;
}

static void test_preempt_refusals(void **state)
{
	struct guest g;
	uint64_t text, area;

	(void)state;
	guest_new(&g, false);
	text = exec_page(&g);
	area = g.heap + KX_PAGE_SIZE;
	assert_int_equal(preempt_call(&g, text, area, KX_PREEMPT_MIN_NS - 1), -KX_EINVAL);
	assert_int_equal(preempt_call(&g, text, area, KX_PREEMPT_MAX_NS + 1), -KX_EINVAL);
	assert_int_equal(preempt_call(&g, text, area + 4, 10000000), -KX_EINVAL);
	assert_int_equal(preempt_call(&g, area, area, 10000000), -KX_EINVAL); /* not text */
	assert_int_equal(preempt_call(&g, text, text, 10000000), -KX_EINVAL); /* read-only */
	assert_int_equal(preempt_call(&g, text, g.mem->size - 8, 10000000), -KX_EINVAL);
	assert_int_equal(preempt_call(&g, text, area, 0), 0); /* off: always fine */
	guest_free(&g);
}

/* One tick: run the fake vCPU through a kick after the interval passed. */
static void tick(struct guest *g)
{
	struct hv_vm *vm = hv_test_vm(g->p);
	uint64_t until = mono_ns() + 2 * KX_PREEMPT_MIN_NS;
	struct hv_end end;
	struct kx_error err;

	while (mono_ns() < until) /* the ticks' signals cut sleeps short */
		;
	vm->script[vm->nscript++] = (struct hv_exit){.kind = HV_EXIT_KICK};
	assert_int_equal(hv_run(g->p, &end, &err), -ENOSYS); /* the script ran out */
}

static void test_preempt_tick(void **state)
{
	struct kx_preempt_area *a;
	struct hv_posix_stats st;
	struct hv_vm *vm;
	struct guest g;
	uint64_t text, area;

	(void)state;
	guest_new(&g, false);
	vm = hv_test_vm(g.p);
	text = exec_page(&g);
	area = g.heap + KX_PAGE_SIZE;
	a = (struct kx_preempt_area *)(g.mem->host + area);
	assert_int_equal(preempt_call(&g, text, area, KX_PREEMPT_MIN_NS), 0);
	vm->vcpu.user = true;
	for (int i = 0; i < 16; i++)
		vm->vcpu.gpr[i] = 0x1000 + (uint64_t)i;
	vm->vcpu.gpr[4] = 0x7ff123; /* rsp */
	vm->vcpu.rip = text + 200;
	vm->vcpu.rflags = 0x246;
	tick(&g);
	assert_int_equal(a->busy, 1);
	assert_int_equal(a->ticks, 1);
	assert_int_equal(a->rip, text + 200);
	assert_int_equal(a->rflags, 0x246);
	assert_int_equal(a->gpr[4], 0x7ff123);
	assert_int_equal(a->gpr[15], 0x100f);
	assert_int_equal(vm->vcpu.rip, text);
	assert_int_equal(vm->vcpu.gpr[7], area);
	assert_true(vm->vcpu.gpr[4] % 16 == 0 && vm->vcpu.gpr[4] <= 0x7ff123 - 128);
	assert_int_equal(vm->vcpu.gpr[3], 0x1003); /* the rest untouched */

	/* The guest is busy (its runtime runs): only a note. */
	vm->vcpu.rip = text + 300;
	tick(&g);
	assert_int_equal(a->pending, 1);
	assert_int_equal(a->ticks, 1);
	assert_int_equal(vm->vcpu.rip, text + 300);
	/* Not busy, but inside the no-preempt code: a note too. */
	a->busy = 0;
	a->pending = 0;
	vm->vcpu.rip = text + 10;
	tick(&g);
	assert_int_equal(a->pending, 1);
	assert_int_equal(vm->vcpu.rip, text + 10);
	/* Not at CPL3 (a backend's own stub): never. */
	a->pending = 0;
	vm->vcpu.rip = text + 300;
	vm->vcpu.user = false;
	tick(&g);
	assert_int_equal(a->pending, 1);
	assert_int_equal(vm->vcpu.rip, text + 300);
	hv_posix_stats(g.p, &st);
	assert_int_equal(st.preemptions, 1);
	assert_int_equal(st.preempt_deferred, 3);
	guest_free(&g);
}

/* ---- ENTROPY ---------------------------------------------------------------------- */

static void test_entropy(void **state)
{
	static const uint8_t zero[KX_ENTROPY_MAX];
	uint8_t first[KX_ENTROPY_MAX];
	struct kx_hc_entropy e = {0}, *out;
	uint8_t *buf;
	struct guest g;

	(void)state;
	guest_new(&g, false);
	buf = g.mem->host + g.heap + KX_PAGE_SIZE;
	e.buf = g.heap + KX_PAGE_SIZE;
	e.len = 0;
	out = block(&g, KX_HC_ENTROPY, &e, sizeof(e));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_int_equal(out->hdr.ret, -KX_EINVAL);
	e.len = KX_ENTROPY_MAX + 1;
	out = block(&g, KX_HC_ENTROPY, &e, sizeof(e));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_int_equal(out->hdr.ret, -KX_EINVAL);
	assert_memory_equal(buf, zero, sizeof(zero));
	e.len = KX_ENTROPY_MAX;
	out = block(&g, KX_HC_ENTROPY, &e, sizeof(e));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_int_equal(out->hdr.ret, KX_ENTROPY_MAX);
	memcpy(first, buf, sizeof(first));
	out = block(&g, KX_HC_ENTROPY, &e, sizeof(e));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_memory_not_equal(buf, first, sizeof(first));
	assert_memory_not_equal(buf + KX_ENTROPY_MAX - 32, zero, 32);
	/* Into the text: the pVM ends, nothing written. */
	e.buf = exec_page(&g);
	e.len = 16;
	block(&g, KX_HC_ENTROPY, &e, sizeof(e));
	assert_int_equal(call(&g), HV_HC_BAD);
	guest_free(&g);
}

/* ---- POSIX_REPORT ------------------------------------------------------------------- */

static void test_report(void **state)
{
	struct kx_hc_posix_report r = {0}, *out;
	struct hv_posix_stats st;
	char log[1024] = "";
	struct guest g;
	ssize_t n;

	(void)state;
	guest_new(&g, false);
	for (int i = 0; i < 3; i++) {
		r.nr = 165;
		out = block(&g, KX_HC_POSIX_REPORT, &r, sizeof(r));
		assert_int_equal(call(&g), HV_HC_RESUME);
		assert_int_equal(out->hdr.ret, 0);
	}
	r.nr = KX_POSIX_NR_MAX;
	out = block(&g, KX_HC_POSIX_REPORT, &r, sizeof(r));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_int_equal(out->hdr.ret, -KX_EINVAL);
	r.nr = 57;
	block(&g, KX_HC_POSIX_REPORT, &r, sizeof(r));
	assert_int_equal(call(&g), HV_HC_RESUME);
	n = read(g.log[0], log, sizeof(log) - 1);
	assert_true(n > 0);
	log[n] = '\0';
	assert_non_null(strstr(log, ": system call 165 is not implemented (ENOSYS)\n"));
	assert_null(strstr(strstr(log, "165") + 3, "165")); /* once */
	assert_non_null(strstr(log, ": system call 57 is not implemented"));
	assert_null(strstr(log, "512"));
	hv_posix_stats(g.p, &st);
	assert_int_equal(st.reported, 2);
	guest_free(&g);
}

/* ---- CONSOLE_READ, CONSOLE_WRITE2 ------------------------------------------------------- */

static int64_t console_read(struct guest *g, uint64_t len, uint64_t flags)
{
	struct kx_hc_console_read r = {.buf = g->heap + KX_PAGE_SIZE, .len = len, .flags = flags};
	struct kx_hc_console_read *out = block(g, KX_HC_CONSOLE_READ, &r, sizeof(r));

	assert_int_equal(call(g), HV_HC_RESUME);
	return out->hdr.ret;
}

static int64_t console_write2(struct guest *g, uint64_t fd, const char *text)
{
	struct kx_hc_console_write2 w = {.fd = fd, .buf = g->heap + KX_PAGE_SIZE, .len = strlen(text)};
	struct kx_hc_console_write2 *out;

	memcpy(g->mem->host + g->heap + KX_PAGE_SIZE, text, strlen(text));
	out = block(g, KX_HC_CONSOLE_WRITE2, &w, sizeof(w));
	assert_int_equal(call(g), HV_HC_RESUME);
	return out->hdr.ret;
}

static void test_console(void **state)
{
	char got[64] = "";
	struct guest g;

	(void)state;
	guest_new(&g, false);
	assert_int_equal(console_read(&g, 16, KX_CONSOLE_POLL), 0);
	assert_int_equal(console_read(&g, 16, KX_CONSOLE_NONBLOCK), -KX_EAGAIN);
	assert_int_equal(write(g.in[1], "hello\n", 6), 6);
	assert_int_equal(console_read(&g, 16, KX_CONSOLE_POLL), 1);
	assert_int_equal(console_read(&g, 3, 0), 3);
	assert_memory_equal(g.mem->host + g.heap + KX_PAGE_SIZE, "hel", 3);
	assert_int_equal(console_read(&g, 16, 0), 3);
	close(g.in[1]);
	g.in[1] = -1;
	assert_int_equal(console_read(&g, 16, 0), 0); /* end of file */
	assert_int_equal(console_read(&g, 16, 8), -KX_EINVAL);
	assert_int_equal(console_read(&g, KX_HC_CONSOLE_MAX + 1, 0), -KX_EINVAL);
	/* A buffer the guest may not write ends the pVM. */
	{
		struct kx_hc_console_read r = {.buf = exec_page(&g), .len = 4};

		block(&g, KX_HC_CONSOLE_READ, &r, sizeof(r));
		assert_int_equal(call(&g), HV_HC_BAD);
	}
	assert_int_equal(console_write2(&g, 1, "out"), 3);
	assert_int_equal(console_write2(&g, 2, "err!"), 4);
	assert_int_equal(console_write2(&g, 0, "x"), -KX_EBADF);
	assert_int_equal(console_write2(&g, 3, "x"), -KX_EBADF);
	assert_int_equal(read(g.out[0], got, sizeof(got)), 3);
	assert_memory_equal(got, "out", 3);
	assert_int_equal(read(g.log[0], got, sizeof(got)), 4);
	assert_memory_equal(got, "err!", 4);
	guest_free(&g);
}

/* ---- MPROTECT --------------------------------------------------------------------------- */

static int64_t mprotect_call(struct guest *g, uint64_t addr, uint64_t len, uint64_t prot)
{
	struct kx_hc_mprotect m = {.addr = addr, .len = len, .prot = prot}, *out;

	out = block(g, KX_HC_MPROTECT, &m, sizeof(m));
	assert_int_equal(call(g), HV_HC_RESUME);
	return out->hdr.ret;
}

static void test_mprotect(void **state)
{
	const struct kx_boot_info *boot;
	struct kx_hc_time_page t = {0}, *tp;
	struct guest g;
	uint64_t pg, top;
	uint8_t *prot;

	(void)state;
	guest_new(&g, false);
	boot = (const struct kx_boot_info *)(g.mem->host + LAYOUT_BOOT);
	prot = g.mem->page_prot;
	pg = g.heap + 4 * KX_PAGE_SIZE;
	top = boot->heap_start + boot->heap_size;
	assert_int_equal(mprotect_call(&g, pg, 2 * KX_PAGE_SIZE, KX_PROT_READ), 0);
	assert_int_equal(prot[pg / KX_PAGE_SIZE], HV_PROT_READ);
	assert_int_equal(prot[pg / KX_PAGE_SIZE + 1], HV_PROT_READ);
	assert_int_equal(prot[pg / KX_PAGE_SIZE + 2], HV_PROT_READ | HV_PROT_WRITE);
	assert_int_equal(mprotect_call(&g, pg, KX_PAGE_SIZE, 0), 0);
	assert_int_equal(prot[pg / KX_PAGE_SIZE], 0);
	assert_int_equal(mprotect_call(&g, pg, 2 * KX_PAGE_SIZE, KX_PROT_WRITE), 0); /* = RW */
	assert_int_equal(prot[pg / KX_PAGE_SIZE], HV_PROT_READ | HV_PROT_WRITE);
	/* Never executable, never a page the heap does not own. */
	assert_int_equal(mprotect_call(&g, pg, KX_PAGE_SIZE, KX_PROT_READ | KX_PROT_EXEC),
			 -KX_EACCES);
	assert_int_equal(prot[pg / KX_PAGE_SIZE], HV_PROT_READ | HV_PROT_WRITE);
	assert_int_equal(mprotect_call(&g, pg, KX_PAGE_SIZE, 8), -KX_EINVAL);
	assert_int_equal(mprotect_call(&g, pg + 1, KX_PAGE_SIZE, KX_PROT_READ), -KX_EINVAL);
	assert_int_equal(mprotect_call(&g, pg, 100, KX_PROT_READ), -KX_EINVAL);
	assert_int_equal(mprotect_call(&g, pg, 0, KX_PROT_READ), -KX_EINVAL);
	assert_int_equal(mprotect_call(&g, exec_page(&g), KX_PAGE_SIZE, KX_PROT_READ), -KX_EINVAL);
	assert_int_equal(mprotect_call(&g, top, KX_PAGE_SIZE, KX_PROT_READ), -KX_EINVAL);
	assert_int_equal(mprotect_call(&g, top - KX_PAGE_SIZE, 2 * KX_PAGE_SIZE, KX_PROT_READ),
			 -KX_EINVAL);
	assert_int_equal(mprotect_call(&g, UINT64_MAX & ~(uint64_t)(KX_PAGE_SIZE - 1),
				       2 * KX_PAGE_SIZE, KX_PROT_READ),
			 -KX_EINVAL);
	/* The clock page lies above the heap: never writable. */
	tp = block(&g, KX_HC_TIME_PAGE, &t, sizeof(t));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_int_equal(mprotect_call(&g, tp->addr, KX_PAGE_SIZE, KX_PROT_READ | KX_PROT_WRITE),
			 -KX_EINVAL);
	/* A read-only page of the heap range that MPROTECT did not lower (as a
	 * GOT page would be) stays read-only. */
	prot[pg / KX_PAGE_SIZE + 3] = HV_PROT_READ;
	assert_int_equal(mprotect_call(&g, pg, 4 * KX_PAGE_SIZE, KX_PROT_READ | KX_PROT_WRITE),
			 -KX_EACCES);
	assert_int_equal(prot[pg / KX_PAGE_SIZE + 3], HV_PROT_READ);
	guest_free(&g);
}

/* ---- the channel messages (manager/chan/check.c) ----------------------------------- */

static int from_kxmon(const struct kxmon_msg *m)
{
	char why[128];

	return chan_check_from_kxmon(m, sizeof(*m), 0, why, sizeof(why));
}

static int from_kxd(const struct kxmon_msg *m, int nfds, uint64_t seq)
{
	char why[128];

	return chan_check_from_kxd(m, sizeof(*m), nfds, seq, NULL, why, sizeof(why));
}

static void test_chan_messages(void **state)
{
	struct kxmon_msg m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.size = sizeof(m);
	m.type = KXMON_MSG_SELF_REQ;
	assert_int_equal(from_kxmon(&m), 0);
	m.type = KXMON_MSG_POSIX_ENOSYS;
	m.u.enosys.nr = KXMON_ENOSYS_MAX - 1;
	assert_int_equal(from_kxmon(&m), 0);
	m.u.enosys.nr = KXMON_ENOSYS_MAX;
	assert_int_equal(from_kxmon(&m), -EBADMSG);
	m.u.enosys.nr = 1;
	m.u.enosys.reserved = 1;
	assert_int_equal(from_kxmon(&m), -EBADMSG);
	/* SELF_RESP: only to the request in flight, a real id, not its own parent. */
	memset(&m, 0, sizeof(m));
	m.size = sizeof(m);
	m.type = KXMON_MSG_SELF_RESP;
	m.seq = 9;
	m.u.self.pvm_id = 4;
	m.u.self.parent_id = 2;
	assert_int_equal(from_kxd(&m, 0, 9), 0);
	assert_int_equal(from_kxd(&m, 0, 8), -EBADMSG);
	assert_int_equal(from_kxd(&m, 0, 0), -EBADMSG);
	assert_int_equal(from_kxd(&m, 1, 9), -EBADMSG);
	m.u.self.parent_id = 4;
	assert_int_equal(from_kxd(&m, 0, 9), -EBADMSG);
	m.u.self.pvm_id = 0;
	m.u.self.parent_id = 0;
	assert_int_equal(from_kxd(&m, 0, 9), -EBADMSG);
	/* Neither side takes the other's messages. */
	m.u.self.pvm_id = 4;
	assert_int_equal(from_kxmon(&m), -EBADMSG);
	m.type = KXMON_MSG_POSIX_ENOSYS;
	assert_int_equal(from_kxd(&m, 0, 9), -EBADMSG);
}

/* SELF asks kxd once; a pVM alone gets -KX_EPERM. */
static int self_answer(struct fake_mgr *f, struct kxmon_msg *m, uint32_t resp_type, int *fds,
		       int *nfds)
{
	(void)f, (void)fds, (void)nfds;
	assert_int_equal(m->type, KXMON_MSG_SELF_REQ);
	assert_int_equal(resp_type, KXMON_MSG_SELF_RESP);
	memset(&m->u, 0, sizeof(m->u));
	m->type = KXMON_MSG_SELF_RESP;
	m->u.self.pvm_id = 7;
	m->u.self.parent_id = 3;
	return 0;
}

static void test_self(void **state)
{
	struct kx_hc_self s = {0}, *out;
	struct guest g;

	(void)state;
	guest_new(&g, false);
	out = block(&g, KX_HC_SELF, &s, sizeof(s));
	assert_int_equal(call(&g), HV_HC_RESUME);
	assert_int_equal(out->hdr.ret, -KX_EPERM);
	guest_free(&g);
	guest_new(&g, true);
	g.mgr.answer = self_answer;
	for (int i = 0; i < 2; i++) {
		out = block(&g, KX_HC_SELF, &s, sizeof(s));
		assert_int_equal(call(&g), HV_HC_RESUME);
		assert_int_equal(out->hdr.ret, 0);
		assert_int_equal(out->pvm_id, 7);
		assert_int_equal(out->parent_id, 3);
	}
	assert_int_equal(g.mgr.calls, 1); /* asked once */
	/* A report goes to kxd as well, once. */
	for (int i = 0; i < 2; i++) {
		struct kx_hc_posix_report r = {.nr = 59};

		block(&g, KX_HC_POSIX_REPORT, &r, sizeof(r));
		assert_int_equal(call(&g), HV_HC_RESUME);
	}
	assert_int_equal(g.mgr.sends, 1);
	assert_int_equal(g.mgr.last_sent.type, KXMON_MSG_POSIX_ENOSYS);
	assert_int_equal(g.mgr.last_sent.u.enosys.nr, 59);
	guest_free(&g);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_page),
		cmocka_unit_test(test_time_page_unloaded),
		cmocka_unit_test(test_environ),
		cmocka_unit_test(test_halt),
		cmocka_unit_test(test_halt_signal),
		cmocka_unit_test(test_halt_watch_refusals),
		cmocka_unit_test(test_halt_watch_own_ipc_wait),
		cmocka_unit_test(test_halt_after_handler),
		cmocka_unit_test(test_preempt_refusals),
		cmocka_unit_test(test_preempt_tick),
		cmocka_unit_test(test_entropy),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_console),
		cmocka_unit_test(test_mprotect),
		cmocka_unit_test(test_chan_messages),
		cmocka_unit_test(test_self),
	};
	char self[4096];

	(void)argc;
	/* $B/tests/test_hcall_posix -> $B/guest */
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(guest_dir, sizeof(guest_dir), "%s/../guest", dirname(self));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
