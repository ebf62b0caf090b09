/*
 * jail.c — kxd's side of the monitors' jail (docs/jail.md).
 *
 * kxmon jails itself (manager/jail) with what kxd tells it on its command
 * line: the uid/gid from kxd's range (--jail-ids; one per family: a forked
 * monitor cannot change ids, it is jailed), its cgroup's name
 * kx/kxd-<kxd's pid>-<pVM id> and the app's limits (the manifest's
 * `memory` through -m, `resources` here).  A forked monitor is already
 * jailed and cannot make a cgroup: kxd makes its child's when the child's
 * HELLO names its pid, and moves it there.  Every pVM's group is removed
 * when kxd reaps it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manager/jail/jail.h"
#include "manager/kxd/internal.h"

void kxd_jail_name(const struct kxd_pvm *p, char *out, size_t size)
{
	snprintf(out, size, "kxd-%d-%llu", (int)getpid(), (unsigned long long)p->id);
}

/* The app's limits: `memory` (the guest's) plus the monitor's own use,
 * `resources`, kxd's defaults where the manifest says nothing. */
static void limits_of(const struct kxd *d, const char *app, struct jail_limits *out)
{
	struct kxp_app_info info;

	*out = (struct jail_limits){.pids = JAIL_PIDS_DEFAULT};
	if (app[0] == '\0' || kxp_app_lookup(d->policy, app, &info) != 0)
		return;
	out->memory = info.memory + JAIL_MEMORY_OVERHEAD;
	out->cpu_milli = info.cpu_milli;
	if (info.pids)
		out->pids = info.pids;
}

int kxd_jail_argv(struct kxd *d, const struct kxd_pvm *p, const char *app,
		  char *const *mon_argv, struct kxd_jail_args *out)
{
	struct jail_limits l;
	uint64_t n = (uint64_t)d->jail_hi - d->jail_lo + 1;
	size_t na = 0, i;

	/* mon_argv[0], the jail's options, then the rest as given. */
	for (i = 0; mon_argv[i]; i++)
		;
	if (i + 10 > sizeof(out->argv) / sizeof(out->argv[0]))
		return -E2BIG;
	out->argv[na++] = mon_argv[0];
	if (d->no_jail) {
		out->argv[na++] = (char *)"--no-jail";
	} else {
		limits_of(d, app, &l);
		/* One id per family, spread by kxd's pid so two kxds rarely share. */
		snprintf(out->id, sizeof(out->id), "%llu",
			 (unsigned long long)(d->jail_lo +
					      ((uint64_t)getpid() * 4099 + p->family_id) % n));
		kxd_jail_name(p, out->cgroup, sizeof(out->cgroup));
		snprintf(out->pids, sizeof(out->pids), "%u", l.pids);
		out->argv[na++] = (char *)"--jail-id";
		out->argv[na++] = out->id;
		out->argv[na++] = (char *)"--jail-cgroup";
		out->argv[na++] = out->cgroup;
		out->argv[na++] = (char *)"--jail-pids";
		out->argv[na++] = out->pids;
		if (l.cpu_milli) {
			snprintf(out->cpu, sizeof(out->cpu), "%u", l.cpu_milli);
			out->argv[na++] = (char *)"--jail-cpu";
			out->argv[na++] = out->cpu;
		}
	}
	for (i = 1; mon_argv[i]; i++)
		out->argv[na++] = mon_argv[i];
	out->argv[na] = NULL;
	return 0;
}

/* p's group with its app's limits, and p moved there if join. */
static void make_group(struct kxd *d, struct kxd_pvm *p, bool join)
{
	char name[JAIL_CGROUP_NAME_MAX];
	struct jail_limits l;
	struct kx_error err;

	if (d->no_jail)
		return;
	limits_of(d, p->app, &l);
	kxd_jail_name(p, name, sizeof(name));
	if (jail_cgroup_make(name, &l, &err) != 0 || (join && jail_cgroup_join(name, p->pid, &err) != 0))
		kxd_log("pVM %llu: its cgroup: %s", (unsigned long long)p->id, err.msg);
}

void kxd_jail_forked(struct kxd *d, struct kxd_pvm *p)
{
	make_group(d, p, false); /* on failure the join at HELLO fails: the child is ended */
}

int kxd_jail_child(struct kxd *d, struct kxd_pvm *p, char *why, size_t whylen)
{
	char name[JAIL_CGROUP_NAME_MAX];
	struct kx_error err;
	int rc;

	if (d->no_jail)
		return 0;
	kxd_jail_name(p, name, sizeof(name));
	rc = jail_cgroup_join(name, p->pid, &err);
	if (rc != 0)
		snprintf(why, whylen, "ended by kxd: the forked child's jail: %s", err.msg);
	return rc;
}

void kxd_jail_recycled(struct kxd *d, struct kxd_pvm *p)
{
	make_group(d, p, true); /* the join: a cpu limit the placeholder had no v1 group for */
}

void kxd_jail_report(struct kxd_pvm *p, int wstatus)
{
	if (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGSYS && !p->report[0]) {
		snprintf(p->report, sizeof(p->report),
			 "killed by its jail: a system call outside kxmon's allowlist (SIGSYS)");
		kxd_log("pVM %llu (%s): %s", (unsigned long long)p->id, p->app, p->report);
	}
}

void kxd_jail_gone(struct kxd *d, struct kxd_pvm *p)
{
	char name[JAIL_CGROUP_NAME_MAX];

	if (d->no_jail)
		return;
	kxd_jail_name(p, name, sizeof(name));
	jail_cgroup_remove(name);
}
