/*
 * The signature cache: a file is verified once, then served from the cache
 * for the same bytes and a key set holding the key that verified it; any
 * other bytes (even with the same content digest) or a key set without that
 * key are verified again.  Checked through the hit/miss counters and the
 * records' "cached" flag.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "signer/kxsig_abi.h"
#include "tests/unit/test_gate_fixture.h"

static const struct gate_subject notes_pvm = {GATE_SUBJECT_PVM, 1, "notes", 1, 0, 0};
static const struct gate_subject sync_pvm = {GATE_SUBJECT_PVM, 2, "sync", 2, 0, 0};

/* Link f into target (as its own request) and check the verdict, the
 * signature status, and whether the cache answered. */
static void link_expect(struct gx *x, const struct gate_subject *target, const char *lib,
			const struct gx_file *f, enum kxp_verdict verdict,
			enum gate_sig_status sig, bool cached)
{
	struct gate_decision d;
	struct gx_rec rec;

	assert_int_equal(gate_link(x->gate, target, target, lib, f->bytes, f->len, &d), 0);
	if (d.verdict != verdict || d.sig != sig || d.sig_cached != cached)
		fail_msg("%s: %s, signature %s, cached %d: %s", lib,
			 d.verdict == KXP_ALLOW ? "ALLOW" : "DENY", gate_sig_status_name(d.sig),
			 d.sig_cached, d.reason);
	gx_next_record(x, &rec);
	assert_int_equal(rec.sig_cached, cached);
	assert_string_equal(rec.sig, gate_sig_status_name(sig));
}

static void stats_expect(struct gx *x, uint64_t hits, uint64_t misses, size_t entries)
{
	struct gate_cache_stats s;

	gate_cache_stats(x->gate, &s);
	if (s.hits != hits || s.misses != misses || s.entries != entries)
		fail_msg("cache: %llu hits, %llu misses, %zu entries; expected %llu, %llu, %zu",
			 (unsigned long long)s.hits, (unsigned long long)s.misses, s.entries,
			 (unsigned long long)hits, (unsigned long long)misses, entries);
}

static void digest_of(const struct gx_file *f, uint8_t out[KXSIG_DIGEST_BYTES])
{
	struct kx_error err;

	assert_int_equal(kxsig_content_digest(f->bytes, f->len, out, &err), 0);
}

static void test_second_link_hits(void **state)
{
	struct gx *x = *state;
	struct gx_file f = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.5", NULL);
	struct gx_file other = gx_sign(x, GX_LIBC, GX_OTHER, "libgood", "1.5", NULL);

	stats_expect(x, 0, 0, 0);
	link_expect(x, &notes_pvm, "libgood", &f, KXP_ALLOW, GATE_SIG_OK, false);
	stats_expect(x, 0, 1, 1);
	link_expect(x, &notes_pvm, "libgood", &f, KXP_ALLOW, GATE_SIG_OK, true);
	stats_expect(x, 1, 1, 1);
	/* other bytes altogether */
	link_expect(x, &notes_pvm, "libgood", &other, KXP_ALLOW, GATE_SIG_OK, false);
	stats_expect(x, 1, 2, 2);
	link_expect(x, &notes_pvm, "libgood", &f, KXP_ALLOW, GATE_SIG_OK, true);
	stats_expect(x, 2, 2, 2);
	gx_file_free(&f);
	gx_file_free(&other);
}

/* Same build, same content digest, but other bytes (another trusted
 * comment): a file of its own, verified on its own. */
static void test_same_digest_other_bytes_misses(void **state)
{
	struct gx *x = *state;
	struct gx_file a = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.5", "first");
	struct gx_file b = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.5", "second");
	uint8_t da[KXSIG_DIGEST_BYTES], db[KXSIG_DIGEST_BYTES];

	digest_of(&a, da);
	digest_of(&b, db);
	assert_memory_equal(da, db, sizeof(da));
	assert_true(a.len != b.len || memcmp(a.bytes, b.bytes, a.len) != 0);
	link_expect(x, &notes_pvm, "libgood", &a, KXP_ALLOW, GATE_SIG_OK, false);
	link_expect(x, &notes_pvm, "libgood", &b, KXP_ALLOW, GATE_SIG_OK, false);
	stats_expect(x, 0, 2, 2);
	gx_file_free(&a);
	gx_file_free(&b);
}

/* A file whose covered regions are those of a cached one, with its
 * signature or signed metadata altered: it must not ride the cache. */
