/*
 * link.c — a dynamic pVM image and its libraries, linked by the monitor.
 *
 * The ELF loader (manager/elf, kxelf) parses, maps and relocates; this file
 * decides what the guest gets:
 *
 *   - libraries come only from the manager (a LINK_REQ to kxd, answered
 *     with a sealed memfd of the verified bytes); nothing else is ever
 *     mapped, and a denial maps nothing;
 *   - rights per page: W^X as kxelf reports them, then every page holding
 *     a GOT entry read-only (only the monitor writes the GOT: lazy binding
 *     goes through KX_HC_RESOLVE).  A library whose GOT page also holds a
 *     data object is refused: making that page read-only would break the
 *     library, leaving it writable would let the guest redirect its calls;
 *   - library text comes from the pages of its sealed memfd, mapped
 *     read-only and shared, so one copy backs every pVM on the host.
 *
 * Module ids: module i of the pVM (0 = the image) has id i + 1; it is what
 * PLT0 pushes (GOT[1]) and what kx_dlopen returns as a handle.  Every id
 * and index from the guest is checked against these tables.
 *
 * link_mod.c is the module "link" over this linker: the hypercalls, and the
 * links an operator pushes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/kxfd.h"
#include "manager/elf/kxelf.h"
#include "manager/hv/linker.h"

#define R_X86_64_GLOB_DAT  6
#define R_X86_64_JUMP_SLOT 7
#define R_X86_64_DTPMOD64  16
#define R_X86_64_TPOFF64   18
#define STT_OBJECT	   1
#define STT_TLS		   6
#define PT_LOAD		   1
#define PF_X		   1

int linker_refusal(int rc)
{
	return rc == -ERANGE ? -ENOMEM : -EINVAL;
}

/* Map a granted memfd: sealed, non-empty, at most KXELF_MAX_FILE_SIZE. */
static int file_map(struct link_file *f, int fd)
{
	struct stat st;
	void *p;

	if (!kx_fd_sealed(fd, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW))
		return -EPERM;
	if (fstat(fd, &st) != 0)
		return -errno;
	if (st.st_size <= 0 || (uint64_t)st.st_size > KXELF_MAX_FILE_SIZE)
		return -EFBIG;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	f->fd = fd;
	f->data = p;
	f->len = (size_t)st.st_size;
	return 0;
}

void linker_file_close(struct link_file *f)
{
	if (f->data != NULL)
		munmap((void *)(uintptr_t)f->data, f->len);
	if (f->fd >= 0)
		close(f->fd);
	f->data = NULL;
	f->fd = -1;
}

/* Add a granted fd (consumed) as a new file. */
int linker_file_add(struct hv_linker *l, const char *name, int fd, unsigned bind,
		    struct link_file **out)
{
	struct link_file *f;
	int rc;

	if (l->nfiles >= HV_LINK_MAX_FILES) {
		close(fd);
		return -ENOSPC;
	}
	f = &l->files[l->nfiles];
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->bind = bind;
	rc = file_map(f, fd);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	l->nfiles++;
	*out = f;
	return 0;
}

static struct link_file *file_of(struct hv_linker *l, const char *name)
{
	for (size_t i = 0; i < l->nfiles; i++)
		if (strcmp(l->files[i].name, name) == 0)
			return &l->files[i];
	return NULL;
}

/* Ask the manager for library `name` (LINK_REQ): 0 with *fd (a sealed memfd
 * of the verified bytes) and *bind, -EACCES with why (denied: recorded for
 * the boot's report), or -EPIPE (the channel broke). */
static int request_library(struct hv_linker *l, const char *name, int *fd, unsigned *bind)
{
	struct hv_pvm *p = l->p;
	struct kxmon_msg m;
	int fds[KXMON_MAX_FDS], nfds, rc;

	if (strlen(name) >= KXMON_NAME_MAX) {
		snprintf(l->why, sizeof(l->why), "library name longer than %d bytes",
			 KXMON_NAME_MAX - 1);
		return -EACCES;
	}
	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_LINK_REQ;
	snprintf(m.u.link_req.name, sizeof(m.u.link_req.name), "%s", name);
	m.u.link_req.at_boot = l->at_boot ? 1 : 0;
	p->stats.requests++;
	rc = hv_mgr_call(p, &m, KXMON_MSG_LINK_RESP, fds, &nfds);
	if (rc != 0) {
		snprintf(l->why, sizeof(l->why), "%s", hv_mgr_reason(p));
		return -EPIPE;
	}
	if (!m.u.link.allow) {
		p->stats.denials++;
		snprintf(l->denied_name, sizeof(l->denied_name), "%s", name);
		snprintf(l->denied_reason, sizeof(l->denied_reason), "%s", m.u.link.reason);
		snprintf(l->why, sizeof(l->why), "link denied: %.400s", m.u.link.reason);
		return -EACCES;
	}
	*fd = fds[0];
	*bind = m.u.link.bind == KXMON_BIND_NOW ? HV_BIND_NOW : HV_BIND_LAZY;
	return 0;
}

