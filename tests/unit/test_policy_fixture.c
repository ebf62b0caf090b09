/* The three-app policy model shared by the back-end unit tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_policy_fixture.h"

#define S(text) ((char *)(text))

struct pm_bound fx_bound(const char *version, bool inclusive)
{
	struct pm_bound b;

	memset(&b, 0, sizeof(b));
	if (version == NULL) {
		b.unbounded = true;
		return b;
	}
	assert_int_equal(pm_version_parse(version, &b.v), 0);
	b.inclusive = inclusive;
	return b;
}

static struct pm_src src(const struct fx *f, size_t app, uint32_t line, uint32_t col)
{
	return (struct pm_src){.file = f->files[app], .line = line, .col = col};
}

static int fx_cmp_mount(const void *a, const void *b)
{
	return strcmp(((const struct pm_file_rule *)a)->guest,
		      ((const struct pm_file_rule *)b)->guest);
}

static void key(struct fx *f, size_t a, size_t k, const char *name, uint8_t id, uint32_t line)
{
	struct pm_key *e = &f->keys[a][k];

	e->name = S(name);
	e->path = S(id == FX_ACME ? "keys/acme.pub" : id == FX_LIBC ? "keys/libc-team.pub"
			: id == FX_NEXT ? "keys/next-libc.pub" : "keys/cdn.pub");
	memset(e->keyid, id, sizeof(e->keyid));
	memset(e->pk, id, sizeof(e->pk));
	e->src = src(f, a, line, 3);
}

/* A library with up to two signers and three intervals. */
static struct pm_library *lib(struct fx *f, size_t a, size_t l, const char *name,
			      const char *text, enum pm_loader loader, uint32_t line)
{
	struct pm_library *e = &f->libs[a][l];

	e->name = S(name);
	e->version_text = S(text);
	e->signers = f->signers[a][l];
	e->version.iv = f->iv[a][l];
	e->loader = loader;
	e->src = src(f, a, line, 5);
	return e;
}

static void app(struct fx *f, size_t a, const char *name, const char *image, uint64_t mib)
{
	struct pm_app *e = &f->apps[a];

	e->name = S(name);
	e->image = S(image);
	e->memory = mib << 20;
	e->keys = f->keys[a];
	e->libs = f->libs[a];
	e->trust = f->trust[a];
	e->src = src(f, a, 1, 1);
	e->resources.src = e->src; /* as the front end: the manifest when absent */
	e->audit.src = e->src;
	e->revoked.keyids = f->revoked_keyids[a];
	e->revoked.keyid_src = f->revoked_keyid_src[a];
	e->revoked.digests = f->revoked_digests[a];
	e->revoked.digest_src = f->revoked_digest_src[a];
}

static struct pm_iface *iface(struct fx *f, size_t a, size_t i, const char *name,
			      const char *addr, uint8_t prefix, uint32_t line)
{
	struct pm_iface *e = &f->ifaces[a][i];

	e->name = S(name);
	assert_int_equal(pm_ipv4_parse(addr, strlen(addr), &e->addr), 0);
	e->prefix = prefix;
	e->listen = f->listen[a][i];
	e->peers = f->peers[a][i];
	e->src = src(f, a, line, 5);
	return e;
}

static void peer(struct fx *f, struct pm_iface *e, const char *text, uint32_t line, uint32_t col)
{
	struct pm_peer_text t;
	size_t i = e->npeers++;

	assert_int_equal(pm_peer_parse(text, strlen(text), &t), PM_PEER_OK);
	e->peers[i] = (struct pm_peer){t.addr, t.prefix, t.proto, t.port, src(f, 0, line, col)};
}

