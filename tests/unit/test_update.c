/*
 * test_update.c — two pieces of an online update without KVM:
 *   - the quiescence walk (manager/hv/update.c, update_quiescent) over
 *     hand-built guest stacks, hostile ones included: loops, frames pointing
 *     down or out of the stack, unaligned frame pointers, stacks in pages the
 *     guest cannot read;
 *   - carrying variables (update_vars.c) between the generated libupd
 *     builds ($(B)/guest/upd, found beside this binary, signed there so they
 *     carry kxsign's pointer map), loaded by kxelf into a host buffer:
 *     values copied, the words the map names as pointers rebased (into the
 *     library's statics, functions, inside a struct and an array), integers
 *     whose values lie inside the library copied as they are (hardening
 *     round 2, finding 7: they used to be "rebased" or refused), a heap
 *     pointer kept; a size change, a pointer layout change, a pointer with
 *     no counterpart and a union that may hold one refused; and a library
 *     signed without a map carried verbatim.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "manager/hv/linker.h"

#define MEM_SIZE (1024 * KX_PAGE_SIZE)
#define STACK_LO (32 * KX_PAGE_SIZE)
#define STACK_HI (40 * KX_PAGE_SIZE)
#define LIB_LO	 0x10000ull /* the "old library" */
#define LIB_HI	 0x14000ull
#define APP_CODE 0x8000ull

static uint8_t host[MEM_SIZE];
static uint8_t prot[MEM_SIZE / KX_PAGE_SIZE];
static const struct hv_guest_mem mem = {.host = host, .size = MEM_SIZE, .page_prot = prot};

static void put(uint64_t gpa, uint64_t v)
{
	memcpy(host + gpa, &v, sizeof(v));
}

/* A stack of frames at STACK_HI - 0x100 * (i + 1), each linking up to the
 * next, with return addresses ret[i]; rsp just below the lowest frame. */
static struct update_cpu stack_of(const uint64_t *ret, size_t n)
{
	struct update_cpu cpu = {.rip = APP_CODE, .stack_lo = STACK_LO, .stack_hi = STACK_HI};

	memset(host, 0, sizeof(host));
	memset(prot, HV_PROT_READ | HV_PROT_WRITE, sizeof(prot));
	for (size_t i = 0; i < n; i++) {
		uint64_t fp = STACK_HI - 0x100 * (n - i);

		put(fp, i + 1 < n ? fp + 0x100 : 0);
		put(fp + 8, ret[i]);
	}
	cpu.rbp = STACK_HI - 0x100 * n;
	cpu.rsp = cpu.rbp - 0x40;
	return cpu;
}

static void quiescent_when_no_frame_is_in_the_library(void **state)
{
	const uint64_t ret[] = {APP_CODE + 1, APP_CODE + 2, APP_CODE + 3};
	struct update_cpu cpu = stack_of(ret, 3);
	uint64_t found = 1;

	(void)state;
	assert_int_equal(update_quiescent(&mem, &cpu, LIB_LO, LIB_HI, &found), 0);
	assert_int_equal(found, 0);
}

static void busy_when_rip_is_in_the_library(void **state)
{
	const uint64_t ret[] = {APP_CODE};
	struct update_cpu cpu = stack_of(ret, 1);
	uint64_t found = 0;

	(void)state;
	cpu.rip = LIB_LO + 0x10;
	assert_int_equal(update_quiescent(&mem, &cpu, LIB_LO, LIB_HI, &found), -EBUSY);
	assert_int_equal(found, LIB_LO + 0x10);
}

static void busy_when_a_deep_return_address_is_in_the_library(void **state)
{
	const uint64_t ret[] = {APP_CODE, APP_CODE, LIB_HI - 1, APP_CODE};
	struct update_cpu cpu = stack_of(ret, 4);
	uint64_t found = 0;

	(void)state;
	assert_int_equal(update_quiescent(&mem, &cpu, LIB_LO, LIB_HI, &found), -EBUSY);
	assert_int_equal(found, LIB_HI - 1);
}

/* A callee that has not pushed its frame: its return address sits at rsp. */
static void busy_when_a_word_above_rsp_points_into_the_library(void **state)
{
	const uint64_t ret[] = {APP_CODE};
	struct update_cpu cpu = stack_of(ret, 1);
	uint64_t found = 0;

	(void)state;
	put(cpu.rsp, LIB_LO + 0x40);
	assert_int_equal(update_quiescent(&mem, &cpu, LIB_LO, LIB_HI, &found), -EBUSY);
	assert_int_equal(found, LIB_LO + 0x40);
}

