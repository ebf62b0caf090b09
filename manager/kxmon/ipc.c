/*
 * kxmon/ipc.c — kxmon's side of IpC objects (docs/ipc.md): the guest's
 * KX_HC_IPC_GET / DETACH / RM become an IPC_REQ on the channel; kxd's
 * IPC_RESP (untrusted, checked here) says what the guest gets.  The backend
 * (manager/hv/kvm_ipc.c) maps what a GET grants.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manager/kxmon/kxmon.h"

_Static_assert((int)HV_IPC_GET == (int)KXMON_IPC_GET &&
		       (int)HV_IPC_DETACH == (int)KXMON_IPC_DETACH &&
		       (int)HV_IPC_RM == (int)KXMON_IPC_RM,
	       "the backend's IpC ops are the channel's");

#define ERRNO_MAX 4095

/* The object's memfd: exactly the size kxd announced, and it cannot change
 * size under the mapping (which would fault this monitor). */
static int fd_ok(int fd, uint64_t data_size)
{
	const int need = F_SEAL_SHRINK | F_SEAL_GROW;
	int seals = fcntl(fd, F_GET_SEALS);
	struct stat st;

	return seals >= 0 && (seals & need) == need && fstat(fd, &st) == 0 &&
	       (uint64_t)st.st_size == data_size + KX_PAGE_SIZE;
}

int kxmon_ipc_request(void *ctx, const struct hv_ipc_order *order, struct hv_ipc_grant *grant,
		      char *why, size_t whylen)
{
	struct kxmon_client *c = ctx;
	const struct kxmon_ipc_resp *r;
	struct kxmon_msg m;
	int fd = -1;

	memset(&m, 0, sizeof(m));
	m.type = KXMON_MSG_IPC_REQ;
	m.u.ipc_req = (struct kxmon_ipc_req){.op = order->op,
					     .kind = order->kind,
					     .flags = order->flags,
					     .ends = order->ends,
					     .key = order->key,
					     .size = order->size,
					     .id = order->id};
	c->requests++;
	if (kxmon_client_call(c, &m, KXMON_MSG_IPC_RESP, &fd) != 0) {
		snprintf(why, whylen, "%s", c->reason);
		return -EPIPE;
	}
	r = &m.u.ipc_resp;
	if (r->result != 0) {
		c->denials += r->result == -EACCES;
		snprintf(why, whylen, "%s", r->reason);
		return r->result;
	}
	if ((fd >= 0 && !fd_ok(fd, r->data_size)) ||
	    (order->op != KXMON_IPC_GET && r->id != order->id)) {
		if (fd >= 0)
			close(fd);
		snprintf(c->reason, sizeof(c->reason),
			 "channel to kxd: IPC_RESP for another object, or an unsealed memfd");
		c->broken = 1;
		snprintf(why, whylen, "%s", c->reason);
		return -EPIPE;
	}
	*grant = (struct hv_ipc_grant){
		.fd = fd, .kind = r->kind, .id = r->id, .data_size = r->data_size, .ends = r->ends};
	return 0;
}
