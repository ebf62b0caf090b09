/*
 * The gate's ops against the test policy (tests/data/gate/, the manifest templates
 * compiled by the kxpolicy just built), table-driven.  Every case checks the
 * decision AND the audit record it left, read back with the gate's reader:
 * one more line, same verdict, stage, reason and rule (file and line looked
 * up in the manifest), and the object as the gate proved it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "signer/kxsig_abi.h"
#include "tests/unit/test_gate_fixture.h"

/* What a case expects.  rule_file NULL: no rule; else the rule must be on
 * the line of rule_file holding rule_at. */
struct expect {
	enum kxp_verdict verdict;
	enum gate_stage stage;
	const char *reason; /* a substring of the reason */
	const char *rule_file, *rule_at;
};

#define ALLOW(reason, file, at) {KXP_ALLOW, GATE_STAGE_POLICY, reason, file, at}
#define DENY(stage, reason, file, at) {KXP_DENY, GATE_STAGE_##stage, reason, file, at}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

/* The decision, then its record. */
static void check(struct gx *x, const char *what, int rc, const struct gate_decision *d,
		  const struct expect *e, struct gx_rec *rec)
{
	char where[64];

	if (rc != 0 || d->verdict != e->verdict || d->stage != e->stage ||
	    strstr(d->reason, e->reason) == NULL)
		fail_msg("%s: rc %d, %s at stage %s: %s (expected %s at %s: ...%s...)", what, rc,
			 d->verdict == KXP_ALLOW ? "ALLOW" : "DENY", gate_stage_name(d->stage),
			 d->reason, e->verdict == KXP_ALLOW ? "ALLOW" : "DENY",
			 gate_stage_name(e->stage), e->reason);
	gx_next_record(x, rec);
	assert_int_equal(rec->seq, d->seq);
	assert_int_equal(rec->allowed, d->verdict == KXP_ALLOW);
	assert_string_equal(rec->stage, gate_stage_name(e->stage));
	assert_string_equal(rec->reason, d->reason);
	assert_int_equal(rec->has_rule, e->rule_file != NULL);
	assert_int_equal(d->has_rule, e->rule_file != NULL);
	assert_non_null(strstr(rec->human, d->verdict == KXP_ALLOW ? " ALLOW " : " DENY "));
	if (e->rule_file == NULL)
		return;
	if (!ends_with(rec->rule_file, e->rule_file) ||
	    rec->rule_line != gx_manifest_line(x, e->rule_file, e->rule_at))
		fail_msg("%s: rule %s:%u, expected %s at the line of '%s'", what, rec->rule_file,
			 rec->rule_line, e->rule_file, e->rule_at);
	assert_int_equal(rec->rule_line, d->rule.line);
	assert_string_equal(rec->rule_desc, d->rule.desc);
	snprintf(where, sizeof(where), "%s:%u", e->rule_file, rec->rule_line);
	assert_non_null(strstr(rec->human, where));
}

/* ---- link ------------------------------------------------------------------------- */

enum who { SELF, SIBLING, STRANGER, OPERATOR, EMPTY };

static struct gate_subject requester_of(enum who who)
{
	switch (who) {
	case SELF: return gx_pvm(1, "notes", 1, 0);
	case SIBLING: return gx_pvm(2, "notes", 1, 1);
	case STRANGER: return gx_pvm(10, "sync", 10, 0);
	case EMPTY: return gx_pvm(20, NULL, 20, 0);
	case OPERATOR: break;
	}
	return gx_operator(1000);
}

enum mutation { INTACT, UNSIGNED, TAMPER, BADSIG, TRUNCATE };

struct file_spec {
	enum gx_key key;
	enum gx_build build;
	const char *name, *version;
	enum mutation mutation;
};

static struct gx_file make_file(const struct gx *x, const struct file_spec *s)
{
	struct gx_file f;

	if (s->mutation == UNSIGNED)
		return gx_copy(&x->build[s->build]);
	f = gx_sign(x, s->key, s->build, s->name, s->version, NULL);
	if (s->mutation == TAMPER)
		gx_flip(&f, gx_load_offset(&f));
	else if (s->mutation == BADSIG)
		gx_flip(&f, gx_section_offset(&f) +
				    offsetof(struct kxsig_abi_section, signature) + 7);
	else if (s->mutation == TRUNCATE)
		f.len /= 2;
	return f;
}

