/*
 * kxpolicy — compile kx app manifests into a checked binary policy, and
 * audit compiled policies.  One command table drives dispatch, `--help` and
 * per-verb help.  Exit codes: see usage() and docs/man/kxpolicy.1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy-lang/back.h"

enum { EXIT_OK = 0, EXIT_NO = 1, EXIT_USAGE = 2 };

/* Options a verb accepts. */
#define OPT_OUT 0x1u    /* -o FILE */
#define OPT_SECKEY 0x2u /* -s FILE */
#define OPT_PUBKEY 0x4u /* -p FILE */
#define OPT_JSON 0x8u   /* --json */
#define OPT_SERIAL 0x10u /* --serial N */

struct opts {
	const char *out, *seckey, *pubkey, *serial;
	bool json;
	char **args;
	int nargs;
};

struct cmd {
	const char *name;
	int (*run)(const struct opts *o);
	unsigned options;
	int min_args, max_args; /* max -1: unbounded */
	const char *usage;
	const char *summary;
	const char *help;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("kxpolicy: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- shared steps ------------------------------------------------------- */

/* Load manifests and print their diagnostics: EXIT_OK, EXIT_NO (errors in
 * the manifests) or EXIT_USAGE (I/O, memory). */
static int load_manifests(const struct opts *o, struct pm_policy *pol)
{
	struct pm_diags diags = {0};
	int rc = pm_load((const char *const *)o->args, (size_t)o->nargs, pol, &diags);

	pm_diags_print(stderr, &diags);
	pm_diags_free(&diags);
	if (rc == -EINVAL)
		return EXIT_NO;
	if (rc < 0) {
		say("cannot load manifests: %s", strerror(-rc));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int load_pubkey(const char *path, struct kxsig_pubkey *key)
{
	struct kx_error kerr;

	if (kxsig_pubkey_load(path, key, &kerr) != 0) {
		say("%s: %s", path, kerr.msg);
		return -EINVAL;
	}
	return 0;
}

/* Open a policy (with -p: signature required); exit code on failure. */
static int open_policy(const struct opts *o, const char *path, struct kxp_policy **p)
{
	struct kxsig_pubkey admin;
	struct kx_error err = {{0}};
	int rc;

	if (o->pubkey != NULL && load_pubkey(o->pubkey, &admin) < 0)
		return EXIT_USAGE;
	rc = kxp_open_file(path, o->pubkey ? &admin : NULL, p, &err);
	if (rc == 0)
		return EXIT_OK;
	say("%s", err.msg);
	return rc == -EBADMSG || rc == -EKEYREJECTED ? EXIT_NO : EXIT_USAGE;
}

/* ---- verbs -------------------------------------------------------------- */

static int cmd_check(const struct opts *o)
{
	struct pm_policy pol = {0};
	int rc = load_manifests(o, &pol);

	if (rc == EXIT_OK) {
		printf("%d manifest%s: %zu app%s, no errors\n", o->nargs, o->nargs == 1 ? "" : "s",
		       pol.napps, pol.napps == 1 ? "" : "s");
		pm_policy_free(&pol);
	}
	return rc;
}

/* A serial number: decimal, 1..UINT64_MAX, no sign or blanks.  0 or -EINVAL. */
static int parse_serial(const char *text, uint64_t *out)
{
	uint64_t v = 0;

	if (text == NULL || *text == '\0' || strlen(text) > 20)
		return -EINVAL;
	for (const char *c = text; *c; c++) {
		if (*c < '0' || *c > '9' || v > (UINT64_MAX - (uint64_t)(*c - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*c - '0');
	}
	if (v == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

/* --serial N, else $SOURCE_DATE_EPOCH (reproducible builds), else the time
 * now in seconds: later compiles get higher serials.  0 or EXIT_USAGE. */
static int pick_serial(const struct opts *o, uint64_t *serial)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t now = time(NULL);

	if (o->serial != NULL) {
		if (parse_serial(o->serial, serial) == 0)
			return 0;
		say("compile: --serial '%s': want a number from 1 to %" PRIu64, o->serial,
		    UINT64_MAX);
		return EXIT_USAGE;
	}
	if (sde != NULL && *sde != '\0') {
		if (parse_serial(sde, serial) == 0)
			return 0;
		say("compile: SOURCE_DATE_EPOCH '%s' is not a positive number", sde);
		return EXIT_USAGE;
	}
	if (now <= 0) {
		say("compile: no clock: give --serial N");
		return EXIT_USAGE;
	}
	*serial = (uint64_t)now;
	return 0;
}

static int cmd_compile(const struct opts *o)
{
	struct pm_policy pol = {0};
	struct kxsig_seckey *sk = NULL;
	struct kxsig_pubkey pub, *check_key = NULL;
	struct kxp_policy *self_check = NULL;
	struct kx_error err = {{0}};
	uint8_t *buf = NULL;
	uint64_t serial = 0;
	size_t len = 0;
	int rc;

	if (o->out == NULL) {
		say("compile: -o OUT.kxp is required");
		return EXIT_USAGE;
	}
	if ((rc = pick_serial(o, &serial)) != EXIT_OK)
		return rc;
	if ((rc = load_manifests(o, &pol)) != EXIT_OK)
		goto out;
	pol.serial = serial;
	rc = EXIT_USAGE;
	if (o->seckey != NULL && kxsig_seckey_open(o->seckey, &sk, &err) != 0) {
		say("%s: %s", o->seckey, err.msg);
		goto out;
	}
	if (kxp_write(&pol, &buf, &len, &err) < 0) {
		say("compile: %s", err.msg);
		goto out;
	}
	if (sk != NULL) {
		if (kxp_sign(buf, len, sk, &err) < 0) {
			say("compile: %s", err.msg);
			goto out;
		}
		kxsig_seckey_pubkey(sk, &pub);
		check_key = &pub;
	}
	/* read back what we are about to write, with the manager's reader */
	if (kxp_open(buf, len, check_key, &self_check, &err) < 0) {
		say("compile: internal error, the compiled policy does not validate: %s", err.msg);
		goto out;
	}
	if (kxsig_write_file_atomic(o->out, buf, len, 0644, 1, &err) != 0) {
		say("%s", err.msg);
		goto out;
	}
	printf("%s: %zu apps, %zu bytes, serial %" PRIu64 ", %s\n", o->out, pol.napps, len,
	       pol.serial, sk ? "signed" : "unsigned");
	rc = EXIT_OK;
out:
	kxp_close(self_check);
	kxsig_seckey_free(sk);
	free(buf);
	pm_policy_free(&pol);
	return rc;
}

static int cmd_verify(const struct opts *o)
{
	struct kxp_policy *p = NULL;
	struct kxp_signature_info sig;
	char id[2 * KXSIG_KEYID_BYTES + 1];
	int rc = open_policy(o, o->args[0], &p);

	if (rc != EXIT_OK) {
		say("%s: REFUSED", o->args[0]);
		return rc;
	}
	kxp_signature(p, &sig);
	kxsig_keyid_hex(sig.keyid, id);
	printf("%s: OK: format %u, serial %" PRIu64 ", %u apps, %u libraries; ", o->args[0],
	       KXP_FORMAT_VERSION, kxp_serial(p), p->napps, p->nlibs);
	if (!sig.is_signed)
		printf("unsigned\n");
	else if (sig.verified)
		printf("signed by admin key %s, signature verified\n", id);
	else
		printf("signed by admin key %s, signature NOT checked (no -p given)\n", id);
	kxp_close(p);
	return EXIT_OK;
}

/* dump and graph: open, print, close */
static int print_policy(const struct opts *o, bool graph)
{
	struct kxp_policy *p = NULL;
	int rc;

	if (open_policy(o, o->args[0], &p) != EXIT_OK)
		return EXIT_USAGE;
	rc = graph ? kxp_graph(stdout, p) : kxp_dump(stdout, p, o->json);
	kxp_close(p);
	return rc < 0 ? EXIT_USAGE : EXIT_OK;
}

static int cmd_dump(const struct opts *o)
{
	return print_policy(o, false);
}

static int cmd_graph(const struct opts *o)
{
	return print_policy(o, true);
}

/* The app's audit rate (docs/policy-format.md): how fast kxd lets its
 * pVMs' refusals be recorded. */
static void audit_rate_print(const struct kxp_policy *p, const char *app)
{
	struct kxp_app_info info;

	if (app == NULL || kxp_app_lookup(p, app, &info) != 0)
		return;
	if (info.audit_rate != 0)
		printf("audit: %s's pVMs: %u refusals a second, %u at once (at most kxd's "
		       "--audit-rate)\n", app, info.audit_rate, info.audit_burst);
	else
		printf("audit: %s's pVMs: kxd's --audit-rate (the manifest sets no 'audit')\n", app);
}

static int cmd_explain(const struct opts *o)
{
	struct kxp_policy *p = NULL;
	struct kxp_request req;
	struct kxp_decision d;
	struct kx_error err = {{0}};
	enum kxp_op op;
	int rc = EXIT_USAGE;

	if (kxp_op_parse(o->args[1], &op) < 0) {
		say("explain: unknown op '%s' (boot, link, update, fork, ipc, recycle, file, net)",
		    o->args[1]);
		return EXIT_USAGE;
	}
	if (kxp_request_parse(&req, op, (const char *const *)o->args + 2, o->nargs - 2, &err) < 0) {
		say("explain: %s", err.msg);
		return EXIT_USAGE;
	}
	if (open_policy(o, o->args[0], &p) != EXIT_OK)
		return EXIT_USAGE;
	if (kxp_decide(p, &req, &d) < 0) {
		say("explain: %s", d.reason);
		goto out;
	}
	kxp_decision_print(stdout, &req, &d, o->json);
	if (!o->json)
		audit_rate_print(p, req.app);
	rc = d.verdict == KXP_ALLOW ? EXIT_OK : EXIT_NO;
out:
	kxp_close(p);
	return rc;
}

static int cmd_diff(const struct opts *o)
{
	struct kxp_policy *a = NULL, *b = NULL;
	struct kx_error err = {{0}};
	bool differ = false;
	int rc = EXIT_USAGE;

	if (open_policy(o, o->args[0], &a) != EXIT_OK || open_policy(o, o->args[1], &b) != EXIT_OK)
		goto out;
	if (kxp_diff(stdout, a, b, &differ, &err) < 0) {
		say("diff: %s", err.msg);
		goto out;
	}
	rc = differ ? EXIT_NO : EXIT_OK;
out:
	kxp_close(a);
	kxp_close(b);
	return rc;
}

/* ---- the command table ------------------------------------------------- */

static const struct cmd commands[] = {
	{"check", cmd_check, 0, 1, -1, "check MANIFEST...",
	 "print diagnostics; exit 0 clean, 1 errors",
	 "Reads and checks every manifest and prints every diagnostic (file:line:col).\n"
	 "Warnings do not fail the check.  Exit 0 clean, 1 errors, 2 I/O or usage."},
	{"compile", cmd_compile, OPT_OUT | OPT_SECKEY | OPT_SERIAL, 1, -1,
	 "compile -o OUT.kxp [-s ADMIN_SECKEY] [--serial N] MANIFEST...",
	 "compile manifests to a policy",
	 "Checks the manifests, writes the checked tables to OUT.kxp atomically and,\n"
	 "with -s, signs it with the policy administrator's kxsign key.  The result is\n"
	 "re-read with the manager's reader before it is written.\n"
	 "--serial N (1..2^64-1) sets the policy's serial number, which the signature\n"
	 "covers: kxd refuses a policy older than one it loaded.  Default:\n"
	 "$SOURCE_DATE_EPOCH when set, else the time now in seconds.  The same manifests\n"
	 "and serial always give the same bytes.\n"
	 "Exit 0 written, 1 manifest errors, 2 other errors."},
	{"verify", cmd_verify, OPT_PUBKEY, 1, 1, "verify [-p ADMIN_PUBKEY] POLICY.kxp",
	 "check table integrity (and the admin signature)",
	 "Checks the header, body digest and every table.  With -p the policy must be\n"
	 "signed by that key and the signature must verify; without -p the signature is\n"
	 "not checked and the output says so.  Exit 0 valid, 1 refused, 2 usage or I/O."},
	{"dump", cmd_dump, OPT_PUBKEY | OPT_JSON, 1, 1, "dump [--json] [-p KEY] POLICY.kxp",
	 "print the whole policy with provenance",
	 "Prints every app, key, library rule, limit and revocation in canonical order,\n"
	 "each with the manifest file:line:col it came from.  Exit 0, or 2."},
	{"explain", cmd_explain, OPT_PUBKEY | OPT_JSON, 2, -1,
	 "explain [--json] [-p KEY] POLICY.kxp OP ATTR=VALUE...",
	 "decide one request; exit 0 ALLOW, 1 DENY, 2 error",
	 "OP is boot, link, update, fork, ipc, recycle, file or net.  Attributes: app=\n"
	 "requester= lib= version= old-version= signer=KEYID digest=HEX\n"
	 "loader=self|app|any peer= kind=pipe|signal|msgq|shm family=same|other depth=\n"
	 "children= members= operator=true (link, update: asked by the operator, as\n"
	 "kxctl link and kxctl update are: relation any; an operator's update is judged\n"
	 "by the update rule, not the loader class) now=YYYY-MM-DD[THH:MM:SSZ] (the time\n"
	 "keys' from/until are checked at; default: now); file: guest=PATH\n"
	 "host=PATH|image=true mode=ro|rw; net:\n"
	 "iface=NAME, and listen=[udp/]PORT or connect=[udp/]ADDR:PORT (without either:\n"
	 "attaching the interface).\n"
	 "Prints the decision, the reason and the deciding rule with file:line:col, and\n"
	 "for a signed object the key the decision relied on (or refused) and its\n"
	 "validity.\n"
	 "fork counts are the parent's before the fork (members defaults to 1)."},
	{"diff", cmd_diff, OPT_PUBKEY, 2, 2, "diff [-p KEY] OLD.kxp NEW.kxp",
	 "permissions added (+) and removed (-); exit 0 same, 1 differ",
	 "Compares meaning, not bytes: keys by key id, version ranges as merged\n"
	 "intervals, loader, update, rollback, bind, limits, IpC kinds, trust pairs,\n"
	 "recycling, revoked digests, resources, files rules by mount point and network\n"
	 "rules by interface, port and peer.  Exit 0 same, 1 differ, 2 error."},
	{"graph", cmd_graph, OPT_PUBKEY, 1, 1, "graph [-p KEY] POLICY.kxp",
	 "Graphviz DOT of apps, trust edges and loader classes",
	 "Apps with their family IpC kinds, mutual trust edges labelled with kinds,\n"
	 "libraries with their loader class, host directories and network interfaces.\n"
	 "Render with: dot -Tsvg.  Exit 0, or 2."},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: kxpolicy COMMAND [OPTIONS] ARGS   (kxpolicy COMMAND --help)\n\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  kxpolicy %s\n      %s\n", commands[i].usage, commands[i].summary);
	fprintf(out, "\nExit status 2 means a usage, I/O or unreadable-policy error.\n");
}

static void cmd_help(FILE *out, const struct cmd *c)
{
	fprintf(out, "usage: kxpolicy %s\n\n%s\n", c->usage, c->help);
}

static int parse_args(const struct cmd *c, int argc, char **argv, struct opts *o)
{
	static const struct {
		const char *flag;
		unsigned bit;
	} flags[] = {{"-o", OPT_OUT},       {"-s", OPT_SECKEY},   {"-p", OPT_PUBKEY},
		     {"--json", OPT_JSON}, {"--serial", OPT_SERIAL}};
	bool only_args = false;

	o->args = argv; /* positional words are compacted in place */
	o->nargs = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		size_t f = 0;

		if (only_args || a[0] != '-' || a[1] == '\0') {
			o->args[o->nargs++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_args = true;
			continue;
		}
		while (f < sizeof(flags) / sizeof(flags[0]) && strcmp(a, flags[f].flag) != 0)
			f++;
		if (f == sizeof(flags) / sizeof(flags[0]) || !(c->options & flags[f].bit)) {
			say("%s: unknown option '%s'", c->name, a);
			return -EINVAL;
		}
		if (flags[f].bit == OPT_JSON) {
			o->json = true;
			continue;
		}
		if (i + 1 == argc) {
			say("%s: option %s needs a value", c->name, a);
			return -EINVAL;
		}
		switch (flags[f].bit) {
		case OPT_OUT: o->out = argv[++i]; break;
		case OPT_SECKEY: o->seckey = argv[++i]; break;
		case OPT_PUBKEY: o->pubkey = argv[++i]; break;
		default: o->serial = argv[++i]; break;
		}
	}
	if (o->nargs < c->min_args || (c->max_args >= 0 && o->nargs > c->max_args)) {
		say("%s: wrong number of arguments", c->name);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	const struct cmd *c = NULL;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			c = &commands[i];
	if (c == NULL) {
		say("unknown command '%s'", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			cmd_help(stdout, c);
			return EXIT_OK;
		}
	}
	if (parse_args(c, argc - 2, argv + 2, &o) < 0) {
		cmd_help(stderr, c);
		return EXIT_USAGE;
	}
	if (kxsig_init() != 0) {
		say("libsodium failed to initialise");
		return EXIT_USAGE;
	}
	return c->run(&o);
}
