/*
 * kx_pack_abi.h — the format of the read-only file tree packed into a
 * signed pVM image (`kx-pack`, docs/posix.md "Files: the image's tree").
 *
 * Written by kx-pack on the build machine, read by the guest's syscall
 * layer (guest/posix/imagefs.c through guest/posix/pack.c) from the image's
 * read-only segment: the image's signature covers every byte.  The reader
 * still treats it as hostile input (pack.c checks every offset, size, count
 * and name against the buffer).
 *
 * Self-contained: C99 headers only, so the hosted tool and the guest both
 * include it (the reader's two functions, below, are in guest/kx_pack.c).  All integers are little-endian (x86-64), every structure is
 * 8-byte aligned and its layout pinned below.
 *
 * Layout:
 *   struct kx_pack_hdr            at 0
 *   struct kx_pack_entry[count]   at sizeof(hdr)
 *   names and file bytes          anywhere after the table, inside `size`
 *
 * Entries are sorted by path, byte by byte, strictly increasing (so no
 * path appears twice, and a directory comes before everything in it).
 * A path is relative to the tree's root: components of 1..KX_PACK_NAME_MAX
 * bytes separated by one '/', none "." or "..", no NUL, no leading or
 * trailing '/'.  The parent of every entry ("a/b" for "a/b/c") is an
 * earlier directory entry, or the root for a single component.
 */
#ifndef KX_PACK_ABI_H
#define KX_PACK_ABI_H

#include <stddef.h>
#include <stdint.h>

#define KX_PACK_MAGIC	  "KXPACK1"   /* 8 bytes with its NUL */
#define KX_PACK_VERSION	  1u
#define KX_PACK_NAME_MAX  255u	      /* one path component */
#define KX_PACK_PATH_MAX  4095u	      /* a whole path, without a NUL */
#define KX_PACK_COUNT_MAX 65536u      /* entries */
#define KX_PACK_MOUNT_MAX 1024u	      /* the default mount point's bytes */

/* Entry kinds (Linux's S_IFDIR and S_IFREG; nothing else exists in a tree). */
#define KX_PACK_DIR 0040000u
#define KX_PACK_REG 0100000u

struct kx_pack_hdr {
	char magic[8];	    /* KX_PACK_MAGIC */
	uint32_t version;   /* KX_PACK_VERSION */
	uint32_t count;	    /* entries in the table */
	uint64_t size;	    /* bytes of the whole pack, header included */
	uint32_t mount_off; /* the mount point kx-pack was given (absolute, */
	uint32_t mount_len; /*   normalised, not "/"), no NUL */
};

struct kx_pack_entry {
	uint32_t path_off; /* from the start of the pack; no NUL */
	uint32_t path_len;
	uint32_t mode;	   /* KX_PACK_DIR or KX_PACK_REG | permission bits (0..0777) */
	uint32_t reserved; /* 0 */
	uint64_t data_off; /* a file's bytes; 0 for a directory */
	uint64_t data_size;
};

_Static_assert(sizeof(struct kx_pack_hdr) == 32, "kx_pack_hdr layout");
_Static_assert(offsetof(struct kx_pack_hdr, size) == 16, "kx_pack_hdr layout");
_Static_assert(offsetof(struct kx_pack_hdr, mount_len) == 28, "kx_pack_hdr layout");
_Static_assert(sizeof(struct kx_pack_entry) == 32, "kx_pack_entry layout");
_Static_assert(offsetof(struct kx_pack_entry, data_off) == 16, "kx_pack_entry layout");

/* ---- the one reader (guest/kx_pack.c): the guest and kx-pack use it ---- */

struct kx_pack {
	const unsigned char *base;
	uint64_t size;	 /* the header's size (at most the buffer's) */
	uint32_t count;
	const char *mount; /* not NUL-terminated */
	uint32_t mount_len;
};

struct kx_pack_item {
	const char *path; /* not NUL-terminated */
	uint32_t path_len;
	uint32_t mode;
	const unsigned char *data; /* a file's bytes (NULL for a directory) */
	uint64_t size;
};

/* Check the whole pack in buf[0..len) (untrusted: every header field,
 * table entry, path, range and the order of the entries) and describe it
 * in *p.  0, or -EBADMSG with *why (a static string) saying what is wrong. */
int kx_pack_open(struct kx_pack *p, const void *buf, size_t len, const char **why);
/* The index-th entry of a pack kx_pack_open accepted (index < p->count). */
void kx_pack_item(const struct kx_pack *p, uint32_t index, struct kx_pack_item *out);

#endif /* KX_PACK_ABI_H */
