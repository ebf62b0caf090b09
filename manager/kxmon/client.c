/*
 * kxmon/client.c — kxmon's end of the kxd channel (kxmon/kxmon.h).
 *
 * The channel is a SOCK_SEQPACKET socket: one struct kxmon_msg per
 * datagram, file descriptors with SCM_RIGHTS.  What kxd sends is checked
 * field by field (size, type, seq, NUL-terminated strings, fd count, the
 * fd being a sealed memfd) before anything is used; any violation breaks
 * the channel and the pVM ends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manager/kxmon/kxmon.h"

#define MAX_FDS 3 /* more than any message may carry: extra ones are an error */


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
	c->broken = 1;
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
		char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
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
			if (*nfds < MAX_FDS)
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
	/* An IpC object is shared memory: sealed against resizing only (kxmon/ipc.c). */
	if (*nfds == 1 && m->type != KXMON_MSG_FORK_RESP && m->type != KXMON_MSG_IPC_RESP &&
	    !chan_fd_sealed(fds[0])) {
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

int kxmon_client_send(struct kxmon_client *c, struct kxmon_msg *m)
{
	return send_msg(c, m);
}

int kxmon_client_next(struct kxmon_client *c, int timeout_ms, struct kxmon_msg *m, int *fds,
		      int *nfds)
{
	return recv_msg(c, timeout_ms, m, fds, nfds, 0, NULL);
}

/* The first message on a channel: this process's pid (kxd learns a forked
 * child's pid from it). */
static int send_hello(struct kxmon_client *c)
{
	struct kxmon_msg m;

	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_HELLO;
	m.u.hello.chan_version = KXMON_CHAN_VERSION;
	m.u.hello.pid = (uint32_t)getpid();
	return send_msg(c, &m);
}

int kxmon_client_start(struct kxmon_client *c, int fd, const struct hv_ops *ops)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->next_seq = 1;
	c->ops = ops;
	c->manager_pid = getppid();
	if (!is_seqpacket(fd)) {
		c->fd = -1;
		snprintf(c->reason, sizeof(c->reason), "--channel %d: not a SOCK_SEQPACKET socket",
			 fd);
		return -ENOTSOCK;
	}
	return send_hello(c);
}

/* Keep a push for the next safe point (it consumed its fd). */
static void queue_push(struct kxmon_client *c, const struct kxmon_msg *m, int fd)
{
	if (c->npush >= KXMON_CLIENT_PUSH_QUEUE) {
		close(fd);
		broken(c, "too many pushed links waiting", 0);
		return;
	}
	c->push[c->npush] = *m;
	c->push_fd[c->npush++] = fd;
}

/* The answer of type `type` to request seq; pushes that come first wait
 * for the next safe point.  0, or -EPIPE (broken). */
static int await_answer(struct kxmon_client *c, uint64_t seq, uint32_t type, const char *name,
			int timeout_ms, struct kxmon_msg *m, int *fds, int *nfds)
{
	for (;;) {
		int rc = recv_msg(c, timeout_ms, m, fds, nfds, seq, name);

		if (rc == 0)
			broken(c, "no answer in time", 0);
		if (rc <= 0)
			return -EPIPE;
		if (m->type == KXMON_MSG_SIGNAL) {
			kxmon_signal_queue(c, m);
			continue;
		}
		if (m->type == KXMON_MSG_LINK_PUSH) {
			queue_push(c, m, fds[0]);
			continue;
		}
		if (m->type == KXMON_MSG_UPDATE_PUSH) {
			kxmon_update_queue(c, m, fds[0]);
			continue;
		}
		if (m->type == type)
			return 0;
		for (int i = 0; i < *nfds; i++)
			close(fds[i]);
		broken(c, "an answer of the wrong kind", 0);
		return -EPIPE;
	}
}

