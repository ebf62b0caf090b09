/*
 * kxctl stop: end every pVM and stop kxd.
 */
#include <stdbool.h>
#include <unistd.h>

#include "manager/kxctl/kxctl.h"

int kxctl_stop(const struct kxctl_cmd *cmd, int argc, char **argv)
{
	struct kxd_req req;
	struct kxd_resp resp;
	int first, rc = KXCTL_EXIT_USAGE;
	int fd = kxctl_open_verb(cmd, argc, argv, NULL, NULL, 0, &first, &rc);

	if (fd < 0)
		return rc;
	kxctl_req_init(&req, KXD_REQ_STOP);
	if (kxctl_request(fd, &req, NULL, 0) == 0 && kxctl_answer(fd, &resp) == 0 &&
	    resp.type == KXD_RESP_OK) {
		/* kxd closes every connection once its pVMs are gone */
		char byte;

		while (read(fd, &byte, 1) > 0)
			;
		rc = KXCTL_EXIT_OK;
	}
	close(fd);
	return rc;
}
