/*
 * imagefs.c — the read-only file tree packed into the signed image
 * (kx-pack, guest/kx_pack_abi.h), mounted into tmpfs at start.
 *
 * kx-pack puts the pack in the image's .rodata between kx_image_tree and
 * kx_image_tree_end; the image's signature covers it, and the monitor maps
 * it read-only.  At start the pack is checked whole by the one reader
 * (guest/kx_pack.c: the bytes are treated as hostile even though signed)
 * and becomes tmpfs nodes marked `rofs`: directories as usual, files whose
 * bytes are the pack's own (no copy).  Every call that would change them
 * answers EROFS (tmpfs.c, fs.c); renames and links between the tree and
 * the rest are EXDEV, as between two Linux mounts.
 *
 * The tree is mounted at the mount point kx-pack recorded (-m, default
 * /image).  Its parents are made as ordinary tmpfs directories when
 * missing; the mount point itself must not exist yet (so not /, /tmp or
 * /dev).  A pack that fails a check ends the pVM at start with a panic
 * naming the problem: the image is broken.
 */
#include <string.h>

#include "guest/kx_pack_abi.h"
#include "guest/posix/tmpfs.h"

extern const unsigned char kx_image_tree[] __attribute__((weak));
extern const unsigned char kx_image_tree_end[] __attribute__((weak));

/* The mount point: new, its parents made as ordinary directories. */
static struct tmpfs_node *mount_point(const struct kx_pack *p)
{
	struct tmpfs_node *d = tmpfs_mount_point(p->mount, p->mount_len, 0555);

	if (!d)
		kx_panic("posix: the image's file tree cannot be mounted at %.*s",
			 (int)p->mount_len, p->mount);
	d->rofs = 1;
	return d;
}

/* Add one checked item below the mount: its directory exists (the reader
 * checked the order), the name is new (paths are unique). */
static void add_item(struct tmpfs_node *root, const struct kx_pack_item *it)
{
	struct tmpfs_node *d = root, *n;
	size_t at = 0, last = 0;
	char name[NAME_MAX + 1];

	for (size_t i = 0; i < it->path_len; i++)
		if (it->path[i] == '/')
			last = i + 1;
	while (at < last) {
		size_t end = at;

		while (it->path[end] != '/')
			end++;
		memcpy(name, it->path + at, end - at);
		name[end - at] = '\0';
		d = tmpfs_child(d, name);
		if (!d || !S_ISDIR(d->mode))
			kx_panic("posix: the image's file tree is malformed");
		at = end + 1;
	}
	memcpy(name, it->path + last, it->path_len - last);
	name[it->path_len - last] = '\0';
	n = tmpfs_node_new((mode_t)it->mode);
	if (!n || tmpfs_link(d, name, n) != 0)
		kx_panic("posix: no memory for the image's file tree");
	n->rofs = 1;
	if (it->data) {
		n->data = (char *)it->data; /* read-only: every writer checks rofs */
		n->size = (size_t)it->size;
	}
}

void kx_imagefs_init(void)
{
	struct kx_pack p;
	struct tmpfs_node *root;
	const char *why = "its end precedes its start";
	uintptr_t start = (uintptr_t)kx_image_tree, end = (uintptr_t)kx_image_tree_end;

	if (!start || !end)
		return; /* no tree linked in */
	if (end < start || kx_pack_open(&p, kx_image_tree, end - start, &why))
		kx_panic("posix: the image's file tree is malformed: %s", why);
	root = mount_point(&p);
	for (uint32_t i = 0; i < p.count; i++) {
		struct kx_pack_item it;

		kx_pack_item(&p, i, &it);
		add_item(root, &it);
	}
}
