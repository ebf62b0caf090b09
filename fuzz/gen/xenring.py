#!/usr/bin/env python3
"""Seeds for fuzz_xenring (fuzz/fuzz_xenring.c): a shared kx ring page as a
peer left it, then a script of ring operations.  Layout from
guest/kx_ring_abi.h.  usage: xenring.py OUT_DIR"""
import os
import struct
import sys

PAGE, SLOTS, SLOT, HDR = 4096, 16, 224, 512
MAGIC, VERSION = 0x31676E6952584B, 1


def page(req_prod=0, rsp_prod=0, slots=(), magic=MAGIC, version=VERSION, evtchn=3):
    p = bytearray(PAGE)
    struct.pack_into('<QIIIIQ', p, 0, magic, version, SLOTS, SLOT, evtchn, 0)
    struct.pack_into('<II', p, 64, req_prod, 1)
    struct.pack_into('<II', p, 128, rsp_prod, 1)
    for i, (ident, length, reserved, block) in slots:
        off = HDR + (i % SLOTS) * SLOT
        struct.pack_into('<QII', p, off, ident, length, reserved)
        p[off + 16:off + 16 + len(block)] = block
    return bytes(p)


def block(nr, *words, version=1):
    return struct.pack('<IIq', version, nr, 0) + b''.join(struct.pack('<Q', w) for w in words)


OPS = dict(take=0, answer=1, poke=2, mwait=3, put=4, get=5, gwait=6, index=7)


def script(*ops):
    out = bytearray()
    for op in ops:
        if isinstance(op, tuple):
            name, *args = op
            out.append(OPS[name])
            if name == 'poke':
                out += struct.pack('<HI', *args)
            elif name == 'index':
                out += struct.pack('<BI', *args)
        else:
            out.append(OPS[op])
    return bytes(out)


seeds = {
    'round-trip': page() + script('put', 'take', 'answer', 'get'),
    'many': page() + script(*(['put'] * 17 + ['take'] * 17 + ['answer'] * 17 + ['get'] * 17)),
    'waits': page() + script('mwait', 'put', 'take', 'gwait', 'answer', 'get', 'mwait'),
    'console-request': page(1, 0, [(0, (1, 32, 0, block(1, 0x500000, 5)))]) + script('take', 'answer'),
    'wrap': page(0xfffffffe, 0xfffffffe) + script(('index', 0, 0xffffffff), 'take'),
    'length-odd': page(1, 0, [(0, (1, 20, 0, block(8)))]) + script('take'),
    'length-huge': page(1, 0, [(0, (1, 0xfffffff8, 0, block(8)))]) + script('take'),
    'reserved-set': page(1, 0, [(0, (1, 16, 7, block(8)))]) + script('take'),
    'bad-version': page(1, 0, [(0, (1, 16, 0, block(8, version=2)))]) + script('take'),
    'index-far': page(40) + script('take'),
    'no-monitor': page(magic=0) + script('put', 'get'),
    'hostile-response': page() + script('put', ('index', 1, 5), 'get', ('poke', 512, 99), 'get'),
}

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)
