#!/usr/bin/env python3
"""Seeds for fuzz_net (fuzz/fuzz_net.c): scripts of ring operations and
frames.  Layouts from guest/kx_hcall_abi.h ("The packet device") and the
harness's rules (10.0.0.2/24, listen tcp/8080 udp/53, connect 10.0.0.1:80,
udp/10.0.0.0/24:*).  usage: net.py OUT_DIR"""
import os
import struct
import sys

ME = bytes([0x02, 0x6b, 0x78, 0, 0, 2])
PEER = bytes([0x02, 0, 0, 0, 0, 1])
BCAST = b'\xff' * 6


def csum(b, s=0):
    if len(b) % 2:
        b += b'\0'
    for i in range(0, len(b), 2):
        s += b[i] << 8 | b[i + 1]
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip(src, dst, proto, sport, dport, flags=2, payload=b'', dmac=PEER, smac=ME, frag=0):
    if proto == 6:
        l4 = struct.pack('>HHIIBBHHH', sport, dport, 1000, 0, 5 << 4, flags, 65535, 0, 0)
    else:
        l4 = struct.pack('>HHHH', sport, dport, 8 + len(payload), 0)
    l4 += payload
    hdr = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), 0, frag, 64, proto, 0,
                      struct.pack('>I', src), struct.pack('>I', dst))
    hdr = hdr[:10] + struct.pack('>H', csum(hdr)) + hdr[12:]
    return dmac + smac + b'\x08\x00' + hdr + l4


def arp(op, sha, spa, tpa, dmac=BCAST, smac=ME):
    return dmac + smac + b'\x08\x06' + struct.pack('>HHBBH6sI6sI', 1, 0x0800, 6, 4, op, sha,
                                                    spa, b'\0' * 6, tpa)


def put_tx(slot, frame):
    return bytes([2, slot]) + struct.pack('<H', len(frame)) + frame


def prod(n):
    return bytes([0]) + struct.pack('<I', n)


def cons(n):
    return bytes([1]) + struct.pack('<I', n)


def tap(frame, op=4):
    return bytes([op]) + struct.pack('<H', len(frame)) + frame


SEEDS = {
    'tx-allowed': put_tx(0, ip(0x0a000002, 0x0a000001, 6, 40000, 80)) + prod(1) + b'\x03',
    'tx-spoofed': put_tx(0, ip(0x0a000063, 0x0a000001, 6, 40000, 80)) +
                  put_tx(1, ip(0x0a000002, 0x0a000001, 6, 40000, 80, smac=PEER)) + prod(2) + b'\x03',
    'tx-arp': put_tx(0, arp(1, ME, 0x0a000002, 0x0a000001)) + prod(1) + b'\x03',
    'tx-index-far': prod(1000) + b'\x03',
    'tx-bad-len': bytes([2, 0]) + struct.pack('<H', 9000) + prod(1) + b'\x03',
    'rx-listen-reply': tap(ip(0x0a000009, 0x0a000002, 6, 50000, 8080, dmac=ME, smac=PEER)) +
                       put_tx(0, ip(0x0a000002, 0x0a000009, 6, 8080, 50000, flags=0x12)) +
                       prod(1) + b'\x03' + b'\x07',
    'rx-refused-syn': tap(ip(0x0a000009, 0x0a000002, 6, 50000, 22, dmac=ME, smac=PEER)),
    'rx-udp': tap(ip(0x0a000009, 0x0a000002, 17, 5000, 53, payload=b'hello', dmac=ME,
                     smac=PEER)),
    'rx-full': b''.join(tap(ip(0x0a000009, 0x0a000002, 17, 5000, 53, dmac=ME, smac=PEER))
                        for _ in range(260)),
    'rx-cons-back': tap(ip(0x0a000009, 0x0a000002, 17, 5000, 53, dmac=ME, smac=PEER)) +
                    cons(0xffffffff) + tap(ip(0x0a000009, 0x0a000002, 17, 5000, 53, dmac=ME,
                                              smac=PEER)),
    'fragment': tap(ip(0x0a000009, 0x0a000002, 6, 50000, 8080, dmac=ME, smac=PEER,
                       frag=0x2000), op=6),
    'raw-out': tap(ip(0x0a000002, 0x0a000005, 17, 1, 53, payload=b'x' * 40), op=5),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
