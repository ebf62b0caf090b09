/*
 * Admin signatures of compiled policies: a kxsig detached signature of the
 * first KXP_SIGNED_BYTES bytes of the file (magic, version, flags with
 * KXP_FLAG_SIGNED, sizes, body digest, admin key id); the body digest binds
 * the tables.  Only `kxpolicy compile -s` links this (libkxsig_sign.a); the
 * manager verifies through kxp_open().  kxsig_sign_detached() verifies the
 * new signature with the key's public half before it returns, and the
 * compiler re-opens the result with that key before writing anything.
 */
#include <errno.h>
#include <string.h>

#include "policy-lang/back.h"

int kxp_sign(uint8_t *buf, size_t len, const struct kxsig_seckey *key, struct kx_error *err)
{
	struct kxp_abi_header h;
	int rc;

	if (len < sizeof(h))
		return kx_err(err, -EINVAL, "not a compiled policy");
	memcpy(&h, buf, sizeof(h));
	h.flags |= KXP_FLAG_SIGNED;
	kxsig_seckey_keyid(key, h.admin_keyid);
	memset(h.signature, 0, sizeof(h.signature));
	rc = kxsig_sign_detached(key, &h, KXP_SIGNED_BYTES, h.signature, err);
	if (rc != 0)
		return kx_err_wrap(err, -EIO, "signing failed");
	memcpy(buf, &h, sizeof(h));
	return 0;
}
