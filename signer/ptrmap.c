/*
 * kxsig_ptrmap_build: the pointer map of a library (common/kxptrmap.h),
 * from its DWARF.  Which words of each writable variable are pointers comes
 * from the variable's type, never from the values it will hold: an online
 * update (manager/hv/update_vars.c) rebases exactly these words and copies
 * every other one verbatim.
 *
 * Variables are the symbol tables' defined STT_OBJECTs inside a writable
 * PT_LOAD (what the update carries); each is matched with the DWARF
 * variable whose location is its address.  A variable without one (code
 * the compiler made, assembly, a file built without -g) is recorded as
 * untyped, and so is one whose type this walker does not follow (a
 * size that disagrees with the symbol, a member at a computed offset):
 * the update copies it verbatim and says so.
 *
 * The input is the author's own build; libelf and libdw (elfutils) read it.
 * What we produce is checked again by kxptrmap_decode before it is signed.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signer/sign_internal.h"

#define MAX_TYPE_DEPTH  64
#define MAX_VAR_RUNS    65536 /* runs of one variable */
#define MAX_UNION_WORDS 4096  /* pointer words a union's members may list */

struct runs {
	struct kxptrmap_abi_run *r;
	size_t n, cap;
};

struct var {
	uint64_t addr, size;
	const char *name; /* in the library's string table */
	size_t first, count; /* runs, in the builder's run list */
	bool typed;
};

struct dwarf_var {
	uint64_t addr;
	Dwarf_Die die;
};

struct builder {
	Elf *elf, *debug;
	Dwarf *dw;
	struct var *vars;
	size_t nvars;
	struct dwarf_var *dvars;
	size_t ndvars, cap_dvars;
	struct runs runs;
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static int push(struct runs *rs, uint64_t off, uint64_t stride, uint64_t count, uint32_t kind)
{
	if (count == 0)
		return 0;
	if (count > UINT32_MAX || rs->n >= MAX_VAR_RUNS)
		return -E2BIG;
	if (grow((void **)&rs->r, &rs->cap, rs->n + 1, sizeof(*rs->r)))
		return -ENOMEM;
	rs->r[rs->n++] = (struct kxptrmap_abi_run){
		.offset = off, .stride = count > 1 ? stride : 0, .count = (uint32_t)count, .kind = kind
	};
	return 0;
}

/* ---- variables from the symbol tables ---------------------------------- */

static bool writable(Elf *elf, uint64_t addr, uint64_t size)
{
	size_t n;

	if (elf_getphdrnum(elf, &n) != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_W) &&
		    addr >= ph.p_vaddr && size <= ph.p_memsz && addr - ph.p_vaddr <= ph.p_memsz - size)
			return true;
	}
	return false;
}

static int by_addr(const void *a, const void *b)
{
	const struct var *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->size < y->size ? -1 : x->size > y->size;
}

/* The defined, sized STT_OBJECT symbols of both symbol tables (in a
 * writable PT_LOAD only, when asked), sorted by address and size. */
static int objects(Elf *elf, bool writable_only, struct var **out, size_t *n)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    sh.sh_entsize == 0 || !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *name;

			if (!gelf_getsym(data, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_OBJECT ||
			    s.st_size == 0 || s.st_shndx == SHN_UNDEF || s.st_shndx >= SHN_LORESERVE ||
			    (writable_only && !writable(elf, s.st_value, s.st_size)))
				continue;
			name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (grow((void **)out, &cap, *n + 1, sizeof(**out)))
				return -ENOMEM;
			(*out)[(*n)++] = (struct var){
				.addr = s.st_value, .size = s.st_size, .name = name ? name : "?"
			};
		}
	}
	if (*n)
		qsort(*out, *n, sizeof(**out), by_addr);
	return 0;
}

