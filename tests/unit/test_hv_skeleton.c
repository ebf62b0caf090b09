/*
 * test_hv_skeleton: the monitor's core over the skeleton backend (every
 * primitive -ENOSYS, manager/hv/skeleton/), the template of a new backend.
 * It must build, be found by name, and give a clean "not implemented" error
 * for probing and for creating (booting) a pVM — never a crash, never a
 * half-made pVM.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "manager/hv/backend.h"

static void found_by_name(void **state)
{
	(void)state;
	assert_ptr_equal(hv_backend("skeleton"), &hv_skeleton_backend);
	assert_ptr_equal(hv_backend("kvm"), &hv_kvm_backend);
	assert_ptr_equal(hv_backend("xen"), &hv_xen_backend);
	assert_null(hv_backend("vmware"));
	assert_string_equal(hv_backend_name(&hv_skeleton_backend), "skeleton");
}

static void probe_not_implemented(void **state)
{
	struct kx_error err = {{0}};

	(void)state;
	assert_int_equal(hv_probe(&hv_skeleton_backend, &err), -ENOSYS);
	assert_string_equal(err.msg, "skeleton backend: probe: not implemented");
}

static void boot_not_implemented(void **state)
{
	char name[] = "app.kxe";
	char *argv[] = {name, NULL};
	struct hv_config cfg = {.mem_size = HV_MEM_DEFAULT, .argc = 1, .argv = argv,
				.console_fd = 1};
	struct hv_pvm *p = (struct hv_pvm *)&cfg; /* must come back NULL */
	struct kx_error err = {{0}};

	(void)state;
	assert_int_equal(hv_create(&hv_skeleton_backend, &cfg, &p, &err), -ENOSYS);
	assert_null(p);
	assert_string_equal(err.msg, "skeleton backend: create: not implemented");
	hv_destroy(NULL, 0, NULL, NULL); /* what a caller does on its cleanup path */
}

/* The core's checks come first: a bad config never reaches the backend. */
static void config_checked_first(void **state)
{
	char name[] = "app.kxe";
	char *argv[] = {name, NULL};
	struct hv_config cfg = {.mem_size = 3 << 20, .argc = 1, .argv = argv};
	struct hv_pvm *p = NULL;
	struct kx_error err = {{0}};

	(void)state;
	assert_int_equal(hv_create(&hv_skeleton_backend, &cfg, &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "memory size"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(found_by_name),
		cmocka_unit_test(probe_not_implemented),
		cmocka_unit_test(boot_not_implemented),
		cmocka_unit_test(config_checked_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
