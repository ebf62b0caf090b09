/*
 * link_mod.c — the module "link" (docs/kvm-backend.md, "Dynamic images"):
 * the linker of link.c as the guest and kxd reach it.  KX_HC_RESOLVE binds
 * one PLT slot lazily (module id and index from the guest, checked against
 * this pVM's tables), KX_HC_DLOPEN links a library at run time (one
 * LINK_REQ to kxd, the gate decides), KX_HC_DLSYM looks a symbol up; links
 * an operator pushes (LINK_PUSH) are applied at safe points and answered
 * LINK_DONE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager/hv/linker.h"

#define STT_TLS 6

/* ---- the module: hypercalls ------------------------------------------------- */

static void hc_resolve(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	struct hv_linker *l = p->linker;
	struct kxelf_module *mod;
	uint64_t addr = 0;

	if (l == NULL || l->nmods == 0) {
		hv_bad(res, "lazy binding: this pVM has no linked modules");
		return;
	}
	if (b->resolve.module_id == 0 || b->resolve.module_id > l->nmods) {
		hv_bad(res, "lazy binding: module id or PLT index out of range");
		return;
	}
	mod = l->mods[b->resolve.module_id - 1];
	if (b->resolve.index >= kxelf_module_slot_count(mod)) {
		hv_bad(res, "lazy binding: module id or PLT index out of range");
		return;
	}
	if (kxelf_module_resolve_slot(mod, (size_t)b->resolve.index,
				      (const struct kxelf_module *const *)l->mods, l->nmods, &addr,
				      NULL) != 0) {
		hv_bad(res, "lazy binding: unresolvable symbol");
		return;
	}
	p->stats.resolves++;
	b->resolve.addr = addr;
	b->hdr.ret = 0;
}

/* Copy a name out of guest memory: 0, or -KX_EINVAL for the guest.  A
 * name outside readable memory ends the pVM like any bad pointer. */
static int64_t copy_name(struct hv_pvm *p, uint64_t gpa, uint64_t len,
			 char name[KX_HC_NAME_MAX + 1], struct hv_hcall_result *res)
{
	const void *src;

	if (len == 0 || len > KX_HC_NAME_MAX)
		return -KX_EINVAL;
	src = hv_guest_ptr(&p->mem, gpa, len, HV_ACCESS_READ);
	if (src == NULL) {
		hv_bad(res, "name outside readable guest memory");
		return -KX_EINVAL;
	}
	memcpy(name, src, (size_t)len);
	name[len] = '\0';
	return memchr(name, '\0', (size_t)len) != NULL ? -KX_EINVAL : 0;
}

/* Link `name` at run time: 0 with *handle, or -errno for the guest; -EPIPE
 * (the channel broke) and -EIO (half linked) end the pVM. */
static int dlopen_lib(struct hv_linker *l, const char *name, uint64_t *handle)
{
	struct kx_error err;
	struct kxelf_tree *t;
	const uint8_t *data;
	size_t len;
	int rc;

	/* Already linked (at boot or earlier): the same handle, no new request. */
	for (size_t i = 0; i < l->nmods; i++) {
		const char *soname = kxelf_image_soname(kxelf_module_image(l->mods[i]));

		if (soname != NULL && strcmp(soname, name) == 0) {
			*handle = i + 1;
			return 0;
		}
	}
	if (l->nfiles >= HV_LINK_MAX_FILES || l->nmods >= KXELF_MAX_MODULES)
		return -ENOMEM;
	l->denied = l->broken = 0;
	rc = linker_open(l, name, &data, &len, &err);
	if (rc != 0)
		return l->broken ? -EPIPE : l->denied ? -EACCES : linker_refusal(rc);
	rc = linker_load_tree(l, data, len, name, &t, &err);
	if (rc != 0)
		return rc;
	*handle = l->nmods - kxelf_tree_count(t) + 1;
	return 0;
}

