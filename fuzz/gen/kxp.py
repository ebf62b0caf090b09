#!/usr/bin/python3
"""fuzz/gen/kxp.py: writes fuzz_kxp's regression inputs into fuzz/regress/kxp/.

One hostile .kxp per class of reader check, each made from the example
policy (fuzz/corpus/kxp/examples.kxp, `make kxp-corpus`) by changing a few
bytes as policy-lang/kxp_abi.h lays them out, then, unless the class is
about the header or the digest, recomputing the body digest so the change
reaches the table checks.  Every one must be refused by kxp_open without a
crash (fuzz/replay.sh runs them under ASan+UBSan; tests/unit/
test_policy_reader.c asserts the refusal).  format1-examples.kxp is a
policy of the previous format, kept to show it is refused.
Run from the repository root after `make kxp-corpus`: python3 fuzz/gen/kxp.py
"""
import hashlib
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SRC = os.path.join(ROOT, "corpus", "kxp", "examples.kxp")
OUT = os.path.join(ROOT, "regress", "kxp")

HEADER = 192
(STRINGS, PROV, APPS, KEYS, LIBS, LIB_SIGNERS, INTERVALS, FORK, RECYCLE, TRUST, IPC,
 REVOKED_KEYS, REVOKED_DIGESTS, META, RESOURCES, FILES, IFACES, LISTEN, PEERS) = range(19)
SIZE = {APPS: 88, KEYS: 72, LIBS: 32, INTERVALS: 40, TRUST: 16, PROV: 16, META: 16,
        RESOURCES: 16, FILES: 24, IFACES: 40, LISTEN: 8, PEERS: 16, LIB_SIGNERS: 4}


def desc(b, t):
    """(offset, count) of table t, from the directory."""
    off, count, _ = struct.unpack_from("<QII", b, HEADER + 16 * t)
    return off, count


def entry(b, t, i):
    return desc(b, t)[0] + SIZE[t] * i


def put(b, fmt, off, *v):
    struct.pack_into("<" + fmt, b, off, *v)


def reseal(b):
    put(b, "32s", 32, hashlib.blake2b(bytes(b[HEADER:]), digest_size=32).digest())


def find_string(b, s):
    off, count = desc(b, STRINGS)
    return off + bytes(b[off:off + count]).index(s.encode() + b"\0")


def dirent(b, t, count):
    put(b, "I", HEADER + 16 * t + 8, count)


def main():
    base = bytearray(open(SRC, "rb").read())
    webcache = 5  # apps are sorted by name: the one with files and network
    cases = {
        # the header and the digest
        "empty.kxp": lambda b: b[:0],
        "header-only.kxp": lambda b: (put(b, "Q", 24, 0), b[:HEADER])[1],
        "huge-body-size.kxp": lambda b: put(b, "Q", 24, 1 << 63),
        "directory-truncated.kxp": lambda b: (put(b, "Q", 24, 100), b[:HEADER + 100])[1],
        # the directory and counts
        "strings-count-overflow.kxp": lambda b: dirent(b, STRINGS, 0xffffffff),
        "ipc-count-overflow.kxp": lambda b: dirent(b, IPC, 0xffffffff),
        "meta-reserved.kxp": lambda b: put(b, "Q", entry(b, META, 0) + 8, 1),
        # references out of range
        "app-name-oob.kxp": lambda b: put(b, "I", entry(b, APPS, 0), 0xffffff),
        "prov-file-oob.kxp": lambda b: put(b, "I", entry(b, PROV, 0), 0xfffffff0),
        "libs-run-overflow.kxp": lambda b: put(b, "I", entry(b, APPS, 1) + 28, 0xffffffff),
        "signer-index-oob.kxp": lambda b: put(b, "I", entry(b, LIB_SIGNERS, 0), 0xffffffff),
        "trust-peer-oob.kxp": lambda b: put(b, "I", entry(b, TRUST, 0), 0xffffffff),
        "version-nparts.kxp": lambda b: put(b, "B", entry(b, INTERVALS, 0) + 16, 200),
        "key-validity.kxp": lambda b: put(b, "qq", entry(b, KEYS, 0) + 56, 2, 1),
        "resources-cpu.kxp": lambda b: put(b, "I", entry(b, RESOURCES, 0), 1),
        # an audit rate without a burst (both or neither)
        "resources-audit-half.kxp": lambda b: put(b, "HH", entry(b, RESOURCES, 0) + 12, 5, 0),
        # files
        "files-run-overflow.kxp": lambda b: put(b, "I", entry(b, APPS, webcache) + 60,
                                                0xffffffff),
        "files-guest-dotdot.kxp": lambda b: put(b, "8s", find_string(b, "/srv/www"),
                                                b"/s/../ww"),
        "files-image-host.kxp": lambda b: put(b, "I", entry(b, FILES, 0) + 4,
                                              struct.unpack_from("<I", b,
                                                                 entry(b, FILES, 1) + 4)[0]),
        # network
        "iface-prefix-zero.kxp": lambda b: put(b, "B", entry(b, IFACES, 0) + 12, 0),
        "listen-run-overflow.kxp": lambda b: put(b, "I", entry(b, IFACES, 0) + 20, 0xffffffff),
        "listen-port-zero.kxp": lambda b: put(b, "H", entry(b, LISTEN, 0), 0),
        "peers-host-bits.kxp": lambda b: put(b, "I", entry(b, PEERS, 0),
                                             struct.unpack_from("<I", b,
                                                                entry(b, PEERS, 0))[0] | 1),
    }
    unsealed = {"empty.kxp", "header-only.kxp", "huge-body-size.kxp"}
    os.makedirs(OUT, exist_ok=True)
    for name, mutate in sorted(cases.items()):
        b = bytearray(base)
        out = mutate(b)
        if out is not None:
            b = bytearray(out)
        if name not in unsealed and len(b) >= HEADER:
            reseal(b)
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(b)
    print("wrote %d inputs to %s" % (len(cases), OUT))


if __name__ == "__main__":
    main()
