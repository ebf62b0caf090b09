/*
 * The audit log.  Writing, through a real gate: record times, hostile
 * strings escaped and read back, records longer than PIPE_BUF on one line, a
 * log that cannot be written (the request is denied), a torn last line, and
 * concurrent requests.  Reading, on hand-written lines: every kind of corrupt
 * line is reported (table), valid ones decode, and --follow's partial tail is
 * left alone.  The human view, exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/test_gate_fixture.h"

static const struct gate_subject self = {GATE_SUBJECT_PVM, 1, "notes", 1, 0, 0};

/* ---- writing ------------------------------------------------------------------ */

static int fixed_clock(struct timespec *now)
{
	now->tv_sec = 1709251199; /* 2024-02-29T23:59:59Z */
	now->tv_nsec = 999999999;
	return 0;
}

static void test_time(void **state)
{
	struct gx *x = *state;
	const struct gate_opts opts = {.clock = fixed_clock};
	const struct gate_family_counts counts = {0, 1};
	struct gate_decision d;
	struct gx_rec rec;

	gx_reopen(x, &opts);
	assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	gx_next_record(x, &rec);
	assert_string_equal(rec.time, "2024-02-29T23:59:59.999Z");
	assert_int_equal(strncmp(rec.human, "2024-02-29T23:59:59.999Z fork    pvm 1 (notes) -> ",
				 50), 0);
}

/* The raw line of record seq (1-based line number) of a log. */
static char *raw_line(const char *path, size_t lineno)
{
	static char line[GATE_AUDIT_LINE_MAX + 1];
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	for (size_t i = 0; i < lineno; i++)
		assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	return line;
}

/* The raw line of the first record of op `op` in a log (the log starts
 * with the chain's own records, so decisions are not at a fixed line). */
static char *op_line(const char *path, const char *op)
{
	static char line[GATE_AUDIT_LINE_MAX + 1];
	char needle[64];
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	snprintf(needle, sizeof(needle), "\"op\":\"%s\"", op);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL) {
			fclose(f);
			return line;
		}
	fclose(f);
	fail_msg("no %s record in %s", op, path);
	return NULL;
}

static int copy_backend(void *ctx, const struct gate_audit_line *line)
{
	char *out = ctx;

	assert_non_null(line->record);
	snprintf(out, GATE_BACKEND_MAX, "%s", line->record->backend ? line->record->backend : "-");
	return 0;
}

/* kxd --backend xen: every record names the backend; without one, none. */
static void test_backend(void **state)
{
	struct gx *x = *state;
	const struct gate_opts xen = {.backend = "xen"}, bad = {.backend = "x en"},
			       empty = {.backend = ""};
	const struct gate_family_counts counts = {0, 1};
	struct gate_decision d;
	struct gate *g = NULL;
	struct kx_error err;
	char got[GATE_BACKEND_MAX], *line;

	gx_reopen(x, &xen);
	assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	line = op_line(x->log, "fork");
	assert_non_null(strstr(line, "\"op\":\"fork\",\"backend\":\"xen\",\"subject\""));
	assert_int_equal(gate_audit_read(line, strlen(line), copy_backend, got, NULL), 0);
	assert_string_equal(got, "xen");
	gx_reopen(x, NULL);
	assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	line = op_line(x->log, "fork");
	assert_null(strstr(line, "backend"));
	assert_int_equal(gate_audit_read(line, strlen(line), copy_backend, got, NULL), 0);
	assert_string_equal(got, "-");
	/* a name that would need escaping, or none at all, is refused */
	assert_int_equal(gate_open(x->policy, x->log, &bad, &g, &err), -EINVAL);
	assert_null(g);
	assert_int_equal(gate_open(x->policy, x->log, &empty, &g, &err), -EINVAL);
	assert_null(g);
}

/* Nothing a terminal would act on is left raw in a line. */
static void assert_inert(const char *line)
{
	for (const unsigned char *p = (const unsigned char *)line; *p != '\0'; p++)
		if ((*p < 0x20 && !(*p == '\n' && p[1] == '\0')) || *p == 0x7f)
			fail_msg("raw byte 0x%02x at %zu", *p,
				 (size_t)(p - (const unsigned char *)line));
	assert_null(strstr(line, "\xc2\x85"));
	assert_null(strstr(line, "\xe2\x80\xae"));
}

