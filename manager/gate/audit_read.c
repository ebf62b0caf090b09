/*
 * The audit log, reading side (for `kxctl audit`): lines -> records.
 *
 * The bytes are untrusted: the log may be truncated, torn by a crash,
 * edited, or not a log at all.  Each line is parsed on its own by the
 * bounded reader in json.c and mapped onto struct gate_audit_record by the
 * field tables below; a line that is too long, not JSON, or has a known
 * field of the wrong type or a required one missing is reported as corrupt
 * (with the reason) and reading goes on.  Unknown members are ignored, so a
 * newer writer's additions do not break an older reader.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manager/gate/internal.h"

enum field_type { F_STR, F_U64, F_U32, F_BOOL };

#define NO_HAS SIZE_MAX

/* One member: its key, its type, where it goes, and where its has_* flag is. */
struct field {
	const char *key;
	enum field_type type;
	size_t off, has_off;
	bool required;
};

#define FIELD(type_, key_, st, m, has, req) {key_, type_, offsetof(st, m), has, req}
#define OPT(type_, key_, st, m) FIELD(type_, key_, st, m, NO_HAS, false)
#define OPT_HAS(type_, key_, st, m) FIELD(type_, key_, st, m, offsetof(st, has_##m), false)
#define REQ(type_, key_, st, m) FIELD(type_, key_, st, m, NO_HAS, true)

#define P struct gate_audit_party
static const struct field party_fields[] = {
	OPT(F_STR, "kind", P, kind),        OPT(F_STR, "app", P, app),
	OPT_HAS(F_U64, "pvm", P, pvm),      OPT_HAS(F_U64, "family", P, family),
	OPT_HAS(F_U32, "depth", P, depth),  OPT_HAS(F_U32, "uid", P, uid),
};
#undef P

#define O struct gate_audit_object
static const struct field object_fields[] = {
	OPT_HAS(F_U64, "pvm", O, pvm),          OPT_HAS(F_U64, "family", O, family),
	OPT_HAS(F_U32, "depth", O, depth),      OPT_HAS(F_U32, "children", O, children),
	OPT_HAS(F_U32, "members", O, members),  OPT_HAS(F_BOOL, "same_family", O, same_family),
	OPT(F_STR, "app", O, app),              OPT(F_STR, "lib", O, lib),
	OPT(F_STR, "requested", O, requested),  OPT(F_STR, "name", O, name),
	OPT(F_STR, "version", O, version),      OPT(F_STR, "old_version", O, old_version),
	OPT(F_STR, "signer", O, signer),        OPT(F_STR, "digest", O, digest),
	OPT(F_STR, "old_digest", O, old_digest), OPT(F_STR, "relation", O, relation),
	OPT(F_STR, "kind", O, kind),            OPT(F_STR, "guest", O, guest),
	OPT(F_STR, "host", O, host),            OPT(F_STR, "mode", O, mode),
	OPT(F_STR, "iface", O, iface),          OPT_HAS(F_BOOL, "image", O, image),
};
#undef O

#define R struct gate_audit_record
static const struct field record_fields[] = {
	REQ(F_U32, "v", R, format),   REQ(F_U64, "seq", R, seq),     REQ(F_STR, "time", R, time),
	REQ(F_STR, "op", R, op),      OPT(F_STR, "stage", R, stage),
	OPT(F_STR, "reason", R, reason), OPT(F_STR, "prev", R, prev),
	OPT(F_STR, "event", R, event),   OPT(F_STR, "key", R, key),
	OPT_HAS(F_U64, "count", R, count),
	OPT(F_STR, "backend", R, backend),
};
static const struct field signature_fields[] = {
	REQ(F_STR, "status", R, sig_status), OPT(F_BOOL, "cached", R, sig_cached),
};
static const struct field rule_fields[] = {
	REQ(F_STR, "file", R, rule_file), REQ(F_U32, "line", R, rule_line),
	OPT(F_U32, "col", R, rule_col),   OPT(F_STR, "desc", R, rule_desc),
};
#undef R

static const char *const type_names[] = {
	[F_STR] = "a string", [F_U64] = "a number", [F_U32] = "a number up to 4294967295",
	[F_BOOL] = "true or false",
};

/* Fill `out` from the members of obj; false with *why on a wrong type or a
 * missing required member.  null counts as absent. */
static bool extract(const struct json_doc *d, const struct json_node *obj, const char *where,
		    const struct field *f, size_t n, void *out, char *why, size_t why_size)
{
	char *base = out;

	for (size_t i = 0; i < n; i++, f++) {
		const struct json_node *v = json_member(d, obj, f->key);
		bool ok;

		if (v == NULL || v->type == JSON_NULL) {
			if (!f->required)
				continue;
			snprintf(why, why_size, "%s%s is missing", where, f->key);
			return false;
		}
		switch (f->type) {
		case F_STR:
			if ((ok = v->type == JSON_STRING))
				memcpy(base + f->off, &v->str, sizeof(v->str));
			break;
		case F_U64:
			if ((ok = v->type == JSON_NUMBER))
				memcpy(base + f->off, &v->num, sizeof(v->num));
			break;
		case F_U32:
			if ((ok = v->type == JSON_NUMBER && v->num <= UINT32_MAX)) {
				uint32_t u = (uint32_t)v->num;

				memcpy(base + f->off, &u, sizeof(u));
			}
			break;
		case F_BOOL:
			if ((ok = v->type == JSON_BOOL))
				memcpy(base + f->off, &v->boolean, sizeof(v->boolean));
			break;
		default:
			ok = false;
		}
		if (!ok) {
			snprintf(why, why_size, "%s%s is not %s", where, f->key,
				 type_names[f->type]);
			return false;
		}
		if (f->has_off != NO_HAS)
			memcpy(base + f->has_off, &(bool){true}, sizeof(bool));
	}
	return true;
}

