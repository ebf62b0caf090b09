/*
 * kxctl inspect: run the complete loader (parse, map into a scratch
 * segment, relocate; with -L the whole DT_NEEDED tree) over one file and
 * report what it saw, or the precise reason it was rejected; plus the
 * kxsign signature status through the signer library.
 *
 * Then the mapper's own rules for a pVM module (kxelf_module_check_pvm: no
 * constructors, no data object on a GOT page), on every module loaded, so
 * that inspect accepts what boot and link accept; what depends on the pVM
 * rather than on the file (where the window is, what is already mapped
 * there) is named as not checked.
 *
 * Signature status without keys: the signature cannot be checked, but the
 * covered regions recorded in the section can be hashed again, which
 * catches a file changed after signing by anyone who did not also rewrite
 * the section ("not verified: no key given").  With -p/-K, kxsig_verify
 * decides; an unsigned or invalid file is then a rejection (exit 1).
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "manager/elf/kxelf.h"
#include "manager/kxctl/kxctl.h"
#include "signer/kxsig.h"

#define MAX_KEYS    64
#define MAX_LIBDIRS 16
/* Scratch guest addresses: shared objects go here (a non-zero bias makes
 * every relocation visible); executables at their own addresses. */
#define SCRATCH_BASE      ((uint64_t)0x40000000)
#define SCRATCH_TREE_SIZE ((size_t)4 << 30) /* reserved, touched only where mapped */

struct inspect {
	/* options */
	bool json, lazy;
	bool loader_only; /* --loader-only: the mapper's rules are named as not checked */
	const char *file;
	const char *pubkeys[MAX_KEYS];
	size_t npubkeys;
	const char *keydir;
	const char *libdirs[MAX_LIBDIRS];
	size_t nlibdirs;
	/* the file and what the loader made of it */
	uint8_t *buf;
	size_t len;
	struct kxelf_image *img;   /* single-file mode */
	struct kxelf_module *mod;  /* single-file mode */
	struct kxelf_tree *tree;   /* -L mode */
	const struct kxelf_module *root;
	void *scratch;
	size_t scratch_size;
	struct kxelf_segment seg;
	struct kx_error err;
	int rc;
	/* the mapper's rules for a pVM module (the loader accepted the file) */
	int mapper_rc;
	struct kx_error mapper_err;
	/* signature */
	const char *sig_status; /* unsigned | valid | invalid | unverified | malformed */
	char sig_msg[KX_ERR_MAX + 64];
	bool sig_rejects;
	struct kxsig_meta meta;
};

static int parse_args(struct inspect *in, const struct kxctl_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },   { "lazy", no_argument, NULL, 'z' },
		{ "loader-only", no_argument, NULL, 'o' },
		{ "pubkey", required_argument, NULL, 'p' }, { "keydir", required_argument, NULL, 'K' },
		{ "libdir", required_argument, NULL, 'L' }, { NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:K:L:", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': in->json = true; break;
		case 'z': in->lazy = true; break;
		case 'o': in->loader_only = true; break;
		case 'p':
			if (in->npubkeys == MAX_KEYS) {
				fprintf(stderr, "kxctl inspect: more than %d -p keys\n", MAX_KEYS);
				return KXCTL_EXIT_USAGE;
			}
			in->pubkeys[in->npubkeys++] = optarg;
			break;
		case 'K': in->keydir = optarg; break;
		case 'L':
			if (in->nlibdirs == MAX_LIBDIRS) {
				fprintf(stderr, "kxctl inspect: more than %d -L directories\n", MAX_LIBDIRS);
				return KXCTL_EXIT_USAGE;
			}
			in->libdirs[in->nlibdirs++] = optarg;
			break;
		default: return kxctl_usage(cmd, stderr);
		}
	}
	if (optind != argc - 1)
		return kxctl_usage(cmd, stderr);
	in->file = argv[optind];
	return KXCTL_EXIT_OK;
}

/* ---- loading -------------------------------------------------------- */

