/*
 * test_common: the error convention (kx_err, kx_err_wrap, kx_bad_msg) —
 * return values, NULL, wrapping, and cutting at KX_ERR_MAX without
 * overflowing — and the seal check of received memfds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/kxerr.h"
#include "common/kxfd.h"

static void test_err_sets_and_returns(void **state)
{
	struct kx_error e = {.msg = "stale"};

	(void)state;
	assert_int_equal(kx_err(&e, -ENOEXEC, "program header %d: %s", 3, "bad"), -ENOEXEC);
	assert_string_equal(e.msg, "program header 3: bad");
	assert_int_equal(kx_err(&e, 0, "fine"), 0);
	assert_string_equal(e.msg, "fine");
}

static void test_err_null(void **state)
{
	char why[8] = "x";

	(void)state;
	assert_int_equal(kx_err(NULL, -EINVAL, "%s", "nobody reads this"), -EINVAL);
	assert_int_equal(kx_err_wrap(NULL, -E2BIG, "%s", "nor this"), -E2BIG);
	assert_int_equal(kx_bad_msg(NULL, 0, "nowhere"), -EBADMSG);
	assert_int_equal(kx_bad_msg(why, 0, "no room"), -EBADMSG);
	assert_string_equal(why, "x");
}

static void test_wrap_prefixes(void **state)
{
	struct kx_error e;

	(void)state;
	kx_err(&e, -ENOEXEC, "program header 1: p_filesz 0x11d0 > p_memsz 0x1d0");
	assert_int_equal(kx_err_wrap(&e, -ENOEXEC, "%s", "libfoo.so"), -ENOEXEC);
	assert_string_equal(e.msg, "libfoo.so: program header 1: p_filesz 0x11d0 > p_memsz 0x1d0");
	assert_int_equal(kx_err_wrap(&e, -EINVAL, "loading %s", "app.kxe"), -EINVAL);
	assert_string_equal(e.msg, "loading app.kxe: libfoo.so: program header 1: p_filesz "
				   "0x11d0 > p_memsz 0x1d0");
}

/* An empty message gets the context alone, with no dangling ": ". */
static void test_wrap_empty(void **state)
{
	struct kx_error e = {.msg = ""};

	(void)state;
	kx_err_wrap(&e, -EIO, "libbar.so");
	assert_string_equal(e.msg, "libbar.so");
}

/* A new message or a context may quote the message it replaces or wraps. */
static void test_own_message(void **state)
{
	struct kx_error e;

	(void)state;
	kx_err(&e, -EIO, "abc");
	kx_err(&e, -EIO, "%s, %s", e.msg, e.msg);
	assert_string_equal(e.msg, "abc, abc");
	kx_err_wrap(&e, -EIO, "[%s]", e.msg);
	assert_string_equal(e.msg, "[abc, abc]: abc, abc");
}

static void test_truncation(void **state)
{
	char longer[3 * KX_ERR_MAX];
	struct kx_error e;
	char why[16];

	(void)state;
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';

	/* A message longer than the struct is cut, NUL-terminated. */
	kx_err(&e, -E2BIG, "%s", longer);
	assert_int_equal(strlen(e.msg), KX_ERR_MAX - 1);

	/* Wrapping a full message keeps the context and cuts the tail. */
	kx_err_wrap(&e, -E2BIG, "ctx");
	assert_int_equal(strlen(e.msg), KX_ERR_MAX - 1);
	assert_memory_equal(e.msg, "ctx: aaa", 8);

	/* A context longer than the struct fills it alone. */
	memset(longer, 'b', sizeof(longer) - 1);
	kx_err(&e, -E2BIG, "tail");
	kx_err_wrap(&e, -E2BIG, "%s", longer);
	assert_int_equal(strlen(e.msg), KX_ERR_MAX - 1);
	assert_int_equal(e.msg[KX_ERR_MAX - 2], 'b');

	/* One byte short of full: the separator is cut, not written past. */
	longer[KX_ERR_MAX - 2] = '\0';
	kx_err(&e, -E2BIG, "tail");
	kx_err_wrap(&e, -E2BIG, "%s", longer);
	assert_int_equal(strlen(e.msg), KX_ERR_MAX - 1);
	assert_int_equal(e.msg[KX_ERR_MAX - 2], ':');

	/* kx_bad_msg cuts at the caller's size. */
	assert_int_equal(kx_bad_msg(why, sizeof(why), "%s", "a reason longer than sixteen"),
			 -EBADMSG);
	assert_string_equal(why, "a reason longer");
}

static void test_fd_sealed(void **state)
{
	const unsigned all = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW;
	int fd = memfd_create("kx-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int pipefd[2];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	assert_false(kx_fd_sealed(fd, all));
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	assert_true(kx_fd_sealed(fd, F_SEAL_SHRINK | F_SEAL_GROW));
	assert_false(kx_fd_sealed(fd, all));
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0);
	assert_true(kx_fd_sealed(fd, all));
	close(fd);

	/* Not a memfd, and not a descriptor at all. */
	assert_int_equal(pipe(pipefd), 0);
	assert_false(kx_fd_sealed(pipefd[0], F_SEAL_SHRINK));
	close(pipefd[0]);
	close(pipefd[1]);
	assert_false(kx_fd_sealed(-1, F_SEAL_SHRINK));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_sets_and_returns),
		cmocka_unit_test(test_err_null),
		cmocka_unit_test(test_wrap_prefixes),
		cmocka_unit_test(test_wrap_empty),
		cmocka_unit_test(test_own_message),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_fd_sealed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
