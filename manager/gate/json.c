/*
 * A small, bounded JSON reader for audit-log lines, and the UTF-8 decoder the
 * writer and the human view share.
 *
 * The input is untrusted (any bytes).  Limits: JSON_MAX_NODES values and
 * JSON_MAX_DEPTH nesting per text; strings must be valid UTF-8 and may not
 * contain NUL (raw or \u0000) or lone surrogates; numbers must be whole and
 * in 0..UINT64_MAX (all the gate writes); member names must be unique within
 * an object, so that no two readers can disagree about a record.  Decoded
 * strings never grow (an escape is at least as long as what it stands for),
 * so a len-byte text needs at most len + 1 bytes of scratch; that is still
 * checked on every byte.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "manager/gate/internal.h"

size_t gate_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c, min;
	size_t len;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] < 0xc2) /* a continuation byte, or an overlong 2-byte form */
		return 0;
	if (s[0] < 0xe0) {
		len = 2, c = s[0] & 0x1fu, min = 0x80;
	} else if (s[0] < 0xf0) {
		len = 3, c = s[0] & 0x0fu, min = 0x800;
	} else if (s[0] < 0xf5) {
		len = 4, c = s[0] & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

bool gate_cp_is_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* ---- the parser ---------------------------------------------------------------- */

struct parser {
	struct json_doc *doc;
	const char *start, *p, *end;
	unsigned depth;
};

static int fail(struct parser *ps, const char *what)
{
	snprintf(ps->doc->error, sizeof(ps->doc->error), "%s at byte %zu", what,
		 (size_t)(ps->p - ps->start));
	return -EBADMSG;
}

static void skip_space(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' ||
				   *ps->p == '\n'))
		ps->p++;
}

static int new_node(struct parser *ps, enum json_type type, uint32_t *index)
{
	struct json_doc *d = ps->doc;

	if (d->count >= JSON_MAX_NODES)
		return fail(ps, "too many values");
	*index = d->count++;
	memset(&d->node[*index], 0, sizeof(d->node[0]));
	d->node[*index].type = type;
	return 0;
}

static int emit(struct parser *ps, const void *bytes, size_t n)
{
	struct json_doc *d = ps->doc;

	if (n > d->scratch_size - d->scratch_used)
		return fail(ps, "out of string space");
	memcpy(d->scratch + d->scratch_used, bytes, n);
	d->scratch_used += n;
	return 0;
}

static int emit_cp(struct parser *ps, uint32_t cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp, n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6), n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12), n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18), n = 4;
	}
	for (size_t i = 1; i < n; i++)
		u[i] = (unsigned char)(0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3f));
	return emit(ps, u, n);
}

/* Four hex digits after "\u". */
static int hex4(struct parser *ps, uint32_t *out)
{
	*out = 0;
	if (ps->end - ps->p < 4)
		return fail(ps, "short \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = *ps->p++;
		uint32_t v;

		if (c >= '0' && c <= '9')
			v = (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = (uint32_t)(c - 'A' + 10);
		else
			return fail(ps, "bad \\u escape");
		*out = *out << 4 | v;
	}
	return 0;
}

/* After "\u": one code point, a surrogate pair taken together. */
static int unicode_escape(struct parser *ps)
{
	uint32_t cp, low;
	int rc = hex4(ps, &cp);

	if (rc)
		return rc;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(ps, "lone low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
			return fail(ps, "lone high surrogate");
		ps->p += 2;
		if ((rc = hex4(ps, &low)))
			return rc;
		if (low < 0xdc00 || low > 0xdfff)
			return fail(ps, "lone high surrogate");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
	}
	if (cp == 0)
		return fail(ps, "NUL in string");
	return emit_cp(ps, cp);
}

static int escape(struct parser *ps)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;

	if (ps->p >= ps->end)
		return fail(ps, "unterminated string");
	if (*ps->p == 'u') {
		ps->p++;
		return unicode_escape(ps);
	}
	hit = *ps->p != '\0' ? strchr(from, *ps->p) : NULL;
	if (hit == NULL)
		return fail(ps, "bad escape");
	ps->p++;
	return emit(ps, &to[hit - from], 1);
}