static void hc_dlopen(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	char name[KX_HC_NAME_MAX + 1];
	uint64_t handle = 0;
	int rc;

	b->hdr.ret = copy_name(p, b->dlopen.name, b->dlopen.len, name, res);
	if (b->hdr.ret != 0 || res->outcome != HV_HC_RESUME)
		return;
	if (p->linker == NULL || p->mgr == NULL) {
		b->hdr.ret = -KX_EPERM;
		return;
	}
	rc = dlopen_lib(p->linker, name, &handle);
	if (rc == -EPIPE || rc == -EIO) {
		hv_bad(res, rc == -EPIPE ? "kx_dlopen: the channel to the manager broke"
					 : "kx_dlopen: the library was half linked");
		return;
	}
	b->dlopen.handle = rc == 0 ? handle : 0;
	b->hdr.ret = rc == 0 ? 0 : hv_guest_errno(rc);
}

int hv_link_dlsym(struct hv_pvm *p, uint64_t handle, const char *name, uint64_t *addr)
{
	struct hv_linker *l = p->linker;
	struct kxelf_symbol sym;

	if (l == NULL || handle == 0 || handle > l->nmods)
		return -EBADF;
	if (kxelf_module_lookup(l->mods[handle - 1], name, &sym) != 0 || !sym.defined ||
	    sym.type == STT_TLS)
		return -ENOENT;
	*addr = sym.addr;
	return 0;
}

static void hc_dlsym(struct hv_pvm *p, union hv_block *b, struct hv_hcall_result *res)
{
	char name[KX_HC_NAME_MAX + 1];
	uint64_t addr = 0;
	int rc;

	b->hdr.ret = copy_name(p, b->dlsym.name, b->dlsym.len, name, res);
	if (b->hdr.ret != 0 || res->outcome != HV_HC_RESUME)
		return;
	rc = hv_link_dlsym(p, b->dlsym.handle, name, &addr);
	b->dlsym.addr = rc == 0 ? addr : 0;
	b->hdr.ret = rc == 0 ? 0 : hv_guest_errno(rc);
}

/* ---- the module: the linker, pushed links ---------------------------------------- */

/* The linker state, made at the first need: a push may come before the
 * image is linked (it waits for the first safe point). */
static struct hv_linker *linker_of(struct hv_pvm *p)
{
	if (p->linker == NULL) {
		p->linker = calloc(1, sizeof(*p->linker));
		if (p->linker != NULL) {
			p->linker->p = p;
			p->linker->mem = &p->mem;
		}
	}
	return p->linker;
}

/*
 * Dynamic images: the image and its libraries in a window from
 * KX_IMAGE_MIN (at most half the memory below the stack, 64 MiB at most),
 * kx_dlopen'ed libraries after them; the heap above the window.
 */
int hv_link_load_image(struct hv_pvm *p, uint64_t guard, const uint8_t *buf, size_t len,
		       struct image_info *info, struct kx_error *err)
{
	uint64_t window = (guard - KX_IMAGE_MIN) / 2;
	struct hv_linker *l = linker_of(p);
	int rc;

	if (l == NULL)
		return kx_err(err, -ENOMEM, "out of memory");
	if (guard <= KX_IMAGE_MIN + 2 * LAYOUT_HEAP_MIN)
		return kx_err(err, -E2BIG, "no room for a dynamic image in guest memory");
	if (window > LAYOUT_DYN_MAX)
		window = LAYOUT_DYN_MAX;
	window &= ~(uint64_t)(KX_PAGE_SIZE - 1);
	l->start = l->cursor = KX_IMAGE_MIN;
	l->end = KX_IMAGE_MIN + window;
	rc = linker_boot(l, buf, len, "image", info, err);
	if (rc == -EACCES && l->denied_name[0] != '\0')
		return kx_err(err, rc, "boot denied: %s: %.400s", l->denied_name, l->denied_reason);
	return rc;
}

int hv_link(struct hv_pvm *p, const char *name, int fd, unsigned bind, uint64_t *handle,
	    struct kx_error *err)
{
	if (p->linker == NULL || p->linker->end == 0) {
		close(fd);
		return kx_err(err, -EPERM, "this pVM has no linker (started without a channel)");
	}
	return linker_link_fd(p->linker, name, fd, bind, handle, err);
}

