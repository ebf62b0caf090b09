/*
 * back.h — internal to policy-lang's back end: the validated table view that
 * kxp_open() builds, and the tools on top of it (writer, signer, dump, diff,
 * graph, explain's attribute parser, file helpers).  The manager never
 * includes this; it uses kxpolicy.h.
 */
#ifndef KX_POLICY_BACK_H
#define KX_POLICY_BACK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "policy-lang/kxp_abi.h"
#include "policy-lang/kxpolicy.h"
#include "policy-lang/model.h"

/* An open policy: a private, aligned copy of the file and typed views of its
 * tables, every one of them validated by kxp_open(). */
struct kxp_policy {
	uint8_t *buf;
	size_t len;
	const char *strings;
	uint32_t strings_size;
	const struct kxp_abi_prov *prov;
	uint32_t nprov;
	const struct kxp_abi_app *apps;
	uint32_t napps;
	const struct kxp_abi_key *keys;
	uint32_t nkeys;
	const struct kxp_abi_lib *libs;
	uint32_t nlibs;
	const uint32_t *lib_signers;
	uint32_t nlib_signers;
	const struct kxp_abi_interval *intervals;
	uint32_t nintervals;
	const struct kxp_abi_fork *fork;       /* napps entries */
	const struct kxp_abi_recycle *recycle; /* napps entries */
	const struct kxp_abi_trust *trust;
	uint32_t ntrust;
	const uint8_t *ipc; /* napps * napps */
	const struct kxp_abi_revoked_key *revoked_keys;
	uint32_t nrevoked_keys;
	const struct kxp_abi_revoked_digest *revoked_digests;
	uint32_t nrevoked_digests;
	const struct kxp_abi_resources *resources; /* napps entries */
	const struct kxp_abi_file *files;
	uint32_t nfiles;
	const struct kxp_abi_iface *ifaces;
	uint32_t nifaces;
	const struct kxp_abi_listen *listen;
	uint32_t nlisten;
	const struct kxp_abi_peer *peers;
	uint32_t npeers;
	uint64_t serial;
	struct kxp_signature_info sig;
};

static inline const char *kxp_str(const struct kxp_policy *p, uint32_t off)
{
	return p->strings + off;
}

/* ---- the reader's checks (reader.c), shared with reader_io.c ------------ */

struct kxp_check {
	struct kxp_policy *p;
	struct kx_error *err;
};
/* "table 'libs' entry 12: ..." and -EBADMSG. */
int kxp_check_bad(struct kxp_check *c, enum kxp_abi_table t, uint64_t entry, const char *fmt,
		  ...) __attribute__((format(printf, 4, 5)));
bool kxp_all_zero(const void *buf, size_t n);
/* A string reference: inside the pool, at the start of a string. */
int kxp_check_str(struct kxp_check *c, enum kxp_abi_table t, uint64_t entry, const char *field,
		  uint32_t off, bool nonempty);
int kxp_check_prov(struct kxp_check *c, enum kxp_abi_table t, uint64_t entry, uint32_t prov);
/* A per-owner run must start where the previous owner's ended. */
int kxp_check_run(struct kxp_check *c, enum kxp_abi_table t, uint64_t entry, const char *field,
		  const struct kxp_abi_range *r, uint64_t *cursor, uint32_t total);
/* The resources, files and network tables of app a (reader_io.c). */
int kxp_check_app_io(struct kxp_check *c, uint32_t a, uint64_t cur[KXP_TABLE_COUNT]);

/* ---- lookups shared by decide, dump, diff and graph (lookup.c) ---------- */

/* Index of the app named name, or -1. */
int64_t kxp_app_index(const struct kxp_policy *p, const char *name);
const struct kxp_abi_lib *kxp_lib_find(const struct kxp_policy *p, uint32_t app,
				       const char *name);
const struct kxp_abi_key *kxp_key_by_id(const struct kxp_policy *p, uint32_t app,
					const uint8_t keyid[KXSIG_KEYID_BYTES]);
bool kxp_key_revoked(const struct kxp_policy *p, uint32_t app,
		     const uint8_t keyid[KXSIG_KEYID_BYTES], uint32_t *prov);
bool kxp_digest_revoked(const struct kxp_policy *p, uint32_t app,
			const uint8_t digest[KXSIG_DIGEST_BYTES], uint32_t *prov);
void kxp_version_from_abi(const struct kxp_abi_version *in, struct pm_version *out);
const struct kxp_abi_iface *kxp_iface_find(const struct kxp_policy *p, uint32_t app,
					   const char *name);
/* The plain-data rules of an interface (kxp_net.h); entry i of listen and
 * peers is entry first + i of the LISTEN and PEERS tables. */
void kxp_net_rules_of(const struct kxp_policy *p, const struct kxp_abi_iface *f,
		      struct kxp_net_rules *out);
bool kxp_lib_version_ok(const struct kxp_policy *p, const struct kxp_abi_lib *lib,
			const struct pm_version *v);
/* "[1.16, 2)", "(-inf, 3]" into buf. */
void kxp_interval_format(const struct kxp_abi_interval *iv, char *buf, size_t size);
/* "pipe,msgq" ("none" for 0) into buf (at least KXP_KINDS_TEXT_MAX). */
#define KXP_KINDS_TEXT_MAX 32
void kxp_kinds_format(uint32_t kinds, char *buf, size_t size);
extern const char *const kxp_loader_names[3];
extern const char *const kxp_bind_names[2];

/* ---- writer and signer (writer.c, sign.c) ------------------------------ */

/* Compile a checked model to .kxp bytes (unsigned); *out is malloc'd. */
int kxp_write(const struct pm_policy *policy, uint8_t **out, size_t *len, struct kx_error *err);
/* Sign compiled bytes in place with the admin key (sets flags, key id and
 * signature in the header). */
int kxp_sign(uint8_t *buf, size_t len, const struct kxsig_seckey *key, struct kx_error *err);

/* ---- auditor's tools (dump.c, diff.c, graph.c, explain.c) -------------- */

int kxp_dump(FILE *out, const struct kxp_policy *p, bool json);
/* Prints "+ fact" / "- fact" lines; *differ says whether any was printed. */
int kxp_diff(FILE *out, const struct kxp_policy *old, const struct kxp_policy *new_,
	     bool *differ, struct kx_error *err);
int kxp_graph(FILE *out, const struct kxp_policy *p);

/* A request with the defaults explain documents (fork: members 1). */
void kxp_request_init(struct kxp_request *req, enum kxp_op op);
/* Parse explain's "name=value" words (untrusted) into a request for op;
 * pointers into the words are kept, so they must outlive req.  ipc between
 * two pVMs of one app defaults to the same family unless family= is given. */
int kxp_request_parse(struct kxp_request *req, enum kxp_op op, const char *const *words, int n,
		      struct kx_error *err);
void kxp_decision_print(FILE *out, const struct kxp_request *req,
			const struct kxp_decision *d, bool json);

/* JSON string literal (quotes and escapes) — shared by dump and explain. */
void kxp_json_str(FILE *out, const char *s);

#endif /* KX_POLICY_BACK_H */
