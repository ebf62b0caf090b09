/*
 * Diagnostics of the manifest front end: a list collected per file (never
 * printed by library code except through pm_diags_print, which only the CLI
 * calls), source lines with carets, did-you-mean hints.
 *
 * The source text quoted here is untrusted: lines are cut to a bounded
 * length and every control byte or invalid UTF-8 byte is replaced before it
 * can reach a terminal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy-lang/front.h"

#define SOURCE_LINE_MAX 240 /* bytes of a source line kept for display */
#define MSG_MAX 512

/* Length of the valid UTF-8 sequence at s[i] (1 for ASCII), or 0 if the
 * byte there does not start one (stray continuation, overlong form,
 * surrogate, beyond U+10FFFF, cut short). */
static size_t utf8_seq(const unsigned char *s, size_t len, size_t i)
{
	unsigned char c = s[i];
	size_t need;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len - i <= need)
		return 0;
	for (size_t k = 1; k <= need; k++) {
		if ((s[i + k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i + k] & 0x3f);
	}
	if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need + 1;
}

/* A character for column counting: a valid sequence, or one invalid byte.
 * On valid input this matches libyaml's character columns. */
static size_t utf8_step(const unsigned char *s, size_t len, size_t i)
{
	size_t n = utf8_seq(s, len, i);

	return n ? n : 1;
}

size_t pm_utf8_invalid(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(s, len, i);

		if (n == 0)
			return i;
		i += n;
	}
	return SIZE_MAX;
}

/* Length of the line break at s[i] as libyaml (YAML 1.1) sees them: CR LF,
 * CR, LF, NEL, LS, PS; 0 if none. */
