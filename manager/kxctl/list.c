/*
 * kxctl list: kxd's pVMs, one row (or JSON object) each.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "manager/kxctl/kxctl.h"

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
		if (one[0] != '!' && /* "!..." lines are notes, not libraries */
		    sscanf(one, "%1023s %1023s %1023s", name, version, digest) == 3) {
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

/* kxd's note on a pVM over its audit rate: "!audit-suppressed N" (0: none). */
static unsigned long long suppressed(const char *text)
{
	const char *at = strstr(text, "!audit-suppressed ");

	return at != NULL && (at == text || at[-1] == '\n') ? strtoull(at + 18, NULL, 10) : 0;
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
		printf(", \"audit_suppressed\": %llu", suppressed(r->text));
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
	for (const char *p = r->text; *p && *p != '!'; p++) {
		if (*p == '\n')
			fputs(p[1] && p[1] != '!' ? ", " : "", stdout);
		else
			fputc(*p, stdout);
	}
	printf("%s", r->nlibs ? "" : "-");
	if (suppressed(r->text) > 0)
		printf(" (audit: %llu requests over its rate refused)", suppressed(r->text));
	printf("\n");
}

int kxctl_list(const struct kxctl_cmd *cmd, int argc, char **argv)
{
	struct kxd_req req;
	struct kxd_resp resp;
	bool json = false, first = true;
	int first_arg, rc = KXCTL_EXIT_USAGE;
	int fd = kxctl_open_verb(cmd, argc, argv, &json, NULL, 0, &first_arg, &rc);

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