static const struct {
	const char *what;
	struct file_spec file;
	const char *requested;
	enum who requester;
	enum gate_sig_status sig;
	struct expect e;
} link_cases[] = {
	{"self links libgood 1.5", {GX_LIBC, GX_GOOD, "libgood", "1.5", INTACT}, "libgood", SELF,
	 GATE_SIG_OK, ALLOW("is signed by a key it accepts", "notes.yaml", "- name: libgood")},
	{"by its soname", {GX_LIBC, GX_GOOD, "libgood", "1.2", INTACT}, "libgood.so.1.2", SELF,
	 GATE_SIG_OK, ALLOW("loader 'self'", "notes.yaml", "- name: libgood")},
	{"a sibling may not link a self library", {GX_LIBC, GX_GOOD, "libgood", "1.5", INTACT},
	 "libgood", SIBLING, GATE_SIG_OK,
	 DENY(POLICY, "relation 'app' may not link library libgood", "notes.yaml",
	      "- name: libgood")},
	{"a sibling may link an app library", {GX_ACME, GX_OTHER, "libshared", "7", INTACT},
	 "libshared.so", SIBLING, GATE_SIG_OK,
	 ALLOW("loader 'app' is within class 'app'", "notes.yaml", "- name: libshared")},
	{"another app may not link an app library", {GX_LIBC, GX_OTHER, "libshared", "7", INTACT},
	 "libshared", STRANGER, GATE_SIG_OK,
	 DENY(POLICY, "relation 'any' may not link", "notes.yaml", "- name: libshared")},
	{"an operator is a stranger", {GX_LIBC, GX_OTHER, "libshared", "7", INTACT}, "libshared",
	 OPERATOR, GATE_SIG_OK,
	 DENY(POLICY, "relation 'any' may not link", "notes.yaml", "- name: libshared")},
	{"another app may link an any library", {GX_ACME, GX_GOOD, "libpublic", "3", INTACT},
	 "libpublic", STRANGER, GATE_SIG_OK,
	 ALLOW("within class 'any'", "notes.yaml", "- name: libpublic")},
	{"an empty pVM links into another", {GX_ACME, GX_GOOD, "libpublic", "3", INTACT},
	 "libpublic", EMPTY, GATE_SIG_OK,
	 ALLOW("loader 'any'", "notes.yaml", "- name: libpublic")},
	{"version above the range", {GX_LIBC, GX_GOOD, "libgood", "2.0", INTACT}, "libgood", SELF,
	 GATE_SIG_OK, DENY(POLICY, "is outside '>= 1.2 && < 2'", "notes.yaml", "- name: libgood")},
	{"version below the range", {GX_LIBC, GX_GOOD, "libgood", "1.1.9", INTACT}, "libgood",
	 SELF, GATE_SIG_OK, DENY(POLICY, "is outside", "notes.yaml", "- name: libgood")},
	{"revoked digest", {GX_LIBC, GX_REVOKED, "libgood", "1.5", INTACT}, "libgood", SELF,
	 GATE_SIG_OK, DENY(POLICY, "which app notes revokes", "notes.yaml", "digests: [")},
	{"unsigned", {GX_LIBC, GX_GOOD, NULL, NULL, UNSIGNED}, "libgood", SELF, GATE_SIG_UNSIGNED,
	 DENY(SIGNATURE, "signature unsigned: not signed", NULL, NULL)},
	{"tampered", {GX_LIBC, GX_GOOD, "libgood", "1.5", TAMPER}, "libgood", SELF,
	 GATE_SIG_TAMPERED, DENY(SIGNATURE, "signature tampered: PT_LOAD", "notes.yaml",
				 "- name: libgood")},
	{"signature bytes altered", {GX_LIBC, GX_GOOD, "libgood", "1.5", BADSIG}, "libgood", SELF,
	 GATE_SIG_BAD, DENY(SIGNATURE, "signature bad-signature: ", "notes.yaml",
			    "- name: libgood")},
	{"truncated file", {GX_LIBC, GX_GOOD, "libgood", "1.5", TRUNCATE}, "libgood", SELF,
	 GATE_SIG_MALFORMED, DENY(SIGNATURE, "signature malformed: ", NULL, NULL)},
	{"a key nobody trusts", {GX_STRANGER, GX_GOOD, "libgood", "1.5", INTACT}, "libgood", SELF,
	 GATE_SIG_WRONG_KEY, DENY(SIGNATURE, "which app notes does not trust (signature: signed "
				  "by key", "notes.yaml", "- name: libgood")},
	{"a revoked key", {GX_OLD, GX_GOOD, "libgood", "1.5", INTACT}, "libgood", SELF,
	 GATE_SIG_WRONG_KEY, DENY(SIGNATURE, "which app notes revokes", "notes.yaml",
				  "keys: [f297d45960afa4ff]")},
	{"a trusted key not in signed-by", {GX_ACME, GX_GOOD, "libgood", "1.5", INTACT}, "libgood",
	 SELF, GATE_SIG_WRONG_KEY, DENY(SIGNATURE, "not for library libgood (signed-by)",
					"notes.yaml", "- name: libgood")},
	{"signed as libgood, asked as libshared", {GX_LIBC, GX_GOOD, "libgood", "1.5", INTACT},
	 "libshared", SELF, GATE_SIG_OK,
	 DENY(METADATA, "signed as library 'libgood', not 'libshared'", NULL, NULL)},
	{"a signed version the policy cannot compare", {GX_LIBC, GX_GOOD, "libgood", "1.5-rc1",
							 INTACT}, "libgood", SELF, GATE_SIG_OK,
	 DENY(METADATA, "signed version '1.5-rc1' is not a version", NULL, NULL)},
	{"a library without a rule", {GX_LIBC, GX_GOOD, "libnone", "1", INTACT}, "libnone", SELF,
	 GATE_SIG_NO_KEYS, DENY(POLICY, "app notes has no rule for library libnone", "notes.yaml",
				"kx-manifest: 1")},
	{"an unsigned library without a rule", {GX_LIBC, GX_GOOD, NULL, NULL, UNSIGNED},
	 "libnone", SELF, GATE_SIG_NO_KEYS,
	 DENY(SIGNATURE, "app notes has no key for library libnone", NULL, NULL)},
	{"a path is not a name", {GX_LIBC, GX_GOOD, "libgood", "1.5", INTACT}, "../lib/libgood",
	 SELF, GATE_SIG_NONE, DENY(REQUEST, "is not a library name", NULL, NULL)},
	{"a suffix that is not a soname is part of the name", {GX_LIBC, GX_GOOD, "libgood",
								  "1.5", INTACT},
	 "libgood.so.x", SELF, GATE_SIG_NO_KEYS,
	 DENY(POLICY, "no rule for library libgood.so.x", "notes.yaml", "kx-manifest: 1")},
};

