/*
 * kx_pack.c — the one reader of the image's packed file tree
 * (guest/kx_pack_abi.h).  Compiled into the guest's syscall layer
 * (libkxposix.a), into kx-pack (which checks what it wrote) and into the
 * fuzz harness fuzz/fuzz_pack.c.
 *
 * The input is untrusted: the pack sits in a signed image, but a signature
 * says who made it, not that it is well formed.  Every offset, size and
 * count is checked against the buffer before use, without overflow;
 * unaligned buffers are read with memcpy.  Uses memcpy/memcmp only.
 */
#include <errno.h>
#include <string.h>

#include "guest/kx_pack_abi.h"

static int fail(const char **why, const char *what)
{
	*why = what;
	return -EBADMSG;
}

/* [off, off + len) lies inside size. */
static int inside(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* A relative path: components of 1..KX_PACK_NAME_MAX bytes, one '/' between
 * them, none "." or "..", no NUL. */
static int valid_path(const char *p, uint64_t len)
{
	uint64_t start = 0;

	if (len == 0 || len > KX_PACK_PATH_MAX)
		return 0;
	for (uint64_t i = 0; i <= len; i++) {
		uint64_t n;

		if (i < len && p[i] == '\0')
			return 0;
		if (i < len && p[i] != '/')
			continue;
		n = i - start;
		if (n == 0 || n > KX_PACK_NAME_MAX)
			return 0;
		if (p[start] == '.' && (n == 1 || (n == 2 && p[start + 1] == '.')))
			return 0;
		start = i + 1;
	}
	return 1;
}

/* Byte order of two paths, the shorter first when one is a prefix. */
static int path_cmp(const char *a, uint32_t alen, const char *b, uint32_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static void entry_at(const struct kx_pack *p, uint32_t i, struct kx_pack_entry *e)
{
	memcpy(e, p->base + sizeof(struct kx_pack_hdr) + (uint64_t)i * sizeof(*e), sizeof(*e));
}

/* Among entries [0, n) (sorted, checked), is path a directory? */
static int is_dir_before(const struct kx_pack *p, uint32_t n, const char *path, uint32_t len)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		struct kx_pack_entry e;
		int c;

		entry_at(p, mid, &e);
		c = path_cmp((const char *)p->base + e.path_off, e.path_len, path, len);
		if (c == 0)
			return (e.mode & ~0777u) == KX_PACK_DIR;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int check_entry(const struct kx_pack *p, uint32_t i, const char **why)
{
	struct kx_pack_entry e, prev;
	const char *path;
	uint32_t type = 0, slash;

	entry_at(p, i, &e);
	if (e.reserved != 0)
		return fail(why, "an entry's reserved field is not 0");
	if (!inside(e.path_off, e.path_len, p->size))
		return fail(why, "an entry's path lies outside the pack");
	path = (const char *)p->base + e.path_off;
	if (!valid_path(path, e.path_len))
		return fail(why, "an entry's path is not a normalised relative path");
	type = e.mode & ~0777u;
	if (type == KX_PACK_DIR) {
		if (e.data_off != 0 || e.data_size != 0)
			return fail(why, "a directory entry has data");
	} else if (type == KX_PACK_REG) {
		if (!inside(e.data_off, e.data_size, p->size))
			return fail(why, "a file's bytes lie outside the pack");
	} else {
		return fail(why, "an entry is neither a directory nor a regular file");
	}
	if (i > 0) {
		entry_at(p, i - 1, &prev);
		/* prev was checked: its path lies inside the pack. */
		if (path_cmp((const char *)p->base + prev.path_off, prev.path_len, path,
			     e.path_len) >= 0)
			return fail(why, "the entries are not sorted by path, or one is there twice");
	}
	for (slash = e.path_len; slash > 0 && path[slash - 1] != '/'; slash--)
		;
	if (slash > 0 && !is_dir_before(p, i, path, slash - 1))
		return fail(why, "an entry's directory is not in the pack");
	return 0;
}

int kx_pack_open(struct kx_pack *p, const void *buf, size_t len, const char **why)
{
	struct kx_pack_hdr h;
	int rc;

	*why = "";
	if (!buf || len < sizeof(h))
		return fail(why, "shorter than the pack header");
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, KX_PACK_MAGIC, sizeof(h.magic)) != 0)
		return fail(why, "no KXPACK1 magic");
	if (h.version != KX_PACK_VERSION)
		return fail(why, "an unknown pack version");
	if (h.size < sizeof(h) || h.size > len)
		return fail(why, "the header's size is not the buffer's");
	if (h.count > KX_PACK_COUNT_MAX)
		return fail(why, "too many entries");
	if (!inside(sizeof(h), (uint64_t)h.count * sizeof(struct kx_pack_entry), h.size))
		return fail(why, "the entry table lies outside the pack");
	if (!inside(h.mount_off, h.mount_len, h.size))
		return fail(why, "the mount point lies outside the pack");
	p->base = buf;
	p->size = h.size;
	p->count = h.count;
	p->mount = (const char *)p->base + h.mount_off;
	p->mount_len = h.mount_len;
	if (h.mount_len < 2 || h.mount_len > KX_PACK_MOUNT_MAX || p->mount[0] != '/' ||
	    !valid_path(p->mount + 1, h.mount_len - 1))
		return fail(why, "the mount point is not an absolute normalised path below /");
	for (uint32_t i = 0; i < h.count; i++)
		if ((rc = check_entry(p, i, why)) != 0)
			return rc;
	return 0;
}

void kx_pack_item(const struct kx_pack *p, uint32_t index, struct kx_pack_item *out)
{
	struct kx_pack_entry e;

	entry_at(p, index, &e);
	out->path = (const char *)p->base + e.path_off;
	out->path_len = e.path_len;
	out->mode = e.mode;
	out->data = (e.mode & ~0777u) == KX_PACK_REG ? p->base + e.data_off : NULL;
	out->size = e.data_size;
}