/* A nested object member: absent or null is fine unless required. */
static bool nested(const struct json_doc *d, const struct json_node *root, const char *key,
		   bool required, const struct json_node **out, char *why, size_t why_size)
{
	const struct json_node *v = json_member(d, root, key);

	*out = NULL;
	if (v == NULL || v->type == JSON_NULL) {
		if (required)
			snprintf(why, why_size, "%s is missing", key);
		return !required;
	}
	if (v->type != JSON_OBJECT) {
		snprintf(why, why_size, "%s is not an object", key);
		return false;
	}
	*out = v;
	return true;
}

#define EXTRACT(obj, where, table, out) \
	extract(d, obj, where, table, sizeof(table) / sizeof(table[0]), out, why, why_size)

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

static bool to_record(const struct json_doc *d, struct gate_audit_record *rec, char *why,
		      size_t why_size)
{
	const struct json_node *root = &d->node[0], *subject, *object, *sig, *rule, *decision;
	bool log_event; /* op "audit": a record of the log itself, not a decision */

	memset(rec, 0, sizeof(*rec));
	if (root->type != JSON_OBJECT) {
		snprintf(why, why_size, "not a JSON object");
		return false;
	}
	if (!EXTRACT(root, "", record_fields, rec))
		return false;
	log_event = strcmp(rec->op, "audit") == 0;
	if (!nested(d, root, "subject", !log_event, &subject, why, why_size) ||
	    (subject && !EXTRACT(subject, "subject.", party_fields, &rec->subject)) ||
	    !nested(d, root, "object", false, &object, why, why_size) ||
	    (object && !EXTRACT(object, "object.", object_fields, &rec->object)) ||
	    !nested(d, root, "signature", false, &sig, why, why_size) ||
	    (sig && !EXTRACT(sig, "signature.", signature_fields, rec)) ||
	    !nested(d, root, "rule", false, &rule, why, why_size) ||
	    (rule && !EXTRACT(rule, "rule.", rule_fields, rec)))
		return false;
	if (rec->format != 1 && rec->format != GATE_AUDIT_FORMAT) {
		snprintf(why, why_size, "record format %u is not 1 or %d", rec->format,
			 GATE_AUDIT_FORMAT);
		return false;
	}
	if (rec->format >= 2 && (rec->prev == NULL || !is_hex(rec->prev, 2 * GATE_AUDIT_HASH_BYTES))) {
		snprintf(why, why_size, "prev is missing or not %d hex digits",
			 2 * GATE_AUDIT_HASH_BYTES);
		return false;
	}
	if (log_event) {
		if (rec->event == NULL) {
			snprintf(why, why_size, "event is missing");
			return false;
		}
		return true;
	}
	if (rec->reason == NULL) {
		snprintf(why, why_size, "reason is missing");
		return false;
	}
	decision = json_member(d, root, "decision");
	if (decision == NULL || decision->type != JSON_STRING ||
	    (strcmp(decision->str, "allow") != 0 && strcmp(decision->str, "deny") != 0)) {
		snprintf(why, why_size, "decision is not \"allow\" or \"deny\"");
		return false;
	}
	rec->allowed = strcmp(decision->str, "allow") == 0;
	rec->has_rule = rule != NULL;
	return true;
}

bool gate_audit_parse_line(struct json_doc *doc, const char *line, size_t len,
			   struct gate_audit_record *rec, char *why, size_t why_size)
{
	if (len >= GATE_AUDIT_LINE_MAX) {
		snprintf(why, why_size, "line of %zu bytes, longer than a record can be", len);
		return false;
	}
	if (json_parse(doc, line, len) != 0) {
		snprintf(why, why_size, "not JSON: %s", doc->error);
		return false;
	}
	return to_record(doc, rec, why, why_size);
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

int gate_audit_read(const void *buf, size_t len, gate_audit_cb cb, void *ctx, size_t *consumed)
{
	const char *text = buf;
	struct json_doc *doc = NULL;
	struct gate_audit_record rec;
	char why[sizeof(doc->error) + 64];
	size_t pos = 0, lineno = 0;
	int rc = 0;

	if (consumed != NULL)
		*consumed = 0;
	if ((buf == NULL && len != 0) || cb == NULL)
		return -EINVAL;
	doc = malloc(sizeof(*doc));
	if (doc == NULL)
		return -ENOMEM;
	doc->scratch_size = GATE_AUDIT_LINE_MAX;
	doc->scratch = malloc(doc->scratch_size);
	if (doc->scratch == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	while (pos < len && rc == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len, n = end - pos;
		struct gate_audit_line line = {.lineno = ++lineno, .offset = pos};

		if (nl == NULL && consumed != NULL)
			break; /* an incomplete line: wait for the rest */
		if (blank(text + pos, n)) {
			/* nothing to report */
		} else if (!gate_audit_parse_line(doc, text + pos, n, &rec, why, sizeof(why))) {
			line.error = why;
		} else {
			line.record = &rec;
		}
		if (line.record != NULL || line.error != NULL)
			rc = cb(ctx, &line);
		pos = nl != NULL ? end + 1 : len;
	}
	if (consumed != NULL)
		*consumed = pos;
out:
	free(doc->scratch);
	free(doc);
	return rc;
}
