/*
 * The control protocol's checks and datagram I/O, shared by kxd and kxctl.
 * Every check takes (buf, len) of a datagram that came from a peer: its
 * input is untrusted.
 */
#define _GNU_SOURCE /* struct ucred */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/kxerr.h"
#include "guest/kx_hcall_abi.h" /* KX_NSIG */
#include "manager/kxd/kxd.h"

#define ERRNO_MAX 4095 /* Linux's MAX_ERRNO: -ERRNO_MAX..-1 are errnos */

int kxd_default_socket(char *buf, size_t size)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	int n;

	if (geteuid() == 0)
		n = snprintf(buf, size, "/run/kx/kxd.sock");
	else if (dir && dir[0] == '/')
		n = snprintf(buf, size, "%s/kx/kxd.sock", dir);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int kxd_str_ok(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

int kxd_libname_ok(const char *name)
{
	if (name[0] == '\0' || name[0] == '.')
		return 0;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p <= ' ' || *p > '~')
			return 0;
	return 1;
}

/* The common head of every message: its length, the size field, and a
 * type within [lo, hi] (hi = 0: any, the caller checks). */
static int check_head(const void *buf, size_t len, size_t want, uint32_t lo, uint32_t hi,
		      uint32_t *type, char *why, size_t whylen)
{
	uint32_t size;

	if (len != want)
		return kx_bad_msg(why, whylen, "message of %zu bytes, want %zu", len, want);
	memcpy(type, buf, sizeof(*type));
	memcpy(&size, (const char *)buf + sizeof(uint32_t), sizeof(size));
	if (size != want)
		return kx_bad_msg(why, whylen, "size field %u, want %zu", size, want);
	if (hi != 0 && (*type < lo || *type > hi))
		return kx_bad_msg(why, whylen, "unknown message type %u", *type);
	return 0;
}

/* The request types kxd answers; the ranges of kxd.h have gaps (numbers
 * reserved for features that send no request). */
static bool req_type_known(uint32_t type)
{
	switch (type) {
	case KXD_REQ_PING: case KXD_REQ_RUN: case KXD_REQ_LIST: case KXD_REQ_LINK:
	case KXD_REQ_KILL: case KXD_REQ_STOP: case KXD_REQ_UPDATE:
	case KXD_REQ_POLICY: case KXD_REQ_RELOAD: /* policy */
	case KXD_REQ_AUDIT_ROTATE: /* audit */
	case KXD_REQ_NET: /* network */
		return true;
	default:
		return false;
	}
}

