/*
 * kxctl list | link | kill | stop: the verbs that ask a running kxd about
 * its pVMs.  Each sends one request and reads the answer(s).
 */
#include <getopt.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guest/kx_hcall_abi.h" /* KX_NSIG */
#include "manager/kxctl.h"

#define LINK_WAIT_SECS 30 /* for the pVM to map a pushed library */

/* --socket S and (where the verb has them) --json and --as REQ_ID; the
 * rest are operands.  Connects.  The fd, or -1 after printing why (*rc:
 * the exit status). */
static int open_verb(const struct kxctl_cmd *cmd, int argc, char **argv, bool *json,
		     const char **as, int want_operands, int *first, int *rc)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "as", required_argument, NULL, 'a' },
		{ "signal", required_argument, NULL, 's' }, /* kill: its value comes back in *as */
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	char path[KXD_PATH_MAX];
	int c, fd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+S:", longopts, NULL)) != -1) {
		if (c == 'S')
			sock = optarg;
		else if (c == 'j' && json)
			*json = true;
		else if (as && (want_operands == 2 ? c == 'a' : c == 's'))
			*as = optarg; /* link --as, kill --signal: the verb's one option value */
		else
			goto usage;
	}
	if (argc - optind != want_operands)
		goto usage;
	*first = optind;
	if (kxctl_socket_path(sock, path, sizeof(path)) != 0) {
		*rc = KXCTL_EXIT_USAGE;
		return -1;
	}
	fd = kxctl_connect(path);
	if (fd < 0)
		*rc = KXCTL_EXIT_REJECTED;
	return fd;
usage:
	*rc = kxctl_usage(cmd, stderr);
	return -1;
}

static const char *state_name(uint32_t state)
{
	switch (state) {
	case KXD_PVM_STARTING: return "starting";
	case KXD_PVM_RUNNING: return "running";
	case KXD_PVM_EXITED: return "exited";
	case KXD_PVM_POOLED: return "pooled";
	case KXD_PVM_POOL_BOOTING: return "booting";
	default: return "?";
	}
}

/* The libraries of a PVM row: lines "NAME VERSION DIGEST". */
static void print_libs_json(const char *text)
{
	char name[KXD_TEXT_MAX], version[KXD_TEXT_MAX], digest[KXD_TEXT_MAX];
	const char *line = text;
	bool first = true;

	printf("[");
	while (*line) {
		const char *nl = strchr(line, '\n');
		char one[KXD_TEXT_MAX];
		size_t n = nl ? (size_t)(nl - line) : strlen(line);

		snprintf(one, sizeof(one), "%.*s", (int)n, line);
		if (sscanf(one, "%1023s %1023s %1023s", name, version, digest) == 3) {
			printf("%s{\"name\":", first ? "" : ",");
			kxctl_json_str(stdout, name);
			printf(",\"version\":");
			kxctl_json_str(stdout, version);
			printf(",\"digest\":");
			kxctl_json_str(stdout, digest);
			printf("}");
			first = false;
		}
		line += n + (nl ? 1 : 0);
	}
	printf("]");
}

static void print_row(const struct kxd_resp *r, bool json, bool first)
{
	char when[32] = "-", app[KXD_APP_MAX + 8];
	time_t t = (time_t)r->started;
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (json) {
		printf("%s\n  {\"id\": %llu, \"app\": ", first ? "" : ",",
		       (unsigned long long)r->pvm_id);
		if (r->state == KXD_PVM_POOLED || r->state == KXD_PVM_POOL_BOOTING) { /* empty */
			printf("null, \"pool\": ");
			kxctl_json_str(stdout, r->app);
		} else {
			kxctl_json_str(stdout, r->app);
		}
		printf(", \"pid\": %lld, \"state\": \"%s\", \"started\": \"%s\", \"status\": ",
		       (long long)r->pid, state_name(r->state), when);
		if (r->state == KXD_PVM_EXITED)
			printf("%d", r->status);
		else
			printf("null");
		printf(", \"libraries\": ");
		print_libs_json(r->text);
		if (r->parent_id)
			printf(", \"parent\": %u}", r->parent_id);
		else
			printf(", \"parent\": null}");
		return;
	}
	if (first)
		printf("%-4s %-16s %-8s %-8s %-20s %-6s %-6s %s\n", "ID", "APP", "PID", "STATE",
		       "STARTED", "STATUS", "PARENT", "LIBRARIES");
	snprintf(app, sizeof(app), "%s%s",
		 r->state == KXD_PVM_POOLED || r->state == KXD_PVM_POOL_BOOTING ? "pool:" : "",
		 r->app[0] ? r->app : "-");
	printf("%-4llu %-16s %-8lld %-8s %-20s ", (unsigned long long)r->pvm_id, app,
	       (long long)r->pid, state_name(r->state), when);
	if (r->state == KXD_PVM_EXITED)
		printf("%-6d ", r->status);
	else
		printf("%-6s ", "-");
	if (r->parent_id)
		printf("%-6u ", r->parent_id);
	else
		printf("%-6s ", "-");
	for (const char *p = r->text; *p; p++) {
		if (*p == '\n')
			fputs(p[1] ? ", " : "", stdout);
		else
			fputc(*p, stdout);
	}
	printf("%s\n", r->nlibs ? "" : "-");
}

