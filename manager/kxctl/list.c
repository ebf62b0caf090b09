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
		if (strncmp(one, KXD_LIST_ENOSYS, strlen(KXD_LIST_ENOSYS)) != 0 &&
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

/* posix-mon: the system calls of the row's KXD_LIST_ENOSYS line ("" none). */
static const char *enosys_of(const char *text)
{
	const char *at = strstr(text, KXD_LIST_ENOSYS);

	while (at != NULL && at != text && at[-1] != '\n')
		at = strstr(at + 1, KXD_LIST_ENOSYS);
	return at ? at + strlen(KXD_LIST_ENOSYS) : "";
}

static void print_enosys(const char *nums, bool json)
{
	bool first = true;

	if (json)
		printf(", \"unimplemented\": [");
	while (*nums && *nums != '\n') {
		char *end;
		unsigned long nr = strtoul(nums, &end, 10);

		if (end == nums) {
			nums++;
			continue;
		}
		printf("%s%lu", json ? (first ? "" : ",") : " ", nr);
		first = false;
		nums = end;
	}
	if (json)
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
		print_enosys(enosys_of(r->text), true);
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
	{
		const char *end = enosys_of(r->text);

		/* The libraries: every line before the enosys one. */
		end = *end ? end - strlen(KXD_LIST_ENOSYS) : r->text + strlen(r->text);
		for (const char *p = r->text; p < end; p++) {
			if (*p == '\n')
				fputs(p + 1 < end ? ", " : "", stdout);
			else
				fputc(*p, stdout);
		}
	}
	printf("%s", r->nlibs ? "" : "-");
	if (*enosys_of(r->text)) {
		printf("  ENOSYS:");
		print_enosys(enosys_of(r->text), false);
	}
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