static int scratch_alloc(struct inspect *in, uint64_t base, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	in->scratch = p;
	in->scratch_size = size;
	in->seg = (struct kxelf_segment){ .guest_base = base, .host = p, .size = size };
	return 0;
}

/* DT_NEEDED names are untrusted: a bare file name, looked up in -L order. */
static int open_lib(void *ctx, const char *name, const uint8_t **data, size_t *len,
		    struct kx_error *err)
{
	const struct inspect *in = ctx;
	struct kx_error kerr;

	if (strchr(name, '/') || strcmp(name, "..") == 0 || strcmp(name, ".") == 0 || !*name)
		return kx_err(err, -EPERM, "DT_NEEDED name is not a plain file name");
	for (size_t i = 0; i < in->nlibdirs; i++) {
		char path[4096];
		uint8_t *buf = NULL;

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", in->libdirs[i], name) >= sizeof(path))
			continue;
		if (kxsig_read_file(path, KXELF_MAX_FILE_SIZE, &buf, len, &kerr) == 0) {
			*data = buf;
			return 0;
		}
	}
	return kx_err(err, -ENOENT, "not found in any -L directory");
}

static void release_lib(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)len;
	free((void *)data);
}

static int load_tree(struct inspect *in)
{
	const struct kxelf_tree_ops ops = { open_lib, release_lib, in };
	struct kxelf_tree_params p = {
		.ops = &ops, .seg = &in->seg,
		.bind = { .mode = in->lazy ? KXELF_BIND_LAZY : KXELF_BIND_NOW, .module_id = 1,
			  .flags = KXELF_RELOC_DEFER_IFUNC },
	};
	struct kxelf_image *probe = NULL;
	struct kxelf_span span = { .base = SCRATCH_BASE };
	int rc;

	/* An executable root fixes where the segment must start. */
	if (kxelf_image_parse(in->buf, in->len, &probe, NULL) == 0)
		kxelf_image_span(probe, &span);
	kxelf_image_free(probe);
	if (!span.fixed)
		span.base = SCRATCH_BASE;
	if ((rc = scratch_alloc(in, span.base, SCRATCH_TREE_SIZE)) != 0)
		return rc;
	p.guest_addr = span.base;
	in->rc = kxelf_tree_load(in->buf, in->len, in->file, &p, &in->tree, &in->err);
	if (in->rc == 0)
		in->root = kxelf_tree_module(in->tree, 0);
	return 0;
}

static int load_single(struct inspect *in)
{
	const struct kxelf_bind_opts opts = {
		.mode = in->lazy ? KXELF_BIND_LAZY : KXELF_BIND_NOW, .module_id = 1,
		.flags = KXELF_RELOC_ALLOW_UNDEFINED | KXELF_RELOC_DEFER_IFUNC,
	};
	const struct kxelf_module *scope[1];
	struct kxelf_tls_info tls;
	struct kxelf_span span;
	int rc;

	if ((in->rc = kxelf_image_parse(in->buf, in->len, &in->img, &in->err)) != 0)
		return 0;
	kxelf_image_span(in->img, &span);
	if ((rc = scratch_alloc(in, span.fixed ? span.base : SCRATCH_BASE, span.size)) != 0)
		return rc;
	if ((in->rc = kxelf_module_map(in->img, &in->seg, in->seg.guest_base, &in->mod,
				       &in->err)) != 0)
		return 0;
	kxelf_image_tls(in->img, &tls);
	if (tls.present) /* its own block right below the thread pointer */
		kxelf_module_set_tls(in->mod, 1, -(int64_t)((tls.memsz + tls.align - 1) &
							     ~(tls.align - 1)));
	scope[0] = in->mod;
	in->rc = kxelf_module_relocate(in->mod, scope, 1, &opts, &in->err);
	if (in->rc == 0)
		in->root = in->mod;
	return 0;
}

/* The mapper's rules on every module loaded: a refusal rejects the file
 * (boot or link would), after the loader's report. */