static void test_link(void **state)
{
	struct gx *x = *state;
	const struct gate_subject target = gx_pvm(1, "notes", 1, 0);
	struct gx_rec rec;

	for (size_t i = 0; i < sizeof(link_cases) / sizeof(link_cases[0]); i++) {
		const struct gate_subject req = requester_of(link_cases[i].requester);
		struct gx_file f = make_file(x, &link_cases[i].file);
		struct gate_decision d;
		int rc = gate_link(x->gate, &req, &target, link_cases[i].requested, f.bytes, f.len,
				   &d);

		check(x, link_cases[i].what, rc, &d, &link_cases[i].e, &rec);
		assert_int_equal(d.sig, link_cases[i].sig);
		assert_string_equal(rec.sig, link_cases[i].sig == GATE_SIG_NONE
					? "" : gate_sig_status_name(link_cases[i].sig));
		assert_string_equal(rec.op, "link");
		assert_string_equal(rec.object.requested, link_cases[i].requested);
		assert_int_equal(d.has_meta, link_cases[i].sig == GATE_SIG_OK);
		/* only what the signature proved is recorded as name and version */
		assert_string_equal(rec.object.version,
				    d.has_meta ? link_cases[i].file.version : "");
		gx_file_free(&f);
	}
}

/* One allowed link, field by field. */
static void test_link_record(void **state)
{
	struct gx *x = *state;
	const struct gate_subject self = gx_pvm(7, "notes", 3, 1);
	struct gx_file f = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.16.2", "from the test");
	char id[2 * KXSIG_KEYID_BYTES + 1], digest[2 * KXSIG_DIGEST_BYTES + 1];
	const struct expect e = ALLOW("libgood 1.16.2", "notes.yaml", "- name: libgood");
	struct gate_decision d;
	struct gx_rec rec;

	check(x, "link", gate_link(x->gate, &self, &self, "libgood.so", f.bytes, f.len, &d), &d,
	      &e, &rec);
	gx_keyid_hex(x, GX_LIBC, id);
	kxsig_digest_hex(d.meta.digest, digest);
	assert_int_equal(rec.seq, 2); /* after the open record */
	assert_string_equal(rec.subject.kind, "pvm");
	assert_int_equal(rec.subject.pvm, 7);
	assert_string_equal(rec.subject.app, "notes");
	assert_int_equal(rec.subject.depth, 1);
	assert_true(rec.object.has_pvm);
	assert_int_equal(rec.object.pvm, 7);
	assert_string_equal(rec.object.app, "notes");
	assert_string_equal(rec.object.lib, "libgood");
	assert_string_equal(rec.object.requested, "libgood.so");
	assert_string_equal(rec.object.name, "libgood");
	assert_string_equal(rec.object.version, "1.16.2");
	assert_string_equal(rec.object.signer, id);
	assert_string_equal(rec.object.digest, digest);
	assert_string_equal(rec.object.relation, "self");
	assert_string_equal(rec.sig, "ok");
	assert_false(rec.sig_cached);
	assert_string_equal(rec.rule_desc, "library libgood of app notes");
	assert_int_equal(rec.rule_col, 5);
	assert_non_null(strstr(rec.human, " link    pvm 7 (notes) -> pvm 7 (notes) lib libgood "
				      "1.16.2 ALLOW "));
	/* the digest is the content digest: what revocation lists name */
	{
		uint8_t content[KXSIG_DIGEST_BYTES];
		struct kx_error err;

		assert_int_equal(kxsig_content_digest(f.bytes, f.len, content, &err), 0);
		assert_memory_equal(content, d.meta.digest, sizeof(content));
	}
	gx_file_free(&f);
}

/* ---- update ------------------------------------------------------------------------- */

static const struct {
	const char *what, *lib, *old_version, *new_version;
	enum gx_key key;
	struct expect e;
} update_cases[] = {
	{"a newer libgood", "libgood", "1.5", "1.7", GX_LIBC,
	 ALLOW("update allowed, not a downgrade", "notes.yaml", "- name: libgood")},
	{"the same version again", "libgood", "1.5", "1.5", GX_LIBC,
	 ALLOW("not a downgrade", "notes.yaml", "- name: libgood")},
	{"an older libgood (anti-rollback)", "libgood", "1.7", "1.5", GX_LIBC,
	 DENY(POLICY, "anti-rollback: version 1.5 of library libgood is older than the running 1.7",
	      "notes.yaml", "- name: libgood")},
	{"an older libshared (rollback allowed)", "libshared", "3", "2.1", GX_ACME,
	 ALLOW("downgrade allowed", "notes.yaml", "- name: libshared")},
	{"libfixed is never updated", "libfixed", "1.1", "1.2", GX_LIBC,
	 DENY(POLICY, "may not be updated online", "notes.yaml", "- name: libfixed")},
	{"a newer version out of range", "libgood", "1.5", "2.1", GX_LIBC,
	 DENY(POLICY, "is outside", "notes.yaml", "- name: libgood")},
	{"an update signed by a stranger", "libgood", "1.5", "1.6", GX_STRANGER,
	 DENY(SIGNATURE, "does not trust", "notes.yaml", "- name: libgood")},
};

