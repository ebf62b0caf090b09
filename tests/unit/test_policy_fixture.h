/*
 * A small hand-built policy model (three apps) for the back-end unit tests
 * (kvstore also has files, network and resources rules):
 * the writer, reader, decision function and auditor tools are tested on it
 * without the YAML front end.  fx_init() fills a fresh copy each time, so a
 * test may change it before compiling.
 */
#ifndef KX_TESTS_POLICY_FIXTURE_H
#define KX_TESTS_POLICY_FIXTURE_H

#include "policy-lang/back.h"

/* key ids (all 8 bytes the same value) */
#define FX_ACME 0xa1
#define FX_LIBC 0x1c
#define FX_CDN 0xcd
#define FX_OLD 0xdd    /* revoked by kvstore and webcache */
#define FX_NEXT 0x27   /* kvstore's next-libc: trusted from 2027-01-01 until 2029-01-01 */
#define FX_DIGEST 0xbd /* revoked digest of kvstore (32 bytes) */

#define FX_APPS 3
#define FX_MAX 3

struct fx {
	struct pm_policy pol;
	char *files[FX_APPS];
	struct pm_app apps[FX_APPS];
	struct pm_key keys[FX_APPS][FX_MAX];
	struct pm_library libs[FX_APPS][FX_MAX];
	size_t signers[FX_APPS][FX_MAX][2];
	struct pm_interval iv[FX_APPS][FX_MAX][3];
	struct pm_trust trust[FX_APPS][1];
	uint8_t revoked_keyids[FX_APPS][2][KXSIG_KEYID_BYTES];
	struct pm_src revoked_keyid_src[FX_APPS][2];
	uint8_t revoked_digests[FX_APPS][1][KXSIG_DIGEST_BYTES];
	struct pm_src revoked_digest_src[FX_APPS][1];
	struct pm_file_rule mounts[FX_APPS][2];
	struct pm_iface ifaces[FX_APPS][2];
	struct pm_listen listen[FX_APPS][2][2];
	struct pm_peer peers[FX_APPS][2][3];
};

void fx_init(struct fx *f);
/* A bound: "1.16" inclusive or not; NULL for unbounded. */
struct pm_bound fx_bound(const char *version, bool inclusive);
/* Compile f->pol (asserting success) and open it without a key. */
uint8_t *fx_compile(const struct fx *f, size_t *len);
struct kxp_policy *fx_open(const struct fx *f);
/* Parse "OP attr=value ..." (explain's words) into *req; returns 0 or the
 * parser's error (err says why).  *words keeps the strings req points to:
 * free() it after use. */
int fx_request(const char *text, struct kxp_request *req, char **words, struct kx_error *err);

#endif
