/*
 * kxctl link [--as REQ_ID] ID LIB: link library LIB into running pVM ID,
 * asked by the operator or on behalf of running pVM REQ_ID.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "manager/kxctl/kxctl.h"

#define LINK_WAIT_SECS 30 /* for the pVM to map a pushed library */

static const struct timeval link_wait = { .tv_sec = LINK_WAIT_SECS };

int kxctl_link(const struct kxctl_cmd *cmd, int argc, char **argv)
{
	struct kxd_req req;
	const char *as = NULL, *lib;
	int first, rc = KXCTL_EXIT_USAGE;
	int fd = kxctl_open_verb(cmd, argc, argv, NULL, &as, 2, &first, &rc);

	if (fd < 0)
		return rc;
	kxctl_req_init(&req, KXD_REQ_LINK);
	if (kxctl_parse_id(argv[first], &req.pvm_id) != 0 ||
	    (as && kxctl_parse_id(as, &req.as_pvm_id) != 0))
		goto usage;
	lib = argv[first + 1];
	if (strlen(lib) >= sizeof(req.name) || !kxd_libname_ok(lib)) {
		fprintf(stderr, "kxctl: '%s' is not a library name\n", lib);
		goto usage;
	}
	strcpy(req.name, lib);
	/* The pVM maps a push at its next hypercall: one that never makes one
	 * never answers.  Do not wait forever (the push stays queued). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &link_wait, sizeof(link_wait)) != 0)
		goto usage;
	return kxctl_simple(fd, &req);
usage:
	close(fd);
	return KXCTL_EXIT_USAGE;
}