/* The operator's update (kxctl update) is judged by the update rule, not by
 * the loader class (libgood is loader: self); a pVM of another app asking
 * is still held to the loader class, and the denial says "replace". */
static const struct {
	const char *what, *lib, *old_version, *new_version;
	enum who requester;
	struct expect e;
} operator_update_cases[] = {
	{"the operator updates a self library", "libgood", "1.5", "1.7", OPERATOR,
	 ALLOW("an operator's update is allowed by update: allow (the loader class 'self' "
	       "governs links), not a downgrade", "notes.yaml", "- name: libgood")},
	{"... not to an older version", "libgood", "1.7", "1.5", OPERATOR,
	 DENY(POLICY, "anti-rollback", "notes.yaml", "- name: libgood")},
	{"... nor one with update: deny", "libfixed", "1.1", "1.2", OPERATOR,
	 DENY(POLICY, "may not be updated online (update: deny)", "notes.yaml",
	      "- name: libfixed")},
	{"a pVM of another app may not", "libgood", "1.5", "1.7", STRANGER,
	 DENY(POLICY, "a loader of relation 'any' may not replace library libgood in app notes "
	      "(loader class 'self')", "notes.yaml", "- name: libgood")},
	{"a sibling may not replace a self library", "libgood", "1.5", "1.7", SIBLING,
	 DENY(POLICY, "relation 'app' may not replace library libgood", "notes.yaml",
	      "- name: libgood")},
};

static void test_update_by_operator(void **state)
{
	struct gx *x = *state;
	const struct gate_subject target = gx_pvm(1, "notes", 1, 0);
	const size_t n = sizeof(operator_update_cases) / sizeof(operator_update_cases[0]);
	struct gx_rec rec;

	for (size_t i = 0; i < n; i++) {
		const struct gate_subject who = requester_of(operator_update_cases[i].requester);
		struct gx_file f = gx_sign(x, GX_LIBC, GX_OTHER, operator_update_cases[i].lib,
					   operator_update_cases[i].new_version, NULL);
		struct kxsig_meta old = {0};
		struct gate_decision d;

		snprintf(old.name, sizeof(old.name), "%s", operator_update_cases[i].lib);
		snprintf(old.version, sizeof(old.version), "%s",
			 operator_update_cases[i].old_version);
		check(x, operator_update_cases[i].what,
		      gate_update(x->gate, &who, &target, operator_update_cases[i].lib, &old,
				  f.bytes, f.len, &d), &d, &operator_update_cases[i].e, &rec);
		assert_string_equal(rec.op, "update");
		if (operator_update_cases[i].requester == OPERATOR)
			assert_string_equal(rec.subject.kind, "operator");
		gx_file_free(&f);
	}
}

static void test_update(void **state)
{
	struct gx *x = *state;
	const struct gate_subject self = gx_pvm(1, "notes", 1, 0);
	struct gx_rec rec;

	for (size_t i = 0; i < sizeof(update_cases) / sizeof(update_cases[0]); i++) {
		struct kxsig_meta old = {0};
		struct gx_file f = gx_sign(x, update_cases[i].key, GX_OTHER, update_cases[i].lib,
					   update_cases[i].new_version, NULL);
		struct gate_decision d;
		char digest[2 * KXSIG_DIGEST_BYTES + 1];

		snprintf(old.name, sizeof(old.name), "%s", update_cases[i].lib);
		snprintf(old.version, sizeof(old.version), "%s", update_cases[i].old_version);
		memset(old.digest, 0x5a, sizeof(old.digest));
		check(x, update_cases[i].what,
		      gate_update(x->gate, &self, &self, update_cases[i].lib, &old, f.bytes, f.len,
				  &d), &d, &update_cases[i].e, &rec);
		assert_string_equal(rec.op, "update");
		assert_string_equal(rec.object.old_version, update_cases[i].old_version);
		kxsig_digest_hex(old.digest, digest);
		assert_string_equal(rec.object.old_digest, digest);
		assert_non_null(strstr(rec.human, update_cases[i].old_version));
		gx_file_free(&f);
	}
}

/* The running copy must be the library asked for, with a version. */
static void test_update_needs_its_old_copy(void **state)
{
	struct gx *x = *state;
	const struct gate_subject self = gx_pvm(1, "notes", 1, 0);
	struct gx_file f = gx_sign(x, GX_LIBC, GX_OTHER, "libgood", "1.7", NULL);
	const struct expect e = DENY(REQUEST, "the running copy is not", NULL, NULL);
	struct kxsig_meta old = {.name = "libshared", .version = "1.5"};
	struct gate_decision d;
	struct gx_rec rec;

	check(x, "another library", gate_update(x->gate, &self, &self, "libgood", &old, f.bytes,
						f.len, &d), &d, &e, &rec);
	snprintf(old.name, sizeof(old.name), "libgood");
	snprintf(old.version, sizeof(old.version), "one");
	check(x, "no version", gate_update(x->gate, &self, &self, "libgood", &old, f.bytes, f.len,
					   &d), &d, &e, &rec);
	check(x, "no old copy", gate_update(x->gate, &self, &self, "libgood", NULL, f.bytes, f.len,
					    &d), &d, &e, &rec);
	gx_file_free(&f);
}

