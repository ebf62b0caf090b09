/*
 * kxctl — the operator's client.  One command table drives dispatch, the
 * usage screen, per-verb --help and `kxctl help --man` (the COMMANDS section
 * of docs/man/kxctl.1 is checked against it by tests/cli).  Adding a verb is
 * one row here plus its manager/kxctl/<verb>.c.
 */
#include <string.h>

#include "manager/kxctl/kxctl.h"

static const struct kxctl_cmd cmds[] = {
	{ "inspect", kxctl_inspect,
	  "[--json] [--lazy] [--loader-only] [-p PUBKEY]... [-K KEYDIR] [-L LIBDIR]... FILE",
	  "run the ELF loader and the mapper's checks over FILE in a scratch segment and report what it saw",
	  "  --json          machine-readable report (every program header and dynamic symbol)\n"
	  "  --lazy          lazy binding: JUMP_SLOTs keep pointing into the PLT\n"
	  "  --loader-only   skip the mapper's pVM rules (no constructors, no data on a GOT\n"
	  "                  page), named as not checked: for ELF files not made for a pVM\n"
	  "  -p, --pubkey F  verify the kxsign signature against public key F (repeatable)\n"
	  "  -K, --keydir D  ... against every *.pub key in directory D\n"
	  "  -L, --libdir D  load the DT_NEEDED tree, searching D (repeatable, in order)\n" },
	{ "run", kxctl_run,
	  "[--policy P.kxp] [--libdir DIR]... [--admin-key K.pub] [--socket S] [--app NAME] "
	  "[--env NAME=VALUE]... [--recycle] IMAGE|APP_LIB [ARG...]",
	  "boot IMAGE in a pVM via kxd, stream its console, exit with its status",
	  "  --policy P.kxp    the policy a kxd started here loads; a running kxd must\n"
	  "                    enforce P already (else: kxctl reload P)\n"
	  "  --libdir DIR      where that kxd finds libraries (repeatable)\n"
	  "  --admin-key K     that kxd refuses a policy not signed by K\n"
	  "  --socket S        kxd's control socket (default $XDG_RUNTIME_DIR/kx/kxd.sock)\n"
	  "  --app NAME        boot as NAME (default: the name IMAGE is signed with)\n"
	  "  --kxd PATH        the kxd to start (default: beside kxctl)\n"
	  "  --recycle         start APP_LIB (a library with app_entry) in a pooled pVM\n"
	  "  --env NAME=VALUE  in the pVM's environment (an SDK program's environ)\n"
	  "  exit: the app's status (125/126 from kxmon), 1 boot denied, 2 error\n" },
	{ "list", kxctl_list, "[--json] [--socket S]",
	  "list kxd's pVMs: id, app, kxmon pid, state, start, status, parent, libraries, "
	  "system calls their POSIX layer lacked (ENOSYS); network interfaces with frame and "
	  "drop counters",
	  "  --json      one JSON array of objects\n"
	  "  --socket S  kxd's control socket\n" },
	{ "link", kxctl_link, "[--as REQ_ID] [--socket S] ID LIB",
	  "link library LIB into pVM ID, asked by the operator or by pVM REQ_ID",
	  "  --as REQ_ID  ask on behalf of running pVM REQ_ID: the library's loader class\n"
	  "               must admit its relation to ID (self, app, any); default: the operator\n"
	  "  --socket S   kxd's control socket\n"
	  "  exit: 0 linked, 1 denied (the reason names the rule), no such pVM, not mapped,\n"
	  "        or no answer within 30 s (the pVM maps it at its next hypercall)\n" },
	{ "update", kxctl_update, "[--lazy] [--deadline MS] [--socket S] ID NEW_LIB OLD_LIB",
	  "replace library OLD_LIB of running pVM ID by the signed file NEW_LIB, keeping its state",
	  "  --lazy         GOT entries go back to lazy binding (default: resolved at once)\n"
	  "  --deadline MS  give up when the pVM is still inside OLD_LIB after MS ms\n"
	  "                 (1..60000, default 2000); it then keeps OLD_LIB\n"
	  "  --socket S     kxd's control socket\n"
	  "  exit: 0 updated, 1 denied (the reason names the rule) or not applied (the pVM\n"
	  "        keeps OLD_LIB and its state), 2 usage or I/O error\n" },
	{ "kill", kxctl_kill, "[--socket S] [--signal N] ID", "end pVM ID, or send it signal N",
	  "  --signal N  send signal N (1..31; 9 SIGKILL ends it, 15 SIGTERM...) instead:\n"
	  "              the pVM's handler runs, or its default action (docs/signals.md)\n"
	  "  --socket S  kxd's control socket\n" },
	{ "audit", kxctl_audit,
	  "[--json] [--follow] [--log PATH] [--socket S] | verify [--key PUB]... [--live] LOG... "
	  "| rotate [--socket S]",
	  "print the audit log, one line per decision of the gate; verify its chain and seals",
	  "  --json      the records as written (JSON lines)\n"
	  "  --follow    keep printing records as they are appended\n"
	  "  --log PATH  read PATH (default: the running kxd's log)\n"
	  "  --socket S  kxd's control socket\n"
	  "  exit: 0, 1 when a line is corrupt (reported on stderr), 2 error\n"
	  "  verify LOG...  check the hash chain and kxd's seals of LOG and the files rotated\n"
	  "                 out of it, oldest first: names the first record edited, dropped,\n"
	  "                 reordered or cut off, or a seal that does not verify\n"
	  "    --key PUB    accept seals by this key (repeatable; default: audit-seal.pub\n"
	  "                 beside the first LOG)\n"
	  "    --live       kxd still writes the last LOG: its tail need not be sealed yet\n"
	  "    exit: 0 intact, 1 a problem (named on stderr), 2 usage or I/O error\n"
	  "  rotate         kxd seals its log and starts a new file at the same path (move the\n"
	  "                 old one away first); the chain goes on in the new file\n" },
	/* the policy (reload.c) */
	{ "reload", kxctl_reload, "[--enforce] [--socket S] [POLICY]",
	  "swap in a new policy (or re-read the current file) without stopping pVMs",
	  "  --enforce   end the pVMs whose app the new policy no longer has (default:\n"
	  "              they keep running and are named in the answer)\n"
	  "  --socket S  kxd's control socket\n"
	  "  exit: 0 loaded, 1 refused (unreadable, bad signature, older serial: the old\n"
	  "        policy stays), 2 usage or I/O error\n" },
	{ "stop", kxctl_stop, "[--socket S]", "end every pVM and stop kxd",
	  "  --socket S  kxd's control socket\n"
	  "  exit: 0 once kxd has ended every pVM and written its closing audit records\n"
	  "        (suppressed counts, the closing seal); 2 usage, I/O error or no kxd\n" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

int kxctl_usage(const struct kxctl_cmd *cmd, FILE *out)
{
	fprintf(out, "usage: kxctl %s %s\n", cmd->name, cmd->args);
	return KXCTL_EXIT_USAGE;
}

int kxctl_help(const struct kxctl_cmd *cmd)
{
	printf("usage: kxctl %s %s\n\n%s.\n\n%s", cmd->name, cmd->args, cmd->summary, cmd->options);
	return KXCTL_EXIT_OK;
}

void kxctl_json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void usage_all(FILE *out)
{
	fprintf(out, "usage: kxctl COMMAND [ARGS]   (kxctl COMMAND --help for its options)\n\n"
		     "commands:\n");
	for (size_t i = 0; i < NCMDS; i++)
		fprintf(out, "  %-9s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(out, "\nexit status: 0 ok, 1 rejected (the check failed), 2 usage or I/O error\n");
}

/* The COMMANDS section of the man page, in roff, from the same table. */
static void man_commands(void)
{
	for (size_t i = 0; i < NCMDS; i++) {
		printf(".TP\n.B kxctl %s\n%s\n.br\n%s.\n", cmds[i].name, cmds[i].args,
		       cmds[i].summary);
		printf(".nf\n%s.fi\n", cmds[i].options);
	}
}

static const struct kxctl_cmd *find(const char *name)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct kxctl_cmd *cmd;

	if (argc < 2) {
		usage_all(stderr);
		return KXCTL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage_all(stdout);
		return KXCTL_EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc == 3 && strcmp(argv[2], "--man") == 0) {
			man_commands();
			return KXCTL_EXIT_OK;
		}
		if (argc == 3 && (cmd = find(argv[2])) != NULL)
			return kxctl_help(cmd);
		usage_all(argc == 2 ? stdout : stderr);
		return argc == 2 ? KXCTL_EXIT_OK : KXCTL_EXIT_USAGE;
	}
	cmd = find(argv[1]);
	if (!cmd) {
		fprintf(stderr, "kxctl: unknown command '%s'\n", argv[1]);
		usage_all(stderr);
		return KXCTL_EXIT_USAGE;
	}
	for (int i = 2; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return kxctl_help(cmd);
	return cmd->run(cmd, argc - 1, argv + 1);
}
