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

/* Network (docs/network.md): kxd's NET rows, "IFACE TAP ADDR/PREFIX TX RX
 * [KIND=N]...", by pVM id, asked before the list. */
struct net_row {
	uint64_t id;
	char text[KXD_TEXT_MAX];
};
static struct net_row net_rows[256];
static size_t n_net_rows;

static const char *net_of(uint64_t id)
{
	for (size_t i = 0; i < n_net_rows; i++)
		if (net_rows[i].id == id)
			return net_rows[i].text;
	return NULL;
}

static int fetch_net(int fd)
{
	struct kxd_req req;
	struct kxd_resp resp;

	kxctl_req_init(&req, KXD_REQ_NET);
	if (kxctl_request(fd, &req, NULL, 0) != 0)
		return -1;
	for (;;) {
		if (kxctl_answer(fd, &resp) != 0 ||
		    (resp.type != KXD_RESP_PVM && resp.type != KXD_RESP_END))
			return -1;
		if (resp.type == KXD_RESP_END)
			return 0;
		if (n_net_rows < sizeof(net_rows) / sizeof(net_rows[0])) {
			net_rows[n_net_rows].id = resp.pvm_id;
			snprintf(net_rows[n_net_rows].text, sizeof(net_rows[0].text), "%s", resp.text);
			n_net_rows++;
		}
	}
}

static void print_net_json(const char *text)
{
	char iface[32], tap[32], addr[40], kind[64];
	unsigned long long tx, rx, n;
	int used = 0;
	bool first = true;

	if (text == NULL ||
	    sscanf(text, "%31s %31s %39s %llu %llu%n", iface, tap, addr, &tx, &rx, &used) != 5) {
		printf("null");
		return;
	}
	printf("{\"iface\": ");
	kxctl_json_str(stdout, iface);
	printf(", \"tap\": ");
	kxctl_json_str(stdout, tap);
	printf(", \"address\": ");
	kxctl_json_str(stdout, addr);
	printf(", \"tx\": %llu, \"rx\": %llu, \"drops\": {", tx, rx);
	for (const char *p = text + used; sscanf(p, " %63[^=]=%llu%n", kind, &n, &used) == 2;
	     p += used) {
		printf("%s", first ? "" : ", ");
		kxctl_json_str(stdout, kind);
		printf(": %llu", n);
		first = false;
	}
	printf("}}");
}

static void print_net_table(void)
{
	char iface[32], tap[32], addr[40];
	unsigned long long tx, rx;
	int used = 0;

	if (n_net_rows == 0)
		return;
	printf("\nNETWORK\n%-4s %-8s %-8s %-18s %-10s %-10s %s\n", "ID", "IFACE", "TAP",
	       "ADDRESS", "TX", "RX", "DROPS");
	for (size_t i = 0; i < n_net_rows; i++) {
		const char *t = net_rows[i].text;

		if (sscanf(t, "%31s %31s %39s %llu %llu%n", iface, tap, addr, &tx, &rx, &used) != 5)
			continue;
		while (t[used] == ' ')
			used++;
		printf("%-4llu %-8s %-8s %-18s %-10llu %-10llu %s\n",
		       (unsigned long long)net_rows[i].id, iface, tap, addr, tx, rx,
		       t[used] ? t + used : "-");
	}
}

/* kxd's note on a pVM over its audit rate: "!audit-suppressed N" (0: none). */
static unsigned long long suppressed(const char *text)
{
	const char *at = strstr(text, "!audit-suppressed ");

	return at != NULL && (at == text || at[-1] == '\n') ? strtoull(at + 18, NULL, 10) : 0;
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
		printf(", \"network\": ");
		print_net_json(net_of(r->pvm_id));
		printf(", \"audit_suppressed\": %llu", suppressed(r->text));
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
	for (const char *p = r->text; *p && *p != '!'; p++) {
		if (*p == '\n')
			fputs(p[1] && p[1] != '!' ? ", " : "", stdout);
		else
			fputc(*p, stdout);
	}
	printf("%s", r->nlibs ? "" : "-");
	if (suppressed(r->text) > 0)
		printf(" (audit: %llu requests over its rate refused)", suppressed(r->text));
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
	n_net_rows = 0;
	if (fetch_net(fd) != 0)
		goto out;
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
	else
		print_net_table();
	rc = KXCTL_EXIT_OK;
out:
	close(fd);
	return rc;
}
