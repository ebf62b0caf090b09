/*
 * files.c — host directories of the app's `files` rules (posix-fs;
 * docs/posix.md "Files: host directories"): kxd's half of a mount.
 *
 * While a pVM's image loads, its monitor asks for mount 0, 1, ...
 * (FS_MOUNT_REQ).  Mount i is the app's i-th `files` rule with a host
 * directory (the image's own tree needs no host directory).  kxd opens the
 * directory O_PATH|O_DIRECTORY first and asks the gate about the directory
 * it actually opened (its path as the kernel names it): a rule's host path
 * that is, or passes through, a symbolic link to somewhere else is a DENY
 * — the policy grants the directory it names, not what a link makes of it —
 * and there is no window to swap the path between the decision and the
 * open.  Every decision is audited (gate_file) with the rule's file:line.
 * On ALLOW the fd goes to the monitor, which keeps every access beneath
 * it; on DENY the monitor fails the boot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "manager/kxd/internal.h"

/* The index-th rule of app with a host directory. */
static int host_rule(const struct kxp_policy *policy, const char *app, uint32_t index,
		     struct kxp_file_info *out)
{
	uint32_t seen = 0;

	for (size_t i = 0;; i++) {
		int rc = kxp_file_at(policy, app, i, out);

		if (rc != 0)
			return rc;
		if (out->host != NULL && seen++ == index)
			return 0;
	}
}

/* The path of the directory fd names, as the kernel resolved it. */
static int path_of(int fd, char *out, size_t size)
{
	char proc[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, out, size - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n >= size - 1)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return 0;
}

void kxd_fs_mount_req(struct kxd *d, struct kxd_pvm *p, const struct kxmon_msg *in)
{
	struct kxmon_msg msg;
	struct kxmon_fs_mount *r = &msg.u.fs_mount;
	struct kxp_file_info info;
	struct gate_subject self;
	struct gate_decision dec;
	char real[PATH_MAX];
	int fd = -1, rc;

	memset(&msg, 0, sizeof(msg));
	msg.type = KXMON_MSG_FS_MOUNT_RESP;
	msg.size = sizeof(msg);
	msg.seq = in->seq;
	if (p->app[0] == '\0' || host_rule(d->policy, p->app, in->u.fs_mount_req.index, &info)) {
		r->result = -ENOENT; /* no more (or an empty pooled pVM: none) */
		goto send;
	}
	r->result = -EACCES;
	if (strlen(info.guest) >= sizeof(r->guest)) {
		snprintf(r->reason, sizeof(r->reason), "files: mount point %s is too long",
			 info.guest);
		goto send;
	}
	fd = open(info.host, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (rc = path_of(fd, real, sizeof(real))) != 0) {
		snprintf(r->reason, sizeof(r->reason), "files: %s for %s: %s", info.host,
			 info.guest, strerror(fd < 0 ? errno : -rc));
		goto send;
	}
	kxd_pvm_subject(p, &self);
	rc = gate_file(d->gate, &self, info.guest, real, info.mode == KXP_MODE_RW, &dec);
	if (rc != 0 || dec.verdict != KXP_ALLOW) {
		char what[PATH_MAX + 64];

		snprintf(what, sizeof(what), "files: mount of %s at %s", real, info.guest);
		kxd_describe_denial(&dec, rc, what, r->reason, sizeof(r->reason));
		goto send;
	}
	r->result = 0;
	r->writable = info.mode == KXP_MODE_RW;
	r->max = r->writable ? info.max : 0;
	snprintf(r->guest, sizeof(r->guest), "%s", info.guest);
send:
	/* The boot asks the next one after a grant; "no more" or a denial
	 * (which fails the boot) settles them (chan.c refuses any later). */
	if (r->result == 0)
		p->mounts_next++;
	else
		p->mounts_settled = true;
	if (r->result == -EACCES)
		kxd_log("pVM %llu (%s): %s", (unsigned long long)p->id, p->app, r->reason);
	rc = kxd_chan_send(d, p, &msg, sizeof(msg), &fd, r->result == 0 ? 1 : 0);
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		kxd_log("pVM %llu (%s): cannot answer FS_MOUNT_REQ on its channel",
			(unsigned long long)p->id, p->app);
}
