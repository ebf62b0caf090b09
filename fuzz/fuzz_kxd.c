/*
 * fuzz_kxd — the checks applied to every datagram kxd and kxctl receive:
 * kxd_check_req (control requests, from kxctl; manager/kxd/proto.c),
 * chan_check_from_kxmon (channel messages, from each kxmon; manager/chan)
 * and kxd_check_resp (kxd's answers, as kxctl checks them).  No sockets: the checks are pure
 * functions of (buf, len, nfds).
 *
 * Input layout (all of it untrusted, any length):
 *   byte 0     the number of fds the datagram arrived with: its low 2 bits,
 *              0..KXD_MAX_FDS (all kxd_recv can report)
 *   bytes 1..  the datagram, handed to each check exactly (no padding, so
 *              ASan sees a read past its end)
 * The three message sizes differ, so any one input is a candidate for at
 * most one check; every input still goes through all three.
 *
 * Once a check passes, the harness reads what the receiver then reads —
 * strings, the RUN argument vector (split by kxd_split_args, kxd's own
 * code), a LINK_DONE errno — from heap copies exactly as large as their
 * field, so ASan flags any read past one.  It also aborts when a check
 * breaks a promise the receivers rely on: the fd count fits the type, the
 * type is one the receiver handles, a LINK name is a valid library name,
 * a HELLO carries the right version, a LINK_DONE result is 0 or -errno;
 * and a refusal is -EBADMSG with a non-empty, NUL-terminated reason.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/kx_hcall_abi.h" /* KX_NSIG */
#include "manager/kxd/kxd.h"

#define WHY_LEN 96 /* shorter than some reasons: truncation must stay safe */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A copy of an n-byte string field on the heap, exactly n bytes. */
static char *field_copy(const char *field, size_t n)
{
	char *copy = malloc(n);

	if (!copy)
		abort();
	memcpy(copy, field, n);
	return copy;
}

/* strlen of a field the way a receiver reads it ("%s"): past the field's
 * end is an ASan report. */
static size_t read_str(const char *field, size_t n)
{
	char *copy = field_copy(field, n);
	size_t len = strlen(copy);

	free(copy);
	return len;
}

/* A refusal must say why, within the buffer, and be the documented code. */
static void check_refusal(int rc, const char *why)
{
	if (rc != -EBADMSG || why[0] == '\0' || !memchr(why, '\0', WHY_LEN))
		abort();
}

static void after_req(const uint8_t *msg, int nfds)
{
	struct kxd_req req;
	char *argv[KXD_ARGC_MAX + 1];
	char *args, *name;

	memcpy(&req, msg, sizeof(req));
	if (req.type < KXD_REQ_PING || (req.type > KXD_REQ_UPDATE && req.type != KXD_REQ_POLICY &&
					  req.type != KXD_REQ_RELOAD &&
					  req.type != KXD_REQ_AUDIT_ROTATE && req.type != KXD_REQ_NET) ||
	    nfds != (req.type == KXD_REQ_RUN ? 3 : req.type == KXD_REQ_UPDATE ? 1 : 0))
		abort();
	/* kxd opens a RELOAD's path: one absolute path, NUL inside the length */
	if (req.type == KXD_REQ_RELOAD && req.argc != 0 &&
	    (req.argc != 1 || req.args_len < 2 || req.args_len > KXD_PATH_MAX ||
	     req.args[0] != '/' || memchr(req.args, '\0', req.args_len) != req.args + req.args_len - 1))
		abort();
	if (req.type != KXD_REQ_RUN && req.type != KXD_REQ_RELOAD && (req.argc || req.args_len))
		abort();
	read_str(req.app, sizeof(req.app));
	name = field_copy(req.name, sizeof(req.name));
	if ((req.type == KXD_REQ_LINK || req.type == KXD_REQ_UPDATE) && !kxd_libname_ok(name))
		abort();
	/* kxd hands a KILL's signal to the registry as 1..KX_NSIG-1 (0: end it) */
	if (req.sig != 0 && (req.type != KXD_REQ_KILL || req.sig < 0 || req.sig >= KX_NSIG))
		abort();
	free(name);
	if (req.type != KXD_REQ_RUN)
		return;
	/* kxd splits argv from the args it received; the copy ends where the
	 * check said the arguments end. */
	if (req.args_len == 0 || req.args_len > sizeof(req.args) || req.argc > KXD_ARGC_MAX)
		abort();
	args = field_copy(req.args, req.args_len);
	kxd_split_args(args, req.argc, argv);
	for (uint32_t i = 0; i < req.argc; i++)
		if (argv[i] < args || argv[i] + strlen(argv[i]) >= args + req.args_len)
			abort();
	if (argv[req.argc] != NULL)
		abort();
	free(args);
}

