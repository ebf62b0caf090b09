/*
 * malloc.c — a first-fit free-list allocator over the heap region the
 * monitor reports at boot (struct kx_boot_info).
 *
 * Each block starts with a 16-byte header: its size (header included) and
 * a tag binding the block's state to its own address, so a pointer that is
 * not a live block — double free, wild free, a header overwritten by an
 * overflow — is caught and ends the pVM with a panic rather than corrupting
 * the heap.  The free list is kept in address order so neighbours coalesce;
 * memory past the highest block ("top") is handed out by bumping.
 */
#include "guest/kxguest.h"
#include "guest/runtime.h"

#define ALIGN	 16u
#define TAG_USED 0x6b7875736564ull /* "kxused" */
#define TAG_FREE 0x6b7866726565ull /* "kxfree" */

struct block {
	size_t size; /* bytes, header included, a multiple of ALIGN */
	uint64_t tag;
};

struct free_block {
	struct block hdr;
	struct free_block *next;
};

#define MIN_BLOCK ((sizeof(struct free_block) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

static char *heap_start, *heap_top, *heap_end;
static struct free_block *free_list;

static uint64_t tag_for(const struct block *b, uint64_t state)
{
	return (uint64_t)(uintptr_t)b ^ state;
}

void kx_heap_init(void *start, size_t size)
{
	uintptr_t lo = ((uintptr_t)start + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1);
	uintptr_t hi = ((uintptr_t)start + size) & ~(uintptr_t)(ALIGN - 1);

	heap_start = heap_top = (char *)lo;
	heap_end = hi > lo ? (char *)hi : (char *)lo;
	free_list = NULL;
}

/* The live block behind p, or a panic naming the caller. */
static struct block *live_block(void *p, const char *who)
{
	struct block *b = (struct block *)p - 1;

	if ((uintptr_t)p % ALIGN != 0 || (char *)b < heap_start || (char *)p > heap_end)
		kx_panic("%s: %p is not a heap pointer", who, p);
	/* Checked before top: a freed block may have gone back to top. */
	if (b->tag == tag_for(b, TAG_FREE))
		kx_panic("%s: %p was already freed", who, p);
	if ((char *)p > heap_top || b->tag != tag_for(b, TAG_USED) || b->size < MIN_BLOCK ||
	    b->size > (size_t)(heap_top - (char *)b))
		kx_panic("%s: %p is not a live block (heap corrupted?)", who, p);
	return b;
}

static void *take(struct block *b, size_t size)
{
	b->size = size;
	b->tag = tag_for(b, TAG_USED);
	return b + 1;
}

void *malloc(size_t n)
{
	struct free_block **link;
	size_t need;

	if (n > (size_t)(heap_end - heap_start))
		return NULL;
	need = (n + sizeof(struct block) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (need < MIN_BLOCK)
		need = MIN_BLOCK;
	for (link = &free_list; *link != NULL; link = &(*link)->next) {
		struct free_block *f = *link;

		if (f->hdr.size < need)
			continue;
		if (f->hdr.size - need >= MIN_BLOCK) {
			struct free_block *rest = (struct free_block *)((char *)f + need);

			rest->hdr.size = f->hdr.size - need;
			rest->hdr.tag = tag_for(&rest->hdr, TAG_FREE);
			rest->next = f->next;
			*link = rest;
		} else {
			need = f->hdr.size;
			*link = f->next;
		}
		return take(&f->hdr, need);
	}
	if ((size_t)(heap_end - heap_top) < need)
		return NULL;
	heap_top += need;
	return take((struct block *)(heap_top - need), need);
}

void free(void *p)
{
	struct block *b;
	struct free_block *f, **link, *prev = NULL;

	if (p == NULL)
		return;
	b = live_block(p, "free");
	f = (struct free_block *)b;
	f->hdr.tag = tag_for(b, TAG_FREE);
	for (link = &free_list; *link != NULL && *link < f; link = &(*link)->next)
		prev = *link;
	f->next = *link;
	*link = f;
	if (f->next != NULL && (char *)f + f->hdr.size == (char *)f->next) {
		f->hdr.size += f->next->hdr.size;
		f->next = f->next->next;
	}
	if (prev != NULL && (char *)prev + prev->hdr.size == (char *)f) {
		prev->hdr.size += f->hdr.size;
		prev->next = f->next;
		f = prev;
	}
	/* The highest free block touching top goes back to top. */
	if (f->next == NULL && (char *)f + f->hdr.size == heap_top) {
		heap_top = (char *)f;
		for (link = &free_list; *link != f; link = &(*link)->next)
			;
		*link = NULL;
	}
}

void *calloc(size_t count, size_t size)
{
	size_t n;
	void *p;

	if (__builtin_mul_overflow(count, size, &n))
		return NULL;
	p = malloc(n);
	return p ? memset(p, 0, n) : NULL;
}

void *realloc(void *p, size_t n)
{
	struct block *b;
	void *q;

	if (p == NULL)
		return malloc(n);
	b = live_block(p, "realloc");
	if (n <= b->size - sizeof(*b))
		return p;
	q = malloc(n);
	if (q == NULL)
		return NULL;
	memcpy(q, p, b->size - sizeof(*b));
	free(p);
	return q;
}
