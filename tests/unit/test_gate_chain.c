/*
 * The audit log's chain and seals, and a log that cannot be written.
 *
 * Chain: a log written by a real gate with a seal key verifies; then each
 * kind of tampering is made to a copy and gate_audit_verify must name it,
 * at the right line: a record edited, dropped, moved, replayed; the end cut
 * off (after a record, in the middle of one) and the beginning; records
 * edited and the chain recomputed after them (only the seal can tell); a
 * seal edited; seals checked against the wrong key.  A log rotated by
 * gate_rotate and a gate reopened on its old log keep one chain.
 *
 * Disk full: with RLIMIT_FSIZE just above the log's size, writes fail part
 * way (as on a full file system): the decision is a DENY, the file is cut
 * back at once to its last whole record, and the first record written once
 * there is room again says how many decisions were denied unlogged.  (The
 * same on a real full tmpfs, through kxd: tests/cli/kxd-audit.bats.)
 */
#define _GNU_SOURCE /* fallocate */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "tests/unit/test_gate_fixture.h"

static const struct gate_subject self = {GATE_SUBJECT_PVM, 1, "notes", 1, 0, 0};
static const struct gate_family_counts counts = {0, 1};

#define MAX_LINES 128

/* A log as lines, to be tampered with. */
struct lines {
	char *line[MAX_LINES];
	size_t n;
};

static void read_lines(const char *path, struct lines *l)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	assert_non_null(f);
	l->n = 0;
	while ((n = getline(&buf, &cap, f)) > 0) {
		assert_true(l->n < MAX_LINES);
		assert_true(buf[n - 1] == '\n');
		buf[n - 1] = '\0';
		l->line[l->n++] = strdup(buf);
	}
	free(buf);
	fclose(f);
}

static void free_lines(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->line[i]);
	l->n = 0;
}

/* The lines joined, each with its newline. */
static char *join(const struct lines *l, size_t *len)
{
	size_t total = 0, at = 0;
	char *out;

	for (size_t i = 0; i < l->n; i++)
		total += strlen(l->line[i]) + 1;
	out = malloc(total + 1);
	assert_non_null(out);
	for (size_t i = 0; i < l->n; i++) {
		size_t n = strlen(l->line[i]);

		memcpy(out + at, l->line[i], n);
		out[at + n] = '\n';
		at += n + 1;
	}
	out[at] = '\0';
	*len = total;
	return out;
}

static void drop(struct lines *l, size_t i)
{
	free(l->line[i]);
	memmove(&l->line[i], &l->line[i + 1], (l->n - i - 1) * sizeof(l->line[0]));
	l->n--;
}

/* Replace the first `from` in line i by `to`. */
static void edit(struct lines *l, size_t i, const char *from, const char *to)
{
	char *at = strstr(l->line[i], from), *out;
	size_t head;

	assert_non_null(at);
	head = (size_t)(at - l->line[i]);
	out = malloc(strlen(l->line[i]) - strlen(from) + strlen(to) + 1);
	assert_non_null(out);
	sprintf(out, "%.*s%s%s", (int)head, l->line[i], to, at + strlen(from));
	free(l->line[i]);
	l->line[i] = out;
}

/* What a forger without the key can do: recompute every "prev" from line i on. */
static void rechain(struct lines *l, size_t from)
{
	for (size_t i = from; i < l->n; i++) {
		uint8_t h[GATE_AUDIT_HASH_BYTES];
		char *p = strstr(l->line[i], "\"prev\":\"");

		assert_non_null(p);
		crypto_generichash(h, sizeof(h), (const unsigned char *)l->line[i - 1],
				   strlen(l->line[i - 1]), NULL, 0);
		for (size_t k = 0; k < sizeof(h); k++) {
			static const char hex[] = "0123456789abcdef";

			p[8 + 2 * k] = hex[h[k] >> 4];
			p[9 + 2 * k] = hex[h[k] & 15];
		}
	}
}

