/*
 * runtime.h — private to guest/: what the runtime's files share.
 */
#ifndef KX_GUEST_RUNTIME_H
#define KX_GUEST_RUNTIME_H

#include <stddef.h>

/* Hand the heap region the monitor reported to the allocator. */
void kx_heap_init(void *start, size_t size);

#endif /* KX_GUEST_RUNTIME_H */