/* kxelf's open callback: one request to the manager per library. */
int linker_open(void *ctx, const char *name, const uint8_t **data, size_t *len,
		struct kx_error *kerr)
{
	struct hv_linker *l = ctx;
	struct link_file *f = NULL;
	unsigned bind = HV_BIND_LAZY;
	int fd = -1, rc;

	l->why[0] = '\0';
	rc = request_library(l, name, &fd, &bind);
	if (rc == -EACCES)
		l->denied = 1;
	else if (rc != 0)
		l->broken = 1;
	if (rc == 0)
		rc = linker_file_add(l, name, fd, bind, &f);
	if (rc != 0) /* kxelf puts the module's name in front */
		return kx_err(kerr, rc, "%.200s", l->why[0] ? l->why : strerror(-rc));
	*data = f->data;
	*len = f->len;
	return 0;
}

/* Files stay mapped while the pVM lives (modules point into them). */
static void tree_release(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
}

unsigned linker_prot_of(unsigned p)
{
	return ((p & KXELF_PROT_R) ? HV_PROT_READ : 0) | ((p & KXELF_PROT_W) ? HV_PROT_WRITE : 0) |
	       ((p & KXELF_PROT_X) ? HV_PROT_EXEC : 0);
}

/* Refuse a module whose GOT shares a page with a data object (manager/elf/rules.c). */
int linker_check_got_pages(const struct kxelf_module *mod, const char *name, struct kx_error *err)
{
	return kxelf_module_check_got(mod, name, err);
}

/* Make every page holding a GOT entry read-only to the guest. */
int linker_protect_got(struct hv_linker *l, const struct kxelf_module *mod)
{
	struct kx_error scratch;
	struct kxelf_got_pages g;
	int rc = 0;

	if (kxelf_module_got_pages(mod, &g) != 0)
		return -ENOMEM;
	for (uint64_t a = g.start; rc == 0 && a < kxelf_module_end(mod); a += KX_PAGE_SIZE) {
		if (!(l->mem->page_prot[a / KX_PAGE_SIZE] & HV_PROT_WRITE) ||
		    !kxelf_got_pages_has(&g, a))
			continue;
		rc = hv_protect(l->p, a, KX_PAGE_SIZE, HV_PROT_READ, &scratch);
		if (rc == 0)
			l->p->stats.got_pages++;
	}
	kxelf_got_pages_free(&g);
	return rc;
}

/* Replace the copied text of a library with its memfd's pages, read-only. */
int linker_share_text(struct hv_linker *l, const struct kxelf_module *mod,
		      const struct link_file *f, struct kx_error *err)
{
	const struct kxelf_image *img = kxelf_module_image(mod);
	uint64_t bias = kxelf_module_bias(mod), file_pages;

	file_pages = ((uint64_t)f->len + KX_PAGE_SIZE - 1) & ~(uint64_t)(KX_PAGE_SIZE - 1);
	for (size_t i = 0; i < kxelf_image_phnum(img); i++) {
		struct kxelf_phdr ph;
		uint64_t gpa, off, size;
		int rc;

		if (kxelf_image_phdr(img, i, &ph) != 0 || ph.type != PT_LOAD ||
		    !(ph.flags & PF_X))
			continue;
		/* Only when the file's pages are exactly the segment's pages. */
		if ((ph.vaddr - ph.offset) % KX_PAGE_SIZE != 0 || ph.filesz != ph.memsz)
			continue;
		gpa = (ph.vaddr + bias) & ~(uint64_t)(KX_PAGE_SIZE - 1);
		off = ph.offset & ~(uint64_t)(KX_PAGE_SIZE - 1);
		size = ((ph.vaddr + bias + ph.memsz + KX_PAGE_SIZE - 1) &
			~(uint64_t)(KX_PAGE_SIZE - 1)) -
		       gpa;
		if (off > file_pages || size > file_pages - off)
			continue;
		rc = hv_map_fd(l->p, gpa, f->fd, off, size, HV_PROT_READ | HV_PROT_EXEC, err);
		if (rc != 0)
			return rc;
		l->p->stats.shared_text_bytes += size;
	}
	return 0;
}