static struct gate_audit_stats stats_of(struct gate *g)
{
	struct gate_audit_stats st;

	gate_audit_stats(g, &st);
	return st;
}

static struct kxsig_pubkey pub(const struct gx *x, enum gx_key k)
{
	struct kxsig_pubkey p;

	kxsig_seckey_pubkey(x->key[k], &p);
	return p;
}

/* Verify files (NULL-terminated list of line sets) with acme's key. */
static void verify_sets(const struct gx *x, const struct lines *const *sets, unsigned flags,
			struct gate_verify_report *rep)
{
	struct gate_verify_file files[4];
	struct kxsig_pubkey key = pub(x, GX_ACME);
	size_t n = 0;

	for (; sets[n] != NULL; n++) {
		files[n].name = n == 0 ? "first.log" : "second.log";
		files[n].bytes = join(sets[n], &files[n].len);
	}
	assert_int_equal(gate_audit_verify(files, n, &key, 1, flags, rep), 0);
	for (size_t i = 0; i < n; i++)
		free((void *)files[i].bytes);
}

static void verify_one(const struct gx *x, const struct lines *l, unsigned flags,
		       struct gate_verify_report *rep)
{
	const struct lines *sets[] = {l, NULL};

	verify_sets(x, sets, flags, rep);
}

static void expect_problem(const struct gate_verify_report *rep, size_t line, const char *what)
{
	if (rep->ok || rep->line != line || strstr(rep->problem, what) == NULL)
		fail_msg("want a problem at line %zu with '%s', got %s '%s' at line %zu", line,
			 what, rep->ok ? "ok" : "not ok", rep->problem, rep->line);
}

/* A sealed log of 9 lines: 1 open, 2-4 forks, 5 a link, 6 a seal, 7-8
 * forks, 9 the closing seal. */
