#!/usr/bin/python3
"""fuzz/gen/hcall_fs.py: writes fuzz_hcall's host-directory seeds (posix-fs)
into fuzz/corpus/hcall/fs-*.

Each seed is one fuzz_hcall input (fuzz/fuzz_hcall.c): flags 0x45 (the
block address as is, a manager, host directories: /data writable, /conf
read-only), the block at 0x1000, pages 0..15 readable and writable, then
guest memory: one struct kx_hc_fs (guest/kx_hcall_abi.h) at 0x1000, its
paths at 0x2000 and 0x2800, its buffer at 0x3000.  Run from the repository
root: python3 fuzz/gen/hcall_fs.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus", "hcall")
BLOCK, PATH, PATH2, BUF = 0x1000, 0x2000, 0x2800, 0x3000
O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC = 0, 1, 2, 0o100, 0o1000


def seed(nr, mount=0, flags=0, handle=0, path=b"", path2=b"", buf=0, length=0, off=0):
    mem = bytearray(0x4000)
    block = struct.pack("<IIqIIQQQQQQQQ", 1, nr, 0, mount, flags, handle,
                        PATH if path else 0, len(path), PATH2 if path2 else 0, len(path2),
                        buf, length, off)
    mem[BLOCK:BLOCK + len(block)] = block
    mem[PATH:PATH + len(path)] = path
    mem[PATH2:PATH2 + len(path2)] = path2
    return bytes([0x45]) + struct.pack("<I", BLOCK) + bytes([3] * 16) + bytes(mem)


SEEDS = {
    "fs-mount": seed(46, mount=0, buf=BUF, length=128),
    "fs-mount-past-last": seed(46, mount=2, buf=BUF, length=128),
    "fs-open-create": seed(47, mount=0, flags=O_CREAT | O_RDWR, path=b"f", off=0o644),
    "fs-open-trunc-ro": seed(47, mount=1, flags=O_TRUNC | O_RDONLY, path=b"file"),
    "fs-open-escape-symlink": seed(47, mount=0, flags=O_CREAT | O_WRONLY, path=b"escape/x",
                                   off=0o644),
    "fs-open-dotdot": seed(47, mount=1, flags=O_RDONLY, path=b"../rw/x"),
    "fs-stat-ro": seed(52, mount=1, path=b"file", buf=BUF, length=112),
    "fs-stat-nofollow": seed(52, mount=0, flags=0x100, path=b"escape", buf=BUF, length=112),
    "fs-mkdir": seed(54, mount=0, path=b"d", off=0o755),
    "fs-mkdir-escape": seed(54, mount=0, path=b"escape/evil", off=0o755),
    "fs-unlink-escape": seed(55, mount=0, path=b"escape/ro/file"),
    "fs-rename-out": seed(56, mount=0, path=b"escape", path2=b"../moved"),
    "fs-pread-no-handle": seed(49, handle=0, buf=BUF, length=64),
    "fs-getdents-no-handle": seed(53, handle=3, buf=BUF, length=4096),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
