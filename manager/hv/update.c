/*
 * update.c — online update of a linked library (docs/update.md).
 *
 * At a safe point (the vCPU stopped between two instructions), in order:
 *
 *   quiesce    no return address, no word of the live stack and not RIP
 *              lies in the old library (update_quiescent); else -EBUSY and
 *              the caller retries later;
 *   load       the new library is mapped and relocated into free window
 *              space, invisible to the guest (no rights on its pages), with
 *              the old library's module id, against every other module;
 *   resolve    every GOT entry of every other module that points into the
 *              old library gets its new value (the new definition, or the
 *              module's own PLT stub for lazy resolution); a symbol the pVM
 *              uses that the new version lacks refuses the update;
 *   variables  globals and statics carried by name (update_vars.c);
 *   commit     share (the new library's rights, GOT read-only, shared text),
 *              got (the GOT entries written), unmap (the old library's pages
 *              taken away, the TLB flushed), then the module table swapped.
 *
 * Until the commit nothing the guest can see has changed: a failure frees
 * the new library and leaves the pVM as it was.  Each commit step is undone
 * in reverse order when a later one fails.  A test-only hook
 * (hv_update_req.fail_step) makes any step fail, so every path is tested.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "manager/hv/linker.h"

#define R_X86_64_64	   1
#define R_X86_64_GLOB_DAT  6
#define R_X86_64_JUMP_SLOT 7
#define PLT_ENTRY_SIZE	   16u
#define PLT_PUSH_OFFSET	   6u /* jmp *GOT(%rip) is 6 bytes, then push $index */
#define OP_PUSH_IMM32	   0x68
#define STACK_SCAN_WORDS   (1u << 16) /* live stack words scanned, at most */

static const char *const phase_names[HV_UPD_PHASES] = {
	[HV_UPD_QUIESCE] = "quiesce",	  [HV_UPD_LOAD] = "load",   [HV_UPD_RESOLVE] = "resolve",
	[HV_UPD_VARIABLES] = "variables", [HV_UPD_SHARE] = "share", [HV_UPD_GOT] = "got",
	[HV_UPD_UNMAP] = "unmap",
};

const char *hv_update_phase_name(unsigned phase)
{
	return phase < HV_UPD_PHASES ? phase_names[phase] : "?";
}

/* ---- quiescence ------------------------------------------------------------ */

static bool in_range(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v >= lo && v < hi;
}

static int read_word(const struct hv_guest_mem *mem, uint64_t gpa, enum hv_access access,
		     uint64_t *out)
{
	const void *p = hv_guest_ptr(mem, gpa, sizeof(*out), access);

	if (p == NULL)
		return -EFAULT;
	memcpy(out, p, sizeof(*out));
	return 0;
}

/* The frame chain from fp: [fp] the caller's fp, [fp + 8] a return
 * address; each link must go up the stack, or the walk stops. */
static int frames_busy(const struct hv_guest_mem *mem, const struct update_cpu *cpu, uint64_t fp,
		       uint64_t lo, uint64_t hi, uint64_t *found)
{
	for (unsigned n = 0; n < UPDATE_MAX_FRAMES; n++) {
		uint64_t next, ret;

		if (fp % 8 || fp < cpu->stack_lo || fp > cpu->stack_hi - 16 ||
		    read_word(mem, fp, HV_ACCESS_READ, &next) != 0 ||
		    read_word(mem, fp + 8, HV_ACCESS_READ, &ret) != 0)
			break;
		if (in_range(ret, lo, hi)) {
			*found = ret;
			return -EBUSY;
		}
		if (next <= fp)
			break;
		fp = next;
	}
	return 0;
}

int update_quiescent(const struct hv_guest_mem *mem, const struct update_cpu *cpu, uint64_t lo,
		     uint64_t hi, uint64_t *found)
{
	uint64_t w;

	*found = 0;
	if (in_range(cpu->rip, lo, hi) || (cpu->in_handler && in_range(cpu->int_rip, lo, hi))) {
		*found = in_range(cpu->rip, lo, hi) ? cpu->rip : cpu->int_rip;
		return -EBUSY;
	}
	if (cpu->stack_lo >= cpu->stack_hi || cpu->stack_hi - cpu->stack_lo < 16)
		return -EINVAL;
	if (frames_busy(mem, cpu, cpu->rbp, lo, hi, found) != 0 ||
	    (cpu->in_handler && frames_busy(mem, cpu, cpu->int_rbp, lo, hi, found) != 0))
		return -EBUSY;
	/* Then every live word: a callee that has not pushed its frame yet,
	 * du_resolve's block, a pointer kept in a local — anything that would
	 * point into the old library after the update.  A handler's stack lies
	 * below the state it interrupted: one scan covers both. */
	for (uint64_t a = (cpu->rsp + 7) & ~7ull, n = 0;
	     a >= cpu->stack_lo && a <= cpu->stack_hi - 8 && n < STACK_SCAN_WORDS; a += 8, n++) {
		if (read_word(mem, a, HV_ACCESS_READ, &w) != 0)
			break;
		if (in_range(w, lo, hi)) {
			*found = w;
			return -EBUSY;
		}
	}
	return 0;
}

