/*
 * Fuzz harness for the reader of the image's packed file tree
 * (guest/kx_pack.c, format guest/kx_pack_abi.h): the bytes kx-pack puts in
 * an image's .rodata and the guest's syscall layer mounts at start.  A pack
 * the reader accepts must keep every promise imagefs.c relies on: each
 * entry's path and bytes inside the pack, paths strictly sorted, each
 * entry's directory an earlier directory entry.  Seeds: fuzz/gen/pack.sh
 * (packs of tests/libc/tree made by kx-pack, and hand-broken ones).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "guest/kx_pack_abi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kx_pack p;
	struct kx_pack_item it, prev = {0};
	const char *why;
	volatile unsigned sum = 0;

	if (kx_pack_open(&p, data, size, &why) != 0)
		return 0;
	if (p.mount < (const char *)data || p.mount + p.mount_len > (const char *)data + size)
		__builtin_trap();
	for (uint32_t i = 0; i < p.count; i++) {
		kx_pack_item(&p, i, &it);
		if (it.path < (const char *)data || it.path_len == 0 ||
		    it.path + it.path_len > (const char *)data + size)
			__builtin_trap();
		if (it.data && (it.data < data || it.size > size ||
				it.data + it.size > data + size))
			__builtin_trap();
		if (!it.data && it.size != 0)
			__builtin_trap();
		if (i > 0) {
			size_t n = prev.path_len < it.path_len ? prev.path_len : it.path_len;
			int c = memcmp(prev.path, it.path, n);

			if (c > 0 || (c == 0 && prev.path_len >= it.path_len))
				__builtin_trap();
		}
		/* touch every byte the guest would read */
		for (uint32_t k = 0; k < it.path_len; k++)
			sum += (unsigned char)it.path[k];
		for (uint64_t k = 0; it.data && k < it.size; k++)
			sum += it.data[k];
		prev = it;
	}
	return sum == 0xffffffffu ? 0 : 0; /* sum read: the loads happen */
}
