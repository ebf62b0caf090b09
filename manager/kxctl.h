/*
 * kxctl internals: the command table row type and what verbs share.  Each
 * verb lives in its own manager/kxctl_<verb>.c and adds one row to the
 * table in manager/kxctl.c; that table drives dispatch, `kxctl --help`,
 * `kxctl VERB --help` and the command list of docs/man/kxctl.1.
 */
#ifndef KX_MANAGER_KXCTL_H
#define KX_MANAGER_KXCTL_H

#include <stdio.h>

/* Exit codes shared by every verb. */
enum {
	KXCTL_EXIT_OK = 0,
	KXCTL_EXIT_REJECTED = 1, /* the verb's check failed (file rejected, signature invalid...) */
	KXCTL_EXIT_USAGE = 2,    /* bad usage, or an I/O error */
};

struct kxctl_cmd {
	const char *name;
	int (*run)(const struct kxctl_cmd *cmd, int argc, char **argv); /* argv[0] is the verb */
	const char *args;    /* synopsis after the verb */
	const char *summary; /* one line */
	const char *options; /* one line per option, "  -x, --long  what" */
};

/* Usage of one verb to out; returns KXCTL_EXIT_USAGE (for `return kxctl_usage(...)`). */
int kxctl_usage(const struct kxctl_cmd *cmd, FILE *out);
/* The same, for `VERB --help`: to stdout, returns KXCTL_EXIT_OK. */
int kxctl_help(const struct kxctl_cmd *cmd);

/* Writes s as a JSON string literal (bytes >= 0x80 and controls escaped). */
void kxctl_json_str(FILE *out, const char *s);

int kxctl_inspect(const struct kxctl_cmd *cmd, int argc, char **argv);

#endif /* KX_MANAGER_KXCTL_H */