static void check_pvm_rules(struct inspect *in)
{
	if (in->tree == NULL) {
		in->mapper_rc = kxelf_module_check_pvm(in->root, in->file, &in->mapper_err);
		return;
	}
	for (size_t i = 0; i < kxelf_tree_count(in->tree) && in->mapper_rc == 0; i++)
		in->mapper_rc = kxelf_module_check_pvm(kxelf_tree_module(in->tree, i),
						       kxelf_tree_name(in->tree, i),
						       &in->mapper_err);
}

#define MAPPER_CHECKED "no constructors; no data object on a page holding a GOT entry"
#define MAPPER_UNCHECKED "the pVM's window and what is already mapped in it (depend on the pVM)"

/* ---- signature ------------------------------------------------------ */

static int keys_load(const struct inspect *in, struct kxsig_pubkey *keys, size_t *nkeys)
{
	struct kx_error kerr;
	DIR *d = NULL;
	struct dirent *de;
	int rc = 0;

	*nkeys = 0;
	for (size_t i = 0; i < in->npubkeys; i++) {
		if (kxsig_pubkey_load(in->pubkeys[i], &keys[(*nkeys)++], &kerr) != 0) {
			fprintf(stderr, "kxctl inspect: %s: %s\n", in->pubkeys[i], kerr.msg);
			rc = -1;
			goto out;
		}
	}
	if (!in->keydir)
		goto out;
	if (!(d = opendir(in->keydir))) {
		fprintf(stderr, "kxctl inspect: %s: %s\n", in->keydir, strerror(errno));
		rc = -1;
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char path[4096];

		if (n < 5 || strcmp(de->d_name + n - 4, ".pub") != 0)
			continue;
		if (*nkeys == MAX_KEYS) {
			fprintf(stderr, "kxctl inspect: %s: more than %d keys\n", in->keydir, MAX_KEYS);
			rc = -1;
			goto out;
		}
		snprintf(path, sizeof(path), "%s/%s", in->keydir, de->d_name);
		if (kxsig_pubkey_load(path, &keys[(*nkeys)++], &kerr) != 0) {
			fprintf(stderr, "kxctl inspect: %s: %s\n", path, kerr.msg);
			rc = -1;
			goto out;
		}
	}
out:
	if (d)
		closedir(d);
	return rc;
}

/* Without a key: hash each recorded region of the file again. */
static void regions_recheck(struct inspect *in, const char *keyhex)
{
	struct kxsig_region_info regions[KXSIG_MAX_REGIONS];
	struct kx_error kerr;
	size_t n = 0, changed = 0;
	char first[96] = "";

	if (kxsig_read_regions(in->buf, in->len, &in->meta, regions, &n, &kerr) != 0)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t h[KXSIG_DIGEST_BYTES];
		bool inside = regions[i].offset <= in->len &&
			      regions[i].size <= in->len - regions[i].offset;

		if (inside)
			crypto_generichash(h, sizeof(h), in->buf + regions[i].offset, regions[i].size,
					   NULL, 0);
		if (!inside || memcmp(h, regions[i].hash, sizeof(h)) != 0) {
			if (changed++ == 0)
				snprintf(first, sizeof(first), "%s[%u] (offset 0x%lx, %lu bytes)",
					 regions[i].kind, regions[i].index, regions[i].offset,
					 regions[i].size);
		}
	}
	if (changed) {
		in->sig_status = "invalid";
		in->sig_rejects = true;
		snprintf(in->sig_msg, sizeof(in->sig_msg),
			 "signed by key %s, but %zu covered region(s) changed, first %s", keyhex,
			 changed, first);
	} else {
		in->sig_status = "unverified";
		snprintf(in->sig_msg, sizeof(in->sig_msg),
			 "signed by key %s (not verified: no key given; %zu covered regions intact)",
			 keyhex, n);
	}
}

