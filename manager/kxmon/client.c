/*
 * client.c — kxmon's end of the kxd channel, the core's manager (kxmon.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/kxfd.h"
#include "manager/kxmon/kxmon.h"

static int is_seqpacket(int fd)
{
	int type = 0;
	socklen_t tl = sizeof(type);

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_SEQPACKET;
}

static void broken(struct kxmon_client *c, const char *what, int err)
{
	if (!c->broken)
		snprintf(c->reason, sizeof(c->reason), "channel to kxd: %s%s%s", what,
			 err ? ": " : "", err ? strerror(err) : "");
	c->broken = true;
}

static int send_msg(struct kxmon_client *c, struct kxmon_msg *m)
{
	ssize_t n;

	if (c->fd < 0 || c->broken)
		return -EPIPE;
	m->size = sizeof(*m);
	do
		n = send(c->fd, m, sizeof(*m), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*m)) {
		broken(c, "send failed", n < 0 ? errno : EIO);
		return -EPIPE;
	}
	return 0;
}

/* Receive one datagram (waiting at most timeout_ms, -1: forever): 1 with
 * *m and fds, 0 if nothing came in time, -EPIPE when broken. */
static int recv_msg(struct kxmon_client *c, int timeout_ms, struct kxmon_msg *m, int *fds,
		    int *nfds, uint64_t expect_seq, const char *name)
{
	union {
		char buf[CMSG_SPACE(KXMON_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	char data[sizeof(*m) + 1];
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	char why[128];
	ssize_t n;
	int rc;

	*nfds = 0;
	if (c->fd < 0 || c->broken)
		return -EPIPE;
	do
		rc = poll(&pfd, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		return 0;
	do
		n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (*nfds < KXMON_MAX_FDS)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	if (n <= 0) {
		broken(c, n == 0 ? "kxd closed it" : "receive failed", n < 0 ? errno : 0);
		goto bad;
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		broken(c, "message truncated", 0);
		goto bad;
	}
	if (chan_check_from_kxd(data, (size_t)n, *nfds, expect_seq, name, why, sizeof(why)) != 0) {
		broken(c, why, 0);
		goto bad;
	}
	memcpy(m, data, sizeof(*m));
	/* An IpC object is shared memory: sealed against resizing only (hv/ipc.c);
	 * a host directory (posix-fs) is a directory, checked by hv/fs.c. */
	if (*nfds == 1 && m->type != KXMON_MSG_FORK_RESP && m->type != KXMON_MSG_IPC_RESP &&
	    m->type != KXMON_MSG_FS_MOUNT_RESP &&
	    !kx_fd_sealed(fds[0], F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW)) {
		broken(c, "library fd is not a sealed memfd", 0);
		goto bad;
	}
	if (*nfds == 1 && m->type == KXMON_MSG_FORK_RESP && !is_seqpacket(fds[0])) {
		broken(c, "the child's channel is not a SOCK_SEQPACKET socket", 0);
		goto bad;
	}
	return 1;
bad:
	for (int i = 0; i < *nfds; i++)
		close(fds[i]);
	*nfds = 0;
	return -EPIPE;
}

/* The first message on a channel: this process's pid (kxd learns a forked
 * child's pid from it). */
static void hello_msg(struct kxmon_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = KXMON_MSG_HELLO;
	m->u.hello.chan_version = KXMON_CHAN_VERSION;
	m->u.hello.pid = (uint32_t)getpid();
}

static int send_hello(struct kxmon_client *c)
{
	struct kxmon_msg m;

	hello_msg(&m);
	return send_msg(c, &m);
}

int kxmon_client_start(struct kxmon_client *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->next_seq = 1;
	c->manager_pid = getppid();
	if (!is_seqpacket(fd)) {
		c->fd = -1;
		snprintf(c->reason, sizeof(c->reason), "--channel %d: not a SOCK_SEQPACKET socket",
			 fd);
		return -ENOTSOCK;
	}
	return send_hello(c);
}

void kxmon_client_exit(struct kxmon_client *c, int status, const char *report)
{
	struct kxmon_msg m;

	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_EXIT;
	m.u.exit.status = status;
	snprintf(m.u.exit.report, sizeof(m.u.exit.report), "%s", report);
	send_msg(c, &m);
}

void kxmon_client_close(struct kxmon_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* A message kxd pushed: the core takes it, or the channel breaks. */
static void deliver(struct kxmon_client *c, const struct kxmon_msg *m, const int *fds, int nfds)
{
	char what[64];

	if (c->pvm != NULL && hv_push(c->pvm, m, fds, nfds) == 0)
		return;
	if (c->pvm == NULL)
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
	snprintf(what, sizeof(what), "message %u out of turn", m->type);
	broken(c, what, 0);
}

static bool is_push(uint32_t type)
{
	return type == KXMON_MSG_LINK_PUSH || type == KXMON_MSG_SIGNAL ||
	       type == KXMON_MSG_UPDATE_PUSH || type == KXMON_MSG_RECYCLE_CONSOLE ||
	       type == KXMON_MSG_RECYCLE_APP ||
	       type == KXMON_MSG_NET_ATTACH; /* network */
}

/* ---- the manager -------------------------------------------------------------- */

static void mgr_bind(void *ctx, struct hv_pvm *p)
{
	struct kxmon_client *c = ctx;

	c->pvm = p;
}

static int mgr_send(void *ctx, struct kxmon_msg *m)
{
	return send_msg(ctx, m);
}

static int mgr_call(void *ctx, struct kxmon_msg *m, uint32_t resp_type, int *fds, int *nfds)
{
	struct kxmon_client *c = ctx;
	char name[KXMON_NAME_MAX] = "";
	uint64_t seq;
	int rc;

	*nfds = 0;
	if (m->type == KXMON_MSG_LINK_REQ) /* its answer must name the same library */
		snprintf(name, sizeof(name), "%s", m->u.link_req.name);
	m->seq = seq = c->next_seq++;
	if (send_msg(c, m) != 0)
		return -EPIPE;
	for (;;) {
		rc = recv_msg(c, KXMON_CLIENT_WAIT_MS, m, fds, nfds, seq, name[0] ? name : NULL);
		if (rc == 0)
			broken(c, "no answer in time", 0);
		if (rc <= 0)
			return -EPIPE;
		if (is_push(m->type)) {
			deliver(c, m, fds, *nfds);
			*nfds = 0;
			if (c->broken)
				return -EPIPE;
			continue;
		}
		if (m->type == resp_type)
			return 0;
		for (int i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		broken(c, "an answer of the wrong kind", 0);
		return -EPIPE;
	}
}

static int mgr_next(void *ctx, uint64_t seq, int timeout_ms, struct kxmon_msg *m, int *fds,
		    int *nfds)
{
	struct kxmon_client *c = ctx;
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	int rc;

	*nfds = 0;
	if (c->fd < 0 || c->broken)
		return -EPIPE;
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return 0; /* nothing in time, or a signal for kxmon: the caller looks */
	rc = recv_msg(c, 0, m, fds, nfds, seq, NULL);
	if (rc <= 0)
		return rc;
	if (is_push(m->type)) {
		deliver(c, m, fds, *nfds);
		*nfds = 0;
		return c->broken ? -EPIPE : 2;
	}
	return 1;
}

static uint64_t mgr_seq(void *ctx)
{
	struct kxmon_client *c = ctx;

	return c->next_seq++;
}

/*
 * In the new child process: its own channel replaces the parent's, its
 * parent is kxd (hv/proc.c forks with CLONE_PARENT), and it dies with kxd
 * like every kxmon.
 */
static int mgr_child(void *ctx, int chan)
{
	struct kxmon_client *c = ctx;
	struct kxmon_msg m;
	int fds[KXMON_MAX_FDS], nfds, fl;

	close(c->fd);
	c->fd = chan;
	c->next_seq = 1;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != c->manager_pid) {
		broken(c, "the manager is gone (or is not a subreaper)", 0);
		return -EPIPE;
	}
	/* SIGIO (the safe-point kick) from the new channel, to this process. */
	fl = fcntl(chan, F_GETFL);
	if (fl < 0 || fcntl(chan, F_SETOWN, getpid()) != 0 ||
	    fcntl(chan, F_SETFL, fl | O_ASYNC) != 0) {
		broken(c, "cannot watch the new channel", errno);
		return -EPIPE;
	}
	/* A forked child: its guest runs on only once kxd has moved it into
	 * its own cgroup (JAIL_READY, docs/jail.md). */
	hello_msg(&m);
	return mgr_call(c, &m, KXMON_MSG_JAIL_READY, fds, &nfds);
}

/* The client's console becomes this process's stdout and stderr. */
static int mgr_console(void *ctx, int out, int err)
{
	int rc = 0;

	(void)ctx;
	if (dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
		rc = -errno;
	close(out);
	close(err);
	return rc;
}

/* The app runs from here on: kxmon --timeout counts from now, not from the
 * pool pVM's boot. */
static void mgr_recycled(void *ctx, int rc, const char *why)
{
	const struct kxmon_client *c = ctx;

	if (rc != 0)
		fprintf(stderr, "kxmon: recycle: %s\n", why);
	else if (c->recycle_timeout)
		kxmon_alarm(c->recycle_timeout);
}

static const char *mgr_reason(void *ctx)
{
	const struct kxmon_client *c = ctx;

	return c->broken ? c->reason : "";
}

const struct hv_manager_ops kxmon_manager_ops = {
	.bind = mgr_bind,
	.call = mgr_call,
	.send = mgr_send,
	.next = mgr_next,
	.seq = mgr_seq,
	.child = mgr_child,
	.console = mgr_console,
	.recycled = mgr_recycled,
	.reason = mgr_reason,
};

/* alarm(2) through setitimer(2): the one timer call the jail allows for
 * both (hv/proc.c passes the time left to a forked child with it). */
void kxmon_alarm(unsigned secs)
{
	struct itimerval it = {.it_value = {.tv_sec = secs}};

	setitimer(ITIMER_REAL, &it, NULL);
}