/* ---- key rotation: keys trusted from/until a date, on the gate's clock ------------- */

static time_t fake_now;
static int fake_clock(struct timespec *now)
{
	now->tv_sec = fake_now;
	now->tv_nsec = 0;
	return 0;
}

/* notes trusts libc-team from 2020-01-01 and acme until 2100-01-01
 * (tests/data/gate/notes.yaml.in); the gate checks them at its clock, which
 * a test injects through gate_opts.clock (kxd never sets it). */
static void test_key_validity(void **state)
{
	struct gx *x = *state;
	const struct gate_opts opts = {.clock = fake_clock};
	const struct gate_subject self = gx_pvm(1, "notes", 1, 0);
	struct gx_file good = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.5", NULL);
	struct gx_file image = gx_sign(x, GX_ACME, GX_IMAGE, "notes", "1.0", NULL);
	const struct expect before = DENY(POLICY, "which app notes trusts only from 2020-01-01 "
					  "(now 2019-12-31T23:59:59Z)", "notes.yaml", "libc-team:");
	const struct expect expired = DENY(POLICY, "the image is signed by key", "notes.yaml",
					   "acme:");
	const struct expect link_ok = ALLOW("(libc-team)", "notes.yaml", "- name: libgood");
	const struct expect boot_ok = ALLOW("(acme)", "notes.yaml", "acme:");
	struct gate_decision d;
	struct gx_rec rec;

	gx_reopen(x, &opts);
	fake_now = 1577836799; /* 2019-12-31T23:59:59Z: libc-team not yet */
	check(x, "before from", gate_link(x->gate, &self, &self, "libgood", good.bytes, good.len,
					  &d), &d, &before, &rec);
	assert_string_equal(rec.sig, "ok"); /* the signature verified: the key is out of date */
	fake_now = 1577836800; /* 2020-01-01T00:00:00Z: from is inclusive */
	check(x, "at from", gate_link(x->gate, &self, &self, "libgood", good.bytes, good.len, &d),
	      &d, &link_ok, &rec);
	fake_now = 4102444799; /* 2099-12-31T23:59:59Z: acme still trusted */
	check(x, "before until", gate_boot(x->gate, &self, "notes", image.bytes, image.len, &d),
	      &d, &boot_ok, &rec);
	fake_now = 4102444800; /* 2100-01-01: until is exclusive */
	check(x, "at until", gate_boot(x->gate, &self, "notes", image.bytes, image.len, &d), &d,
	      &expired, &rec);
	assert_non_null(strstr(d.reason, "which app notes trusted until 2100-01-01 (now "
				       "2100-01-01): re-sign it with a current key (kxsign resign)"));
	gx_file_free(&good);
	gx_file_free(&image);
}

/* ---- boot and recycle ------------------------------------------------------------ */

static const struct {
	const char *what, *app, *signed_as;
	enum gx_key key;
	bool unsigned_image;
	enum gate_sig_status sig;
	struct expect e;
} boot_cases[] = {
	{"notes, signed by acme", "notes", "notes", GX_ACME, false, GATE_SIG_OK,
	 ALLOW("signed by trusted key", "notes.yaml", "  acme: ")},
	{"sync, signed by backup-team", "sync", "sync", GX_BACKUP, false, GATE_SIG_OK,
	 ALLOW("signed by trusted key", "sync.yaml", "backup-team: ")},
	{"sync's image booted as notes", "notes", "sync", GX_ACME, false, GATE_SIG_OK,
	 DENY(METADATA, "the image is signed as 'sync', not as app 'notes'", NULL, NULL)},
	{"an app not in the policy", "ghost", "ghost", GX_ACME, false, GATE_SIG_NO_KEYS,
	 DENY(POLICY, "app 'ghost' is not in the policy", NULL, NULL)},
	{"an unsigned image", "notes", NULL, GX_ACME, true, GATE_SIG_UNSIGNED,
	 DENY(SIGNATURE, "signature unsigned: ", "notes.yaml", "kx-manifest: 1")},
	{"an image signed by a revoked key", "notes", "notes", GX_OLD, false, GATE_SIG_WRONG_KEY,
	 DENY(SIGNATURE, "which app notes revokes", "notes.yaml", "keys: [f297d45960afa4ff]")},
	{"an image signed by another app's key", "sync", "sync", GX_ACME, false,
	 GATE_SIG_WRONG_KEY, DENY(SIGNATURE, "which app sync does not trust", "sync.yaml",
				  "kx-manifest: 1")},
};

