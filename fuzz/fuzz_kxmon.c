/*
 * fuzz_kxmon — kxmon's check of every datagram kxd sends it
 * (chan_check_from_kxd in manager/chan/check.c, with the per-feature checks
 * it calls: IpC, signals, update, recycling).
 * The channel's contract says each side treats the other's messages as
 * untrusted; this is kxmon's half of what fuzz_kxd does for kxd.  No
 * sockets: the check is a pure function of (buf, len, nfds, the request in
 * flight).
 *
 * Input layout (all of it untrusted, any length):
 *   byte 0     bits 0-1: the number of fds the datagram arrived with
 *              (0..3, all kxmon's receive can report); bit 2: a request
 *              is in flight, with the datagram's own seq (or 1 when that
 *              is 0); bit 3: the request in flight names "libkvmath.so"
 *   bytes 1..  the datagram, handed over exactly (no padding, so ASan
 *              sees a read past its end)
 *
 * Once the check passes, the harness reads what kxmon then reads — the
 * strings of the message's body, a recycled app's argument vector — from
 * heap copies exactly as large as their field, and aborts when the check
 * broke a promise kxmon relies on: the type is one kxmon handles, the fd
 * count is the one that type carries, answers match the request in flight.
 * A refusal must be -EBADMSG with a non-empty, NUL-terminated reason.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/kx_hcall_abi.h"
#include "manager/chan/chan.h"

#define WHY_LEN 96 /* shorter than some reasons: truncation must stay safe */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* strlen of an n-byte field from an exactly n-byte heap copy. */
static size_t read_str(const char *field, size_t n)
{
	char *copy = malloc(n);
	size_t len;

	if (copy == NULL)
		abort();
	memcpy(copy, field, n);
	len = strlen(copy);
	free(copy);
	return len;
}

static void need(int cond)
{
	if (!cond)
		abort();
}

/* The recycled app's argv, walked as kxmon lays it out for the guest. */
static void read_args(const struct kxmon_recycle_app *a)
{
	char *copy = malloc(a->args_len);
	uint32_t strings = 0;

	if (copy == NULL)
		abort();
	memcpy(copy, a->args, a->args_len);
	for (size_t off = 0; off < a->args_len; strings++)
		off += strlen(copy + off) + 1;
	free(copy);
	need(strings == a->argc);
}