static void sealed_log(struct gx *x, struct lines *l)
{
	const struct gate_opts opts = {.seal_key = x->key[GX_ACME]};
	struct gx_file f = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.5", NULL);
	struct gate_decision d;
	struct kx_error err;

	gx_reopen(x, &opts);
	for (int i = 0; i < 3; i++)
		assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	assert_int_equal(gate_link(x->gate, &self, &self, "libgood", f.bytes, f.len, &d), 0);
	assert_int_equal(d.verdict, KXP_ALLOW);
	assert_int_equal(stats_of(x->gate).unsealed, 5);
	assert_int_equal(gate_seal(x->gate, GATE_SEAL_INTERVAL, &err), 0);
	assert_int_equal(stats_of(x->gate).unsealed, 0);
	/* nothing new: no seal */
	assert_int_equal(gate_seal(x->gate, GATE_SEAL_INTERVAL, &err), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	assert_int_equal(gate_seal(x->gate, GATE_SEAL_CLOSE, &err), 0);
	read_lines(x->log, l);
	assert_int_equal(l->n, 9);
	gx_file_free(&f);
}

static void test_intact(void **state)
{
	struct gx *x = *state;
	struct gx_rec recs[10];
	struct gate_verify_report rep;
	struct lines l;

	sealed_log(x, &l);
	verify_one(x, &l, 0, &rep);
	if (!rep.ok)
		fail_msg("%s", rep.problem);
	assert_int_equal(rep.records, 9);
	assert_int_equal(rep.seals, 2);
	assert_false(rep.continues);
	/* the reader shows the log's own records too */
	assert_int_equal(gx_read_log(x->log, recs, 10), 9);
	assert_string_equal(recs[0].event, "open");
	assert_string_equal(recs[0].prev, "0000000000000000000000000000000000000000000000000000000000000000");
	assert_string_equal(recs[5].event, "seal");
	assert_string_equal(recs[8].event, "close");
	for (int i = 0; i < 9; i++) {
		assert_false(recs[i].corrupt);
		assert_int_equal(recs[i].seq, i + 1);
	}
	assert_non_null(strstr(recs[8].human, "audit   close key 8046f4a304ecea27"));
	free_lines(&l);
}

/* One kind of tampering per row: what is done, where it is found, what is said. */
enum tamper { EDIT, DROP, SWAP, REPLAY, CUT_END, CUT_MID, CUT_FRONT, RECHAIN, EDIT_SEAL, SEAL_GONE };
static const struct {
	enum tamper how;
	size_t line;
	const char *says;
} tampers[] = {
	{EDIT, 4, "record 3 (first.log:3) was edited"},
	{DROP, 3, "record 3 was dropped: record 4 follows record 2"},
	{SWAP, 3, "record 4 is out of order: it follows record 2"},
	{REPLAY, 4, "record 3 is out of order: it follows record 3"},
	{CUT_END, 7, "record 7 is the last and no closing seal follows"},
	{CUT_MID, 9, "cut off in the middle of a record"},
	{CUT_FRONT, 1, "does not start with kxd's open record"},
	{RECHAIN, 6, "seal 6 does not verify with key 8046f4a304ecea27"},
	{EDIT_SEAL, 9, "seal 9 does not verify"},
	{SEAL_GONE, 8, "record 8 is the last and no closing seal follows"},
};

static void test_tampered(void **state)
{
	struct gx *x = *state;

	for (size_t t = 0; t < sizeof(tampers) / sizeof(tampers[0]); t++) {
		struct gate_verify_report rep;
		struct lines l;
		char *tmp;

		sealed_log(x, &l);
		switch (tampers[t].how) {
		case EDIT:
			edit(&l, 2, "\"decision\":\"allow\"", "\"decision\":\"deny\"");
			break;
		case DROP:
			drop(&l, 2);
			break;
		case SWAP:
			tmp = l.line[2];
			l.line[2] = l.line[3];
			l.line[3] = tmp;
			break;
		case REPLAY:
			memmove(&l.line[4], &l.line[3], (l.n - 3) * sizeof(l.line[0]));
			l.line[3] = strdup(l.line[2]);
			l.n++;
			break;
		case CUT_END:
			drop(&l, 8);
			drop(&l, 7);
			break;
		case CUT_MID:
			l.line[8][strlen(l.line[8]) / 2] = '\0';
			break;
		case CUT_FRONT:
			drop(&l, 0);
			break;
		case RECHAIN:
			edit(&l, 2, "\"decision\":\"allow\"", "\"decision\":\"deny\"");
			rechain(&l, 3);
			break;
		case EDIT_SEAL:
			edit(&l, 8, "\"records\":2", "\"records\":3");
			break;
		case SEAL_GONE:
			drop(&l, 8);
			break;
		}
		if (tampers[t].how == CUT_MID) {
			/* the cut line loses its newline too */
			struct gate_verify_file f;
			struct kxsig_pubkey key = pub(x, GX_ACME);

			f.name = "first.log";
			f.bytes = join(&l, &f.len);
			f.len--;
			assert_int_equal(gate_audit_verify(&f, 1, &key, 1, 0, &rep), 0);
			free((void *)f.bytes);
		} else {
			verify_one(x, &l, 0, &rep);
		}
		expect_problem(&rep, tampers[t].line, tampers[t].says);
		assert_non_null(strstr(rep.problem, "first.log:"));
		free_lines(&l);
	}
}

static void test_keys_and_live(void **state)
{
	struct gx *x = *state;
	struct gate_verify_report rep;
	struct gate_verify_file f = {.name = "first.log"};
	struct kxsig_pubkey other = pub(x, GX_BACKUP);
	struct lines l;

	sealed_log(x, &l);
	f.bytes = join(&l, &f.len);
	assert_int_equal(gate_audit_verify(&f, 1, &other, 1, 0, &rep), 0);
	expect_problem(&rep, 6, "seal 6 is by key 8046f4a304ecea27, not a key given");
	assert_int_equal(gate_audit_verify(&f, 1, NULL, 0, 0, &rep), 0);
	assert_false(rep.ok);
	free((void *)f.bytes);
	/* a log kxd still writes: its tail after the last seal is only chained */
	drop(&l, 8);
	verify_one(x, &l, GATE_VERIFY_LIVE, &rep);
	if (!rep.ok)
		fail_msg("%s", rep.problem);
	assert_int_equal(rep.unsealed, 2);
	assert_int_equal(rep.seals, 1);
	free_lines(&l);
}

/* The operator moves the log away and kxd reopens: one chain over both
 * files; and a gate reopened on its old log goes on with its chain. */
static void test_rotate_and_restart(void **state)
{
	struct gx *x = *state;
	const struct gate_opts opts = {.seal_key = x->key[GX_ACME]};
	char old[PATH_MAX + 8];
	struct gate_decision d;
	struct gate_verify_report rep;
	struct kx_error err;
	struct lines a, b;

	gx_reopen(x, &opts);
	assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	snprintf(old, sizeof(old), "%s.1", x->log);
	assert_int_equal(rename(x->log, old), 0);
	assert_int_equal(gate_rotate(x->gate, &err), 0);
	assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	assert_int_equal(d.seq, 5); /* open, fork, rotate | open, fork */
	/* kxd stops and starts again on the same log */
	assert_int_equal(gate_seal(x->gate, GATE_SEAL_CLOSE, &err), 0);
	gate_close(x->gate);
	assert_int_equal(gate_open(x->policy, x->log, &opts, &x->gate, &err), 0);
	assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	assert_int_equal(d.seq, 8);
	assert_int_equal(gate_seal(x->gate, GATE_SEAL_CLOSE, &err), 0);
	read_lines(old, &a);
	read_lines(x->log, &b);
	assert_int_equal(a.n, 3);
	assert_int_equal(b.n, 6);
	assert_non_null(strstr(a.line[2], "\"event\":\"rotate\""));
	{
		const struct lines *both[] = {&a, &b, NULL}, *wrong[] = {&b, &a, NULL};

		verify_sets(x, both, 0, &rep);
		if (!rep.ok)
			fail_msg("%s", rep.problem);
		assert_int_equal(rep.records, 9);
		assert_false(rep.continues);
		verify_sets(x, wrong, 0, &rep);
		assert_false(rep.ok);
		assert_int_equal(rep.file, 1);
	}
	/* the newer file alone: intact, but it continues an earlier one */
	verify_one(x, &b, 0, &rep);
	assert_true(rep.ok);
	assert_true(rep.continues);
	/* without its last line the older file is cut off */
	drop(&a, 2);
	{
		const struct lines *both[] = {&a, &b, NULL};

		verify_sets(x, both, 0, &rep);
		expect_problem(&rep, 2, "no closing seal follows: the file was cut off");
		assert_int_equal(rep.file, 0);
	}
	free_lines(&a);
	free_lines(&b);
}

static off_t size_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* A file system that fills up: records are never torn, decisions denied,
 * and the loss is told as soon as the log takes records again. */
static void test_disk_full(void **state)
{
	struct gx *x = *state;
	const struct gate_opts opts = {.seal_key = x->key[GX_ACME]};
	struct gx_file f = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.5", NULL);
	struct rlimit old, lim;
	struct gate_decision d;
	struct gate_verify_report rep;
	struct kx_error err;
	struct gx_rec recs[8];
	struct lines l;
	off_t size;
	int rc;

	signal(SIGXFSZ, SIG_IGN);
	gx_reopen(x, &opts);
	assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	size = size_of(x->log);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)size + 40; /* room for part of a record only */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = gate_fork(x->gate, &self, &counts, &d);
	assert_int_equal(rc, -EFBIG);
	assert_int_equal(d.verdict, KXP_DENY);
	assert_int_equal(d.stage, GATE_STAGE_AUDIT);
	assert_int_equal(d.seq, 0);
	assert_non_null(strstr(d.reason, "could not be written"));
	assert_int_equal(size_of(x->log), size); /* cut back: nothing torn */
	rc = gate_link(x->gate, &self, &self, "libgood", f.bytes, f.len, &d);
	assert_int_equal(rc, -EFBIG);
	assert_int_equal(d.verdict, KXP_DENY);
	assert_int_equal(size_of(x->log), size);
	assert_int_equal(stats_of(x->gate).unlogged, 2);
	/* a seal cannot be written either, and leaves nothing behind */
	assert_int_equal(gate_seal(x->gate, GATE_SEAL_INTERVAL, &err), -EFBIG);
	assert_int_equal(size_of(x->log), size);
	/* room again */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	assert_int_equal(d.verdict, KXP_ALLOW);
	assert_int_equal(d.seq, 4);
	assert_int_equal(stats_of(x->gate).unlogged, 0);
	assert_int_equal(gx_read_log(x->log, recs, 8), 4);
	assert_string_equal(recs[2].op, "audit");
	assert_string_equal(recs[2].event, "unlogged");
	assert_true(recs[2].has_count);
	assert_int_equal(recs[2].count, 2);
	assert_non_null(strstr(recs[2].reason, "2 decisions were denied"));
	assert_non_null(strstr(recs[2].reason, "File too large"));
	assert_string_equal(recs[3].op, "fork");
	assert_int_equal(gate_seal(x->gate, GATE_SEAL_CLOSE, &err), 0);
	read_lines(x->log, &l);
	verify_one(x, &l, 0, &rep);
	if (!rep.ok)
		fail_msg("%s", rep.problem);
	free_lines(&l);
	gx_file_free(&f);
}

