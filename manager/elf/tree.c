/*
 * A library and its DT_NEEDED tree: breadth-first discovery through the
 * caller's open callback (depth and count caps), cycle detection, placement
 * in the dynamic segment, static TLS layout, and relocation with the
 * breadth-first scope (already-linked modules first), dependencies first.
 */
#include <stdio.h>
#include <stdlib.h>

#include "manager/elf/internal.h"

struct tree_node {
	const char *name;     /* as requested: DT_NEEDED string or the root's name */
	const uint8_t *data;  /* released through ops->release unless root */
	size_t len;
	unsigned depth;
	struct kxelf_image *img;
	struct kxelf_module *mod;
	uint8_t color;        /* cycle detection: 0 new, 1 on the path, 2 done */
};

struct kxelf_tree {
	struct kxelf_tree_ops ops;
	char *root_name;
	struct tree_node nodes[KXELF_MAX_MODULES];
	size_t n;
	uint64_t end;
	uint64_t tls_used;
};

static bool names_module(const struct tree_node *node, const char *name)
{
	const char *soname = kxelf_image_soname(node->img);
	return strcmp(node->name, name) == 0 || (soname && strcmp(soname, name) == 0);
}

static bool linked_has(const struct kxelf_tree_params *p, const char *name)
{
	for (size_t i = 0; i < p->nlinked; i++) {
		const char *soname = kxelf_image_soname(kxelf_module_image(p->linked[i]));
		if (soname && strcmp(soname, name) == 0)
			return true;
	}
	return false;
}

/* Index of the tree node a DT_NEEDED name refers to, or -1. */
static long node_find(const struct kxelf_tree *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (names_module(&t->nodes[i], name))
			return (long)i;
	return -1;
}

static int node_open(struct kxelf_tree *t, const struct kxelf_tree_params *p, const char *name,
		     const char *parent, unsigned depth, struct kx_error *err)
{
	unsigned max_depth = p->max_depth ? p->max_depth : KXELF_MAX_DEPTH;
	unsigned max_modules = p->max_modules ? p->max_modules : KXELF_MAX_MODULES;
	struct tree_node *node;
	int rc;

	if (depth > max_depth)
		return kx_err(err, -E2BIG, "%s: DT_NEEDED '%s' is deeper than %u levels",
			      parent, name, max_depth);
	if (t->n >= max_modules || t->n >= KXELF_MAX_MODULES)
		return kx_err(err, -E2BIG, "%s: DT_NEEDED '%s' would make more than %u "
			      "modules", parent, name, max_modules);
	node = &t->nodes[t->n];
	*node = (struct tree_node){ .name = name, .depth = depth };
	if (err)
		err->msg[0] = '\0';
	rc = p->ops->open(p->ops->ctx, name, &node->data, &node->len, err);
	if (rc != 0) {
		/* Whatever the callback's errno, the tree failed to open a
		 * library: -ELIBACC, with its reason after the name. */
		node->data = NULL;
		if (err && err->msg[0] == '\0')
			kx_err(err, -ELIBACC, "cannot open");
		return kx_err_wrap(err, -ELIBACC, "%s", name);
	}
	t->n++; /* from here on, tree_free releases it */
	if ((rc = kxelf_image_parse(node->data, node->len, &node->img, err)) != 0)
		return kx_err_wrap(err, rc, "%s", name);
	if (kxelf_image_type(node->img) == KXELF_TYPE_EXEC)
		return kx_err(err, -ENOTSUP, "%s: DT_NEEDED '%s' is an executable",
			      parent, name);
	return 0;
}

