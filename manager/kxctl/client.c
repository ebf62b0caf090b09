/*
 * What the verbs that talk to kxd share: the socket they use, one request,
 * one answer.  Answers are untrusted datagrams: checked (kxd_check_resp)
 * before a field is read.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manager/kxctl/kxctl.h"

int kxctl_socket_path(const char *given, char *buf, size_t size)
{
	int rc;

	if (given) {
		if (strlen(given) >= size) {
			fprintf(stderr, "kxctl: %s: path too long\n", given);
			return -1;
		}
		strcpy(buf, given);
		return 0;
	}
	rc = kxd_default_socket(buf, size);
	if (rc != 0) {
		fprintf(stderr, "kxctl: no default kxd socket (XDG_RUNTIME_DIR unset): use "
				"--socket\n");
		return -1;
	}
	return 0;
}

int kxctl_connect(const char *path)
{
	int fd = kxd_connect(path);

	if (fd < 0)
		fprintf(stderr, "kxctl: no kxd answers on %s: %s\n", path, strerror(-fd));
	return fd;
}

void kxctl_req_init(struct kxd_req *req, enum kxd_req_type type)
{
	memset(req, 0, sizeof(*req));
	req->type = type;
	req->size = sizeof(*req);
}

int kxctl_request(int fd, const struct kxd_req *req, const int *fds, int nfds)
{
	int rc = kxd_send(fd, req, sizeof(*req), fds, nfds);

	if (rc != 0)
		fprintf(stderr, "kxctl: sending to kxd: %s\n", strerror(-rc));
	return rc;
}

int kxctl_answer(int fd, struct kxd_resp *resp)
{
	char why[256];
	int fds[KXD_MAX_FDS], nfds = 0, rc;
	size_t len;

	rc = kxd_recv(fd, resp, sizeof(*resp), &len, fds, &nfds);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (rc == -EAGAIN) {
		fprintf(stderr, "kxctl: no answer in time (the pVM has not reached a point where "
				"it can take it)\n");
		return -1;
	}
	if (rc != 0) {
		fprintf(stderr, "kxctl: reading from kxd: %s\n", strerror(-rc));
		return -1;
	}
	if (len == 0) {
		fprintf(stderr, "kxctl: kxd closed the connection\n");
		return -1;
	}
	if (kxd_check_resp(resp, len, nfds, why, sizeof(why)) != 0) {
		fprintf(stderr, "kxctl: malformed answer from kxd: %s\n", why);
		return -1;
	}
	return 0;
}

int kxctl_parse_id(const char *s, uint64_t *id)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v == 0) {
		fprintf(stderr, "kxctl: '%s' is not a pVM id\n", s);
		return -1;
	}
	*id = v;
	return 0;
}

/* --socket S and (where the verb has them) --json and --as REQ_ID; the
 * rest are operands.  Connects.  The fd, or -1 after printing why (*rc:
 * the exit status). */
int kxctl_open_verb(const struct kxctl_cmd *cmd, int argc, char **argv, bool *json,
		    const char **as, int want_operands, int *first, int *rc)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "as", required_argument, NULL, 'a' },
		{ "signal", required_argument, NULL, 's' }, /* kill: its value comes back in *as */
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	char path[KXD_PATH_MAX];
	int c, fd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+S:", longopts, NULL)) != -1) {
		if (c == 'S')
			sock = optarg;
		else if (c == 'j' && json)
			*json = true;
		else if (as && (want_operands == 2 ? c == 'a' : c == 's'))
			*as = optarg; /* link --as, kill --signal: the verb's one option value */
		else
			goto usage;
	}
	if (argc - optind != want_operands)
		goto usage;
	*first = optind;
	if (kxctl_socket_path(sock, path, sizeof(path)) != 0) {
		*rc = KXCTL_EXIT_USAGE;
		return -1;
	}
	fd = kxctl_connect(path);
	if (fd < 0)
		*rc = KXCTL_EXIT_REJECTED;
	return fd;
usage:
	*rc = kxctl_usage(cmd, stderr);
	return -1;
}

/* Send req, print the answer's text: OK -> 0 (text to stdout), ERROR -> 1. */
int kxctl_simple(int fd, const struct kxd_req *req)
{
	struct kxd_resp resp;
	int rc = KXCTL_EXIT_USAGE;

	if (kxctl_request(fd, req, NULL, 0) == 0 && kxctl_answer(fd, &resp) == 0) {
		if (resp.type == KXD_RESP_OK) {
			if (resp.text[0])
				printf("%s\n", resp.text);
			rc = KXCTL_EXIT_OK;
		} else {
			fprintf(stderr, "kxctl: %s\n", resp.text);
			rc = KXCTL_EXIT_REJECTED;
		}
	}
	close(fd);
	return rc;
}