static int collect_vars(struct builder *b, struct kx_error *err)
{
	size_t keep = 0;

	if (objects(b->elf, true, &b->vars, &b->nvars) != 0)
		return kx_err(err, -ENOMEM, "out of memory");
	/* Each once (a global is in .dynsym and .symtab); an alias overlapping
	 * an earlier variable is left out (it is not carried alone, and a
	 * map's vars must not overlap). */
	for (size_t i = 0; i < b->nvars; i++) {
		if (keep > 0 && b->vars[i].addr < b->vars[keep - 1].addr + b->vars[keep - 1].size)
			continue;
		b->vars[keep++] = b->vars[i];
	}
	b->nvars = keep;
	if (b->nvars > KXPTRMAP_MAX_VARS)
		return kx_err(err, -E2BIG, "%zu variables: a pointer map holds at most %u", b->nvars,
			      KXPTRMAP_MAX_VARS);
	return 0;
}

/* ---- variables from DWARF ---------------------------------------------- */

/* The address a variable's DW_AT_location names, if it is one address. */
static bool static_address(Dwarf_Die *die, uint64_t *addr)
{
	Dwarf_Attribute at, a2;
	Dwarf_Op *ops;
	size_t nops;
	Dwarf_Addr a;

	if (!dwarf_attr(die, DW_AT_location, &at) || dwarf_getlocation(&at, &ops, &nops) != 0 ||
	    nops != 1)
		return false;
	if (ops[0].atom == DW_OP_addr) {
		*addr = ops[0].number;
		return true;
	}
	if ((ops[0].atom == DW_OP_addrx || ops[0].atom == DW_OP_GNU_addr_index) &&
	    dwarf_getlocation_attr(&at, &ops[0], &a2) == 0 && dwarf_formaddr(&a2, &a) == 0) {
		*addr = a;
		return true;
	}
	return false;
}

/* Every DW_TAG_variable with a static address, at any depth (a function's
 * static locals are children of its DW_TAG_subprogram). */
