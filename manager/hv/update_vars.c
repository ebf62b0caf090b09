/*
 * update_vars.c — carrying a library's variables from the old version to
 * the new one during an online update (docs/update.md, "Variables").
 *
 * A variable is a data object with a size, in a writable segment: globals
 * from .dynsym, statics (local symbols) from .symtab.  Each is matched by
 * name with an object of the same kind in the new version; a different
 * size, or a name that no longer is a writable object, refuses the update.
 * Objects the new version dropped are not carried (a removed global that
 * another module uses was already refused by the GOT plan).
 *
 * Which words are pointers comes from the old library's signed pointer map
 * (common/kxptrmap.h, recorded by kxsign from DWARF), never from the values
 * the words hold: a counter that happens to hold an address inside the
 * library is copied as it is.  A pointer word that points into the old
 * library is rebased to the same symbol (plus the same offset) in the new
 * one — a pointer into the library's own statics, or a function pointer;
 * one with no counterpart refuses the update, and so does a union word
 * that may be a pointer and holds such a value (it cannot be told).
 * Pointers anywhere else (the app's data, the heap) are copied as they
 * are.  Variables the map has no type for, and every variable of a library
 * signed without a map, are copied verbatim (the result counts them).
 * When both versions have a map, a variable whose pointer words moved
 * (its type changed at the same size) refuses the update.  Symbol tables
 * and maps come from the parsed, signed files; the values copied come from
 * guest memory and are only data.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/kxptrmap.h"
#include "manager/hv/linker.h"

#define STT_OBJECT 1
#define STB_LOCAL  0

/* Is [addr, addr + size) inside one writable segment of mod? */
static bool writable(const struct kxelf_module *mod, uint64_t addr, uint64_t size)
{
	for (size_t i = 0; i < kxelf_module_prot_count(mod); i++) {
		struct kxelf_range r;

		if (kxelf_module_prot(mod, i, &r) == 0 && (r.prot & KXELF_PROT_W) &&
		    addr >= r.addr && size <= r.size && addr - r.addr <= r.size - size)
			return true;
	}
	return false;
}

/* A variable of src: a defined object with a size (statics: local only,
 * the globals come from .dynsym). */
static bool is_var(const struct kxelf_symbol *s, enum kxelf_symsrc src)
{
	return s->defined && s->type == STT_OBJECT && s->size > 0 && s->name[0] != '\0' &&
	       (src == KXELF_SYMS_DYNSYM || s->bind == STB_LOCAL);
}

/* The named, defined symbols of one table (.symtab: local ones only),
 * sorted by name: lookups by name are a binary search, not a scan. */
struct sym_index {
	struct kxelf_symbol *syms;
	size_t n;
};

struct var_ctx {
	const struct hv_guest_mem *mem;
	const struct kxelf_module *old, *new;
	const struct kxptrmap *map[2]; /* old 0 / new 1: NULL when unsigned without one */
	const char *name;
	struct sym_index ix[2][2]; /* [old 0 / new 1][dynsym 0 / symtab 1] */
	struct hv_update_result *res;
	struct kx_error *err;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct kxelf_symbol *)a)->name,
		      ((const struct kxelf_symbol *)b)->name);
}

static int index_build(const struct kxelf_module *mod, enum kxelf_symsrc src, struct sym_index *ix)
{
	size_t count = kxelf_module_symbol_count(mod, src);

	ix->n = 0;
	ix->syms = calloc(count ? count : 1, sizeof(*ix->syms));
	if (ix->syms == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		struct kxelf_symbol s;

		if (kxelf_module_symbol(mod, src, i, &s) != 0 || !s.defined ||
		    s.name[0] == '\0' || (src == KXELF_SYMS_SYMTAB && s.bind != STB_LOCAL))
			continue;
		ix->syms[ix->n++] = s;
	}
	qsort(ix->syms, ix->n, sizeof(*ix->syms), by_name);
	return 0;
}