static void test_boot(void **state)
{
	struct gx *x = *state;
	const struct gate_subject op = gx_operator(1000);
	struct gx_rec rec;

	for (size_t i = 0; i < sizeof(boot_cases) / sizeof(boot_cases[0]); i++) {
		struct gx_file f = boot_cases[i].unsigned_image
			? gx_copy(&x->build[GX_IMAGE])
			: gx_sign(x, boot_cases[i].key, GX_IMAGE, boot_cases[i].signed_as, "1.0",
				  NULL);
		struct gate_decision d;

		check(x, boot_cases[i].what,
		      gate_boot(x->gate, &op, boot_cases[i].app, f.bytes, f.len, &d), &d,
		      &boot_cases[i].e, &rec);
		assert_int_equal(d.sig, boot_cases[i].sig);
		assert_string_equal(rec.op, "boot");
		assert_string_equal(rec.subject.kind, "operator");
		assert_int_equal(rec.subject.uid, 1000);
		assert_string_equal(rec.object.app, boot_cases[i].app);
		assert_non_null(strstr(rec.human, "operator uid 1000 -> app "));
		gx_file_free(&f);
	}
}

static void test_recycle(void **state)
{
	struct gx *x = *state;
	const struct gate_subject empty = gx_pvm(30, NULL, 30, 0), op = gx_operator(0),
				  busy = gx_pvm(31, "sync", 31, 0);
	struct gx_file notes = gx_sign(x, GX_ACME, GX_IMAGE, "notes", "2.0", NULL);
	struct gx_file sync = gx_sign(x, GX_BACKUP, GX_IMAGE, "sync", "2.0", NULL);
	struct gx_file misnamed = gx_sign(x, GX_ACME, GX_IMAGE, "sync", "2.0", NULL);
	const struct {
		const char *what;
		const struct gate_subject *loader, *empty;
		const char *app;
		const struct gx_file *image;
		struct expect e;
	} cases[] = {
		{"the empty pVM loads notes", &empty, &empty, "notes", &notes,
		 ALLOW("may be recycled (pool 1)", "notes.yaml", "recycle: {")},
		{"an operator loads it", &op, &empty, "notes", &notes,
		 DENY(POLICY, "only the empty pVM itself may load app notes", "notes.yaml",
		      "recycle: {")},
		{"sync may not be recycled", &empty, &empty, "sync", &sync,
		 DENY(POLICY, "app sync may not be recycled", "sync.yaml", "kx-manifest: 1")},
		{"an image signed as sync", &empty, &empty, "notes", &misnamed,
		 DENY(METADATA, "signed as 'sync', not as app 'notes'", NULL, NULL)},
		{"a pVM that runs an app is not empty", &busy, &busy, "notes", &notes,
		 DENY(REQUEST, "only an empty pVM can be recycled", NULL, NULL)},
	};
	struct gx_rec rec;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gate_decision d;

		int rc = gate_recycle(x->gate, cases[i].loader, cases[i].empty, cases[i].app,
				      cases[i].image->bytes, cases[i].image->len, &d);

		check(x, cases[i].what, rc, &d, &cases[i].e, &rec);
		assert_string_equal(rec.op, "recycle");
		assert_int_equal(rec.object.pvm, cases[i].empty->pvm_id);
	}
	gx_file_free(&notes);
	gx_file_free(&sync);
	gx_file_free(&misnamed);
}

/* ---- fork and IpC ------------------------------------------------------------------ */

static void test_fork(void **state)
{
	struct gx *x = *state;
	const struct {
		const char *what, *app;
		uint32_t depth, children, members;
		struct expect e;
	} cases[] = {
		{"a root's first child", "notes", 0, 0, 1,
		 ALLOW("1/2 children, depth 1/1, 2/3 members", "notes.yaml", "fork: {")},
		{"a third child", "notes", 0, 2, 3,
		 DENY(POLICY, "already has 2 children; max-children is 2", "notes.yaml",
		      "fork: {")},
		{"a grandchild", "notes", 1, 0, 2,
		 DENY(POLICY, "depth 2; max-depth is 1", "notes.yaml", "fork: {")},
		{"a fourth member", "notes", 0, 1, 3,
		 DENY(POLICY, "already has 3 members", "notes.yaml", "fork: {")},
		{"sync never forks", "sync", 0, 0, 1,
		 DENY(POLICY, "max-children is 0", "sync.yaml", "kx-manifest: 1")},
	};
	struct gx_rec rec;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct gate_subject parent = gx_pvm(5, cases[i].app, 4, cases[i].depth);
		const struct gate_family_counts counts = {cases[i].children, cases[i].members};
		struct gate_decision d;

		check(x, cases[i].what, gate_fork(x->gate, &parent, &counts, &d), &d, &cases[i].e,
		      &rec);
		assert_string_equal(rec.op, "fork");
		assert_int_equal(rec.subject.depth, cases[i].depth);
		assert_int_equal(rec.object.children, cases[i].children);
		assert_int_equal(rec.object.members, cases[i].members);
		assert_string_equal(rec.sig, "");
	}
}