/* Bytes someone else appended to the log (not through the gate) are never
 * cut by the gate's cut-back after a failed write; the verifier names them. */
static void test_foreign_bytes(void **state)
{
	struct gx *x = *state;
	static const char foreign[] = "{\"written\":\"by someone else\"}\n";
	struct rlimit old, lim;
	struct gate_decision d;
	struct gate_verify_report rep;
	struct lines l;
	off_t size;
	int fd;

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	fd = open(x->log, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, foreign, sizeof(foreign) - 1), sizeof(foreign) - 1);
	close(fd);
	size = size_of(x->log);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)size + 20;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(gate_fork(x->gate, &self, &counts, &d), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(size_of(x->log), size); /* the foreign line is whole */
	assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	read_lines(x->log, &l);
	assert_int_equal(l.n, 5); /* open, fork, foreign, unlogged, fork */
	assert_string_equal(l.line[2], "{\"written\":\"by someone else\"}");
	verify_one(x, &l, GATE_VERIFY_LIVE, &rep);
	expect_problem(&rep, 3, "not a record");
	free_lines(&l);
}

/* ---- durability modes ---------------------------------------------------------- */

static void test_sync_parse(void **state)
{
	struct gate_opts o = {0};

	(void)state;
	assert_int_equal(gate_sync_parse("always", &o), 0);
	assert_int_equal(o.sync, GATE_SYNC_ALWAYS);
	assert_int_equal(gate_sync_parse("group", &o), 0);
	assert_int_equal(o.sync, GATE_SYNC_GROUP);
	assert_int_equal(gate_sync_parse("interval=250", &o), 0);
	assert_int_equal(o.sync, GATE_SYNC_INTERVAL);
	assert_int_equal(o.sync_interval_ms, 250);
	assert_int_equal(gate_sync_parse("interval=0", &o), -EINVAL);
	assert_int_equal(gate_sync_parse("interval=60001", &o), -EINVAL);
	assert_int_equal(gate_sync_parse("interval=5x", &o), -EINVAL);
	assert_int_equal(gate_sync_parse("interval=", &o), -EINVAL);
	assert_int_equal(gate_sync_parse("sometimes", &o), -EINVAL);
}

