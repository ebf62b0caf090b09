/*
 * ipc_ring.h — private to guest/: the byte ring inside a pipe's or message
 * queue's data area (struct kx_ipc_ring, guest/kx_hcall_abi.h), without
 * any blocking: what the host unit tests (tests/unit/test_ipc_ring.c)
 * exercise too.
 *
 * The ring is shared with peers that may be hostile: every index is read
 * once, checked against the capacity, and only the checked local copy is
 * used; an impossible state is -KX_EIO, never an access outside the ring.
 */
#ifndef KX_GUEST_IPC_RING_H
#define KX_GUEST_IPC_RING_H

#include <stddef.h>
#include <stdint.h>

#include "guest/kx_hcall_abi.h"

/* A message: u32 length, u32 KX_MSG_MAGIC, the bytes, padding to 8. */
#define KX_MSG_HDR   8u
#define KX_MSG_MAGIC 0x71736d6bu /* "kmsq" */

/* One consistent look at a ring of cap bytes (a power of two). */
struct ring_view {
	uint64_t head, tail, used;
};

/* 0 with *v, or -KX_EIO when tail - head exceeds cap (a peer broke it). */
int ring_look(const struct kx_ipc_ring *r, uint64_t cap, struct ring_view *v);

/* Copy n bytes into / out of the ring at position pos (wrapping). */
void ring_put(uint8_t *bytes, uint64_t cap, uint64_t pos, const void *src, size_t n);
void ring_get(const uint8_t *bytes, uint64_t cap, uint64_t pos, void *dst, size_t n);

/* Publish n bytes after tail / consume n bytes after head (release). */
void ring_publish(struct kx_ipc_ring *r, uint64_t tail, uint64_t n);
void ring_consume(struct kx_ipc_ring *r, uint64_t head, uint64_t n);

/* Bytes a message of len bytes takes in the ring. */
uint64_t ring_msg_size(uint64_t len);

/* The message at the view's head: 0 with *len, -KX_EIO when its header is
 * impossible (length over KX_IPC_MSG_MAX, wrong magic, longer than what is
 * published). */
int ring_msg_peek(const uint8_t *bytes, uint64_t cap, const struct ring_view *v, uint32_t *len);

#endif /* KX_GUEST_IPC_RING_H */
