#!/usr/bin/env python3
"""Seeds and hostile inputs for fuzz_ptrmap (fuzz/fuzz_ptrmap.c): pointer
maps as common/kxptrmap.h lays them out.  Valid maps go to
fuzz/corpus/ptrmap, maps the decoder must refuse to fuzz/regress/ptrmap.
usage: ptrmap.py [REPO_ROOT]"""
import os
import struct
import sys

MAGIC = b"KXPTRv1\0"
POINTER, MAYBE, UNTYPED = 1, 2, 1


def var(addr, size, first, count, flags=0, reserved=0):
    return struct.pack("<QQIIII", addr, size, first, count, flags, reserved)


def run(offset, stride, count, kind=POINTER):
    return struct.pack("<QQII", offset, stride, count, kind)


def mapbytes(vars_, runs, nvars=None, nruns=None, magic=MAGIC):
    head = magic + struct.pack("<II", len(vars_) if nvars is None else nvars,
                               len(runs) if nruns is None else nruns)
    return head + b"".join(vars_) + b"".join(runs)


VALID = {
    "empty": mapbytes([], []),
    "one-pointer": mapbytes([var(0x4000, 8, 0, 1)], [run(0, 0, 1)]),
    "struct-array-union": mapbytes(
        [var(0x4000, 48, 0, 1), var(0x4040, 160, 1, 1), var(0x4100, 8, 2, 1),
         var(0x4108, 1, 3, 0, UNTYPED), var(0x4110, 32, 3, 1)],
        [run(8, 8, 2), run(0, 16, 10), run(0, 0, 1, MAYBE), run(0, 8, 4)]),
    "interleaved": mapbytes([var(0x5000, 320, 0, 2)], [run(0, 32, 10), run(8, 32, 10, MAYBE)]),
    "no-pointers": mapbytes([var(0x4000, 4, 0, 0), var(0x4008, 8, 0, 0)], []),
}

HOSTILE = {
    "short": MAGIC[:7],
    "bad-magic": mapbytes([], [], magic=b"KXPTRv2\0"),
    "count-past-end": mapbytes([var(0x4000, 8, 0, 1)], [run(0, 0, 1)], nvars=2),
    "too-many-vars": mapbytes([], [], nvars=(1 << 20) + 1),
    "trailing-byte": mapbytes([var(0x4000, 8, 0, 0)], []) + b"\0",
    "overlap": mapbytes([var(0x4000, 16, 0, 0), var(0x4008, 8, 0, 0)], []),
    "unsorted": mapbytes([var(0x5000, 8, 0, 0), var(0x4000, 8, 0, 0)], []),
    "zero-size": mapbytes([var(0x4000, 0, 0, 0)], []),
    "wrapping-var": mapbytes([var(0xfffffffffffffff8, 16, 0, 0)], []),
    "run-past-var": mapbytes([var(0x4000, 8, 0, 1)], [run(4, 0, 1)]),
    "stride-overflow": mapbytes([var(0x4000, 64, 0, 1)], [run(0, 1 << 63, 3)]),
    "small-stride": mapbytes([var(0x4000, 64, 0, 1)], [run(0, 4, 2)]),
    "zero-count": mapbytes([var(0x4000, 8, 0, 1)], [run(0, 0, 0)]),
    "bad-kind": mapbytes([var(0x4000, 8, 0, 1)], [run(0, 0, 1, 3)]),
    "runs-not-following": mapbytes([var(0x4000, 8, 1, 1), var(0x4008, 8, 0, 1)],
                                   [run(0, 0, 1), run(0, 0, 1)]),
    "orphan-runs": mapbytes([var(0x4000, 8, 0, 0)], [run(0, 0, 1)]),
    "untyped-with-runs": mapbytes([var(0x4000, 8, 0, 1, UNTYPED)], [run(0, 0, 1)]),
    "unknown-flag": mapbytes([var(0x4000, 8, 0, 0, 4)], []),
    "runs-unsorted": mapbytes([var(0x4000, 32, 0, 2)], [run(16, 0, 1), run(8, 0, 1)]),
}


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    for kind, table in (("corpus", VALID), ("regress", HOSTILE)):
        out = os.path.join(root, "fuzz", kind, "ptrmap")
        os.makedirs(out, exist_ok=True)
        for name, data in table.items():
            with open(os.path.join(out, name + ".map"), "wb") as f:
                f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
