/*
 * kxctl internals: the command table row type and what verbs share.  Each
 * verb lives in its own manager/kxctl/<verb>.c and adds one row to the
 * table in manager/kxctl/main.c; that table drives dispatch, `kxctl --help`,
 * `kxctl VERB --help` and the command list of docs/man/kxctl.1.
 */
#ifndef KX_MANAGER_KXCTL_H
#define KX_MANAGER_KXCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "manager/kxd/kxd.h"

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

/* Talking to kxd (manager/kxctl/client.c); each prints its own error. */
/* The socket: given, or kxd's default.  0 or -1. */
int kxctl_socket_path(const char *given, char *buf, size_t size);
int kxctl_connect(const char *path); /* fd, or -errno */
void kxctl_req_init(struct kxd_req *req, enum kxd_req_type type);
int kxctl_request(int fd, const struct kxd_req *req, const int *fds, int nfds);
int kxctl_answer(int fd, struct kxd_resp *resp); /* 0, or -1: none or malformed */
int kxctl_parse_id(const char *s, uint64_t *id);
/* The common options of the verbs that talk to a running kxd: --socket S
 * and, where the verb has them, --json and its one option value (link
 * --as, kill --signal); the rest are want_operands operands starting at
 * argv[*first].  Connects: the fd, or -1 after printing why (*rc: the exit
 * status). */
int kxctl_open_verb(const struct kxctl_cmd *cmd, int argc, char **argv, bool *json,
		    const char **as, int want_operands, int *first, int *rc);
/* Send req, print the answer's text: OK -> 0 (text to stdout), ERROR -> 1. */
int kxctl_simple(int fd, const struct kxd_req *req);

int kxctl_inspect(const struct kxctl_cmd *cmd, int argc, char **argv);
int kxctl_run(const struct kxctl_cmd *cmd, int argc, char **argv);
int kxctl_list(const struct kxctl_cmd *cmd, int argc, char **argv);
int kxctl_link(const struct kxctl_cmd *cmd, int argc, char **argv);
int kxctl_kill(const struct kxctl_cmd *cmd, int argc, char **argv);
int kxctl_stop(const struct kxctl_cmd *cmd, int argc, char **argv);
int kxctl_audit(const struct kxctl_cmd *cmd, int argc, char **argv);
int kxctl_update(const struct kxctl_cmd *cmd, int argc, char **argv);
int kxctl_reload(const struct kxctl_cmd *cmd, int argc, char **argv);
/* reload.c: is policy (a .kxp file) the one the kxd on fd enforces?  0, or
 * -1 after saying why (naming `kxctl reload`). */
int kxctl_policy_matches(int fd, const char *policy, const char *sock);

#endif /* KX_MANAGER_KXCTL_H */