static int walk_dies(struct builder *b, Dwarf_Die *parent, unsigned depth)
{
	Dwarf_Die child;

	if (depth > MAX_TYPE_DEPTH || dwarf_child(parent, &child) != 0)
		return 0;
	do {
		uint64_t addr;
		int rc;

		if (dwarf_tag(&child) == DW_TAG_variable && static_address(&child, &addr)) {
			if (grow((void **)&b->dvars, &b->cap_dvars, b->ndvars + 1, sizeof(*b->dvars)))
				return -ENOMEM;
			b->dvars[b->ndvars++] = (struct dwarf_var){ .addr = addr, .die = child };
		}
		if (dwarf_haschildren(&child) && (rc = walk_dies(b, &child, depth + 1)) != 0)
			return rc;
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

static int dvar_by_addr(const void *a, const void *b)
{
	const struct dwarf_var *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int collect_dwarf_vars(struct builder *b)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	uint8_t unit_type;

	while (dwarf_get_units(b->dw, cu, &cu, NULL, &unit_type, &cudie, NULL) == 0) {
		int rc;

		if (unit_type != DW_UT_compile && unit_type != DW_UT_partial)
			continue;
		rc = walk_dies(b, &cudie, 0);
		if (rc)
			return rc;
	}
	if (b->ndvars)
		qsort(b->dvars, b->ndvars, sizeof(*b->dvars), dvar_by_addr);
	return 0;
}

static Dwarf_Die *find_dwarf_var(struct builder *b, uint64_t addr)
{
	struct dwarf_var key = { .addr = addr };
	struct dwarf_var *d;

	if (b->ndvars == 0)
		return NULL;
	d = bsearch(&key, b->dvars, b->ndvars, sizeof(*b->dvars), dvar_by_addr);
	return d ? &d->die : NULL;
}

/* ---- the pointer words of a type --------------------------------------- */

static bool type_of(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute at;

	return dwarf_attr_integrate(die, DW_AT_type, &at) && dwarf_formref_die(&at, out);
}

static int type_walk(Dwarf_Die *type, uint64_t base, struct runs *out, unsigned depth);

/* A struct's members (and C++ base classes) at their offsets; bit fields
 * hold no pointer. */
static int struct_walk(Dwarf_Die *type, uint64_t base, struct runs *out, unsigned depth)
{
	Dwarf_Die m, mt;

	if (dwarf_child(type, &m) != 0)
		return 0;
	do {
		Dwarf_Attribute at;
		Dwarf_Word off = 0;
		int tag = dwarf_tag(&m), rc;

		if ((tag != DW_TAG_member && tag != DW_TAG_inheritance) ||
		    dwarf_hasattr(&m, DW_AT_bit_size) || dwarf_hasattr(&m, DW_AT_data_bit_offset))
			continue;
		if (dwarf_attr(&m, DW_AT_data_member_location, &at) &&
		    dwarf_formudata(&at, &off) != 0)
			return -ENOTSUP; /* a location expression, not a constant */
		if (!type_of(&m, &mt))
			return -ENOTSUP;
		rc = type_walk(&mt, base + off, out, depth + 1);
		if (rc)
			return rc;
	} while (dwarf_siblingof(&m, &m) == 0);
	return 0;
}

/* A union: a word is a pointer when every member that covers it says so,
 * "maybe" when one member says pointer and another holds other bytes there. */
static int union_walk(Dwarf_Die *type, uint64_t base, struct runs *out, unsigned depth)
{
	struct {
		struct runs runs;
		Dwarf_Word size;
	} mem[64];
	size_t n = 0, words = 0;
	Dwarf_Die m, mt;
	int rc = 0;

	if (dwarf_child(type, &m) != 0)
		return 0;
	do {
		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		if (n == sizeof(mem) / sizeof(mem[0]) || !type_of(&m, &mt) ||
		    dwarf_aggregate_size(&mt, &mem[n].size) != 0) {
			rc = -ENOTSUP;
			goto out;
		}
		mem[n].runs = (struct runs){ 0 };
		rc = type_walk(&mt, 0, &mem[n++].runs, depth + 1);
		if (rc)
			goto out;
	} while (dwarf_siblingof(&m, &m) == 0);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < mem[i].runs.n; j++)
			words += mem[i].runs.r[j].count;
	if (words > MAX_UNION_WORDS) {
		rc = -E2BIG;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < mem[i].runs.n; j++) {
			const struct kxptrmap_abi_run *r = &mem[i].runs.r[j];

			for (uint32_t k = 0; k < r->count; k++) {
				uint64_t w = r->offset + (uint64_t)k * r->stride;
				uint32_t kind = r->kind;
				bool seen = false;

				for (size_t o = 0; o < n; o++) {
					bool has = false;

					for (size_t q = 0; q < mem[o].runs.n && !has; q++)
						has = kxptrmap_run_has(&mem[o].runs.r[q], w);
					if (has && o < i)
						seen = true; /* listed with member o already */
					else if (!has && mem[o].size > w)
						kind = KXPTRMAP_MAYBE;
				}
				if (!seen && (rc = push(out, base + w, 8, 1, kind)) != 0)
					goto out;
			}
		}
out:
	for (size_t i = 0; i < n; i++)
		free(mem[i].runs.r);
	return rc;
}

/* An array: its element's words, once per element (one run per element
 * word, strided by the element size, where the element's runs allow). */
static int array_walk(Dwarf_Die *type, uint64_t base, struct runs *out, unsigned depth)
{
	struct runs elem = { 0 };
	uint64_t count = 1;
	Dwarf_Word esize;
	Dwarf_Die et, d;
	int rc = 0;

	if (!type_of(type, &et) || dwarf_aggregate_size(&et, &esize) != 0)
		return -ENOTSUP;
	if (dwarf_child(type, &d) == 0)
		do {
			Dwarf_Attribute at;
			Dwarf_Word c = 0, lo = 0;
			Dwarf_Sword hi;

			if (dwarf_tag(&d) != DW_TAG_subrange_type)
				continue;
			if (dwarf_attr(&d, DW_AT_count, &at)) {
				if (dwarf_formudata(&at, &c) != 0)
					return -ENOTSUP;
			} else if (dwarf_attr(&d, DW_AT_upper_bound, &at)) {
				if (dwarf_formsdata(&at, &hi) != 0)
					return -ENOTSUP;
				if (dwarf_attr(&d, DW_AT_lower_bound, &at) &&
				    dwarf_formudata(&at, &lo) != 0)
					return -ENOTSUP;
				c = hi < 0 || (Dwarf_Word)hi < lo ? 0 : (Dwarf_Word)hi - lo + 1;
			} else {
				c = 0; /* a flexible array member: no elements of its own */
			}
			if (__builtin_mul_overflow(count, c, &count))
				return -E2BIG;
		} while (dwarf_siblingof(&d, &d) == 0);
	if (count == 0 || esize == 0)
		return 0;
	rc = type_walk(&et, 0, &elem, depth + 1);
	for (size_t i = 0; i < elem.n && rc == 0; i++) {
		const struct kxptrmap_abi_run *r = &elem.r[i];

		if (r->count == 1)
			rc = push(out, base + r->offset, esize, count, r->kind);
		else if (r->stride * r->count == esize && count <= UINT32_MAX / r->count)
			rc = push(out, base + r->offset, r->stride, (uint64_t)r->count * count,
				  r->kind);
		else
			for (uint64_t k = 0; k < count && rc == 0; k++)
				rc = push(out, base + k * esize + r->offset, r->stride, r->count,
					  r->kind);
	}
	free(elem.r);
	return rc;
}

static int type_walk(Dwarf_Die *type, uint64_t base, struct runs *out, unsigned depth)
{
	Dwarf_Die next;
	Dwarf_Attribute at;
	Dwarf_Word size = 8;

	if (depth > MAX_TYPE_DEPTH)
		return -ELOOP;
	switch (dwarf_tag(type)) {
	case DW_TAG_typedef:
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
	case DW_TAG_restrict_type:
	case DW_TAG_atomic_type:
		return type_of(type, &next) ? type_walk(&next, base, out, depth + 1) : 0;
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
		if (dwarf_attr(type, DW_AT_byte_size, &at) && dwarf_formudata(&at, &size) != 0)
			return -ENOTSUP;
		return size == 8 ? push(out, base, 8, 1, KXPTRMAP_POINTER) : -ENOTSUP;
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
		return struct_walk(type, base, out, depth);
	case DW_TAG_union_type:
		return union_walk(type, base, out, depth);
	case DW_TAG_array_type:
		return array_walk(type, base, out, depth);
	case DW_TAG_ptr_to_member_type:
		return -ENOTSUP;
	default:
		return 0; /* base types, enumerations: no pointers */
	}
}

static int by_offset(const void *a, const void *b)
{
	const struct kxptrmap_abi_run *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Sorted by offset, single words of one kind joined into strided runs. */
static int tidy(struct kxptrmap_abi_run *r, size_t *n)
{
	size_t keep = 0;

	if (*n == 0)
		return 0; /* r may be NULL: qsort's argument must not be */
	qsort(r, *n, sizeof(*r), by_offset);
	for (size_t i = 0; i < *n; i++) {
		struct kxptrmap_abi_run *a = keep ? &r[keep - 1] : NULL;

		if (a && r[i].offset == a->offset)
			return -ENOTSUP; /* two runs from one word: not a layout we know */
		if (a && r[i].count == 1 && r[i].kind == a->kind) {
			if (a->count == 1 && r[i].offset - a->offset >= 8) {
				a->stride = r[i].offset - a->offset;
				a->count = 2;
				continue;
			}
			if (a->count > 1 && a->count < UINT32_MAX &&
			    r[i].offset == a->offset + a->stride * a->count) {
				a->count++;
				continue;
			}
		}
		r[keep++] = r[i];
	}
	*n = keep;
	return 0;
}

/* The runs of one variable, or untyped (with a reason kept for the note). */
static int map_var(struct builder *b, struct var *v)
{
	struct runs rs = { 0 };
	Dwarf_Die *die = find_dwarf_var(b, v->addr), type;
	Dwarf_Word size;
	int rc;

	v->first = b->runs.n;
	v->count = 0;
	if (!die || !type_of(die, &type) || dwarf_aggregate_size(&type, &size) != 0 ||
	    size != v->size)
		return 0;
	rc = type_walk(&type, 0, &rs, 0);
	if (rc == 0)
		rc = tidy(rs.r, &rs.n);
	if (rc == -ENOMEM)
		goto out;
	if (rc != 0) {
		rc = 0; /* a type we do not follow: untyped, copied verbatim */
		goto out;
	}
	if (grow((void **)&b->runs.r, &b->runs.cap, b->runs.n + rs.n, sizeof(*rs.r))) {
		rc = -ENOMEM;
		goto out;
	}
	if (rs.n)
		memcpy(b->runs.r + b->runs.n, rs.r, rs.n * sizeof(*rs.r));
	b->runs.n += rs.n;
	v->count = rs.n;
	v->typed = true;
out:
	free(rs.r);
	return rc;
}

/* ---- the map ------------------------------------------------------------ */

static int encode(const struct builder *b, uint8_t **map, size_t *map_len,
		  struct kxsig_ptrmap_stats *st, struct kx_error *err)
{
	struct kxptrmap_abi_header h = { .var_count = (uint32_t)b->nvars,
					 .run_count = (uint32_t)b->runs.n };
	size_t len = sizeof(h) + b->nvars * sizeof(struct kxptrmap_abi_var) +
		     b->runs.n * sizeof(struct kxptrmap_abi_run);
	struct kxptrmap check;
	uint8_t *buf, *p;

	if (b->runs.n > KXPTRMAP_MAX_RUNS)
		return kx_err(err, -E2BIG, "%zu pointer runs: a pointer map holds at most %u",
			      b->runs.n, KXPTRMAP_MAX_RUNS);
	buf = calloc(1, len);
	if (!buf)
		return kx_err(err, -ENOMEM, "out of memory");
	memcpy(h.magic, KXPTRMAP_MAGIC, sizeof(h.magic));
	memcpy(buf, &h, sizeof(h));
	p = buf + sizeof(h);
	for (size_t i = 0; i < b->nvars; i++, p += sizeof(struct kxptrmap_abi_var)) {
		const struct var *v = &b->vars[i];
		struct kxptrmap_abi_var e = { .addr = v->addr, .size = v->size,
					      .first_run = (uint32_t)v->first,
					      .run_count = (uint32_t)v->count,
					      .flags = v->typed ? 0 : KXPTRMAP_VAR_UNTYPED };

		memcpy(p, &e, sizeof(e));
		st->vars++;
		if (!v->typed && st->untyped++ == 0)
			snprintf(st->untyped_example, sizeof(st->untyped_example), "%s", v->name);
	}
	for (size_t i = 0; i < b->runs.n; i++, p += sizeof(struct kxptrmap_abi_run)) {
		memcpy(p, &b->runs.r[i], sizeof(b->runs.r[i]));
		if (b->runs.r[i].kind == KXPTRMAP_MAYBE)
			st->maybe += b->runs.r[i].count;
		else
			st->pointers += b->runs.r[i].count;
	}
	/* What we sign is what the loader will accept. */
	if (kxptrmap_decode(&check, buf, len, err) != 0) {
		free(buf);
		return kx_err_wrap(err, -EPROTO, "internal error: the pointer map built");
	}
	*map = buf;
	*map_len = len;
	return 0;
}

/* The debug file must describe this build: the same PT_LOAD segments. */
static int same_build(Elf *a, Elf *b, struct kx_error *err)
{
	size_t na, nb;

	if (elf_getphdrnum(a, &na) != 0 || elf_getphdrnum(b, &nb) != 0 || na != nb)
		return kx_err(err, -EINVAL, "the debug file has other program headers than the "
					    "library: not the same build");
	for (size_t i = 0; i < na; i++) {
		GElf_Phdr x, y;

		if (!gelf_getphdr(a, (int)i, &x) || !gelf_getphdr(b, (int)i, &y) ||
		    x.p_type != y.p_type || x.p_vaddr != y.p_vaddr || x.p_memsz != y.p_memsz ||
		    x.p_flags != y.p_flags)
			return kx_err(err, -EINVAL, "the debug file's segment %zu differs from the "
						    "library's: not the same build", i);
	}
	return 0;
}

int kxsig_ptrmap_build(const void *elf, size_t len, const void *debug, size_t debug_len,
		       uint8_t **map, size_t *map_len, struct kxsig_ptrmap_stats *st,
		       struct kx_error *err)
{
	struct builder b = { 0 };
	int rc;

	*map = NULL;
	*map_len = 0;
	memset(st, 0, sizeof(*st));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return kx_err(err, -ENOSYS, "libelf: %s", elf_errmsg(-1));
	/* ELF_C_READ_MEMORY never writes to the buffer. */
	b.elf = elf_memory((char *)(uintptr_t)elf, len);
	if (!b.elf || elf_kind(b.elf) != ELF_K_ELF) {
		rc = kx_err(err, -ENOEXEC, "not an ELF file");
		goto out;
	}
	if (debug) {
		b.debug = elf_memory((char *)(uintptr_t)debug, debug_len);
		if (!b.debug || elf_kind(b.debug) != ELF_K_ELF) {
			rc = kx_err(err, -ENOEXEC, "the debug file is not an ELF file");
			goto out;
		}
		if ((rc = same_build(b.elf, b.debug, err)) != 0)
			goto out;
	}
	b.dw = dwarf_begin_elf(debug ? b.debug : b.elf, DWARF_C_READ, NULL);
	if (!b.dw) {
		rc = kx_err(err, -ENODATA, "no DWARF debug information%s",
			    debug ? " in the debug file" : " (build with -g, or give --debug-file)");
		goto out;
	}
	if ((rc = collect_vars(&b, err)) != 0)
		goto out;
	if ((rc = collect_dwarf_vars(&b)) != 0) {
		rc = kx_err(err, rc, "reading DWARF: out of memory");
		goto out;
	}
	for (size_t i = 0; i < b.nvars; i++)
		if ((rc = map_var(&b, &b.vars[i])) != 0) {
			rc = kx_err(err, rc, "out of memory");
			goto out;
		}
	rc = encode(&b, map, map_len, st, err);
out:
	if (b.dw)
		dwarf_end(b.dw);
	if (b.debug)
		elf_end(b.debug);
	if (b.elf)
		elf_end(b.elf);
	free(b.vars);
	free(b.dvars);
	free(b.runs.r);
	return rc;
}

/* ---- reading a signed map back (kxsign ptrmap) --------------------------- */

int kxsig_ptrmap_describe(const void *elf, size_t len, struct kxsig_ptrmap_var **out,
			  size_t *count, struct kxptrmap *map, struct kx_error *err)
{
	struct kxsig_elf view;
	struct var *objs = NULL, key;
	size_t nobjs = 0;
	struct kxsig_ptrmap_var *vars = NULL;
	Elf *e = NULL;
	Elf64_Shdr sh;
	int rc;

	*out = NULL;
	*count = 0;
	rc = kxsig_elf_parse(&view, elf, len, err);
	if (rc)
		return rc;
	if (view.ptrmap_index == 0)
		return kx_err(err, -ENOENT, "no pointer map (signed without DWARF, or not signed)");
	kxsig_elf_shdr(&view, view.ptrmap_index, &sh);
	rc = kxptrmap_decode(map, view.buf + sh.sh_offset, sh.sh_size, err);
	if (rc)
		return rc;
	elf_version(EV_CURRENT);
	e = elf_memory((char *)(uintptr_t)elf, len); /* ELF_C_READ_MEMORY: read only */
	if (!e || objects(e, false, &objs, &nobjs) != 0 ||
	    !(vars = calloc(map->var_count ? map->var_count : 1, sizeof(*vars)))) {
		rc = kx_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < map->var_count; i++) {
		struct var *o;

		kxptrmap_var(map, i, &vars[i].var);
		key = (struct var){ .addr = vars[i].var.addr, .size = vars[i].var.size };
		o = nobjs ? bsearch(&key, objs, nobjs, sizeof(*objs), by_addr) : NULL;
		snprintf(vars[i].name, sizeof(vars[i].name), "%s", o ? o->name : "?");
	}
	*out = vars;
	*count = map->var_count;
	vars = NULL;
out:
	free(vars);
	free(objs);
	if (e)
		elf_end(e);
	return rc;
}
