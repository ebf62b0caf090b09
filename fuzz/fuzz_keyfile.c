/*
 * Fuzz harness for the key-file parsers: public keys, and secret keys up to
 * (not including) the Argon2id step, which a NULL passphrase stops before —
 * a memory-hard KDF per input would make fuzzing pointless.  Unencrypted
 * secret keys are parsed all the way.  Seeds: fuzz/corpus/keyfile; hostile
 * files: fuzz/regress/keyfile (tests/data/signer/mkcorpus.py).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "signer/kxsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct kxsig_pubkey pub;
	struct kxsig_seckey *sec = NULL;
	struct kx_error err;

	if (!ready) {
		if (kxsig_init() != 0)
			__builtin_trap();
		ready = 1;
	}
	if (kxsig_pubkey_parse(data, size, &pub, &err) == 0 &&
	    memchr(pub.comment, '\0', sizeof(pub.comment)) == NULL)
		__builtin_trap();
	if (kxsig_seckey_parse(data, size, NULL, &sec, &err) == 0) {
		struct kxsig_pubkey derived;
		uint8_t keyid[KXSIG_KEYID_BYTES], sig[KXSIG_SIG_BYTES];

		/* A key that parses must agree with itself and sign. */
		kxsig_seckey_keyid(sec, keyid);
		kxsig_seckey_pubkey(sec, &derived);
		if (memcmp(keyid, derived.keyid, sizeof(keyid)) != 0 ||
		    kxsig_sign_detached(sec, data, size, sig, &err) != 0)
			__builtin_trap();
		kxsig_seckey_free(sec);
	}
	return 0;
}
