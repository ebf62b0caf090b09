/*
 * The decision function, table-driven: allow and deny cases for all six ops,
 * each asserting the verdict, the reason and the deciding rule's provenance.
 * Requests are written as `kxpolicy explain` words and parsed by the same
 * attribute parser.  Also the manager's lookups.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_policy_fixture.h"

#define ACME "signer=a1a1a1a1a1a1a1a1"
#define LIBC "signer=1c1c1c1c1c1c1c1c"
#define CDN "signer=cdcdcdcdcdcdcdcd"
#define OLD "signer=dddddddddddddddd"
#define NEXT "signer=2727272727272727"
#define BAD_DIGEST "digest=bdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbd"
#define KV "m/kvstore.yaml"
#define BK "m/kvstore-backup.yaml"
#define WC "m/webcache.yaml"

struct dcase {
	const char *request; /* "OP attr=value ..." */
	int rc;              /* kxp_decide's return */
	enum kxp_verdict verdict;
	const char *reason;  /* substring */
	const char *file;    /* NULL: no rule */
	uint32_t line, col;
};

#define A KXP_ALLOW
#define D KXP_DENY
static const struct dcase cases[] = {
	/* boot */
	{"boot app=kvstore " ACME, 0, A, "signed by trusted key a1a1a1a1a1a1a1a1 (acme)", KV, 6, 3},
	{"boot app=nosuch " ACME, 0, D, "app 'nosuch' is not in the policy", NULL, 0, 0},
	{"boot app=kvstore", 0, D, "the image is not signed", KV, 1, 1},
	{"boot app=kvstore " CDN, 0, D, "which app kvstore does not trust", KV, 1, 1},
	{"boot app=kvstore " OLD, 0, D, "which app kvstore revokes", KV, 35, 11},
	{"boot app=kvstore " ACME " " BAD_DIGEST, 0, D, "has digest bdbd", KV, 36, 14},
	/* link */
	{"link app=kvstore lib=libkvmath version=1.17 " LIBC, 0, A, "within '>= 1.16 && < 2'",
	 KV, 10, 5},
	{"link app=kvstore lib=libkvmath version=1.16 " LIBC " requester=kvstore loader=self", 0,
	 A, "loader 'self' is within class 'self'", KV, 10, 5},
	{"link app=kvstore lib=libkvmath version=2.0 " LIBC, 0, D,
	 "version 2.0 of library libkvmath is outside '>= 1.16 && < 2'", KV, 10, 5},
	{"link app=kvstore lib=libkvmath version=1.15.99 " LIBC, 0, D, "is outside", KV, 10, 5},
	{"link app=kvstore lib=libkvmath version=1.17 " ACME, 0, D,
	 "which app kvstore trusts but not for library libkvmath", KV, 10, 5},
	{"link app=kvstore lib=libkvmath version=1.17 " LIBC " requester=webcache", 0, D,
	 "relation 'any' may not link library libkvmath into app kvstore (loader class 'self')",
	 KV, 10, 5},
	{"link app=kvstore lib=libkvmath version=1.17 " LIBC " loader=app", 0, D,
	 "(loader class 'self')", KV, 10, 5},
	{"link app=kvstore lib=libnet version=9.9 " ACME " requester=webcache", 0, A,
	 "loader 'any' is within class 'any'", KV, 16, 5},
	{"link app=kvstore lib=libnet version=9.9", 0, D, "library libnet 9.9 is not signed", KV,
	 16, 5},
	{"link app=kvstore lib=libnet version=1 " ACME " " BAD_DIGEST, 0, D, "which app kvstore "
	 "revokes", KV, 36, 14},
	{"link app=kvstore lib=libnet version=1 " OLD, 0, D, "key dddddddddddddddd, which app "
	 "kvstore revokes", KV, 35, 11},
	{"link app=kvstore lib=nolib version=1 " ACME, 0, D, "app kvstore has no rule for library "
	 "nolib", KV, 1, 1},
	{"link app=kvstore lib=libshared version=2.1.5 " ACME " loader=app", 0, A,
	 "within class 'app'", KV, 22, 5},
	{"link app=kvstore lib=libshared version=3.7 " ACME " loader=any requester=webcache", 0,
	 D, "(loader class 'app')", KV, 22, 5},
	{"link app=kvstore lib=libshared version=2.2 " ACME, 0, D, "is outside '2.1.* || >= 3'",
	 KV, 22, 5},
	{"link app=webcache lib=libhttp version=1.5 " CDN, 0, D, "outside '!= 1.5'", WC, 8, 5},
	{"link app=webcache lib=libhttp version=1.5.0.1 " CDN, 0, A, "within '!= 1.5'", WC, 8, 5},
	{"link app=nosuch lib=libhttp version=1 " CDN, 0, D, "not in the policy", NULL, 0, 0},
	/* update */
	{"update app=kvstore lib=libkvmath version=1.18 old-version=1.17 " LIBC, 0, A,
	 "update allowed, not a downgrade", KV, 10, 5},
	{"update app=kvstore lib=libkvmath version=1.17 old-version=1.17 " LIBC, 0, A,
	 "not a downgrade", KV, 10, 5},
	{"update app=kvstore lib=libkvmath version=1.17 old-version=1.18 " LIBC, 0, D,
	 "anti-rollback: version 1.17 of library libkvmath is older than the running 1.18", KV,
	 10, 5},
	{"update app=kvstore lib=libkvmath version=2.1 old-version=1.18 " LIBC, 0, D,
	 "is outside", KV, 10, 5},
	{"update app=kvstore lib=libnet version=2 old-version=1 " ACME, 0, D,
	 "may not be updated online (update: deny)", KV, 16, 5},
	{"update app=kvstore lib=libshared version=2.1.0 old-version=3.1 " ACME, 0, A,
	 "downgrade allowed", KV, 22, 5},
	{"update app=kvstore-backup lib=libkvmath version=7 old-version=6 " ACME
	 " requester=kvstore", 0, D, "(loader class 'self')", BK, 8, 5},
	/* the operator (kxctl link, kxctl update): relation any for a link; an
	 * update is judged by the update rule, not the loader class */
	{"update app=kvstore lib=libkvmath version=1.18 old-version=1.17 " LIBC " operator=true",
	 0, A, "an operator's update is allowed by update: allow (the loader class 'self' "
	 "governs links), not a downgrade", KV, 10, 5},
	{"update app=kvstore lib=libkvmath version=1.17 old-version=1.18 " LIBC " operator=true",
	 0, D, "anti-rollback", KV, 10, 5},
	{"update app=kvstore lib=libkvmath version=2.1 old-version=1.18 " LIBC " operator=true",
	 0, D, "is outside", KV, 10, 5},
	{"update app=kvstore lib=libkvmath version=1.18 old-version=1.17 " ACME " operator=true",
	 0, D, "trusts but not for library libkvmath", KV, 10, 5},
	{"update app=kvstore lib=libnet version=2 old-version=1 " ACME " operator=true", 0, D,
	 "(update: deny)", KV, 16, 5},
	{"update app=kvstore lib=libkvmath version=1.18 old-version=1.17 " LIBC
	 " requester=webcache", 0, D, "a loader of relation 'any' may not replace library "
	 "libkvmath in app kvstore (loader class 'self')", KV, 10, 5},
	{"link app=kvstore lib=libkvmath version=1.17 " LIBC " operator=true", 0, D,
	 "a loader of relation 'any' may not link library libkvmath into app kvstore (loader "
	 "class 'self'); the operator is a stranger to every app", KV, 10, 5},
	{"link app=kvstore lib=libnet version=9.9 " ACME " operator=true", 0, A,
	 "loader 'any' is within class 'any'", KV, 16, 5},
	{"link app=kvstore lib=libkvmath version=1.17 " LIBC " operator=true requester=kvstore",
	 -22, D, "an operator's request names no requester app", NULL, 0, 0},
	{"update app=kvstore lib=libkvmath version=1.18 old-version=1.17 " LIBC
	 " operator=true loader=self", -22, D, "loader relation any", NULL, 0, 0},
	/* key rotation: next-libc is trusted from 2027-01-01 until 2029-01-01
	 * (the clock is the request's now=, never the test's) */
	{"link app=kvstore lib=libkvmath version=1.17 " NEXT " now=2027-06-01", 0, A,
	 "signed by a key it accepts (next-libc)", KV, 10, 5},
	{"link app=kvstore lib=libkvmath version=1.17 " NEXT " now=2027-01-01", 0, A,
	 "(next-libc)", KV, 10, 5},
	{"link app=kvstore lib=libkvmath version=1.17 " NEXT " now=2026-12-31T23:59:59Z", 0, D,
	 "library libkvmath 1.17 is signed by key 2727272727272727 (next-libc), which app kvstore "
	 "trusts only from 2027-01-01 (now 2026-12-31T23:59:59Z)", KV, 8, 3},
	{"link app=kvstore lib=libkvmath version=1.17 " NEXT " now=2028-12-31T23:59:59Z", 0, A,
	 "(next-libc)", KV, 10, 5},
	{"link app=kvstore lib=libkvmath version=1.17 " NEXT " now=2029-01-01", 0, D,
	 "which app kvstore trusted until 2029-01-01 (now 2029-01-01): re-sign it with a current "
	 "key (kxsign resign)", KV, 8, 3},
	{"update app=kvstore lib=libkvmath version=1.18 old-version=1.17 " NEXT
	 " operator=true now=2030-01-01", 0, D, "trusted until 2029-01-01", KV, 8, 3},
	{"boot app=kvstore " NEXT " now=2028-01-01", 0, A, "trusted key 2727272727272727 "
	 "(next-libc)", KV, 8, 3},
	{"boot app=kvstore " NEXT " now=2030-01-01", 0, D, "the image is signed by key "
	 "2727272727272727 (next-libc), which app kvstore trusted until 2029-01-01", KV, 8, 3},
	{"recycle app=kvstore " NEXT " now=2030-01-01", 0, D, "trusted until 2029-01-01", KV, 8,
	 3},
	/* the other signer of libkvmath has no dates: any time */
	{"link app=kvstore lib=libkvmath version=1.17 " LIBC " now=2099-01-01", 0, A,
	 "(libc-team)", KV, 10, 5},
	/* fork: counts are the parent's before the fork */
	{"fork app=kvstore depth=2 children=15 members=63", 0, A,
	 "after the fork: 16/16 children, depth 3/3, 64/64 members", KV, 28, 3},
	{"fork app=kvstore depth=0 children=16 members=1", 0, D,
	 "already has 16 children; max-children is 16", KV, 28, 3},
	{"fork app=kvstore depth=3 children=0 members=1", 0, D,
	 "the child would be at depth 4; max-depth is 3", KV, 28, 3},
	{"fork app=kvstore depth=0 children=0 members=64", 0, D,
	 "already has 64 members; max-members is 64", KV, 28, 3},
	{"fork app=kvstore depth=4294967295 children=0 members=1", 0, D, "depth 4294967296", KV,
	 28, 3},
	{"fork app=webcache", 0, D, "max-children is 0", WC, 13, 3},
	{"fork app=kvstore-backup", 0, A, "1/4 children, depth 1/1, 2/8 members", BK, 14, 3},
	/* ipc */
	{"ipc app=kvstore peer=kvstore kind=shm family=same", 0, A,
	 "shm inside a family of app kvstore is allowed", KV, 29, 3},
	{"ipc app=kvstore-backup peer=kvstore-backup kind=shm family=same", 0, D,
	 "shm inside a family of app kvstore-backup is not allowed (only pipe)", BK, 15, 3},
	{"ipc app=kvstore peer=kvstore-backup kind=msgq", 0, A,
	 "msgq between apps kvstore and kvstore-backup is allowed by mutual trust", KV, 31, 7},
	{"ipc app=kvstore-backup peer=kvstore kind=msgq", 0, A, "allowed by mutual trust", BK, 17,
	 7},
	{"ipc app=kvstore-backup requester=kvstore kind=msgq", 0, A, "allowed by mutual trust", BK,
	 17, 7},
	{"ipc app=kvstore peer=kvstore-backup kind=pipe", 0, D, "covers msgq, not pipe", KV, 31,
	 7},
	{"ipc app=kvstore peer=webcache kind=pipe", 0, D,
	 "apps kvstore and webcache do not trust each other across families", KV, 1, 1},
	{"ipc app=kvstore peer=kvstore kind=pipe family=other", 0, D,
	 "do not trust each other across families", KV, 1, 1},
	{"ipc app=kvstore peer=nosuch kind=pipe", 0, D, "peer app 'nosuch' is not in the policy",
	 NULL, 0, 0},
	/* recycle */
	{"recycle app=kvstore " ACME, 0, A, "may be recycled (pool 4)", KV, 33, 3},
	{"recycle app=webcache " CDN " loader=self", 0, A, "(pool 2)", WC, 16, 3},
	{"recycle app=kvstore-backup " ACME, 0, D, "may not be recycled", BK, 19, 3},
	{"recycle app=kvstore " ACME " loader=app", 0, D,
	 "only the empty pVM itself may load app kvstore", KV, 33, 3},
	{"recycle app=kvstore " OLD, 0, D, "revokes", KV, 35, 11},
	{"recycle app=kvstore", 0, D, "the app image is not signed", KV, 1, 1},
	/* file: the rule covering the mount point, the same place below the
	 * host root, the kind, the mode */
	{"file app=kvstore guest=/data host=/var/lib/kvstore mode=rw", 0, A,
	 "may mount host /var/lib/kvstore at /data read-write, at most 1073741824 bytes",
	 KV, 41, 5},
	{"file app=kvstore guest=/data/db host=/var/lib/kvstore/db", 0, A,
	 "may mount host /var/lib/kvstore/db at /data/db read-only (the rule allows read-write)",
	 KV, 41, 5},
	{"file app=kvstore guest=/data/db host=/var/lib/other/db", 0, D,
	 "guest path /data/db is host path /var/lib/kvstore/db under this rule, not "
	 "/var/lib/other/db", KV, 41, 5},
	{"file app=kvstore guest=/database host=/var/lib/kvstore", 0, D,
	 "app kvstore has no files rule for guest path /database", KV, 1, 1},
	{"file app=kvstore guest=/etc/kvstore image=true", 0, A,
	 "may mount the image's own tree at /etc/kvstore, read-only", KV, 40, 5},
	{"file app=kvstore guest=/etc/kvstore/conf.d image=true", 0, A, "image's own tree", KV,
	 40, 5},
	{"file app=kvstore guest=/etc/kvstore image=true mode=rw", 0, D,
	 "/etc/kvstore is read-only (mode: ro): it may not be mounted rw", KV, 40, 5},
	{"file app=kvstore guest=/etc/kvstore host=/etc/kvstore", 0, D,
	 "/etc/kvstore is the image's own tree (image: true), not a host directory", KV, 40, 5},
	{"file app=kvstore guest=/data image=true", 0, D,
	 "/data is host directory /var/lib/kvstore, not the image's tree", KV, 41, 5},
	{"file app=kvstore-backup guest=/data host=/var/lib/kvstore", 0, D,
	 "app kvstore-backup has no files rule for guest path /data", BK, 1, 1},
	{"file app=nosuch guest=/data host=/var/lib/kvstore", 0, D, "not in the policy", NULL, 0,
	 0},
	/* net: attach, then the monitor's per-frame questions */
	{"net app=kvstore iface=net0", 0, A,
	 "may have interface net0, address 10.0.0.2/24 (2 listen ports, 3 peers)", KV, 43, 5},
	{"net app=kvstore iface=net1", 0, A, "address 172.16.0.9/31 (1 listen ports, 0 peers)",
	 KV, 47, 5},
	{"net app=kvstore iface=eth0", 0, D, "app kvstore has no network interface eth0", KV, 1,
	 1},
	{"net app=kvstore-backup iface=net0", 0, D, "has no network interface net0", BK, 1, 1},
	{"net app=kvstore iface=net0 listen=6379", 0, A, "may accept on tcp port 6379 on net0",
	 KV, 45, 14},
	{"net app=kvstore iface=net0 listen=udp/5353", 0, A, "udp port 5353", KV, 45, 20},
	{"net app=kvstore iface=net0 listen=udp/6379", 0, D,
	 "app kvstore does not listen on udp port 6379 on net0", KV, 43, 5},
	{"net app=kvstore iface=net1 listen=6379", 0, D, "does not listen on tcp port 6379 on net1",
	 KV, 47, 5},
	{"net app=kvstore iface=net0 connect=10.0.0.77:1234", 0, A,
	 "may reach 10.0.0.77:1234 from net0 (connect 10.0.0.0/24:*)", KV, 46, 15},
	{"net app=kvstore iface=net0 connect=10.0.1.77:1234", 0, D,
	 "app kvstore may not reach 10.0.1.77:1234 from net0 (no connect peer covers it)", KV,
	 43, 5},
	{"net app=kvstore iface=net0 connect=192.168.1.5:443", 0, A, "(connect 192.168.1.5:443)",
	 KV, 46, 30},
	{"net app=kvstore iface=net0 connect=192.168.1.5:80", 0, D, "may not reach", KV, 43, 5},
	{"net app=kvstore iface=net0 connect=udp/10.0.0.1:53", 0, A, "(connect udp/10.0.0.1:53)",
	 KV, 46, 47},
	{"net app=kvstore iface=net0 connect=udp/10.0.0.9:53", 0, D,
	 "may not reach udp/10.0.0.9:53", KV, 43, 5},
	{"net app=nosuch iface=net0", 0, D, "not in the policy", NULL, 0, 0},
	/* malformed requests: -EINVAL, and still DENY */
	{"file app=kvstore guest=/data/../etc host=/etc", -22, D, "file needs guest=", NULL, 0, 0},
	{"file app=kvstore guest=data host=/var/lib/kvstore", -22, D, "absolute normalised", NULL,
	 0, 0},
	{"file app=kvstore guest=/data/ host=/var/lib/kvstore/", -22, D, "no '..'", NULL, 0, 0},
	{"file app=kvstore guest=/data", -22, D, "host= or image=true", NULL, 0, 0},
	{"file app=kvstore guest=/data host=/var/lib/kvstore image=true", -22, D,
	 "host= or image=true", NULL, 0, 0},
	{"net app=kvstore listen=6379", -22, D, "net needs iface=", NULL, 0, 0},
	{"link app=kvstore lib=libkvmath " LIBC, -22, D, "link needs lib= and a valid version=",
	 NULL, 0, 0},
	{"update app=kvstore lib=libkvmath version=1.17 " LIBC, -22, D, "needs a valid "
	 "old-version=", NULL, 0, 0},
	{"link app=kvstore lib=libkvmath version=1.17 requester=kvstore loader=any", -22, D,
	 "disagree", NULL, 0, 0},
	{"link app=kvstore lib=libkvmath version=1.17 requester=webcache loader=self", -22, D,
	 "disagree", NULL, 0, 0},
	{"ipc app=kvstore peer=webcache kind=pipe family=same", -22, D, "a family holds one app",
	 NULL, 0, 0},
	{"ipc app=kvstore peer=kvstore", -22, D, "exactly one kind=", NULL, 0, 0},
	{"fork depth=1", -22, D, "fork needs app=", NULL, 0, 0},
};