static void test_hostile_strings(void **state)
{
	struct gx *x = *state;
	/* quote, backslash, newline, ESC, DEL, NEL (C1), RLO (bidi), a lone
	 * 0xff, a cut 2-byte sequence, and an emoji that must survive */
	static const char hostile[] = "lib\"q\\b\n\x1b[31m\x7f\xc2\x85\xe2\x80\xae"
				      "\xff\xc3(\xf0\x9f\x98\x80";
	static const char decoded[] = "lib\"q\\b\n\x1b[31m\x7f\xc2\x85\xe2\x80\xae"
				      "\xef\xbf\xbd\xef\xbf\xbd(\xf0\x9f\x98\x80";
	const struct gate_subject liar = {GATE_SUBJECT_PVM, 2, "no\"tes\x1b", 2, 0, 0};
	struct gx_file f = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.5", NULL);
	const struct gate_family_counts counts = {0, 1};
	struct gate_decision d;
	struct gx_rec rec;
	char *line;

	assert_int_equal(gate_link(x->gate, &self, &self, hostile, f.bytes, f.len, &d), 0);
	assert_int_equal(d.verdict, KXP_DENY);
	assert_int_equal(d.stage, GATE_STAGE_REQUEST);
	gx_next_record(x, &rec);
	assert_string_equal(rec.object.requested, decoded);
	line = raw_line(x->log, 2);
	assert_inert(line);
	assert_non_null(strstr(line, "\"requested\":\"lib\\\"q\\\\b\\n\\u001b[31m\\u007f\\u0085"
				     "\\u202e\\ufffd\\ufffd(\xf0\x9f\x98\x80\""));
	/* the human view shows the escapes as text */
	assert_non_null(strstr(rec.human, "-> pvm 1 (notes) lib lib\"q\\x5cb\\x0a\\x1b[31m\\x7f"
					  "\\u{0085}\\u{202e}\xef\xbf\xbd\xef\xbf\xbd("));
	assert_null(strchr(rec.human, '\x1b'));

	/* the subject is the caller's, but it is escaped all the same */
	assert_int_equal(gate_fork(x->gate, &liar, &counts, &d), 0);
	assert_int_equal(d.verdict, KXP_DENY);
	gx_next_record(x, &rec);
	assert_string_equal(rec.subject.app, "no\"tes\x1b");
	assert_inert(raw_line(x->log, 3));
	gx_file_free(&f);
}

/* A record longer than PIPE_BUF is still one line, from one write(). */
static void test_long_record(void **state)
{
	struct gx *x = *state;
	char *name = malloc(3001);
	struct gx_file f = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.5", NULL);
	struct gate_decision d;
	struct gx_rec rec;

	assert_non_null(name);
	memset(name, '\x01', 3000);
	name[3000] = '\0';
	assert_int_equal(gate_link(x->gate, &self, &self, name, f.bytes, f.len, &d), 0);
	assert_int_equal(d.verdict, KXP_DENY);
	gx_next_record(x, &rec);
	assert_true(rec.line_len > PIPE_BUF);
	/* cut at GATE_AUDIT_FIELD_MAX bytes, and marked */
	assert_int_equal(strlen(rec.object.requested), GATE_AUDIT_FIELD_MAX + 3);
	assert_memory_equal(rec.object.requested, name, GATE_AUDIT_FIELD_MAX);
	assert_string_equal(rec.object.requested + GATE_AUDIT_FIELD_MAX, "...");
	free(name);
	gx_file_free(&f);
}