/* ---- one update -------------------------------------------------------------- */

/* A GOT entry to rewrite at the commit. */
struct got_fix {
	uint64_t gpa, old_value, new_value;
};

struct update_ctx {
	struct hv_linker *l;
	const struct update_cpu *cpu;
	const struct hv_update_req *req;
	struct hv_update_result *res;
	struct kx_error *err;
	size_t oi; /* the old module's index in l->mods */
	struct kxelf_module *old, *new;
	struct kxelf_tree *tree;
	bool file_added;
	bool shared; /* the new text was shared: its window space is spent */
	struct got_fix *fixes;
	size_t nfixes, cap;
	uint8_t *old_prot; /* the old module's page rights, for the undo */
	struct timespec t0;
};

static uint64_t lap(struct update_ctx *u, unsigned phase)
{
	struct timespec t;
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &t);
	ns = (uint64_t)(t.tv_sec - u->t0.tv_sec) * 1000000000u + (uint64_t)t.tv_nsec -
	     (uint64_t)u->t0.tv_nsec;
	u->res->phase_ns[phase] = ns;
	u->t0 = t;
	return ns;
}

static int injected(struct update_ctx *u, unsigned phase)
{
	const char *step = u->req->fail_step;

	if (step == NULL || strcmp(step, hv_update_phase_name(phase)) != 0)
		return 0;
	return kx_err(u->err, -ECANCELED, "update: injected failure at step '%s' (test hook)",
		      step);
}

/* "libupd.so.1" and "libupd.so" name "libupd". */
static bool same_lib(const char *a, const char *b)
{
	size_t la = strcspn(a, "."), lb = strcspn(b, ".");

	return la == lb && strncmp(a, b, la) == 0 &&
	       (a[la] == '\0' || strncmp(a + la, ".so", 3) == 0) &&
	       (b[lb] == '\0' || strncmp(b + lb, ".so", 3) == 0);
}

static int find_old(struct update_ctx *u)
{
	for (size_t i = 1; i < u->l->nmods; i++) {
		const char *soname = kxelf_image_soname(kxelf_module_image(u->l->mods[i]));

		if (soname != NULL && same_lib(soname, u->req->old_name)) {
			u->oi = i;
			u->old = u->l->mods[i];
			return 0;
		}
	}
	return kx_err(u->err, -ENOENT, "update: no library '%s' is linked in this pVM",
		      u->req->old_name);
}

static int refuse_open(void *ctx, const char *name, const uint8_t **data, size_t *len,
		       struct kx_error *kerr)
{
	(void)ctx, (void)name, (void)data, (void)len;
	return kx_err(kerr, -EPERM, "not linked in this pVM (an update adds none)");
}

static void no_release(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
}

/* Is every page of the new module still free (no guest rights)? */
static int check_new(struct update_ctx *u)
{
	struct hv_linker *l = u->l;
	struct kxelf_init_info init;

	kxelf_module_init_info(u->new, &init);
	if (init.init || init.preinit_count || init.init_count)
		return kx_err(u->err, -ENOTSUP, "update: the new library has constructors");
	for (size_t r = 0; r < kxelf_module_prot_count(u->new); r++) {
		struct kxelf_range range;

		if (kxelf_module_prot(u->new, r, &range) != 0 || range.addr < l->start ||
		    range.addr > l->end || range.size > l->end - range.addr)
			return kx_err(u->err, -EINVAL, "update: a segment lies outside the window");
		for (uint64_t a = range.addr; a < range.addr + range.size; a += KX_PAGE_SIZE)
			if (l->mem->page_prot[a / KX_PAGE_SIZE] != 0)
				return kx_err(u->err, -EINVAL, "update: overlaps a mapped page");
	}
	return linker_check_got_pages(u->new, u->req->old_name, u->err);
}