static int signature_check(struct inspect *in)
{
	struct kxsig_pubkey keys[MAX_KEYS];
	struct kx_error kerr;
	char keyhex[2 * KXSIG_KEYID_BYTES + 1];
	size_t nkeys = 0;
	int rc;

	if (kxsig_init() != 0) {
		fprintf(stderr, "kxctl inspect: cannot initialise libsodium\n");
		return -1;
	}
	if (keys_load(in, keys, &nkeys) != 0)
		return -1;
	rc = kxsig_read(in->buf, in->len, &in->meta, &kerr);
	if (rc == -ENODATA) {
		in->sig_status = "unsigned";
		in->sig_rejects = in->npubkeys || in->keydir;
		snprintf(in->sig_msg, sizeof(in->sig_msg), "not signed");
		return 0;
	}
	if (rc != 0) {
		in->sig_status = "malformed";
		in->sig_rejects = true;
		snprintf(in->sig_msg, sizeof(in->sig_msg), "%s", kerr.msg);
		return 0;
	}
	kxsig_keyid_hex(in->meta.keyid, keyhex);
	if (!in->npubkeys && !in->keydir) {
		regions_recheck(in, keyhex);
		return 0;
	}
	rc = kxsig_verify(in->buf, in->len, keys, nkeys, &in->meta, &kerr);
	if (rc == 0) {
		in->sig_status = "valid";
		snprintf(in->sig_msg, sizeof(in->sig_msg), "valid: %s %s signed by key %s",
			 in->meta.name, in->meta.version, keyhex);
	} else {
		in->sig_status = "invalid";
		in->sig_rejects = true;
		snprintf(in->sig_msg, sizeof(in->sig_msg), "invalid (%s): %s", kxsig_err_name(rc),
			 kerr.msg);
	}
	return 0;
}

/* ---- report --------------------------------------------------------- */

struct counts {
	size_t functions, objects, tls, undefined, dynsyms, symtab;
	size_t by_type[64];
	size_t relr;
};

static void count(const struct kxelf_image *img, struct counts *c)
{
	memset(c, 0, sizeof(*c));
	c->dynsyms = kxelf_image_symbol_count(img, KXELF_SYMS_DYNSYM);
	c->symtab = kxelf_image_symbol_count(img, KXELF_SYMS_SYMTAB);
	for (size_t i = 1; i < c->dynsyms; i++) {
		struct kxelf_symbol s;
		kxelf_image_symbol(img, KXELF_SYMS_DYNSYM, i, &s);
		if (!s.defined) {
			c->undefined++;
			continue;
		}
		if (s.bind == STB_LOCAL || s.visibility == STV_HIDDEN || s.visibility == STV_INTERNAL)
			continue;
		if (s.type == STT_FUNC || s.type == STT_GNU_IFUNC)
			c->functions++;
		else if (s.type == STT_OBJECT || s.type == STT_COMMON)
			c->objects++;
		else if (s.type == STT_TLS)
			c->tls++;
	}
	for (size_t i = 0; i < kxelf_image_reloc_count(img); i++) {
		struct kxelf_reloc r;
		kxelf_image_reloc(img, i, &r);
		if (r.type < 64)
			c->by_type[r.type]++;
	}
	c->relr = kxelf_image_relr_count(img);
}

/* readelf's spelling: "RWE" with blanks for missing bits. */
static void flags_str(uint32_t f, char out[4])
{
	out[0] = (f & PF_R) ? 'R' : ' ';
	out[1] = (f & PF_W) ? 'W' : ' ';
	out[2] = (f & PF_X) ? 'E' : ' ';
	out[3] = '\0';
}

static void prot_str(unsigned p, char out[4])
{
	out[0] = (p & KXELF_PROT_R) ? 'r' : '-';
	out[1] = (p & KXELF_PROT_W) ? 'w' : '-';
	out[2] = (p & KXELF_PROT_X) ? 'x' : '-';
	out[3] = '\0';
}