/* A signal handler runs: SIGRETURN resumes the interrupted state, which
 * the monitor keeps off the guest stack; it counts like the current one. */
static void busy_when_the_state_a_handler_interrupted_is_in_the_library(void **state)
{
	const uint64_t ret[] = {APP_CODE};
	struct update_cpu cpu = stack_of(ret, 1);
	uint64_t found = 0;

	(void)state;
	cpu.int_rip = LIB_LO + 0x30;
	assert_int_equal(update_quiescent(&mem, &cpu, LIB_LO, LIB_HI, &found), 0);
	cpu.in_handler = true;
	assert_int_equal(update_quiescent(&mem, &cpu, LIB_LO, LIB_HI, &found), -EBUSY);
	assert_int_equal(found, LIB_LO + 0x30);
}

/* The interrupted state's frame chain is walked too, from its own rbp:
 * here the handler's stack (from rsp) lies above the interrupted frames,
 * so only that walk can see them. */
static void the_frames_a_handler_interrupted_are_walked(void **state)
{
	const uint64_t ret[] = {APP_CODE};
	struct update_cpu cpu = stack_of(ret, 1);
	uint64_t found = 0, fp = STACK_LO + 0x100;

	(void)state;
	put(fp, fp + 0x40);
	put(fp + 8, APP_CODE);
	put(fp + 0x40, 0);
	put(fp + 0x48, LIB_LO + 0x50);
	cpu.in_handler = true;
	cpu.int_rip = APP_CODE;
	cpu.int_rbp = fp;
	assert_int_equal(update_quiescent(&mem, &cpu, LIB_LO, LIB_HI, &found), -EBUSY);
	assert_int_equal(found, LIB_LO + 0x50);
}

/* Below rsp is dead stack: what lies there does not count. */
static void dead_stack_below_rsp_is_ignored(void **state)
{
	const uint64_t ret[] = {APP_CODE};
	struct update_cpu cpu = stack_of(ret, 1);
	uint64_t found = 0;

	(void)state;
	put(cpu.rsp - 8, LIB_LO + 0x40);
	assert_int_equal(update_quiescent(&mem, &cpu, LIB_LO, LIB_HI, &found), 0);
}

/* The upper bound is exclusive: LIB_HI is the next module. */
static void the_range_is_half_open(void **state)
{
	const uint64_t ret[] = {LIB_HI, LIB_LO - 1};
	struct update_cpu cpu = stack_of(ret, 2);
	uint64_t found = 0;

	(void)state;
	assert_int_equal(update_quiescent(&mem, &cpu, LIB_LO, LIB_HI, &found), 0);
}

/* Hostile chains end the walk; the scan of live words still runs. */
static void hostile_frame_chains_stop_the_walk(void **state)
{
	static const uint64_t bad_fp[] = {
		STACK_HI - 0x100 + 4, /* unaligned */
		STACK_LO - 16,	      /* below the stack */
		STACK_HI - 8,	      /* the frame would end past the stack */
		UINT64_MAX - 7,	      /* overflow */
	};
	const uint64_t ret[] = {APP_CODE, APP_CODE};
	uint64_t found = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_fp) / sizeof(bad_fp[0]); i++) {
		struct update_cpu cpu = stack_of(ret, 2);

		put(cpu.rbp, bad_fp[i]);
		assert_int_equal(update_quiescent(&mem, &cpu, LIB_LO, LIB_HI, &found), 0);
	}
	/* A loop: the frame points at itself. */
	struct update_cpu cpu = stack_of(ret, 2);

	put(cpu.rbp, cpu.rbp);
	assert_int_equal(update_quiescent(&mem, &cpu, LIB_LO, LIB_HI, &found), 0);
	/* ... and a loop does not hide a library word above it. */
	put(cpu.rbp + 0x80, LIB_LO);
	assert_int_equal(update_quiescent(&mem, &cpu, LIB_LO, LIB_HI, &found), -EBUSY);
}

/* rsp/rbp outside guest memory, or a stack the guest cannot read: no crash,
 * nothing read from there. */
static void unreadable_stacks_are_not_read(void **state)
{
	const uint64_t ret[] = {LIB_LO};
	struct update_cpu cpu = stack_of(ret, 1);
	uint64_t found = 0;

	(void)state;
	memset(prot, 0, sizeof(prot));
	assert_int_equal(update_quiescent(&mem, &cpu, LIB_LO, LIB_HI, &found), 0);
	cpu = stack_of(ret, 1);
	cpu.rsp = cpu.rbp = UINT64_MAX - 3;
	assert_int_equal(update_quiescent(&mem, &cpu, LIB_LO, LIB_HI, &found), 0);
	cpu.stack_lo = cpu.stack_hi = STACK_LO;
	assert_int_equal(update_quiescent(&mem, &cpu, LIB_LO, LIB_HI, &found), -EINVAL);
}

