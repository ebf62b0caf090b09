/*
 * kalloc.c — the syscall layer's own allocator, for its objects (open file
 * descriptions, tmpfs nodes and file contents, pipes).
 *
 * Not musl's malloc: the layer must work before musl has initialised
 * itself (kx_posix_start opens fds 0..2 and builds / before main), and an
 * app's heap bugs or its own malloc must not reach the layer's state.
 * Pages come from the same heap region as mmap (mem.c).
 *
 * Every block lies in a run of pages whose first page starts with a header
 * naming the run: a slab of equal small blocks (16..2048 bytes, powers of
 * two, free ones on a list per size) or one large block (after the header).
 * A pointer whose header is not one of these ends the pVM with a panic.
 */
#include <string.h>

#include "guest/posix/posix.h"

#define MIN_SHIFT 4  /* 16 bytes */
#define MAX_SHIFT 11 /* 2048 bytes */
#define CLASSES	  (MAX_SHIFT - MIN_SHIFT + 1)
#define HDR	  64 /* page header bytes; keeps blocks 16-byte aligned */
#define SLAB_MAGIC  0x62616c5378784bull /* "KxxSlab" */
#define LARGE_MAGIC 0x656772614c784bull /* "KxLarge" */

struct run {
	uint64_t magic;
	size_t value; /* a slab: its class; large: its pages */
};

struct free_block {
	struct free_block *next;
};

static struct free_block *free_lists[CLASSES];

static int class_of(size_t n)
{
	int c = 0;

	while (((size_t)1 << (MIN_SHIFT + c)) < n)
		c++;
	return c;
}

static struct run *run_of(const void *p, const char *who)
{
	struct run *r = (struct run *)((uintptr_t)p & ~(uintptr_t)(KX_PAGE - 1));

	if ((uintptr_t)p % 16 != 0 || (uintptr_t)p - (uintptr_t)r < HDR ||
	    (r->magic != SLAB_MAGIC && r->magic != LARGE_MAGIC) ||
	    (r->magic == SLAB_MAGIC && r->value >= CLASSES))
		kx_panic("posix: %s of %p, not a block of the layer", who, p);
	return r;
}

static void *large(size_t n)
{
	size_t pages;
	struct run *r;

	if (n > SIZE_MAX - HDR - KX_PAGE)
		return NULL;
	pages = (n + HDR + KX_PAGE - 1) / KX_PAGE;
	r = kx_pages_alloc(pages);
	if (!r)
		return NULL;
	r->magic = LARGE_MAGIC;
	r->value = pages;
	return (char *)r + HDR;
}

void *kx_kalloc(size_t n)
{
	int c;
	struct free_block *b;

	if (n == 0)
		n = 1;
	if (n > ((size_t)1 << MAX_SHIFT))
		return large(n);
	c = class_of(n);
	if (!free_lists[c]) {
		struct run *r = kx_pages_alloc(1);
		size_t size = (size_t)1 << (MIN_SHIFT + c);

		if (!r)
			return NULL;
		r->magic = SLAB_MAGIC;
		r->value = (size_t)c;
		for (size_t off = KX_PAGE - size; off >= HDR; off -= size) {
			b = (struct free_block *)((char *)r + off);
			b->next = free_lists[c];
			free_lists[c] = b;
		}
	}
	b = free_lists[c];
	free_lists[c] = b->next;
	memset(b, 0, (size_t)1 << (MIN_SHIFT + c));
	return b;
}

void kx_kfree(void *p)
{
	struct run *r;

	if (!p)
		return;
	r = run_of(p, "free");
	if (r->magic == LARGE_MAGIC) {
		if ((char *)p != (char *)r + HDR)
			kx_panic("posix: free of %p, inside a block", p);
		r->magic = 0;
		kx_pages_free(r, r->value);
		return;
	}
	((struct free_block *)p)->next = free_lists[r->value];
	free_lists[r->value] = p;
}

static size_t usable(const struct run *r)
{
	return r->magic == LARGE_MAGIC ? r->value * KX_PAGE - HDR
				       : (size_t)1 << (MIN_SHIFT + r->value);
}

void *kx_krealloc(void *p, size_t n)
{
	struct run *r;
	void *q;

	if (!p)
		return kx_kalloc(n);
	r = run_of(p, "realloc");
	if (n <= usable(r))
		return p;
	if (r->magic == LARGE_MAGIC && n <= SIZE_MAX - HDR - KX_PAGE &&
	    kx_pages_grow(r, r->value, (n + HDR + KX_PAGE - 1) / KX_PAGE)) {
		r->value = (n + HDR + KX_PAGE - 1) / KX_PAGE;
		return p;
	}
	q = kx_kalloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, usable(r));
	kx_kfree(p);
	return q;
}
