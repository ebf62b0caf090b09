/*
 * The YAML reader: one manifest's bytes -> a tree of nodes with positions,
 * through libyaml's event API so that every limit is ours to enforce.
 *
 * The input is untrusted.  Defences, each reported as a diagnostic with a
 * position, never a crash:
 *  - size: more than PM_DOC_MAX_BYTES is refused before libyaml sees it;
 *  - depth: more than PM_DOC_MAX_DEPTH nested collections stops the parse;
 *  - node count: more than PM_DOC_MAX_NODES stops the parse;
 *  - anchors, aliases and tags are rejected (an alias becomes a "bad" node
 *    that later checks skip), so no expansion can happen: a manifest is a
 *    tree, exactly as written;
 *  - encoding is forced to UTF-8 (no UTF-16 detection) and checked by us
 *    first, so the error points at the offending byte; control characters
 *    are libyaml reader errors, positioned from the offset it reports;
 *  - scalars containing NUL (a "\0" escape) are refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "policy-lang/front.h"

#define ARENA_CHUNK 65536

struct pm_arena_chunk {
	struct pm_arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

static void *arena_alloc(struct pm_doc *doc, size_t size)
{
	struct pm_arena_chunk *c = doc->chunks;
	size_t aligned;

	if (__builtin_add_overflow(size, sizeof(max_align_t) - 1, &aligned))
		return NULL;
	aligned -= aligned % sizeof(max_align_t);
	if (c == NULL || c->size - c->used < aligned) {
		size_t cap = aligned > ARENA_CHUNK ? aligned : ARENA_CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->size = cap;
		c->used = 0;
		c->next = doc->chunks;
		doc->chunks = c;
	}
	c->used += aligned;
	return (char *)c->data + c->used - aligned;
}

void pm_doc_free(struct pm_doc *doc)
{
	while (doc->chunks != NULL) {
		struct pm_arena_chunk *next = doc->chunks->next;

		free(doc->chunks);
		doc->chunks = next;
	}
	memset(doc, 0, sizeof(*doc));
}

bool pm_node_is_null(const struct pm_node *n)
{
	return n->kind == PM_NODE_SCALAR && n->plain &&
	       (n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
		strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0);
}

const char *pm_node_kind_name(const struct pm_node *n)
{
	if (n->kind == PM_NODE_MAP)
		return "a mapping";
	if (n->kind == PM_NODE_SEQ)
		return "a sequence";
	return pm_node_is_null(n) ? "nothing (null)" : "a scalar";
}

/* An open collection while its events arrive. */
struct frame {
	struct pm_node *node;
	struct pm_node **items;
	size_t n, cap;
};

struct reader {
	struct pm_doc *doc;
	struct pm_dfile *f;
	struct frame stack[PM_DOC_MAX_DEPTH];
	size_t depth;
	bool stop;  /* a limit was hit: no tree */
	bool nomem;
};

