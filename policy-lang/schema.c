/*
 * The manifest schema's typed accessors over the node tree: mappings with
 * known keys (unknown ones get a did-you-mean hint), strings, names,
 * integers, booleans, enumerations, lists, IpC kinds.  The checks of each
 * section are in app.c and library.c; manifests/README.md documents every
 * key, type, default and range.
 *
 * Nodes come from untrusted text: every scalar is length-checked, every
 * integer overflow-checked against its field, and every problem becomes a
 * diagnostic at the node's position while checking carries on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy-lang/front.h"

const char *const pm_ipc_kind_names[4] = {"pipe", "signal", "msgq", "shm"};
const char *const pm_loader_names[3] = {"self", "app", "any"};

/* ---- diagnostics at nodes ---------------------------------------------------- */

void pm_errorf(struct pm_check *c, const struct pm_node *n, const char *hint,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pm_vdiag(c->f, PM_ERROR, n->line, n->col, hint, fmt, ap);
	va_end(ap);
}

void pm_warnf(struct pm_check *c, const struct pm_node *n, const char *hint,
	      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pm_vdiag(c->f, PM_WARNING, n->line, n->col, hint, fmt, ap);
	va_end(ap);
}

void pm_set_src(struct pm_check *c, const struct pm_node *n, struct pm_src *src)
{
	src->file = c->src_file;
	src->line = n->line;
	src->col = n->col;
}

/* ---- typed accessors ------------------------------------------------------------ */

bool pm_get_map(struct pm_check *c, const struct pm_node *n, const char *what,
		const struct pm_field *fields, size_t nfields, const struct pm_node **value)
{
	const struct pm_node *key_of[PM_FIELDS_MAX] = {NULL};
	const char *names[PM_FIELDS_MAX];
	char q[PM_QUOTE_MAX], hint[PM_HINT_MAX];

	if (nfields > PM_FIELDS_MAX || n->bad)
		return false;
	for (size_t i = 0; i < nfields; i++) {
		value[i] = NULL;
		names[i] = fields[i].key;
	}
	if (n->kind != PM_NODE_MAP) {
		pm_errorf(c, n, NULL, "expected a mapping for %s, got %s", what,
			  pm_node_kind_name(n));
		return false;
	}
	for (size_t p = 0; p + 1 < n->nchild; p += 2) {
		const struct pm_node *k = n->child[p];
		size_t i;

		if (k->bad)
			continue;
		if (k->kind != PM_NODE_SCALAR) {
			pm_errorf(c, k, NULL, "a key in %s must be a string, not %s", what,
				  pm_node_kind_name(k));
			continue;
		}
		for (i = 0; i < nfields && strcmp(k->text, fields[i].key) != 0; i++)
			;
		if (i == nfields) {
			pm_errorf(c, k, pm_did_you_mean(hint, k->text, k->len, names, nfields),
				  "unknown key '%s' in %s", pm_quote(q, k->text, k->len), what);
		} else if (key_of[i] != NULL) {
			pm_errorf(c, k, NULL, "duplicate key '%s' in %s (first at line %u)",
				  fields[i].key, what, (unsigned)key_of[i]->line);
		} else {
			key_of[i] = k;
			value[i] = n->child[p + 1];
		}
	}
	for (size_t i = 0; i < nfields; i++)
		if (fields[i].required && value[i] == NULL)
			pm_errorf(c, n, NULL, "missing required key '%s' in %s", fields[i].key,
				  what);
	return true;
}

bool pm_want_scalar(struct pm_check *c, const struct pm_node *n, const char *what)
{
	if (n->bad)
		return false;
	if (n->kind != PM_NODE_SCALAR) {
		pm_errorf(c, n, NULL, "expected a single value for %s, got %s", what,
			  pm_node_kind_name(n));
		return false;
	}
	if (pm_node_is_null(n)) {
		pm_errorf(c, n, NULL, "%s has no value", what);
		return false;
	}
	return true;
}

bool pm_get_string(struct pm_check *c, const struct pm_node *n, const char *what,
		   size_t maxlen, char **out)
{
	*out = NULL;
	if (!pm_want_scalar(c, n, what))
		return false;
	if (n->len > maxlen) {
		pm_errorf(c, n, NULL, "%s is %zu bytes long, more than the limit of %zu", what,
			  n->len, maxlen);
		return false;
	}
	*out = strdup(n->text);
	if (*out == NULL) {
		*c->f->nomem = true;
		return false;
	}
	return true;
}

static bool name_char(char ch, bool first)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return true;
	return !first && (ch == '.' || ch == '_' || ch == '-' || ch == '+');
}

bool pm_get_name(struct pm_check *c, const struct pm_node *n, const char *what, char **out)
{
	char q[PM_QUOTE_MAX];

	if (!pm_get_string(c, n, what, PM_NAME_MAX, out))
		return false;
	for (size_t i = 0; i < n->len; i++) {
		if (!name_char(n->text[i], i == 0)) {
			pm_errorf(c, n, "names use letters, digits and . _ - + and start with a letter or digit",
				  "invalid name '%s' for %s", pm_quote(q, n->text, n->len), what);
			free(*out);
			*out = NULL;
			return false;
		}
	}
	return true;
}

bool pm_parse_digits(const char *s, size_t len, uint64_t *out, bool *overflow)
{
	uint64_t v = 0;

	*overflow = false;
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
			*overflow = true;
	}
	*out = v;
	return true;
}

