/*
 * test_xen_boot: the Xen PV platform's computations (guest/xen/boot.c,
 * built for the host).  start_info as libxc lays it out for a 32 MiB kx
 * domain gives the layout every pVM relies on (heap after the bootstrap
 * region and the page-table pool, a guard page, a 1 MiB stack at the top);
 * each field that breaks the PV boot contract is refused and named.  The
 * command line splits into argv within its 1024 bytes even without a NUL;
 * Xen's time scaling; the console ring's indices, including impossible ones
 * written by its reader; and the kx ring's table of block sizes, which must
 * know every call number guest/kx_hcall_abi.h defines (a call added there
 * and not here would travel truncated).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define __XEN_INTERFACE_VERSION__ 0x00040e00
#include <xen/xen.h>
#include <xen/io/console.h>

#include "guest/kx_hcall_abi.h"
#include "guest/kx_ring_abi.h"
#include "guest/xen/boot.h"

#define PG   4096ull
#define BASE KX_XEN_VIRT_BASE

/* libxc's order for a 32 MiB domain with a 48 KiB image: p2m list,
 * start_info, XenStore, console, 6 page tables, boot stack. */
static struct kx_xen_boot_in good(void)
{
	uint64_t at = BASE + 12 * PG; /* image_end */

	return (struct kx_xen_boot_in){
		.image_end = at,
		.mfn_list = at,
		.nr_pages = 8192,
		.start_info = at + 16 * PG,
		.store_pfn = 12 + 17,
		.console_pfn = 12 + 18,
		.pt_base = at + 19 * PG,
		.nr_pt_frames = 6,
		.boot_sp = at + 26 * PG,
	};
}

static void test_layout_of_a_32m_domain(void **state)
{
	struct kx_xen_boot_in in = good();
	struct kx_xen_layout l;
	const char *why = NULL;

	(void)state;
	assert_int_equal(kx_xen_layout(&in, &l, &why), 0);
	assert_int_equal(l.mem_end, BASE + (32ull << 20));
	assert_int_equal(l.stack_top, l.mem_end);
	assert_int_equal(l.stack_bottom, l.mem_end - KX_XEN_STACK);
	assert_int_equal(l.guard, l.stack_bottom - PG);
	assert_int_equal(l.heap_end, l.guard);
	assert_int_equal(l.pt_pool, in.boot_sp);
	/* [boot_sp, 0x2400000) touches 16 2-MiB regions and one GiB */
	assert_int_equal(l.pt_pool_end, in.boot_sp + (16 + 1) * PG);
	assert_int_equal(l.heap_start, l.pt_pool_end);
	/* what tests/guest/rt.c checks from inside, and page alignment */
	assert_true(l.heap_start >= in.image_end && l.heap_end < l.stack_bottom);
	assert_true(l.heap_start % PG == 0 && l.heap_end % PG == 0);
	/* the pool lies in the padding the contract guarantees mapped */
	assert_true(l.pt_pool_end <= in.boot_sp + KX_XEN_BOOT_PAD);
}

static void test_page_table_counts(void **state)
{
	(void)state;
	assert_int_equal(kx_xen_pt_frames(0, 0), 0);
	assert_int_equal(kx_xen_pt_frames(BASE, BASE + PG), 2);
	assert_int_equal(kx_xen_pt_frames(BASE, BASE + (2ull << 20)), 2);
	assert_int_equal(kx_xen_pt_frames(BASE + (2ull << 20) - PG, BASE + (2ull << 20) + PG), 3);
	assert_int_equal(kx_xen_pt_frames(1ull << 30, 3ull << 30), 1024 + 2);
}

struct bad_case {
	const char *name;
	void (*apply)(struct kx_xen_boot_in *);
	const char *why;
};

static void no_pages(struct kx_xen_boot_in *in)
{
	in->nr_pages = 0;
}
static void huge_pages(struct kx_xen_boot_in *in)
{
	in->nr_pages = UINT64_MAX / 2;
}
static void past_limit(struct kx_xen_boot_in *in)
{
	in->nr_pages = KX_XEN_VA_LIMIT / PG;
}
static void image_unaligned(struct kx_xen_boot_in *in)
{
	in->image_end += 8;
}
static void sp_in_image(struct kx_xen_boot_in *in)
{
	in->boot_sp = in->image_end;
}
static void sp_unaligned(struct kx_xen_boot_in *in)
{
	in->boot_sp += 16;
}
static void no_padding(struct kx_xen_boot_in *in)
{
	in->nr_pages = 12 + 26 + 100;
}
static void si_after_sp(struct kx_xen_boot_in *in)
{
	in->start_info = in->boot_sp;
}
static void si_in_image(struct kx_xen_boot_in *in)
{
	in->start_info = BASE;
}
static void pt_too_few(struct kx_xen_boot_in *in)
{
	in->nr_pt_frames = 3;
}
static void pt_past_sp(struct kx_xen_boot_in *in)
{
	in->nr_pt_frames = 8;
}
static void pt_wrap(struct kx_xen_boot_in *in)
{
	in->nr_pt_frames = UINT64_MAX / PG + 2;
}
static void p2m_short(struct kx_xen_boot_in *in)
{
	in->mfn_list = in->boot_sp - 8 * 8191;
}
static void p2m_odd(struct kx_xen_boot_in *in)
{
	in->mfn_list += 4;
}
static void console_far(struct kx_xen_boot_in *in)
{
	in->console_pfn = 5000;
}
static void console_none(struct kx_xen_boot_in *in)
{
	in->console_pfn = ~0ull;
}
static void store_image(struct kx_xen_boot_in *in)
{
	in->store_pfn = 2;
}
static void tiny_memory(struct kx_xen_boot_in *in)
{
	in->nr_pages = 12 + 26 + 128 + 100;
}

