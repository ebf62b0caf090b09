/*
 * ipc_ring.c — the shared byte ring (ipc_ring.h).  Input is untrusted:
 * head, tail and message headers are written by peers.
 */
#include <string.h>

#include "guest/ipc_ring.h"

int ring_look(const struct kx_ipc_ring *r, uint64_t cap, struct ring_view *v)
{
	v->head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	v->tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	v->used = v->tail - v->head;
	return v->used > cap ? -KX_EIO : 0;
}

void ring_put(uint8_t *bytes, uint64_t cap, uint64_t pos, const void *src, size_t n)
{
	uint64_t off = pos & (cap - 1), first = cap - off < n ? cap - off : n;

	memcpy(bytes + off, src, (size_t)first);
	memcpy(bytes, (const uint8_t *)src + first, n - (size_t)first);
}

void ring_get(const uint8_t *bytes, uint64_t cap, uint64_t pos, void *dst, size_t n)
{
	uint64_t off = pos & (cap - 1), first = cap - off < n ? cap - off : n;

	memcpy(dst, bytes + off, (size_t)first);
	memcpy((uint8_t *)dst + first, bytes, n - (size_t)first);
}

void ring_publish(struct kx_ipc_ring *r, uint64_t tail, uint64_t n)
{
	__atomic_store_n(&r->tail, tail + n, __ATOMIC_RELEASE);
}

void ring_consume(struct kx_ipc_ring *r, uint64_t head, uint64_t n)
{
	__atomic_store_n(&r->head, head + n, __ATOMIC_RELEASE);
}

uint64_t ring_msg_size(uint64_t len)
{
	return KX_MSG_HDR + ((len + 7) & ~(uint64_t)7);
}

int ring_msg_peek(const uint8_t *bytes, uint64_t cap, const struct ring_view *v, uint32_t *len)
{
	uint32_t hdr[2];

	if (v->used < KX_MSG_HDR)
		return -KX_EIO;
	ring_get(bytes, cap, v->head, hdr, sizeof(hdr));
	if (hdr[1] != KX_MSG_MAGIC || hdr[0] > KX_IPC_MSG_MAX || ring_msg_size(hdr[0]) > v->used)
		return -KX_EIO;
	*len = hdr[0];
	return 0;
}