/* If the record cannot be written, the request is refused. */
static void test_log_unwritable(void **state)
{
	struct gx *x = *state;
	struct gx_file f = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.5", NULL);
	const struct gate_family_counts counts = {0, 1};
	struct kx_error err;
	struct gate_decision d;
	struct gate *full = NULL;

	/* first, the same requests are allowed with a working log */
	assert_int_equal(gate_link(x->gate, &self, &self, "libgood", f.bytes, f.len, &d), 0);
	assert_int_equal(d.verdict, KXP_ALLOW);
	assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	assert_int_equal(d.verdict, KXP_ALLOW);

	/* a log that cannot take even the open record is no log: no gate */
	assert_int_equal(gate_open(x->policy, "/dev/full", NULL, &full, &err), -ENOSPC);
	assert_null(full);
	assert_non_null(strstr(err.msg, "/dev/full"));
	gx_file_free(&f);
	/* a log that fills up later: tests/unit/test_gate_chain.c */
}

static void test_log_open_errors(void **state)
{
	struct gx *x = *state;
	char path[PATH_MAX + 32];
	struct kx_error err;
	struct gate *g = NULL;

	snprintf(path, sizeof(path), "%s/no/such/dir/audit.log", x->tmp);
	assert_int_equal(gate_open(x->policy, path, NULL, &g, &err), -ENOENT);
	assert_null(g);
	assert_non_null(strstr(err.msg, path));
	assert_int_equal(gate_open(x->policy, x->tmp, NULL, &g, &err), -EISDIR);
	assert_int_equal(gate_open(NULL, x->log, NULL, &g, &err), -EINVAL);
	/* one writer per log: a second gate would fork the chain */
	assert_int_equal(gate_open(x->policy, x->log, NULL, &g, &err), -EBUSY);
	assert_null(g);
	assert_non_null(strstr(err.msg, "another gate (kxd) writes it"));
}

/* A crash can leave half a record (written, never made durable, so never
 * answered): the next gate cuts it off, says so in its open record, and the
 * chain goes on from the last whole record. */
static void test_torn_line(void **state)
{
	struct gx *x = *state;
	static const char torn[] = "{\"v\":2,\"seq\":41,\"time\":\"2024-";
	const struct gate_family_counts counts = {0, 1};
	struct gate_decision d;
	struct gx_rec recs[4];
	char text[4096];
	ssize_t n;
	int fd;

	gate_close(x->gate);
	fd = open(x->log, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, torn, sizeof(torn) - 1), sizeof(torn) - 1);
	close(fd);
	assert_int_equal(gate_open(x->policy, x->log, NULL, &x->gate, NULL), 0);
	assert_int_equal(gate_fork(x->gate, &self, &counts, &d), 0);
	assert_int_equal(gx_read_log(x->log, recs, 4), 3);
	for (int i = 0; i < 3; i++)
		assert_false(recs[i].corrupt);
	assert_string_equal(recs[1].event, "open");
	assert_int_equal(recs[1].seq, 2);
	assert_int_equal(recs[2].seq, 3);
	assert_int_equal(recs[2].lineno, 3);
	fd = open(x->log, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	assert_true(n > 0);
	text[n] = '\0';
	assert_null(strstr(text, torn));
	assert_non_null(strstr(text, "\"torn\":29"));
}

/* Concurrent requests: every one recorded once, on a line of its own. */
#define THREADS 4
#define PER_THREAD 50

struct worker {
	struct gx *x;
	const struct gx_file *lib;
	uint64_t pvm;
	int failures;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	const struct gate_subject me = {GATE_SUBJECT_PVM, w->pvm, "notes", w->pvm, 0, 0};
	const struct gate_family_counts counts = {0, 1};
	struct gate_decision d;

