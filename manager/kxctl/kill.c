/*
 * kxctl kill [--signal N] ID: end pVM ID, or send it signal N.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "guest/kx_hcall_abi.h" /* KX_NSIG */
#include "manager/kxctl/kxctl.h"

int kxctl_kill(const struct kxctl_cmd *cmd, int argc, char **argv)
{
	struct kxd_req req;
	const char *sig_arg = NULL;
	int first, rc = KXCTL_EXIT_USAGE;
	int fd = kxctl_open_verb(cmd, argc, argv, NULL, &sig_arg, 1, &first, &rc);

	if (fd < 0)
		return rc;
	kxctl_req_init(&req, KXD_REQ_KILL);
	if (kxctl_parse_id(argv[first], &req.pvm_id) != 0)
		goto usage;
	if (sig_arg) {
		char *end;
		long sig = strtol(sig_arg, &end, 10);

		if (end == sig_arg || *end != '\0' || sig < 1 || sig >= KX_NSIG) {
			fprintf(stderr, "kxctl: --signal %s: not a signal number 1..%d\n", sig_arg,
				KX_NSIG - 1);
			goto usage;
		}
		req.sig = (int32_t)sig;
	}
	return kxctl_simple(fd, &req);
usage:
	close(fd);
	return KXCTL_EXIT_USAGE;
}
