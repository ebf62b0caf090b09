/*
 * Applying relocations: symbol resolution against a scope of modules, the
 * per-type arithmetic, lazy binding (PLT stubs, GOT[1]/GOT[2], resolving one
 * slot on demand) and the slot/GOT accessors.  Every relocation was checked
 * at parse time (type, symbol index, target inside a writable PT_LOAD); every
 * write still goes through seg_ptr(), the one guest-memory accessor.
 */
#include <stdarg.h>
#include <stdio.h>

#include "manager/elf/internal.h"

/* Work (hash-chain steps weighted by name length, see symbols.c) one
 * relocate call may spend on lookups: a degenerate table (every symbol in
 * one bucket) makes lookups quadratic.  libstdc++ with its tree uses 0.13%. */
#define LOOKUP_BUDGET ((uint64_t)1 << 24)

struct bind_ctx {
	struct kxelf_module *mod;
	const struct kxelf_module *const *scope;
	size_t nscope;
	unsigned flags;
	bool lazy;
	uint64_t budget;
	struct kx_error *err;
	/* What is being applied, for messages: a RELA entry, else `what`. */
	const struct kxelf_reloc *r;
	size_t idx;
	const char *what;
};

/* Where a symbol reference landed: def == NULL for an undefined weak (or
 * tolerated undefined) reference, which binds to 0. */
struct binding {
	const struct kxelf_module *def;
	struct kxelf_symbol sym;
};

/* Fail naming the relocation being applied; the message is only built on
 * this path, never for relocations that succeed. */