static void report_text(const struct inspect *in)
{
	const struct kxelf_image *img = kxelf_module_image(in->root);
	const char *soname = kxelf_image_soname(img), *interp = kxelf_image_interp(img);
	struct kxelf_reloc_stats st;
	struct kxelf_range got;
	struct counts c;

	count(img, &c);
	kxelf_module_reloc_stats(in->root, &st);
	printf("file:        %s\n", in->file);
	printf("type:        %s%s%s%s%s\n", kxelf_type_name(kxelf_image_type(img)),
	       soname ? ", soname " : "", soname ? soname : "", interp ? ", interpreter " : "",
	       interp ? interp : "");
	printf("mapped:      0x%lx-0x%lx (scratch segment, bias 0x%lx)\n",
	       kxelf_module_start(in->root), kxelf_module_end(in->root), kxelf_module_bias(in->root));
	printf("segments:\n");
	for (size_t i = 0; i < kxelf_image_phnum(img); i++) {
		struct kxelf_phdr ph;
		const char *name;
		char fl[4];

		kxelf_image_phdr(img, i, &ph);
		name = kxelf_phdr_type_name(ph.type);
		flags_str(ph.flags, fl);
		if (name)
			printf("  [%2zu] %-13s", i, name);
		else
			printf("  [%2zu] 0x%-11x", i, ph.type);
		printf(" off 0x%06lx vaddr 0x%08lx filesz 0x%06lx memsz 0x%06lx %s\n", ph.offset,
		       ph.vaddr, ph.filesz, ph.memsz, fl);
	}
	printf("pages:      ");
	for (size_t i = 0; i < kxelf_module_prot_count(in->root); i++) {
		struct kxelf_range r;
		char p[4];
		kxelf_module_prot(in->root, i, &r);
		prot_str(r.prot, p);
		printf(" 0x%lx+0x%lx %s", r.addr, r.size, p);
	}
	printf("\nneeded:     ");
	for (size_t i = 0; i < kxelf_image_needed_count(img); i++)
		printf(" %s", kxelf_image_needed(img, i));
	printf("%s\n", kxelf_image_needed_count(img) ? "" : " (none)");
	printf("exports:     %zu functions, %zu objects, %zu TLS (%zu dynamic symbols, %zu "
	       "undefined; %zu .symtab symbols)\n", c.functions, c.objects, c.tls, c.dynsyms,
	       c.undefined, c.symtab);
	printf("relocations:");
	for (uint32_t t = 0; t < 64; t++)
		if (c.by_type[t])
			printf(" %s %zu", kxelf_reloc_type_name(t), c.by_type[t]);
	if (c.relr)
		printf(" R_X86_64_RELATIVE(RELR) %zu", c.relr);
	printf("\ngot/plt:     ");
	if (kxelf_module_got(in->root, &got) == 0)
		printf("GOT 0x%lx (%lu bytes), %zu PLT slots, PLT0 %s0x%lx, binding %s\n", got.addr,
		       got.size, kxelf_module_slot_count(in->root),
		       kxelf_module_plt0(in->root) ? "" : "none ", kxelf_module_plt0(in->root),
		       st.lazy ? "lazy" : "now");
	else
		printf("no DT_PLTGOT\n");
	printf("applied:     %zu relocations, %zu left lazy, %zu undefined bound to 0%s, %zu "
	       "IFUNC deferred to the guest\n", st.applied, st.lazy, st.undefined,
	       st.undefined && !in->tree ? " (no -L)" : "", st.deferred);
	if (in->tree) {
		printf("modules:    ");
		for (size_t i = 0; i < kxelf_tree_count(in->tree); i++)
			printf(" %s@0x%lx", kxelf_tree_name(in->tree, i),
			       kxelf_module_start(kxelf_tree_module(in->tree, i)));
		printf("\n");
	}
	if (in->loader_only)
		printf("mapper:      not checked (--loader-only): %s; %s\n", MAPPER_CHECKED,
		       MAPPER_UNCHECKED);
	else if (in->mapper_rc != 0)
		printf("mapper:      REFUSED: %s; not checked: %s\n", in->mapper_err.msg,
		       MAPPER_UNCHECKED);
	else
		printf("mapper:      ok: %s; not checked: %s\n", MAPPER_CHECKED, MAPPER_UNCHECKED);
	printf("signature:   %s\n", in->sig_msg);
	printf("result:      %s\n", in->mapper_rc != 0 ? "rejected (mapper: boot and link refuse it)"
				      : in->sig_rejects ? "rejected (signature)" : "accepted");
}