/* always and group, from one thread: one flush per decision, answered
 * after it; interval: none until the interval or the close. */
static void test_sync_modes(void **state)
{
	struct gx *x = *state;
	struct gate_opts opts = {.seal_key = x->key[GX_ACME]};
	struct gate_audit_stats st;
	struct gate_decision d;

	for (int m = GATE_SYNC_GROUP; m <= GATE_SYNC_ALWAYS; m++) {
		opts.sync = (enum gate_sync_mode)m;
		gx_reopen(x, &opts);
		gate_audit_stats(x->gate, &st);
		assert_int_equal(st.flushes, 1); /* the open record */
		for (int i = 0; i < 3; i++)
			assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
		gate_audit_stats(x->gate, &st);
		assert_int_equal(st.records, 4);
		assert_int_equal(st.flushes, 4);
		assert_int_equal(st.unflushed_bytes, 0);
	}
	/* interval: written at once, flushed later */
	opts.sync = GATE_SYNC_INTERVAL;
	opts.sync_interval_ms = GATE_SYNC_INTERVAL_MAX_MS;
	gx_reopen(x, &opts);
	for (int i = 0; i < 3; i++)
		assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	gate_audit_stats(x->gate, &st);
	assert_int_equal(st.flushes, 1);
	assert_true(st.unflushed_bytes > 0);
	/* a seal flushes all before it */
	{
		struct kx_error err;

		assert_int_equal(gate_seal(x->gate, GATE_SEAL_INTERVAL, &err), 0);
	}
	gate_audit_stats(x->gate, &st);
	assert_int_equal(st.flushes, 2);
	assert_int_equal(st.unflushed_bytes, 0);
	/* and the flusher does, within its interval */
	opts.sync_interval_ms = 5;
	gx_reopen(x, &opts);
	assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	for (int i = 0; i < 1000; i++) {
		gate_audit_stats(x->gate, &st);
		if (st.unflushed_bytes == 0)
			break;
		usleep(10000);
	}
	assert_int_equal(st.unflushed_bytes, 0);
	assert_true(st.flushes >= 2);
	opts.sync_interval_ms = 0;
	{
		struct gate *g = NULL;
		struct kx_error err;
		char path[PATH_MAX + 8];

		snprintf(path, sizeof(path), "%s.bad", x->log);
		assert_int_equal(gate_open(x->policy, path, &opts, &g, &err), -EINVAL);
		assert_null(g);
	}
}