	for (int i = 0; i < PER_THREAD; i++) {
		int rc = w->pvm % 2 ? gate_fork(w->x->gate, &me, &counts, &d)
				    : gate_link(w->x->gate, &me, &me, "libgood", w->lib->bytes,
						w->lib->len, &d);

		if (rc != 0 || d.verdict != KXP_ALLOW)
			w->failures++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct gx *x = *state;
	const struct gate_opts opts = {.flags = GATE_OPT_NO_SYNC};
	struct gx_file lib = gx_sign(x, GX_LIBC, GX_GOOD, "libgood", "1.5", NULL);
	struct gx_rec *recs = calloc(THREADS * PER_THREAD + 1, sizeof(*recs));
	struct worker w[THREADS];
	pthread_t t[THREADS];
	bool seen[THREADS * PER_THREAD + 2] = {false};
	size_t per_pvm[THREADS + 1] = {0}, n;
	struct gate_cache_stats s;

	assert_non_null(recs);
	gx_reopen(x, &opts);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.x = x, .lib = &lib, .pvm = (uint64_t)i + 1};
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	n = gx_read_log(x->log, recs, THREADS * PER_THREAD + 1);
	assert_int_equal(n, THREADS * PER_THREAD + 1);
	assert_string_equal(recs[0].event, "open");
	for (size_t i = 1; i < n; i++) {
		assert_false(recs[i].corrupt);
		assert_true(recs[i].seq >= 2 && recs[i].seq <= n && !seen[recs[i].seq]);
		seen[recs[i].seq] = true;
		assert_true(recs[i].subject.pvm >= 1 && recs[i].subject.pvm <= THREADS);
		per_pvm[recs[i].subject.pvm]++;
	}
	for (int i = 1; i <= THREADS; i++)
		assert_int_equal(per_pvm[i], PER_THREAD);
	gate_cache_stats(x->gate, &s);
	assert_int_equal(s.hits + s.misses, (THREADS / 2) * PER_THREAD);
	assert_int_equal(s.entries, 1);
	free(recs);
	gx_file_free(&lib);
}

/* ---- reading ---------------------------------------------------------------------- */

#define SUBJ "\"subject\":{\"kind\":\"pvm\",\"pvm\":3,\"app\":\"notes\",\"family\":3,\"depth\":0}"
#define LINE_OF(v, seq, subject, decision, extra)                                            \
	"{\"v\":" v ",\"seq\":" seq ",\"time\":\"2024-01-02T03:04:05.678Z\",\"op\":\"link\","  \
	subject ",\"object\":{\"pvm\":3,\"app\":\"notes\",\"lib\":\"libgood\","              \
	"\"version\":\"1.5\"},\"decision\":" decision ",\"stage\":\"policy\","                 \
	"\"reason\":\"ok\",\"rule\":{\"file\":\"n.yaml\",\"line\":15,\"col\":5,\"desc\":\"d\"}" \
	extra "}"
#define GOOD LINE_OF("1", "7", SUBJ, "\"allow\"", "")

struct seen {
	size_t records, errors, lineno[8];
	char error[8][256];
	struct gate_audit_record first;
	char reason[256];
	int stop_with;
};

static int see(void *ctx, const struct gate_audit_line *line)
{
	struct seen *s = ctx;
	size_t i = s->records + s->errors;

	if (i < 8) {
		s->lineno[i] = line->lineno;
		snprintf(s->error[i], sizeof(s->error[i]), "%s", line->error ? line->error : "");
	}
	if (line->record != NULL && s->records++ == 0) {
		s->first = *line->record; /* strings die with the callback: keep one */
		snprintf(s->reason, sizeof(s->reason), "%s", line->record->reason);
	}
	if (line->record == NULL)
		s->errors++;
	return s->stop_with;
}

static struct seen read_text(const char *text, size_t len, size_t *consumed)
{
	struct seen s = {0};

	assert_int_equal(gate_audit_read(text, len, see, &s, consumed), 0);
	return s;
}

#define CORRUPT(what, text, error) {what, text, sizeof(text) - 1, error}