bool pm_get_uint(struct pm_check *c, const struct pm_node *n, const char *what, uint64_t min,
		 uint64_t max, uint64_t *out)
{
	char q[PM_QUOTE_MAX];
	bool overflow;
	uint64_t v;

	if (!pm_want_scalar(c, n, what))
		return false;
	if (!n->plain || !pm_parse_digits(n->text, n->len, &v, &overflow)) {
		pm_errorf(c, n, n->quoted ? "write the number without quotes" : NULL,
			  "expected a non-negative integer for %s, got '%s'", what,
			  pm_quote(q, n->text, n->len));
		return false;
	}
	if (overflow || v > max) {
		pm_errorf(c, n, NULL, "%s is too large: at most %llu", what,
			  (unsigned long long)max);
		return false;
	}
	if (v < min) {
		pm_errorf(c, n, NULL, "%s must be at least %llu", what, (unsigned long long)min);
		return false;
	}
	*out = v;
	return true;
}

/* A size for messages: the largest binary unit that divides it ("64G"). */
static void size_text(uint64_t v, char *buf, size_t size)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (u < 3 && v != 0 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%llu%.*s", (unsigned long long)v, u >= 0, u >= 0 ? units + u : "");
}

bool pm_get_size(struct pm_check *c, const struct pm_node *n, const char *what, uint64_t min,
		 uint64_t max, uint64_t align, uint64_t *out)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} units[] = {{"", 0},	 {"K", 10}, {"KiB", 10}, {"M", 20}, {"MiB", 20},
		     {"G", 30},	 {"GiB", 30}, {"T", 40},  {"TiB", 40}};
	char q[PM_QUOTE_MAX], lo[32], hi[32], step[32];
	size_t digits = 0;
	bool overflow = false;
	uint64_t v = 0;

	if (!pm_want_scalar(c, n, what))
		return false;
	size_text(min, lo, sizeof(lo));
	size_text(max, hi, sizeof(hi));
	while (digits < n->len && n->text[digits] >= '0' && n->text[digits] <= '9')
		digits++;
	for (size_t i = 0; n->plain && i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(n->text + digits, units[i].suffix) != 0 ||
		    !pm_parse_digits(n->text, digits, &v, &overflow))
			continue;
		if (overflow || v > (UINT64_MAX >> units[i].shift)) {
			pm_errorf(c, n, NULL, "%s is too large: at most %s", what, hi);
			return false;
		}
		v <<= units[i].shift;
		if (v < min || v > max) {
			pm_errorf(c, n, NULL, "%s must be between %s and %s, got '%s'", what, lo,
				  hi, pm_quote(q, n->text, n->len));
			return false;
		}
		if (align > 1 && v % align != 0) {
			size_text(align, step, sizeof(step));
			pm_errorf(c, n, NULL, "%s must be a multiple of %s%s", what, step,
				  align == 4096 ? " (the page size)" : "");
			return false;
		}
		*out = v;
		return true;
	}
	pm_errorf(c, n, "sizes are written like 64M, 512K or 2G",
		  "expected a size for %s, got '%s'", what, pm_quote(q, n->text, n->len));
	return false;
}

bool pm_get_bool(struct pm_check *c, const struct pm_node *n, const char *what, bool *out)
{
	char q[PM_QUOTE_MAX];

	if (!pm_want_scalar(c, n, what))
		return false;
	if (n->plain && (strcmp(n->text, "true") == 0 || strcmp(n->text, "false") == 0)) {
		*out = n->text[0] == 't';
		return true;
	}
	pm_errorf(c, n, "write true or false", "expected true or false for %s, got '%s'", what,
		  pm_quote(q, n->text, n->len));
	return false;
}

bool pm_get_enum(struct pm_check *c, const struct pm_node *n, const char *what,
		 const char *const *names, size_t nnames, unsigned *out)
{
	char q[PM_QUOTE_MAX], hint[PM_HINT_MAX], list[96] = "";

	if (!pm_want_scalar(c, n, what))
		return false;
	for (size_t i = 0; i < nnames; i++) {
		if (strcmp(n->text, names[i]) == 0) {
			*out = (unsigned)i;
			return true;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 names[i]);
	}
	pm_errorf(c, n, pm_did_you_mean(hint, n->text, n->len, names, nnames),
		  "invalid value '%s' for %s (one of: %s)", pm_quote(q, n->text, n->len), what,
		  list);
	return false;
}

bool pm_get_seq(struct pm_check *c, const struct pm_node *n, const char *what)
{
	if (n->bad)
		return false;
	if (n->kind == PM_NODE_SEQ && n->nchild > PM_LIST_MAX) {
		pm_errorf(c, n, NULL, "%s has %zu items, more than the limit of %u", what,
			  n->nchild, (unsigned)PM_LIST_MAX);
		return false;
	}
	if (n->kind == PM_NODE_SEQ || pm_node_is_null(n))
		return true;
	pm_errorf(c, n, n->kind == PM_NODE_SCALAR ? "a list is written [a, b] or one '- a' per line"
						  : NULL,
		  "expected a list for %s, got %s", what, pm_node_kind_name(n));
	return false;
}

bool pm_get_ipc_kinds(struct pm_check *c, const struct pm_node *n, const char *what,
		      bool nonempty, uint32_t *out)
{
	uint32_t kinds = 0;
	bool ok = true;

	*out = 0;
	if (!pm_get_seq(c, n, what))
		return false;
	for (size_t i = 0; i < n->nchild; i++) {
		unsigned k;

		if (!pm_get_enum(c, n->child[i], "an IpC kind", pm_ipc_kind_names, 4, &k)) {
			ok = false;
			continue;
		}
		if (kinds & (1u << k)) {
			pm_errorf(c, n->child[i], NULL, "IpC kind '%s' is listed twice in %s",
				  pm_ipc_kind_names[k], what);
			ok = false;
		}
		kinds |= 1u << k;
	}
	if (ok && nonempty && kinds == 0) {
		pm_errorf(c, n, NULL, "%s must name at least one IpC kind", what);
		ok = false;
	}
	*out = kinds;
	return ok;
}
