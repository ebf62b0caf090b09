/*
 * runtime.h — private to guest/: what the runtime's files share.
 */
#ifndef KX_GUEST_RUNTIME_H
#define KX_GUEST_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "guest/kx_hcall_abi.h"

/* Hand the heap region the monitor reported to the allocator. */
void kx_heap_init(void *start, size_t size);

/* One hypercall (hcall.c): fill the rest of the block first; hdr->ret back. */
int64_t kx_hcall(struct kx_hc_hdr *hdr, uint32_t nr);

/* ipc.c: in a forked child, before anything else (its lock token changes). */
void kx_ipc_forked(void);

#endif /* KX_GUEST_RUNTIME_H */