static const struct {
	const char *what, *text;
	size_t len;
	const char *error;
} corrupt_cases[] = {
	CORRUPT("not JSON", "log line", "not JSON: unexpected character at byte 0"),
	CORRUPT("an array", "[1,2]", "not a JSON object"),
	CORRUPT("empty object", "{}", "v is missing"),
	CORRUPT("another format", LINE_OF("3", "7", SUBJ, "\"allow\"", ""), "record format 3"),
	CORRUPT("format 2 without its chain", LINE_OF("2", "7", SUBJ, "\"allow\"", ""),
		"prev is missing"),
	CORRUPT("seq as a string", LINE_OF("1", "\"7\"", SUBJ, "\"allow\"", ""),
		"seq is not a number"),
	CORRUPT("negative", LINE_OF("1", "-7", SUBJ, "\"allow\"", ""), "negative number"),
	CORRUPT("fraction", LINE_OF("1", "7.5", SUBJ, "\"allow\"", ""), "not a whole number"),
	CORRUPT("exponent", LINE_OF("1", "7e3", SUBJ, "\"allow\"", ""), "not a whole number"),
	CORRUPT("leading zero", LINE_OF("1", "07", SUBJ, "\"allow\"", ""), "leading zero"),
	CORRUPT("2^64", LINE_OF("1", "18446744073709551616", SUBJ, "\"allow\"", ""),
		"number out of range"),
	CORRUPT("v beyond 32 bits", LINE_OF("4294967297", "7", SUBJ, "\"allow\"", ""),
		"v is not a number up to 4294967295"),
	CORRUPT("a third decision", LINE_OF("1", "7", SUBJ, "\"maybe\"", ""),
		"decision is not \"allow\" or \"deny\""),
	CORRUPT("decision as a bool", LINE_OF("1", "7", SUBJ, "true", ""), "decision is not"),
	CORRUPT("no subject", LINE_OF("1", "7", "\"who\":1", "\"allow\"", ""),
		"subject is missing"),
	CORRUPT("subject not an object", LINE_OF("1", "7", "\"subject\":3", "\"allow\"", ""),
		"subject is not an object"),
	CORRUPT("subject pvm as a string",
		LINE_OF("1", "7", "\"subject\":{\"pvm\":\"3\"}", "\"allow\"", ""),
		"subject.pvm is not a number"),
	CORRUPT("two decisions", LINE_OF("1", "7", SUBJ, "\"deny\"", ",\"decision\":\"allow\""),
		"duplicate member name"),
	CORRUPT("closed early", LINE_OF("1", "7", SUBJ, "\"allow\"", "}"), "bytes after the value"),
	CORRUPT("rule without a file", "{\"v\":1,\"seq\":1,\"time\":\"t\",\"op\":\"x\","
		"\"subject\":{},\"decision\":\"deny\",\"reason\":\"r\",\"rule\":{\"line\":1}}",
		"rule.file is missing"),
	CORRUPT("rule line beyond 32 bits", "{\"v\":1,\"seq\":1,\"time\":\"t\",\"op\":\"x\","
		"\"subject\":{},\"decision\":\"deny\",\"reason\":\"r\","
		"\"rule\":{\"file\":\"f\",\"line\":4294967296}}",
		"rule.line is not a number up to"),
	CORRUPT("signature without status",
		LINE_OF("1", "7", SUBJ, "\"allow\"", ",\"signature\":{\"cached\":true}"),
		"signature.status is missing"),
	CORRUPT("raw invalid UTF-8", LINE_OF("1", "7", SUBJ, "\"allow\"", ",\"x\":\"\xff\""),
		"invalid UTF-8"),
	CORRUPT("overlong UTF-8", LINE_OF("1", "7", SUBJ, "\"allow\"", ",\"x\":\"\xc0\xaf\""),
		"invalid UTF-8"),
	CORRUPT("UTF-8 surrogate", LINE_OF("1", "7", SUBJ, "\"allow\"", ",\"x\":\"\xed\xa0\x80\""),
		"invalid UTF-8"),
	CORRUPT("lone high surrogate", LINE_OF("1", "7", SUBJ, "\"allow\"", ",\"x\":\"\\ud800\""),
		"lone high surrogate"),
	CORRUPT("lone low surrogate", LINE_OF("1", "7", SUBJ, "\"allow\"", ",\"x\":\"\\udc00\""),
		"lone low surrogate"),
	CORRUPT("escaped NUL", LINE_OF("1", "7", SUBJ, "\"allow\"", ",\"x\":\"a\\u0000\""),
		"NUL in string"),
	CORRUPT("raw NUL", LINE_OF("1", "7", SUBJ, "\"allow\"", ",\"x\":\"a\0b\""),
		"control character in string"),
	CORRUPT("raw control", LINE_OF("1", "7", SUBJ, "\"allow\"", ",\"x\":\"\x1b\""),
		"control character in string"),
	CORRUPT("bad escape", LINE_OF("1", "7", SUBJ, "\"allow\"", ",\"x\":\"\\x41\""),
		"bad escape"),
	CORRUPT("short \\u", LINE_OF("1", "7", SUBJ, "\"allow\"", ",\"x\":\"\\u12\""),
		"bad \\u escape"),
	CORRUPT("\\u at the end", "{\"x\":\"\\u12", "short \\u escape"),
	CORRUPT("unterminated", "{\"v\":1,\"time\":\"2024", "unterminated string"),
	CORRUPT("no colon", "{\"v\" 1}", "':' expected"),
	CORRUPT("no comma", "{\"v\":1 \"seq\":2}", "',' or '}' expected"),
	CORRUPT("array without comma", "{\"v\":[1 2]}", "',' or ']' expected"),
	CORRUPT("bad literal", "{\"v\":tru}", "unexpected character"),
	CORRUPT("member name not a string", "{v:1}", "member name expected"),
	CORRUPT("nothing after a comma", "{\"v\":1,", "member name expected"),
	CORRUPT("a value missing", "{\"v\":}", "unexpected character"),
	CORRUPT("only a colon", "{\"v\":", "value expected"),
};