/* kvstore's files, network and resources (lines 40 to 48 of its manifest) */
static void kvstore_io(struct fx *f, struct pm_app *a)
{
	struct pm_iface *e;

	f->mounts[0][0] = (struct pm_file_rule){S("/data"), S("/var/lib/kvstore"), PM_MODE_RW,
						1u << 30, src(f, 0, 41, 5)};
	f->mounts[0][1] = (struct pm_file_rule){S("/etc/kvstore"), NULL, PM_MODE_RO, 0,
						src(f, 0, 40, 5)};
	a->files = f->mounts[0];
	a->nfiles = 2;
	qsort(a->files, a->nfiles, sizeof(*a->files), fx_cmp_mount);
	e = iface(f, 0, 0, "net0", "10.0.0.2", 24, 43);
	assert_int_equal(pm_ipv4_parse("10.0.0.1", 8, &e->gateway), 0);
	e->listen[0] = (struct pm_listen){6379, PM_PROTO_TCP, src(f, 0, 45, 14)};
	e->listen[1] = (struct pm_listen){5353, PM_PROTO_UDP, src(f, 0, 45, 20)};
	e->nlisten = 2;
	peer(f, e, "10.0.0.0/24:*", 46, 15);
	peer(f, e, "192.168.1.5:443", 46, 30);
	peer(f, e, "udp/10.0.0.1:53", 46, 47);
	e = iface(f, 0, 1, "net1", "172.16.0.9", 31, 47);
	e->listen[0] = (struct pm_listen){9000, PM_PROTO_TCP, src(f, 0, 47, 40)};
	e->nlisten = 1;
	a->ifaces = f->ifaces[0];
	a->nifaces = 2;
	a->resources = (struct pm_resources){1000, 64, src(f, 0, 48, 12)};
	a->audit = (struct pm_audit){5, 10, src(f, 0, 49, 8)};
}

static void kvstore(struct fx *f)
{
	struct pm_library *l;
	struct pm_app *a = &f->apps[0];

	app(f, 0, "kvstore", "apps/kvstore.kxe", 64);
	key(f, 0, 0, "acme", FX_ACME, 6);
	key(f, 0, 1, "libc-team", FX_LIBC, 7);
	key(f, 0, 2, "next-libc", FX_NEXT, 8); /* rotation: 2027-01-01 .. 2029-01-01 */
	f->keys[0][2].from = 1798761600;
	f->keys[0][2].until = 1861920000;
	a->nkeys = 3;

	l = lib(f, 0, 0, "libkvmath", ">= 1.16 && < 2", PM_LOADER_SELF, 10);
	l->signers[0] = 1;
	l->signers[1] = 2;
	l->nsigners = 2;
	l->version.iv[0] = (struct pm_interval){fx_bound("1.16", true), fx_bound("2", false)};
	l->version.n = 1;
	l->update = true;

	l = lib(f, 0, 1, "libnet", "*", PM_LOADER_ANY, 16);
	l->signers[0] = 0;
	l->signers[1] = 1;
	l->nsigners = 2;
	l->version.iv[0] = (struct pm_interval){fx_bound(NULL, false), fx_bound(NULL, false)};
	l->version.n = 1;
	l->bind = PM_BIND_NOW;

	l = lib(f, 0, 2, "libshared", "2.1.* || >= 3", PM_LOADER_APP, 22);
	l->signers[0] = 0;
	l->nsigners = 1;
	l->version.iv[0] = (struct pm_interval){fx_bound("2.1", true), fx_bound("2.2", false)};
	l->version.iv[1] = (struct pm_interval){fx_bound("3", true), fx_bound(NULL, false)};
	l->version.n = 2;
	l->update = true;
	l->allow_downgrade = true;
	a->nlibs = 3;

	a->fork = (struct pm_fork_limits){16, 3, 64, src(f, 0, 28, 3)};
	a->ipc_kinds = PM_IPC_ALL;
	a->ipc_src = src(f, 0, 29, 3);
	f->trust[0][0] = (struct pm_trust){S("kvstore-backup"), PM_IPC_MSGQ, src(f, 0, 31, 7)};
	a->ntrust = 1;
	a->recycle = (struct pm_recycle){true, 4, src(f, 0, 33, 3)};
	memset(f->revoked_keyids[0][0], FX_OLD, KXSIG_KEYID_BYTES);
	f->revoked_keyid_src[0][0] = src(f, 0, 35, 11);
	a->revoked.nkeyids = 1;
	memset(f->revoked_digests[0][0], FX_DIGEST, KXSIG_DIGEST_BYTES);
	f->revoked_digest_src[0][0] = src(f, 0, 36, 14);
	a->revoked.ndigests = 1;
	kvstore_io(f, a);
}