static int load_new(struct update_ctx *u)
{
	struct hv_linker *l = u->l;
	const struct kxelf_tree_ops ops = {.open = refuse_open, .release = no_release, .ctx = l};
	const struct kxelf_module *scope[KXELF_MAX_MODULES];
	struct kxelf_tls_info tls;
	struct link_file *f = NULL;
	size_t n = 0;
	int fd, rc;

	if (l->ntrees >= KXELF_MAX_MODULES)
		return kx_err(u->err, -ENOSPC, "update: too many modules in this pVM");
	fd = fcntl(u->req->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return kx_err(u->err, -errno, "update: %s", strerror(errno));
	rc = linker_file_add(l, u->req->old_name, fd, u->req->bind, &f);
	if (rc != 0)
		return kx_err(u->err, rc, "update: the new library: %s", strerror(-rc));
	u->file_added = true;
	/* Every module but the old one: the new library binds to itself. */
	for (size_t i = 0; i < l->nmods; i++)
		if (i != u->oi)
			scope[n++] = l->mods[i];
	struct kxelf_segment seg = linker_segment(l);
	struct kxelf_tree_params p = {
		.ops = &ops,
		.seg = &seg,
		.guest_addr = l->cursor,
		.linked = scope,
		.nlinked = n,
		.bind = {.mode = l->resolver && u->req->bind == HV_BIND_LAZY ? KXELF_BIND_LAZY
									     : KXELF_BIND_NOW,
			 .module_id = u->oi + 1,
			 .resolver = l->resolver},
		.max_modules = 1,
	};
	rc = kxelf_tree_load(f->data, f->len, u->req->old_name, &p, &u->tree, u->err);
	if (rc != 0)
		return kx_err_wrap(u->err, linker_refusal(rc), "update: the new library");
	u->new = kxelf_tree_module(u->tree, 0);
	kxelf_image_tls(kxelf_module_image(u->new), &tls);
	if (tls.present)
		return kx_err(u->err, -ENOTSUP, "update: a library with TLS cannot be updated");
	return check_new(u);
}

static int add_fix(struct update_ctx *u, uint64_t gpa, uint64_t old_value, uint64_t new_value)
{
	if (u->nfixes == u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 256;
		struct got_fix *p;

		if (cap > KXELF_MAX_RELOCS)
			return -E2BIG;
		p = realloc(u->fixes, cap * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		u->fixes = p;
		u->cap = cap;
	}
	u->fixes[u->nfixes++] = (struct got_fix){gpa, old_value, new_value};
	return 0;
}

/* The module's own PLT stub for slot s (lazy resolution), or 0 when its
 * PLT is not the standard one (checked: push $index at the target). */
static uint64_t lazy_target(const struct hv_guest_mem *mem, const struct kxelf_module *m,
			    const struct kxelf_slot *s)
{
	uint64_t plt0 = kxelf_module_plt0(m), at;
	const uint8_t *code;
	uint32_t index;

	if (plt0 == 0)
		return 0;
	at = plt0 + PLT_ENTRY_SIZE * ((uint64_t)s->plt_index + 1) + PLT_PUSH_OFFSET;
	if (!in_range(at, kxelf_module_start(m), kxelf_module_end(m) - 5))
		return 0;
	code = hv_guest_ptr(mem, at, 5, HV_ACCESS_MONITOR);
	if (code == NULL || code[0] != OP_PUSH_IMM32)
		return 0;
	memcpy(&index, code + 1, sizeof(index));
	return index == s->plt_index ? at : 0;
}

static int removed(struct update_ctx *u, const char *sym, size_t user)
{
	const char *who = kxelf_image_soname(kxelf_module_image(u->l->mods[user]));

	return kx_err(u->err, -ENOENT,
		      "update refused: the new %s has no '%s', which %s uses "
		      "(binary compatibility)",
		      u->req->old_name, sym,
		      user == 0 ? "the image"
		      : who     ? who
				: "a module");
}

/* The PLT slots of module mi into the old library. */
static int plan_slots(struct update_ctx *u, size_t mi)
{
	const struct kxelf_module *m = u->l->mods[mi];
	uint64_t lo = kxelf_module_start(u->old), hi = kxelf_module_end(u->old);

	for (size_t i = 0; i < kxelf_module_slot_count(m); i++) {
		struct kxelf_symbol os, ns;
		struct kxelf_slot s;
		uint64_t cur, to;
		bool into_old, unbound, from_old;

		if (kxelf_module_slot(m, i, &s) != 0 || s.symbol == NULL ||
		    s.type != R_X86_64_JUMP_SLOT)
			continue;
		if (read_word(u->l->mem, s.got_addr, HV_ACCESS_MONITOR, &cur) != 0)
			return kx_err(u->err, -EFAULT, "update: a GOT entry outside guest memory");
		into_old = in_range(cur, lo, hi);
		unbound = in_range(cur, kxelf_module_start(m), kxelf_module_end(m));
		from_old = kxelf_module_lookup(u->old, s.symbol, &os) == 0 && os.defined;
		if (!into_old && !(unbound && from_old))
			continue;
		if (kxelf_module_lookup(u->new, s.symbol, &ns) != 0 || !ns.defined)
			return removed(u, s.symbol, mi);
		if (!into_old)
			continue; /* still lazy: it resolves to the new library */
		to = u->req->bind == HV_BIND_LAZY && u->l->resolver ? lazy_target(u->l->mem, m, &s)
								    : 0;
		if (add_fix(u, s.got_addr, cur, to ? to : ns.addr) != 0)
			return kx_err(u->err, -ENOMEM, "update: out of memory");
		u->res->lazy_entries += to != 0;
	}
	return 0;
}

/* The GLOB_DAT entries and absolute pointers (R_X86_64_64) of module mi
 * that still hold what relocation put there: an address in the old
 * library.  A pointer the guest has since changed to another place in the
 * old library cannot be followed: refused. */
static int plan_data(struct update_ctx *u, size_t mi)
{
	const struct kxelf_module *m = u->l->mods[mi];
	const struct kxelf_image *img = kxelf_module_image(m);
	uint64_t lo = kxelf_module_start(u->old), hi = kxelf_module_end(u->old);

	for (size_t i = 0; i < kxelf_image_reloc_count(img); i++) {
		struct kxelf_symbol sym, os, ns;
		struct kxelf_reloc r;
		uint64_t cur, at;

		if (kxelf_image_reloc(img, i, &r) != 0 ||
		    (r.type != R_X86_64_GLOB_DAT && r.type != R_X86_64_64) || r.sym == 0)
			continue;
		at = r.offset + kxelf_module_bias(m);
		if (read_word(u->l->mem, at, HV_ACCESS_MONITOR, &cur) != 0 ||
		    !in_range(cur, lo, hi) ||
		    kxelf_image_symbol(img, KXELF_SYMS_DYNSYM, r.sym, &sym) != 0)
			continue;
		if (kxelf_module_lookup(u->old, sym.name, &os) != 0 ||
		    cur != os.addr + (uint64_t)r.addend)
			return kx_err(u->err, -EINVAL,
				      "update refused: a pointer at 0x%llx into the old %s "
				      "no longer points where '%s' was relocated",
				      (unsigned long long)at, u->req->old_name, sym.name);
		if (kxelf_module_lookup(u->new, sym.name, &ns) != 0 || !ns.defined)
			return removed(u, sym.name, mi);
		if (add_fix(u, at, cur, ns.addr + (uint64_t)r.addend) != 0)
			return kx_err(u->err, -ENOMEM, "update: out of memory");
	}
	return 0;
}

static int plan_got(struct update_ctx *u)
{
	for (size_t i = 0; i < u->l->nmods; i++) {
		int rc;

		if (i == u->oi)
			continue;
		rc = plan_slots(u, i);
		if (rc == 0)
			rc = plan_data(u, i);
		if (rc != 0)
			return rc;
	}
	u->res->got_entries = (uint32_t)u->nfixes;
	return 0;
}

static void write_got(struct update_ctx *u, bool undo)
{
	for (size_t i = 0; i < u->nfixes; i++) {
		uint64_t v = undo ? u->fixes[i].old_value : u->fixes[i].new_value;
		void *p = hv_guest_ptr(u->l->mem, u->fixes[i].gpa, sizeof(v), HV_ACCESS_MONITOR);

		if (p != NULL) /* checked when planned */
			memcpy(p, &v, sizeof(v));
	}
}

static int set_range(struct hv_linker *l, const struct kxelf_module *m, unsigned prot)
{
	struct kx_error scratch;

	return hv_protect(l->p, kxelf_module_start(m), kxelf_module_end(m) - kxelf_module_start(m),
			  prot, &scratch);
}

/* share, got, unmap; each undone when a later one fails. */
static int commit(struct update_ctx *u)
{
	struct hv_linker *l = u->l;
	uint64_t first = kxelf_module_start(u->old) / KX_PAGE_SIZE;
	uint64_t npages = kxelf_module_end(u->old) / KX_PAGE_SIZE - first;
	struct kx_error scratch;
	int rc = 0, flushed;

	u->old_prot = malloc(npages);
	if (u->old_prot == NULL)
		return kx_err(u->err, -ENOMEM, "update: out of memory");
	memcpy(u->old_prot, l->mem->page_prot + first, npages);
	for (size_t r = 0; rc == 0 && r < kxelf_module_prot_count(u->new); r++) {
		struct kxelf_range range;

		kxelf_module_prot(u->new, r, &range);
		if (hv_protect(l->p, range.addr, range.size, linker_prot_of(range.prot), &scratch))
			rc = kx_err(u->err, -EPERM,
				    "update: the new library is writable and executable");
	}
	if (rc == 0 && linker_protect_got(l, u->new) != 0)
		rc = kx_err(u->err, -EINVAL, "update: cannot protect the new library's GOT");
	u->shared = true;
	if (rc == 0)
		rc = linker_share_text(l, u->new, &l->files[l->nfiles - 1], u->err);
	if (rc == 0)
		rc = injected(u, HV_UPD_SHARE);
	if (rc != 0)
		goto undo_new;
	lap(u, HV_UPD_SHARE);
	write_got(u, false);
	rc = injected(u, HV_UPD_GOT);
	if (rc != 0)
		goto undo_got;
	lap(u, HV_UPD_GOT);
	rc = set_range(l, u->old, 0);
	if (rc == 0)
		rc = injected(u, HV_UPD_UNMAP);
	if (rc == 0) {
		flushed = hv_flush(l->p, u->err);
		rc = flushed < 0 ? flushed : 0;
	}
	if (rc != 0)
		goto undo_unmap;
	lap(u, HV_UPD_UNMAP);
	return 0;
undo_unmap:
	for (uint64_t i = 0; i < npages; i++)
		hv_protect(l->p, (first + i) * KX_PAGE_SIZE, KX_PAGE_SIZE, u->old_prot[i], &scratch);
undo_got:
	write_got(u, true);
undo_new:
	set_range(l, u->new, 0);
	if (hv_flush(l->p, &scratch) < 0)
		return kx_err(u->err, -EIO, "update: could not restore the old library's mappings");
	return rc;
}

static void cleanup(struct update_ctx *u, int rc)
{
	struct hv_linker *l = u->l;

	free(u->fixes);
	free(u->old_prot);
	if (rc == 0)
		return;
	/* Shared pages are read-only in the monitor's view: never map there again. */
	if (u->shared && u->tree != NULL)
		l->cursor = kxelf_tree_end(u->tree) + LINK_GAP;
	kxelf_tree_free(u->tree);
	if (u->file_added)
		linker_file_close(&l->files[--l->nfiles]);
}

static int quiesce(struct update_ctx *u)
{
	int rc = update_quiescent(u->l->mem, u->cpu, kxelf_module_start(u->old),
				  kxelf_module_end(u->old), &u->res->busy_addr);

	if (rc == -EBUSY)
		return kx_err(u->err, rc,
			      "update: the pVM is inside %s (address 0x%llx on its stack)",
			      u->req->old_name, (unsigned long long)u->res->busy_addr);
	return rc != 0 ? kx_err(u->err, rc, "update: no stack to walk") : 0;
}

static int carry_vars(struct update_ctx *u)
{
	return update_carry_vars(u->l->mem, u->old, u->new, u->req->old_name, u->res, u->err);
}

/* The steps before the commit, in order: none changes what the guest sees. */
static const struct {
	unsigned phase;
	int (*run)(struct update_ctx *u);
} prepare[] = {
	{HV_UPD_QUIESCE, quiesce},
	{HV_UPD_LOAD, load_new},
	{HV_UPD_RESOLVE, plan_got},
	{HV_UPD_VARIABLES, carry_vars},
};

int linker_update(struct hv_linker *l, const struct update_cpu *cpu,
		  const struct hv_update_req *req, struct hv_update_result *res,
		  struct kx_error *err)
{
	struct update_ctx u = {.l = l, .cpu = cpu, .req = req, .res = res, .err = err};
	int rc;

	memset(res, 0, sizeof(*res));
	clock_gettime(CLOCK_MONOTONIC, &u.t0);
	rc = find_old(&u);
	for (size_t i = 0; rc == 0 && i < sizeof(prepare) / sizeof(prepare[0]); i++) {
		rc = prepare[i].run(&u);
		if (rc == 0)
			rc = injected(&u, prepare[i].phase);
		if (rc == 0)
			lap(&u, prepare[i].phase);
	}
	if (rc == 0)
		rc = commit(&u);
	if (rc == 0) {
		l->mods[u.oi] = u.new;
		l->trees[l->ntrees++] = u.tree;
		l->cursor = kxelf_tree_end(u.tree) + LINK_GAP;
	}
	cleanup(&u, rc);
	return rc;
}
