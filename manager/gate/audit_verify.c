/*
 * The audit log's chain, checked (kxctl audit verify): given a log and the
 * files rotated out of it, oldest first, name the first record that was
 * edited, dropped, reordered or cut off, or the first seal that does not
 * verify.  The bytes are untrusted: every line is parsed by the gate's own
 * bounded reader before anything in it is used.
 *
 * What holds a log together (docs/audit-log.md section 3):
 *   - each record's "prev" is the BLAKE2b-256 of the line before it, across
 *     files too, and "seq" counts up by one: a changed line breaks the link
 *     to the next one, a dropped line skips a seq, a moved one goes back;
 *   - each file starts with kxd's "open" record (its beginning cut off is
 *     seen) and ends with a "rotate" or "close" seal (its end cut off is
 *     seen), unless it is the live file kxd still writes;
 *   - each seal is signed by kxd's key over its own line, so over the whole
 *     chain before it: rewriting records and every "prev" after them still
 *     fails at the next seal.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "manager/gate/internal.h"

void gate_audit_hash(const void *line, size_t len, uint8_t out[GATE_AUDIT_HASH_BYTES])
{
	crypto_generichash(out, GATE_AUDIT_HASH_BYTES, line, len, NULL, 0);
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* n bytes from 2n lowercase hex digits; false on anything else. */
static bool unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_nibble(s[2 * i]), lo = hi < 0 ? -1 : hex_nibble(s[2 * i + 1]);

		if (lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

size_t gate_seal_message(const char *line, size_t len, uint8_t sig[KXSIG_SIG_BYTES])
{
	static const char member[] = GATE_SEAL_SIG_MEMBER;
	const size_t tail = sizeof(member) - 1 + 2 * KXSIG_SIG_BYTES + 2; /* + "} */
	size_t at;

	if (len < tail)
		return 0;
	at = len - tail;
	if (memcmp(line + at, member, sizeof(member) - 1) != 0 ||
	    memcmp(line + len - 2, "\"}", 2) != 0 ||
	    !unhex(line + at + sizeof(member) - 1, sig, KXSIG_SIG_BYTES))
		return 0;
	return at;
}

struct verifier {
	const struct gate_verify_file *files;
	size_t nfiles;
	const struct kxsig_pubkey *keys;
	size_t nkeys;
	struct gate_verify_report *rep;
	struct json_doc *doc;
	bool any;                           /* a record was read */
	uint8_t hash[GATE_AUDIT_HASH_BYTES]; /* of the last record */
	uint64_t seq;                       /* of the last record */
	size_t file, line;                  /* where the last record is */
	bool closed;                        /* the last record is a close or rotate seal */
	size_t seal_file, seal_line;        /* the last good seal (seal_line 0: none) */
};

__attribute__((format(printf, 4, 5)))
static bool fail(struct verifier *v, size_t file, size_t line, const char *fmt, ...)
{
	struct gate_verify_report *rep = v->rep;
	char what[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	rep->ok = false;
	rep->file = file;
	rep->line = line;
	if (line > 0)
		snprintf(rep->problem, sizeof(rep->problem), "%s:%zu: %s", v->files[file].name,
			 line, what);
	else
		snprintf(rep->problem, sizeof(rep->problem), "%s: %s", v->files[file].name, what);
	return false;
}

static bool is_seal(const char *event)
{
	return strcmp(event, "seal") == 0 || strcmp(event, "close") == 0 ||
	       strcmp(event, "rotate") == 0;
}

/* The previous record, for messages: "FILE:LINE". */
static void where_last(const struct verifier *v, char *buf, size_t size)
{
	snprintf(buf, size, "%s:%zu", v->files[v->file].name, v->line);
}

/* Whether a line of file f or a later one starts as kxd writes record
 * `want` (to tell a record moved later from one dropped: messages only). */
static bool seq_follows(const struct verifier *v, size_t f, uint64_t want)
{
	char head[64];
	int n = snprintf(head, sizeof(head), "{\"v\":%d,\"seq\":%llu,", GATE_AUDIT_FORMAT,
			 (unsigned long long)want);

	for (; f < v->nfiles; f++) {
		const char *text = v->files[f].bytes;
		size_t len = v->files[f].len;

		for (size_t pos = 0; pos < len;) {
			const char *nl = memchr(text + pos, '\n', len - pos);

			if (len - pos >= (size_t)n && memcmp(text + pos, head, (size_t)n) == 0)
				return true;
			if (nl == NULL)
				break;
			pos = (size_t)(nl - text) + 1;
		}
	}
	return false;
}

static bool check_link(struct verifier *v, size_t f, size_t ln,
		       const struct gate_audit_record *rec)
{
	uint8_t prev[GATE_AUDIT_HASH_BYTES];
	static const uint8_t zero[GATE_AUDIT_HASH_BYTES];
	char last[300];

	if (!unhex(rec->prev, prev, sizeof(prev)))
		return fail(v, f, ln, "record %llu: prev is not a hash",
			    (unsigned long long)rec->seq);
	if (!v->any) {
		v->rep->continues = memcmp(prev, zero, sizeof(prev)) != 0;
		return true;
	}
	where_last(v, last, sizeof(last));
	if (v->seq == UINT64_MAX)
		return fail(v, f, ln, "record %llu follows the last possible record number",
			    (unsigned long long)rec->seq);
	if (memcmp(prev, v->hash, sizeof(prev)) == 0 && rec->seq == v->seq + 1)
		return true;
	if (rec->seq <= v->seq || (rec->seq > v->seq + 1 && seq_follows(v, f, v->seq + 1)))
		return fail(v, f, ln, "record %llu is out of order: it follows record %llu (%s)",
			    (unsigned long long)rec->seq, (unsigned long long)v->seq, last);
	if (rec->seq == v->seq + 2)
		return fail(v, f, ln, "record %llu was dropped: record %llu follows record %llu "
			    "(%s)", (unsigned long long)v->seq + 1, (unsigned long long)rec->seq,
			    (unsigned long long)v->seq, last);
	if (rec->seq > v->seq + 2)
		return fail(v, f, ln, "records %llu..%llu were dropped: record %llu follows record "
			    "%llu (%s)", (unsigned long long)v->seq + 1,
			    (unsigned long long)rec->seq - 1, (unsigned long long)rec->seq,
			    (unsigned long long)v->seq, last);
	if (memcmp(prev, v->hash, sizeof(prev)) == 0)
		return fail(v, f, ln, "record %llu follows record %llu with an intact link: the "
			    "chain was rewritten", (unsigned long long)rec->seq,
			    (unsigned long long)v->seq);
	return fail(v, f, ln, "record %llu (%s) was edited: the next record, %llu, holds "
		    "another hash for it", (unsigned long long)v->seq, last,
		    (unsigned long long)rec->seq);
}

static bool check_seal(struct verifier *v, size_t f, size_t ln, const char *line, size_t len,
		       const struct gate_audit_record *rec)
{
	uint8_t sig[KXSIG_SIG_BYTES], keyid[KXSIG_KEYID_BYTES];
	const struct kxsig_pubkey *key = NULL;
	char since[320] = "the start";
	size_t msg = gate_seal_message(line, len, sig);

	if (msg == 0 || rec->key == NULL || strlen(rec->key) != 2 * KXSIG_KEYID_BYTES ||
	    !unhex(rec->key, keyid, sizeof(keyid)))
		return fail(v, f, ln, "seal %llu is malformed (no key or signature)",
			    (unsigned long long)rec->seq);
	for (size_t i = 0; i < v->nkeys && key == NULL; i++)
		if (memcmp(v->keys[i].keyid, keyid, sizeof(keyid)) == 0)
			key = &v->keys[i];
	if (key == NULL)
		return fail(v, f, ln, "seal %llu is by key %s, not a key given to check it",
			    (unsigned long long)rec->seq, rec->key);
	if (v->seal_line > 0)
		snprintf(since, sizeof(since), "the seal at %s:%zu", v->files[v->seal_file].name,
			 v->seal_line);
	if (kxsig_verify_detached(key, line, msg, sig, NULL) != 0)
		return fail(v, f, ln, "seal %llu does not verify with key %s: it, or a record "
			    "since %s, was changed", (unsigned long long)rec->seq, rec->key, since);
	v->rep->seals++;
	v->seal_file = f;
	v->seal_line = ln;
	v->rep->unsealed = 0;
	return true;
}

/* One line (without its newline) of file f. */
static bool check_line(struct verifier *v, size_t f, size_t ln, const char *line, size_t len,
		       bool first_in_file)
{
	struct gate_audit_record rec;
	char why[sizeof(v->doc->error) + 64];

	if (len == 0)
		return fail(v, f, ln, "an empty line (kxd writes none)");
	if (!gate_audit_parse_line(v->doc, line, len, &rec, why, sizeof(why)))
		return fail(v, f, ln, "not a record: %s", why);
	if (rec.format < 2)
		return fail(v, f, ln, "record %llu is of format %u, written before the chain: "
			    "it cannot be verified", (unsigned long long)rec.seq, rec.format);
	if (!check_link(v, f, ln, &rec))
		return false;
	if (first_in_file && !(rec.event && strcmp(rec.op, "audit") == 0 &&
			       strcmp(rec.event, "open") == 0))
		return fail(v, f, ln, "the file does not start with kxd's open record: its "
			    "beginning was cut off");
	if (strcmp(rec.op, "audit") == 0 && is_seal(rec.event) &&
	    !check_seal(v, f, ln, line, len, &rec))
		return false;
	v->closed = strcmp(rec.op, "audit") == 0 &&
		    (strcmp(rec.event, "close") == 0 || strcmp(rec.event, "rotate") == 0);
	gate_audit_hash(line, len, v->hash);
	v->seq = rec.seq;
	v->file = f;
	v->line = ln;
	v->any = true;
	v->rep->records++;
	if (!v->closed && !is_seal(rec.event ? rec.event : ""))
		v->rep->unsealed++;
	return true;
}

static bool check_file(struct verifier *v, size_t f, bool last, unsigned flags)
{
	const char *text = v->files[f].bytes;
	size_t len = v->files[f].len, pos = 0, ln = 0;

	if (len == 0)
		return fail(v, f, 0, "empty: kxd starts every file with an open record");
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);

		ln++;
		if (nl == NULL)
			return fail(v, f, ln, "cut off in the middle of a record (no newline)");
		if (!check_line(v, f, ln, text + pos, (size_t)(nl - text) - pos, ln == 1))
			return false;
		pos = (size_t)(nl - text) + 1;
	}
	if (v->closed || (last && (flags & GATE_VERIFY_LIVE)))
		return true;
	return fail(v, f, ln, "record %llu is the last and no closing seal follows: the %s "
		    "was cut off after it%s", (unsigned long long)v->seq, last ? "log" : "file",
		    last ? " (if kxd still writes this log, use --live)" : "");
}

int gate_audit_verify(const struct gate_verify_file *files, size_t nfiles,
		      const struct kxsig_pubkey *keys, size_t nkeys, unsigned flags,
		      struct gate_verify_report *rep)
{
	struct verifier v = {.files = files, .nfiles = nfiles, .keys = keys, .nkeys = nkeys, .rep = rep};
	int rc = 0;

	memset(rep, 0, sizeof(*rep));
	rep->ok = true;
	if (nfiles == 0 || files == NULL) {
		snprintf(rep->problem, sizeof(rep->problem), "no log to verify");
		rep->ok = false;
		return 0;
	}
	v.doc = malloc(sizeof(*v.doc));
	if (v.doc == NULL)
		return -ENOMEM;
	v.doc->scratch_size = GATE_AUDIT_LINE_MAX;
	v.doc->scratch = malloc(v.doc->scratch_size);
	if (v.doc->scratch == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t f = 0; f < nfiles; f++)
		if (!check_file(&v, f, f + 1 == nfiles, flags))
			break;
out:
	free(v.doc->scratch);
	free(v.doc);
	return rc;
}
