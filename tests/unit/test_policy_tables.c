/*
 * The table writer and the reader's validation: round trip, determinism,
 * writer refusals, and one hand-made corruption per check of the reader
 * (the body digest is recomputed so each corruption reaches the table
 * checks), each asserting the reader's message.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "tests/unit/test_policy_fixture.h"

/* A table of a compiled buffer (the writer's layout is trusted here). */
static void *tab(uint8_t *buf, enum kxp_abi_table t)
{
	struct kxp_abi_table_desc d;

	memcpy(&d, buf + sizeof(struct kxp_abi_header) + t * sizeof(d), sizeof(d));
	return buf + d.offset;
}

static struct kxp_abi_table_desc *dir(uint8_t *buf, enum kxp_abi_table t)
{
	return (struct kxp_abi_table_desc *)(buf + sizeof(struct kxp_abi_header)) + t;
}

static void reseal(uint8_t *buf, size_t len)
{
	struct kxp_abi_header *h = (struct kxp_abi_header *)buf;

	crypto_generichash(h->body_digest, sizeof(h->body_digest), buf + sizeof(*h),
			   len - sizeof(*h), NULL, 0);
}

static void expect_refused(uint8_t *buf, size_t len, const char *what)
{
	struct kxp_policy *p = NULL;
	struct kx_error err = {{0}};
	int rc = kxp_open(buf, len, NULL, &p, &err);

	if (rc != -EBADMSG || strstr(err.msg, what) == NULL)
		fail_msg("want -EBADMSG '...%s...', got %d '%s'", what, rc, err.msg);
	assert_null(p);
}

static void round_trip(void **state)
{
	struct fx f;
	struct kxp_policy *p;
	struct kxp_signature_info sig;

	(void)state;
	fx_init(&f);
	p = fx_open(&f);
	assert_int_equal(p->napps, 3);
	assert_int_equal(p->nlibs, 5);
	assert_int_equal(p->nkeys, 5);
	assert_int_equal(p->keys[2].from, 1798761600); /* kvstore's next-libc */
	assert_int_equal(p->keys[2].until, 1861920000);
	assert_string_equal(kxp_str(p, p->apps[1].name), "kvstore-backup");
	assert_string_equal(kxp_str(p, p->libs[2].name), "libshared");
	assert_int_equal(p->libs[2].intervals.count, 2);
	assert_int_equal(p->libs[2].allow_downgrade, 1);
	assert_int_equal(p->ipc[0 * 3 + 1], KXP_ABI_IPC_MSGQ);
	assert_int_equal(p->ipc[1 * 3 + 0], KXP_ABI_IPC_MSGQ);
	assert_int_equal(p->nrevoked_keys, 2);
	assert_string_equal(kxp_str(p, p->prov[p->apps[2].prov].file), "m/webcache.yaml");
	assert_int_equal(p->nfiles, 2);
	assert_string_equal(kxp_str(p, p->files[0].guest), "/data");
	assert_int_equal(p->files[0].max, 1u << 30);
	assert_int_equal(p->files[1].kind, KXP_ABI_FILE_IMAGE);
	assert_int_equal(p->files[1].host, 0);
	assert_int_equal(p->nifaces, 2);
	assert_int_equal(p->apps[0].ifaces.count, 2);
	assert_int_equal(p->apps[1].ifaces.count, 0);
	assert_int_equal(p->nlisten, 3);
	assert_int_equal(p->npeers, 3);
	assert_int_equal(p->peers[2].proto, KXP_ABI_PROTO_UDP);
	assert_int_equal(p->resources[0].cpu_milli, 1000);
	assert_int_equal(p->resources[2].pids, 0);
	assert_int_equal(p->resources[0].audit_rate, 5); /* kvstore's audit: {rate: 5, burst: 10} */
	assert_int_equal(p->resources[0].audit_burst, 10);
	assert_int_equal(p->resources[2].audit_rate, 0); /* none: kxd's default */
	assert_int_equal(p->resources[2].audit_burst, 0);
	assert_int_equal(p->serial, 0);
	kxp_signature(p, &sig);
	assert_false(sig.is_signed);
	kxp_close(p);
}