static size_t break_len(const unsigned char *s, size_t len, size_t i)
{
	if (s[i] == '\r')
		return (i + 1 < len && s[i + 1] == '\n') ? 2 : 1;
	if (s[i] == '\n')
		return 1;
	if (s[i] == 0xc2 && i + 1 < len && s[i + 1] == 0x85)
		return 2;
	if (s[i] == 0xe2 && i + 2 < len && s[i + 1] == 0x80 &&
	    (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
		return 3;
	return 0;
}

static bool has_bom(const struct pm_dfile *f)
{
	return f->len >= 3 && memcmp(f->buf, "\xef\xbb\xbf", 3) == 0;
}

static int build_line_index(struct pm_dfile *f)
{
	const unsigned char *s = (const unsigned char *)f->buf;
	size_t n = 1, k = 0;

	if (f->line_start != NULL)
		return 0;
	for (size_t i = 0; i < f->len;) {
		size_t b = break_len(s, f->len, i);

		n += b != 0;
		i += b ? b : 1;
	}
	f->line_start = calloc(n, sizeof(*f->line_start)); /* n <= len + 1 */
	if (f->line_start == NULL)
		return -ENOMEM;
	f->line_start[k++] = has_bom(f) ? 3 : 0;
	for (size_t i = f->line_start[0]; i < f->len;) {
		size_t b = break_len(s, f->len, i);

		i += b ? b : 1;
		if (b)
			f->line_start[k++] = i;
	}
	f->nlines = k;
	return 0;
}

/* End of the line that starts at `start` (exclusive of the break). */
static size_t line_end(const struct pm_dfile *f, size_t start)
{
	const unsigned char *s = (const unsigned char *)f->buf;
	size_t i = start;

	while (i < f->len && break_len(s, f->len, i) == 0)
		i++;
	return i;
}

void pm_dfile_position(struct pm_dfile *f, size_t offset, uint32_t *line, uint32_t *col)
{
	const unsigned char *s = (const unsigned char *)f->buf;
	size_t lo = 0, hi, c = 1;

	*line = 0;
	*col = 0;
	if (f->buf == NULL)
		return;
	if (build_line_index(f) < 0) {
		*f->nomem = true;
		return;
	}
	if (offset > f->len)
		offset = f->len;
	hi = f->nlines;
	while (hi - lo > 1) { /* last line start <= offset */
		size_t mid = lo + (hi - lo) / 2;

		if (f->line_start[mid] <= offset)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t i = f->line_start[lo]; i < offset; i += utf8_step(s, f->len, i))
		c++;
	*line = lo + 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(lo + 1);
	*col = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
}

size_t pm_dfile_offset(struct pm_dfile *f, uint32_t line, uint32_t col)
{
	const unsigned char *s = (const unsigned char *)f->buf;
	size_t i, end;

	if (f->buf == NULL || line == 0 || col == 0 || build_line_index(f) < 0 ||
	    line > f->nlines)
		return SIZE_MAX;
	i = f->line_start[line - 1];
	end = line_end(f, i);
	for (uint32_t c = 1; c < col; c++) {
		if (i >= end)
			return SIZE_MAX;
		i += utf8_step(s, f->len, i);
	}
	return i;
}

/* A displayable copy of source line `line`, or NULL. */
static char *source_line(struct pm_dfile *f, uint32_t line)
{
	const unsigned char *s = (const unsigned char *)f->buf;
	size_t start, end, used = 0;
	char *out;

	if (f->buf == NULL || line == 0 || build_line_index(f) < 0 || line > f->nlines)
		return NULL;
	start = f->line_start[line - 1];
	end = line_end(f, start);
	out = malloc(SOURCE_LINE_MAX + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = start; i < end;) {
		size_t step = utf8_step(s, f->len, i);

		if (used + step > SOURCE_LINE_MAX)
			break;
		if (step > 1 || s[i] == '\t' || (s[i] >= 0x20 && s[i] < 0x7f))
			memcpy(out + used, s + i, step);
		else
			out[used] = '?'; /* control or invalid byte: one column */
		used += step > 1 ? step : 1;
		i += step;
	}
	out[used] = '\0';
	return out;
}

int pm_dfile_open(struct pm_diags *ds, const char *name, size_t index, bool *nomem,
		  struct pm_dfile *f)
{
	char **files = NULL;
	char *copy = NULL;

	memset(f, 0, sizeof(*f));
	copy = strdup(name);
	if (copy == NULL)
		goto fail;
	files = realloc(ds->files, (ds->nfiles + 1) * sizeof(*files));
	if (files == NULL)
		goto fail;
	ds->files = files;
	ds->files[ds->nfiles++] = copy;
	f->ds = ds;
	f->file = copy;
	f->file_index = index;
	f->nomem = nomem;
	return 0;
fail:
	free(copy);
	*nomem = true;
	return -ENOMEM;
}

void pm_dfile_set_source(struct pm_dfile *f, const char *buf, size_t len)
{
	free(f->line_start);
	f->line_start = NULL;
	f->nlines = 0;
	f->buf = buf;
	f->len = len;
}

void pm_dfile_close(struct pm_dfile *f)
{
	if (f->ds != NULL && f->dropped > 0) {
		size_t dropped = f->dropped;

		f->stored = 0; /* let the note itself through */
		pm_diag(f, PM_NOTE, 0, 0, NULL, "%zu more diagnostics not shown", dropped);
	}
	free(f->line_start);
	f->line_start = NULL;
	f->buf = NULL;
}

void pm_vdiag(struct pm_dfile *f, enum pm_severity sev, uint32_t line, uint32_t col,
	      const char *hint, const char *fmt, va_list ap)
{
	struct pm_diags *ds = f->ds;
	struct pm_diag d;
	char msg[MSG_MAX];

	if (sev == PM_ERROR)
		ds->nerrors++;
	else if (sev == PM_WARNING)
		ds->nwarnings++;
	if (f->stored >= PM_DIAGS_PER_FILE) {
		f->dropped++;
		return;
	}
	memset(&d, 0, sizeof(d));
	vsnprintf(msg, sizeof(msg), fmt, ap);
	d.severity = sev;
	d.file = f->file;
	d.line = line;
	d.col = line ? col : 0;
	d.msg = strdup(msg);
	d.hint = hint ? strdup(hint) : NULL;
	d.source_line = source_line(f, line);
	if (d.msg == NULL || (hint && d.hint == NULL)) {
		*f->nomem = true;
		goto fail;
	}
	if ((ds->n & (ds->n - 1)) == 0) { /* grow at powers of two */
		size_t cap = ds->n ? 2 * ds->n : 8;
		struct pm_diag *grown = realloc(ds->d, cap * sizeof(*grown));

		if (grown == NULL) {
			*f->nomem = true;
			goto fail;
		}
		ds->d = grown;
	}
	ds->d[ds->n++] = d;
	f->stored++;
	return;
fail:
	free(d.msg);
	free(d.hint);
	free(d.source_line);
}

void pm_diag(struct pm_dfile *f, enum pm_severity sev, uint32_t line, uint32_t col,
	     const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pm_vdiag(f, sev, line, col, hint, fmt, ap);
	va_end(ap);
}

/* ---- ordering, printing, freeing -------------------------------------------- */

struct sort_key {
	size_t file, index;
	const struct pm_diag *d;
};

static size_t file_rank(const struct pm_diags *ds, const char *file)
{
	for (size_t i = 0; i < ds->nfiles; i++)
		if (ds->files[i] == file)
			return i;
	return ds->nfiles;
}

static int cmp_key(const void *pa, const void *pb)
{
	const struct sort_key *a = pa, *b = pb;

	if (a->file != b->file)
		return a->file < b->file ? -1 : 1;
	if (a->d->line != b->d->line)
		return a->d->line < b->d->line ? -1 : 1;
	if (a->d->col != b->d->col)
		return a->d->col < b->d->col ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

void pm_diags_sort(struct pm_diags *ds)
{
	struct sort_key *keys = NULL;
	struct pm_diag *sorted = NULL;

	if (ds->n < 2)
		return;
	keys = calloc(ds->n, sizeof(*keys));
	sorted = calloc(ds->n, sizeof(*sorted));
	if (keys == NULL || sorted == NULL)
		goto out; /* order is cosmetic: leave it as collected */
	for (size_t i = 0; i < ds->n; i++)
		keys[i] = (struct sort_key){file_rank(ds, ds->d[i].file), i, &ds->d[i]};
	qsort(keys, ds->n, sizeof(*keys), cmp_key);
	for (size_t i = 0; i < ds->n; i++)
		sorted[i] = *keys[i].d;
	memcpy(ds->d, sorted, ds->n * sizeof(*sorted));
out:
	free(keys);
	free(sorted);
}

void pm_diags_free(struct pm_diags *ds)
{
	if (ds == NULL)
		return;
	for (size_t i = 0; i < ds->n; i++) {
		free(ds->d[i].msg);
		free(ds->d[i].hint);
		free(ds->d[i].source_line);
	}
	for (size_t i = 0; i < ds->nfiles; i++)
		free(ds->files[i]);
	free(ds->d);
	free(ds->files);
	memset(ds, 0, sizeof(*ds));
}

static const char *severity_name(enum pm_severity s)
{
	return s == PM_ERROR ? "error" : s == PM_WARNING ? "warning" : "note";
}

/* The caret line: the source line's tabs kept so the caret lines up. */
static void print_caret(FILE *out, const char *src, uint32_t col)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t len = strlen(src), i = 0;

	for (uint32_t c = 1; c < col && i < len; c++) {
		fputc(s[i] == '\t' ? '\t' : ' ', out);
		i += utf8_step(s, len, i);
	}
	fputs("^\n", out);
}

void pm_diags_print(FILE *out, const struct pm_diags *ds)
{
	for (size_t i = 0; i < ds->n; i++) {
		const struct pm_diag *d = &ds->d[i];
		const char *file = d->file ? d->file : "kxpolicy";

		if (d->line)
			fprintf(out, "%s:%u:%u: %s: %s\n", file, (unsigned)d->line,
				(unsigned)d->col, severity_name(d->severity), d->msg);
		else
			fprintf(out, "%s: %s: %s\n", file, severity_name(d->severity), d->msg);
		if (d->source_line != NULL) {
			fprintf(out, "%s\n", d->source_line);
			if (d->col)
				print_caret(out, d->source_line, d->col);
		}
		if (d->hint != NULL)
			fprintf(out, "hint: %s\n", d->hint);
	}
	if (ds->nerrors || ds->nwarnings)
		fprintf(out, "%zu error%s and %zu warning%s\n", ds->nerrors,
			ds->nerrors == 1 ? "" : "s", ds->nwarnings, ds->nwarnings == 1 ? "" : "s");
}

/* ---- quoting and hints ---------------------------------------------------------- */

const char *pm_quote(char buf[PM_QUOTE_MAX], const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	const size_t room = PM_QUOTE_MAX - 4; /* "..." and NUL */
	size_t used = 0, i = 0;

	while (i < len) {
		size_t step = utf8_step(u, len, i);
		bool keep = step > 1 || (u[i] >= 0x20 && u[i] < 0x7f && u[i] != '\\');
		size_t need = keep ? step : 4;

		if (used + need > room) {
			memcpy(buf + used, "...", 3);
			used += 3;
			break;
		}
		if (keep)
			memcpy(buf + used, s + i, step);
		else
			snprintf(buf + used, 5, "\\x%02x", u[i]);
		used += need;
		i += keep ? step : 1;
	}
	buf[used] = '\0';
	return buf;
}

#define EDIT_MAX 64 /* longer words get no hint */

/* Optimal string alignment distance (Levenshtein plus adjacent swaps). */
size_t pm_edit_distance(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t rows[3][EDIT_MAX + 1];
	size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

	if (alen > EDIT_MAX || blen > EDIT_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= blen; j++)
		prev[j] = j;
	for (size_t i = 1; i <= alen; i++) {
		size_t *t;

		cur[0] = i;
		for (size_t j = 1; j <= blen; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = prev[j - 1] + cost;

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[blen];
}

const char *pm_did_you_mean(char buf[PM_HINT_MAX], const char *word, size_t len,
			    const char *const *cands, size_t ncands)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;

	for (size_t i = 0; i < ncands; i++) {
		size_t clen = strlen(cands[i]);
		size_t d = pm_edit_distance(word, len, cands[i], clen);

		/* Close enough: at most 2 edits, and at most about a third of
		 * the candidate, so "ipc" does not suggest "app". */
		if (d <= 2 && 3 * d <= clen + 1 && d < best_d) {
			best = cands[i];
			best_d = d;
		}
	}
	if (best == NULL)
		return NULL;
	snprintf(buf, PM_HINT_MAX, "did you mean '%s'?", best);
	return buf;
}