static void answer_push(struct hv_pvm *p, const struct kxmon_msg *push, int rc, const char *text)
{
	struct kxmon_msg done;

	memset(&done, 0, sizeof(done));
	done.type = KXMON_MSG_LINK_DONE;
	done.seq = push->seq;
	done.u.done.result = rc;
	snprintf(done.u.done.name, sizeof(done.u.done.name), "%s", push->u.link.name);
	snprintf(done.u.done.message, sizeof(done.u.done.message), "%s", text);
	hv_mgr_send(p, &done);
}

static int link_push(struct hv_pvm *p, const struct kxmon_msg *m, const int *fds, int nfds)
{
	struct hv_linker *l = linker_of(p);

	if (l == NULL || nfds != 1 || l->npush >= LINK_PUSH_QUEUE) {
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		return -EPROTO;
	}
	l->push[l->npush] = *m;
	l->push_fd[l->npush++] = fds[0];
	return 0;
}

static void link_safe_point(struct hv_pvm *p)
{
	struct hv_linker *l = p->linker;

	for (unsigned i = 0; l != NULL && i < l->npush; i++) {
		const struct kxmon_msg *push = &l->push[i];
		struct kx_error err = {{0}};
		char text[KXMON_TEXT_MAX];
		uint64_t handle = 0;
		int rc;

		rc = hv_link(p, push->u.link.name, l->push_fd[i],
			     push->u.link.bind == KXMON_BIND_NOW ? HV_BIND_NOW : HV_BIND_LAZY,
			     &handle, &err);
		p->stats.pushes++;
		if (rc == 0)
			snprintf(text, sizeof(text), "linked as handle %llu",
				 (unsigned long long)handle);
		else
			snprintf(text, sizeof(text), "%s", err.msg);
		answer_push(p, push, rc, text);
		if (rc == -EPIPE)
			hv_stop_channel(p, "%s", hv_mgr_reason(p));
		else if (rc == -EIO) /* a half-linked pVM cannot go on */
			hv_stop(p, &(struct hv_end){.reason = HV_END_INTERNAL,
						    .detail = "a pushed library was half linked"});
	}
	if (l != NULL)
		l->npush = 0;
}

/* The pVM ended: pushes that never reached a safe point are answered. */
static void link_finish(struct hv_pvm *p)
{
	struct hv_linker *l = p->linker;

	for (unsigned i = 0; l != NULL && i < l->npush; i++) {
		close(l->push_fd[i]);
		answer_push(p, &l->push[i], -ESRCH, "the pVM ended first");
	}
	if (l != NULL)
		l->npush = 0;
}

/* A forked child: pushes queued for the parent are the parent's to answer. */
static void link_fork_child(struct hv_pvm *p)
{
	struct hv_linker *l = p->linker;

	for (unsigned i = 0; l != NULL && i < l->npush; i++)
		close(l->push_fd[i]);
	if (l != NULL)
		l->npush = 0;
}

static void link_destroy(struct hv_pvm *p)
{
	struct hv_linker *l = p->linker;

	if (l == NULL)
		return;
	for (size_t i = 0; i < l->ntrees; i++)
		kxelf_tree_free(l->trees[i]);
	for (size_t i = 0; i < l->nfiles; i++)
		linker_file_close(&l->files[i]);
	free(l);
	p->linker = NULL;
}

static const struct hv_hcall_desc hcalls[] = {
	{KX_HC_RESOLVE, sizeof(struct kx_hc_resolve), hc_resolve},
	{KX_HC_DLOPEN, sizeof(struct kx_hc_dlopen), hc_dlopen},
	{KX_HC_DLSYM, sizeof(struct kx_hc_dlsym), hc_dlsym},
};

static const uint32_t pushes[] = {KXMON_MSG_LINK_PUSH};

const struct hv_module hv_mod_link = {
	.name = "link",
	.hcalls = hcalls,
	.nhcalls = sizeof(hcalls) / sizeof(hcalls[0]),
	.push_types = pushes,
	.npush_types = sizeof(pushes) / sizeof(pushes[0]),
	.push = link_push,
	.safe_point = link_safe_point,
	.fork_child = link_fork_child,
	.finish = link_finish,
	.destroy = link_destroy,
};
