/*
 * cgroup.c — a cgroup per pVM monitor: kx/NAME with memory, cpu and pids
 * limits.
 *
 * cgroup v2 (one hierarchy at /sys/fs/cgroup, statfs says CGROUP2): the
 * group is /sys/fs/cgroup/kx/NAME, the controllers enabled in the root's
 * and kx's cgroup.subtree_control, limits memory.max, cpu.max, pids.max.
 * cgroup v1 (this project's machines: PLATFORM.md): one directory per
 * controller, /sys/fs/cgroup/{memory,cpu,pids}/kx/NAME, limits
 * memory.limit_in_bytes, cpu.cfs_quota_us over cpu.cfs_period_us,
 * pids.max.  A controller a v1 host does not mount is an error, never a
 * silent skip: the limit was asked for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "manager/jail/jail.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CG_ROOT "/sys/fs/cgroup"
#define CPU_PERIOD_US 100000u

static const char *const v1_controllers[] = {"memory", "cpu", "pids"};
#define N_V1 (sizeof(v1_controllers) / sizeof(v1_controllers[0]))
/* A v1 cpu group is made only for a cpu limit: every group under kx/ is
 * one more level of the fair scheduler, and without a limit it only makes
 * the monitors share one entity's time against the rest of the host
 * (measured: a pVM fork 3-4x slower on a loaded host; docs/jail.md). */
#define CPU_INDEX 1

/* Asked once per process: the hierarchy does not change under it. */
static bool is_v2(void)
{
	static int v2 = -1;
	struct statfs st;

	if (v2 < 0)
		v2 = statfs(CG_ROOT, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
	return v2 == 1;
}

static bool name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n >= JAIL_CGROUP_NAME_MAX || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	       n;
}

/* The caller's own group under controller (v2: controller NULL), from
 * /proc/self/cgroup: "/" or "/a/b".  kx's groups nest under it, so a kxd
 * (or a kxmon run by hand) inside a delegated group stays inside it. */
static int read_own_group(const char *controller, char *out, size_t size)
{
	char line[512];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int rc = -ENOENT;

	if (f == NULL)
		return -errno;
	while (rc == -ENOENT && fgets(line, sizeof(line), f) != NULL) {
		char *list = strchr(line, ':'), *path, *tok, *save;

		if (list == NULL || (path = strchr(++list, ':')) == NULL)
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		if (controller == NULL) {
			if (list[0] == '\0')
				rc = 0;
		} else {
			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (strcmp(tok, controller) == 0)
					rc = 0;
		}
		if (rc == 0 && snprintf(out, size, "%s", strcmp(path, "/") ? path : "") >= (int)size)
			rc = -ENAMETOOLONG;
	}
	fclose(f);
	return rc;
}

/* read_own_group, remembered per controller: kxd asks at every fork, and
 * a process's own group (kxd's, a kxmon's before it joins kx/NAME) stays. */
static int own_group(const char *controller, char *out, size_t size)
{
	static struct {
		char controller[16];
		char path[256];
	} cache[N_V1 + 1];
	static size_t ncache;
	const char *key = controller ? controller : "";
	size_t i;
	int rc;

	for (i = 0; i < ncache; i++)
		if (strcmp(cache[i].controller, key) == 0)
			break;
	if (i == ncache) {
		if (ncache == N_V1 + 1 || strlen(key) >= sizeof(cache[0].controller))
			return read_own_group(controller, out, size);
		rc = read_own_group(controller, cache[i].path, sizeof(cache[i].path));
		if (rc != 0)
			return rc;
		snprintf(cache[i].controller, sizeof(cache[i].controller), "%s", key);
		ncache++;
	}
	return snprintf(out, size, "%s", cache[i].path) >= (int)size ? -ENAMETOOLONG : 0;
}

/* kx/NAME's directory under controller (v2: the one hierarchy), inside the
 * caller's own group; NAME NULL: kx itself. */