/* At the opening quote: decode into scratch, NUL-terminated. */
static int string(struct parser *ps, const char **out)
{
	const char *decoded = ps->doc->scratch + ps->doc->scratch_used;
	uint32_t cp;
	size_t n;
	int rc = 0;

	ps->p++;
	for (;;) {
		unsigned char c;

		if (ps->p >= ps->end)
			return fail(ps, "unterminated string");
		c = (unsigned char)*ps->p;
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(ps, "control character in string");
		if (c == '\\') {
			ps->p++;
			rc = escape(ps);
		} else {
			n = gate_utf8_decode((const unsigned char *)ps->p,
					     (size_t)(ps->end - ps->p), &cp);
			if (n == 0)
				return fail(ps, "invalid UTF-8");
			rc = emit(ps, ps->p, n);
			ps->p += n;
		}
		if (rc)
			return rc;
	}
	ps->p++;
	if ((rc = emit(ps, "", 1)))
		return rc;
	*out = decoded;
	return 0;
}

static int number(struct parser *ps, uint64_t *out)
{
	uint64_t v = 0;

	if (*ps->p == '-')
		return fail(ps, "negative number");
	if (*ps->p == '0' && ps->end - ps->p > 1 && ps->p[1] >= '0' && ps->p[1] <= '9')
		return fail(ps, "leading zero");
	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*ps->p - '0'), &v))
			return fail(ps, "number out of range");
		ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E'))
		return fail(ps, "not a whole number");
	*out = v;
	return 0;
}

static int literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, "unexpected character");
	ps->p += n;
	return 0;
}

static int value(struct parser *ps, uint32_t *index);

/* The members of an object or the elements of an array, after its opening
 * bracket; `close` is '}' or ']'. */
static int container(struct parser *ps, uint32_t self, char close)
{
	struct json_doc *d = ps->doc;
	uint32_t last = 0, child;
	const char *name = NULL;
	int rc;

	if (++ps->depth > JSON_MAX_DEPTH)
		return fail(ps, "nested too deeply");
	ps->p++;
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->depth--;
		return 0;
	}
	for (;;) {
		skip_space(ps);
		if (close == '}') {
			if (ps->p >= ps->end || *ps->p != '"')
				return fail(ps, "member name expected");
			if ((rc = string(ps, &name)))
				return rc;
			for (uint32_t i = d->node[self].child; i != 0; i = d->node[i].next)
				if (strcmp(d->node[i].key, name) == 0)
					return fail(ps, "duplicate member name");
			skip_space(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return fail(ps, "':' expected");
			ps->p++;
		}
		if ((rc = value(ps, &child)))
			return rc;
		d->node[child].key = name;
		if (last == 0)
			d->node[self].child = child;
		else
			d->node[last].next = child;
		last = child;
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close)
			break;
		return fail(ps, close == '}' ? "',' or '}' expected" : "',' or ']' expected");
	}
	ps->p++;
	ps->depth--;
	return 0;
}

static int value(struct parser *ps, uint32_t *index)
{
	struct json_node *n;
	int rc;

	skip_space(ps);
	if (ps->p >= ps->end)
		return fail(ps, "value expected");
	switch (*ps->p) {
	case '{':
		return (rc = new_node(ps, JSON_OBJECT, index)) ? rc : container(ps, *index, '}');
	case '[':
		return (rc = new_node(ps, JSON_ARRAY, index)) ? rc : container(ps, *index, ']');
	case '"':
		if ((rc = new_node(ps, JSON_STRING, index)))
			return rc;
		return string(ps, &ps->doc->node[*index].str);
	case 't':
	case 'f':
		if ((rc = new_node(ps, JSON_BOOL, index)))
			return rc;
		n = &ps->doc->node[*index];
		n->boolean = *ps->p == 't';
		return literal(ps, n->boolean ? "true" : "false");
	case 'n':
		return (rc = new_node(ps, JSON_NULL, index)) ? rc : literal(ps, "null");
	}
	if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
		if ((rc = new_node(ps, JSON_NUMBER, index)))
			return rc;
		return number(ps, &ps->doc->node[*index].num);
	}
	return fail(ps, "unexpected character");
}

int json_parse(struct json_doc *doc, const char *buf, size_t len)
{
	struct parser ps = {.doc = doc, .start = buf, .p = buf, .end = buf + len};
	uint32_t root;
	int rc;

	doc->count = 0;
	doc->scratch_used = 0;
	doc->error[0] = '\0';
	rc = value(&ps, &root);
	if (rc)
		return rc;
	skip_space(&ps);
	if (ps.p != ps.end)
		return fail(&ps, "bytes after the value");
	return 0;
}

const struct json_node *json_member(const struct json_doc *doc, const struct json_node *obj,
				    const char *key)
{
	if (obj == NULL || obj->type != JSON_OBJECT)
		return NULL;
	for (uint32_t i = obj->child; i != 0; i = doc->node[i].next)
		if (strcmp(doc->node[i].key, key) == 0)
			return &doc->node[i];
	return NULL;
}