static void run_case(const struct kxp_policy *p, const struct dcase *c)
{
	struct kxp_request req;
	struct kxp_decision d;
	struct kx_error err = {{0}};
	char *words = NULL;
	int rc;

	if (fx_request(c->request, &req, &words, &err) != 0)
		fail_msg("%s: %s", c->request, err.msg);
	rc = kxp_decide(p, &req, &d);
	if (rc != c->rc || d.verdict != c->verdict || strstr(d.reason, c->reason) == NULL)
		fail_msg("%s\n  got rc %d %s: %s\n  want rc %d %s: ...%s...", c->request, rc,
			 d.verdict == KXP_ALLOW ? "ALLOW" : "DENY", d.reason, c->rc,
			 c->verdict == KXP_ALLOW ? "ALLOW" : "DENY", c->reason);
	if (c->file == NULL) {
		assert_false(d.has_rule);
	} else {
		if (!d.has_rule || strcmp(d.rule.file, c->file) != 0 || d.rule.line != c->line ||
		    d.rule.col != c->col)
			fail_msg("%s: rule %s:%u:%u, want %s:%u:%u", c->request,
				 d.has_rule ? d.rule.file : "(none)", d.rule.line, d.rule.col,
				 c->file, c->line, c->col);
		assert_true(strlen(d.rule.desc) > 0);
	}
	free(words);
}