static void error_at(struct reader *r, yaml_mark_t m, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void error_at(struct reader *r, yaml_mark_t m, const char *hint, const char *fmt, ...)
{
	va_list ap;
	uint32_t line = m.line >= UINT32_MAX ? UINT32_MAX : (uint32_t)m.line + 1;
	uint32_t col = m.column >= UINT32_MAX ? UINT32_MAX : (uint32_t)m.column + 1;

	va_start(ap, fmt);
	pm_vdiag(r->f, PM_ERROR, line, col, hint, fmt, ap);
	va_end(ap);
}

static struct pm_node *new_node(struct reader *r, enum pm_node_kind kind, const yaml_event_t *ev)
{
	struct pm_node *n;

	if (r->doc->nnodes >= PM_DOC_MAX_NODES) {
		error_at(r, ev->start_mark, "split the policy into smaller manifests",
			 "too many YAML nodes (limit %u)", (unsigned)PM_DOC_MAX_NODES);
		r->stop = true;
		return NULL;
	}
	n = arena_alloc(r->doc, sizeof(*n));
	if (n == NULL) {
		r->nomem = true;
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->line = ev->start_mark.line >= UINT32_MAX ? UINT32_MAX : (uint32_t)ev->start_mark.line + 1;
	n->col = ev->start_mark.column >= UINT32_MAX ? UINT32_MAX
						      : (uint32_t)ev->start_mark.column + 1;
	n->end_line = ev->end_mark.line >= UINT32_MAX ? UINT32_MAX : (uint32_t)ev->end_mark.line + 1;
	r->doc->nnodes++;
	return n;
}

/* Attach a finished node to the open collection, or make it the root. */
static void attach(struct reader *r, struct pm_node *n)
{
	struct frame *top;

	if (r->depth == 0) {
		r->doc->root = n;
		return;
	}
	top = &r->stack[r->depth - 1];
	if (top->n == top->cap) {
		size_t cap = top->cap ? 2 * top->cap : 8;
		struct pm_node **grown = realloc(top->items, cap * sizeof(*grown));

		if (grown == NULL) { /* cap <= 2 * PM_DOC_MAX_NODES: no overflow */
			r->nomem = true;
			return;
		}
		top->items = grown;
		top->cap = cap;
	}
	top->items[top->n++] = n;
}

/* Anchors and tags are refused where they appear; the node is kept. */
static void refuse_decorations(struct reader *r, const yaml_event_t *ev, const yaml_char_t *anchor,
			       const yaml_char_t *tag, bool implicit_tag)
{
	if (anchor != NULL)
		error_at(r, ev->start_mark, "write the value out again where it is needed",
			 "YAML anchors are not allowed in a manifest");
	if (tag != NULL && !implicit_tag)
		error_at(r, ev->start_mark, NULL, "YAML tags are not allowed in a manifest");
}

static void on_scalar(struct reader *r, const yaml_event_t *ev)
{
	const yaml_scalar_style_t style = ev->data.scalar.style;
	size_t len = ev->data.scalar.length;
	struct pm_node *n;

	refuse_decorations(r, ev, ev->data.scalar.anchor, ev->data.scalar.tag,
			   ev->data.scalar.plain_implicit || ev->data.scalar.quoted_implicit);
	n = new_node(r, PM_NODE_SCALAR, ev);
	if (n == NULL)
		return;
	n->plain = style == YAML_PLAIN_SCALAR_STYLE;
	n->quoted = style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		    style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (memchr(ev->data.scalar.value, '\0', len) != NULL) {
		error_at(r, ev->start_mark, NULL, "a NUL character is not allowed in a string");
		len = strlen((const char *)ev->data.scalar.value);
	}
	n->text = arena_alloc(r->doc, len + 1); /* len < PM_DOC_MAX_BYTES */
	if (n->text == NULL) {
		r->nomem = true;
		return;
	}
	memcpy(n->text, ev->data.scalar.value, len);
	n->text[len] = '\0';
	n->len = len;
	attach(r, n);
}

static void on_alias(struct reader *r, const yaml_event_t *ev)
{
	struct pm_node *n;

	error_at(r, ev->start_mark, "write the value out again where it is needed",
		 "YAML aliases are not allowed in a manifest");
	/* A placeholder keeps mappings paired; it is "bad", so the checker
	 * says nothing more about it. */
	n = new_node(r, PM_NODE_SCALAR, ev);
	if (n == NULL)
		return;
	n->text = (char *)"";
	n->bad = true;
	attach(r, n);
}

static void on_open(struct reader *r, const yaml_event_t *ev, enum pm_node_kind kind)
{
	struct pm_node *n;

	if (kind == PM_NODE_MAP)
		refuse_decorations(r, ev, ev->data.mapping_start.anchor, ev->data.mapping_start.tag,
				   ev->data.mapping_start.implicit);
	else
		refuse_decorations(r, ev, ev->data.sequence_start.anchor,
				   ev->data.sequence_start.tag, ev->data.sequence_start.implicit);
	if (r->depth == PM_DOC_MAX_DEPTH) {
		error_at(r, ev->start_mark, NULL, "YAML nested deeper than %u levels",
			 (unsigned)PM_DOC_MAX_DEPTH);
		r->stop = true;
		return;
	}
	n = new_node(r, kind, ev);
	if (n == NULL)
		return;
	r->stack[r->depth++] = (struct frame){.node = n};
}

static void on_close(struct reader *r)
{
	struct frame *top = &r->stack[--r->depth];
	struct pm_node *n = top->node;

	if (top->n) {
		n->child = arena_alloc(r->doc, top->n * sizeof(*n->child));
		if (n->child == NULL) {
			r->nomem = true;
			goto out;
		}
		memcpy(n->child, top->items, top->n * sizeof(*n->child));
		n->nchild = top->n;
	}
	attach(r, n);
out:
	free(top->items);
	top->items = NULL;
}

/* libyaml stops at its first error; report it with its position. */
static void report_yaml_error(struct reader *r, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "malformed YAML";

	if (p->error == YAML_MEMORY_ERROR) {
		r->nomem = true;
	} else if (p->error == YAML_READER_ERROR) {
		uint32_t line, col;

		pm_dfile_position(r->f, p->problem_offset, &line, &col);
		if (p->problem_value >= 0)
			pm_diag(r->f, PM_ERROR, line, col, "a manifest must be UTF-8 text",
				"%s (byte 0x%02x)", problem, (unsigned)(p->problem_value & 0xff));
		else
			pm_diag(r->f, PM_ERROR, line, col, "a manifest must be UTF-8 text", "%s",
				problem);
	} else if (p->context != NULL) {
		error_at(r, p->problem_mark, NULL, "YAML syntax: %s (%s at line %zu)", problem,
			 p->context, (size_t)p->context_mark.line + 1);
	} else {
		error_at(r, p->problem_mark, NULL, "YAML syntax: %s", problem);
	}
}

/* Manifests are UTF-8; say where they are not. */
static bool check_utf8(struct pm_dfile *f, const unsigned char *buf, size_t len)
{
	size_t bad = pm_utf8_invalid((const char *)buf, len);
	uint32_t line, col;

	if (bad == SIZE_MAX)
		return true;
	if (len >= 2 && ((buf[0] == 0xff && buf[1] == 0xfe) || (buf[0] == 0xfe && buf[1] == 0xff))) {
		pm_diag(f, PM_ERROR, 1, 1, "save it as UTF-8",
			"manifest is UTF-16 text; manifests are UTF-8");
		return false;
	}
	pm_dfile_position(f, bad, &line, &col);
	pm_diag(f, PM_ERROR, line, col, "a manifest must be UTF-8 text",
		"invalid UTF-8 (byte 0x%02x)", buf[bad]);
	return false;
}

int pm_doc_read(const void *buf, size_t len, struct pm_dfile *f, struct pm_doc *doc)
{
	struct reader r = {.doc = doc, .f = f};
	yaml_parser_t parser;
	bool parser_ready = false, done = false;
	size_t ndocs = 0;
	int rc = 0;

	memset(doc, 0, sizeof(*doc));
	if (len > PM_DOC_MAX_BYTES) {
		pm_diag(f, PM_ERROR, 1, 1, NULL, "manifest is %zu bytes, larger than the %u-byte limit",
			len, (unsigned)PM_DOC_MAX_BYTES);
		goto out;
	}
	if (!check_utf8(f, (const unsigned char *)buf, len))
		goto out;
	if (!yaml_parser_initialize(&parser)) {
		rc = -ENOMEM;
		goto out;
	}
	parser_ready = true;
	yaml_parser_set_input_string(&parser, buf, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	while (!done && !r.stop && !r.nomem) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			report_yaml_error(&r, &parser);
			r.stop = true;
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++ndocs > 1) {
				error_at(&r, ev.start_mark, "put each app in its own file",
					 "a manifest holds exactly one YAML document");
				r.stop = true;
			}
			break;
		case YAML_SCALAR_EVENT:
			on_scalar(&r, &ev);
			break;
		case YAML_ALIAS_EVENT:
			on_alias(&r, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			on_open(&r, &ev, PM_NODE_SEQ);
			break;
		case YAML_MAPPING_START_EVENT:
			on_open(&r, &ev, PM_NODE_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (r.depth > 0) /* libyaml pairs them; be sure anyway */
				on_close(&r);
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	if (ndocs == 0 && !r.stop && !r.nomem)
		pm_diag(f, PM_ERROR, 1, 1, "a manifest starts with 'kx-manifest: 1'",
			"empty manifest");
	rc = r.nomem ? -ENOMEM : 0;
out:
	while (r.depth > 0)
		free(r.stack[--r.depth].items);
	if (parser_ready)
		yaml_parser_delete(&parser);
	if (rc < 0)
		pm_doc_free(doc);
	if (r.stop)
		doc->root = NULL; /* an incomplete tree is not checked */
	return rc;
}