static void test_corrupt_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(corrupt_cases) / sizeof(corrupt_cases[0]); i++) {
		struct seen s = read_text(corrupt_cases[i].text, corrupt_cases[i].len, NULL);

		if (s.errors != 1 || s.records != 0 ||
		    strstr(s.error[0], corrupt_cases[i].error) == NULL)
			fail_msg("%s: %zu errors, %zu records: '%s' (expected '%s')",
				 corrupt_cases[i].what, s.errors, s.records, s.error[0],
				 corrupt_cases[i].error);
	}
}

/* Limits: nesting, values, line length. */
#define DEEP 64
static void test_corrupt_limits(void **state)
{
	size_t size = GATE_AUDIT_LINE_MAX + 16, n = 0;
	char *text = malloc(size);
	struct seen s;

	(void)state;
	assert_non_null(text);
	for (int i = 0; i < DEEP; i++)
		n += (size_t)snprintf(text + n, size - n, "{\"a\":");
	n += (size_t)snprintf(text + n, size - n, "1");
	for (int i = 0; i < DEEP; i++)
		text[n++] = '}';
	s = read_text(text, n, NULL);
	assert_non_null(strstr(s.error[0], "nested too deeply"));

	n = (size_t)snprintf(text, size, "{\"a\":[0");
	for (int i = 0; i < 600; i++)
		n += (size_t)snprintf(text + n, size - n, ",0");
	n += (size_t)snprintf(text + n, size - n, "]}");
	s = read_text(text, n, NULL);
	assert_non_null(strstr(s.error[0], "too many values"));

	memset(text, ' ', size);
	memcpy(text, GOOD, sizeof(GOOD) - 1); /* valid JSON, padded past the limit */
	s = read_text(text, GATE_AUDIT_LINE_MAX, NULL);
	assert_int_equal(s.errors, 1);
	assert_non_null(strstr(s.error[0], "longer than a record can be"));
	s = read_text(text, GATE_AUDIT_LINE_MAX - 1, NULL);
	assert_int_equal(s.records, 1);
	free(text);
}