static void compile_is_deterministic(void **state)
{
	struct fx f;
	uint8_t *a, *b, *c;
	size_t alen, blen, clen;

	(void)state;
	fx_init(&f);
	a = fx_compile(&f, &alen);
	b = fx_compile(&f, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	/* revocations are sorted and deduplicated by the writer: input order
	 * and repeats do not change the bytes */
	memset(f.revoked_keyids[0][1], FX_OLD, KXSIG_KEYID_BYTES);
	f.revoked_keyid_src[0][1] = f.revoked_keyid_src[0][0];
	f.apps[0].revoked.nkeyids = 2;
	c = fx_compile(&f, &clen);
	assert_int_equal(alen, clen);
	assert_memory_equal(a, c, alen);
	free(a);
	free(b);
	free(c);
}

static void empty_policy_compiles(void **state)
{
	struct pm_policy empty = {0};
	struct kxp_policy *p = NULL;
	struct kx_error err = {{0}};
	uint8_t *buf = NULL;
	size_t len;

	(void)state;
	assert_int_equal(kxp_write(&empty, &buf, &len, &err), 0);
	assert_int_equal(kxp_open(buf, len, NULL, &p, &err), 0);
	assert_int_equal(p->napps, 0);
	kxp_close(p);
	free(buf);
}

static void writer_refuses_inconsistent_models(void **state)
{
	struct fx f;
	struct kx_error err = {{0}};
	uint8_t *buf = NULL;
	size_t len;

	(void)state;
	fx_init(&f);
	f.trust[0][0].peer = (char *)"nosuch";
	assert_int_equal(kxp_write(&f.pol, &buf, &len, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "trust peer 'nosuch' is not in the policy"));
	assert_null(buf);

	fx_init(&f);
	f.signers[0][0][0] = 7;
	assert_int_equal(kxp_write(&f.pol, &buf, &len, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "library 'libkvmath'"));

	fx_init(&f);
	f.pol.napps = KXP_APPS_MAX + 1;
	assert_int_equal(kxp_write(&f.pol, &buf, &len, &err), -EFBIG);
	assert_null(buf);
}

/* ---- one corruption per reader check ------------------------------------ */

struct corruption {
	const char *name;
	void (*apply)(uint8_t *buf, size_t *len);
	bool reseal; /* recompute the body digest afterwards */
	const char *error;
};

#define APPS(b) ((struct kxp_abi_app *)tab(b, KXP_T_APPS))
#define LIBS(b) ((struct kxp_abi_lib *)tab(b, KXP_T_LIBS))
#define IVS(b) ((struct kxp_abi_interval *)tab(b, KXP_T_INTERVALS))
#define HDR(b) ((struct kxp_abi_header *)(b))

static void c_magic(uint8_t *b, size_t *l) { (void)l; b[0] = 'X'; }
static void c_version(uint8_t *b, size_t *l) { (void)l; HDR(b)->format_version = 3; }
static void c_flags(uint8_t *b, size_t *l) { (void)l; HDR(b)->flags |= 0x10; }
static void c_signed_flag(uint8_t *b, size_t *l) { (void)l; HDR(b)->flags |= KXP_FLAG_SIGNED; }
static void c_keyid(uint8_t *b, size_t *l) { (void)l; HDR(b)->admin_keyid[3] = 1; }
static void c_hdr_reserved(uint8_t *b, size_t *l) { (void)l; HDR(b)->reserved[9] = 1; }
static void c_truncate(uint8_t *b, size_t *l) { (void)b; *l -= 8; }
static void c_extend(uint8_t *b, size_t *l) { (void)b; *l += 8; }
static void c_body(uint8_t *b, size_t *l) { b[*l - 1] ^= 1; }
static void c_entry_size(uint8_t *b, size_t *l) { (void)l; dir(b, KXP_T_LIBS)->entry_size = 24; }
static void c_offset(uint8_t *b, size_t *l) { (void)l; dir(b, KXP_T_KEYS)->offset += 8; }
static void c_count(uint8_t *b, size_t *l) { (void)l; dir(b, KXP_T_IPC)->count = 0xffffffffu; }
static void c_ipc_count(uint8_t *b, size_t *l)
{
	(void)l;
	dir(b, KXP_T_IPC)->count = 10; /* a padding byte (zero) joins it */
}
static void c_str_range(uint8_t *b, size_t *l) { (void)l; APPS(b)[0].name = 0xffff; }
static void c_str_inside(uint8_t *b, size_t *l) { (void)l; APPS(b)[1].image += 1; }
static void c_str_empty(uint8_t *b, size_t *l) { (void)l; LIBS(b)[1].name = 0; }
static void c_app_order(uint8_t *b, size_t *l)
{
	uint32_t n = APPS(b)[0].name;

	(void)l;
	APPS(b)[0].name = APPS(b)[1].name;
	APPS(b)[1].name = n;
}
static void c_lib_order(uint8_t *b, size_t *l) { (void)l; LIBS(b)[1].name = LIBS(b)[0].name; }
static char *pool_find(uint8_t *b, const char *s)
{
	char *pool = tab(b, KXP_T_STRINGS);

	return memmem(pool, dir(b, KXP_T_STRINGS)->count, s, strlen(s) + 1);
}
static void c_utf8(uint8_t *b, size_t *l) { (void)l; pool_find(b, "webcache")[2] = (char)0xff; }
static void c_control(uint8_t *b, size_t *l) { (void)l; pool_find(b, "webcache")[2] = 0x1b; }
static void c_c1(uint8_t *b, size_t *l)
{
	char *s = pool_find(b, "webcache");

	(void)l;
	s[2] = (char)0xc2; /* U+0085 */
	s[3] = (char)0x85;
}
static void c_pool_end(uint8_t *b, size_t *l)
{
	(void)l;
	((char *)tab(b, KXP_T_STRINGS))[dir(b, KXP_T_STRINGS)->count - 1] = 'x';
}
static void c_prov(uint8_t *b, size_t *l) { (void)l; APPS(b)[2].ipc_prov = 9999; }
static void c_app_reserved(uint8_t *b, size_t *l) { (void)l; APPS(b)[0].reserved = 1; }
static void c_ipc_kinds(uint8_t *b, size_t *l) { (void)l; APPS(b)[0].ipc_kinds = 0x10; }
static void c_run_gap(uint8_t *b, size_t *l) { (void)l; APPS(b)[1].keys.first += 1; }
static void c_run_long(uint8_t *b, size_t *l) { (void)l; APPS(b)[2].libs.count = 5; }
static void c_orphans(uint8_t *b, size_t *l) { (void)l; APPS(b)[2].libs.count = 0; }
static void c_loader(uint8_t *b, size_t *l) { (void)l; LIBS(b)[0].loader = 3; }
static void c_no_signer(uint8_t *b, size_t *l)
{
	(void)l;
	LIBS(b)[0].signers.count = 0; /* and give its signer to the next library */
	LIBS(b)[1].signers.first -= 1;
	LIBS(b)[1].signers.count += 1;
}
static void c_signer_app(uint8_t *b, size_t *l)
{
	(void)l;
	((uint32_t *)tab(b, KXP_T_LIB_SIGNERS))[1] = 3; /* a key of kvstore-backup */
}
static void c_signer_order(uint8_t *b, size_t *l)
{
	uint32_t *s = tab(b, KXP_T_LIB_SIGNERS);

	(void)l;
	s[2] = 1; /* libnet (after libkvmath's two): [0, 1] -> [1, 1] */
}
static void c_iv_empty(uint8_t *b, size_t *l) { (void)l; IVS(b)[0].lo.part[0] = 9; }
static void c_iv_bound(uint8_t *b, size_t *l) { (void)l; IVS(b)[0].hi.nparts = 5; }
static void c_iv_parts(uint8_t *b, size_t *l) { (void)l; IVS(b)[0].lo.part[3] = 1; }
static void c_iv_unbounded(uint8_t *b, size_t *l) { (void)l; IVS(b)[1].hi.nparts = 1; }
static void c_iv_overlap(uint8_t *b, size_t *l)
{
	(void)l;
	IVS(b)[2].hi.part[0] = 3; /* libshared [2.1, 2.2) -> [2.1, 3.2) overlaps [3, inf) */
}
static void c_iv_touch(uint8_t *b, size_t *l)
{
	(void)l;
	IVS(b)[6].lo.flags = KXP_ABI_BOUND_INCLUSIVE; /* libhttp: (-inf,1.5) [1.5, inf) */
}
static void c_trust_kinds(uint8_t *b, size_t *l)
{
	(void)l;
	((struct kxp_abi_trust *)tab(b, KXP_T_TRUST))[0].kinds = 0;
}
static void c_matrix(uint8_t *b, size_t *l) { (void)l; ((uint8_t *)tab(b, KXP_T_IPC))[2] = 1; }
static void c_not_mutual(uint8_t *b, size_t *l)
{
	(void)l;
	((struct kxp_abi_trust *)tab(b, KXP_T_TRUST))[0].kinds |= KXP_ABI_IPC_PIPE;
	((uint8_t *)tab(b, KXP_T_IPC))[1] |= KXP_ABI_IPC_PIPE;
}
static void c_revoked_order(uint8_t *b, size_t *l)
{
	(void)l;
	/* kvstore has one revoked key; webcache's is the next entry: make
	 * kvstore own both, equal ids */
	APPS(b)[0].revoked_keys.count = 2;
	APPS(b)[2].revoked_keys.first = 2;
	APPS(b)[2].revoked_keys.count = 0;
}
static void c_recycle(uint8_t *b, size_t *l)
{
	(void)l;
	((struct kxp_abi_recycle *)tab(b, KXP_T_RECYCLE))[1].allow = 2;
}

#define FILES(b) ((struct kxp_abi_file *)tab(b, KXP_T_FILES))
#define IFACES(b) ((struct kxp_abi_iface *)tab(b, KXP_T_IFACES))
#define LISTEN(b) ((struct kxp_abi_listen *)tab(b, KXP_T_LISTEN))
#define PEERS(b) ((struct kxp_abi_peer *)tab(b, KXP_T_PEERS))
static void c_meta(uint8_t *b, size_t *l)
{
	(void)l;
	((struct kxp_abi_meta *)tab(b, KXP_T_META))->reserved = 1;
}
static void c_key_validity(uint8_t *b, size_t *l)
{
	struct kxp_abi_key *k = tab(b, KXP_T_KEYS);

	(void)l;
	k[0].from = 100;
	k[0].until = 50;
}
/* the fuzz_kxp finding: an app's second key with its first key's id */
static void c_key_twice(uint8_t *b, size_t *l)
{
	struct kxp_abi_key *k = tab(b, KXP_T_KEYS);
	struct kxp_abi_app *a = APPS(b);

	(void)l;
	for (uint32_t i = 0; i < dir(b, KXP_T_APPS)->count; i++)
		if (a[i].keys.count >= 2) {
			memcpy(k[a[i].keys.first + 1].keyid, k[a[i].keys.first].keyid,
			       sizeof(k[0].keyid));
			return;
		}
	fail_msg("the fixture has no app with two keys");
}
static void c_resources(uint8_t *b, size_t *l)
{
	(void)l;
	((struct kxp_abi_resources *)tab(b, KXP_T_RESOURCES))[0].cpu_milli = 5;
}
static void c_audit_rate(uint8_t *b, size_t *l)
{
	(void)l;
	((struct kxp_abi_resources *)tab(b, KXP_T_RESOURCES))[0].audit_burst = 0; /* rate 5 */
}
static void c_audit_burst(uint8_t *b, size_t *l)
{
	(void)l;
	((struct kxp_abi_resources *)tab(b, KXP_T_RESOURCES))[2].audit_burst = 7; /* no rate */
}
static void c_file_guest(uint8_t *b, size_t *l) { (void)l; pool_find(b, "/data")[4] = '/'; }
static void c_file_image_host(uint8_t *b, size_t *l)
{
	(void)l;
	FILES(b)[1].host = FILES(b)[0].host;
}
static void c_file_max(uint8_t *b, size_t *l) { (void)l; FILES(b)[0].max = 0; }
static void c_file_kind(uint8_t *b, size_t *l) { (void)l; FILES(b)[0].kind = 2; }
static void c_file_order(uint8_t *b, size_t *l)
{
	uint32_t g = FILES(b)[0].guest;

	(void)l;
	FILES(b)[0].guest = FILES(b)[1].guest;
	FILES(b)[1].guest = g;
}
static void c_file_nested(uint8_t *b, size_t *l)
{
	(void)l;
	memcpy(pool_find(b, "/etc/kvstore"), "/data/kvstor", 12); /* same length */
}
static void c_iface_name(uint8_t *b, size_t *l) { (void)l; pool_find(b, "net0")[0] = 'N'; }
static void c_iface_addr(uint8_t *b, size_t *l) { (void)l; IFACES(b)[0].addr = 0x0a000000; }
static void c_iface_gateway(uint8_t *b, size_t *l) { (void)l; IFACES(b)[0].gateway = 0x0b000001; }
static void c_iface_order(uint8_t *b, size_t *l) { (void)l; IFACES(b)[1].name = IFACES(b)[0].name; }
static void c_iface_run(uint8_t *b, size_t *l) { (void)l; IFACES(b)[0].listen.count = 1; }
static void c_ifaces_owned(uint8_t *b, size_t *l) { (void)l; APPS(b)[0].ifaces.count = 1; }
static void c_listen_port(uint8_t *b, size_t *l) { (void)l; LISTEN(b)[0].port = 0; }
static void c_listen_order(uint8_t *b, size_t *l)
{
	(void)l;
	LISTEN(b)[1] = LISTEN(b)[0];
}
static void c_peer_bits(uint8_t *b, size_t *l) { (void)l; PEERS(b)[0].addr |= 1; }
static void c_peer_order(uint8_t *b, size_t *l)
{
	(void)l;
	PEERS(b)[1].addr = PEERS(b)[0].addr;
	PEERS(b)[1].prefix = PEERS(b)[0].prefix;
	PEERS(b)[1].port = PEERS(b)[0].port;
}

static const struct corruption corruptions[] = {
	{"meta", c_meta, true, "table 'meta' entry 0: 1 entries (one expected) or a reserved"},
	{"key validity", c_key_validity, true, "table 'keys' entry 0: validity from 100 until 50"},
	{"key twice", c_key_twice, true, "of the same app (one key listed twice)"},
	{"resources", c_resources, true, "table 'resources' entry 0: cpu 5"},
	{"audit rate alone", c_audit_rate, true,
	 "table 'resources' entry 0: audit rate 5 with burst 0: both or neither"},
	{"audit burst alone", c_audit_burst, true,
	 "table 'resources' entry 2: audit rate 0 with burst 7: both or neither"},
	{"file guest", c_file_guest, true, "table 'files' entry 0: guest: not an absolute"},
	{"image with a host", c_file_image_host, true, "table 'files' entry 1: host: not"},
	{"file max", c_file_max, true, "table 'files' entry 0: mode 1 with max 0"},
	{"file kind", c_file_kind, true, "table 'files' entry 0: kind, mode or a reserved"},
	{"file order", c_file_order, true, "table 'files' entry 1: not sorted by guest path"},
	{"file nested", c_file_nested, true, "table 'files' entry 1: guest path inside another"},
	{"iface name", c_iface_name, true, "table 'ifaces' entry 0: name is not an interface"},
	{"iface address", c_iface_addr, true, "table 'ifaces' entry 0: address, prefix or gateway"},
	{"iface gateway", c_iface_gateway, true, "entry 0: address, prefix or gateway unusable"},
	{"iface order", c_iface_order, true, "table 'ifaces' entry 1: interfaces not sorted"},
	{"iface run", c_iface_run, true,
	 "table 'ifaces' entry 1: listen run 2+1 does not continue "
	 "at 1"},
	{"ifaces owned", c_ifaces_owned, true,
	 "table 'apps' entry 1: ifaces run 2+0 does not "
	 "continue at 1"},
	{"listen port", c_listen_port, true, "table 'listen' entry 0: port 0"},
	{"listen order", c_listen_order, true, "table 'listen' entry 1: ports not ascending"},
	{"peer bits", c_peer_bits, true, "table 'peers' entry 0: prefix 24, address bits"},
	{"peer order", c_peer_order, true, "table 'peers' entry 1: peers not ascending"},
	{"magic", c_magic, false, "bad magic"},
	{"version", c_version, false, "format version 3; this reader knows version 2"},
	{"flags", c_flags, false, "unknown header flags 0x10"},
	{"signed flag", c_signed_flag, false, "flagged as signed but carries no signature"},
	{"unsigned keyid", c_keyid, false, "unsigned policy carries a key id"},
	{"header reserved", c_hdr_reserved, false, "reserved header bytes"},
	{"truncated", c_truncate, false, "(truncated or extended)"},
	{"extended", c_extend, false, "(truncated or extended)"},
	{"body", c_body, false, "body digest mismatch"},
	{"entry size", c_entry_size, true, "table 'libs': entry size 24, expected 32"},
	{"offset", c_offset, true, "table 'keys': offset"},
	{"count", c_count, true, "table 'ipc': 4294967295 entries"},
	{"ipc count", c_ipc_count, true,
	 "fork, recycle, resources and ipc tables must match 3 apps"},
	{"string range", c_str_range, true,
	 "table 'apps' entry 0: name: string offset 0xffff out of range"},
	{"string inside", c_str_inside, true, "table 'apps' entry 1: image: string offset"},
	{"string empty", c_str_empty, true, "table 'libs' entry 1: name: empty name"},
	{"app order", c_app_order, true, "table 'apps' entry 1: apps not sorted"},
	{"lib order", c_lib_order, true, "table 'libs' entry 1: libraries not sorted"},
	{"utf8", c_utf8, true, "table 'strings' entry"},
	{"control", c_control, true, "byte 0x1b is not printable UTF-8"},
	{"c1 control", c_c1, true, "byte 0xc2 is not printable UTF-8"},
	{"pool end", c_pool_end, true, "the pool must start and end with NUL"},
	{"prov", c_prov, true, "table 'apps' entry 2: provenance index 9999 out of range"},
	{"app reserved", c_app_reserved, true, "table 'apps' entry 0: bad ipc kinds"},
	{"ipc kinds", c_ipc_kinds, true, "bad ipc kinds 0x10"},
	{"run gap", c_run_gap, true, "table 'apps' entry 1: keys run 4+1 does not continue at 3"},
	{"run long", c_run_long, true, "libs run 4+5"},
	{"orphans", c_orphans, true, "entries that no app or library owns"},
	{"loader", c_loader, true, "table 'libs' entry 0: loader, update, rollback or bind"},
	{"no signer", c_no_signer, true, "table 'libs' entry 0: no signer"},
	{"signer of another app", c_signer_app, true,
	 "table 'lib-signers' entry 1: key index 3 is not a key of the library's app"},
	{"signer order", c_signer_order, true,
	 "table 'lib-signers' entry 3: signers not ascending"},
	{"empty interval", c_iv_empty, true, "table 'intervals' entry 0: empty interval"},
	{"bound", c_iv_bound, true, "table 'intervals' entry 0: malformed version bound"},
	{"bound parts", c_iv_parts, true, "malformed version bound"},
	{"unbounded flag", c_iv_unbounded, true, "table 'intervals' entry 1: malformed"},
	{"overlap", c_iv_overlap, true, "table 'intervals' entry 3: intervals overlap"},
	{"touch", c_iv_touch, true, "table 'intervals' entry 6: intervals overlap, touch"},
	{"trust kinds", c_trust_kinds, true, "table 'trust' entry 0: bad kinds 0x0"},
	{"matrix", c_matrix, true, "table 'ipc' entry 2: kinds 0x1 disagree with the trust rules"},
	{"not mutual", c_not_mutual, true, "trust of app 0 with app 1 is not mutual"},
	{"revoked order", c_revoked_order, true,
	 "table 'revoked-keys' entry 1: revocations not ascending"},
	{"recycle", c_recycle, true, "table 'recycle' entry 1: bad allow flag"},
};

static void reader_refuses_each_corruption(void **state)
{
	struct fx f;
	size_t len;
	uint8_t *clean;

	(void)state;
	fx_init(&f);
	clean = fx_compile(&f, &len);
	for (size_t i = 0; i < sizeof(corruptions) / sizeof(corruptions[0]); i++) {
		const struct corruption *c = &corruptions[i];
		uint8_t *buf = calloc(1, len + 8); /* room for "extended" */
		size_t n = len;

		assert_non_null(buf);
		memcpy(buf, clean, len);
		c->apply(buf, &n);
		if (c->reseal)
			reseal(buf, n);
		print_message("corruption: %s\n", c->name);
		expect_refused(buf, n, c->error);
		free(buf);
	}
	free(clean);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(compile_is_deterministic),
		cmocka_unit_test(empty_policy_compiles),
		cmocka_unit_test(writer_refuses_inconsistent_models),
		cmocka_unit_test(reader_refuses_each_corruption),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