static void test_forged_signature_cannot_ride(void **state)
{
	struct gx *x = *state;
	struct gx_file good = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.5", NULL);
	const size_t forged_at[] = {
		offsetof(struct kxsig_abi_section, signature) + 1,
		offsetof(struct kxsig_abi_section, version), /* "1.5" -> "0.5" */
		offsetof(struct kxsig_abi_section, keyid),
	};
	const enum gate_sig_status expect[] = {GATE_SIG_BAD, GATE_SIG_BAD, GATE_SIG_WRONG_KEY};
	uint8_t want[KXSIG_DIGEST_BYTES], got[KXSIG_DIGEST_BYTES];

	digest_of(&good, want);
	link_expect(x, &notes_pvm, "libgood", &good, KXP_ALLOW, GATE_SIG_OK, false);
	for (size_t i = 0; i < sizeof(forged_at) / sizeof(forged_at[0]); i++) {
		struct gx_file forged = gx_copy(&good);

		gx_flip(&forged, gx_section_offset(&forged) + forged_at[i]);
		digest_of(&forged, got);
		assert_memory_equal(want, got, sizeof(want));
		link_expect(x, &notes_pvm, "libgood", &forged, KXP_DENY, expect[i], false);
		gx_file_free(&forged);
	}
	/* failures are not cached: only the good file is */
	stats_expect(x, 0, 4, 1);
	link_expect(x, &notes_pvm, "libgood", &good, KXP_ALLOW, GATE_SIG_OK, true);
	gx_file_free(&good);
}

/* An entry answers only for a key set that holds the key it was verified
 * with: sync accepts libpublic from backup-team, not from acme. */
static void test_other_key_set_misses(void **state)
{
	struct gx *x = *state;
	struct gx_file f = gx_sign(x, GX_ACME, GX_GOOD, "libpublic", "1", NULL);

	link_expect(x, &notes_pvm, "libpublic", &f, KXP_ALLOW, GATE_SIG_OK, false);
	link_expect(x, &sync_pvm, "libpublic", &f, KXP_DENY, GATE_SIG_WRONG_KEY, false);
	link_expect(x, &notes_pvm, "libpublic", &f, KXP_ALLOW, GATE_SIG_OK, true);
	stats_expect(x, 1, 2, 1);
	gx_file_free(&f);
}

/* A cached verification is not a cached decision: the policy still decides
 * each request (here: the version is out of range for libgood, and the
 * requester's loader class differs). */
static void test_policy_decides_every_time(void **state)
{
	struct gx *x = *state;
	struct gx_file f = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.5", NULL);
	const struct gate_subject sibling = {GATE_SUBJECT_PVM, 9, "notes", 1, 1, 0};
	struct gate_decision d;
	struct gx_rec rec;

	link_expect(x, &notes_pvm, "libgood", &f, KXP_ALLOW, GATE_SIG_OK, false);
	assert_int_equal(gate_link(x->gate, &sibling, &notes_pvm, "libgood", f.bytes, f.len, &d),
			 0);
	assert_int_equal(d.verdict, KXP_DENY);
	assert_true(d.sig_cached);
	gx_next_record(x, &rec);
	assert_string_equal(rec.object.relation, "app");
	gx_file_free(&f);
}

/* Bounded: the least recently used entry goes. */
static void test_eviction(void **state)
{
	struct gx *x = *state;
	const struct gate_opts opts = {.cache_entries = 2};
	struct gx_file a = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.5", NULL);
	struct gx_file b = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.6", NULL);
	struct gx_file c = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.7", NULL);
	struct gate_cache_stats s;

	gx_reopen(x, &opts);
	link_expect(x, &notes_pvm, "libgood", &a, KXP_ALLOW, GATE_SIG_OK, false);
	link_expect(x, &notes_pvm, "libgood", &b, KXP_ALLOW, GATE_SIG_OK, false);
	link_expect(x, &notes_pvm, "libgood", &a, KXP_ALLOW, GATE_SIG_OK, true);
	link_expect(x, &notes_pvm, "libgood", &c, KXP_ALLOW, GATE_SIG_OK, false); /* evicts b */
	link_expect(x, &notes_pvm, "libgood", &a, KXP_ALLOW, GATE_SIG_OK, true);
	link_expect(x, &notes_pvm, "libgood", &b, KXP_ALLOW, GATE_SIG_OK, false); /* evicts c */
	link_expect(x, &notes_pvm, "libgood", &c, KXP_ALLOW, GATE_SIG_OK, false);
	gate_cache_stats(x->gate, &s);
	assert_int_equal(s.capacity, 2);
	assert_int_equal(s.entries, 2);
	assert_int_equal(s.evictions, 3);
	assert_int_equal(s.hits, 2);
	assert_int_equal(s.misses, 5);
	gx_file_free(&a);
	gx_file_free(&b);
	gx_file_free(&c);
}

static void test_cache_size_is_bounded(void **state)
{
	struct gx *x = *state;
	const struct gate_opts opts = {.cache_entries = GATE_CACHE_MAX + 1};
	struct kx_error err;
	struct gate *g = NULL;

	assert_int_equal(gate_open(x->policy, x->log, &opts, &g, &err), -EINVAL);
	assert_null(g);
	assert_non_null(strstr(err.msg, "cache"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_second_link_hits, gx_gate_setup,
						gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_same_digest_other_bytes_misses, gx_gate_setup,
						gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_forged_signature_cannot_ride, gx_gate_setup,
						gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_other_key_set_misses, gx_gate_setup,
						gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_policy_decides_every_time, gx_gate_setup,
						gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_eviction, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_cache_size_is_bounded, gx_gate_setup,
						gx_gate_teardown),
	};

	return cmocka_run_group_tests_name("gate cache", tests, gx_setup, gx_teardown);
}