static void json_phdrs(const struct kxelf_image *img)
{
	printf("\"phdrs\":[");
	for (size_t i = 0; i < kxelf_image_phnum(img); i++) {
		struct kxelf_phdr ph;
		char fl[4];
		kxelf_image_phdr(img, i, &ph);
		flags_str(ph.flags, fl);
		printf("%s{\"type\":%u,\"offset\":%lu,\"vaddr\":%lu,\"paddr\":%lu,\"filesz\":%lu,"
		       "\"memsz\":%lu,\"flags\":\"%s\",\"align\":%lu}", i ? "," : "", ph.type,
		       ph.offset, ph.vaddr, ph.paddr, ph.filesz, ph.memsz, fl, ph.align);
	}
	printf("],");
}

static void json_syms(const struct kxelf_module *mod)
{
	printf("\"dynsyms\":[");
	for (size_t i = 0; i < kxelf_module_symbol_count(mod, KXELF_SYMS_DYNSYM); i++) {
		struct kxelf_symbol s;
		kxelf_module_symbol(mod, KXELF_SYMS_DYNSYM, i, &s);
		printf("%s{\"name\":", i ? "," : "");
		kxctl_json_str(stdout, s.name);
		printf(",\"value\":%lu,\"addr\":%lu,\"size\":%lu,\"type\":%u,\"bind\":%u,\"vis\":%u,"
		       "\"shndx\":%u,\"versym\":%u}", s.value, s.addr, s.size, s.type, s.bind,
		       s.visibility, s.shndx, s.versym);
	}
	printf("],");
}

static void json_layout(const struct inspect *in, const struct kxelf_image *img)
{
	struct kxelf_reloc_stats st;
	struct kxelf_range got;
	struct counts c;

	count(img, &c);
	kxelf_module_reloc_stats(in->root, &st);
	printf("\"needed\":[");
	for (size_t i = 0; i < kxelf_image_needed_count(img); i++) {
		printf("%s", i ? "," : "");
		kxctl_json_str(stdout, kxelf_image_needed(img, i));
	}
	printf("],\"exports\":{\"functions\":%zu,\"objects\":%zu,\"tls\":%zu,\"undefined\":%zu,"
	       "\"symtab\":%zu},\"relocations\":{", c.functions, c.objects, c.tls, c.undefined,
	       c.symtab);
	for (uint32_t t = 0, first = 1; t < 64; t++)
		if (c.by_type[t]) {
			printf("%s\"%s\":%zu", first ? "" : ",", kxelf_reloc_type_name(t), c.by_type[t]);
			first = 0;
		}
	printf("},\"relr\":%zu,\"applied\":%zu,\"lazy\":%zu,\"unresolved\":%zu,\"deferred_ifunc\":%zu,",
	       c.relr, st.applied, st.lazy, st.undefined, st.deferred);
	printf("\"pages\":[");
	for (size_t i = 0; i < kxelf_module_prot_count(in->root); i++) {
		struct kxelf_range r;
		char p[4];
		kxelf_module_prot(in->root, i, &r);
		prot_str(r.prot, p);
		printf("%s{\"addr\":%lu,\"size\":%lu,\"prot\":\"%s\"}", i ? "," : "", r.addr, r.size, p);
	}
	printf("],\"got\":");
	if (kxelf_module_got(in->root, &got) == 0)
		printf("{\"addr\":%lu,\"size\":%lu,\"slots\":%zu,\"plt0\":%lu}", got.addr, got.size,
		       kxelf_module_slot_count(in->root), kxelf_module_plt0(in->root));
	else
		printf("null");
	printf(",\"modules\":[");
	for (size_t i = 0; in->tree && i < kxelf_tree_count(in->tree); i++) {
		printf("%s{\"name\":", i ? "," : "");
		kxctl_json_str(stdout, kxelf_tree_name(in->tree, i));
		printf(",\"start\":%lu}", kxelf_module_start(kxelf_tree_module(in->tree, i)));
	}
	printf("],");
}