static void backup(struct fx *f)
{
	struct pm_library *l;
	struct pm_app *a = &f->apps[1];

	app(f, 1, "kvstore-backup", "apps/backup.kxe", 32);
	key(f, 1, 0, "acme", FX_ACME, 5);
	a->nkeys = 1;
	l = lib(f, 1, 0, "libkvmath", ">= 1", PM_LOADER_SELF, 8);
	l->signers[0] = 0;
	l->nsigners = 1;
	l->version.iv[0] = (struct pm_interval){fx_bound("1", true), fx_bound(NULL, false)};
	l->version.n = 1;
	l->update = true;
	l->bind = PM_BIND_NOW;
	a->nlibs = 1;
	a->fork = (struct pm_fork_limits){4, 1, 8, src(f, 1, 14, 3)};
	a->ipc_kinds = PM_IPC_PIPE;
	a->ipc_src = src(f, 1, 15, 3);
	f->trust[1][0] = (struct pm_trust){S("kvstore"), PM_IPC_MSGQ, src(f, 1, 17, 7)};
	a->ntrust = 1;
	a->recycle = (struct pm_recycle){false, 0, src(f, 1, 19, 3)};
}

static void webcache(struct fx *f)
{
	struct pm_library *l;
	struct pm_app *a = &f->apps[2];

	app(f, 2, "webcache", "apps/webcache.kxe", 128);
	key(f, 2, 0, "cdn", FX_CDN, 5);
	a->nkeys = 1;
	l = lib(f, 2, 0, "libhttp", "!= 1.5", PM_LOADER_APP, 8);
	l->signers[0] = 0;
	l->nsigners = 1;
	l->version.iv[0] = (struct pm_interval){fx_bound(NULL, false), fx_bound("1.5", false)};
	l->version.iv[1] = (struct pm_interval){fx_bound("1.5", false), fx_bound(NULL, false)};
	l->version.n = 2;
	l->update = true;
	a->nlibs = 1;
	a->fork = (struct pm_fork_limits){0, 0, 1, src(f, 2, 13, 3)};
	a->ipc_kinds = PM_IPC_PIPE | PM_IPC_SHM;
	a->ipc_src = src(f, 2, 14, 3);
	a->recycle = (struct pm_recycle){true, 2, src(f, 2, 16, 3)};
	memset(f->revoked_keyids[2][0], FX_OLD, KXSIG_KEYID_BYTES);
	f->revoked_keyid_src[2][0] = src(f, 2, 18, 11);
	a->revoked.nkeyids = 1;
}

void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->files[0] = S("m/kvstore.yaml");
	f->files[1] = S("m/kvstore-backup.yaml");
	f->files[2] = S("m/webcache.yaml");
	kvstore(f);
	backup(f);
	webcache(f);
	f->pol = (struct pm_policy){f->files, FX_APPS, f->apps, FX_APPS, 0};
}

uint8_t *fx_compile(const struct fx *f, size_t *len)
{
	struct kx_error err = {{0}};
	uint8_t *buf = NULL;
	int rc = kxp_write(&f->pol, &buf, len, &err);

	if (rc != 0)
		fail_msg("kxp_write: %d %s", rc, err.msg);
	return buf;
}

struct kxp_policy *fx_open(const struct fx *f)
{
	struct kx_error err = {{0}};
	struct kxp_policy *p = NULL;
	size_t len;
	uint8_t *buf = fx_compile(f, &len);
	int rc = kxp_open(buf, len, NULL, &p, &err);

	free(buf);
	if (rc != 0)
		fail_msg("kxp_open: %d %s", rc, err.msg);
	return p;
}

int fx_request(const char *text, struct kxp_request *req, char **words, struct kx_error *err)
{
	const char *argv[32];
	char *save = NULL, *w;
	enum kxp_op op;
	int n = 0;

	*words = strdup(text);
	assert_non_null(*words);
	w = strtok_r(*words, " ", &save);
	assert_non_null(w);
	assert_int_equal(kxp_op_parse(w, &op), 0);
	while ((w = strtok_r(NULL, " ", &save)) != NULL && n < 32)
		argv[n++] = w;
	return kxp_request_parse(req, op, argv, n, err);
}
