#!/usr/bin/env python3
"""Seeds for fuzz_xenserve (fuzz/fuzz_xenserve.c): the kx ring page as a guest
left it after the monitor's init, with requests the core serves, then pokes.
Layout from guest/kx_ring_abi.h, numbers from guest/kx_hcall_abi.h.
usage: xenserve.py OUT_DIR"""
import os
import struct
import sys

PAGE, SLOTS, SLOT, HDR = 4096, 16, 224, 512
MAGIC, VERSION = 0x31676E6952584B, 1
CONSOLE_WRITE, EXIT, CLOCK, PANIC, KILL = 1, 2, 3, 4, 20
GUEST = 0x400000  # pages the harness makes readable and writable


def block(nr, *words, version=1):
    return struct.pack('<IIq', version, nr, 0) + b''.join(struct.pack('<Q', w) for w in words)


def page(reqs, req_prod=None):
    p = bytearray(PAGE)
    struct.pack_into('<QIIIIQ', p, 0, MAGIC, VERSION, SLOTS, SLOT, 3, 0)
    struct.pack_into('<II', p, 64, len(reqs) if req_prod is None else req_prod, 1)
    struct.pack_into('<II', p, 128, 0, 1)
    for i, b in enumerate(reqs):
        off = HDR + (i % SLOTS) * SLOT
        struct.pack_into('<QII', p, off, i + 1, len(b), 0)
        p[off + 16:off + 16 + len(b)] = b
    return bytes(p)


def poke(off, value):
    return struct.pack('<HQ', off, value)


SEEDS = {
    'clock-exit': page([block(CLOCK, 0, 0), block(EXIT, 0)]),
    'console': page([block(CONSOLE_WRITE, GUEST, 5), block(EXIT, 3)]),
    'console-outside': page([block(CONSOLE_WRITE, 0x1000, 5)]),
    'short-block': page([block(CONSOLE_WRITE)]),
    'unknown-nr': page([block(999)]),
    'bad-version': page([block(CLOCK, 0, 0, version=7)]),
    'index-too-far': page([block(CLOCK, 0, 0)], req_prod=1000),
    'panic': page([block(PANIC, GUEST, 8)]),
    'kills': page([block(KILL, 0, 0)] * 5),
    # the guest publishes a second request later, then breaks the index
    'poked': page([block(CLOCK, 0, 0)]) + poke(HDR + SLOT + 8, 32)
             + poke(HDR + SLOT + 16, 0x300000001) + poke(64, 2) + poke(64, 0xffff),
}

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)