static void test_ipc(void **state)
{
	struct gx *x = *state;
	const struct gate_subject a = gx_pvm(1, "notes", 1, 0), b = gx_pvm(2, "notes", 1, 1),
				  other_family = gx_pvm(3, "notes", 3, 0),
				  s = gx_pvm(10, "sync", 10, 0), liar = gx_pvm(11, "sync", 1, 0);
	const struct {
		const char *what;
		const struct gate_subject *a, *b;
		uint32_t kind;
		struct expect e;
	} cases[] = {
		{"pipe in the family", &a, &b, KXP_IPC_PIPE,
		 ALLOW("pipe inside a family of app notes is allowed", "notes.yaml", "ipc: [pipe")},
		{"shm in the family", &a, &b, KXP_IPC_SHM,
		 DENY(POLICY, "shm inside a family of app notes is not allowed", "notes.yaml",
		      "ipc: [pipe")},
		{"shm with sync (mutual trust)", &a, &s, KXP_IPC_SHM,
		 ALLOW("allowed by mutual trust", "notes.yaml", "- app: sync")},
		{"a pipe to sync", &a, &s, KXP_IPC_PIPE,
		 DENY(POLICY, "covers shm, not pipe", "notes.yaml", "- app: sync")},
		{"another family of the same app", &a, &other_family, KXP_IPC_PIPE,
		 DENY(POLICY, "do not trust each other across families", "notes.yaml",
		      "kx-manifest: 1")},
		{"one family, two apps", &a, &liar, KXP_IPC_PIPE,
		 DENY(REQUEST, "cannot be in the family", NULL, NULL)},
		{"two kinds at once", &a, &b, KXP_IPC_PIPE | KXP_IPC_MSGQ,
		 DENY(REQUEST, "exactly one kind", NULL, NULL)},
	};
	struct gx_rec rec;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gate_decision d;

		int rc = gate_ipc(x->gate, cases[i].a, cases[i].b, cases[i].kind, &d);

		check(x, cases[i].what, rc, &d, &cases[i].e, &rec);
		assert_string_equal(rec.op, "ipc");
		assert_int_equal(rec.object.pvm, cases[i].b->pvm_id);
		assert_true(rec.object.has_same_family);
		assert_int_equal(rec.object.same_family,
				 cases[i].a->family_id == cases[i].b->family_id);
	}
}

/* ---- file and net ---------------------------------------------------------------------- */

static void test_file(void **state)
{
	struct gx *x = *state;
	const struct gate_subject notes = gx_pvm(1, "notes", 1, 0),
				  sync = gx_pvm(10, "sync", 10, 0), empty = gx_pvm(20, NULL, 20, 0);
	const struct {
		const char *what;
		const struct gate_subject *pvm;
		const char *guest, *host;
		bool writable;
		struct expect e;
	} cases[] = {
		{"its writable directory", &notes, "/notes", "/srv/notes", true,
		 ALLOW("may mount host /srv/notes at /notes read-write, at most 67108864 bytes",
		       "notes.yaml", "guest: /notes")},
		{"below it, read-only", &notes, "/notes/old", "/srv/notes/old", false,
		 ALLOW("read-only (the rule allows read-write)", "notes.yaml", "guest: /notes")},
		{"the same place, another host directory", &notes, "/notes/old", "/srv/other/old",
		 false,
		 DENY(POLICY, "is host path /srv/notes/old under this rule, not /srv/other/old",
		      "notes.yaml", "guest: /notes")},
		{"a read-only directory, writable", &notes, "/shared", "/srv/shared", true,
		 DENY(POLICY, "/shared is read-only (mode: ro)", "notes.yaml", "guest: /shared")},
		{"the image's tree", &notes, "/etc/notes", NULL, false,
		 ALLOW("the image's own tree at /etc/notes, read-only", "notes.yaml",
		       "guest: /etc/notes")},
		{"the image's tree, writable", &notes, "/etc/notes", NULL, true,
		 DENY(POLICY, "/etc/notes is read-only", "notes.yaml", "guest: /etc/notes")},
		{"a host directory over the image's tree", &notes, "/etc/notes", "/etc", false,
		 DENY(POLICY, "is the image's own tree", "notes.yaml", "guest: /etc/notes")},
		{"no rule", &notes, "/home", "/home", false,
		 DENY(POLICY, "app notes has no files rule for guest path /home", "notes.yaml",
		      "kx-manifest: 1")},
		{"another app's rules", &sync, "/notes", "/srv/notes", false,
		 DENY(POLICY, "app sync has no files rule", "sync.yaml", "kx-manifest: 1")},
		{"a path that climbs out", &notes, "/notes/../etc", "/srv/notes/../etc", false,
		 DENY(REQUEST, "absolute normalised paths, no '..'", NULL, NULL)},
		{"a relative host path", &notes, "/notes", "srv/notes", false,
		 DENY(REQUEST, "absolute normalised", NULL, NULL)},
		{"an empty pVM", &empty, "/notes", "/srv/notes", false,
		 DENY(REQUEST, "file needs a pVM running an app", NULL, NULL)},
	};
	struct gx_rec rec;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gate_decision d;
		int rc = gate_file(x->gate, cases[i].pvm, cases[i].guest, cases[i].host,
				   cases[i].writable, &d);

		check(x, cases[i].what, rc, &d, &cases[i].e, &rec);
		assert_string_equal(rec.op, "file");
		assert_int_equal(d.sig, GATE_SIG_NONE);
		assert_string_equal(rec.object.guest, cases[i].guest);
		assert_string_equal(rec.object.host, cases[i].host ? cases[i].host : "");
		assert_true(rec.object.has_image);
		assert_int_equal(rec.object.image, cases[i].host == NULL);
		assert_string_equal(rec.object.mode, cases[i].writable ? "rw" : "ro");
		assert_non_null(strstr(rec.human, "mount "));
	}
}

