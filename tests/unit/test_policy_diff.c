/*
 * The auditor's tools on the fixture: diff compares meaning (renamed keys,
 * moved lines and respelled version ranges are the same policy; each real
 * change shows as +/- facts), dump prints canonical text with provenance,
 * graph prints DOT.
 */
#define _GNU_SOURCE /* open_memstream */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_policy_fixture.h"

/* The diff of the fixture against a modified copy: returns the output
 * (malloc'd) and whether they differ. */
static char *diff_against(const struct fx *changed, bool *differ)
{
	struct fx base;
	struct kxp_policy *a, *b;
	struct kx_error err = {{0}};
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	assert_non_null(f);
	fx_init(&base);
	a = fx_open(&base);
	b = fx_open(changed);
	assert_int_equal(kxp_diff(f, a, b, differ, &err), 0);
	fclose(f);
	kxp_close(a);
	kxp_close(b);
	return out;
}

static void expect_same(const struct fx *changed)
{
	bool differ = true;
	char *out = diff_against(changed, &differ);

	if (differ || out[0] != '\0')
		fail_msg("expected no difference, got:\n%s", out);
	free(out);
}

static void expect_diff(const struct fx *changed, const char *want)
{
	bool differ = false;
	char *out = diff_against(changed, &differ);

	assert_true(differ);
	if (strcmp(out, want) != 0)
		fail_msg("diff output:\n%s\nwanted:\n%s", out, want);
	free(out);
}

static void same_meaning_is_same(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	expect_same(&f);

	/* key names, key file paths and every line number are not permissions */
	f.keys[0][0].name = (char *)"acme-corp";
	f.keys[0][0].path = (char *)"elsewhere/acme.pub";
	f.libs[0][1].src.line = 99;
	f.apps[2].fork.src.line = 42;
	f.libs[0][0].version_text = (char *)"> 1.15.4294967295.4294967295 && <= 1.99";
	/* (1.15.max.max, ...) starts at 1.16 exactly */
	f.iv[0][0][0].lo = fx_bound("1.15.4294967295.4294967295", false);
	/* [2.1, 2.1.5] U [2.1.5.1, 2.2) is [2.1, 2.2) */
	f.iv[0][2][0] = (struct pm_interval){fx_bound("2.1", true), fx_bound("2.1.5", true)};
	f.iv[0][2][1] = (struct pm_interval){fx_bound("2.1.5.1", true), fx_bound("2.2", false)};
	f.iv[0][2][2] = (struct pm_interval){fx_bound("3", true), fx_bound(NULL, false)};
	f.libs[0][2].version.n = 3;
	expect_same(&f);
}

