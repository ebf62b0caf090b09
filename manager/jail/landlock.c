/*
 * landlock.c — the jail's last wall around host directories (docs/jail.md,
 * "Host directories").
 *
 * The monitor resolves every guest path with openat2(RESOLVE_BENEATH) from
 * a directory fd kxd granted; that is the monitor's own discipline.  A
 * monitor taken over by its guest need not keep it: the granted fd lies
 * outside the jail's empty root, so "..", or any *at call without the
 * resolve flags, climbs from it to the whole host file system (seccomp
 * cannot read openat2's flags behind their pointer, nor a path).  Landlock
 * makes the kernel enforce it: once the mounts are known, the calling
 * thread — and every thread and process it starts later — may reach files
 * only beneath those directories, with the rights each mount grants.
 *
 * Landlock ABI 1 cannot let a file be renamed between directories
 * (LANDLOCK_ACCESS_FS_REFER came with ABI 2, Linux 5.19), which hostfs
 * needs, so the wall needs ABI 2 or later; without it this says so and the
 * monitor runs on with its own discipline only (SECURITY.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/landlock.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "manager/jail/jail.h"

#define FS_ABI1                                                                             \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                        \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |                        \
	 LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |                    \
	 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |                        \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |                        \
	 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |                      \
	 LANDLOCK_ACCESS_FS_MAKE_SYM)
/* Newer rights, by the ABI that brought them (the kernel refuses a right
 * it does not know, so only those of its ABI are asked for). */
#define FS_TRUNCATE  (1ull << 14) /* ABI 3 */
#define FS_IOCTL_DEV (1ull << 15) /* ABI 5 */

/* What a mount lets the monitor do beneath it: reading for a read-only
 * one; for a writable one what hostfs asks for — files and directories
 * made, written, truncated, removed and renamed — never a device, FIFO,
 * socket or symbolic link made, nothing executed. */
#define RIGHTS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define RIGHTS_WRITE                                                                        \
	(RIGHTS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |       \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |                      \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REFER | FS_TRUNCATE)

int jail_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

int jail_confine_beneath(const int *dirfds, const bool *writable, size_t n,
			 struct kx_error *err)
{
	struct landlock_ruleset_attr attr = {0};
	int abi = jail_landlock_abi(), ruleset, rc = 0;
	__u64 handled;

	if (abi < 2)
		return kx_err(err, -EOPNOTSUPP,
			      "host directories: the kernel offers Landlock ABI %d, 2 or later is "
			      "needed to confine them",
			      abi);
	handled = FS_ABI1 | LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		handled |= FS_TRUNCATE;
	if (abi >= 5)
		handled |= FS_IOCTL_DEV;
	attr.handled_access_fs = handled;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		return kx_err(err, -errno, "landlock_create_ruleset: %s", strerror(errno));
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct landlock_path_beneath_attr beneath = {
			.allowed_access = (writable[i] ? RIGHTS_WRITE : RIGHTS_READ) & handled,
			.parent_fd = dirfds[i],
		};

		if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath,
			    0) != 0)
			rc = kx_err(err, -errno, "landlock_add_rule (host directory %zu): %s", i,
				    strerror(errno));
	}
	/* no_new_privs is already set: jail_enter's first step */
	if (rc == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
		rc = kx_err(err, -errno, "landlock_restrict_self: %s", strerror(errno));
	close(ruleset);
	return rc;
}
