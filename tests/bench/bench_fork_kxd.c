/*
 * bench_fork_kxd.c — a private kxd for the fork and signal benchmarks
 * (bench_fork_kxd.h).  Setup shells out to the build's own tools, as an
 * operator would; nothing here is timed.
 */
#define _GNU_SOURCE
#include <libgen.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/bench_fork_kxd.h"

/* Family limits: one child at a time (the fork bench times denied forks
 * too); 160 MiB holds the 64 MiB the fork bench touches. */
static const char manifest[] = "kx-manifest: 1\n"
			       "app: kxbench\n"
			       "image: sigt.kxe\n"
			       "memory: 160M\n"
			       "keys:\n"
			       "  acme: %s/manifests/keys/acme.pub\n"
			       "family:\n"
			       "  fork: { max-children: 1, max-depth: 1, max-members: 2 }\n"
			       "  ipc: [signal]\n";

#define CMD_MAX (10 * PATH_MAX) /* room for every path a command names */

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "bench: failed (%d): %s\n", rc, cmd);
	return rc == 0 ? 0 : -1;
}

static int start(struct kxd_bench *b, const char *self)
{
	char copy[PATH_MAX], root[PATH_MAX], path[PATH_MAX + 64], cmd[CMD_MAX];
	FILE *f;

	memset(b, 0, sizeof(*b));
	snprintf(copy, sizeof(copy), "%s", self);
	snprintf(b->bin, sizeof(b->bin), "%s/../bin", dirname(copy));
	snprintf(cmd, sizeof(cmd), "'%s/kxmon' --check >/dev/null 2>&1", b->bin);
	if (system(cmd) != 0)
		return 1;
	snprintf(b->dir, sizeof(b->dir), "/tmp/kxbench.XXXXXX");
	if (getcwd(root, sizeof(root)) == NULL || mkdtemp(b->dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/kxbench.yaml", b->dir);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, manifest, root);
	fclose(f);
	snprintf(b->image, sizeof(b->image), "%s/kxbench.kxe", b->dir);
	snprintf(b->sock, sizeof(b->sock), "%s/kxd.sock", b->dir);
	snprintf(cmd, sizeof(cmd),
		 "'%s/kxpolicy' compile -o '%s/kx.kxp' '%s' >/dev/null && "
		 "'%s/kxsign' sign -s tests/data/keys/acme.sec --name kxbench --version 1.0 "
		 "-o '%s' '%s/../guest/sigt.kxe' >/dev/null && "
		 "'%s/kxd' --policy '%s/kx.kxp' --socket '%s' --audit-log '%s/audit.log' "
		 "--audit-sync '%s'",
		 b->bin, b->dir, path, b->bin, b->image, b->bin, b->bin, b->dir, b->sock,
		 b->dir, kxd_bench_audit_sync());
	if (sh(cmd) != 0)
		return -1;
	b->running = 1;
	return 0;
}

int kxd_bench_start(struct kxd_bench *b, const char *self, const char *name)
{
	int rc = start(b, self);

	if (rc != 0) {
		printf("%s: %s\n", name, rc > 0 ? "skipped, no usable /dev/kvm" : "failed");
		kxd_bench_stop(b);
	}
	return rc;
}

void kxd_bench_stop(struct kxd_bench *b)
{
	char cmd[CMD_MAX];

	if (b->running)
		kxd_bench_ctl(b, "stop", "");
	b->running = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->dir);
	if (b->dir[0] != '\0')
		sh(cmd);
}

FILE *kxd_bench_run(struct kxd_bench *b, const char *args)
{
	char cmd[CMD_MAX];

	snprintf(cmd, sizeof(cmd), "'%s/kxctl' run --socket '%s' '%s' %s", b->bin, b->sock,
		 b->image, args);
	return popen(cmd, "r");
}

int kxd_bench_ctl(struct kxd_bench *b, const char *verb, const char *rest)
{
	char cmd[CMD_MAX];

	snprintf(cmd, sizeof(cmd), "'%s/kxctl' %s --socket '%s' %s >/dev/null", b->bin, verb,
		 b->sock, rest);
	return sh(cmd);
}

pid_t kxd_bench_pid(struct kxd_bench *b, uint64_t id, uint64_t *parent)
{
	char cmd[CMD_MAX], line[4096];
	unsigned long long got;
	pid_t pid = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s/kxctl' list --json --socket '%s'", b->bin, b->sock);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *at = strstr(line, "\"id\": "), *p = strstr(line, "\"pid\": ");
		const char *up = strstr(line, "\"parent\": ");

		if (!at || !p || sscanf(at, "\"id\": %llu", &got) != 1 || got != id)
			continue;
		pid = (pid_t)atoi(p + 7);
		*parent = up ? strtoull(up + 10, NULL, 10) : 0;
	}
	pclose(f);
	return pid;
}

int bench_pin(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(pid, sizeof(set), &set);
}
