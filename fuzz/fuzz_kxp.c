/*
 * Fuzz harness for the .kxp table reader (kxp_open) and everything that runs
 * on an open policy: dump (text and JSON), graph, diff, the lookups and the
 * decision function.  Input: arbitrary bytes, untrusted.
 *
 * Each input is tried twice: as it is (header and digest checks), and with
 * its body digest recomputed, so that mutations reach the table checks
 * instead of dying at the BLAKE2b comparison.  Invariants checked: a policy
 * is never different from itself (diff), every well-formed request built
 * from the policy's own names is decided (kxp_decide returns 0), and every
 * interface's rules are a table a monitor accepts; the serial and body
 * digest kxd keeps are the file's.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "policy-lang/back.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_APPS 8 /* bound the work per input */

static FILE *sink;

static void decide_or_die(const struct kxp_policy *p, const struct kxp_request *req)
{
	struct kxp_decision d;

	if (kxp_decide(p, req, &d) != 0) {
		fprintf(stderr, "well-formed %s request refused as malformed: %s\n",
			kxp_op_name(req->op), d.reason);
		abort();
	}
}

static void requests_for_app(const struct kxp_policy *p, uint32_t a)
{
	const struct kxp_abi_app *app = &p->apps[a];
	const char *name = kxp_str(p, app->name);
	struct kxp_request req;
	struct kxp_app_info ai;
	struct kxsig_pubkey keys[4];
	size_t n;

	kxp_app_lookup(p, name, &ai);
	kxp_app_trusted_keys(p, name, keys, 4, &n);
	kxp_request_init(&req, KXP_OP_BOOT);
	req.app = name;
	if (app->keys.count > 0) {
		req.has_signer = true;
		memcpy(req.signer, p->keys[app->keys.first].keyid, sizeof(req.signer));
	}
	decide_or_die(p, &req);
	req.op = KXP_OP_RECYCLE;
	decide_or_die(p, &req);
	/* each key at the edges of its validity (hostile dates included) */
	req.op = KXP_OP_BOOT;
	for (uint32_t k = app->keys.first; k < app->keys.first + app->keys.count && k < 64; k++) {
		const int64_t at[] = {p->keys[k].from, p->keys[k].from - 1, p->keys[k].until,
				      p->keys[k].until - 1, INT64_MAX};
		struct kxp_decision d;

		memcpy(req.signer, p->keys[k].keyid, sizeof(req.signer));
		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			req.now = at[i] > 0 ? at[i] : 1;
			decide_or_die(p, &req);
			kxp_decide(p, &req, &d);
			if (d.verdict == KXP_ALLOW && (!d.has_key ||
			    (p->keys[k].from && req.now < p->keys[k].from) ||
			    (p->keys[k].until && req.now >= p->keys[k].until))) {
				fprintf(stderr, "a key outside its dates was relied on\n");
				abort();
			}
		}
	}
	req.now = 0;
	for (uint32_t l = app->libs.first; l < app->libs.first + app->libs.count && l < 64; l++) {
		const struct kxp_abi_lib *lib = &p->libs[l];
		const struct kxp_abi_version *lo = &p->intervals[lib->intervals.first].lo;
		struct kxp_lib_info li;

		req.op = KXP_OP_LINK;
		req.lib = kxp_str(p, lib->name);
		kxp_lib_lookup(p, name, req.lib, &li);
		kxp_lib_trusted_keys(p, name, req.lib, keys, 4, &n);
		req.has_version = true;
		memset(&req.version, 0, sizeof(req.version));
		memcpy(req.version.part, lo->part, sizeof(req.version.part));
		req.version.nparts = lo->nparts ? lo->nparts : 1;
		req.has_relation = true;
		req.relation = (enum kxp_relation)(l % 3);
		decide_or_die(p, &req);
		req.op = KXP_OP_UPDATE;
		req.has_old_version = true;
		req.old_version = req.version;
		req.old_version.part[0] ^= 1;
		decide_or_die(p, &req);
	}
	kxp_request_init(&req, KXP_OP_FORK);
	req.app = name;
	req.depth = a;
	decide_or_die(p, &req);
	/* what kxd's IpC broker asks: caps in range, namespaces open only
	 * along the (symmetric) trust matrix */
	if (ai.ipc_objects < 1 || ai.ipc_objects > KXP_ABI_IPC_OBJECTS_MAX)
		abort();
	req.op = KXP_OP_IPC;
	for (uint32_t peer = 0; peer < p->napps && peer < MAX_APPS; peer++) {
		const char *pn = kxp_str(p, p->apps[peer].name);

		if (kxp_ipc_trust_kinds(p, name, pn) != kxp_ipc_trust_kinds(p, pn, name) ||
		    (peer == a && kxp_ipc_trust_kinds(p, name, pn) != 0))
			abort();
		req.peer = kxp_str(p, p->apps[peer].name);
		req.same_family = peer == a;
		req.ipc_kind = 1u << (peer % 4);
		decide_or_die(p, &req);
	}
}