/* The symbol called name (any type: a function of that name is a
 * mismatch), and how many there are. */
static size_t find_named(const struct sym_index *ix, const char *name, struct kxelf_symbol *out)
{
	size_t lo = 0, hi = ix->n, found = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ix->syms[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo + found < ix->n && strcmp(ix->syms[lo + found].name, name) == 0)
		found++;
	if (found)
		*out = ix->syms[lo];
	return found;
}

/* The named symbol of old that holds addr, and where the same one is in new. */
static int rebase(const struct var_ctx *v, uint64_t addr, uint64_t *to)
{
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < v->ix[0][k].n; i++) {
			const struct kxelf_symbol *s = &v->ix[0][k].syms[i];
			struct kxelf_symbol n;

			if (addr < s->addr || addr - s->addr >= (s->size ? s->size : 1))
				continue;
			if (find_named(&v->ix[1][k], s->name, &n) != 1 || n.type != s->type)
				return -ENOENT;
			*to = n.addr + (addr - s->addr);
			return 0;
		}
	return -ENOENT;
}

/* The map entry of symbol s of module m (0 old / 1 new): 0 and its var,
 * or -ENOENT when the map has no typed var of that address and size. */
static int typed_var(const struct var_ctx *v, int m, const struct kxelf_symbol *s,
		     struct kxptrmap_abi_var *out)
{
	const struct kxelf_module *mod = m ? v->new : v->old;
	size_t i;

	if (!v->map[m] || kxptrmap_find(v->map[m], s->addr - kxelf_module_bias(mod), &i) != 0)
		return -ENOENT;
	kxptrmap_var(v->map[m], i, out);
	return out->size == s->size && !(out->flags & KXPTRMAP_VAR_UNTYPED) ? 0 : -ENOENT;
}

/* Both versions typed: the same pointer words, or the type changed. */
static int same_layout(const struct var_ctx *v, const struct kxelf_symbol *o,
		       const struct kxelf_symbol *n)
{
	struct kxptrmap_abi_var ov, nv;

	if (typed_var(v, 0, o, &ov) != 0 || typed_var(v, 1, n, &nv) != 0)
		return 0;
	if (ov.run_count == nv.run_count) {
		size_t i = 0;

		for (; i < ov.run_count; i++) {
			struct kxptrmap_abi_run a, b;

			kxptrmap_run(v->map[0], ov.first_run + i, &a);
			kxptrmap_run(v->map[1], nv.first_run + i, &b);
			if (memcmp(&a, &b, sizeof(a)) != 0)
				break;
		}
		if (i == ov.run_count)
			return 0;
	}
	return kx_err(v->err, -EINVAL,
		      "update refused: the pointer words of '%s' differ between the old and the "
		      "new %s (its type changed at the same size)", o->name, v->name);
}

/* One pointer word of a carried variable, already copied to `word`. */
static int rebase_word(const struct var_ctx *v, const struct kxelf_symbol *o, uint64_t off,
		       uint32_t kind, uint8_t *word)
{
	uint64_t lo = kxelf_module_start(v->old), hi = kxelf_module_end(v->old);
	uint64_t w, nw;

	memcpy(&w, word, sizeof(w));
	if (w < lo || w >= hi)
		return 0; /* the app, the heap, NULL: kept */
	if (kind == KXPTRMAP_MAYBE)
		return kx_err(v->err, -EINVAL,
			      "update refused: '%s' +%llu, a union word that may be a pointer, "
			      "holds 0x%llx inside the old %s: it cannot be told whether to rebase it",
			      o->name, (unsigned long long)off, (unsigned long long)w, v->name);
	if (rebase(v, w, &nw) != 0)
		return kx_err(v->err, -EINVAL,
			      "update refused: '%s' holds 0x%llx, a pointer into the old %s "
			      "with no counterpart in the new one",
			      o->name, (unsigned long long)w, v->name);
	memcpy(word, &nw, sizeof(nw));
	v->res->rebased++;
	return 0;
}