static void after(const struct kxmon_msg *m, int nfds, uint64_t expect_seq, const char *name)
{
	switch (m->type) {
	case KXMON_MSG_LINK_RESP:
	case KXMON_MSG_LINK_PUSH:
		need(m->u.link.allow <= 1 && nfds == (int)m->u.link.allow);
		read_str(m->u.link.name, sizeof(m->u.link.name));
		read_str(m->u.link.version, sizeof(m->u.link.version));
		read_str(m->u.link.reason, sizeof(m->u.link.reason));
		if (m->type == KXMON_MSG_LINK_RESP) {
			need(expect_seq != 0 && m->seq == expect_seq);
			need(name == NULL || strcmp(m->u.link.name, name) == 0);
		}
		break;
	case KXMON_MSG_FORK_RESP:
		need(expect_seq != 0 && m->seq == expect_seq);
		need(nfds == (m->u.fork.allow ? 1 : 0));
		need(!m->u.fork.allow || m->u.fork.child_id != 0);
		read_str(m->u.fork.reason, sizeof(m->u.fork.reason));
		break;
	case KXMON_MSG_WAIT_RESP:
	case KXMON_MSG_KILL_RESP:
		need(expect_seq != 0 && m->seq == expect_seq && nfds == 0);
		break;
	case KXMON_MSG_SIGNAL:
		need(nfds == 0 && m->u.sig.sig > 0 && m->u.sig.sig < KX_NSIG);
		break;
	case KXMON_MSG_IPC_RESP:
		need(expect_seq != 0 && m->seq == expect_seq);
		need(nfds == (m->u.ipc_resp.map ? 1 : 0));
		read_str(m->u.ipc_resp.reason, sizeof(m->u.ipc_resp.reason));
		break;
	case KXMON_MSG_UPDATE_PUSH:
		need(nfds == 1);
		need(m->u.update.deadline_ms > 0 &&
		     m->u.update.deadline_ms <= KXMON_UPDATE_DEADLINE_MAX);
		read_str(m->u.update.old_name, sizeof(m->u.update.old_name));
		read_str(m->u.update.version, sizeof(m->u.update.version));
		break;
	case KXMON_MSG_RECYCLE_CONSOLE:
		need(nfds == 2);
		break;
	case KXMON_MSG_JAIL_READY: /* the answer to a forked child's HELLO */
		need(expect_seq != 0 && m->seq == expect_seq && nfds == 0);
		break;
	case KXMON_MSG_RECYCLE_APP:
		need(nfds == 1);
		read_str(m->u.recycle.name, sizeof(m->u.recycle.name));
		read_str(m->u.recycle.version, sizeof(m->u.recycle.version));
		need(m->u.recycle.args_len > 0 && m->u.recycle.args_len <= sizeof(m->u.recycle.args));
		read_args(&m->u.recycle);
		break;
	case KXMON_MSG_SELF_RESP: /* posix-mon: the ids getpid/getppid return */
		need(nfds == 0 && expect_seq != 0 && m->seq == expect_seq);
		need(m->u.self.pvm_id != 0 && m->u.self.parent_id != m->u.self.pvm_id);
		break;
	case KXMON_MSG_FS_MOUNT_RESP: /* posix-fs: hv/fs.c takes the fd as a mount's root */
		need(expect_seq != 0 && m->seq == expect_seq);
		need(nfds == (m->u.fs_mount.result == 0 ? 1 : 0));
		read_str(m->u.fs_mount.guest, sizeof(m->u.fs_mount.guest));
		read_str(m->u.fs_mount.reason, sizeof(m->u.fs_mount.reason));
		if (m->u.fs_mount.result == 0) {
			need(m->u.fs_mount.guest[0] == '/' && m->u.fs_mount.guest[1] != '\0');
			need(strstr(m->u.fs_mount.guest, "/../") == NULL);
			need(!m->u.fs_mount.writable || m->u.fs_mount.max != 0);
		}
		break;
	case KXMON_MSG_NET_ATTACH: /* the module reads 2 fds only with an interface */
		read_str(m->u.net_attach.iface, sizeof(m->u.net_attach.iface));
		need(m->u.net_attach.index == 0);
		need(nfds == (m->u.net_attach.iface[0] != '\0' ? 2 : 0));
		need(nfds == 0 || (m->u.net_attach.mac[0] & 1) == 0);
		break;
	default: /* HELLO, LINK_REQ, EXIT ... go the other way */
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *name;
	uint64_t expect_seq = 0;
	struct kxmon_msg m;
	char *why;
	int nfds, rc;

	if (size < 1)
		return 0;
	nfds = data[0] & 3;
	name = (data[0] & 8) ? "libkvmath.so" : NULL;
	if ((data[0] & 4) && size - 1 >= 16) {
		memcpy(&expect_seq, data + 1 + 8, sizeof(expect_seq));
		if (expect_seq == 0)
			expect_seq = 1;
	}
	why = malloc(WHY_LEN);
	if (why == NULL)
		abort();
	memset(why, 0, WHY_LEN);
	rc = chan_check_from_kxd(data + 1, size - 1, nfds, expect_seq, name, why, WHY_LEN);
	if (rc != 0) {
		need(rc == -EBADMSG && why[0] != '\0' && memchr(why, '\0', WHY_LEN) != NULL);
	} else {
		need(size - 1 == sizeof(m));
		memcpy(&m, data + 1, sizeof(m));
		after(&m, nfds, expect_seq, name);
	}
	free(why);
	return 0;
}