/* The log is allocated ahead (FALLOC_FL_KEEP_SIZE), invisibly: its size is
 * its records; with GATE_OPT_NO_PREALLOC it is not. */
static void test_prealloc(void **state)
{
	struct gx *x = *state;
	struct gate_opts opts = {0};
	struct gate_decision d;
	struct stat st;
	char probe[PATH_MAX + 8];
	int fd;

	snprintf(probe, sizeof(probe), "%s.probe", x->log);
	fd = open(probe, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 4096) != 0) {
		print_message("no fallocate on this file system: only the fallback is tested\n");
		close(fd);
		return;
	}
	close(fd);
	for (int off = 0; off < 2; off++) {
		opts.flags = off ? GATE_OPT_NO_PREALLOC : 0;
		gx_reopen(x, &opts);
		assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
		assert_int_equal(stat(x->log, &st), 0);
		assert_true(st.st_size < 4096);
		if (off)
			assert_true((off_t)st.st_blocks * 512 < (off_t)64 << 10);
		else
			assert_true((off_t)st.st_blocks * 512 >= (off_t)256 << 10);
	}
}

/* Group commit from threads: every decision allowed and recorded once, the
 * chain whole; the flushes are at most one per decision (shared when
 * decisions overlap). */
#define GROUP_THREADS 4
#define GROUP_EACH 25

static void *group_worker(void *arg)
{
	struct gx *x = arg;
	struct gate_decision d;
	intptr_t bad = 0;

	for (int i = 0; i < GROUP_EACH; i++)
		if (gate_fork(x->gate, &self, &counts, &d) != 0 || d.verdict != KXP_ALLOW)
			bad++;
	return (void *)bad;
}