static void report_json(const struct inspect *in)
{
	printf("{\"file\":");
	kxctl_json_str(stdout, in->file);
	if (in->rc != 0) {
		printf(",\"accepted\":false,\"error\":{\"code\":\"%s\",\"message\":",
		       kxelf_err_name(in->rc));
		kxctl_json_str(stdout, in->err.msg);
		printf("}}\n");
		return;
	}
	const struct kxelf_image *img = kxelf_module_image(in->root);
	const char *soname = kxelf_image_soname(img);
	printf(",\"accepted\":%s,\"type\":\"%s\",\"soname\":",
	       in->sig_rejects || in->mapper_rc != 0 ? "false" : "true",
	       kxelf_type_name(kxelf_image_type(img)));
	if (soname)
		kxctl_json_str(stdout, soname);
	else
		printf("null");
	printf(",\"base\":%lu,\"bias\":%lu,", kxelf_module_start(in->root),
	       kxelf_module_bias(in->root));
	json_phdrs(img);
	json_syms(in->root);
	json_layout(in, img);
	if (in->loader_only)
		printf("\"mapper\":{\"checked\":\"\",\"not_checked\":\"%s; %s\",\"error\":",
		       MAPPER_CHECKED, MAPPER_UNCHECKED);
	else
		printf("\"mapper\":{\"checked\":\"%s\",\"not_checked\":\"%s\",\"error\":",
		       MAPPER_CHECKED, MAPPER_UNCHECKED);
	if (in->mapper_rc != 0)
		kxctl_json_str(stdout, in->mapper_err.msg);
	else
		printf("null");
	printf("},");
	printf("\"signature\":{\"status\":\"%s\",\"message\":", in->sig_status);
	kxctl_json_str(stdout, in->sig_msg);
	printf("}}\n");
}

int kxctl_inspect(const struct kxctl_cmd *cmd, int argc, char **argv)
{
	struct inspect *in = calloc(1, sizeof(*in));
	struct kx_error kerr;
	int rc, status = KXCTL_EXIT_USAGE;

	if (!in) {
		fprintf(stderr, "kxctl inspect: out of memory\n");
		goto out;
	}
	if ((rc = parse_args(in, cmd, argc, argv)) != KXCTL_EXIT_OK)
		goto out;
	if (kxsig_read_file(in->file, KXELF_MAX_FILE_SIZE, &in->buf, &in->len, &kerr) != 0) {
		fprintf(stderr, "kxctl inspect: %s: %s\n", in->file, kerr.msg);
		goto out;
	}
	rc = in->nlibdirs ? load_tree(in) : load_single(in);
	if (rc != 0) {
		fprintf(stderr, "kxctl inspect: %s: scratch segment: %s\n", in->file, strerror(-rc));
		goto out;
	}
	if (in->rc == 0 && !in->loader_only)
		check_pvm_rules(in);
	if (in->rc != 0) {
		fprintf(stderr, "kxctl inspect: %s: rejected (%s): %s\n", in->file,
			kxelf_err_name(in->rc), in->err.msg);
		if (in->json)
			report_json(in);
		status = KXCTL_EXIT_REJECTED;
		goto out;
	}
	if (signature_check(in) != 0)
		goto out;
	if (in->json)
		report_json(in);
	else
		report_text(in);
	if (in->mapper_rc != 0)
		fprintf(stderr, "kxctl inspect: %s: rejected (%s): %s\n", in->file,
			kxelf_err_name(in->mapper_rc), in->mapper_err.msg);
	status = in->sig_rejects || in->mapper_rc != 0 ? KXCTL_EXIT_REJECTED : KXCTL_EXIT_OK;
out:
	if (in) {
		kxelf_tree_free(in->tree);
		kxelf_module_free(in->mod);
		kxelf_image_free(in->img);
		if (in->scratch)
			munmap(in->scratch, in->scratch_size);
		free(in->buf);
		free(in);
	}
	return status;
}