int kxd_check_req(const void *buf, size_t len, int nfds, char *why, size_t whylen)
{
	struct kxd_req req;
	uint32_t type = 0;
	int rc = check_head(buf, len, sizeof(req), KXD_REQ_PING, KXD_REQ_TYPE_MAX, &type, why,
			    whylen);

	if (rc != 0)
		return rc;
	if (!req_type_known(type)) /* a gap of the reserved ranges */
		return kx_bad_msg(why, whylen, "unknown message type %u", type);
	memcpy(&req, buf, sizeof(req));
	if (nfds != (type == KXD_REQ_RUN ? 3 : type == KXD_REQ_UPDATE ? 1 : 0))
		return kx_bad_msg(why, whylen, "request type %u with %d fds", type, nfds);
	if (!kxd_str_ok(req.app, sizeof(req.app)) || !kxd_str_ok(req.name, sizeof(req.name)))
		return kx_bad_msg(why, whylen, "unterminated string");
	if ((type == KXD_REQ_LINK || type == KXD_REQ_UPDATE) && !kxd_libname_ok(req.name))
		return kx_bad_msg(why, whylen, "bad library name");
	if (type != KXD_REQ_LINK && req.as_pvm_id != 0)
		return kx_bad_msg(why, whylen, "request type %u on behalf of a pVM", type);
	/* Unused fields must be zero, so a field can gain a meaning later
	 * without an old kxd silently ignoring it. */
	if ((req.flags != 0 &&
	     !(type == KXD_REQ_RUN && (req.flags == KXD_RUN_RECYCLE || req.flags == KXD_RUN_ENV)) &&
	     !(type == KXD_REQ_UPDATE && (req.flags & ~KXD_UPDATE_FLAGS) == 0) &&
	     !(type == KXD_REQ_RELOAD && req.flags == KXD_RELOAD_ENFORCE)) ||
	    (req.sig != 0 && type != KXD_REQ_KILL))
		return kx_bad_msg(why, whylen, "request type %u with flags or a signal", type);
	if (type == KXD_REQ_KILL && (req.sig < 0 || req.sig >= KX_NSIG))
		return kx_bad_msg(why, whylen, "signal %d out of range", req.sig);
	if (type == KXD_REQ_RELOAD && !(req.argc == 0 && req.args_len == 0) &&
	    !(req.argc == 1 && req.args_len > 1 && req.args_len <= KXD_PATH_MAX &&
	      req.args[0] == '/' && strlen(req.args) == req.args_len - 1))
		return kx_bad_msg(why, whylen, "reload: not one absolute path of at most %d bytes",
				  KXD_PATH_MAX - 1);
	if (type != KXD_REQ_RUN && type != KXD_REQ_RELOAD && (req.argc != 0 || req.args_len != 0))
		return kx_bad_msg(why, whylen, "request type %u with arguments", type);
	if (type == KXD_REQ_RUN) {
		uint32_t strings = 0;

		if (req.args_len == 0 || req.args_len > sizeof(req.args) || req.argc == 0 ||
		    req.argc > KXD_ARGC_MAX || req.args[req.args_len - 1] != '\0')
			return kx_bad_msg(why, whylen, "bad argument vector");
		for (uint32_t i = 0; i < req.args_len; i++)
			strings += req.args[i] == '\0';
		if (req.flags == KXD_RUN_ENV ? strings <= req.argc || strings - req.argc > KXD_ENVC_MAX
					     : strings != req.argc)
			return kx_bad_msg(why, whylen, "argc %u but %u strings", req.argc, strings);
		/* posix-mon: every environment string is NAME=VALUE, NAME not empty */
		for (uint32_t i = 0, n = 0, start = 0; req.flags == KXD_RUN_ENV && i < req.args_len;
		     i++) {
			if (req.args[i] != '\0')
				continue;
			if (n++ >= req.argc && (req.args[start] == '=' ||
						memchr(req.args + start, '=', i - start) == NULL))
				return kx_bad_msg(why, whylen, "an environment string is not NAME=VALUE");
			start = i + 1;
		}
	}
	return 0;
}

uint32_t kxd_split_env(char *args, uint32_t args_len, uint32_t argc, char **env)
{
	uint32_t n = 0, seen = 0, start = 0;

	for (uint32_t i = 0; i < args_len && n < KXD_ENVC_MAX; i++) {
		if (args[i] != '\0')
			continue;
		if (seen++ >= argc)
			env[n++] = args + start;
		start = i + 1;
	}
	env[n] = NULL;
	return n;
}

void kxd_split_args(char *args, uint32_t argc, char **argv)
{
	size_t off = 0;

	for (uint32_t i = 0; i < argc; i++) {
		argv[i] = args + off;
		off += strlen(args + off) + 1;
	}
	argv[argc] = NULL;
}

int kxd_check_resp(const void *buf, size_t len, int nfds, char *why, size_t whylen)
{
	struct kxd_resp resp;
	uint32_t type = 0;
	int rc = check_head(buf, len, sizeof(resp), KXD_RESP_OK, KXD_RESP_END, &type, why, whylen);

	if (rc != 0)
		return rc;
	memcpy(&resp, buf, sizeof(resp));
	if (nfds != 0 || !kxd_str_ok(resp.app, sizeof(resp.app)) ||
	    !kxd_str_ok(resp.text, sizeof(resp.text)))
		return kx_bad_msg(why, whylen, "answer with %d fds or an unterminated string",
				  nfds);
	return 0;
}

int kxd_send(int sock, const void *msg, size_t len, const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * KXD_MAX_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds < 0 || nfds > KXD_MAX_FDS)
		return -EINVAL;
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int kxd_recv(int sock, void *buf, size_t size, size_t *len, int *fds, int *nfds)
{
	return kxd_recv_from(sock, buf, size, len, fds, nfds, NULL);
}

int kxd_recv_from(int sock, void *buf, size_t size, size_t *len, int *fds, int *nfds,
		  pid_t *sender)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * KXD_MAX_FDS) + CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf) };
	bool overflow;
	ssize_t n;

	*nfds = 0;
	*len = 0;
	if (sender != NULL)
		*sender = 0;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t count;

		/* the kernel's word on who sent it (SO_PASSCRED on sock) */
		if (sender != NULL && c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			struct ucred cred;

			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			*sender = cred.pid;
			continue;
		}
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < KXD_MAX_FDS)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	overflow = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
	if (overflow) {
		for (int i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		return -EMSGSIZE;
	}
	*len = (size_t)n;
	return 0;
}

int kxd_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}
