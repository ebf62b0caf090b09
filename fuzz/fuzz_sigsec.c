/*
 * Fuzz harness for the signature-section parser: the signer's ELF walker,
 * the .kxsig decoder, region hashing and verification (libFuzzer and AFL++
 * via -fsanitize=fuzzer).  Seeds: fuzz/corpus/sigsec (a minimal signed and
 * unsigned library); hostile files: fuzz/regress/sigsec (both made by
 * tests/data/signer/mkcorpus.py).  The trusted key is the one the seeds are
 * signed with, so mutations reach the region comparison.  Every input is also
 * signed: whatever kxsig_sign_elf accepts must then verify.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signer/kxsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tests/data/signer/regress.pub */
static const char regress_pub[] =
	"untrusted comment: kx regression test key 0b34171cebeaf4d9\n"
	"RWQLNBcc6+r02QbzlbYOSfbGSgeVgGw374GZAwrg3bUUvABaSZSOKgAU\n";

/* tests/data/signer/regress.sec (an unencrypted test key) */
static const char regress_sec[] =
	"untrusted comment: kxsign secret key 0b34171cebeaf4d9 (unencrypted)\n"
	"RWROTws0Fxzr6vTZAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAs0Fxzr6vTZVIYoQu8QNjD92oz3b4DUBnrpDV2mH3Mq"
	"kgzm2+dCG6QG85W2Dkn2xkoHlYBsN++BmQMK4N21FLwAWkmUjioAFA==\n";

static const struct kxsig_sign_opts opts = {
	.name = "libfuzz", .version = "1.0", .trusted_comment = "fuzz", .timestamp = 1,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kxsig_pubkey key;
	static struct kxsig_seckey *sec;
	uint8_t *signed_elf = NULL;
	size_t signed_len = 0;
	static int ready;
	struct kxsig_region_info regions[KXSIG_MAX_REGIONS];
	struct kxsig_meta meta;
	struct kx_error err;
	uint8_t digest[KXSIG_DIGEST_BYTES];
	size_t n = 0;

	if (!ready) {
		if (kxsig_init() != 0 ||
		    kxsig_pubkey_parse(regress_pub, strlen(regress_pub), &key, &err) != 0 ||
		    kxsig_seckey_parse(regress_sec, strlen(regress_sec), NULL, &sec, &err) != 0)
			__builtin_trap();
		ready = 1;
	}
	if (kxsig_read_regions(data, size, &meta, regions, &n, &err) == 0 &&
	    n > KXSIG_MAX_REGIONS)
		__builtin_trap();
	kxsig_verify(data, size, &key, 1, &meta, &err);
	kxsig_content_digest(data, size, digest, &err);
	if (kxsig_sign_elf(sec, data, size, &opts, &signed_elf, &signed_len, &err) == 0) {
		if (kxsig_verify(signed_elf, signed_len, &key, 1, &meta, &err) != 0)
			__builtin_trap();
		free(signed_elf);
	}
	/* Every error message is a NUL-terminated string. */
	if (memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
		__builtin_trap();
	return 0;
}