static void test_good_lines(void **state)
{
	static const char extra[] = LINE_OF("1", "18446744073709551615", SUBJ, "\"deny\"",
					    ",\"future\":{\"x\":[1,true,null,\"s\"]}");
	static const char bare[] = "{\"v\":1,\"seq\":1,\"time\":\"t\",\"op\":\"x\",\"subject\":{},"
				   "\"decision\":\"deny\",\"reason\":\"r\",\"rule\":null,"
				   "\"signature\":null,\"object\":null}";
	static const char escapes[] = LINE_OF("1", "7", SUBJ, "\"allow\"", "")
		"\r"; /* CRLF */
	struct seen s = read_text(GOOD, sizeof(GOOD) - 1, NULL);
	const struct gate_audit_record *r = &s.first;

	(void)state;
	assert_int_equal(s.records, 1);
	assert_int_equal(r->format, 1);
	assert_int_equal(r->seq, 7);
	assert_true(r->allowed);
	assert_true(r->subject.has_pvm && !r->subject.has_uid);
	assert_int_equal(r->subject.pvm, 3);
	assert_int_equal(r->object.pvm, 3);
	assert_true(r->has_rule);
	assert_int_equal(r->rule_line, 15);
	assert_int_equal(r->rule_col, 5);
	assert_null(r->sig_status);
	assert_false(r->object.has_children);

	/* unknown members are ignored; a null rule is no rule */
	s = read_text(extra, sizeof(extra) - 1, NULL);
	assert_int_equal(s.records, 1);
	assert_int_equal(s.first.seq, UINT64_MAX);
	assert_false(s.first.allowed);
	assert_true(s.first.has_rule);
	s = read_text(bare, sizeof(bare) - 1, NULL);
	assert_int_equal(s.records, 1);
	assert_false(s.first.has_rule);
	assert_null(s.first.subject.kind);
	assert_null(s.first.object.app);
	assert_null(s.first.stage);
	s = read_text(escapes, sizeof(escapes) - 1, NULL);
	assert_int_equal(s.records, 1);
}