int kxctl_list(const struct kxctl_cmd *cmd, int argc, char **argv)
{
	struct kxd_req req;
	struct kxd_resp resp;
	bool json = false, first = true;
	int first_arg, rc = KXCTL_EXIT_USAGE;
	int fd = open_verb(cmd, argc, argv, &json, NULL, 0, &first_arg, &rc);

	if (fd < 0)
		return rc;
	kxctl_req_init(&req, KXD_REQ_LIST);
	if (kxctl_request(fd, &req, NULL, 0) != 0)
		goto out;
	if (json)
		printf("[");
	for (;;) {
		if (kxctl_answer(fd, &resp) != 0 ||
		    (resp.type != KXD_RESP_PVM && resp.type != KXD_RESP_END))
			goto out;
		if (resp.type == KXD_RESP_END)
			break;
		print_row(&resp, json, first);
		first = false;
	}
	if (json)
		printf("%s]\n", first ? "" : "\n");
	rc = KXCTL_EXIT_OK;
out:
	close(fd);
	return rc;
}

/* Send req, print the answer's text: OK -> 0 (text to stdout), ERROR -> 1. */
static int simple(int fd, const struct kxd_req *req)
{
	struct kxd_resp resp;
	int rc = KXCTL_EXIT_USAGE;

	if (kxctl_request(fd, req, NULL, 0) == 0 && kxctl_answer(fd, &resp) == 0) {
		if (resp.type == KXD_RESP_OK) {
			if (resp.text[0])
				printf("%s\n", resp.text);
			rc = KXCTL_EXIT_OK;
		} else {
			fprintf(stderr, "kxctl: %s\n", resp.text);
			rc = KXCTL_EXIT_REJECTED;
		}
	}
	close(fd);
	return rc;
}

static const struct timeval link_wait = { .tv_sec = LINK_WAIT_SECS };

/* link [--as REQ_ID] ID LIB | kill ID */
static int pvm_verb(const struct kxctl_cmd *cmd, int argc, char **argv, enum kxd_req_type type)
{
	struct kxd_req req;
	const char *as = NULL;
	int first, rc = KXCTL_EXIT_USAGE;
	int fd = open_verb(cmd, argc, argv, NULL, &as, type == KXD_REQ_LINK ? 2 : 1, &first, &rc);

	if (fd < 0)
		return rc;
	kxctl_req_init(&req, type);
	if (kxctl_parse_id(argv[first], &req.pvm_id) != 0)
		goto usage;
	if (as && type == KXD_REQ_KILL) {
		char *end;
		long sig = strtol(as, &end, 10);

		if (end == as || *end != '\0' || sig < 1 || sig >= KX_NSIG) {
			fprintf(stderr, "kxctl: --signal %s: not a signal number 1..%d\n", as,
				KX_NSIG - 1);
			goto usage;
		}
		req.sig = (int32_t)sig;
	} else if (as && kxctl_parse_id(as, &req.as_pvm_id) != 0) {
		goto usage;
	}
	if (type == KXD_REQ_LINK) {
		const char *lib = argv[first + 1];

		if (strlen(lib) >= sizeof(req.name) || !kxd_libname_ok(lib)) {
			fprintf(stderr, "kxctl: '%s' is not a library name\n", lib);
			goto usage;
		}
		strcpy(req.name, lib);
		/* The pVM maps a push at its next hypercall: one that never makes
		 * one never answers.  Do not wait forever (the push stays queued). */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &link_wait, sizeof(link_wait)) != 0)
			goto usage;
	}
	return simple(fd, &req);
usage:
	close(fd);
	return KXCTL_EXIT_USAGE;
}

int kxctl_link(const struct kxctl_cmd *cmd, int argc, char **argv)
{
	return pvm_verb(cmd, argc, argv, KXD_REQ_LINK);
}

int kxctl_kill(const struct kxctl_cmd *cmd, int argc, char **argv)
{
	return pvm_verb(cmd, argc, argv, KXD_REQ_KILL);
}

int kxctl_stop(const struct kxctl_cmd *cmd, int argc, char **argv)
{
	struct kxd_req req;
	struct kxd_resp resp;
	int first, rc = KXCTL_EXIT_USAGE;
	int fd = open_verb(cmd, argc, argv, NULL, NULL, 0, &first, &rc);

	if (fd < 0)
		return rc;
	kxctl_req_init(&req, KXD_REQ_STOP);
	if (kxctl_request(fd, &req, NULL, 0) == 0 && kxctl_answer(fd, &resp) == 0 &&
	    resp.type == KXD_RESP_OK) {
		/* kxd closes every connection once its pVMs are gone */
		char byte;

		while (read(fd, &byte, 1) > 0)
			;
		rc = KXCTL_EXIT_OK;
	}
	close(fd);
	return rc;
}
