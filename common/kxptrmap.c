/*
 * The pointer map's decoder (common/kxptrmap.h).  The bytes come from a
 * file: every count is capped, the size must match the counts exactly, and
 * every var and run is checked against its neighbours and its variable
 * before anyone uses it, so the accessors need no checks of their own.
 */
#include <errno.h>
#include <string.h>

#include "common/kxptrmap.h"

#define HDR  sizeof(struct kxptrmap_abi_header)
#define VAR  sizeof(struct kxptrmap_abi_var)
#define RUN  sizeof(struct kxptrmap_abi_run)

void kxptrmap_var(const struct kxptrmap *map, size_t i, struct kxptrmap_abi_var *out)
{
	memcpy(out, map->buf + HDR + i * VAR, VAR);
}

void kxptrmap_run(const struct kxptrmap *map, size_t i, struct kxptrmap_abi_run *out)
{
	memcpy(out, map->buf + HDR + (size_t)map->var_count * VAR + i * RUN, RUN);
}

/* One run of a variable of `size` bytes, after the run at prev_off. */
static int check_run(const struct kxptrmap *map, size_t v, size_t i, uint64_t size,
		     uint64_t *prev_off, struct kx_error *err)
{
	struct kxptrmap_abi_run r;
	uint64_t last;

	kxptrmap_run(map, i, &r);
	if (r.kind != KXPTRMAP_POINTER && r.kind != KXPTRMAP_MAYBE)
		return kx_err(err, -EBADMSG, "pointer map: run %zu has kind %u", i, r.kind);
	if (r.count == 0 || (r.count > 1 && r.stride < 8))
		return kx_err(err, -EBADMSG,
			      "pointer map: run %zu: %u words %llu bytes apart", i, r.count,
			      (unsigned long long)r.stride);
	if (*prev_off != UINT64_MAX && r.offset <= *prev_off)
		return kx_err(err, -EBADMSG,
			      "pointer map: var %zu: runs not sorted by offset (run %zu)", v, i);
	/* last word's offset: offset + stride * (count - 1), overflow-checked */
	if (__builtin_mul_overflow(r.stride, (uint64_t)(r.count - 1), &last) ||
	    __builtin_add_overflow(last, r.offset, &last) || last > size || size - last < 8)
		return kx_err(err, -EBADMSG,
			      "pointer map: var %zu: run %zu reaches past the variable's %llu bytes",
			      v, i, (unsigned long long)size);
	*prev_off = r.offset;
	return 0;
}

int kxptrmap_decode(struct kxptrmap *map, const void *buf, size_t len, struct kx_error *err)
{
	struct kxptrmap_abi_header h;
	struct kxptrmap m;
	uint64_t end = 0, next_run = 0;

	memset(map, 0, sizeof(*map));
	if (len < HDR)
		return kx_err(err, -EBADMSG, "pointer map: %zu bytes, shorter than its header", len);
	memcpy(&h, buf, HDR);
	if (memcmp(h.magic, KXPTRMAP_MAGIC, sizeof(h.magic)) != 0)
		return kx_err(err, -EBADMSG, "pointer map: bad magic");
	if (h.var_count > KXPTRMAP_MAX_VARS || h.run_count > KXPTRMAP_MAX_RUNS)
		return kx_err(err, -EBADMSG,
			      "pointer map: %u vars and %u runs (at most %u and %u)", h.var_count,
			      h.run_count, KXPTRMAP_MAX_VARS, KXPTRMAP_MAX_RUNS);
	/* The caps keep this product far below 2^64. */
	if ((uint64_t)len != HDR + (uint64_t)h.var_count * VAR + (uint64_t)h.run_count * RUN)
		return kx_err(err, -EBADMSG,
			      "pointer map: %zu bytes do not hold exactly %u vars and %u runs", len,
			      h.var_count, h.run_count);
	m = (struct kxptrmap){ .buf = buf, .len = len, .var_count = h.var_count,
			       .run_count = h.run_count };
	for (size_t v = 0; v < h.var_count; v++) {
		struct kxptrmap_abi_var var;
		uint64_t prev_off = UINT64_MAX;

		kxptrmap_var(&m, v, &var);
		if (var.reserved != 0 || (var.flags & ~KXPTRMAP_VAR_UNTYPED) != 0)
			return kx_err(err, -EBADMSG, "pointer map: var %zu: unknown flags", v);
		if (var.size == 0 || var.addr + var.size < var.addr)
			return kx_err(err, -EBADMSG, "pointer map: var %zu: bad size %llu", v,
				      (unsigned long long)var.size);
		if (v > 0 && var.addr < end)
			return kx_err(err, -EBADMSG,
				      "pointer map: var %zu at 0x%llx overlaps or precedes the one "
				      "before it", v, (unsigned long long)var.addr);
		if (var.first_run != next_run || var.run_count > h.run_count - next_run)
			return kx_err(err, -EBADMSG,
				      "pointer map: var %zu: runs %u..+%u do not follow the previous "
				      "var's", v, var.first_run, var.run_count);
		if ((var.flags & KXPTRMAP_VAR_UNTYPED) && var.run_count != 0)
			return kx_err(err, -EBADMSG, "pointer map: var %zu: untyped with runs", v);
		for (size_t i = var.first_run; i < (size_t)var.first_run + var.run_count; i++) {
			int rc = check_run(&m, v, i, var.size, &prev_off, err);

			if (rc)
				return rc;
		}
		next_run += var.run_count;
		end = var.addr + var.size;
	}
	if (next_run != h.run_count)
		return kx_err(err, -EBADMSG, "pointer map: %llu runs belong to no var",
			      (unsigned long long)(h.run_count - next_run));
	*map = m;
	return 0;
}

int kxptrmap_find(const struct kxptrmap *map, uint64_t addr, size_t *index)
{
	size_t lo = 0, hi = map->var_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct kxptrmap_abi_var v;

		kxptrmap_var(map, mid, &v);
		if (v.addr == addr) {
			*index = mid;
			return 0;
		}
		if (v.addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}