static int fail(struct bind_ctx *c, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct bind_ctx *c, int rc, const char *fmt, ...)
{
	char why[KX_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (c->r)
		return kx_err(c->err, rc, "relocation %zu (%s): %s",
			      c->r->plt ? c->r->plt_index : c->idx,
			      c->r->plt ? ".rela.plt" : ".rela.dyn", why);
	return kx_err(c->err, rc, "%s: %s", c->what, why);
}

static int put(struct bind_ctx *c, uint64_t gaddr, size_t size, uint64_t v)
{
	uint8_t *p = seg_ptr(&c->mod->seg, gaddr, size);

	if (!p)
		return fail(c, -ERANGE, "target 0x%lx outside the dynamic segment", gaddr);
	memcpy(p, &v, size); /* x86-64 is little-endian: the low bytes first */
	return 0;
}

static uint64_t binding_value(const struct binding *b)
{
	if (!b->def)
		return 0;
	if (b->sym.shndx == SHN_ABS)
		return b->sym.value;
	return b->sym.value + b->def->bias;
}

/* Find the definition of dynamic symbol symidx of c->mod. */
static int resolve(struct bind_ctx *c, uint32_t symidx, bool copy, struct binding *b)
{
	const struct kxelf_module *mod = c->mod;
	struct kxelf_symbol ref;

	*b = (struct binding){ 0 };
	sym_read(mod->img, KXELF_SYMS_DYNSYM, symidx, &ref);
	if (ref.defined && !copy &&
	    (ref.bind == STB_LOCAL || (mod->img->flags & DF_SYMBOLIC))) {
		b->def = mod;
		b->sym = ref;
		return 0;
	}
	for (size_t k = 0; k < c->nscope && !b->def; k++) {
		const struct kxelf_module *m = c->scope[k];
		size_t idx;
		int rc;

		if (!m || (copy && m == mod))
			continue;
		rc = sym_lookup(m->img, ref.name, &idx, &c->budget);
		if (rc == -2)
			return fail(c, -E2BIG, "looking up '%s' in scope module %zu: hash "
				    "chain loop or lookup budget exhausted", ref.name, k);
		if (rc == 0) {
			b->def = m;
			sym_read(m->img, KXELF_SYMS_DYNSYM, idx, &b->sym);
		}
	}
	if (!b->def && ref.defined && !copy) {
		b->def = mod;
		b->sym = ref;
	}
	if (b->def || ref.bind == STB_WEAK)
		return 0;
	if (c->flags & KXELF_RELOC_ALLOW_UNDEFINED) {
		c->mod->stats.undefined++;
		return 0;
	}
	return fail(c, -ENOENT, "undefined symbol '%s'", ref.name);
}

/* IFUNC targets need the resolver to run, inside the guest. */
static int ifunc(struct bind_ctx *c, const char *name)
{
	if (c->flags & KXELF_RELOC_DEFER_IFUNC) {
		c->mod->stats.deferred++;
		return 0;
	}
	return fail(c, -ENOTSUP, "'%s' is an IFUNC: its resolver would have to run "
		    "in the loader (unsupported in a pVM)", name);
}

static int tls_module(struct bind_ctx *c, const struct binding *b, uint32_t symidx,
		      const struct kxelf_module **out)
{
	const struct kxelf_module *def = symidx ? b->def : c->mod;

	*out = def;
	if (symidx && b->def && b->sym.type != STT_TLS)
		return fail(c, -ENOEXEC, "TLS relocation against non-TLS symbol '%s'",
			    b->sym.name);
	if (def && (def->tls_modid == 0 || !def->img->tls.present))
		return fail(c, -EALREADY,
			    "TLS relocation, but the defining module has no TLS block assigned");
	return 0;
}

static int copy_reloc(struct bind_ctx *c, const struct kxelf_reloc *r, const struct binding *b)
{
	struct kxelf_symbol ref;
	const uint8_t *src;
	uint8_t *dst;

	sym_read(c->mod->img, KXELF_SYMS_DYNSYM, r->sym, &ref);
	if (!b->def)
		return 0; /* tolerated undefined: leave the bytes */
	if (b->sym.size != ref.size)
		return fail(c, -ENOENT,
			    "COPY of '%s': size %lu in the executable, %lu in its definition",
			    ref.name, ref.size, b->sym.size);
	src = seg_ptr(&b->def->seg, binding_value(b), ref.size);
	dst = seg_ptr(&c->mod->seg, r->offset + c->mod->bias, ref.size);
	if (!src || !dst)
		return fail(c, -ERANGE, "COPY of '%s' outside a dynamic segment", ref.name);
	memmove(dst, src, ref.size);
	return 0;
}

/* Lazy JUMP_SLOT: the initial GOT value (the stub's push) plus the bias.
 * plt0_locate checked the slots of DT_JMPREL only; a JUMP_SLOT elsewhere
 * (DT_RELA) is checked here: its GOT slot must be file bytes of the image
 * (a fuzz_elf finding: an unchecked offset read outside the file). */
static int lazy_target(struct bind_ctx *c, const struct kxelf_reloc *r, uint64_t *target)
{
	uint64_t off;

	if (img_file_off(c->mod->img, r->offset, 8, &off) != 0)
		return fail(c, -ERANGE, "lazy JUMP_SLOT at %#llx: its GOT slot is not in the file",
			    (unsigned long long)r->offset);
	*target = rd64(img_at(c->mod->img, off, 8)) + c->mod->bias;
	return 0;
}

static int apply(struct bind_ctx *c, const struct kxelf_reloc *r, size_t i, uint64_t *written)
{
	const uint64_t bias = c->mod->bias, P = r->offset + bias, A = (uint64_t)r->addend;
	const struct kxelf_module *def;
	struct binding b = { 0 };
	size_t size = 8;
	uint64_t v;
	int64_t sv;
	int rc = 0;

	c->r = r;
	c->idx = i;
	if (r->type == R_X86_64_NONE)
		return 0;
	if (r->type == R_X86_64_JUMP_SLOT && c->lazy) {
		c->mod->stats.lazy++;
		if ((rc = lazy_target(c, r, written)) != 0)
			return rc;
		return put(c, P, 8, *written);
	}
	if (r->sym && (rc = resolve(c, r->sym, r->type == R_X86_64_COPY, &b)) != 0)
		return rc;
	if (b.def && b.sym.type == STT_GNU_IFUNC && (rc = ifunc(c, b.sym.name)) != 0)
		return rc;
	if (b.def && b.sym.type == STT_TLS && r->type != R_X86_64_DTPMOD64 &&
	    r->type != R_X86_64_DTPOFF64 && r->type != R_X86_64_TPOFF64)
		return fail(c, -ENOEXEC, "non-TLS relocation against TLS symbol '%s'",
			    b.sym.name);
	const uint64_t S = binding_value(&b);
	switch (r->type) {
	case R_X86_64_RELATIVE:
		v = bias + A;
		break;
	case R_X86_64_IRELATIVE:
		if ((rc = ifunc(c, "(local)")) != 0)
			return rc;
		v = bias + A;
		break;
	case R_X86_64_64:
	case R_X86_64_GLOB_DAT:
	case R_X86_64_JUMP_SLOT:
		v = S + A;
		break;
	case R_X86_64_PC64:
		v = S + A - P;
		break;
	case R_X86_64_PC32:
	case R_X86_64_32S:
		v = r->type == R_X86_64_PC32 ? S + A - P : S + A;
		sv = (int64_t)v;
		if (sv != (int32_t)sv)
			return fail(c, -ERANGE, "value 0x%lx does not fit a signed 32-bit field",
				    v);
		size = 4;
		break;
	case R_X86_64_32:
		v = S + A;
		if (v > UINT32_MAX)
			return fail(c, -ERANGE, "value 0x%lx does not fit an unsigned 32-bit "
				    "field", v);
		size = 4;
		break;
	case R_X86_64_DTPMOD64:
		if ((rc = tls_module(c, &b, r->sym, &def)) != 0)
			return rc;
		v = def ? def->tls_modid : 0;
		break;
	case R_X86_64_DTPOFF64:
		if ((rc = tls_module(c, &b, r->sym, &def)) != 0)
			return rc;
		v = (r->sym ? b.sym.value : 0) + A;
		break;
	case R_X86_64_TPOFF64:
		if ((rc = tls_module(c, &b, r->sym, &def)) != 0)
			return rc;
		v = def ? (r->sym ? b.sym.value : 0) + A + (uint64_t)def->tls_tpoff : 0;
		break;
	case R_X86_64_COPY:
		c->mod->stats.applied++;
		return copy_reloc(c, r, &b);
	default: /* parse refused every other type */
		return fail(c, -ENOTSUP, "type %u", r->type);
	}
	c->mod->stats.applied++;
	*written = v;
	return put(c, P, size, v);
}

static int relr_apply(void *ctx, uint64_t vaddr)
{
	struct bind_ctx *c = ctx;
	const struct kxelf_module *mod = c->mod;
	uint64_t off, addend = 0;

	/* The implicit addend is read from the file, not guest memory. */
	if (img_file_off(mod->img, vaddr, 8, &off) == 0)
		addend = rd64(img_at(mod->img, off, 8));
	c->mod->stats.applied++;
	return put(c, vaddr + mod->bias, 8, addend + mod->bias);
}

int kxelf_module_relocate(struct kxelf_module *mod, const struct kxelf_module *const *scope,
			  size_t nscope, const struct kxelf_bind_opts *opts,
			  struct kx_error *err)
{
	const struct kxelf_image *img;
	struct bind_ctx c;
	int rc;

	if (!mod || !opts || (nscope && !scope))
		return kx_err(err, -EINVAL, "kxelf_module_relocate: NULL argument");
	if (mod->relocated)
		return kx_err(err, -EALREADY, "module already relocated");
	img = mod->img;
	c = (struct bind_ctx){
		.mod = mod, .scope = scope, .nscope = nscope, .flags = opts->flags,
		.budget = LOOKUP_BUDGET, .err = err,
		/* A module linked -z now asked for it; without a located PLT0
		 * there is nothing for lazy stubs to jump to. */
		.lazy = opts->mode == KXELF_BIND_LAZY && img->plt0 && !(img->flags & DF_BIND_NOW) &&
			!(img->flags_1 & DF_1_NOW),
	};
	mod->stats = (struct kxelf_reloc_stats){ 0 };
	c.what = "DT_RELR relocation";
	if ((rc = relr_walk(img, relr_apply, &c, err)) != 0)
		return rc;
	for (size_t i = 0; i < kxelf_image_reloc_count(img); i++) {
		struct kxelf_reloc r;
		uint64_t written;

		kxelf_image_reloc(img, i, &r);
		if ((rc = apply(&c, &r, i, &written)) != 0)
			return rc;
	}
	c.r = NULL;
	c.what = "GOT[1..2]";
	if (c.lazy && img->jmprel_count &&
	    ((rc = put(&c, img->pltgot + mod->bias + 8, 8, opts->module_id)) != 0 ||
	     (rc = put(&c, img->pltgot + mod->bias + 16, 8, opts->resolver)) != 0))
		return rc;
	mod->relocated = true;
	mod->lazy = c.lazy;
	mod->reloc_flags = opts->flags;
	return 0;
}

void kxelf_module_reloc_stats(const struct kxelf_module *mod, struct kxelf_reloc_stats *out)
{
	*out = mod->stats;
}

int kxelf_module_resolve_slot(struct kxelf_module *mod, size_t plt_index,
			      const struct kxelf_module *const *scope, size_t nscope,
			      uint64_t *addr, struct kx_error *err)
{
	struct kxelf_reloc r;
	struct bind_ctx c;

	if (!mod || !addr || (nscope && !scope))
		return kx_err(err, -EINVAL, "kxelf_module_resolve_slot: NULL argument");
	if (!mod->relocated)
		return kx_err(err, -EALREADY, "module not relocated yet");
	if (plt_index >= mod->img->jmprel_count)
		return kx_err(err, -EINVAL, "PLT slot %zu: the module has %zu", plt_index,
			      mod->img->jmprel_count);
	kxelf_image_reloc(mod->img, mod->img->rela_count + plt_index, &r);
	if (r.type != R_X86_64_JUMP_SLOT)
		return kx_err(err, -EINVAL, "PLT slot %zu is not a JUMP_SLOT", plt_index);
	c = (struct bind_ctx){
		.mod = mod, .scope = scope, .nscope = nscope, .flags = mod->reloc_flags,
		.budget = LOOKUP_BUDGET, .err = err, .lazy = false,
	};
	return apply(&c, &r, plt_index, addr);
}

size_t kxelf_module_slot_count(const struct kxelf_module *mod)
{
	return mod->img->jmprel_count;
}

int kxelf_module_slot(const struct kxelf_module *mod, size_t i, struct kxelf_slot *out)
{
	struct kxelf_reloc r;
	struct kxelf_symbol s;

	if (i >= mod->img->jmprel_count)
		return -EINVAL;
	kxelf_image_reloc(mod->img, mod->img->rela_count + i, &r);
	*out = (struct kxelf_slot){
		.got_addr = r.offset + mod->bias, .plt_index = i, .type = r.type,
	};
	if (r.sym && sym_read(mod->img, KXELF_SYMS_DYNSYM, r.sym, &s) == 0)
		out->symbol = s.name;
	return 0;
}

uint64_t kxelf_module_plt0(const struct kxelf_module *mod)
{
	return mod->img->plt0 ? mod->img->plt0 + mod->bias : 0;
}

int kxelf_module_got(const struct kxelf_module *mod, struct kxelf_range *out)
{
	if (!mod->img->pltgot)
		return -EINVAL;
	*out = (struct kxelf_range){
		.addr = mod->img->pltgot + mod->bias,
		.size = 24 + 8 * (uint64_t)mod->img->jmprel_count,
		.prot = KXELF_PROT_R | KXELF_PROT_W,
	};
	return 0;
}