static void test_layout_refuses_broken_start_info(void **state)
{
	static const struct bad_case cases[] = {
		{"no pages", no_pages, "start_info: nr_pages out of range"},
		{"huge", huge_pages, "start_info: nr_pages out of range"},
		{"past the L4 slot", past_limit, "start_info: nr_pages out of range"},
		{"image end", image_unaligned, "image end outside guest memory"},
		{"sp in image", sp_in_image, "boot stack outside the bootstrap region"},
		{"sp unaligned", sp_unaligned, "boot stack outside the bootstrap region"},
		{"no padding", no_padding, "boot stack outside the bootstrap region"},
		{"si after sp", si_after_sp, "start_info outside the bootstrap region"},
		{"si in image", si_in_image, "start_info outside the bootstrap region"},
		{"pt few", pt_too_few, "start_info: page tables outside the bootstrap region"},
		{"pt past", pt_past_sp, "start_info: page tables outside the bootstrap region"},
		{"pt wrap", pt_wrap, "start_info: page tables outside the bootstrap region"},
		{"p2m short", p2m_short, "start_info: mfn_list outside the bootstrap region"},
		{"p2m odd", p2m_odd, "start_info: mfn_list outside the bootstrap region"},
		{"console far", console_far,
		 "start_info: console page outside the bootstrap region"},
		{"console none", console_none,
		 "start_info: console page outside the bootstrap region"},
		{"store", store_image, "start_info: XenStore page outside the bootstrap region"},
		{"tiny", tiny_memory, "not enough memory for page tables, heap and stack"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kx_xen_boot_in in = good();
		struct kx_xen_layout l;
		const char *why = NULL;

		cases[i].apply(&in);
		print_message("case %s\n", cases[i].name);
		assert_int_equal(kx_xen_layout(&in, &l, &why), -KX_EINVAL);
		assert_non_null(why);
		assert_string_equal(why, cases[i].why);
	}
}

static void test_cmdline_split(void **state)
{
	char buf[64], *argv[8];
	int argc;

	(void)state;
	argc = kx_xen_split_cmdline("  xhello.kxe one\ttwo  ", 64, buf, sizeof(buf), argv, 8);
	assert_int_equal(argc, 3);
	assert_string_equal(argv[0], "xhello.kxe");
	assert_string_equal(argv[1], "one");
	assert_string_equal(argv[2], "two");
	assert_null(argv[3]);

	assert_int_equal(kx_xen_split_cmdline("", 64, buf, sizeof(buf), argv, 8), 0);
	assert_null(argv[0]);
	assert_int_equal(kx_xen_split_cmdline("   ", 3, buf, sizeof(buf), argv, 8), 0);

	/* no NUL within cap: the words stop at cap */
	{
		char raw[6] = {'a', 'b', ' ', 'c', 'd', 'e'};

		argc = kx_xen_split_cmdline(raw, sizeof(raw), buf, sizeof(buf), argv, 8);
		assert_int_equal(argc, 2);
		assert_string_equal(argv[1], "cde");
	}
	/* too many words for argv (the NULL needs a slot) */
	assert_int_equal(kx_xen_split_cmdline("a b c", 64, buf, sizeof(buf), argv, 3), -KX_E2BIG);
	assert_int_equal(kx_xen_split_cmdline("a b", 64, buf, sizeof(buf), argv, 3), 2);
	assert_int_equal(kx_xen_split_cmdline("a", 64, buf, sizeof(buf), argv, 0), -KX_E2BIG);
	/* words longer than the buffer */
	assert_int_equal(kx_xen_split_cmdline("abcdef", 64, buf, 6, argv, 8), -KX_E2BIG);
	assert_int_equal(kx_xen_split_cmdline("abcde", 64, buf, 6, argv, 8), 1);
	assert_int_equal(kx_xen_split_cmdline("ab cd", 64, buf, 5, argv, 8), -KX_E2BIG);
}

static void test_time_scaling(void **state)
{
	struct kx_xen_time t = {.tsc_timestamp = 1000,
				.system_time = 5000000000ull,
				.mul = 0x80000000u,
				.shift = 0};

	(void)state;
	/* mul 2^31: half a ns per tick */
	assert_int_equal(kx_xen_time_ns(&t, 1000), 5000000000ull);
	assert_int_equal(kx_xen_time_ns(&t, 3000), 5000001000ull);
	t.shift = 1;
	assert_int_equal(kx_xen_time_ns(&t, 3000), 5000002000ull);
	t.shift = -2;
	assert_int_equal(kx_xen_time_ns(&t, 9000), 5000001000ull);
	/* a TSC before the record's stamp counts as the stamp */
	assert_int_equal(kx_xen_time_ns(&t, 10), 5000000000ull);
	/* no overflow in the product: 2^40 ticks at mul 0xffffffff */
	t = (struct kx_xen_time){.tsc_timestamp = 0, .system_time = 0, .mul = 0xffffffffu};
	assert_int_equal(kx_xen_time_ns(&t, 1ull << 40), 0xffffffffull << 8);
}

static void test_console_ring(void **state)
{
	static struct xencons_interface c;
	char big[3000];

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(big, 'x', sizeof(big));
	assert_int_equal(kx_xen_cons_put(&c, "hello", 5), 5);
	assert_int_equal(c.out_prod, 5);
	assert_memory_equal(c.out, "hello", 5);
	assert_int_equal(kx_xen_cons_pending(&c), 5);
	/* fill: only the room left goes in */
	assert_int_equal(kx_xen_cons_put(&c, big, sizeof(big)), (long)sizeof(c.out) - 5);
	assert_int_equal(kx_xen_cons_put(&c, big, 1), 0);
	/* the reader takes everything; indices wrap modulo the ring */
	c.out_cons = c.out_prod;
	assert_int_equal(kx_xen_cons_put(&c, "wrap", 4), 4);
	assert_memory_equal(c.out, "wrap", 4);
	/* indices near 2^32 */
	c.out_cons = c.out_prod = 0xfffffffeu;
	assert_int_equal(kx_xen_cons_put(&c, "abcd", 4), 4);
	assert_int_equal(c.out_prod, 2);
	assert_int_equal(c.out[sizeof(c.out) - 2], 'a');
	assert_int_equal(c.out[1], 'd');
	/* a reader that moved out_cons past out_prod broke the ring */
	c.out_cons = c.out_prod + 1;
	assert_int_equal(kx_xen_cons_put(&c, "z", 1), -KX_EIO);
	assert_int_equal(kx_xen_cons_pending(&c), -KX_EIO);
	c.out_cons = c.out_prod - (XENCONS_RING_IDX)sizeof(c.out) - 1;
	assert_int_equal(kx_xen_cons_put(&c, "z", 1), -KX_EIO);
}

static void test_block_sizes_cover_the_abi(void **state)
{
	/* Run from the source tree (make check): read the enum in the header. */
	FILE *f = fopen("guest/kx_hcall_abi.h", "r");
	char line[256], name[64];
	unsigned nr, seen = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		uint32_t size;

		if (sscanf(line, " KX_HC_%63[A-Z_] = %u", name, &nr) != 2)
			continue;
		size = kx_xen_block_size(nr);
		if (size == 0)
			fail_msg("KX_HC_%s (%u) has no block size for the kx ring "
				 "(guest/xen/boot.c)",
				 name, nr);
		assert_true(size >= sizeof(struct kx_hc_hdr) && size <= KX_RING_BLOCK_MAX);
		assert_int_equal(size % 8, 0);
		seen++;
	}
	fclose(f);
	assert_true(seen >= 21);
	assert_int_equal(kx_xen_block_size(KX_HC_CONSOLE_WRITE),
			 sizeof(struct kx_hc_console_write));
	assert_int_equal(kx_xen_block_size(KX_HC_IPC_GET), sizeof(struct kx_hc_ipc_get));
	assert_int_equal(kx_xen_block_size(KX_HC_FORK), sizeof(struct kx_hc_hdr));
	assert_int_equal(kx_xen_block_size(0), 0);
	assert_int_equal(kx_xen_block_size(99), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_of_a_32m_domain),
		cmocka_unit_test(test_page_table_counts),
		cmocka_unit_test(test_layout_refuses_broken_start_info),
		cmocka_unit_test(test_cmdline_split),
		cmocka_unit_test(test_time_scaling),
		cmocka_unit_test(test_console_ring),
		cmocka_unit_test(test_block_sizes_cover_the_abi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