static void test_string_escapes(void **state)
{
	static const char text[] = LINE_OF("1", "7", SUBJ, "\"allow\"", "")
		"\n{\"v\":1,\"seq\":8,\"time\":\"t\",\"op\":\"fork\",\"subject\":{},\"decision\":"
		"\"deny\",\"reason\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20AC"
		"\\ud83d\\ude00\"}";
	struct seen s = {.stop_with = 0};
	size_t consumed = 0;

	(void)state;
	assert_int_equal(gate_audit_read(text, sizeof(text) - 1, see, &s, &consumed), 0);
	assert_int_equal(s.records, 1);
	assert_int_equal(consumed, strchr(text, '\n') + 1 - text); /* the tail has no newline */
	s = read_text(text, sizeof(text) - 1, NULL);
	assert_int_equal(s.records, 2);
	/* the second record's reason, decoded */
	s = read_text(strchr(text, '\n') + 1, strlen(strchr(text, '\n') + 1), NULL);
	assert_string_equal(s.reason, "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
}

/* Lines are numbered; blank ones skipped; corrupt ones do not stop reading;
 * a nonzero callback does. */
static void test_lines(void **state)
{
	static const char text[] = GOOD "\n\n{garbage\n  \t\r\n" GOOD "\n";
	struct seen s = read_text(text, sizeof(text) - 1, NULL);
	size_t consumed = 0;

	(void)state;
	assert_int_equal(s.records, 2);
	assert_int_equal(s.errors, 1);
	assert_int_equal(s.lineno[0], 1);
	assert_int_equal(s.lineno[1], 3);
	assert_int_equal(s.lineno[2], 5);
	s = (struct seen){.stop_with = 42};
	assert_int_equal(gate_audit_read(text, sizeof(text) - 1, see, &s, &consumed), 42);
	assert_int_equal(s.records, 1);
	assert_int_equal(consumed, sizeof(GOOD));
	s = read_text("", 0, &consumed);
	assert_int_equal(s.records + s.errors, 0);
	assert_int_equal(consumed, 0);
	assert_int_equal(gate_audit_read(NULL, 1, see, &s, NULL), -EINVAL);
}

/* ---- the human view ------------------------------------------------------------- */

#define REC(op, subject, object, decision, tail)                                              \
	"{\"v\":1,\"seq\":1,\"time\":\"2024-01-02T03:04:05.678Z\",\"op\":\"" op "\",\"subject\":" \
	subject ",\"object\":" object ",\"decision\":\"" decision "\",\"reason\":\"why\"" tail "}"
#define PVM3 "{\"kind\":\"pvm\",\"pvm\":3,\"app\":\"notes\"}"
#define AT15 ",\"stage\":\"policy\",\"rule\":{\"file\":\"n.yaml\",\"line\":15}"
#define T "2024-01-02T03:04:05.678Z "

static const struct {
	const char *text;
	unsigned flags;
	const char *human;
} format_cases[] = {
	{REC("link", PVM3, "{\"pvm\":3,\"app\":\"notes\",\"lib\":\"libgood\",\"version\":\"1.5\"}",
	     "allow", AT15), 0,
	 T "link    pvm 3 (notes) -> pvm 3 (notes) lib libgood 1.5 ALLOW n.yaml:15"},
	{REC("update", PVM3, "{\"pvm\":3,\"app\":\"notes\",\"lib\":\"libgood\",\"version\":\"1.5\","
			     "\"old_version\":\"1.7\"}", "deny", ",\"stage\":\"signature\""),
	 GATE_AUDIT_FMT_REASON,
	 T "update  pvm 3 (notes) -> pvm 3 (notes) lib libgood 1.7 -> 1.5 DENY - (signature): why"},
	{REC("link", PVM3, "{\"pvm\":4,\"requested\":\"x\\u001b]0;\"}", "deny", ""), 0,
	 T "link    pvm 3 (notes) -> pvm 4 (empty) lib x\\x1b]0; DENY -"},
	{REC("boot", "{\"kind\":\"operator\",\"uid\":0}", "{\"app\":\"notes\",\"version\":\"1.0\"}",
	     "allow", AT15), 0, T "boot    operator uid 0 -> app notes 1.0 ALLOW n.yaml:15"},
	{REC("fork", PVM3, "{\"children\":1,\"members\":2}", "deny", AT15), 0,
	 T "fork    pvm 3 (notes) -> fork (children 1, members 2) DENY n.yaml:15"},
	{REC("ipc", PVM3, "{\"pvm\":4,\"app\":\"sync\",\"kind\":\"shm\",\"same_family\":false}",
	     "allow", AT15), 0, T "ipc     pvm 3 (notes) -> pvm 4 (sync) shm ALLOW n.yaml:15"},
	{REC("ipc", PVM3, "{\"pvm\":4,\"app\":\"notes\",\"kind\":\"pipe\",\"same_family\":true}",
	     "allow", AT15), 0,
	 T "ipc     pvm 3 (notes) -> pvm 4 (notes) pipe (family) ALLOW n.yaml:15"},
	{REC("recycle", "{\"kind\":\"pvm\",\"pvm\":9}", "{\"pvm\":9,\"app\":\"notes\"}", "allow",
	     AT15), 0, T "recycle pvm 9 (empty) -> pvm 9 <- app notes ALLOW n.yaml:15"},
	{REC("teleport", "{\"kind\":\"alien\\u202e\"}", "{\"app\":\"a\\\\b\"}", "deny", ""), 0,
	 T "teleport alien\\u{202e} -> app a\\x5cb DENY -"},
};

struct formatted {
	unsigned flags;
	size_t size, needed;
	char text[512];
};

static int format_one(void *ctx, const struct gate_audit_line *line)
{
	struct formatted *f = ctx;

	if (line->record == NULL)
		fail_msg("line %zu: %s", line->lineno, line->error);
	f->needed = gate_audit_format(line->record, f->flags, f->text, f->size);
	return 0;
}

static void test_format(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++) {
		const char *text = format_cases[i].text;
		struct formatted f = {.flags = format_cases[i].flags, .size = sizeof(f.text)};

		assert_int_equal(gate_audit_read(text, strlen(text), format_one, &f, NULL), 0);
		assert_string_equal(f.text, format_cases[i].human);
		assert_int_equal(f.needed, strlen(format_cases[i].human));
		/* snprintf-like when the buffer is short */
		f.size = 11;
		assert_int_equal(gate_audit_read(text, strlen(text), format_one, &f, NULL), 0);
		assert_int_equal(f.needed, strlen(format_cases[i].human));
		assert_string_equal(f.text, "2024-01-02");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_time, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_backend, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_strings, gx_gate_setup,
						gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_long_record, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_log_unwritable, gx_gate_setup,
						gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_log_open_errors, gx_gate_setup,
						gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_torn_line, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test_setup_teardown(test_threads, gx_gate_setup, gx_gate_teardown),
		cmocka_unit_test(test_corrupt_lines),
		cmocka_unit_test(test_corrupt_limits),
		cmocka_unit_test(test_good_lines),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests_name("gate audit", tests, gx_setup, gx_teardown);
}
