/*
 * Private to the sign half of signer/ (libkxsig_sign.a): secret keys and
 * passphrases.  The verify half never includes this.
 */
#ifndef KX_SIGNER_SIGN_INTERNAL_H
#define KX_SIGNER_SIGN_INTERNAL_H

#include "signer/internal.h"

#define KXSIG_PASSPHRASE_MAX 1024 /* bytes, including the NUL */

/* Lives in sodium_malloc memory, read-only once filled; freed (and wiped)
 * with sodium_free. */
struct kxsig_seckey {
	uint8_t keyid[KXSIG_KEYID_BYTES];
	uint8_t pk[KXSIG_PUBKEY_BYTES];
	uint8_t sk[KXSIG_ABI_SK_BYTES];
	char comment[KXSIG_COMMENT_MAX + 1];
};

/* Passphrase from $KXSIGN_PASSPHRASE_FILE or /dev/tty (twice when confirm)
 * into out (size bytes, sodium-guarded). */
int kxsig_passphrase_get(char *out, size_t size, int confirm, struct kx_error *err);

#endif /* KX_SIGNER_SIGN_INTERNAL_H */
