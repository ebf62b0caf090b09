/*
 * kxptrmap.h — the pointer map: which words of a library's writable
 * variables hold pointers.  `kxsign sign` records it from the library's
 * DWARF in a `.kxptrmap` section covered by the signature (region kind
 * KXSIG_REGION_PTRMAP, docs/signature-format.md §10); an online update
 * rebases exactly those words and copies every other word verbatim
 * (docs/update.md, "Variables").  The format is shared by the signer that
 * writes it and the loader that reads it, and it is decoded from untrusted
 * bytes: kxptrmap_decode() checks every count, offset and size.
 *
 * Layout (little-endian, naturally aligned, no padding): a header, then
 * var_count vars sorted by address, then run_count runs, nothing else.
 * Vars do not overlap; each var's runs follow the previous var's (var i
 * starts at the sum of the run counts before it), sorted by offset.
 */
#ifndef KX_COMMON_KXPTRMAP_H
#define KX_COMMON_KXPTRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/kxerr.h"

#define KXPTRMAP_SECTION_NAME ".kxptrmap"
#define KXPTRMAP_SECTION_TYPE 0x80004b59u /* SHT_LOUSER | "KY"; never SHF_ALLOC */
#define KXPTRMAP_MAGIC        "KXPTRv1"   /* 8 bytes, the NUL included */
#define KXPTRMAP_MAX_VARS     (1u << 20)
#define KXPTRMAP_MAX_RUNS     (1u << 22)

/* var flags */
#define KXPTRMAP_VAR_UNTYPED 1u /* no type information: its words are unknown */
/* run kinds */
#define KXPTRMAP_POINTER 1u /* a pointer (to data or code) */
#define KXPTRMAP_MAYBE   2u /* a pointer in one member of a union, not in another */

struct kxptrmap_abi_header {
	uint8_t magic[8];   /* KXPTRMAP_MAGIC */
	uint32_t var_count; /* <= KXPTRMAP_MAX_VARS */
	uint32_t run_count; /* <= KXPTRMAP_MAX_RUNS */
};

/* One variable: a defined STT_OBJECT symbol in a writable PT_LOAD, by its
 * link-time address and size (st_value, st_size). */
struct kxptrmap_abi_var {
	uint64_t addr;
	uint64_t size;      /* > 0 */
	uint32_t first_run; /* its runs: [first_run, first_run + run_count) */
	uint32_t run_count; /* 0 when UNTYPED */
	uint32_t flags;     /* KXPTRMAP_VAR_* */
	uint32_t reserved;  /* 0 */
};

/* count 8-byte words at offset, offset + stride, ... inside the variable:
 * offset + stride * (count - 1) + 8 <= size, stride >= 8 when count > 1. */
struct kxptrmap_abi_run {
	uint64_t offset;
	uint64_t stride;
	uint32_t count; /* >= 1 */
	uint32_t kind;  /* KXPTRMAP_POINTER or KXPTRMAP_MAYBE */
};

_Static_assert(sizeof(struct kxptrmap_abi_header) == 16, "ptrmap header size");
_Static_assert(offsetof(struct kxptrmap_abi_header, run_count) == 12, "run_count");
_Static_assert(sizeof(struct kxptrmap_abi_var) == 32, "ptrmap var size");
_Static_assert(offsetof(struct kxptrmap_abi_var, first_run) == 16, "first_run");
_Static_assert(offsetof(struct kxptrmap_abi_var, flags) == 24, "flags");
_Static_assert(sizeof(struct kxptrmap_abi_run) == 24, "ptrmap run size");
_Static_assert(offsetof(struct kxptrmap_abi_run, count) == 16, "count");

/* A checked view of a map (the bytes are borrowed, not copied). */
struct kxptrmap {
	const uint8_t *buf;
	size_t len;
	uint32_t var_count, run_count;
};

/* Check a whole map (untrusted bytes): 0, or -EBADMSG with the first
 * problem in err. */
int kxptrmap_decode(struct kxptrmap *map, const void *buf, size_t len, struct kx_error *err);

/* Var i / run i of a decoded map (i below its count). */
void kxptrmap_var(const struct kxptrmap *map, size_t i, struct kxptrmap_abi_var *out);
void kxptrmap_run(const struct kxptrmap *map, size_t i, struct kxptrmap_abi_run *out);

/* The var that starts at addr: 0 and its index, or -ENOENT. */
int kxptrmap_find(const struct kxptrmap *map, uint64_t addr, size_t *index);

/* Does run r hold the word at byte offset off? */
static inline int kxptrmap_run_has(const struct kxptrmap_abi_run *r, uint64_t off)
{
	if (off < r->offset)
		return 0;
	if (r->count == 1)
		return off == r->offset;
	return (off - r->offset) % r->stride == 0 && (off - r->offset) / r->stride < r->count;
}

#endif /* KX_COMMON_KXPTRMAP_H */
