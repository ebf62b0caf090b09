/*
 * ipc.h — private to manager/hv: the IpC hypercalls (ipc_hcall.c), called
 * by the decoder (hcall.c) with the argument block it copied out of guest
 * memory.  docs/ipc.md describes the calls.
 */
#ifndef KX_HV_IPC_H
#define KX_HV_IPC_H

#include "manager/hv/hv.h"

/* Perform IpC call hdr->nr on its copied block (of the size the decoder
 * knows for that number): hdr->ret set, or res->outcome HV_HC_BAD. */
void hv_ipc_hcall(const struct hv_hcall_env *env, struct kx_hc_hdr *hdr,
		  struct hv_hcall_result *res);

#endif /* KX_HV_IPC_H */
