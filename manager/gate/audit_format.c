/*
 * The human view of an audit record (`kxctl audit` without --json): one
 * line per decision.  Records are read from an untrusted log, so every
 * string is shown safely: printable ASCII and printable UTF-8 as they are,
 * anything else (control characters, DEL, C1 controls, bidi overrides,
 * invalid bytes) as \xNN or \u{NNNN}, so a record cannot move the cursor,
 * recolour the terminal or reorder what is shown around it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "manager/gate/internal.h"

/* snprintf-like: counts everything, stores what fits, always terminates. */
struct out {
	char *buf;
	size_t size, len;
};

static void raw(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++, o->len++)
		if (o->len + 1 < o->size)
			o->buf[o->len] = s[i];
}

__attribute__((format(printf, 2, 3)))
static void outf(struct out *o, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		raw(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void safe(struct out *o, const char *s)
{
	const unsigned char *u = (const unsigned char *)(s != NULL ? s : "?");
	size_t n = strlen((const char *)u), i = 0, seq;
	uint32_t cp;

	while (i < n) {
		seq = gate_utf8_decode(u + i, n - i, &cp);
		if (seq == 0 || (seq == 1 && gate_cp_is_unsafe(cp)) || u[i] == '\\') {
			outf(o, "\\x%02x", u[i]);
			i++;
		} else if (gate_cp_is_unsafe(cp)) {
			outf(o, "\\u{%04x}", (unsigned)cp);
			i += seq;
		} else {
			raw(o, (const char *)u + i, seq);
			i += seq;
		}
	}
}

static void party(struct out *o, const struct gate_audit_party *p)
{
	if (p->kind != NULL && strcmp(p->kind, "operator") == 0) {
		outf(o, "operator uid %u", p->uid);
	} else if (p->kind != NULL && strcmp(p->kind, "pvm") == 0) {
		outf(o, "pvm %llu (", (unsigned long long)p->pvm);
		safe(o, p->app != NULL ? p->app : "empty");
		raw(o, ")", 1);
	} else {
		safe(o, p->kind);
	}
}

static void target(struct out *o, const struct gate_audit_object *obj)
{
	if (!obj->has_pvm)
		return;
	outf(o, "pvm %llu (", (unsigned long long)obj->pvm);
	safe(o, obj->app != NULL ? obj->app : "empty");
	raw(o, ") ", 2);
}

/* " WORD text" for a field that is there. */
static void labelled(struct out *o, const char *label, const char *text)
{
	if (text == NULL)
		return;
	outf(o, "%s", label);
	safe(o, text);
}

static void object(struct out *o, const struct gate_audit_record *rec)
{
	const struct gate_audit_object *obj = &rec->object;
	const char *op = rec->op;

	if (strcmp(op, "link") == 0 || strcmp(op, "update") == 0) {
		target(o, obj);
		labelled(o, "lib ", obj->lib != NULL ? obj->lib : obj->requested);
		labelled(o, " ", obj->old_version);
		labelled(o, obj->old_version != NULL ? " -> " : " ", obj->version);
	} else if (strcmp(op, "fork") == 0) {
		outf(o, "fork (children %u, members %u)", obj->children, obj->members);
	} else if (strcmp(op, "ipc") == 0) {
		target(o, obj);
		safe(o, obj->kind);
		if (obj->has_same_family && obj->same_family)
			raw(o, " (family)", 9);
	} else if (strcmp(op, "file") == 0) {
		labelled(o, "mount ", obj->guest);
		labelled(o, " <- host ", obj->host);
		if (obj->has_image && obj->image)
			raw(o, " <- image", 9);
		labelled(o, " ", obj->mode);
	} else if (strcmp(op, "net") == 0) {
		labelled(o, "iface ", obj->iface);
	} else if (strcmp(op, "recycle") == 0) {
		/* the object's app is the one the empty pVM is to run */
		if (obj->has_pvm)
			outf(o, "pvm %llu ", (unsigned long long)obj->pvm);
		labelled(o, "<- app ", obj->app);
		labelled(o, " ", obj->version);
	} else {
		labelled(o, "app ", obj->app);
		labelled(o, " ", obj->version);
	}
}

/* A record of the log itself: "open key K", "seal (N records) key K",
 * "unlogged 3 decisions DENY", "suppressed 250 requests of pvm 1 (notes)". */
static void log_event(struct out *o, const struct gate_audit_record *rec, unsigned flags)
{
	safe(o, rec->event);
	if (rec->subject.kind != NULL) {
		raw(o, " ", 1);
		party(o, &rec->subject);
	}
	if (rec->has_count)
		outf(o, " %llu", (unsigned long long)rec->count);
	labelled(o, " key ", rec->key);
	if ((flags & GATE_AUDIT_FMT_REASON) && rec->reason != NULL) {
		raw(o, ": ", 2);
		safe(o, rec->reason);
	}
}

size_t gate_audit_format(const struct gate_audit_record *rec, unsigned flags, char *buf,
			 size_t size)
{
	struct out o = {.buf = buf, .size = size};
	size_t oplen = strlen(rec->op);

	safe(&o, rec->time);
	raw(&o, " ", 1);
	safe(&o, rec->op);
	raw(&o, "        ", oplen < 8 ? 8 - oplen : 1); /* "recycle " is the longest */
	if (strcmp(rec->op, "audit") == 0) {
		log_event(&o, rec, flags);
		goto out;
	}
	party(&o, &rec->subject);
	raw(&o, " -> ", 4);
	object(&o, rec);
	raw(&o, rec->allowed ? " ALLOW " : " DENY ", rec->allowed ? 7 : 6);
	if (rec->has_rule) {
		safe(&o, rec->rule_file);
		outf(&o, ":%u", rec->rule_line);
	} else {
		raw(&o, "-", 1);
		if (rec->stage != NULL) {
			raw(&o, " (", 2);
			safe(&o, rec->stage);
			raw(&o, ")", 1);
		}
	}
	if ((flags & GATE_AUDIT_FMT_REASON) && rec->reason != NULL) {
		raw(&o, ": ", 2);
		safe(&o, rec->reason);
	}
out:
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}
