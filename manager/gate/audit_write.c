/*
 * The audit log, writing side: one JSON line per decision (the format is in
 * docs/audit-log.md), appended durably before the decision is returned, and
 * chained: each record carries the BLAKE2b-256 of the line before it
 * ("prev"), and gate_seal() signs the chain with kxd's key.
 *
 * Whole records or nothing: the records of one decision are built in memory
 * and written together (audit_sync.c: gate_log_commit), then made durable;
 * only then does the caller see the decision.  Any failure (a full disk, an I/O error)
 * turns the decision into a DENY and cuts the file back at once to its last
 * whole record, so nothing torn stays for the next record to be appended
 * onto; the first record that can be written again says how many decisions
 * were denied unlogged.  One gate writes a log (kxd holds it); a crash
 * between write() and fdatasync() can leave a torn last line, which the next
 * gate_open() cuts off (the decision was never answered) and reports in its
 * "open" record.  GATE_OPT_NO_SYNC drops the flush, for benchmarks only.
 *
 * Every string in a record may come from a file or a guest: each is escaped
 * (quotes, backslashes, control characters, invalid UTF-8 as U+FFFD) and cut
 * at GATE_AUDIT_FIELD_MAX bytes.
 */
#define _GNU_SOURCE /* memrchr */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manager/gate/internal.h"

/* ---- files ----------------------------------------------------------------- */

static int fsync_parent_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, rc = 0;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* ---- JSON -------------------------------------------------------------------- */

struct jw {
	char *buf;
	size_t len, cap;
	bool full;
};