static void test_net(void **state)
{
	struct gx *x = *state;
	const struct gate_subject notes = gx_pvm(1, "notes", 1, 0),
				  sync = gx_pvm(10, "sync", 10, 0), op = gx_operator(0);
	const struct {
		const char *what;
		const struct gate_subject *pvm;
		const char *iface;
		struct expect e;
	} cases[] = {
		{"its interface", &notes, "net0",
		 ALLOW("app notes may have interface net0, address 10.1.0.2/24 (1 listen ports, 1 "
		       "peers)", "notes.yaml", "- iface: net0")},
		{"an interface it has no rule for", &notes, "net1",
		 DENY(POLICY, "app notes has no network interface net1", "notes.yaml",
		      "kx-manifest: 1")},
		{"an app without network", &sync, "net0",
		 DENY(POLICY, "app sync has no network interface net0", "sync.yaml",
		      "kx-manifest: 1")},
		{"an operator", &op, "net0",
		 DENY(REQUEST, "net needs a pVM running an app", NULL, NULL)},
		{"no name", &notes, NULL, DENY(REQUEST, "and an interface name", NULL, NULL)},
	};
	struct gx_rec rec;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gate_decision d;
		struct kxp_net_rules rules;
		int rc;

		memset(&rules, 0xa5, sizeof(rules));
		rc = gate_net(x->gate, cases[i].pvm, cases[i].iface, &rules, &d);
		check(x, cases[i].what, rc, &d, &cases[i].e, &rec);
		assert_string_equal(rec.op, "net");
		assert_string_equal(rec.object.iface, cases[i].iface ? cases[i].iface : "");
		if (d.verdict != KXP_ALLOW) {
			/* nothing to enforce for a denied interface */
			assert_int_equal(rules.nlisten, 0);
			assert_int_equal(rules.addr, 0);
			continue;
		}
		/* what the monitor gets is what was decided on */
		assert_true(kxp_net_rules_ok(&rules));
		assert_string_equal(rules.iface, "net0");
		assert_int_equal(rules.addr, 0x0a010002);
		assert_int_equal(rules.prefix, 24);
		assert_int_equal(kxp_net_listen_match(&rules, KXP_NET_PROTO_TCP, 8080), 0);
		assert_int_equal(kxp_net_listen_match(&rules, KXP_NET_PROTO_TCP, 8081), -1);
		assert_int_equal(kxp_net_connect_match(&rules, KXP_NET_PROTO_TCP, 0x0a010063, 5432),
				 0);
		assert_int_equal(kxp_net_connect_match(&rules, KXP_NET_PROTO_TCP, 0x0a010063, 5433),
				 -1);
	}
}

/* ---- subjects the caller got wrong ------------------------------------------------- */

static void test_bad_subjects(void **state)
{
	struct gx *x = *state;
	const struct gate_subject op = gx_operator(0), empty = gx_pvm(9, NULL, 9, 0),
				  self = gx_pvm(1, "notes", 1, 0),
				  impostor = gx_pvm(1, "sync", 1, 0), junk = {.kind = 7};
	const struct gate_family_counts counts = {0, 1};
	struct gx_file f = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.5", NULL);
	const struct expect e = DENY(REQUEST, "", NULL, NULL);
	struct gate_decision d;
	struct gx_rec rec;

	check(x, "link into an operator", gate_link(x->gate, &self, &op, "libgood", f.bytes, f.len,
						     &d), &d, &e, &rec);
	check(x, "link into an empty pVM", gate_link(x->gate, &self, &empty, "libgood", f.bytes,
						      f.len, &d), &d, &e, &rec);
	check(x, "one pVM, two apps", gate_link(x->gate, &impostor, &self, "libgood", f.bytes,
						 f.len, &d), &d, &e, &rec);
	check(x, "a subject of no kind", gate_link(x->gate, &junk, &self, "libgood", f.bytes,
						    f.len, &d), &d, &e, &rec);
	assert_string_equal(rec.subject.kind, "invalid");
	check(x, "no name", gate_link(x->gate, &self, &self, NULL, f.bytes, f.len, &d), &d, &e,
	      &rec);
	check(x, "an operator forks", gate_fork(x->gate, &op, &counts, &d), &d, &e, &rec);
	check(x, "an empty pVM forks", gate_fork(x->gate, &empty, &counts, &d), &d, &e, &rec);
	check(x, "ipc with an operator", gate_ipc(x->gate, &self, &op, KXP_IPC_PIPE, &d), &d, &e,
	      &rec);
	check(x, "boot of no app", gate_boot(x->gate, &op, NULL, f.bytes, f.len, &d), &d, &e, &rec);
	check(x, "recycle of an operator", gate_recycle(x->gate, &op, &op, "notes", f.bytes, f.len,
							 &d), &d, &e, &rec);
	assert_int_equal(gate_link(NULL, &self, &self, "libgood", f.bytes, f.len, &d), -EINVAL);
	gx_file_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_link, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_link_record, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_update, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_update_by_operator, gx_gate_setup,
						gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_key_validity, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_update_needs_its_old_copy, gx_gate_setup,
						gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_boot, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_recycle, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_fork, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_ipc, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_file, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_net, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_bad_subjects, gx_gate_setup, gx_gate_teardown),
	};

	return cmocka_run_group_tests_name("gate", tests, gx_setup, gx_teardown);
}
