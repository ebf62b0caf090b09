/*
 * Shared by the gate's unit tests: the compiled test policy and files of
 * $(B)/gate-data (manager/gate/module.mk builds them from tests/data/gate/), the
 * signing keys, a fresh gate and audit log per test, and the records of that
 * log read back with the gate's own reader.
 */
#ifndef KX_TESTS_GATE_FIXTURE_H
#define KX_TESTS_GATE_FIXTURE_H

#include <limits.h>

#include "manager/gate/gate.h"

enum gx_key {
	GX_LIBC,     /* libc-team: trusted by notes */
	GX_ACME,     /* acme: trusted by notes */
	GX_OLD,      /* acme-2019: revoked by notes */
	GX_BACKUP,   /* backup-team: trusted by sync */
	GX_STRANGER, /* made by the test: trusted by nobody */
	GX_NKEYS
};

enum gx_build { GX_GOOD, GX_OTHER, GX_REVOKED, GX_IMAGE, GX_NBUILDS };

struct gx_file {
	uint8_t *bytes;
	size_t len;
};

struct gx {
	char data[PATH_MAX]; /* $(B)/gate-data */
	char tmp[PATH_MAX];  /* scratch directory, removed at the end */
	char log[PATH_MAX];  /* the current test's audit log */
	struct kxp_policy *policy;
	struct kxsig_seckey *key[GX_NKEYS];
	struct gx_file build[GX_NBUILDS];
	struct gate *gate;
	size_t nrecords; /* records read from log so far */
	unsigned tests;  /* numbers the per-test logs */
};

/* A copy of one line of a log, as the reader gave it. */
#define GX_TEXT 3200 /* a cut field of GATE_AUDIT_FIELD_MAX bytes, each maybe U+FFFD */
struct gx_rec {
	bool corrupt;
	char error[256];
	size_t lineno, line_len;
	uint64_t seq;
	bool allowed, sig_cached, has_rule;
	char time[64], op[16], stage[16], reason[GATE_REASON_MAX + 64], sig[32];
	struct {
		char kind[16], app[GX_TEXT];
		bool has_pvm;
		uint64_t pvm;
		uint32_t uid, depth;
	} subject;
	struct {
		bool has_pvm, has_same_family, same_family;
		uint64_t pvm;
		uint32_t children, members;
		char app[128], lib[128], requested[GX_TEXT], name[128], version[64],
			old_version[64], signer[32], digest[80], old_digest[80], relation[16],
			kind[16], guest[GX_TEXT], host[GX_TEXT], mode[8], iface[GX_TEXT];
		bool has_image, image;
	} object;
	char rule_file[PATH_MAX], rule_desc[256];
	uint32_t rule_line, rule_col;
	char event[16], prev[80]; /* op "audit": what the log says of itself; the chain */
	bool has_count;
	uint64_t count;
	char human[8192];
};

/* cmocka group setup and teardown: *state is the struct gx. */
int gx_setup(void **state);
int gx_teardown(void **state);
/* Per test: a fresh log and a gate over it (default options). */
int gx_gate_setup(void **state);
int gx_gate_teardown(void **state);
/* Replace x's gate by one with these options, over a fresh log (which then
 * holds the gate's "open" record: nrecords is 1). */
void gx_reopen(struct gx *x, const struct gate_opts *opts);

/* A signed copy of build b (malloc'd; free with gx_file_free). */
struct gx_file gx_sign(const struct gx *x, enum gx_key key, enum gx_build b, const char *name,
		       const char *version, const char *comment);
struct gx_file gx_copy(const struct gx_file *f);
void gx_file_free(struct gx_file *f);
/* Flip (xor 1) byte `offset` of f. */
void gx_flip(struct gx_file *f, size_t offset);
/* Offsets into a signed file: the middle of its last PT_LOAD, and its
 * signature section (struct kxsig_abi_section of signer/kxsig_abi.h). */
size_t gx_load_offset(const struct gx_file *f);
size_t gx_section_offset(const struct gx_file *f);

/* Read the log back: it must hold exactly one record more than before, and
 * no corrupt line; *rec is that record. */
void gx_next_record(struct gx *x, struct gx_rec *rec);
/* Every line of a log file (records and corrupt lines), up to max. */
size_t gx_read_log(const char *path, struct gx_rec *recs, size_t max);

/* The 1-based line of file (a name under x->data) that holds needle. */
uint32_t gx_manifest_line(const struct gx *x, const char *file, const char *needle);
/* Hex of a key's id. */
void gx_keyid_hex(const struct gx *x, enum gx_key key, char out[2 * KXSIG_KEYID_BYTES + 1]);

struct gate_subject gx_pvm(uint64_t id, const char *app, uint64_t family, uint32_t depth);
struct gate_subject gx_operator(uint32_t uid);

#endif