/* Every files rule and interface asked about as kxd and the monitor ask:
 * decided, and the plain-data table the reader's checks promise is one a
 * monitor accepts (kxp_net_rules_ok). */
static void io_requests_for_app(const struct kxp_policy *p, uint32_t a)
{
	const struct kxp_abi_app *app = &p->apps[a];
	const char *name = kxp_str(p, app->name);
	struct kxp_request req;
	struct kxp_file_info fi;
	struct kxp_net_rules nr;
	const char *iface;

	for (size_t i = 0; i < app->files.count && i < 64; i++) {
		if (kxp_file_at(p, name, i, &fi) != 0)
			abort();
		kxp_request_init(&req, KXP_OP_FILE);
		req.app = name;
		req.guest = fi.guest;
		req.host = fi.host;
		req.image = fi.host == NULL;
		req.mode = (enum kxp_mode)(i % 2);
		decide_or_die(p, &req);
	}
	for (size_t i = 0; (iface = kxp_iface_name_at(p, name, i)) != NULL; i++) {
		if (kxp_net_rules(p, name, iface, &nr) != 0 || !kxp_net_rules_ok(&nr)) {
			fprintf(stderr, "interface %s of app %s: rules a monitor refuses\n", iface,
				name);
			abort();
		}
		kxp_request_init(&req, KXP_OP_NET);
		req.app = name;
		req.iface = iface;
		decide_or_die(p, &req);
		req.net_query = KXP_NET_LISTEN;
		req.proto = KXP_NET_PROTO_TCP;
		req.port = nr.nlisten ? nr.listen[0].port : 80;
		decide_or_die(p, &req);
		req.net_query = KXP_NET_CONNECT;
		req.proto = nr.npeers ? nr.peers[0].proto : KXP_NET_PROTO_UDP;
		req.net_addr = nr.npeers ? nr.peers[0].addr : nr.addr;
		req.port = nr.npeers && nr.peers[0].port ? nr.peers[0].port : 53;
		decide_or_die(p, &req);
	}
}

static void exercise(const uint8_t *buf, size_t len)
{
	struct kxp_policy *p = NULL;
	struct kx_error err;
	bool differ = false;

	uint8_t digest[KXSIG_DIGEST_BYTES];

	if (kxp_open(buf, len, NULL, &p, &err) != 0)
		return;
	/* what kxd compares and persists: the serial, and the digest naming
	 * the tables, which must be the header's (the reader checked it) */
	kxp_body_digest(p, digest);
	if (memcmp(digest, buf + offsetof(struct kxp_abi_header, body_digest), sizeof(digest)) != 0 ||
	    kxp_serial(p) != p->serial) {
		fprintf(stderr, "body digest or serial is not what the file holds\n");
		abort();
	}
	kxp_dump(sink, p, false);
	kxp_dump(sink, p, true);
	kxp_graph(sink, p);
	if (kxp_diff(sink, p, p, &differ, &err) == 0 && differ) {
		fprintf(stderr, "a policy differs from itself\n");
		abort();
	}
	for (uint32_t a = 0; a < p->napps && a < MAX_APPS; a++) {
		requests_for_app(p, a);
		io_requests_for_app(p, a);
	}
	kxp_close(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (sink == NULL && (sodium_init() < 0 || (sink = fopen("/dev/null", "w")) == NULL))
		abort();
	exercise(data, size);
	if (size < sizeof(struct kxp_abi_header) || size > KXP_FILE_MAX)
		return 0;
	copy = malloc(size);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	crypto_generichash(((struct kxp_abi_header *)copy)->body_digest, KXP_ABI_DIGEST_BYTES,
			   copy + sizeof(struct kxp_abi_header),
			   size - sizeof(struct kxp_abi_header), NULL, 0);
	exercise(copy, size);
	free(copy);
	return 0;
}
