/*
 * kxctl update [--lazy] [--deadline MS] [--socket S] ID NEW_LIB OLD_LIB:
 * replace library OLD_LIB of running pVM ID by the signed file NEW_LIB
 * (docs/update.md).  kxctl opens NEW_LIB and passes it to kxd as an fd;
 * kxd decides (gate_update) and the pVM's monitor applies it; the answer
 * comes once it is done or refused.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "manager/kxctl/kxctl.h"

#define UPDATE_WAIT_SECS 30 /* beyond the deadline: the pVM reaches a safe point */

/* 1..65535 ms: kxd refuses more than KXMON_UPDATE_DEADLINE_MAX with a clear message. */
static int parse_deadline(const char *s, uint32_t *ms)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s < '0' || *s > '9' || *end != '\0' || v == 0 || v > 0xffff)
		return -1;
	*ms = (uint32_t)v;
	return 0;
}

int kxctl_update(const struct kxctl_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 'S'},
		{"lazy", no_argument, NULL, 'l'},
		{"deadline", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	struct kxd_req req;
	struct kxd_resp resp;
	struct timeval wait = {.tv_sec = UPDATE_WAIT_SECS};
	const char *sock = NULL, *lib;
	char path[KXD_PATH_MAX];
	uint32_t deadline = KXD_UPDATE_DEADLINE_DEFAULT;
	int c, fd = -1, lib_fd = -1, rc = KXCTL_EXIT_USAGE;

	kxctl_req_init(&req, KXD_REQ_UPDATE);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+S:", longopts, NULL)) != -1) {
		if (c == 'S')
			sock = optarg;
		else if (c == 'l')
			req.flags |= KXD_UPDATE_LAZY;
		else if (c != 'd' || parse_deadline(optarg, &deadline) != 0)
			return kxctl_usage(cmd, stderr);
	}
	if (argc - optind != 3 || kxctl_parse_id(argv[optind], &req.pvm_id) != 0)
		return kxctl_usage(cmd, stderr);
	lib = argv[optind + 2];
	if (strlen(lib) >= sizeof(req.name) || !kxd_libname_ok(lib)) {
		fprintf(stderr, "kxctl: '%s' is not a library name\n", lib);
		return KXCTL_EXIT_USAGE;
	}
	strcpy(req.name, lib);
	req.flags |= deadline << KXD_UPDATE_DEADLINE_SHIFT;
	wait.tv_sec += deadline / 1000 + 1;
	lib_fd = open(argv[optind + 1], O_RDONLY | O_CLOEXEC);
	if (lib_fd < 0) {
		fprintf(stderr, "kxctl: %s: cannot open: %m\n", argv[optind + 1]);
		goto out;
	}
	if (kxctl_socket_path(sock, path, sizeof(path)) != 0)
		goto out;
	fd = kxctl_connect(path);
	if (fd < 0) {
		rc = KXCTL_EXIT_REJECTED;
		goto out;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait)) != 0 ||
	    kxctl_request(fd, &req, &lib_fd, 1) != 0 || kxctl_answer(fd, &resp) != 0)
		goto out;
	if (resp.type == KXD_RESP_OK) {
		printf("%s\n", resp.text);
		rc = KXCTL_EXIT_OK;
	} else {
		fprintf(stderr, "kxctl: %s\n", resp.text);
		rc = KXCTL_EXIT_REJECTED;
	}
out:
	if (lib_fd >= 0)
		close(lib_fd);
	if (fd >= 0)
		close(fd);
	return rc;
}