/* Copy one variable, rebasing the words its type says are pointers. */
static int carry(const struct var_ctx *v, const struct kxelf_symbol *o,
		 const struct kxelf_symbol *n)
{
	const uint8_t *from = hv_guest_ptr(v->mem, o->addr, o->size, HV_ACCESS_MONITOR);
	uint8_t *to = hv_guest_ptr(v->mem, n->addr, n->size, HV_ACCESS_MONITOR);
	struct kxptrmap_abi_var var;

	if (from == NULL || to == NULL)
		return kx_err(v->err, -EFAULT, "update: %s: '%s' lies outside guest memory",
			      v->name, o->name);
	memmove(to, from, o->size);
	v->res->variables++;
	if (typed_var(v, 0, o, &var) != 0) {
		v->res->untyped += v->map[0] != NULL;
		return 0;
	}
	for (size_t i = var.first_run; i < (size_t)var.first_run + var.run_count; i++) {
		struct kxptrmap_abi_run r;

		kxptrmap_run(v->map[0], i, &r);
		/* kxptrmap_decode: every word lies inside the variable */
		for (uint64_t k = 0; k < r.count; k++) {
			uint64_t off = r.offset + k * r.stride;
			int rc = rebase_word(v, o, off, r.kind, to + off);

			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* Check every variable (nothing copied), or copy them all. */
static int each_var(const struct var_ctx *v, bool copy)
{
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < v->ix[0][k].n; i++) {
			const struct kxelf_symbol *o = &v->ix[0][k].syms[i];
			struct kxelf_symbol n, dup;
			size_t matches;

			if (!is_var(o, k ? KXELF_SYMS_SYMTAB : KXELF_SYMS_DYNSYM) ||
			    !writable(v->old, o->addr, o->size))
				continue;
			matches = find_named(&v->ix[1][k], o->name, &n);
			if (matches == 0)
				continue; /* dropped by the new version */
			if (copy) {
				int rc = carry(v, o, &n);

				if (rc != 0)
					return rc;
				continue;
			}
			if (matches > 1 || find_named(&v->ix[0][k], o->name, &dup) > 1)
				return kx_err(v->err, -EINVAL,
					      "update refused: more than one static '%s' in %s",
					      o->name, v->name);
			if (n.type != STT_OBJECT || n.size != o->size ||
			    !writable(v->new, n.addr, n.size))
				return kx_err(v->err, -EINVAL,
					      "update refused: variable '%s' is %llu bytes in the "
					      "old %s, %llu bytes%s in the new one",
					      o->name, (unsigned long long)o->size, v->name,
					      (unsigned long long)n.size,
					      n.type != STT_OBJECT ? " and not a variable" : "");
			if (same_layout(v, o, &n) != 0)
				return -EINVAL;
		}
	return 0;
}

int update_carry_vars(const struct hv_guest_mem *mem, const struct kxelf_module *old,
		      const struct kxelf_module *new, const char *name,
		      struct hv_update_result *res, struct kx_error *err)
{
	struct var_ctx v = {
		.mem = mem, .old = old, .new = new, .name = name, .res = res, .err = err,
		.map = {kxelf_image_ptrmap(kxelf_module_image(old)),
			kxelf_image_ptrmap(kxelf_module_image(new))}};
	int rc = 0;

	res->no_ptrmap = v.map[0] == NULL;
	for (size_t m = 0; rc == 0 && m < 2; m++)
		for (size_t k = 0; rc == 0 && k < 2; k++)
			rc = index_build(m ? new : old, k ? KXELF_SYMS_SYMTAB : KXELF_SYMS_DYNSYM,
					 &v.ix[m][k]);
	if (rc != 0)
		kx_err(err, rc, "update: out of memory");
	if (rc == 0)
		rc = each_var(&v, false);
	if (rc == 0)
		rc = each_var(&v, true);
	for (size_t m = 0; m < 2; m++)
		for (size_t k = 0; k < 2; k++)
			free(v.ix[m][k].syms);
	return rc;
}