/* ---- variables ------------------------------------------------------------ */

#define OLD_AT 0x100000ull
#define NEW_AT 0x200000ull

static char upd_dir[PATH_MAX];

struct loaded {
	uint8_t *bytes;
	struct kxelf_tree *tree;
	struct kxelf_module *mod;
};

static int no_open(void *ctx, const char *name, const uint8_t **data, size_t *len,
		   struct kx_error *err)
{
	(void)ctx, (void)name, (void)data, (void)len, (void)err;
	return -ENOENT;
}

static void no_release(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
}

/* libupd-VARIANT.so mapped and relocated at `at` in host[] (undefined
 * runtime symbols bound to 0: nothing runs). */
static void load(const char *variant, uint64_t at, struct loaded *out)
{
	static const struct kxelf_tree_ops ops = {.open = no_open, .release = no_release};
	static const struct kxelf_segment seg = {.guest_base = 0, .host = host, .size = MEM_SIZE};
	struct kxelf_tree_params p = {.ops = &ops,
				      .seg = &seg,
				      .guest_addr = at,
				      .bind = {.mode = KXELF_BIND_NOW,
					       .module_id = 1,
					       .flags = KXELF_RELOC_ALLOW_UNDEFINED}};
	struct kx_error err = {0};
	char path[PATH_MAX + 64];
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "%s/libupd-%s.so", upd_dir, variant); /* "116.kx": signed */
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	out->bytes = malloc((size_t)len);
	assert_non_null(out->bytes);
	assert_int_equal(fread(out->bytes, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	if (kxelf_tree_load(out->bytes, (size_t)len, variant, &p, &out->tree, &err) != 0)
		fail_msg("%s: %s", path, err.msg);
	out->mod = kxelf_tree_module(out->tree, 0);
}

static void unload(struct loaded *l)
{
	kxelf_tree_free(l->tree);
	free(l->bytes);
}

/* The guest address of a symbol of m (.dynsym, else .symtab). */
static uint64_t addr_of(const struct kxelf_module *m, const char *name)
{
	for (int src = KXELF_SYMS_DYNSYM; src <= KXELF_SYMS_SYMTAB; src++)
		for (size_t i = 0; i < kxelf_module_symbol_count(m, src); i++) {
			struct kxelf_symbol s;

			if (kxelf_module_symbol(m, src, i, &s) == 0 && s.defined &&
			    strcmp(s.name, name) == 0)
				return s.addr;
		}
	fail_msg("no symbol %s", name);
	return 0;
}

static uint64_t get(uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, host + gpa, sizeof(v));
	return v;
}

/* libupd 1.16 (old) and the test's new variant, loaded afresh per test. */
static struct loaded old, new;
static struct hv_update_result res;
static struct kx_error err;

static int open_pair(const char *from, const char *to)
{
	memset(host, 0, sizeof(host));
	memset(&res, 0, sizeof(res));
	memset(&err, 0, sizeof(err));
	load(from, OLD_AT, &old);
	load(to, NEW_AT, &new);
	return 0;
}

static int to_118(void **state)
{
	(void)state;
	return open_pair("116.kx", "118.kx");
}

static int to_size(void **state)
{
	(void)state;
	return open_pair("116.kx", "size.kx");
}

static int to_layout(void **state)
{
	(void)state;
	return open_pair("116.kx", "layout.kx");
}

/* Built with -g but not signed: no pointer map. */
static int unsigned_to_118(void **state)
{
	(void)state;
	return open_pair("116", "118");
}

static int close_pair(void **state)
{
	(void)state;
	unload(&old);
	unload(&new);
	return 0;
}

static int carry(void)
{
	return update_carry_vars(&mem, old.mod, new.mod, "libupd", &res, &err);
}

static uint64_t fn_of(const struct loaded *l, int i)
{
	char name[32];

	snprintf(name, sizeof(name), "upd_fn_%03d", i);
	return addr_of(l->mod, name);
}

