/*
 * test_xen_cmdline — the Xen backend's reading of Xen's command line
 * (manager/hv/xen/cmdline.c): does this Xen scrub the frames a live domain
 * gives back?  The backend refuses to create domains when it does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "manager/hv/xen/xen.h"

static bool scrubs(const char *cmdline)
{
	return xen_cmdline_scrubs_domheap(cmdline, strlen(cmdline) + 1);
}

static void test_option_forms(void **state)
{
	(void)state;
	assert_true(scrubs("scrub-domheap"));
	assert_true(scrubs("console=com1 scrub_domheap dom0_mem=1G"));
	assert_true(scrubs("scrub-domheap=1"));
	assert_true(scrubs("scrub-domheap=on"));
	assert_true(scrubs("scrub_domheap=true"));
	assert_true(scrubs("scrub-domheap=yes"));
	assert_true(scrubs("scrub-domheap=enable"));
	assert_true(scrubs("no-scrub-domheap=0"));
	assert_true(scrubs("  scrub-domheap  "));
}

static void test_off_or_absent(void **state)
{
	(void)state;
	assert_false(scrubs(""));
	assert_false(scrubs("console=com1 dom0_mem=1G"));
	assert_false(scrubs("scrub-domheap=0"));
	assert_false(scrubs("scrub-domheap=off"));
	assert_false(scrubs("no-scrub-domheap"));
	assert_false(scrubs("no_scrub_domheap"));
	/* other names that contain it, or it cut short */
	assert_false(scrubs("scrub-domheapx"));
	assert_false(scrubs("xscrub-domheap"));
	assert_false(scrubs("scrub-domhea"));
	assert_false(scrubs("bootscrub=1 scrub_debug"));
	/* a value that is no boolean is ignored, as Xen ignores it */
	assert_false(scrubs("scrub-domheap=maybe"));
}

static void test_last_word_wins(void **state)
{
	(void)state;
	assert_false(scrubs("scrub-domheap no-scrub-domheap"));
	assert_true(scrubs("no-scrub-domheap scrub-domheap"));
	assert_false(scrubs("scrub-domheap scrub-domheap=off"));
	assert_true(scrubs("scrub-domheap scrub-domheap=maybe"));
}

static void test_bounded_by_size(void **state)
{
	char text[32];

	(void)state;
	/* not NUL-terminated: only size bytes are read */
	memcpy(text, "scrub-domheap=offXXXXXXXXXXXXXXX", sizeof(text));
	assert_false(xen_cmdline_scrubs_domheap(text, 17)); /* "scrub-domheap=off" */
	assert_true(xen_cmdline_scrubs_domheap(text, 13));  /* "scrub-domheap" */
	assert_false(xen_cmdline_scrubs_domheap(text, 12)); /* "scrub-domhea" */
	assert_false(xen_cmdline_scrubs_domheap(text, 0));
	/* the text ends at its NUL, whatever size says */
	assert_true(xen_cmdline_scrubs_domheap("scrub-domheap\0no-scrub-domheap", 31));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_option_forms),
		cmocka_unit_test(test_off_or_absent),
		cmocka_unit_test(test_last_word_wins),
		cmocka_unit_test(test_bounded_by_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
