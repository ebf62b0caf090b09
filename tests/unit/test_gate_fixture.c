/* The gate tests' fixture: see test_gate_fixture.h. */
#define _GNU_SOURCE
#include <elf.h>
#include <ftw.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "signer/kxsig_abi.h"
#include "tests/unit/test_gate_fixture.h"

static const char *const key_files[GX_NKEYS] = {
	[GX_LIBC] = "libc-team.sec", [GX_ACME] = "acme.sec", [GX_OLD] = "acme-2019.sec",
	[GX_BACKUP] = "backup-team.sec",
};
static const char *const build_files[GX_NBUILDS] = {
	[GX_GOOD] = "good.so", [GX_OTHER] = "other.so", [GX_REVOKED] = "revoked.so",
	[GX_IMAGE] = "app.kxe",
};

#define CP(dst, src) snprintf((dst), sizeof(dst), "%s", (src) != NULL ? (src) : "")

static void path_join(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	assert_true(n > 0 && (size_t)n < size);
}

/* $(B)/gate-data, from where this test binary lives: $(B)/tests/NAME. */
static void find_data(struct gx *x)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_true(n > 0);
	exe[n] = '\0';
	path_join(x->data, sizeof(x->data), dirname(dirname(exe)), "gate-data");
}

static void read_whole(const char *path, struct gx_file *f)
{
	struct kx_error err;

	if (kxsig_read_file(path, (size_t)64 << 20, &f->bytes, &f->len, &err) != 0)
		fail_msg("%s: %s", path, err.msg);
}