static void variables_carried_and_pointers_rebased(void **state)
{
	uint64_t conf_old = addr_of(old.mod, "upd_conf"), conf_new = addr_of(new.mod, "upd_conf");
	uint64_t table_new = addr_of(new.mod, "upd_static_table");

	(void)state;
	put(addr_of(old.mod, "upd_var_001"), 0x4242424242ull);
	put(addr_of(old.mod, "upd_calls_seen"), 77);			      /* a static */
	put(addr_of(old.mod, "upd_heap_ptr"), 0x3000000);		      /* the heap: kept */
	put(addr_of(old.mod, "upd_app_ptr"), addr_of(old.mod, "upd_fn_010")); /* rebased */
	put(conf_old, 0x99);						      /* conf.id */
	assert_int_equal(carry(), 0);
	assert_int_equal(get(addr_of(new.mod, "upd_var_001")), 0x4242424242ull);
	assert_int_equal(get(addr_of(new.mod, "upd_calls_seen")), 77);
	assert_int_equal(get(addr_of(new.mod, "upd_heap_ptr")), 0x3000000);
	assert_int_equal(get(addr_of(new.mod, "upd_app_ptr")), addr_of(new.mod, "upd_fn_010"));
	assert_int_equal(get(addr_of(new.mod, "upd_self_ptr")), table_new + 3 * sizeof(long));
	/* struct upd_conf { long id; long *slot; long (*hook)(long); long values[3]; } */
	assert_int_equal(get(conf_new), 0x99);
	assert_int_equal(get(conf_new + 8), table_new + 1 * sizeof(long));
	assert_int_equal(get(conf_new + 16), fn_of(&new, 2));
	assert_int_equal(get(conf_new + 24), 1);
	for (int i = 0; i < 4; i++) /* upd_ops[4]: function pointers */
		assert_int_equal(get(addr_of(new.mod, "upd_ops") + 8 * (uint64_t)i),
				 fn_of(&new, i + 1));
	/* upd_generation is carried too: the old value, not the new default */
	assert_int_equal(get(addr_of(new.mod, "upd_generation")), 116);
	assert_int_equal(res.variables, 116);
	assert_int_equal(res.rebased, 8); /* app_ptr, self_ptr, conf x2, ops x4 */
	assert_int_equal(res.untyped, 0);
	assert_false(res.no_ptrmap);
}

/* Hardening round 2, finding 7: a counter whose value falls inside the old
 * library was rebased (when it hit a symbol) or refused the update.  Every
 * value across the library's whole range, symbol addresses included, in
 * integers (a global, a static, an array element, struct members) is now
 * copied exactly, while a real pointer beside them is still rebased. */
static void integers_inside_the_library_range_are_copied_verbatim(void **state)
{
	const char *ints[] = {"upd_var_001", "upd_calls_seen", "upd_generation"};
	uint64_t lo = kxelf_module_start(old.mod), hi = kxelf_module_end(old.mod);
	uint64_t conf_old = addr_of(old.mod, "upd_conf"), conf_new = addr_of(new.mod, "upd_conf");
	uint64_t values[2048];
	size_t n = 0;

	(void)state;
	for (uint64_t v = lo; v < hi && n < 1024; v += 0x20, n++)
		values[n] = v + (n % 8); /* aligned and not */
	for (int i = 1; i <= 106 && n < 2048; i++)
		values[n++] = fn_of(&old, i); /* exactly on a symbol */
	values[n++] = addr_of(old.mod, "upd_static_table") + 3 * sizeof(long);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = values[i];

		for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++)
			put(addr_of(old.mod, ints[k]), v);
		put(addr_of(old.mod, "upd_table") + 8, v);
		put(addr_of(old.mod, "upd_static_table") + 16, v);
		put(conf_old, v);      /* conf.id */
		put(conf_old + 40, v); /* conf.values[2] */
		memset(&res, 0, sizeof(res));
		if (carry() != 0)
			fail_msg("value 0x%llx: %s", (unsigned long long)v, err.msg);
		for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++)
			assert_int_equal(get(addr_of(new.mod, ints[k])), v);
		assert_int_equal(get(addr_of(new.mod, "upd_table") + 8), v);
		assert_int_equal(get(addr_of(new.mod, "upd_static_table") + 16), v);
		assert_int_equal(get(conf_new), v);
		assert_int_equal(get(conf_new + 40), v);
		assert_int_equal(get(addr_of(new.mod, "upd_self_ptr")),
				 addr_of(new.mod, "upd_static_table") + 3 * sizeof(long));
		assert_int_equal(res.rebased, 7); /* self_ptr, conf x2, ops x4 */
	}
}

static void a_size_change_is_refused_before_anything_is_written(void **state)
{
	(void)state;
	put(addr_of(old.mod, "upd_var_001"), 99);
	assert_int_equal(carry(), -EINVAL);
	assert_non_null(strstr(err.msg, "'upd_var_050' is 8 bytes in the old libupd, 4 bytes"));
	assert_int_equal(get(addr_of(new.mod, "upd_var_001")), 1000003); /* its own default */
	assert_int_equal(res.variables, 0);
}