static void changes_are_facts(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	f.libs[0][0].loader = PM_LOADER_APP;
	expect_diff(&f, "+ app kvstore: lib libkvmath: loader app\n"
			"- app kvstore: lib libkvmath: loader self\n");

	fx_init(&f);
	f.trust[0][0].kinds |= PM_IPC_PIPE;
	f.trust[1][0].kinds |= PM_IPC_PIPE;
	expect_diff(&f, "+ ipc trust kvstore <-> kvstore-backup: pipe\n");

	fx_init(&f);
	f.apps[0].revoked.ndigests = 0;
	expect_diff(&f, "- app kvstore: revoked digest "
			"bdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbd\n");

	/* revoking a trusted key removes it everywhere it counted */
	fx_init(&f);
	memset(f.revoked_keyids[0][1], FX_LIBC, KXSIG_KEYID_BYTES);
	f.revoked_keyid_src[0][1] = f.revoked_keyid_src[0][0];
	f.apps[0].revoked.nkeyids = 2;
	expect_diff(&f, "- app kvstore: lib libkvmath: signer 1c1c1c1c1c1c1c1c\n"
			"- app kvstore: lib libnet: signer 1c1c1c1c1c1c1c1c\n"
			"- app kvstore: trusts key 1c1c1c1c1c1c1c1c\n");

	/* rollback only matters for libraries that may be updated */
	fx_init(&f);
	f.libs[0][0].update = false;
	expect_diff(&f, "- app kvstore: lib libkvmath: rollback deny\n"
			"- app kvstore: lib libkvmath: update allow\n"
			"+ app kvstore: lib libkvmath: update deny\n");
	fx_init(&f);
	f.libs[0][1].allow_downgrade = true; /* libnet: update deny */
	expect_same(&f);

	fx_init(&f);
	f.iv[2][0][0].hi = fx_bound("1.4", false); /* libhttp: != 1.5 -> < 1.4 || > 1.5 */
	expect_diff(&f, "+ app webcache: lib libhttp: version < 1.4\n"
			"- app webcache: lib libhttp: version < 1.5\n");

	fx_init(&f);
	f.apps[1].recycle.pool = 9; /* not recyclable: the pool is not a permission */
	expect_same(&f);
	f.apps[1].recycle.allow = true;
	expect_diff(&f, "+ app kvstore-backup: recycle allow, pool 9\n"
			"- app kvstore-backup: recycle deny\n");

	/* files: a mount turned read-only; the image's tree dropped */
	fx_init(&f);
	f.mounts[0][0].mode = PM_MODE_RO;
	f.mounts[0][0].max = 0;
	f.apps[0].nfiles = 1; /* /data only: the rules are sorted by guest path */
	expect_diff(&f, "+ app kvstore: file /data: host /var/lib/kvstore, ro\n"
			"- app kvstore: file /data: host /var/lib/kvstore, rw, max 1073741824\n"
			"- app kvstore: file /etc/kvstore: the image's tree, ro\n");

	/* network: a port, a peer, the address; resources */
	fx_init(&f);
	f.listen[0][0][0].port = 6380;
	f.peers[0][0][1].port = 0;
	f.ifaces[0][1].addr += 1;
	f.apps[0].resources.cpu_milli = 500;
	f.apps[2].resources.pids = 32;
	expect_diff(&f, "+ app kvstore: iface net0: connect 192.168.1.5:*\n"
			"- app kvstore: iface net0: connect 192.168.1.5:443\n"
			"- app kvstore: iface net0: listen tcp/6379\n"
			"+ app kvstore: iface net0: listen tcp/6380\n"
			"+ app kvstore: iface net1: address 172.16.0.10/31\n"
			"- app kvstore: iface net1: address 172.16.0.9/31\n"
			"+ app kvstore: resources cpu 0.500\n"
			"- app kvstore: resources cpu 1.000\n"
			"+ app webcache: resources pids 32\n"
			"- app webcache: resources pids default\n");
}

static char *capture(const struct kxp_policy *p, int what)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	assert_non_null(f);
	if (what == 2)
		assert_int_equal(kxp_graph(f, p), 0);
	else
		assert_int_equal(kxp_dump(f, p, what == 1), 0);
	fclose(f);
	return out;
}