static void test_group_threads(void **state)
{
	struct gx *x = *state;
	const struct gate_opts opts = {.seal_key = x->key[GX_ACME], .sync = GATE_SYNC_GROUP};
	pthread_t t[GROUP_THREADS];
	struct gate_audit_stats st;
	struct gate_verify_report rep;
	struct kx_error err;
	struct lines l;

	gx_reopen(x, &opts);
	for (int i = 0; i < GROUP_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, group_worker, x), 0);
	for (int i = 0; i < GROUP_THREADS; i++) {
		void *bad;

		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_null(bad);
	}
	gate_audit_stats(x->gate, &st);
	assert_int_equal(st.records, 1 + GROUP_THREADS * GROUP_EACH);
	assert_true(st.flushes >= 2 && st.flushes <= st.records);
	assert_int_equal(st.unflushed_bytes, 0);
	print_message("group commit: %llu decisions, %llu flushes\n",
		      (unsigned long long)(st.records - 1), (unsigned long long)(st.flushes - 1));
	assert_int_equal(gate_seal(x->gate, GATE_SEAL_CLOSE, &err), 0);
	read_lines(x->log, &l);
	verify_one(x, &l, 0, &rep);
	if (!rep.ok)
		fail_msg("%s", rep.problem);
	free_lines(&l);
}

/* Held (kxd's loop): decisions from one thread written without a flush,
 * then one fdatasync() for all of them; ignored by always. */
static void test_hold_commit(void **state)
{
	struct gx *x = *state;
	struct gate_opts opts = {.seal_key = x->key[GX_ACME], .sync = GATE_SYNC_GROUP};
	struct gate_audit_stats st;
	struct gate_verify_report rep;
	struct gate_decision d;
	struct kx_error err;
	struct lines l;

	gx_reopen(x, &opts);
	gate_audit_hold(x->gate, true);
	assert_false(gate_audit_pending(x->gate));
	assert_int_equal(gate_audit_commit(x->gate), 0); /* nothing to flush */
	for (int i = 0; i < 5; i++)
		assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	assert_int_equal(d.verdict, KXP_ALLOW);
	gate_audit_stats(x->gate, &st);
	assert_int_equal(st.records, 6);
	assert_int_equal(st.flushes, 1); /* the open record's only */
	assert_true(st.unflushed_bytes > 0);
	assert_true(gate_audit_pending(x->gate));
	assert_int_equal(gate_audit_commit(x->gate), 0);
	gate_audit_stats(x->gate, &st);
	assert_int_equal(st.flushes, 2); /* one for the five */
	assert_int_equal(st.unflushed_bytes, 0);
	assert_false(gate_audit_pending(x->gate));
	/* released: each decision flushed before it returns again */
	gate_audit_hold(x->gate, false);
	assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	gate_audit_stats(x->gate, &st);
	assert_int_equal(st.flushes, 3);
	assert_int_equal(gate_seal(x->gate, GATE_SEAL_CLOSE, &err), 0);
	read_lines(x->log, &l);
	verify_one(x, &l, 0, &rep);
	if (!rep.ok)
		fail_msg("%s", rep.problem);
	free_lines(&l);
	/* always ignores the hold: one flush per decision */
	opts.sync = GATE_SYNC_ALWAYS;
	gx_reopen(x, &opts);
	gate_audit_hold(x->gate, true);
	for (int i = 0; i < 3; i++)
		assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	gate_audit_stats(x->gate, &st);
	assert_int_equal(st.flushes, 4);
	assert_false(gate_audit_pending(x->gate));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_intact, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_tampered, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_keys_and_live, gx_gate_setup,
						gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_rotate_and_restart, gx_gate_setup,
						gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_foreign_bytes, gx_gate_setup,
						gx_gate_teardown),
		cmocka_unit_test(test_sync_parse),
		cmocka_unit_test_setup_teardown(test_prealloc, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_sync_modes, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_hold_commit, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_group_threads, gx_gate_setup,
						gx_gate_teardown),
	};

	return cmocka_run_group_tests(tests, gx_setup, gx_teardown);
}