static void decisions_match_the_table(void **state)
{
	struct fx f;
	struct kxp_policy *p;
	unsigned seen[KXP_OP_COUNT][2] = {{0}};

	(void)state;
	fx_init(&f);
	p = fx_open(&f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum kxp_op op;
		char verb[16];

		run_case(p, &cases[i]);
		sscanf(cases[i].request, "%15s", verb);
		assert_int_equal(kxp_op_parse(verb, &op), 0);
		if (cases[i].rc == 0)
			seen[op][cases[i].verdict]++;
	}
	/* the table itself covers an allow and a deny for every op */
	for (int op = 0; op < KXP_OP_COUNT; op++) {
		assert_true(seen[op][KXP_ALLOW] > 0);
		assert_true(seen[op][KXP_DENY] > 0);
	}
	kxp_close(p);
}

static void attribute_parser_rejects_bad_words(void **state)
{
	const char *bad[] = {"app", "nosuch=1", "version=1..2", "signer=a1a1", "kind=socket",
			     "loader=all", "depth=-1", "children=4294967296", "family=maybe",
			     "digest=zz", "=x", "image=maybe", "mode=rx", "listen=0",
			     "listen=65536", "listen=tcp/", "listen=sctp/80", "connect=10.0.0.1",
			     "connect=10.0.0.0/24:80", "connect=10.0.0.1:*", "connect=1.2.3:4",
			     "connect=010.0.0.1:80", "connect=udp/10.0.0.1:0"};
	struct kxp_request req;
	struct kx_error err = {{0}};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(kxp_request_parse(&req, KXP_OP_LINK, &bad[i], 1, &err), -22);
		assert_non_null(strstr(err.msg, bad[i]));
	}
	/* ipc between pVMs of one app: same family unless family= says otherwise */
	assert_int_equal(kxp_request_parse(&req, KXP_OP_IPC,
					   (const char *[]){"app=a", "peer=a"}, 2, &err), 0);
	assert_true(req.same_family);
	assert_int_equal(kxp_request_parse(&req, KXP_OP_IPC,
					   (const char *[]){"app=a", "requester=a", "family=other"},
					   3, &err), 0);
	assert_false(req.same_family);
	assert_int_equal(req.members, 1);
}