/* Resolve every PLT slot of mod now (bind: now, or no du_resolve). */
static int bind_now(struct hv_linker *l, struct kxelf_module *mod, const char *name,
		    struct kx_error *err)
{
	for (size_t i = 0; i < kxelf_module_slot_count(mod); i++) {
		uint64_t addr;

		if (kxelf_module_resolve_slot(mod, i, (const struct kxelf_module *const *)l->mods,
					      l->nmods, &addr, err) != 0)
			return kx_err_wrap(err, -EINVAL, "%s", name);
		l->p->stats.bound_now++;
	}
	return 0;
}

/* Check, bind and grant the modules of a freshly loaded tree. */
static int finish_tree(struct hv_linker *l, struct kxelf_tree *t, struct kx_error *err)
{
	size_t n = kxelf_tree_count(t), first = l->nmods;
	int rc;

	for (size_t i = 0; i < n; i++) {
		struct kxelf_module *mod = kxelf_tree_module(t, i);

		/* no constructors, no data on a GOT page: what `kxctl inspect` checks too */
		rc = kxelf_module_check_pvm(mod, kxelf_tree_name(t, i), err);
		if (rc != 0)
			return rc;
		for (size_t r = 0; r < kxelf_module_prot_count(mod); r++) {
			struct kxelf_range range;

			if (kxelf_module_prot(mod, r, &range) != 0 ||
			    range.addr < l->start || range.addr > l->end ||
			    range.size > l->end - range.addr)
				return kx_err(err, -EINVAL, "%s: a segment lies outside the window",
					      kxelf_tree_name(t, i));
			for (uint64_t a = range.addr; a < range.addr + range.size;
			     a += KX_PAGE_SIZE)
				if (l->mem->page_prot[a / KX_PAGE_SIZE] != 0)
					return kx_err(err, -EINVAL, "%s: overlaps a mapped page",
						      kxelf_tree_name(t, i));
		}
	}
	for (size_t i = 0; i < n; i++)
		l->mods[l->nmods++] = kxelf_tree_module(t, i);
	for (size_t i = 0; i < n; i++) {
		struct kxelf_module *mod = l->mods[first + i];
		const struct link_file *f = file_of(l, kxelf_tree_name(t, i));

		rc = 0;
		if (l->resolver == 0 || (f != NULL && f->bind == HV_BIND_NOW))
			rc = bind_now(l, mod, kxelf_tree_name(t, i), err);
		for (size_t r = 0; rc == 0 && r < kxelf_module_prot_count(mod); r++) {
			struct kxelf_range range;

			kxelf_module_prot(mod, r, &range);
			if (hv_protect(l->p, range.addr, range.size, linker_prot_of(range.prot),
				       err) != 0)
				rc = kx_err(err, -EPERM, "%s: writable and executable (W^X)",
					    kxelf_tree_name(t, i));
		}
		if (rc == 0 && linker_protect_got(l, mod) != 0)
			rc = kx_err(err, -EINVAL, "%s: cannot protect its GOT",
				    kxelf_tree_name(t, i));
		if (rc == 0 && f != NULL)
			rc = linker_share_text(l, mod, f, err);
		if (rc != 0)
			return -EIO; /* half linked: the pVM cannot go on */
	}
	l->p->stats.modules = l->nmods;
	rc = hv_flush(l->p, err);
	return rc < 0 ? -EIO : 0;
}

struct kxelf_segment linker_segment(const struct hv_linker *l)
{
	return (struct kxelf_segment){
		.guest_base = l->start,
		.host = hv_guest_ptr(l->mem, l->start, l->end - l->start, HV_ACCESS_MONITOR),
		.size = l->end - l->start,
	};
}

