#!/usr/bin/python3
"""fuzz/gen/kxmon.py: writes fuzz_kxmon's seeds into fuzz/corpus/kxmon/.

Each file is one fuzz_kxmon input: a flags byte (bits 0-1: the fd count;
bit 2: a request is in flight with the datagram's seq; bit 3: that request
names libkvmath.so), then one datagram kxd sends a kxmon, laid out as
manager/chan/chan.h pins it, little-endian.  One valid message of every
type kxmon receives, and invalid ones.  Run from the repository root:
python3 fuzz/gen/kxmon.py
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kxd import chan, field, NAME_MAX, MON_TEXT  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus", "kxmon")
VERSION_MAX, ARGS_MAX = 32, 512
INFLIGHT, NAMED = 4, 8


def link(allow, name, version=b"1.16.2", reason=b"", bind=0):
    return (struct.pack("<II", allow, bind) + field(name, NAME_MAX) +
            field(version, VERSION_MAX) + bytes(32) + field(reason, MON_TEXT))


def fork(allow, error=0, child=0, reason=b""):
    return struct.pack("<IiQ", allow, error, child) + field(reason, MON_TEXT)


def sig(pvm, number, result=0):
    return struct.pack("<QIi", pvm, number, result)


def ipc_resp(result, kind=0, obj=0, data_size=0, ends=0, mapped=0, reason=b""):
    return struct.pack("<iIQQII", result, kind, obj, data_size, ends, mapped) + \
        field(reason, MON_TEXT)


def update(name, version=b"1.18", flags=0, deadline=2000):
    return (struct.pack("<II", flags, deadline) + field(name, NAME_MAX) +
            field(version, VERSION_MAX) + bytes(32))


def recycle(name, argv, argc=None, args_len=None):
    args = b"".join(a + b"\0" for a in argv)
    return (field(name, NAME_MAX) + field(b"1.0", VERSION_MAX) + bytes(32) +
            struct.pack("<II", len(argv) if argc is None else argc,
                        len(args) if args_len is None else args_len) + field(args, ARGS_MAX))


SEEDS = {
    "link-resp-allow": (1 | INFLIGHT | NAMED, chan(3, 5, link(1, b"libkvmath.so"))),
    "link-resp-deny": (INFLIGHT | NAMED, chan(3, 5, link(0, b"libkvmath.so", b"",
                                                          b"denied by m.yaml:3"))),
    "link-push": (1, chan(4, 9, link(1, b"libacme-log.so", bind=1))),
    "fork-resp-allow": (1 | INFLIGHT, chan(8, 2, fork(1, child=7))),
    "fork-resp-deny": (INFLIGHT, chan(8, 2, fork(0, error=-13, reason=b"max-children"))),
    "wait-resp": (INFLIGHT, chan(10, 3, struct.pack("<Qii", 7, 0, 3))),
    "kill-resp": (INFLIGHT, chan(21, 4, sig(2, 10, -13))),
    "signal": (0, chan(22, 0, sig(1, 15))),
    "ipc-resp-map": (1 | INFLIGHT, chan(12, 6, ipc_resp(0, 3, 4, 65536, 0, 1))),
    "ipc-resp-denied": (INFLIGHT, chan(12, 6, ipc_resp(-13, reason=b"no trust rule"))),
    "update-push": (1, chan(25, 11, update(b"libupd"))),
    "recycle-console": (2, chan(31, 0, b"")),
    "recycle-app": (1, chan(32, 0, recycle(b"kvcount", (b"libkvcount.so", b"apple")))),
    # posix-mon
    "self-resp": (INFLIGHT, chan(46, 12, struct.pack("<QQ", 3, 1))),
    "bad-self-resp-zero": (INFLIGHT, chan(46, 12, struct.pack("<QQ", 0, 1))),
    "bad-self-resp-own-parent": (INFLIGHT, chan(46, 12, struct.pack("<QQ", 3, 3))),
    "bad-self-resp-no-request": (0, chan(46, 12, struct.pack("<QQ", 3, 1))),
    "bad-posix-enosys-wrong-way": (0, chan(65, 0, struct.pack("<II", 57, 0))),
    "jail-ready": (INFLIGHT, chan(60, 1, b"")),
    # invalid ones
    "bad-link-resp-no-request": (1, chan(3, 5, link(1, b"libkvmath.so"))),
    "bad-link-resp-other-lib": (1 | INFLIGHT | NAMED, chan(3, 5, link(1, b"libother.so"))),
    "bad-link-push-deny": (0, chan(4, 9, link(0, b"libx.so"))),
    "bad-fork-resp-error": (INFLIGHT, chan(8, 2, fork(0, error=-5))),
    "bad-signal-range": (0, chan(22, 0, sig(1, 32))),
    "bad-signal-fd": (1, chan(22, 0, sig(1, 10))),
    "bad-ipc-resp-map-denied": (1 | INFLIGHT, chan(12, 6, ipc_resp(-13, 3, 4, 4096, 0, 1))),
    "bad-ipc-resp-size": (1 | INFLIGHT, chan(12, 6, ipc_resp(0, 3, 4, 100, 0, 1))),
    "bad-update-deadline": (1, chan(25, 11, update(b"libupd", deadline=0))),
    "bad-update-no-fd": (0, chan(25, 11, update(b"libupd"))),
    "bad-recycle-argc": (1, chan(32, 0, recycle(b"kvcount", (b"a", b"b"), argc=3))),
    "bad-recycle-args-len": (1, chan(32, 0, recycle(b"kvcount", (b"a",), args_len=ARGS_MAX + 1))),
    "bad-recycle-console-fds": (1, chan(31, 0, b"")),
    "bad-hello-wrong-way": (0, chan(1, 0, struct.pack("<II", 1, 42))),
    "bad-jail-ready-no-request": (0, chan(60, 1, b"")),
    "bad-jail-ready-fd": (1 | INFLIGHT, chan(60, 1, b"")),
    "bad-short": (0, b"\3\0\0\0"),
    # network (docs/network.md): NET_ATTACH with the TAP and rules, or "none"
    "net-attach": (2, chan(50, 1, field(b"net0", 16) + bytes([2, 0x6b, 0x78, 0, 0, 1, 0, 0]))),
    "net-attach-none": (0, chan(50, 1, b"")),
    "bad-net-attach-multicast": (2, chan(50, 1, field(b"net0", 16) +
                                        bytes([3, 0x6b, 0x78, 0, 0, 1, 0, 0]))),
    "bad-net-attach-no-fds": (0, chan(50, 1, field(b"net0", 16) +
                                     bytes([2, 0x6b, 0x78, 0, 0, 1, 0, 0]))),
    # posix-fs: host mounts (struct kxmon_fs_mount: result, writable, max, guest[120], reason)
    "fs-mount-granted": (1 | INFLIGHT, chan(41, 4, struct.pack("<iIQ", 0, 1, 1 << 20)
                                          + field(b"/data", 120))),
    "fs-mount-none": (INFLIGHT, chan(41, 4, struct.pack("<iIQ", -2, 0, 0))),
    "fs-mount-denied": (INFLIGHT, chan(41, 4, struct.pack("<iIQ", -13, 0, 0) + field(b"", 120)
                                       + field(b"files: not granted", MON_TEXT))),
    "bad-fs-mount-dotdot": (1 | INFLIGHT, chan(41, 4, struct.pack("<iIQ", 0, 0, 0)
                                             + field(b"/data/../etc", 120))),
    "bad-fs-mount-no-fd": (INFLIGHT, chan(41, 4, struct.pack("<iIQ", 0, 0, 0)
                                        + field(b"/data", 120))),
    "bad-fs-mount-no-cap": (1 | INFLIGHT, chan(41, 4, struct.pack("<iIQ", 0, 1, 0)
                                             + field(b"/data", 120))),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (flags, msg) in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes([flags]) + msg)


if __name__ == "__main__":
    main()