static void after_chan(const uint8_t *buf, int nfds)
{
	struct kxmon_msg msg;
	char *name;

	memcpy(&msg, buf, sizeof(msg));
	if (nfds != 0)
		abort();
	switch (msg.type) {
	case KXMON_MSG_HELLO:
		if (msg.u.hello.chan_version != KXMON_CHAN_VERSION)
			abort();
		break;
	case KXMON_MSG_LINK_REQ:
		/* kxd_lib_read looks the name up only if it is a library name */
		name = field_copy(msg.u.link_req.name, sizeof(msg.u.link_req.name));
		kxd_libname_ok(name);
		free(name);
		break;
	case KXMON_MSG_LINK_DONE:
		read_str(msg.u.done.name, sizeof(msg.u.done.name));
		read_str(msg.u.done.message, sizeof(msg.u.done.message));
		/* kxd reports strerror(-result) of a failed LINK_DONE: the
		 * check must have left only 0 or a negatable -errno. */
		if (msg.u.done.result > 0)
			abort();
		if (msg.u.done.result != 0 && strerror(-msg.u.done.result) == NULL)
			abort();
		break;
	case KXMON_MSG_UPDATE_DONE: /* kxd reports strerror(-result), as for LINK_DONE */
		read_str(msg.u.update_done.message, sizeof(msg.u.update_done.message));
		if (msg.u.update_done.result > 0 ||
		    (msg.u.update_done.result != 0 && strerror(-msg.u.update_done.result) == NULL))
			abort();
		break;
	case KXMON_MSG_EXIT:
		read_str(msg.u.exit.report, sizeof(msg.u.exit.report));
		break;
	case KXMON_MSG_KILL_REQ: /* the signal goes on to another kxmon as is */
		if (msg.u.sig.sig >= KX_NSIG || msg.u.sig.result != 0)
			abort();
		break;
	case KXMON_MSG_POSIX_ENOSYS: /* posix-mon: kxd indexes a bitmap with nr */
		if (msg.u.enosys.nr >= KXMON_ENOSYS_MAX)
			abort();
		break;
	case KXMON_MSG_SELF_REQ: /* posix-mon: no body */
	case KXMON_MSG_WAIT_CANCEL: /* no body */
	case KXMON_MSG_FORK_REQ: /* no body */
	case KXMON_MSG_WAIT_REQ: /* kxd looks the child id up in its registry */
	case KXMON_MSG_RECYCLE_READY: /* no body */
	case KXMON_MSG_FS_MOUNT_REQ: /* posix-fs: kxd looks the index up in the policy */
		break;
	case KXMON_MSG_IPC_REQ: /* kxd (ipc.c) relies on these ranges */
		if (msg.u.ipc_req.op < KXMON_IPC_GET || msg.u.ipc_req.op > KXMON_IPC_RM ||
		    (msg.u.ipc_req.op == KXMON_IPC_GET &&
		     (msg.u.ipc_req.kind < KX_IPC_KIND_PIPE || msg.u.ipc_req.kind > KX_IPC_KIND_SHM)) ||
		    (msg.u.ipc_req.flags & ~(uint32_t)(KX_IPC_CREAT | KX_IPC_EXCL)) != 0 ||
		    (msg.u.ipc_req.ends & ~(uint32_t)(KX_IPC_END_READ | KX_IPC_END_WRITE)) != 0)
			abort();
		break;
	case KXMON_MSG_NET_REPORT: /* kxd (net.c) shifts by first - 1, names the kind */
		read_str(msg.u.net_report.what, sizeof(msg.u.net_report.what));
		read_str(msg.u.net_report.iface, sizeof(msg.u.net_report.iface));
		if (msg.u.net_report.first > KXMON_NET_KINDS || msg.u.net_report.query > 2 ||
		    (msg.u.net_report.proto != 0 && msg.u.net_report.proto != 6 &&
		     msg.u.net_report.proto != 17))
			abort();
		break;
	default: /* LINK_RESP, LINK_PUSH, FORK_RESP, WAIT_RESP go the other way */
		abort();
	}
}

static void after_resp(const uint8_t *buf, int nfds)
{
	struct kxd_resp resp;

	memcpy(&resp, buf, sizeof(resp));
	if (nfds != 0 || resp.type < KXD_RESP_OK || resp.type > KXD_RESP_END)
		abort();
	read_str(resp.app, sizeof(resp.app));
	read_str(resp.text, sizeof(resp.text));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		int (*check)(const void *, size_t, int, char *, size_t);
		void (*after)(const uint8_t *, int);
		size_t msg_size;
	} checks[] = {
		{ kxd_check_req, after_req, sizeof(struct kxd_req) },
		{ chan_check_from_kxmon, after_chan, sizeof(struct kxmon_msg) },
		{ kxd_check_resp, after_resp, sizeof(struct kxd_resp) },
	};
	char *why;
	int nfds;

	if (size < 1)
		return 0;
	nfds = data[0] & 3;
	why = malloc(WHY_LEN);
	if (!why)
		abort();
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		int rc;

		memset(why, 0, WHY_LEN);
		rc = checks[i].check(data + 1, size - 1, nfds, why, WHY_LEN);
		if (rc != 0) {
			check_refusal(rc, why);
			continue;
		}
		if (size - 1 != checks[i].msg_size)
			abort();
		checks[i].after(data + 1, nfds);
	}
	free(why);
	return 0;
}