/* Breadth-first: nodes[] ends up in load (and scope) order. */
static int discover(struct kxelf_tree *t, const struct kxelf_tree_params *p,
		    struct kx_error *err)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct kxelf_image *img = t->nodes[i].img;

		for (size_t k = 0; k < kxelf_image_needed_count(img); k++) {
			const char *name = kxelf_image_needed(img, k);
			int rc;

			if (linked_has(p, name) || node_find(t, name) >= 0)
				continue;
			rc = node_open(t, p, name, t->nodes[i].name, t->nodes[i].depth + 1, err);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* Depth-first over the discovered graph; path[] holds the current chain
 * for the message.  Depth is bounded by the node count. */
static int cycle_check(struct kxelf_tree *t, size_t i, size_t *path, size_t depth,
		       struct kx_error *err)
{
	const struct kxelf_image *img = t->nodes[i].img;

	t->nodes[i].color = 1;
	path[depth] = i;
	for (size_t k = 0; k < kxelf_image_needed_count(img); k++) {
		long j = node_find(t, kxelf_image_needed(img, k));
		int rc;

		if (j < 0 || t->nodes[j].color == 2)
			continue;
		if (t->nodes[j].color == 1) {
			char chain[KX_ERR_MAX] = "";
			size_t from = 0;
			while (path[from] != (size_t)j)
				from++;
			for (size_t d = from; d <= depth; d++) {
				strncat(chain, t->nodes[path[d]].name, sizeof(chain) - strlen(chain) - 1);
				strncat(chain, " -> ", sizeof(chain) - strlen(chain) - 1);
			}
			strncat(chain, t->nodes[j].name, sizeof(chain) - strlen(chain) - 1);
			return kx_err(err, -ELOOP, "DT_NEEDED loop: %s", chain);
		}
		if ((rc = cycle_check(t, (size_t)j, path, depth + 1, err)) != 0)
			return rc;
	}
	t->nodes[i].color = 2;
	return 0;
}

static int place(struct kxelf_tree *t, const struct kxelf_tree_params *p, struct kx_error *err)
{
	uint64_t cursor = p->guest_addr, id_base = p->bind.module_id ? p->bind.module_id : 1;
	uint64_t tls = p->tls_used;

	for (size_t i = 0; i < t->n; i++) {
		struct tree_node *node = &t->nodes[i];
		struct kxelf_tls_info ti;
		struct kxelf_span span;
		uint64_t at;
		int rc;

		kxelf_image_span(node->img, &span);
		at = span.fixed ? span.base : cursor;
		if ((rc = kxelf_module_map(node->img, p->seg, at, &node->mod, err)) != 0)
			return kx_err_wrap(err, rc, "%s", node->name);
		if (kxelf_module_end(node->mod) > cursor)
			cursor = kxelf_module_end(node->mod);
		kxelf_image_tls(node->img, &ti);
		if (ti.present) {
			/* x86-64 variant II: blocks sit below the thread pointer. */
			uint64_t a = ti.align;
			if (__builtin_add_overflow(tls, ti.memsz, &tls) ||
			    __builtin_add_overflow(tls, a - 1, &tls) || tls > INT64_MAX)
				return kx_err(err, -E2BIG, "%s: static TLS size overflows",
					      node->name);
			tls &= ~(a - 1);
			kxelf_module_set_tls(node->mod, id_base + i, -(int64_t)tls);
		}
	}
	t->end = cursor;
	t->tls_used = tls;
	return 0;
}

static int relocate_all(struct kxelf_tree *t, const struct kxelf_tree_params *p,
			struct kx_error *err)
{
	const struct kxelf_module *scope[2 * KXELF_MAX_MODULES];
	size_t nscope = 0;
	uint64_t id_base = p->bind.module_id ? p->bind.module_id : 1;

	if (p->nlinked > KXELF_MAX_MODULES)
		return kx_err(err, -E2BIG, "more than %u linked modules", KXELF_MAX_MODULES);
	for (size_t i = 0; i < p->nlinked; i++)
		scope[nscope++] = p->linked[i];
	for (size_t i = 0; i < t->n; i++)
		scope[nscope++] = t->nodes[i].mod;
	/* Dependencies first: a COPY relocation in the root reads data its
	 * libraries have already relocated. */
	for (size_t i = t->n; i-- > 0;) {
		struct kxelf_bind_opts opts = p->bind;
		int rc;

		opts.module_id = id_base + i;
		rc = kxelf_module_relocate(t->nodes[i].mod, scope, nscope, &opts, err);
		if (rc != 0)
			return kx_err_wrap(err, rc, "%s", t->nodes[i].name);
	}
	return 0;
}

int kxelf_tree_load(const uint8_t *root, size_t len, const char *root_name,
		    const struct kxelf_tree_params *params, struct kxelf_tree **out,
		    struct kx_error *err)
{
	struct kxelf_tree *t = NULL;
	size_t path[KXELF_MAX_MODULES];
	int rc;

	if (!root || !root_name || !params || !params->ops || !params->ops->open ||
	    !params->seg || !out || (params->nlinked && !params->linked)) {
		rc = kx_err(err, -EINVAL, "kxelf_tree_load: NULL argument");
		goto out;
	}
	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->root_name = strdup(root_name))) {
		rc = kx_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	t->ops = *params->ops;
	t->nodes[0] = (struct tree_node){ .name = t->root_name };
	t->n = 1;
	if ((rc = kxelf_image_parse(root, len, &t->nodes[0].img, err)) != 0) {
		kx_err_wrap(err, rc, "%s", root_name);
		goto out;
	}
	if ((rc = discover(t, params, err)) != 0 ||
	    (rc = cycle_check(t, 0, path, 0, err)) != 0 ||
	    (rc = place(t, params, err)) != 0 ||
	    (rc = relocate_all(t, params, err)) != 0)
		goto out;
	*out = t;
	t = NULL;
	rc = 0;
out:
	kxelf_tree_free(t);
	return rc;
}

void kxelf_tree_free(struct kxelf_tree *tree)
{
	if (!tree)
		return;
	for (size_t i = 0; i < tree->n; i++) {
		struct tree_node *node = &tree->nodes[i];
		kxelf_module_free(node->mod);
		kxelf_image_free(node->img);
		if (i > 0 && node->data && tree->ops.release)
			tree->ops.release(tree->ops.ctx, node->data, node->len);
	}
	free(tree->root_name);
	free(tree);
}

size_t kxelf_tree_count(const struct kxelf_tree *tree)
{
	return tree->n;
}

struct kxelf_module *kxelf_tree_module(const struct kxelf_tree *tree, size_t i)
{
	return i < tree->n ? tree->nodes[i].mod : NULL;
}

const char *kxelf_tree_name(const struct kxelf_tree *tree, size_t i)
{
	return i < tree->n ? tree->nodes[i].name : NULL;
}

uint64_t kxelf_tree_end(const struct kxelf_tree *tree)
{
	return tree->end;
}

uint64_t kxelf_tree_tls_used(const struct kxelf_tree *tree)
{
	return tree->tls_used;
}
