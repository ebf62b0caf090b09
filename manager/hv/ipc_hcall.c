/*
 * ipc_hcall.c — the IpC hypercalls (KX_HC_IPC_*, KX_HC_NOTIFY_*): argument
 * checks and the hooks of hv_hcall_env.ipc.  The block is a copy the
 * decoder made of untrusted guest memory; nothing here dereferences a guest
 * address: NOTIFY addresses go to the backend, which accepts only words in
 * data areas this pVM maps.
 */
#include <errno.h>
#include <stddef.h>

#include "manager/hv/ipc.h"

static int64_t ipc_errno(int rc)
{
	switch (rc) {
	case -EACCES:
		return -KX_EACCES;
	case -ENOENT:
		return -KX_ENOENT;
	case -EEXIST:
		return -KX_EEXIST;
	case -ENOSPC:
	case -ENOMEM:
		return -KX_ENOSPC;
	case -EPERM:
		return -KX_EPERM;
	case -EIDRM:
		return -KX_EIDRM;
	case -ETIMEDOUT:
		return -KX_ETIMEDOUT;
	case -EINTR:
		return -KX_EINTR;
	default:
		return -KX_EINVAL;
	}
}

static int get(const struct hv_hcall_env *env, struct kx_hc_hdr *hdr)
{
	struct kx_hc_ipc_get *g = (struct kx_hc_ipc_get *)hdr;

	g->id = g->addr = g->data_size = 0;
	if (g->kind < KX_IPC_KIND_PIPE || g->kind > KX_IPC_KIND_SHM ||
	    (g->flags & ~(KX_IPC_CREAT | KX_IPC_EXCL)) != 0)
		return -EINVAL;
	return env->ipc->get(env->ipc_opaque, g);
}

static int notify(const struct hv_hcall_env *env, struct kx_hc_hdr *hdr)
{
	const struct kx_hc_notify *n = (const struct kx_hc_notify *)hdr;
	int rc;

	if (n->addr % 4 != 0)
		return -EINVAL;
	if (hdr->nr == KX_HC_NOTIFY_WAKE)
		return env->ipc->wake(env->ipc_opaque, n->addr, n->count);
	rc = env->ipc->wait(env->ipc_opaque, n->addr, n->value,
			    n->timeout_ns < KX_IPC_WAIT_MAX_NS ? n->timeout_ns
							       : KX_IPC_WAIT_MAX_NS);
	/* Interrupted by the host: a guest signal ends the wait, else the
	 * guest simply looks again. */
	if (rc == -EINTR && !(env->interrupted && env->interrupted(env->interrupted_opaque)))
		rc = 0;
	return rc;
}

void hv_ipc_hcall(const struct hv_hcall_env *env, struct kx_hc_hdr *hdr,
		  struct hv_hcall_result *res)
{
	struct kx_hc_ipc_obj *o = (struct kx_hc_ipc_obj *)hdr;
	int rc;

	if (env->ipc == NULL) {
		hdr->ret = -KX_EPERM;
		return;
	}
	switch (hdr->nr) {
	case KX_HC_IPC_GET:
		rc = get(env, hdr);
		break;
	case KX_HC_IPC_DETACH:
		/* Checked here: kxd would take other bits from kxmon for a
		 * malformed message and end the pVM instead of answering. */
		rc = (o->ends & ~(KX_IPC_END_READ | KX_IPC_END_WRITE)) != 0
			     ? -EINVAL
			     : env->ipc->detach(env->ipc_opaque, o->id, o->ends);
		break;
	case KX_HC_IPC_RM:
		rc = env->ipc->rm(env->ipc_opaque, o->id);
		break;
	case KX_HC_IPC_SELF:
		o->id = env->ipc->self(env->ipc_opaque);
		rc = 0;
		break;
	default: /* NOTIFY_WAIT, NOTIFY_WAKE */
		rc = notify(env, hdr);
		break;
	}
	if (rc == -EPIPE) {
		res->outcome = HV_HC_BAD;
		res->reason = "IpC: the channel to the manager broke";
		return;
	}
	hdr->ret = rc >= 0 ? rc : ipc_errno(rc);
}
