/*
 * kxctl reload [--enforce] [POLICY]: kxd loads POLICY (or re-reads the file
 * it enforces), checks it as at start (admin signature, serial not older
 * than any loaded) and swaps it in; running pVMs keep running.  And the
 * check `kxctl run --policy P` makes against a kxd that already runs:
 * P must be the policy kxd enforces.  docs/kxd.md, "Reloading the policy".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager/kxctl/kxctl.h"
#include "policy-lang/kxp_abi.h"
#include "signer/kxsig.h"

int kxctl_reload(const struct kxctl_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "enforce", no_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	char path[KXD_PATH_MAX], abs[PATH_MAX];
	struct kxd_req req;
	int c, fd;

	kxctl_req_init(&req, KXD_REQ_RELOAD);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+S:", longopts, NULL)) != -1) {
		if (c == 'S')
			sock = optarg;
		else if (c == 'e')
			req.flags |= KXD_RELOAD_ENFORCE;
		else
			return kxctl_usage(cmd, stderr);
	}
	if (argc - optind > 1)
		return kxctl_usage(cmd, stderr);
	if (argc - optind == 1) { /* kxd has another working directory */
		if (realpath(argv[optind], abs) == NULL) {
			fprintf(stderr, "kxctl: %s: %s\n", argv[optind], strerror(errno));
			return KXCTL_EXIT_USAGE;
		}
		if (strlen(abs) >= KXD_PATH_MAX) {
			fprintf(stderr, "kxctl: %s: path longer than %d bytes\n", abs,
				KXD_PATH_MAX - 1);
			return KXCTL_EXIT_USAGE;
		}
		req.argc = 1;
		req.args_len = (uint32_t)strlen(abs) + 1;
		memcpy(req.args, abs, req.args_len);
	}
	if (kxctl_socket_path(sock, path, sizeof(path)) != 0)
		return KXCTL_EXIT_USAGE;
	fd = kxctl_connect(path);
	if (fd < 0)
		return KXCTL_EXIT_REJECTED;
	return kxctl_simple(fd, &req);
}

/* The body digest of the policy file at path, in hex.  0, or -1 after
 * saying why. */
static int policy_digest(const char *path, char hex[2 * KXSIG_DIGEST_BYTES + 1])
{
	struct kxp_abi_header h;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "kxctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = read(fd, &h, sizeof(h));
	close(fd);
	if (n != (ssize_t)sizeof(h) || memcmp(h.magic, KXP_MAGIC, KXP_MAGIC_BYTES) != 0) {
		fprintf(stderr, "kxctl: %s: not a compiled policy (.kxp)\n", path);
		return -1;
	}
	kxsig_digest_hex(h.body_digest, hex);
	return 0;
}

int kxctl_policy_matches(int fd, const char *policy, const char *sock)
{
	char want[2 * KXSIG_DIGEST_BYTES + 1], digest[2 * KXSIG_DIGEST_BYTES + 1];
	char path[KXD_PATH_MAX] = "?";
	unsigned long long serial = 0;
	struct kxd_req req;
	struct kxd_resp resp;
	const char *p;

	if (policy_digest(policy, want) != 0)
		return -1;
	kxctl_req_init(&req, KXD_REQ_POLICY);
	if (kxctl_request(fd, &req, NULL, 0) != 0 || kxctl_answer(fd, &resp) != 0)
		return -1;
	if (resp.type != KXD_RESP_OK ||
	    sscanf(resp.text, "serial %llu\ndigest %64[0-9a-f]\n", &serial, digest) != 2) {
		fprintf(stderr, "kxctl: kxd on %s did not say which policy it runs\n", sock);
		return -1;
	}
	if (strcmp(want, digest) == 0)
		return 0;
	p = strstr(resp.text, "\npath ");
	if (p != NULL)
		snprintf(path, sizeof(path), "%.*s", (int)strcspn(p + 6, "\n"), p + 6);
	fprintf(stderr, "kxctl: kxd on %s already runs policy %s (serial %llu), not %s: to "
		"switch, run `kxctl reload %s`\n", sock, path, serial, policy, policy);
	return -1;
}
