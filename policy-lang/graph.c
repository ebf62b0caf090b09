/*
 * `kxpolicy graph`: the policy as an undirected Graphviz graph.  Apps are
 * ellipses labelled with their family IpC kinds; mutual cross-family trust
 * is one edge per pair labelled with its kinds; each library is a box
 * attached to its app, the edge labelled with the loader class (dashed for
 * `any`, the class that lets other apps link it in); host directories an
 * app may mount are folders (bold edge: writable), its network interfaces
 * diamonds with their address and how many ports and peers they allow.
 */
#include <errno.h>
#include <stdio.h>

#include "policy-lang/back.h"

/* The inside of a DOT quoted string: names are printable UTF-8 (kxp_open
 * checked), so escaping quotes and backslashes is enough. */
static void dot_escape(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
}

/* Host directories as folders, interfaces as diamonds: what an app reaches
 * outside its pVMs. */
static void graph_io(FILE *out, const struct kxp_policy *p, uint32_t a)
{
	const struct kxp_abi_app *app = &p->apps[a];
	char addr[PM_IPV4_TEXT_MAX];

	for (uint32_t i = app->files.first; i < app->files.first + app->files.count; i++) {
		const struct kxp_abi_file *f = &p->files[i];

		fprintf(out, "\t\"file%u\" [shape=folder, label=\"", i);
		dot_escape(out, f->kind == KXP_ABI_FILE_HOST ? kxp_str(p, f->host) : "(image)");
		fprintf(out, "\"];\n\t\"app%u\" -- \"file%u\" [label=\"", a, i);
		dot_escape(out, kxp_str(p, f->guest));
		fprintf(out, " %s\"%s];\n", f->mode == KXP_ABI_MODE_RW ? "rw" : "ro",
			f->mode == KXP_ABI_MODE_RW ? ", style=bold" : "");
	}
	for (uint32_t i = app->ifaces.first; i < app->ifaces.first + app->ifaces.count; i++) {
		const struct kxp_abi_iface *f = &p->ifaces[i];

		pm_ipv4_format(f->addr, addr);
		fprintf(out, "\t\"iface%u\" [shape=diamond, label=\"", i);
		dot_escape(out, kxp_str(p, f->name));
		fprintf(out, "\\n%s/%u\\nlisten %u, connect %u\"];\n\t\"app%u\" -- \"iface%u\";\n",
			addr, f->prefix, f->listen.count, f->peers.count, a, i);
	}
}

int kxp_graph(FILE *out, const struct kxp_policy *p)
{
	char kinds[KXP_KINDS_TEXT_MAX];

	fprintf(out, "graph kxpolicy {\n\tgraph [overlap=false, fontsize=10];\n"
		"\tnode [fontsize=10];\n\tedge [fontsize=9];\n");
	for (uint32_t a = 0; a < p->napps; a++) {
		const struct kxp_abi_app *app = &p->apps[a];

		kxp_kinds_format(app->ipc_kinds, kinds, sizeof(kinds));
		fprintf(out, "\t\"app%u\" [shape=ellipse, style=bold, label=\"", a);
		dot_escape(out, kxp_str(p, app->name));
		fprintf(out, "\\nfamily ipc: %s\"];\n", kinds);
		for (uint32_t l = app->libs.first; l < app->libs.first + app->libs.count; l++) {
			const struct kxp_abi_lib *lib = &p->libs[l];

			fprintf(out, "\t\"lib%u\" [shape=box, label=\"", l);
			dot_escape(out, kxp_str(p, lib->name));
			fprintf(out, "\"];\n\t\"app%u\" -- \"lib%u\" [label=\"loader %s\"%s];\n", a, l,
				kxp_loader_names[lib->loader],
				lib->loader == KXP_ABI_LOADER_ANY ? ", style=dashed" : "");
		}
		graph_io(out, p, a);
	}
	for (uint32_t a = 0; a < p->napps; a++) {
		const struct kxp_abi_range *r = &p->apps[a].trust;

		for (uint32_t t = r->first; t < r->first + r->count; t++) {
			if (p->trust[t].peer < a)
				continue; /* mutual: one edge per pair */
			kxp_kinds_format(p->trust[t].kinds, kinds, sizeof(kinds));
			fprintf(out, "\t\"app%u\" -- \"app%u\" [label=\"trust: %s\", "
				"color=blue, penwidth=2];\n", a, p->trust[t].peer, kinds);
		}
	}
	fprintf(out, "}\n");
	return ferror(out) ? -EIO : 0;
}
