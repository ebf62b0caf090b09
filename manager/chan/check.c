/*
 * The checks of both directions of the kxd<->kxmon channel (chan.h): every
 * datagram is untrusted input for the side that receives it.  Each check is
 * a pure function of (buf, len, nfds, the request in flight), fuzzed by
 * fuzz_kxd (kxmon -> kxd) and fuzz_kxmon (kxd -> kxmon), and returns 0 or
 * -EBADMSG with a reason.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/kxerr.h"
#include "guest/kx_hcall_abi.h"
#include "manager/chan/chan.h"

#define ERRNO_MAX 4095 /* Linux's MAX_ERRNO: -ERRNO_MAX..-1 are errnos */

static int str_ok(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

/* 0 or -errno (a peer negates a failure to name it: INT32_MIN would overflow). */
static bool errno_result(int32_t r)
{
	return r <= 0 && r >= -ERRNO_MAX;
}

/* ---- kxmon -> kxd ----------------------------------------------------------- */

int chan_check_from_kxmon(const void *buf, size_t len, int nfds, char *why, size_t whylen)
{
	struct kxmon_msg msg;
	uint32_t type;

	if (len != sizeof(msg))
		return kx_bad_msg(why, whylen, "message of %zu bytes, want %zu", len, sizeof(msg));
	memcpy(&msg, buf, sizeof(msg));
	type = msg.type;
	if (msg.size != sizeof(msg))
		return kx_bad_msg(why, whylen, "size field %u, want %zu", msg.size, sizeof(msg));
	if (nfds != 0)
		return kx_bad_msg(why, whylen, "message type %u with %d fds", type, nfds);
	switch (type) {
	case KXMON_MSG_HELLO:
		if (msg.u.hello.chan_version != KXMON_CHAN_VERSION)
			return kx_bad_msg(why, whylen, "channel version %u, want %u",
					  msg.u.hello.chan_version, KXMON_CHAN_VERSION);
		return 0;
	case KXMON_MSG_LINK_REQ:
		if (!str_ok(msg.u.link_req.name, sizeof(msg.u.link_req.name)))
			return kx_bad_msg(why, whylen, "LINK_REQ name without its NUL");
		if (msg.u.link_req.at_boot > 1)
			return kx_bad_msg(why, whylen, "LINK_REQ at_boot %u",
					  msg.u.link_req.at_boot);
		return 0;
	case KXMON_MSG_LINK_DONE:
		if (!str_ok(msg.u.done.name, sizeof(msg.u.done.name)) ||
		    !str_ok(msg.u.done.message, sizeof(msg.u.done.message)))
			return kx_bad_msg(why, whylen, "LINK_DONE string without its NUL");
		if (!errno_result(msg.u.done.result))
			return kx_bad_msg(why, whylen, "LINK_DONE result %d is not 0 or -errno",
					  msg.u.done.result);
		return 0;
	case KXMON_MSG_UPDATE_DONE:
		if (!str_ok(msg.u.update_done.message, sizeof(msg.u.update_done.message)))
			return kx_bad_msg(why, whylen, "UPDATE_DONE message without its NUL");
		if (!errno_result(msg.u.update_done.result))
			return kx_bad_msg(why, whylen, "UPDATE_DONE result %d is not 0 or -errno",
					  msg.u.update_done.result);
		return 0;
	case KXMON_MSG_EXIT:
		if (!str_ok(msg.u.exit.report, sizeof(msg.u.exit.report)))
			return kx_bad_msg(why, whylen, "EXIT report without its NUL");
		return 0;
	case KXMON_MSG_IPC_REQ: /* ids and keys are checked against kxd's table */
		if (msg.u.ipc_req.op < KXMON_IPC_GET || msg.u.ipc_req.op > KXMON_IPC_RM ||
		    (msg.u.ipc_req.op == KXMON_IPC_GET &&
		     (msg.u.ipc_req.kind < KX_IPC_KIND_PIPE || msg.u.ipc_req.kind > KX_IPC_KIND_SHM)) ||
		    (msg.u.ipc_req.flags & ~(uint32_t)(KX_IPC_CREAT | KX_IPC_EXCL)) != 0 ||
		    (msg.u.ipc_req.ends & ~(uint32_t)(KX_IPC_END_READ | KX_IPC_END_WRITE)) != 0)
			return kx_bad_msg(why, whylen, "IPC_REQ op %u kind %u flags %#x ends %#x",
					  msg.u.ipc_req.op, msg.u.ipc_req.kind, msg.u.ipc_req.flags,
					  msg.u.ipc_req.ends);
		return 0;
	case KXMON_MSG_KILL_REQ: /* the target is checked against the registry */
		if (msg.u.sig.sig >= KX_NSIG || msg.u.sig.result != 0)
			return kx_bad_msg(why, whylen, "KILL_REQ signal %u result %d",
					  msg.u.sig.sig, msg.u.sig.result);
		return 0;
	case KXMON_MSG_FS_MOUNT_REQ: /* posix-fs: kxd looks the index up in the policy */
		if (msg.u.fs_mount_req.reserved != 0)
			return kx_bad_msg(why, whylen, "FS_MOUNT_REQ reserved field not 0");
		return 0;
	case KXMON_MSG_NET_REPORT:
		if (!str_ok(msg.u.net_report.what, sizeof(msg.u.net_report.what)) ||
		    !str_ok(msg.u.net_report.iface, sizeof(msg.u.net_report.iface)) ||
		    msg.u.net_report.first > KXMON_NET_KINDS || msg.u.net_report.query > 2 ||
		    (msg.u.net_report.proto != 0 && msg.u.net_report.proto != 6 &&
		     msg.u.net_report.proto != 17))
			return kx_bad_msg(why, whylen, "NET_REPORT kind %u or a string without its NUL",
					  msg.u.net_report.first);
		return 0;
	case KXMON_MSG_POSIX_ENOSYS: /* posix-mon */
		if (msg.u.enosys.nr >= KXMON_ENOSYS_MAX || msg.u.enosys.reserved != 0)
			return kx_bad_msg(why, whylen, "POSIX_ENOSYS number %u out of range",
					  msg.u.enosys.nr);
		return 0;
	case KXMON_MSG_SELF_REQ: /* posix-mon: no body */
	case KXMON_MSG_WAIT_CANCEL:
	case KXMON_MSG_FORK_REQ:
	case KXMON_MSG_WAIT_REQ: /* the child id is checked against the registry */
	case KXMON_MSG_RECYCLE_READY: /* no body; kxd checks the pVM is a pooled one */
		return 0;
	default:
		return kx_bad_msg(why, whylen, "unexpected message type %u", type);
	}
}

/* ---- kxd -> kxmon ----------------------------------------------------------- */

static int check_ipc_resp(const struct kxmon_msg *m, int nfds, char *why, size_t whylen)
{
	const struct kxmon_ipc_resp *r = &m->u.ipc_resp;

	if (memchr(r->reason, '\0', sizeof(r->reason)) == NULL)
		return kx_bad_msg(why, whylen, "IPC_RESP reason without its NUL");
	if (!errno_result(r->result))
		return kx_bad_msg(why, whylen, "IPC_RESP result is not 0 or -errno");
	if (r->map > 1 || (r->map && r->result != 0) || nfds != (r->map ? 1 : 0))
		return kx_bad_msg(why, whylen, "IPC_RESP: wrong number of file descriptors");
	if ((r->ends & ~(uint32_t)(KX_IPC_END_READ | KX_IPC_END_WRITE)) != 0)
		return kx_bad_msg(why, whylen, "IPC_RESP ends out of range");
	if (r->map && (r->kind < KX_IPC_KIND_PIPE || r->kind > KX_IPC_KIND_SHM || r->id == 0 ||
		       r->data_size == 0 || r->data_size % KX_PAGE_SIZE != 0))
		return kx_bad_msg(why, whylen, "IPC_RESP kind, id or size out of range");
	return 0;
}

static int check_signal(const struct kxmon_msg *m, int nfds, char *why, size_t whylen)
{
	const struct kxmon_sig *s = &m->u.sig;

	if (nfds != 0)
		return kx_bad_msg(why, whylen, "a signal message with file descriptors");
	if (m->type == KXMON_MSG_SIGNAL && (s->sig == 0 || s->sig >= KX_NSIG))
		return kx_bad_msg(why, whylen, "SIGNAL number %u out of range", s->sig);
	if (m->type == KXMON_MSG_KILL_RESP && s->result != 0 && s->result != -ESRCH &&
	    s->result != -EACCES && s->result != -EINVAL)
		return kx_bad_msg(why, whylen, "KILL_RESP result %d out of range", s->result);
	return 0;
}

static int check_recycle(const struct kxmon_msg *m, int nfds, char *why, size_t whylen)
{
	const struct kxmon_recycle_app *a = &m->u.recycle;
	uint32_t strings = 0;

	if (m->type == KXMON_MSG_RECYCLE_CONSOLE)
		return nfds == 2 ? 0 : kx_bad_msg(why, whylen, "RECYCLE_CONSOLE without its 2 fds");
	if (nfds != 1)
		return kx_bad_msg(why, whylen, "RECYCLE_APP without its library fd");
	if (memchr(a->name, '\0', sizeof(a->name)) == NULL || a->name[0] == '\0' ||
	    memchr(a->version, '\0', sizeof(a->version)) == NULL)
		return kx_bad_msg(why, whylen, "RECYCLE_APP name or version without its NUL");
	if (a->argc == 0 || a->argc > KXMON_RECYCLE_ARGC_MAX || a->args_len == 0 ||
	    a->args_len > sizeof(a->args) || a->args[a->args_len - 1] != '\0')
		return kx_bad_msg(why, whylen, "RECYCLE_APP argument vector out of range");
	for (uint32_t i = 0; i < a->args_len; i++)
		strings += a->args[i] == '\0';
	if (strings != a->argc)
		return kx_bad_msg(why, whylen, "RECYCLE_APP argc does not match its strings");
	return 0;
}

static int check_update(const struct kxmon_msg *m, int nfds, char *why, size_t whylen)
{
	const struct kxmon_update *u = &m->u.update;

	if (memchr(u->old_name, '\0', sizeof(u->old_name)) == NULL || u->old_name[0] == '\0' ||
	    memchr(u->version, '\0', sizeof(u->version)) == NULL)
		return kx_bad_msg(why, whylen, "UPDATE_PUSH: a name or version without its NUL");
	if (u->flags & ~KXMON_UPDATE_LAZY)
		return kx_bad_msg(why, whylen, "UPDATE_PUSH: unknown flags");
	if (u->deadline_ms == 0 || u->deadline_ms > KXMON_UPDATE_DEADLINE_MAX)
		return kx_bad_msg(why, whylen, "UPDATE_PUSH: deadline out of range");
	if (nfds != 1)
		return kx_bad_msg(why, whylen, "UPDATE_PUSH: wrong number of file descriptors");
	return 0;
}

/* The body of a FORK_RESP or WAIT_RESP (check_link does the LINK ones). */
static int check_proc(const struct kxmon_msg *m, int nfds, char *why, size_t whylen)
{
	const struct kxmon_fork *f = &m->u.fork;

	if (m->type == KXMON_MSG_KILL_RESP)
		return check_signal(m, nfds, why, whylen);
	if (m->type == KXMON_MSG_WAIT_RESP) {
		if (m->u.wait.result != 0 && m->u.wait.result != -ECHILD &&
		    m->u.wait.result != -EINTR)
			return kx_bad_msg(why, whylen, "WAIT_RESP result not 0, -ECHILD, -EINTR");
		if (nfds != 0)
			return kx_bad_msg(why, whylen, "wrong number of file descriptors");
		return 0;
	}
	if (f->allow > 1 || !str_ok(f->reason, sizeof(f->reason)))
		return kx_bad_msg(why, whylen,
				  "FORK_RESP allow out of range or reason without NUL");
	if (f->allow ? (f->child_id == 0 || f->error != 0)
		     : (f->error != -EACCES && f->error != -EAGAIN))
		return kx_bad_msg(why, whylen, "FORK_RESP child id or error out of range");
	if (nfds != (f->allow ? 1 : 0))
		return kx_bad_msg(why, whylen, "wrong number of file descriptors");
	return 0;
}

static int check_link(const struct kxmon_msg *m, int nfds, const char *name, char *why,
		      size_t whylen)
{
	const struct kxmon_link *l = &m->u.link;

	if (l->allow > 1 || l->bind > KXMON_BIND_NOW)
		return kx_bad_msg(why, whylen, "LINK allow/bind out of range");
	if (!str_ok(l->name, sizeof(l->name)) || !str_ok(l->version, sizeof(l->version)) ||
	    !str_ok(l->reason, sizeof(l->reason)))
		return kx_bad_msg(why, whylen, "a string without its NUL");
	if (m->type == KXMON_MSG_LINK_RESP && name != NULL && strcmp(l->name, name) != 0)
		return kx_bad_msg(why, whylen, "LINK_RESP for another library");
	if (m->type == KXMON_MSG_LINK_PUSH && (l->allow != 1 || l->name[0] == '\0'))
		return kx_bad_msg(why, whylen, "LINK_PUSH must allow a named library");
	if (nfds != (l->allow ? 1 : 0))
		return kx_bad_msg(why, whylen, "wrong number of file descriptors");
	return 0;
}

/* posix-fs: a mount granted (a normalised absolute mount point, one fd), or
 * -ENOENT (no more) / -EACCES (denied), no fd. */
static int check_fs_mount(const struct kxmon_msg *m, int nfds, char *why, size_t whylen)
{
	const struct kxmon_fs_mount *f = &m->u.fs_mount;
	const char *g = f->guest;
	size_t len;

	if (!str_ok(f->guest, sizeof(f->guest)) || !str_ok(f->reason, sizeof(f->reason)))
		return kx_bad_msg(why, whylen, "FS_MOUNT_RESP string without its NUL");
	if (f->result != 0 && f->result != -ENOENT && f->result != -EACCES)
		return kx_bad_msg(why, whylen, "FS_MOUNT_RESP result %d out of range", f->result);
	if (nfds != (f->result == 0 ? 1 : 0))
		return kx_bad_msg(why, whylen, "FS_MOUNT_RESP: wrong number of file descriptors");
	if (f->result != 0)
		return 0;
	len = strlen(g);
	if (f->writable > 1 || (f->writable && f->max == 0))
		return kx_bad_msg(why, whylen, "FS_MOUNT_RESP writable %u max %llu", f->writable,
				  (unsigned long long)f->max);
	if (len < 2 || g[0] != '/' || g[len - 1] == '/' || strstr(g, "//") != NULL ||
	    strstr(g, "/./") != NULL || strstr(g, "/../") != NULL ||
	    (len >= 2 && strcmp(g + len - 2, "/.") == 0) ||
	    (len >= 3 && strcmp(g + len - 3, "/..") == 0))
		return kx_bad_msg(why, whylen, "FS_MOUNT_RESP mount point is not normalised");
	return 0;
}

static int check_net_attach(const struct kxmon_msg *m, int nfds, char *why, size_t whylen)
{
	const struct kxmon_net_attach *a = &m->u.net_attach;
	static const uint8_t zero[6];

	if (!str_ok(a->iface, sizeof(a->iface)))
		return kx_bad_msg(why, whylen, "NET_ATTACH interface name without its NUL");
	if (nfds == 0 && a->iface[0] == '\0' && memcmp(a->mac, zero, sizeof(zero)) == 0 &&
	    a->index == 0)
		return 0; /* "no interface" */
	if (nfds != 2 || a->iface[0] == '\0')
		return kx_bad_msg(why, whylen, "NET_ATTACH without its TAP and rules fds");
	if ((a->mac[0] & 1) != 0 || memcmp(a->mac, zero, sizeof(zero)) == 0 || a->index != 0)
		return kx_bad_msg(why, whylen, "NET_ATTACH MAC not unicast, or index not 0");
	return 0;
}

int chan_check_from_kxd(const void *buf, size_t len, int nfds, uint64_t expect_seq,
			const char *name, char *why, size_t whylen)
{
	struct kxmon_msg m;

	if (len != sizeof(m))
		return kx_bad_msg(why, whylen, "message of the wrong size");
	memcpy(&m, buf, sizeof(m));
	if (m.size != sizeof(m))
		return kx_bad_msg(why, whylen, "message size field is wrong");
	switch (m.type) {
	case KXMON_MSG_LINK_PUSH:
		return check_link(&m, nfds, name, why, whylen);
	case KXMON_MSG_UPDATE_PUSH:
		return check_update(&m, nfds, why, whylen);
	case KXMON_MSG_IPC_RESP:
		if (expect_seq == 0 || m.seq != expect_seq)
			return kx_bad_msg(why, whylen, "IPC_RESP with a seq that no IPC_REQ has");
		return check_ipc_resp(&m, nfds, why, whylen);
	case KXMON_MSG_RECYCLE_CONSOLE:
	case KXMON_MSG_RECYCLE_APP:
		return check_recycle(&m, nfds, why, whylen);
	case KXMON_MSG_SIGNAL:
		return check_signal(&m, nfds, why, whylen);
	case KXMON_MSG_FS_MOUNT_RESP: /* posix-fs */
		if (expect_seq == 0 || m.seq != expect_seq)
			return kx_bad_msg(why, whylen, "FS_MOUNT_RESP with a seq no request has");
		return check_fs_mount(&m, nfds, why, whylen);
	case KXMON_MSG_NET_ATTACH:
		return check_net_attach(&m, nfds, why, whylen);
	case KXMON_MSG_SELF_RESP: /* posix-mon */
		if (expect_seq == 0 || m.seq != expect_seq)
			return kx_bad_msg(why, whylen, "an answer with a seq that no request has");
		if (nfds != 0 || m.u.self.pvm_id == 0 || m.u.self.parent_id == m.u.self.pvm_id)
			return kx_bad_msg(why, whylen, "SELF_RESP ids out of range");
		return 0;
	case KXMON_MSG_LINK_RESP:
	case KXMON_MSG_FORK_RESP:
	case KXMON_MSG_KILL_RESP:
	case KXMON_MSG_WAIT_RESP:
	case KXMON_MSG_JAIL_READY:
		/* An answer: to the request in flight, and of its kind (the caller) */
		if (expect_seq == 0 || m.seq != expect_seq)
			return kx_bad_msg(why, whylen, "%s",
					  m.type == KXMON_MSG_LINK_RESP
						  ? "LINK_RESP with a seq that no LINK_REQ has"
						  : "an answer with a seq that no request has");
		if (m.type == KXMON_MSG_JAIL_READY)
			return nfds == 0 ? 0 : kx_bad_msg(why, whylen, "JAIL_READY with fds");
		return m.type == KXMON_MSG_LINK_RESP ? check_link(&m, nfds, name, why, whylen)
						     : check_proc(&m, nfds, why, whylen);
	default:
		return kx_bad_msg(why, whylen, "unexpected message type");
	}
}

