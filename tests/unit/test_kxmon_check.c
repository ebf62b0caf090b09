/*
 * kxmon's check of the messages kxd sends it (chan_check_from_kxd), over the
 * seeds of fuzz/corpus/kxmon/ (written by fuzz/gen/kxmon.py): a seed named
 * bad-* must be refused and every other one accepted; and every accepted
 * message must be refused once truncated, grown, or given one fd more or
 * less — so the corpus' names are the expectations, checked here.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "manager/chan/chan.h"

#define CORPUS "fuzz/corpus/kxmon/"

struct seed {
	uint8_t buf[sizeof(struct kxmon_msg) + 1];
	size_t len;
	int nfds;
	uint64_t expect_seq;
	const char *name;
};

/* The harness's input layout (fuzz/fuzz_kxmon.c). */
static void load(const char *file, struct seed *s)
{
	char path[512];
	uint8_t raw[sizeof(struct kxmon_msg) + 2];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), CORPUS "%s", file);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(raw, 1, sizeof(raw), f);
	fclose(f);
	assert_true(n >= 1 && n - 1 <= sizeof(s->buf));
	memset(s, 0, sizeof(*s));
	s->len = n - 1;
	memcpy(s->buf, raw + 1, s->len);
	s->nfds = raw[0] & 3;
	s->name = (raw[0] & 8) ? "libkvmath.so" : NULL;
	if ((raw[0] & 4) && s->len >= 16) {
		memcpy(&s->expect_seq, s->buf + 8, sizeof(s->expect_seq));
		if (s->expect_seq == 0)
			s->expect_seq = 1;
	}
}

static int check(const struct seed *s, size_t len, int nfds)
{
	char why[128] = "";
	int rc = chan_check_from_kxd(s->buf, len, nfds, s->expect_seq, s->name, why, sizeof(why));

	if (rc != 0) {
		assert_int_equal(rc, -EBADMSG);
		assert_true(why[0] != '\0');
	}
	return rc;
}

static void test_corpus_names_are_verdicts(void **state)
{
	DIR *dir = opendir(CORPUS);
	struct dirent *e;
	unsigned good = 0, bad = 0;

	(void)state;
	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL) {
		struct seed s;
		int is_bad = strncmp(e->d_name, "bad-", 4) == 0;

		if (e->d_name[0] == '.')
			continue;
		load(e->d_name, &s);
		if ((check(&s, s.len, s.nfds) != 0) != is_bad)
			fail_msg("%s: %s", e->d_name, is_bad ? "accepted" : "refused");
		if (is_bad) {
			bad++;
			continue;
		}
		good++;
		/* What passed must not pass in any other shape. */
		if (check(&s, s.len - 1, s.nfds) == 0 || check(&s, s.len + 1, s.nfds) == 0)
			fail_msg("%s: accepted at the wrong length", e->d_name);
		if (check(&s, s.len, s.nfds + 1) == 0 ||
		    (s.nfds > 0 && check(&s, s.len, s.nfds - 1) == 0))
			fail_msg("%s: accepted with the wrong fd count", e->d_name);
	}
	closedir(dir);
	/* One valid message per type kxmon receives, and their refusals. */
	assert_true(good >= 13);
	assert_true(bad >= 10);
}

/* An answer is accepted only for the request in flight. */
static void test_answers_need_their_request(void **state)
{
	static const char *const answers[] = {"link-resp-allow", "fork-resp-allow", "wait-resp",
					      "kill-resp", "ipc-resp-map", "self-resp"};

	(void)state;
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		struct seed s;

		load(answers[i], &s);
		assert_int_equal(check(&s, s.len, s.nfds), 0);
		s.expect_seq++;
		if (check(&s, s.len, s.nfds) == 0)
			fail_msg("%s: accepted for another request", answers[i]);
		s.expect_seq = 0;
		if (check(&s, s.len, s.nfds) == 0)
			fail_msg("%s: accepted with no request in flight", answers[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_names_are_verdicts),
		cmocka_unit_test(test_answers_need_their_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