static void dump_is_canonical_with_provenance(void **state)
{
	const char *want[] = {
		"# kx policy, format 2, serial 0: 3 apps, 5 libraries; unsigned\n"
		"app kvstore  @ m/kvstore.yaml:1:1\n"
		"  image apps/kvstore.kxe\n  memory 67108864\n"
		"  key acme a1a1a1a1a1a1a1a1 keys/acme.pub  @ m/kvstore.yaml:6:3\n",
		"  key next-libc 2727272727272727 keys/next-libc.pub from 2027-01-01 until "
		"2029-01-01  @ m/kvstore.yaml:8:3\n"
		"  library libkvmath  @ m/kvstore.yaml:10:5\n"
		"    version '>= 1.16 && < 2' = [1.16, 2)\n"
		"    signed-by libc-team (1c1c1c1c1c1c1c1c), next-libc (2727272727272727)\n"
		"    loader self, update allow, rollback deny, bind lazy\n",
		"    version '2.1.* || >= 3' = [2.1, 2.2) U [3, +inf)\n",
		"    version '!= 1.5' = (-inf, 1.5) U (1.5, +inf)\n",
		"  fork max-children 16, max-depth 3, max-members 64  @ m/kvstore.yaml:28:3\n"
		"  ipc pipe,signal,msgq,shm  @ m/kvstore.yaml:29:3\n"
		"  trust kvstore-backup msgq  @ m/kvstore.yaml:31:7\n"
		"  recycle allow, pool 4  @ m/kvstore.yaml:33:3\n"
		"  revoked key dddddddddddddddd  @ m/kvstore.yaml:35:11\n",
		"\"trust\": [{\"peer\": \"kvstore\", \"kinds\": [\"msgq\"], \"source\": {\"file\": "
		"\"m/kvstore-backup.yaml\", \"line\": 17, \"col\": 7}}]",
		"\"app0\" -- \"app1\" [label=\"trust: msgq\"",
		"\"app0\" -- \"lib1\" [label=\"loader any\", style=dashed]",
		"  resources cpu 1.000, pids 64  @ m/kvstore.yaml:48:12\n"
		"  audit rate 5 a second, burst 10  @ m/kvstore.yaml:1:1\n"
		"  file /data: host /var/lib/kvstore, rw, max 1073741824  @ m/kvstore.yaml:41:5\n"
		"  file /etc/kvstore: the image's tree, ro  @ m/kvstore.yaml:40:5\n"
		"  iface net0 10.0.0.2/24, gateway 10.0.0.1  @ m/kvstore.yaml:43:5\n"
		"    listen 6379  @ m/kvstore.yaml:45:14\n"
		"    listen udp/5353  @ m/kvstore.yaml:45:20\n"
		"    connect 10.0.0.0/24:*  @ m/kvstore.yaml:46:15\n"
		"    connect 192.168.1.5:443  @ m/kvstore.yaml:46:30\n"
		"    connect udp/10.0.0.1:53  @ m/kvstore.yaml:46:47\n"
		"  iface net1 172.16.0.9/31  @ m/kvstore.yaml:47:5\n",
		"  resources cpu default, pids default  @ m/kvstore-backup.yaml:1:1\n",
		"\"files\": [{\"guest\": \"/data\", \"host\": \"/var/lib/kvstore\", \"image\": "
		"false, "
		"\"mode\": \"rw\", \"max\": 1073741824, ",
		"\"connect\": [{\"proto\": \"tcp\", \"address\": \"10.0.0.0\", \"prefix\": 24, "
		"\"port\": null, ",
		"\"file0\" [shape=folder, label=\"/var/lib/kvstore\"];\n"
		"\t\"app0\" -- \"file0\" [label=\"/data rw\", style=bold];\n",
		"\"iface0\" [shape=diamond, label=\"net0\\n10.0.0.2/24\\nlisten 2, connect 3\"]",
	};
	struct fx f;
	struct kxp_policy *p;
	char *text, *json, *dot, *again;

	(void)state;
	fx_init(&f);
	p = fx_open(&f);
	text = capture(p, 0);
	json = capture(p, 1);
	dot = capture(p, 2);
	again = capture(p, 0);
	assert_string_equal(text, again); /* stable */
	assert_true(strncmp(text, want[0], strlen(want[0])) == 0);
	for (size_t i = 1; i < 5; i++)
		if (strstr(text, want[i]) == NULL)
			fail_msg("dump lacks:\n%s\ndump:\n%s", want[i], text);
	assert_non_null(strstr(json, want[5]));
	assert_non_null(strstr(dot, want[6]));
	assert_non_null(strstr(dot, want[7]));
	for (size_t i = 8; i < 10; i++)
		if (strstr(text, want[i]) == NULL)
			fail_msg("dump lacks:\n%s\ndump:\n%s", want[i], text);
	for (size_t i = 10; i < 12; i++)
		if (strstr(json, want[i]) == NULL)
			fail_msg("JSON dump lacks:\n%s\ndump:\n%s", want[i], json);
	for (size_t i = 12; i < 14; i++)
		if (strstr(dot, want[i]) == NULL)
			fail_msg("graph lacks:\n%s\ngraph:\n%s", want[i], dot);
	assert_true(strncmp(dot, "graph kxpolicy {", 16) == 0);
	free(text);
	free(json);
	free(dot);
	free(again);
	kxp_close(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_meaning_is_same),
		cmocka_unit_test(changes_are_facts),
		cmocka_unit_test(dump_is_canonical_with_provenance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