static void put(struct jw *w, const char *s, size_t n)
{
	if (w->full || n > w->cap - w->len) {
		w->full = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void put_str(struct jw *w, const char *s)
{
	put(w, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void putf(struct jw *w, const char *fmt, ...)
{
	char tmp[96];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		w->full = true;
	else
		put(w, tmp, (size_t)n);
}

/* n bytes of s as a JSON string; "..." marks a cut one. */
static void put_text(struct jw *w, const char *s, size_t n, bool cut)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;
	size_t i = 0, seq;

	put(w, "\"", 1);
	while (i < n) {
		if (u[i] == '"' || u[i] == '\\') {
			putf(w, "\\%c", u[i++]);
		} else if (u[i] == '\n') {
			put_str(w, "\\n");
			i++;
		} else if (u[i] == '\t') {
			put_str(w, "\\t");
			i++;
		} else if (u[i] < 0x80 && !gate_cp_is_unsafe(u[i])) {
			put(w, s + i++, 1);
		} else if ((seq = gate_utf8_decode(u + i, n - i, &cp)) == 0) {
			put_str(w, "\\ufffd"); /* not UTF-8: one replacement per byte */
			i++;
		} else if (gate_cp_is_unsafe(cp)) {
			putf(w, "\\u%04x", (unsigned)cp); /* every unsafe cp is in the BMP */
			i += seq;
		} else {
			put(w, s + i, seq);
			i += seq;
		}
	}
	if (cut)
		put_str(w, "...");
	put(w, "\"", 1);
}

/* strnlen(), spelt out: the compiler warns about strnlen() bounds larger
 * than a string literal it can see, however harmless. */
static size_t bounded_len(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != '\0')
		n++;
	return n;
}

/* A C string, cut at GATE_AUDIT_FIELD_MAX bytes. */
static void put_string(struct jw *w, const char *s)
{
	size_t n = bounded_len(s, GATE_AUDIT_FIELD_MAX + 1);

	put_text(w, s, n > GATE_AUDIT_FIELD_MAX ? GATE_AUDIT_FIELD_MAX : n,
		 n > GATE_AUDIT_FIELD_MAX);
}

/* The separator a member needs: none right after an opening brace. */
static void key(struct jw *w, const char *k)
{
	if (w->len > 0 && w->buf[w->len - 1] != '{')
		put(w, ",", 1);
	putf(w, "\"%s\":", k);
}

static void str_member(struct jw *w, const char *k, const char *s)
{
	if (s == NULL)
		return;
	key(w, k);
	put_string(w, s);
}

/* A fixed-size text field (kxsig metadata): never read past it. */
static void field_member(struct jw *w, const char *k, const char *field, size_t size)
{
	key(w, k);
	put_text(w, field, bounded_len(field, size), false);
}

static void u64_member(struct jw *w, const char *k, uint64_t v)
{
	key(w, k);
	putf(w, "%llu", (unsigned long long)v);
}

static void bool_member(struct jw *w, const char *k, bool v)
{
	key(w, k);
	put_str(w, v ? "true" : "false");
}

static void hex_member(struct jw *w, const char *k, const uint8_t *bytes, size_t n)
{
	key(w, k);
	put(w, "\"", 1);
	for (size_t i = 0; i < n; i++)
		putf(w, "%02x", bytes[i]);
	put(w, "\"", 1);
}

static void begin(struct jw *w, const char *k)
{
	key(w, k);
	put(w, "{", 1);
}

static void end(struct jw *w)
{
	put(w, "}", 1);
}

/* ---- the record --------------------------------------------------------------- */

static void time_member(struct jw *w, const struct gate *g)
{
	struct timespec ts = {0};
	struct tm tm;
	char when[64];

	if ((g->clock ? g->clock(&ts) : clock_gettime(CLOCK_REALTIME, &ts)) != 0 ||
	    ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
		ts = (struct timespec){0};
	if (gmtime_r(&ts.tv_sec, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	if (strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		when[0] = '\0';
	key(w, "time");
	putf(w, "\"%s.%03ldZ\"", when, ts.tv_nsec / 1000000L);
}

static void party(struct jw *w, const char *k, const struct gate_subject *s)
{
	begin(w, k);
	if (s != NULL && s->kind == GATE_SUBJECT_OPERATOR) {
		str_member(w, "kind", "operator");
		u64_member(w, "uid", s->uid);
	} else if (s != NULL && s->kind == GATE_SUBJECT_PVM) {
		str_member(w, "kind", "pvm");
		u64_member(w, "pvm", s->pvm_id);
		str_member(w, "app", s->app);
		u64_member(w, "family", s->family_id);
		u64_member(w, "depth", s->depth);
	} else if (s != NULL) {
		str_member(w, "kind", "invalid");
	}
	end(w);
}

/* The target pVM, as far as the request names one. */
static void target_members(struct jw *w, const struct gate_subject *t, bool family)
{
	if (t == NULL || t->kind != GATE_SUBJECT_PVM)
		return;
	u64_member(w, "pvm", t->pvm_id);
	str_member(w, "app", t->app);
	if (family)
		u64_member(w, "family", t->family_id);
}

/* What the object file proved (name, version, signer) and its digest. */
static void signed_members(struct jw *w, const struct gate_req *r)
{
	const struct gate_sig_check *s = &r->sig;

	if (!r->has_sig)
		return;
	if (s->proven) {
		field_member(w, "name", s->meta.name, sizeof(s->meta.name));
		field_member(w, "version", s->meta.version, sizeof(s->meta.version));
		hex_member(w, "signer", s->meta.keyid, sizeof(s->meta.keyid));
	}
	if (s->has_digest)
		hex_member(w, "digest", s->digest, sizeof(s->digest));
}

static void object(struct jw *w, const struct gate_req *r)
{
	begin(w, "object");
	switch (r->op) {
	case KXP_OP_BOOT:
		str_member(w, "app", r->app);
		break;
	case KXP_OP_RECYCLE:
		/* the empty pVM, and the app it is to run */
		if (r->target != NULL && r->target->kind == GATE_SUBJECT_PVM)
			u64_member(w, "pvm", r->target->pvm_id);
		str_member(w, "app", r->app);
		break;
	case KXP_OP_LINK:
	case KXP_OP_UPDATE:
		target_members(w, r->target, false);
		str_member(w, "lib", r->lib);
		str_member(w, "requested", r->requested);
		break;
	case KXP_OP_FORK:
		u64_member(w, "children", r->counts.children);
		u64_member(w, "members", r->counts.members);
		break;
	case KXP_OP_IPC:
		target_members(w, r->target, true);
		str_member(w, "kind", kxp_ipc_kind_name(r->ipc_kind));
		bool_member(w, "same_family", r->same_family);
		break;
	case KXP_OP_FILE:
		str_member(w, "guest", r->guest);
		str_member(w, "host", r->host);
		bool_member(w, "image", r->host == NULL);
		str_member(w, "mode", r->writable ? "rw" : "ro");
		break;
	case KXP_OP_NET:
		str_member(w, "iface", r->iface);
		break;
	}
	if (r->has_relation)
		str_member(w, "relation", kxp_relation_name(r->relation));
	signed_members(w, r);
	if (r->op == KXP_OP_UPDATE && r->old != NULL) {
		field_member(w, "old_version", r->old->version, sizeof(r->old->version));
		hex_member(w, "old_digest", r->old->digest, sizeof(r->old->digest));
	}
	end(w);
}

/* ---- records -------------------------------------------------------------------- */

/* {"v":2,"seq":N,"prev":"HEX","time":"...": how every record starts. */
static void record_head(struct jw *w, const struct gate *g, uint64_t seq,
			const uint8_t prev[GATE_AUDIT_HASH_BYTES])
{
	put(w, "{", 1);
	u64_member(w, "v", GATE_AUDIT_FORMAT);
	u64_member(w, "seq", seq);
	hex_member(w, "prev", prev, GATE_AUDIT_HASH_BYTES);
	time_member(w, g);
}

/* A record of the log itself (op "audit"). */
static void event_head(struct jw *w, const struct gate *g, uint64_t seq,
		       const uint8_t prev[GATE_AUDIT_HASH_BYTES], const char *event)
{
	record_head(w, g, seq, prev);
	str_member(w, "op", "audit");
	str_member(w, "event", event);
}

/* End the record that starts at w->buf + start: close it, add its newline
 * and put its hash in chain.  false when it did not fit or is longer than a
 * record may be (never: every field is bounded). */
static bool record_end(struct jw *w, size_t start, uint8_t chain[GATE_AUDIT_HASH_BYTES])
{
	put(w, "}\n", 2);
	if (w->full || w->len - start > GATE_AUDIT_LINE_MAX)
		return false;
	gate_audit_hash(w->buf + start, w->len - start - 1, chain);
	return true;
}

static void decision_record(struct jw *w, const struct gate *g, uint64_t seq,
			    const uint8_t prev[GATE_AUDIT_HASH_BYTES], const struct gate_req *r,
			    const struct gate_decision *d)
{
	record_head(w, g, seq, prev);
	str_member(w, "op", kxp_op_name(r->op));
	if (g->backend[0] != '\0')
		str_member(w, "backend", g->backend);
	party(w, "subject", r->subject);
	object(w, r);
	str_member(w, "decision", d->verdict == KXP_ALLOW ? "allow" : "deny");
	str_member(w, "stage", gate_stage_name(d->stage));
	field_member(w, "reason", d->reason, sizeof(d->reason));
	if (r->has_sig) {
		begin(w, "signature");
		str_member(w, "status", gate_sig_status_name(r->sig.status));
		bool_member(w, "cached", r->sig.cached);
		if (r->sig.status != GATE_SIG_OK)
			field_member(w, "detail", r->sig.msg, sizeof(r->sig.msg));
		end(w);
	}
	if (d->has_rule) {
		begin(w, "rule");
		str_member(w, "file", d->rule.file);
		u64_member(w, "line", d->rule.line);
		u64_member(w, "col", d->rule.col);
		field_member(w, "desc", d->rule.desc, sizeof(d->rule.desc));
		end(w);
	} else {
		key(w, "rule");
		put_str(w, "null");
	}
}

int gate_audit_append(struct gate *g, const struct gate_req *r, struct gate_decision *d)
{
	struct jw w = {.buf = g->line, .cap = GATE_LINE_BUF};
	uint8_t chain[GATE_AUDIT_HASH_BYTES];
	uint64_t seq;
	size_t start;
	bool fits = true;
	int rc;

	pthread_mutex_lock(&g->lock);
	memcpy(chain, g->chain, sizeof(chain));
	seq = g->seq;
	if (g->unlogged > 0) {
		/* the first record that can be written says what was lost */
		char why[160];

		snprintf(why, sizeof(why), "%llu decision%s denied because %s record%s could not "
			 "be written (%s)", (unsigned long long)g->unlogged,
			 g->unlogged == 1 ? " was" : "s were", g->unlogged == 1 ? "its" : "their",
			 g->unlogged == 1 ? "" : "s", strerror(g->unlogged_errno));
		event_head(&w, g, ++seq, chain, "unlogged");
		u64_member(&w, "count", g->unlogged);
		str_member(&w, "reason", why);
		fits = record_end(&w, 0, chain);
	}
	start = w.len;
	d->seq = ++seq;
	decision_record(&w, g, seq, chain, r, d);
	fits = record_end(&w, start, chain) && fits;
	if (g->sync_mode == GATE_SYNC_INTERVAL && g->flush_errno != 0)
		rc = -g->flush_errno; /* the log cannot be made durable: refuse */
	else
		rc = fits ? gate_log_commit(g, g->line, w.len, g->sync_mode == GATE_SYNC_ALWAYS) : -EMSGSIZE;
	if (rc == 0) {
		uint64_t reported = g->unlogged, epoch = g->epoch;

		g->unsealed += seq - g->seq;
		g->seq = seq;
		memcpy(g->chain, chain, sizeof(chain));
		g->unlogged = 0;
		if (g->sync_mode == GATE_SYNC_ALWAYS) {
			gate_mark_durable(g);
		} else if (g->sync_mode == GATE_SYNC_GROUP && g->held) {
			g->held_decisions++; /* the caller commits before answering */
			g->held_reported += reported;
		} else if (g->sync_mode == GATE_SYNC_GROUP) {
			rc = gate_group_sync(g, g->log_size, epoch);
		}
		if (rc != 0)
			g->unlogged += reported; /* that record was cut off too */
	}
	if (rc != 0) {
		g->unlogged++;
		g->unlogged_errno = -rc;
		d->verdict = KXP_DENY;
		d->stage = GATE_STAGE_AUDIT;
		snprintf(d->reason, sizeof(d->reason), "audit record %llu could not be %s "
			 "(%s): request refused", (unsigned long long)d->seq,
			 g->sync_mode == GATE_SYNC_GROUP ? "written or made durable" : "written",
			 strerror(-rc));
		d->seq = 0; /* no record has it */
	}
	if (d->verdict != KXP_ALLOW)
		g->denials++;
	pthread_mutex_unlock(&g->lock);
	return rc;
}

/* A record of the log itself about a subject (op "audit"), made durable at
 * once: kxd's "suppressed" records. */
int gate_audit_event(struct gate *g, const char *event, const struct gate_subject *subject,
		     uint64_t count, const char *reason)
{
	struct jw w = {.buf = g->line, .cap = GATE_LINE_BUF};
	uint8_t chain[GATE_AUDIT_HASH_BYTES];
	int rc;

	pthread_mutex_lock(&g->lock);
	event_head(&w, g, g->seq + 1, g->chain, event);
	if (subject != NULL)
		party(&w, "subject", subject);
	u64_member(&w, "count", count);
	str_member(&w, "reason", reason);
	rc = record_end(&w, 0, chain) ? gate_log_commit(g, w.buf, w.len, true) : -EMSGSIZE;
	if (rc == 0) {
		g->seq++;
		g->unsealed++;
		memcpy(g->chain, chain, sizeof(chain));
		gate_mark_durable(g);
	}
	pthread_mutex_unlock(&g->lock);
	return rc;
}

/* ---- seals ------------------------------------------------------------------------ */

static int seal_locked(struct gate *g, enum gate_seal_kind kind, struct kx_error *err)
{
	static const char *const names[] = {
		[GATE_SEAL_INTERVAL] = "seal", [GATE_SEAL_CLOSE] = "close",
		[GATE_SEAL_ROTATE] = "rotate",
	};
	struct jw w = {.buf = g->line, .cap = GATE_LINE_BUF};
	uint8_t chain[GATE_AUDIT_HASH_BYTES], sig[KXSIG_SIG_BYTES], keyid[KXSIG_KEYID_BYTES];
	int rc;

	if (g->seal_key == NULL)
		return kx_err(err, -ENOKEY, "audit log %s: no seal key", g->log_path);
	if (kind == GATE_SEAL_INTERVAL && g->unsealed == 0)
		return 0;
	kxsig_seckey_keyid(g->seal_key, keyid);
	event_head(&w, g, g->seq + 1, g->chain, names[kind]);
	u64_member(&w, "records", g->unsealed);
	hex_member(&w, "key", keyid, sizeof(keyid));
	if (w.full)
		return kx_err(err, -EMSGSIZE, "audit log %s: seal does not fit", g->log_path);
	/* the signature covers the line up to its own member */
	rc = kxsig_sign_detached(g->seal_key, w.buf, w.len, sig, err);
	if (rc < 0)
		return rc;
	put_str(&w, GATE_SEAL_SIG_MEMBER);
	for (size_t i = 0; i < sizeof(sig); i++)
		putf(&w, "%02x", sig[i]);
	put(&w, "\"", 1);
	if (!record_end(&w, 0, chain))
		return kx_err(err, -EMSGSIZE, "audit log %s: seal does not fit", g->log_path);
	rc = gate_log_commit(g, w.buf, w.len, true);
	if (rc < 0)
		return kx_err(err, rc, "audit log %s: seal record %llu: %s", g->log_path,
			      (unsigned long long)(g->seq + 1), strerror(-rc));
	g->seq++;
	memcpy(g->chain, chain, sizeof(chain));
	g->unsealed = 0;
	gate_mark_durable(g); /* the seal's flush covers everything before it */
	return 0;
}

int gate_seal(struct gate *g, enum gate_seal_kind kind, struct kx_error *err)
{
	int rc;

	if (g == NULL || (unsigned)kind > GATE_SEAL_ROTATE)
		return kx_err(err, -EINVAL, "gate_seal: no gate or no such seal");
	pthread_mutex_lock(&g->lock);
	rc = seal_locked(g, kind, err);
	pthread_mutex_unlock(&g->lock);
	return rc;
}

/* ---- opening ------------------------------------------------------------------------ */

static int pread_all(int fd, char *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* The seq of a record line (0 when it is not one). */
static uint64_t line_seq(const char *line, size_t len)
{
	struct json_doc *doc = malloc(sizeof(*doc));
	struct gate_audit_record rec;
	char why[256];
	uint64_t seq = 0;

	if (doc == NULL)
		return 0;
	doc->scratch_size = len + 1;
	doc->scratch = malloc(doc->scratch_size);
	if (doc->scratch != NULL && gate_audit_parse_line(doc, line, len, &rec, why, sizeof(why)))
		seq = rec.seq;
	free(doc->scratch);
	free(doc);
	return seq;
}

/* Continue the chain of an existing log: a torn last line (a crash between
 * write() and fdatasync(), so a decision never answered) is cut off, and
 * the seq and hash of the last line are taken.  An empty file keeps the
 * chain the gate has (a rotation).  *torn: the bytes cut. */
static int recover_tail(struct gate *g, off_t size, uint64_t *torn)
{
	size_t window = size > GATE_LINE_BUF ? GATE_LINE_BUF : (size_t)size;
	off_t from = size - (off_t)window;
	char *buf = g->line, *nl;
	size_t end = window, start;
	int rc;

	*torn = 0;
	g->log_size = size;
	if (size == 0)
		return 0;
	rc = pread_all(g->log_fd, buf, window, from);
	if (rc < 0)
		return rc;
	if (buf[window - 1] != '\n') {
		nl = memrchr(buf, '\n', window);
		if (nl == NULL && from > 0)
			return -EBADMSG; /* a last line longer than any record */
		end = nl == NULL ? 0 : (size_t)(nl - buf) + 1;
		*torn = window - end;
		if (ftruncate(g->log_fd, from + (off_t)end) < 0 || fdatasync(g->log_fd) < 0)
			return -errno;
		g->log_size = from + (off_t)end;
	}
	if (end == 0)
		return 0;
	nl = end > 1 ? memrchr(buf, '\n', end - 1) : NULL;
	if (nl == NULL && from > 0)
		return -EBADMSG;
	start = nl == NULL ? 0 : (size_t)(nl - buf) + 1;
	gate_audit_hash(buf + start, end - 1 - start, g->chain);
	g->seq = line_seq(buf + start, end - 1 - start);
	return 0;
}

static int open_record(struct gate *g, uint64_t torn)
{
	struct jw w = {.buf = g->line, .cap = GATE_LINE_BUF};
	uint8_t chain[GATE_AUDIT_HASH_BYTES], keyid[KXSIG_KEYID_BYTES];
	int rc;

	event_head(&w, g, g->seq + 1, g->chain, "open");
	if (g->seal_key != NULL) {
		kxsig_seckey_keyid(g->seal_key, keyid);
		hex_member(&w, "key", keyid, sizeof(keyid));
	}
	if (torn > 0)
		u64_member(&w, "torn", torn);
	if (!record_end(&w, 0, chain))
		return -EMSGSIZE;
	rc = gate_log_commit(g, w.buf, w.len, true);
	if (rc < 0)
		return rc;
	g->seq++;
	g->unsealed++;
	memcpy(g->chain, chain, sizeof(chain));
	gate_mark_durable(g);
	return 0;
}

static int open_file(struct gate *g, struct kx_error *err)
{
	struct stat st;
	uint64_t torn = 0;
	int rc = 0;

	g->log_fd = open(g->log_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (g->log_fd < 0 || fstat(g->log_fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	g->log_dirty = false;
	g->log_size = 0;
	g->prealloc_end = 0;
	g->prealloc_off = (g->flags & GATE_OPT_NO_PREALLOC) != 0;
	/* Only a regular file can be made durable and cut back; a pipe or a
	 * device is the operator's choice and has nothing to sync. */
	g->log_regular = S_ISREG(st.st_mode);
	g->log_sync = g->log_regular && !(g->flags & GATE_OPT_NO_SYNC);
	g->durable = (struct gate_durable){0};
	if (g->log_regular) {
		/* one writer per log, or the chain forks */
		if (flock(g->log_fd, LOCK_EX | LOCK_NB) != 0) {
			rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
			goto out;
		}
		rc = recover_tail(g, st.st_size, &torn);
		if (rc == 0)
			rc = fsync_parent_dir(g->log_path); /* a new log's directory entry, too */
		if (rc == 0)
			gate_mark_durable(g); /* what the file held before: as it is */
	}
	if (rc == 0)
		rc = open_record(g, torn);
out:
	if (rc < 0)
		kx_err(err, rc, "audit log %s: %s", g->log_path,
		       rc == -EBADMSG ? "ends in a line longer than any record: not an audit log"
		       : rc == -EBUSY ? "another gate (kxd) writes it"
				      : strerror(-rc));
	return rc;
}

int gate_audit_open(struct gate *g, const char *path, const struct gate_opts *opts,
		    struct kx_error *err)
{
	int rc;

	g->flags = opts ? opts->flags : 0;
	g->seal_key = opts ? opts->seal_key : NULL;
	g->sync_mode = opts ? opts->sync : GATE_SYNC_GROUP;
	g->sync_ms = opts ? opts->sync_interval_ms : 0;
	if ((unsigned)g->sync_mode > GATE_SYNC_INTERVAL ||
	    (g->sync_mode == GATE_SYNC_INTERVAL &&
	     (g->sync_ms < 1 || g->sync_ms > GATE_SYNC_INTERVAL_MAX_MS)))
		return kx_err(err, -EINVAL, "audit log %s: no such sync mode", path);
	g->log_path = strdup(path);
	if (g->log_path == NULL)
		return kx_err(err, -ENOMEM, "out of memory");
	rc = open_file(g, err);
	if (rc == 0 && g->sync_mode == GATE_SYNC_INTERVAL)
		rc = gate_flusher_start(g, err);
	return rc;
}

int gate_rotate(struct gate *g, struct kx_error *err)
{
	int rc = 0;

	if (g == NULL)
		return kx_err(err, -EINVAL, "gate_rotate: no gate");
	pthread_mutex_lock(&g->lock);
	if (g->seal_key != NULL)
		rc = seal_locked(g, GATE_SEAL_ROTATE, err);
	if (rc == 0) {
		close(g->log_fd);
		rc = open_file(g, err);
	}
	pthread_mutex_unlock(&g->lock);
	return rc;
}