int kxmon_client_answer(struct kxmon_client *c, uint64_t seq, int timeout_ms,
			struct kxmon_msg *m, int *fds, int *nfds)
{
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
	if (m->type == KXMON_MSG_RECYCLE_CONSOLE || m->type == KXMON_MSG_RECYCLE_APP) {
		for (int i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		broken(c, "a recycle message outside the pool's wait", 0);
		return -EPIPE;
	}
	if (m->type == KXMON_MSG_LINK_PUSH) {
		queue_push(c, m, fds[0]);
		return 2;
	}
	if (m->type == KXMON_MSG_UPDATE_PUSH) {
		kxmon_update_queue(c, m, fds[0]);
		return 2;
	}
	if (m->type == KXMON_MSG_SIGNAL) {
		kxmon_signal_queue(c, m);
		return 2;
	}
	return 1;
}

int kxmon_client_call(struct kxmon_client *c, struct kxmon_msg *m, uint32_t resp_type, int *fd)
{
	int fds[MAX_FDS], nfds = 0;
	uint64_t seq;

	*fd = -1;
	m->seq = seq = c->next_seq++;
	if (send_msg(c, m) != 0 ||
	    await_answer(c, seq, resp_type, NULL, KXMON_CLIENT_WAIT_MS, m, fds, &nfds) != 0)
		return -EPIPE;
	for (int i = 0; i < nfds; i++) {
		if (i == 0)
			*fd = fds[0];
		else
			close(fds[i]);
	}
	return 0;
}

int kxmon_client_request(void *ctx, const char *name, int at_boot, struct hv_lib_grant *grant,
			 char *why, size_t whylen)
{
	struct kxmon_client *c = ctx;
	struct kxmon_msg m;
	uint64_t seq;
	int fds[MAX_FDS], nfds;

	if (strlen(name) >= KXMON_NAME_MAX) {
		snprintf(why, whylen, "library name longer than %d bytes", KXMON_NAME_MAX - 1);
		return -EACCES;
	}
	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_LINK_REQ;
	m.seq = seq = c->next_seq++;
	snprintf(m.u.link_req.name, sizeof(m.u.link_req.name), "%s", name);
	m.u.link_req.at_boot = at_boot ? 1 : 0;
	c->requests++;
	if (send_msg(c, &m) != 0 ||
	    await_answer(c, seq, KXMON_MSG_LINK_RESP, name, KXMON_CLIENT_WAIT_MS, &m, fds, &nfds) != 0)
		goto fail;
	if (!m.u.link.allow) {
		c->denials++;
		snprintf(c->reason, sizeof(c->reason), "%s", m.u.link.reason);
		snprintf(c->denied, sizeof(c->denied), "%s", name);
		snprintf(why, whylen, "link denied: %s", m.u.link.reason);
		return -EACCES;
	}
	grant->fd = fds[0];
	grant->bind = m.u.link.bind == KXMON_BIND_NOW ? HV_BIND_NOW : HV_BIND_LAZY;
	return 0;
fail:
	snprintf(why, whylen, "%s", c->reason);
	return -EPIPE;
}

static void apply_push(struct kxmon_client *c, struct hv_vm *vm, const struct kxmon_msg *push,
		       int fd)
{
	struct hv_error err = {{0}};
	struct kxmon_msg done;
	uint64_t handle = 0;
	int rc;

	rc = c->ops->link(vm, push->u.link.name, fd,
			  push->u.link.bind == KXMON_BIND_NOW ? HV_BIND_NOW : HV_BIND_LAZY, &handle,
			  &err);
	c->pushes++;
	memset(&done, 0, sizeof(done));
	done.type = KXMON_MSG_LINK_DONE;
	done.seq = push->seq;
	done.u.done.result = rc;
	snprintf(done.u.done.name, sizeof(done.u.done.name), "%s", push->u.link.name);
	if (rc == 0)
		snprintf(done.u.done.message, sizeof(done.u.done.message), "linked as handle %llu",
			 (unsigned long long)handle);
	else
		snprintf(done.u.done.message, sizeof(done.u.done.message), "%s", err.msg);
	send_msg(c, &done);
	/* A half-linked pVM cannot go on. */
	if (rc == -EIO || rc == -EPIPE)
		c->ops->pause(vm);
}

void kxmon_client_safe_point(void *ctx, struct hv_vm *vm)
{
	struct kxmon_client *c = ctx;
	struct kxmon_msg m;
	int fds[MAX_FDS], nfds, rc;

	if (c->broken)
		return;
	while ((rc = recv_msg(c, 0, &m, fds, &nfds, 0, NULL)) > 0) {
		if (m.type == KXMON_MSG_SIGNAL) {
			kxmon_signal_queue(c, &m);
		} else if (m.type == KXMON_MSG_UPDATE_PUSH) {
			kxmon_update_queue(c, &m, fds[0]);
		} else if (m.type == KXMON_MSG_LINK_PUSH) {
			queue_push(c, &m, fds[0]);
		} else { /* RECYCLE_*: only the pool's wait takes them (kxmon/recycle.c) */
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
			broken(c, "a recycle message outside the pool's wait", 0);
		}
	}
	if (c->broken) {
		c->ops->pause(vm); /* kxmon sees the broken channel and ends the pVM */
		return;
	}
	for (unsigned i = 0; i < c->npush; i++)
		apply_push(c, vm, &c->push[i], c->push_fd[i]);
	c->npush = 0;
	kxmon_update_safe_point(c, vm);
	kxmon_signal_deliver(c, vm);
}

void kxmon_client_finish(struct kxmon_client *c, int status, int by_guest, uint64_t rip,
			 const char *report)
{
	struct kxmon_msg m;

	/* Pushes that never reached a safe point: the pVM is gone. */
	kxmon_update_finish(c);
	for (unsigned i = 0; i < c->npush; i++) {
		close(c->push_fd[i]);
		memset(&m, 0, sizeof(m));
		m.type = KXMON_MSG_LINK_DONE;
		m.seq = c->push[i].seq;
		m.u.done.result = -ESRCH;
		snprintf(m.u.done.name, sizeof(m.u.done.name), "%s", c->push[i].u.link.name);
		snprintf(m.u.done.message, sizeof(m.u.done.message), "the pVM ended first");
		send_msg(c, &m);
	}
	c->npush = 0;
	if (c->fd < 0)
		return;
	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_EXIT;
	m.u.exit.status = status;
	m.u.exit.by_guest = by_guest ? 1 : 0;
	m.u.exit.rip = rip;
	snprintf(m.u.exit.report, sizeof(m.u.exit.report), "%s", report ? report : "");
	send_msg(c, &m);
	close(c->fd);
	c->fd = -1;
}

/*
 * In the new child process: its own channel replaces the parent's (pushes
 * queued for the parent are the parent's to answer), its parent becomes
 * kxd (a subreaper) once the middle process has exited, and it dies with
 * kxd like every kxmon.
 */
static int become_child(struct kxmon_client *c, int chan, pid_t middle)
{
	int fl;

	for (unsigned i = 0; i < c->npush; i++)
		close(c->push_fd[i]);
	c->npush = 0;
	kxmon_update_forget(c);
	close(c->fd);
	c->fd = chan;
	c->next_seq = 1;
	c->sig.pending = 0; /* as fork(2): handlers are inherited, pending signals not */
	c->requests = c->denials = c->pushes = 0;
	while (getppid() == middle)
		usleep(100);
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
	return send_hello(c);
}

int kxmon_client_fork(void *ctx, uint64_t *child_id, char *why, size_t whylen)
{
	struct kxmon_client *c = ctx;
	struct kxmon_msg m;
	uint64_t seq;
	int fds[MAX_FDS], nfds, chan, wstatus;
	pid_t middle, grandchild;
	struct itimerval timeout_left;

	*child_id = 0;
	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_FORK_REQ;
	m.seq = seq = c->next_seq++;
	if (send_msg(c, &m) != 0 ||
	    await_answer(c, seq, KXMON_MSG_FORK_RESP, NULL, KXMON_CLIENT_WAIT_MS, &m, fds, &nfds) != 0) {
		snprintf(why, whylen, "%s", c->reason);
		return -EPIPE;
	}
	if (!m.u.fork.allow) {
		c->denials++;
		snprintf(c->reason, sizeof(c->reason), "%s", m.u.fork.reason);
		snprintf(why, whylen, "fork denied: %s", m.u.fork.reason);
		return m.u.fork.error;
	}
	chan = fds[0];
	/* The time left of kxmon --timeout: fork() does not pass timers on. */
	getitimer(ITIMER_REAL, &timeout_left);
	/* Two forks: the child is reparented to kxd, which reaps it.  The
	 * middle process only forks and exits: vfork() spares a second copy of
	 * kxmon's page tables (guest memory included) and their teardown; this
	 * process waits, suspended, until the middle one has exited. */
	middle = vfork();
	if (middle == 0) {
		pid_t self = getpid();

		grandchild = fork();
		if (grandchild != 0)
			_exit(grandchild < 0 ? 1 : 0);
		setitimer(ITIMER_REAL, &timeout_left, NULL); /* its parent's deadline */
		return become_child(c, chan, self);
	}
	close(chan); /* kxd sees the child's channel close if it never started */
	if (middle < 0)
		return -EAGAIN;
	while (waitpid(middle, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
		return -EAGAIN;
	*child_id = m.u.fork.child_id;
	return 0;
}