int gx_setup(void **state)
{
	struct gx *x = calloc(1, sizeof(*x));
	char path[PATH_MAX + 64], pub[PATH_MAX + 64];
	struct kx_error err;
	struct kx_error perr;
	const char *tmpdir = getenv("TMPDIR");

	assert_non_null(x);
	assert_int_equal(kxsig_init(), 0);
	find_data(x);
	snprintf(x->tmp, sizeof(x->tmp), "%s/kx-gate-XXXXXX", tmpdir ? tmpdir : "/tmp");
	assert_non_null(mkdtemp(x->tmp));
	path_join(path, sizeof(path), x->data, "gate.kxp");
	if (kxp_open_file(path, NULL, &x->policy, &perr) != 0)
		fail_msg("%s: %s", path, perr.msg);
	for (int k = 0; k < GX_NKEYS; k++) {
		if (k == GX_STRANGER) {
			path_join(pub, sizeof(pub), x->tmp, "stranger.pub");
			path_join(path, sizeof(path), x->tmp, "stranger.sec");
			assert_int_equal(kxsig_keygen(pub, path, "stranger",
						      KXSIG_KEYGEN_NO_PASSPHRASE, NULL, &err),
					 0);
		} else {
			path_join(path, sizeof(path), x->data, key_files[k]);
		}
		if (kxsig_seckey_open(path, &x->key[k], &err) != 0)
			fail_msg("%s: %s", path, err.msg);
	}
	for (int b = 0; b < GX_NBUILDS; b++) {
		path_join(path, sizeof(path), x->data, build_files[b]);
		read_whole(path, &x->build[b]);
	}
	*state = x;
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

int gx_teardown(void **state)
{
	struct gx *x = *state;

	gate_close(x->gate);
	kxp_close(x->policy);
	for (int k = 0; k < GX_NKEYS; k++)
		kxsig_seckey_free(x->key[k]);
	for (int b = 0; b < GX_NBUILDS; b++)
		free(x->build[b].bytes);
	/* KX_GATE_KEEP=1 keeps the logs (e.g. to refresh fuzz/corpus/audit/) */
	if (getenv("KX_GATE_KEEP") == NULL)
		nftw(x->tmp, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	else
		print_message("kept %s\n", x->tmp);
	free(x);
	return 0;
}

void gx_reopen(struct gx *x, const struct gate_opts *opts)
{
	char name[64];
	struct kx_error err;

	gate_close(x->gate);
	x->gate = NULL;
	snprintf(name, sizeof(name), "audit-%u.log", ++x->tests);
	path_join(x->log, sizeof(x->log), x->tmp, name);
	if (gate_open(x->policy, x->log, opts, &x->gate, &err) != 0)
		fail_msg("gate_open %s: %s", x->log, err.msg);
	x->nrecords = 1; /* the open record */
}

int gx_gate_setup(void **state)
{
	gx_reopen(*state, NULL);
	return 0;
}

int gx_gate_teardown(void **state)
{
	struct gx *x = *state;

	gate_close(x->gate);
	x->gate = NULL;
	return 0;
}

/* ---- files ------------------------------------------------------------------ */

struct gx_file gx_sign(const struct gx *x, enum gx_key key, enum gx_build b, const char *name,
		       const char *version, const char *comment)
{
	const struct kxsig_sign_opts opts = {
		.name = name, .version = version, .trusted_comment = comment,
		.timestamp = 1700000000,
	};
	struct gx_file out = {0};
	struct kx_error err;

	if (kxsig_sign_elf(x->key[key], x->build[b].bytes, x->build[b].len, &opts, &out.bytes,
			   &out.len, &err) != 0)
		fail_msg("signing %s as %s %s: %s", build_files[b], name, version, err.msg);
	return out;
}

struct gx_file gx_copy(const struct gx_file *f)
{
	struct gx_file out = {malloc(f->len), f->len};

	assert_non_null(out.bytes);
	memcpy(out.bytes, f->bytes, f->len);
	return out;
}

void gx_file_free(struct gx_file *f)
{
	free(f->bytes);
	f->bytes = NULL;
	f->len = 0;
}

void gx_flip(struct gx_file *f, size_t offset)
{
	assert_true(offset < f->len);
	f->bytes[offset] ^= 1;
}

size_t gx_load_offset(const struct gx_file *f)
{
	struct kxsig_region_info regions[KXSIG_MAX_REGIONS];
	struct kxsig_meta meta;
	struct kx_error err;
	size_t n = 0, at = 0;

	assert_int_equal(kxsig_read_regions(f->bytes, f->len, &meta, regions, &n, &err), 0);
	for (size_t i = 0; i < n; i++)
		if (regions[i].kind_id == KXSIG_REGION_LOAD && regions[i].size > 0)
			at = (size_t)(regions[i].offset + regions[i].size / 2);
	assert_true(at > 0);
	return at;
}

size_t gx_section_offset(const struct gx_file *f)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh;

	assert_true(f->len >= sizeof(eh));
	memcpy(&eh, f->bytes, sizeof(eh));
	for (size_t i = 0; i < eh.e_shnum; i++) {
		size_t at = (size_t)eh.e_shoff + i * sizeof(sh);

		assert_true(at + sizeof(sh) <= f->len);
		memcpy(&sh, f->bytes + at, sizeof(sh));
		if (sh.sh_type == KXSIG_ABI_SECTION_TYPE)
			return (size_t)sh.sh_offset;
	}
	fail_msg("no signature section");
	return 0;
}

/* ---- reading the log back ---------------------------------------------------- */

struct collect {
	struct gx_rec *recs;
	size_t n, max;
	const char *text;
};

static void copy_record(struct gx_rec *r, const struct gate_audit_record *a)
{
	const struct gate_audit_object *o = &a->object;

	r->seq = a->seq;
	r->allowed = a->allowed;
	r->sig_cached = a->sig_cached;
	r->has_rule = a->has_rule;
	CP(r->time, a->time);
	CP(r->op, a->op);
	CP(r->stage, a->stage);
	CP(r->reason, a->reason);
	CP(r->sig, a->sig_status);
	CP(r->subject.kind, a->subject.kind);
	CP(r->subject.app, a->subject.app);
	r->subject.has_pvm = a->subject.has_pvm;
	r->subject.pvm = a->subject.pvm;
	r->subject.uid = a->subject.uid;
	r->subject.depth = a->subject.depth;
	r->object.has_pvm = o->has_pvm;
	r->object.pvm = o->pvm;
	r->object.has_same_family = o->has_same_family;
	r->object.same_family = o->same_family;
	r->object.children = o->children;
	r->object.members = o->members;
	CP(r->object.app, o->app);
	CP(r->object.lib, o->lib);
	CP(r->object.requested, o->requested);
	CP(r->object.name, o->name);
	CP(r->object.version, o->version);
	CP(r->object.old_version, o->old_version);
	CP(r->object.signer, o->signer);
	CP(r->object.digest, o->digest);
	CP(r->object.old_digest, o->old_digest);
	CP(r->object.relation, o->relation);
	CP(r->object.kind, o->kind);
	CP(r->object.guest, o->guest);
	CP(r->object.host, o->host);
	CP(r->object.mode, o->mode);
	CP(r->object.iface, o->iface);
	r->object.has_image = o->has_image;
	r->object.image = o->image;
	CP(r->rule_file, a->rule_file);
	CP(r->rule_desc, a->rule_desc);
	r->rule_line = a->rule_line;
	r->rule_col = a->rule_col;
	CP(r->event, a->event);
	CP(r->prev, a->prev);
	r->has_count = a->has_count;
	r->count = a->count;
	gate_audit_format(a, GATE_AUDIT_FMT_REASON, r->human, sizeof(r->human));
}

static int collect_line(void *ctx, const struct gate_audit_line *line)
{
	struct collect *c = ctx;
	struct gx_rec *r;
	const char *end;

	if (c->n == c->max)
		return 1;
	r = &c->recs[c->n++];
	memset(r, 0, sizeof(*r));
	r->lineno = line->lineno;
	end = strchr(c->text + line->offset, '\n');
	r->line_len = end != NULL ? (size_t)(end - (c->text + line->offset))
				  : strlen(c->text + line->offset);
	if (line->record == NULL) {
		r->corrupt = true;
		CP(r->error, line->error);
		return 0;
	}
	copy_record(r, line->record);
	return 0;
}

size_t gx_read_log(const char *path, struct gx_rec *recs, size_t max)
{
	struct gx_file f = {0};
	struct collect c = {.recs = recs, .max = max};
	char *text;

	read_whole(path, &f);
	/* NUL-terminated so that line lengths can be taken with strchr */
	text = calloc(1, f.len + 1);
	assert_non_null(text);
	memcpy(text, f.bytes, f.len);
	c.text = text;
	assert_int_equal(gate_audit_read(text, f.len, collect_line, &c, NULL), 0);
	free(text);
	gx_file_free(&f);
	return c.n;
}

void gx_next_record(struct gx *x, struct gx_rec *rec)
{
	size_t max = x->nrecords + 2, n;
	struct gx_rec *recs = calloc(max, sizeof(*recs));

	assert_non_null(recs);
	n = gx_read_log(x->log, recs, max);
	assert_int_equal(n, x->nrecords + 1);
	for (size_t i = 0; i < n; i++)
		if (recs[i].corrupt)
			fail_msg("%s line %zu: %s", x->log, recs[i].lineno, recs[i].error);
	*rec = recs[n - 1];
	x->nrecords = n;
	free(recs);
}

uint32_t gx_manifest_line(const struct gx *x, const char *file, const char *needle)
{
	char path[PATH_MAX + 64], line[512];
	uint32_t n = 0;
	FILE *f;

	path_join(path, sizeof(path), x->data, file);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		n++;
		if (strstr(line, needle) != NULL) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	fail_msg("%s has no line with '%s'", path, needle);
	return 0;
}

void gx_keyid_hex(const struct gx *x, enum gx_key key, char out[2 * KXSIG_KEYID_BYTES + 1])
{
	uint8_t id[KXSIG_KEYID_BYTES];

	kxsig_seckey_keyid(x->key[key], id);
	kxsig_keyid_hex(id, out);
}

struct gate_subject gx_pvm(uint64_t id, const char *app, uint64_t family, uint32_t depth)
{
	return (struct gate_subject){.kind = GATE_SUBJECT_PVM, .pvm_id = id, .app = app,
				     .family_id = family, .depth = depth};
}

struct gate_subject gx_operator(uint32_t uid)
{
	return (struct gate_subject){.kind = GATE_SUBJECT_OPERATOR, .uid = uid};
}
