/*
 * The audit log, writing side: one JSON line per decision (the format is in
 * docs/audit-log.md), appended durably before the decision is returned.
 *
 * Durability: the log is opened O_APPEND; each record is built whole in
 * memory and handed to ONE write() (so concurrent appenders, even other
 * processes, never interleave inside a record: Linux serialises O_APPEND
 * writes to a regular file on a local filesystem, whatever their size,
 * PIPE_BUF being a limit for pipes only), then fdatasync() makes it durable.
 * Only then does the caller see the decision.  Any failure turns the
 * decision into a DENY.  The cost is one synchronous flush per decision
 * (0.4 ms on the development VM, 100x the rest of a fork decision);
 * GATE_OPT_NO_SYNC drops it, for benchmarks only.
 *
 * Every string in a record may come from a file or a guest: each is escaped
 * (quotes, backslashes, control characters, invalid UTF-8 as U+FFFD) and cut
 * at GATE_AUDIT_FIELD_MAX bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manager/gate/internal.h"

/* ---- opening -------------------------------------------------------------- */

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

/* A crash between write() and fdatasync() may leave a torn last line; end it
 * so that the next record starts a line of its own. */
static int terminate_torn_line(int fd, off_t size)
{
	char last;

	if (size == 0)
		return 0;
	if (pread(fd, &last, 1, size - 1) != 1)
		return errno ? -errno : -EIO;
	if (last == '\n')
		return 0;
	if (write(fd, "\n", 1) != 1)
		return errno ? -errno : -EIO;
	return fdatasync(fd) < 0 ? -errno : 0;
}

int gate_audit_open(struct gate *g, const char *path, unsigned flags, struct kx_error *err)
{
	struct stat st;
	int rc = 0;

	/* never through a symbolic link (kxd's log directory may be shared) */
	g->log_fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (g->log_fd < 0 || fstat(g->log_fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	/* Only a regular file can be made durable; a pipe or a device is the
	 * operator's choice and has nothing to sync. */
	if (!S_ISREG(st.st_mode))
		goto out;
	g->log_sync = !(flags & GATE_OPT_NO_SYNC);
	rc = terminate_torn_line(g->log_fd, st.st_size);
	if (rc == 0)
		rc = fsync_parent_dir(path); /* a new log's directory entry, too */
out:
	if (rc < 0)
		kx_err(err, rc, "audit log %s: %s", path, strerror(-rc));
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

/* The whole line, newline included, in g->line; 0 when it does not fit
 * (it always does: every field is bounded). */
static size_t build_record(const struct gate *g, const struct gate_req *r,
			   const struct gate_decision *d)
{
	struct jw w = {.buf = g->line, .cap = GATE_AUDIT_LINE_MAX - 1};

	put(&w, "{", 1);
	u64_member(&w, "v", GATE_AUDIT_FORMAT);
	u64_member(&w, "seq", d->seq);
	time_member(&w, g);
	str_member(&w, "op", kxp_op_name(r->op));
	party(&w, "subject", r->subject);
	object(&w, r);
	str_member(&w, "decision", d->verdict == KXP_ALLOW ? "allow" : "deny");
	str_member(&w, "stage", gate_stage_name(d->stage));
	field_member(&w, "reason", d->reason, sizeof(d->reason));
	if (r->has_sig) {
		begin(&w, "signature");
		str_member(&w, "status", gate_sig_status_name(r->sig.status));
		bool_member(&w, "cached", r->sig.cached);
		if (r->sig.status != GATE_SIG_OK)
			field_member(&w, "detail", r->sig.msg, sizeof(r->sig.msg));
		end(&w);
	}
	if (d->has_rule) {
		begin(&w, "rule");
		str_member(&w, "file", d->rule.file);
		u64_member(&w, "line", d->rule.line);
		u64_member(&w, "col", d->rule.col);
		field_member(&w, "desc", d->rule.desc, sizeof(d->rule.desc));
		end(&w);
	} else {
		key(&w, "rule");
		put_str(&w, "null");
	}
	put(&w, "}", 1);
	if (w.full)
		return 0;
	w.buf[w.len++] = '\n'; /* cap kept one byte for it */
	return w.len;
}

/* One write() of the line, then fdatasync().  *written says whether the
 * whole line reached the file (so a sync failure can be told apart). */
static int write_line(struct gate *g, size_t len, bool *written)
{
	ssize_t n;

	*written = false;
	do
		n = write(g->log_fd, g->line, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len) {
		/* a torn record: end its line so the next one stands alone */
		if (write(g->log_fd, "\n", 1) != 1)
			return -EIO;
		return -ENOSPC;
	}
	*written = true;
	if (g->log_sync && fdatasync(g->log_fd) < 0)
		return -errno;
	return 0;
}

int gate_audit_append(struct gate *g, const struct gate_req *r, struct gate_decision *d)
{
	size_t len;
	bool written = false;
	int rc;

	pthread_mutex_lock(&g->lock);
	d->seq = ++g->seq;
	len = build_record(g, r, d);
	rc = len == 0 ? -EMSGSIZE : write_line(g, len, &written);
	if (rc < 0) {
		d->verdict = KXP_DENY;
		d->stage = GATE_STAGE_AUDIT;
		snprintf(d->reason, sizeof(d->reason), "audit record %llu could not be %s (%s): "
			 "request refused", (unsigned long long)d->seq,
			 written ? "made durable" : "written", strerror(-rc));
		/* Its record reached the file but maybe not the disk: say, as far
		 * as the log still works, that the request was refused after all. */
		if (written) {
			d->seq = ++g->seq;
			len = build_record(g, r, d);
			if (len != 0)
				(void)write_line(g, len, &written);
		}
	}
	pthread_mutex_unlock(&g->lock);
	return rc;
}