static void lookups_for_the_manager(void **state)
{
	struct fx f;
	struct kxp_policy *p;
	struct kxp_app_info ai;
	struct kxp_lib_info li;
	struct kxsig_pubkey keys[4];
	size_t n;

	(void)state;
	fx_init(&f);
	/* kvstore revokes acme too: it must vanish from every trusted set */
	memset(f.revoked_keyids[0][1], FX_ACME, KXSIG_KEYID_BYTES);
	f.revoked_keyid_src[0][1] = f.revoked_keyid_src[0][0];
	f.apps[0].revoked.nkeyids = 2;
	p = fx_open(&f);

	assert_int_equal(kxp_app_lookup(p, "kvstore", &ai), 0);
	assert_string_equal(ai.image, "apps/kvstore.kxe");
	assert_int_equal(ai.memory, 64 << 20);
	assert_int_equal(ai.max_children, 16);
	assert_true(ai.recycle_allow);
	assert_int_equal(ai.recycle_pool, 4);
	assert_int_equal(ai.nlibs, 3);
	assert_int_equal(kxp_app_lookup(p, "kvstore-backu", &ai), -ENOENT);

	assert_int_equal(kxp_lib_lookup(p, "kvstore", "libnet", &li), 0);
	assert_int_equal(li.bind, KXP_BIND_NOW);
	assert_int_equal(li.loader, KXP_REL_ANY);
	assert_false(li.update);
	assert_int_equal(kxp_lib_lookup(p, "kvstore", "libnope", &li), -ENOENT);

	assert_int_equal(kxp_app_trusted_keys(p, "kvstore", keys, 4, &n), 0);
	assert_int_equal(n, 2); /* the signature is checked against keys out of their dates too:
				 * kxp_decide then says the key expired, not that it is unknown */
	assert_int_equal(keys[0].keyid[0], FX_LIBC);
	assert_int_equal(keys[0].pk[31], FX_LIBC);
	assert_int_equal(keys[1].keyid[0], FX_NEXT);
	assert_int_equal(kxp_lib_trusted_keys(p, "kvstore", "libnet", keys, 4, &n), 0);
	assert_int_equal(n, 1); /* acme and libc-team, minus revoked acme */
	assert_int_equal(kxp_lib_trusted_keys(p, "kvstore", "libshared", keys, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(kxp_app_trusted_keys(p, "kvstore-backup", keys, 0, &n), -ENOSPC);
	assert_int_equal(n, 1);
	assert_int_equal(kxp_app_trusted_keys(p, "nosuch", keys, 4, &n), -ENOENT);
	kxp_close(p);
}

/* files, network and resources, as kxd and the jail read them */
static void lookups_outside_the_pvm(void **state)
{
	struct fx f;
	struct kxp_policy *p;
	struct kxp_app_info ai;
	struct kxp_file_info fi;
	struct kxp_net_rules nr;

	(void)state;
	fx_init(&f);
	p = fx_open(&f);
	assert_int_equal(kxp_app_lookup(p, "kvstore", &ai), 0);
	assert_int_equal(ai.cpu_milli, 1000);
	assert_int_equal(ai.pids, 64);
	assert_int_equal(ai.nfiles, 2);
	assert_int_equal(ai.nifaces, 2);
	assert_int_equal(kxp_app_lookup(p, "webcache", &ai), 0);
	assert_int_equal(ai.cpu_milli, 0); /* not given: the manager's default */
	assert_int_equal(ai.nfiles, 0);

	assert_int_equal(kxp_file_at(p, "kvstore", 0, &fi), 0);
	assert_string_equal(fi.guest, "/data");
	assert_string_equal(fi.host, "/var/lib/kvstore");
	assert_int_equal(fi.mode, KXP_MODE_RW);
	assert_int_equal(fi.max, 1u << 30);
	assert_int_equal(kxp_file_at(p, "kvstore", 1, &fi), 0);
	assert_string_equal(fi.guest, "/etc/kvstore");
	assert_null(fi.host);
	assert_int_equal(fi.mode, KXP_MODE_RO);
	assert_int_equal(kxp_file_at(p, "kvstore", 2, &fi), -ENOENT);
	assert_int_equal(kxp_file_at(p, "nosuch", 0, &fi), -ENOENT);

	assert_string_equal(kxp_iface_name_at(p, "kvstore", 0), "net0");
	assert_string_equal(kxp_iface_name_at(p, "kvstore", 1), "net1");
	assert_null(kxp_iface_name_at(p, "kvstore", 2));
	assert_null(kxp_iface_name_at(p, "webcache", 0));
	assert_int_equal(kxp_net_rules(p, "kvstore", "eth0", &nr), -ENOENT);
	assert_int_equal(kxp_net_rules(p, "kvstore", "net0", &nr), 0);
	assert_true(kxp_net_rules_ok(&nr));
	assert_string_equal(nr.iface, "net0");
	assert_int_equal(nr.addr, 0x0a000002);
	assert_int_equal(nr.gateway, 0x0a000001);
	assert_int_equal(nr.prefix, 24);
	assert_int_equal(nr.nlisten, 2);
	assert_int_equal(nr.npeers, 3);
	kxp_close(p);
}

/* bad = good spoiled the k-th way a received table can be wrong: 1, or 0
 * past the last way. */
static int spoil(struct kxp_net_rules *bad, const struct kxp_net_rules *good, int k)
{
	*bad = *good;
	switch (k) {
	case 0:
		bad->nlisten = KXP_NET_LISTEN_MAX + 1;
		break;
	case 1:
		bad->npeers = KXP_NET_PEERS_MAX + 1;
		break;
	case 2:
		memset(bad->iface, 'x', sizeof(bad->iface)); /* no NUL */
		break;
	case 3:
		bad->prefix = 33;
		break;
	case 4:
		bad->gateway = 0x0b000001; /* outside 10.0.0.0/24 */
		break;
	case 5:
		bad->listen[0].port = 0;
		break;
	case 6:
		bad->peers[0].addr |= 1; /* bits beyond /24 */
		break;
	case 7:
		bad->peers[2].proto = 1;
		break;
	default:
		return 0;
	}
	return 1;
}

/* The plain-data table the monitor gets: its checks of a received table and
 * its per-frame questions, table-driven. */
static void net_rules_as_plain_data(void **state)
{
	static const struct {
		uint8_t proto;
		uint32_t addr; /* 0: a listen question */
		uint16_t port;
		int want; /* index of the entry that allows it, or -1 */
	} q[] = {
		{KXP_NET_PROTO_TCP, 0, 6379, 0},
		{KXP_NET_PROTO_UDP, 0, 5353, 1},
		{KXP_NET_PROTO_UDP, 0, 6379, -1},
		{KXP_NET_PROTO_TCP, 0, 5353, -1},
		{KXP_NET_PROTO_TCP, 0, 1, -1},
		{KXP_NET_PROTO_TCP, 0x0a000000, 1, 0},     /* 10.0.0.0, any port */
		{KXP_NET_PROTO_TCP, 0x0a0000ff, 65535, 0}, /* 10.0.0.255 */
		{KXP_NET_PROTO_TCP, 0x0a000100, 1, -1},    /* 10.0.1.0 */
		{KXP_NET_PROTO_TCP, 0x09ffffff, 1, -1},    /* 9.255.255.255 */
		{KXP_NET_PROTO_TCP, 0xc0a80105, 443, 1},   /* 192.168.1.5 */
		{KXP_NET_PROTO_TCP, 0xc0a80105, 444, -1},
		{KXP_NET_PROTO_TCP, 0xc0a80104, 443, -1},
		{KXP_NET_PROTO_UDP, 0x0a000001, 53, 2},
		{KXP_NET_PROTO_UDP, 0x0a000001, 54, -1},
		{KXP_NET_PROTO_UDP, 0x0a000002, 53, -1}, /* TCP's /24 says nothing of UDP */
	};
	struct fx f;
	struct kxp_policy *p;
	struct kxp_net_rules nr, bad;

	(void)state;
	fx_init(&f);
	p = fx_open(&f);
	assert_int_equal(kxp_net_rules(p, "kvstore", "net0", &nr), 0);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		int got = q[i].addr == 0 ? kxp_net_listen_match(&nr, q[i].proto, q[i].port)
					 : kxp_net_connect_match(&nr, q[i].proto, q[i].addr,
								 q[i].port);

		if (got != q[i].want)
			fail_msg("question %zu: entry %d, expected %d", i, got, q[i].want);
	}
	/* a table that came over a channel is checked before use: each way of
	 * spoiling the good one alone is refused */
	assert_true(kxp_net_rules_ok(&nr));
	for (int k = 0; spoil(&bad, &nr, k); k++)
		if (kxp_net_rules_ok(&bad))
			fail_msg("spoiled table %d accepted", k);
	kxp_close(p);
}

static void names_round_trip(void **state)
{
	enum kxp_op op;

	(void)state;
	for (int i = 0; i < KXP_OP_COUNT; i++) {
		assert_int_equal(kxp_op_parse(kxp_op_name((enum kxp_op)i), &op), 0);
		assert_int_equal(op, i);
	}
	assert_int_equal(kxp_op_parse("reboot", &op), -22);
	assert_string_equal(kxp_relation_name(KXP_REL_APP), "app");
	assert_string_equal(kxp_ipc_kind_name(KXP_IPC_MSGQ), "msgq");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decisions_match_the_table),
		cmocka_unit_test(attribute_parser_rejects_bad_words),
		cmocka_unit_test(lookups_for_the_manager),
		cmocka_unit_test(lookups_outside_the_pvm),
		cmocka_unit_test(net_rules_as_plain_data),
		cmocka_unit_test(names_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
