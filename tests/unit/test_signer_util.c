/* Unit tests for the signer's hex helpers and error classes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "signer/kxsig.h"

static void hex_round_trip(void **state)
{
	(void)state;
	const uint8_t id[KXSIG_KEYID_BYTES] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
	char hex[2 * KXSIG_KEYID_BYTES + 1];
	uint8_t back[KXSIG_KEYID_BYTES];

	kxsig_keyid_hex(id, hex);
	assert_string_equal(hex, "0123456789abcdef");
	assert_int_equal(kxsig_hex_parse("0123456789ABCDEF", back, sizeof(back)), 0);
	assert_memory_equal(back, id, sizeof(id));
}

static void hex_rejects_bad_input(void **state)
{
	(void)state;
	uint8_t b[2];

	assert_int_equal(kxsig_hex_parse("0g12", b, 2), -EINVAL);
	assert_int_equal(kxsig_hex_parse("012", b, 2), -EINVAL);   /* short */
	assert_int_equal(kxsig_hex_parse("01234", b, 2), -EINVAL); /* long */
	assert_int_equal(kxsig_hex_parse("", b, 2), -EINVAL);
}

static void error_classes(void **state)
{
	(void)state;
	assert_true(kxsig_err_is_verify(-EBADMSG));
	assert_true(kxsig_err_is_verify(-ENOKEY));
	assert_false(kxsig_err_is_verify(-ENOEXEC));
	assert_false(kxsig_err_is_verify(0));
	assert_string_equal(kxsig_err_name(-EBADMSG), "tampered");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hex_round_trip),
		cmocka_unit_test(hex_rejects_bad_input),
		cmocka_unit_test(error_classes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