/* upd_conf keeps its size but its pointer moved: copying it would turn a
 * pointer into an integer and back. */
static void a_pointer_layout_change_is_refused_before_anything_is_written(void **state)
{
	(void)state;
	put(addr_of(old.mod, "upd_var_001"), 99);
	assert_int_equal(carry(), -EINVAL);
	assert_non_null(strstr(err.msg, "the pointer words of 'upd_conf' differ"));
	assert_int_equal(get(addr_of(new.mod, "upd_var_001")), 1000003);
	assert_int_equal(res.variables, 0);
}

/* A pointer into the old library where no symbol is (its read-only
 * segment, 0x1000 into the module: .dynsym and friends). */
static void a_pointer_with_no_counterpart_is_refused(void **state)
{
	(void)state;
	put(addr_of(old.mod, "upd_heap_ptr"), kxelf_module_start(old.mod) + 0x1008);
	assert_int_equal(carry(), -EINVAL);
	assert_non_null(strstr(err.msg, "'upd_heap_ptr' holds 0x"));
}

/* union upd_word { long n; void *p; }: outside the library either reading
 * is the same; inside, rebasing could corrupt a number and copying could
 * leave a dangling pointer, so the update is refused. */
static void a_union_that_may_point_into_the_library_is_refused(void **state)
{
	(void)state;
	put(addr_of(old.mod, "upd_word"), 0x3000000);
	assert_int_equal(carry(), 0);
	assert_int_equal(get(addr_of(new.mod, "upd_word")), 0x3000000);
	put(addr_of(old.mod, "upd_word"), fn_of(&old, 10));
	assert_int_equal(carry(), -EINVAL);
	assert_non_null(strstr(err.msg, "'upd_word' +0, a union word that may be a pointer"));
}

/* Signed without a map (or a map-less build): nothing is guessed. */
static void without_a_pointer_map_nothing_is_rebased(void **state)
{
	uint64_t self = get(addr_of(old.mod, "upd_self_ptr"));

	(void)state;
	assert_true(self >= kxelf_module_start(old.mod) && self < kxelf_module_end(old.mod));
	put(addr_of(old.mod, "upd_app_ptr"), fn_of(&old, 10));
	assert_int_equal(carry(), 0);
	assert_true(res.no_ptrmap);
	assert_int_equal(res.rebased, 0);
	assert_int_equal(res.variables, 116);
	assert_int_equal(get(addr_of(new.mod, "upd_self_ptr")), self);
	assert_int_equal(get(addr_of(new.mod, "upd_app_ptr")), fn_of(&old, 10));
}

int main(int argc, char **argv)
{
	char self[PATH_MAX];

	(void)argc;
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(upd_dir, sizeof(upd_dir), "%.4000s/../guest/upd", dirname(self));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(quiescent_when_no_frame_is_in_the_library),
		cmocka_unit_test(busy_when_rip_is_in_the_library),
		cmocka_unit_test(busy_when_a_deep_return_address_is_in_the_library),
		cmocka_unit_test(busy_when_a_word_above_rsp_points_into_the_library),
		cmocka_unit_test(busy_when_the_state_a_handler_interrupted_is_in_the_library),
		cmocka_unit_test(the_frames_a_handler_interrupted_are_walked),
		cmocka_unit_test(dead_stack_below_rsp_is_ignored),
		cmocka_unit_test(the_range_is_half_open),
		cmocka_unit_test(hostile_frame_chains_stop_the_walk),
		cmocka_unit_test(unreadable_stacks_are_not_read),
		cmocka_unit_test_setup_teardown(variables_carried_and_pointers_rebased, to_118,
						close_pair),
		cmocka_unit_test_setup_teardown(a_size_change_is_refused_before_anything_is_written,
						to_size, close_pair),
		cmocka_unit_test_setup_teardown(a_pointer_with_no_counterpart_is_refused, to_118,
						close_pair),
		cmocka_unit_test_setup_teardown(integers_inside_the_library_range_are_copied_verbatim,
						to_118, close_pair),
		cmocka_unit_test_setup_teardown(
			a_pointer_layout_change_is_refused_before_anything_is_written, to_layout,
			close_pair),
		cmocka_unit_test_setup_teardown(a_union_that_may_point_into_the_library_is_refused,
						to_118, close_pair),
		cmocka_unit_test_setup_teardown(without_a_pointer_map_nothing_is_rebased,
						unsigned_to_118, close_pair),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