static int group_dir(const char *controller, const char *name, char *out, size_t size)
{
	char own[256];
	bool v2 = is_v2();
	int n, rc = own_group(v2 ? NULL : controller, own, sizeof(own));

	if (rc != 0)
		return rc;
	if (v2)
		n = snprintf(out, size, CG_ROOT "%s/kx%s%s", own, name ? "/" : "",
			     name ? name : "");
	else
		n = snprintf(out, size, CG_ROOT "/%s%s/kx%s%s", controller, own, name ? "/" : "",
			     name ? name : "");
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int jail_cgroup_file(const char *name, const char *controller, const char *file, char *out,
		     size_t size)
{
	char dir[256];
	int rc, n;

	if (!name_ok(name))
		return -EINVAL;
	rc = group_dir(controller, name, dir, sizeof(dir));
	if (rc != 0)
		return rc;
	n = snprintf(out, size, "%s/%s", dir, file);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Write text to dir/file (a cgroup file: one write, no temp file — these
 * are kernel knobs, not data). */
static int write_knob(const char *dir, const char *file, const char *text, struct kx_error *err)
{
	char path[320];
	size_t len = strlen(text);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return kx_err(err, -errno, "%s: %s", path, strerror(errno));
	n = write(fd, text, len);
	if (n < 0 || (size_t)n != len) {
		int rc = n < 0 ? -errno : -EIO;

		close(fd);
		return kx_err(err, rc, "%s: writing '%s': %s", path, text, strerror(-rc));
	}
	close(fd);
	return 0;
}

static int make_dir(const char *dir, struct kx_error *err)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return kx_err(err, -errno, "%s: %s", dir, strerror(errno));
	return 0;
}

static int make_v2(const char *name, const struct jail_limits *l, struct kx_error *err)
{
	char kx[256], dir[256], text[64];
	int rc;

	if ((rc = group_dir(NULL, NULL, kx, sizeof(kx))) != 0 ||
	    (rc = group_dir(NULL, name, dir, sizeof(dir))) != 0)
		return kx_err(err, rc, "cgroup %s: the caller's own group: %s", name, strerror(-rc));
	/* The controllers must be enabled down to the group's parent: the
	 * caller's own group delegates them (its subtree_control), kx here. */
	rc = make_dir(kx, err);
	if (rc == 0)
		rc = write_knob(kx, "cgroup.subtree_control", "+memory +cpu +pids", err);
	if (rc == 0)
		rc = make_dir(dir, err);
	if (rc != 0)
		return rc;
	if (l->memory) {
		snprintf(text, sizeof(text), "%" PRIu64, l->memory);
		if ((rc = write_knob(dir, "memory.max", text, err)) != 0)
			return rc;
	}
	if (l->cpu_milli) {
		snprintf(text, sizeof(text), "%" PRIu64 " %u",
			 (uint64_t)l->cpu_milli * CPU_PERIOD_US / 1000, CPU_PERIOD_US);
		if ((rc = write_knob(dir, "cpu.max", text, err)) != 0)
			return rc;
	}
	if (l->pids) {
		snprintf(text, sizeof(text), "%u", l->pids);
		if ((rc = write_knob(dir, "pids.max", text, err)) != 0)
			return rc;
	}
	return 0;
}

static int make_v1(const char *name, const struct jail_limits *l, struct kx_error *err)
{
	char kx[256], dir[256], text[64];
	int rc;

	for (size_t i = 0; i < N_V1; i++) {
		if (i == CPU_INDEX && l->cpu_milli == 0)
			continue; /* no limit: no group (see CPU_INDEX) */
		if ((rc = group_dir(v1_controllers[i], NULL, kx, sizeof(kx))) != 0 ||
		    (rc = group_dir(v1_controllers[i], name, dir, sizeof(dir))) != 0)
			return kx_err(err, rc, "cgroup %s: the caller's own group: %s", name, strerror(-rc));
		if ((rc = make_dir(kx, err)) != 0 || (rc = make_dir(dir, err)) != 0)
			return rc;
	}
	if (l->memory) {
		group_dir("memory", name, dir, sizeof(dir));
		snprintf(text, sizeof(text), "%" PRIu64, l->memory);
		if ((rc = write_knob(dir, "memory.limit_in_bytes", text, err)) != 0)
			return rc;
	}
	if (l->cpu_milli) {
		group_dir("cpu", name, dir, sizeof(dir));
		snprintf(text, sizeof(text), "%u", CPU_PERIOD_US);
		if ((rc = write_knob(dir, "cpu.cfs_period_us", text, err)) != 0)
			return rc;
		snprintf(text, sizeof(text), "%" PRIu64,
			 (uint64_t)l->cpu_milli * CPU_PERIOD_US / 1000);
		if ((rc = write_knob(dir, "cpu.cfs_quota_us", text, err)) != 0)
			return rc;
	}
	if (l->pids) {
		group_dir("pids", name, dir, sizeof(dir));
		snprintf(text, sizeof(text), "%u", l->pids);
		if ((rc = write_knob(dir, "pids.max", text, err)) != 0)
			return rc;
	}
	return 0;
}

int jail_cgroup_make(const char *name, const struct jail_limits *limits, struct kx_error *err)
{
	int rc;

	if (!name_ok(name))
		return kx_err(err, -EINVAL, "cgroup name '%s': 1..%d bytes of [A-Za-z0-9._-]",
			      name ? name : "", JAIL_CGROUP_NAME_MAX - 1);
	rc = is_v2() ? make_v2(name, limits, err) : make_v1(name, limits, err);
	return rc == 0 ? 0 : kx_err_wrap(err, rc, "cgroup kx/%s", name);
}

int jail_cgroup_join(const char *name, pid_t pid, struct kx_error *err)
{
	char dir[256], text[32];
	int rc;

	if (!name_ok(name))
		return kx_err(err, -EINVAL, "cgroup name '%s'", name ? name : "");
	snprintf(text, sizeof(text), "%d", pid > 0 ? (int)pid : 0);
	if (is_v2()) {
		if ((rc = group_dir(NULL, name, dir, sizeof(dir))) != 0)
			return kx_err(err, rc, "cgroup %s: the caller's own group: %s", name, strerror(-rc));
		return write_knob(dir, "cgroup.procs", text, err);
	}
	for (size_t i = 0; i < N_V1; i++) {
		if ((rc = group_dir(v1_controllers[i], name, dir, sizeof(dir))) != 0)
			return kx_err(err, rc, "cgroup %s: the caller's own group: %s", name, strerror(-rc));
		if (i == CPU_INDEX && access(dir, F_OK) != 0)
			continue; /* made without a cpu limit */
		if ((rc = write_knob(dir, "cgroup.procs", text, err)) != 0)
			return rc;
	}
	return 0;
}

int jail_cgroup_remove(const char *name)
{
	char dir[256];
	int rc = -ENOENT;

	if (!name_ok(name))
		return -EINVAL;
	for (size_t i = 0; i < (is_v2() ? 1 : N_V1); i++) {
		if (group_dir(v1_controllers[i], name, dir, sizeof(dir)) != 0)
			return -ENAMETOOLONG;
		if (rmdir(dir) == 0)
			rc = rc == -ENOENT ? 0 : rc;
		else if (errno != ENOENT)
			rc = -errno;
	}
	return rc;
}

/* The pid in "kxmon-PID" or "kxd-PID-ID", 0 for any other name. */
static pid_t owner_pid(const char *name)
{
	const char *digits = NULL;
	unsigned long v;
	char *end;

	if (strncmp(name, "kxmon-", 6) == 0)
		digits = name + 6;
	else if (strncmp(name, "kxd-", 4) == 0)
		digits = name + 4;
	if (digits == NULL || *digits < '1' || *digits > '9')
		return 0;
	v = strtoul(digits, &end, 10);
	if ((*end != '\0' && *end != '-') || v > 0x7fffffff)
		return 0;
	return (pid_t)v;
}

void jail_cgroup_sweep(void)
{
	char dir[256];
	struct dirent *e;
	DIR *d;

	if (group_dir("memory", NULL, dir, sizeof(dir)) != 0 || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		pid_t pid = owner_pid(e->d_name);

		if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH)
			jail_cgroup_remove(e->d_name);
	}
	closedir(d);
}