/* Load one tree at the cursor; root bytes from the caller. */
int linker_load_tree(struct hv_linker *l, const uint8_t *root, size_t len, const char *name,
		     struct kxelf_tree **out, struct kx_error *err)
{
	const struct kxelf_tree_ops ops = {.open = linker_open, .release = tree_release, .ctx = l};
	struct kxelf_segment seg = linker_segment(l);
	struct kxelf_tree_params p = {
		.ops = &ops,
		.seg = &seg,
		.guest_addr = l->cursor,
		.linked = (const struct kxelf_module *const *)l->mods,
		.nlinked = l->nmods,
		.bind = {.mode = l->resolver ? KXELF_BIND_LAZY : KXELF_BIND_NOW,
			 .module_id = l->nmods + 1,
			 .resolver = l->resolver},
		.max_modules = (unsigned)(KXELF_MAX_MODULES - l->nmods),
	};
	struct kxelf_tree *t = NULL;
	int rc;

	*out = NULL;
	l->denied = l->broken = 0;
	if (l->nmods >= KXELF_MAX_MODULES || l->ntrees >= KXELF_MAX_MODULES)
		return kx_err(err, -ENOMEM, "%s: too many modules in this pVM", name);
	rc = kxelf_tree_load(root, len, name, &p, &t, err);
	if (rc != 0)
		return l->broken ? -EPIPE : l->denied ? -EACCES : linker_refusal(rc);
	l->trees[l->ntrees++] = t;
	rc = finish_tree(l, t, err);
	if (rc != 0)
		return rc;
	l->cursor = kxelf_tree_end(t) + LINK_GAP;
	*out = t;
	return 0;
}

/* du_resolve's address in the image (0: none, bind everything now). */
static uint64_t find_resolver(const uint8_t *buf, size_t len, uint64_t at)
{
	struct kxelf_image *img = NULL;
	struct kxelf_span span;
	uint64_t addr = 0;

	if (kxelf_image_parse(buf, len, &img, NULL) != 0)
		return 0;
	kxelf_image_span(img, &span);
	for (size_t i = 0; i < kxelf_image_symbol_count(img, KXELF_SYMS_DYNSYM); i++) {
		struct kxelf_symbol s;

		if (kxelf_image_symbol(img, KXELF_SYMS_DYNSYM, i, &s) == 0 && s.defined &&
		    strcmp(s.name, "du_resolve") == 0) {
			addr = s.value + (span.fixed ? 0 : at - span.base);
			break;
		}
	}
	kxelf_image_free(img);
	return addr;
}

int linker_boot(struct hv_linker *l, const uint8_t *buf, size_t len, const char *name,
		struct image_info *info, struct kx_error *err)
{
	struct kxelf_init_info init;
	struct kxelf_tree *t;
	struct kxelf_module *root;
	int rc;

	if (l->nmods != 0)
		return kx_err(err, -EBUSY, "the image is already linked");
	l->resolver = find_resolver(buf, len, l->cursor);
	l->at_boot = 1;
	rc = linker_load_tree(l, buf, len, name, &t, err);
	l->at_boot = 0;
	if (rc != 0)
		return rc;
	root = kxelf_tree_module(t, 0);
	if (kxelf_image_type(kxelf_module_image(root)) == KXELF_TYPE_DYN)
		return kx_err(err, -EINVAL, "%s: a shared library, not an executable", name);
	kxelf_module_init_info(root, &init);
	if (init.entry == 0 || init.entry >= l->mem->size ||
	    !(l->mem->page_prot[init.entry / KX_PAGE_SIZE] & HV_PROT_EXEC))
		return kx_err(err, -EINVAL, "%s: entry point not in an executable segment", name);
	info->entry = init.entry;
	info->start = kxelf_module_start(root);
	info->end = l->end;
	return 0;
}

int linker_link_fd(struct hv_linker *l, const char *name, int fd, unsigned bind, uint64_t *handle,
		   struct kx_error *err)
{
	struct link_file *f = NULL;
	struct kxelf_tree *t;
	int rc;

	if (file_of(l, name) != NULL) {
		close(fd);
		return kx_err(err, -EEXIST, "%s: already linked", name);
	}
	rc = linker_file_add(l, name, fd, bind, &f);
	if (rc != 0)
		return kx_err(err, rc, "%s: %s", name, strerror(-rc));
	rc = linker_load_tree(l, f->data, f->len, name, &t, err);
	if (rc != 0)
		return rc;
	*handle = l->nmods - kxelf_tree_count(t) + 1;
	return 0;
}
