#!/usr/bin/python3
"""fuzz/gen/kxd.py: writes fuzz_kxd's seeds into fuzz/corpus/kxd/.

Each file is one fuzz_kxd input: a byte whose low 2 bits are the fd count,
then one datagram laid out as manager/kxd/kxd.h (struct kxd_req, struct
kxd_resp) and manager/chan/chan.h (struct kxmon_msg) pin it, little-endian.
One valid message of every type kxd or kxctl receives, and a few invalid
ones.  Run from the repository root: python3 fuzz/gen/kxd.py
"""
import os
import struct

REQ_SIZE, RESP_SIZE, CHAN_SIZE = 4264, 1136, 664
APP_MAX, NAME_MAX, ARGS_MAX, TEXT_MAX, MON_TEXT = 64, 64, 4096, 1024, 512
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus", "kxd")


def field(text, n):
    return text.ljust(n, b"\0")[:n]


def req(rtype, pvm_id=0, app=b"", name=b"", argv=(), argc=None, args_len=None, size=REQ_SIZE,
        as_pvm_id=0, flags=0, sig=0):
    args = b"".join(a + b"\0" for a in argv)
    head = struct.pack("<IIQQIiII", rtype, size, pvm_id, as_pvm_id, flags, sig,
                       len(argv) if argc is None else argc,
                       len(args) if args_len is None else args_len)
    return head + field(app, APP_MAX) + field(name, NAME_MAX) + field(args, ARGS_MAX)


def resp(rtype, pvm_id=0, pid=0, status=-1, state=0, app=b"", text=b"", parent=0):
    head = struct.pack("<IIQqqiIII", rtype, RESP_SIZE, pvm_id, pid, 1700000000, status, state,
                       0, parent)
    return head + field(app, APP_MAX) + field(text, TEXT_MAX)


def chan(mtype, seq, body, size=CHAN_SIZE):
    return struct.pack("<IIQ", mtype, size, seq) + field(body, CHAN_SIZE - 16)


def link_req(name, at_boot=1):
    return field(name, NAME_MAX) + struct.pack("<II", at_boot, 0)


def link_done(result, name, message):
    return struct.pack("<iI", result, 0) + field(name, NAME_MAX) + field(message, MON_TEXT)


def ipc_req(op, kind=0, flags=0, ends=0, key=0, size=0, obj=0):
    """IPC_REQ: op, kind, flags, ends, key, size, id."""
    return struct.pack("<IIIIQQQ", op, kind, flags, ends, key, size, obj)


def update_done(result, message, attempts=1):
    """UPDATE_DONE: result, attempts, counts, 8 phase times, message."""
    return (struct.pack("<iIIIII", result, attempts, 110, 113, 1, 0) +
            struct.pack("<8Q", *range(1000, 9000, 1000)) + field(message, MON_TEXT))


SEEDS = {
    # control requests (kxctl -> kxd)
    "req-ping": (0, req(1)),
    "req-run": (3, req(2, app=b"kvstore", argv=(b"kvstore.elf", b"--port", b"7"))),
    "req-list": (0, req(3)),
    "req-link": (0, req(4, pvm_id=3, name=b"libkvmath.so")),
    "req-link-as": (0, req(4, pvm_id=3, name=b"libkvmath.so", as_pvm_id=2)),
    "req-kill": (0, req(5, pvm_id=3)),
    "bad-req-kill-flags": (0, req(5, pvm_id=3, flags=1, sig=9)),
    "req-stop": (0, req(6)),
    # answers (kxd -> kxctl)
    "resp-ok": (0, resp(1, text=b"/run/kx/audit.log")),
    "resp-error": (0, resp(2, text=b"boot of x denied (rule m.yaml:3)")),
    "resp-started": (0, resp(3, pvm_id=1, pid=4242, app=b"kvstore")),
    "resp-exited": (0, resp(4, pvm_id=1, pid=4242, status=137, state=3, app=b"kvstore",
                            text=b"killed by the operator")),
    "resp-pvm": (0, resp(5, pvm_id=1, pid=4242, state=2, app=b"kvstore",
                         text=b"libkvmath 1.2.0 " + b"ab" * 32 + b"\n")),
    "resp-pvm-forked": (0, resp(5, pvm_id=2, pid=4243, state=2, app=b"kvstore", parent=1)),
    "resp-end": (0, resp(6)),
    # channel messages (kxmon -> kxd)
    "chan-hello": (0, chan(1, 0, struct.pack("<II", 1, 4242))),
    "chan-link-req": (0, chan(2, 1, link_req(b"libkvmath.so"))),
    "chan-link-done": (0, chan(5, 7, link_done(0, b"libkvmath.so", b""))),
    "chan-link-done-failed": (0, chan(5, 7, link_done(-12, b"libkvmath.so", b"no memory"))),
    "chan-exit": (0, chan(6, 0, struct.pack("<iIQ", 0, 1, 0) + field(b"exit 0", MON_TEXT))),
    "chan-fork-req": (0, chan(7, 2, b"")),
    "chan-wait-req": (0, chan(9, 3, struct.pack("<QiI", 2, 0, 0))),
    # posix-mon
    "req-run-env": (3, req(2, argv=(b"app.kxe", b"x", b"LANG=C", b"EMPTY="), argc=2, flags=2)),
    "bad-req-run-env-name": (3, req(2, argv=(b"app.kxe", b"=C"), argc=1, flags=2)),
    "bad-req-run-env-none": (3, req(2, argv=(b"app.kxe",), argc=1, flags=2)),
    "chan-self-req": (0, chan(45, 12, b"")),
    "chan-posix-enosys": (0, chan(65, 0, struct.pack("<II", 165, 0))),
    "bad-chan-posix-enosys-range": (0, chan(65, 0, struct.pack("<II", 512, 0))),
    "bad-chan-posix-enosys-reserved": (0, chan(65, 0, struct.pack("<II", 57, 1))),
    "bad-chan-self-resp": (0, chan(46, 12, struct.pack("<QQ", 3, 1))),
    # posix-fs: a host mount asked for while the image loads
    "chan-fs-mount-req": (0, chan(40, 4, struct.pack("<II", 0, 0))),
    "bad-chan-fs-mount-req-reserved": (0, chan(40, 4, struct.pack("<II", 0, 1))),
    # invalid ones
    "bad-chan-fork-fd": (1, chan(7, 2, b"")),
    "bad-chan-fork-resp": (0, chan(8, 2, b"")),
    "bad-short": (0, b"\1\0\0\0"),
    "bad-req-size-field": (0, req(1, size=REQ_SIZE - 8)),
    "bad-req-type": (0, req(7)),
    "bad-req-run-no-fds": (0, req(2, argv=(b"a.elf",))),
    "bad-req-ping-fds": (1, req(1)),
    "bad-req-run-argc": (3, req(2, argv=(b"a.elf", b"x"), argc=3)),
    "bad-req-run-unterminated": (3, req(2, argv=(b"a.elf",), args_len=3)),
    "bad-req-link-slash": (0, req(4, pvm_id=1, name=b"../libc.so")),
    "bad-req-app-nul": (0, req(1, app=b"a" * APP_MAX)),
    "bad-resp-text-nul": (0, resp(2, text=b"x" * TEXT_MAX)),
    "bad-chan-version": (0, chan(1, 0, struct.pack("<II", 2, 1))),
    "bad-chan-link-resp": (0, chan(3, 1, b"")),
    "bad-chan-at-boot": (0, chan(2, 1, link_req(b"libx.so", at_boot=2))),
    "bad-chan-name-nul": (0, chan(2, 1, link_req(b"a" * NAME_MAX))),
    "bad-chan-fd": (1, chan(2, 1, link_req(b"libx.so"))),
    "bad-req-run-argc-zero": (3, req(2, argv=(b"a.elf",), argc=0)),
    "bad-req-run-args-len-huge": (3, req(2, argv=(b"a.elf",), args_len=ARGS_MAX + 1)),
    "bad-req-run-argc-huge": (3, req(2, argv=(b"",) * 300)),
    "bad-req-link-empty": (0, req(4, pvm_id=1)),
    "bad-req-kill-as": (0, req(5, pvm_id=1, as_pvm_id=2)),
    "bad-resp-fds": (2, resp(1)),
    "bad-resp-type": (0, resp(9)),
    "bad-chan-exit-nul": (0, chan(6, 0, struct.pack("<iIQ", 0, 1, 0) + b"r" * MON_TEXT)),
    "bad-chan-link-done-nul": (0, chan(5, 7, link_done(0, b"l" * NAME_MAX, b""))),
    "bad-chan-link-done-positive": (0, chan(5, 7, link_done(5, b"libx.so", b""))),
    "bad-chan-size-field": (0, chan(1, 0, struct.pack("<II", 1, 1), size=CHAN_SIZE + 8)),
    # online update (docs/update.md): kxctl update (1 fd: the new library), UPDATE_DONE
    "req-update": (1, req(7, pvm_id=1, name=b"libupd", flags=2000 << 16)),
    "req-update-lazy": (1, req(7, pvm_id=1, name=b"libupd.so", flags=1 | (300 << 16))),
    "bad-req-update-no-fd": (0, req(7, pvm_id=1, name=b"libupd")),
    "bad-req-update-flags": (1, req(7, pvm_id=1, name=b"libupd", flags=2)),
    "bad-req-update-name": (1, req(7, pvm_id=1, name=b"../libupd")),
    "chan-update-done": (0, chan(26, 9, update_done(0, b"110 GOT entries, 113 variables"))),
    "chan-update-done-busy": (0, chan(26, 9, update_done(-16, b"not quiescent", 150))),
    "bad-chan-update-done-positive": (0, chan(26, 9, update_done(3, b""))),
    "bad-chan-update-done-nul": (0, chan(26, 9, update_done(0, b"m" * MON_TEXT))),
    "bad-chan-update-done-fd": (1, chan(26, 9, update_done(0, b""))),
    # recycling (docs/recycle.md): run --recycle, a pooled kxmon's READY
    "req-run-recycle": (3, req(2, app=b"kvcount", argv=(b"libkvcount.so", b"apple"), flags=1)),
    "bad-req-run-recycle-flags": (3, req(2, argv=(b"libkvcount.so",), flags=3)),
    "bad-req-list-recycle-flag": (0, req(3, flags=1)),
    "chan-recycle-ready": (0, chan(30, 0, b"")),
    "bad-chan-recycle-ready-fd": (1, chan(30, 0, b"")),
    "bad-chan-recycle-app": (1, chan(32, 0, b"")),
    # signals (docs/signals.md): kxctl kill --signal, a guest's kx_kill, WAIT_CANCEL
    "req-kill-signal": (0, req(5, pvm_id=3, sig=15)),
    "bad-req-kill-signal-range": (0, req(5, pvm_id=3, sig=32)),
    "bad-req-kill-signal-negative": (0, req(5, pvm_id=3, sig=-1)),
    "bad-req-list-signal": (0, req(3, sig=10)),
    "chan-kill-req": (0, chan(20, 4, struct.pack("<QIi", 2, 10, 0))),
    "chan-kill-req-parent-probe": (0, chan(20, 4, struct.pack("<QIi", 0, 0, 0))),
    "bad-chan-kill-req-range": (0, chan(20, 4, struct.pack("<QIi", 2, 32, 0))),
    "bad-chan-kill-req-result": (0, chan(20, 4, struct.pack("<QIi", 2, 10, -3))),
    "bad-chan-kill-req-fd": (1, chan(20, 4, struct.pack("<QIi", 2, 10, 0))),
    "bad-chan-kill-resp": (0, chan(21, 4, struct.pack("<QIi", 2, 10, 0))),
    "bad-chan-signal": (0, chan(22, 0, struct.pack("<QIi", 1, 10, 0))),
    "chan-wait-any": (0, chan(9, 5, struct.pack("<QiI", 0, 0, 0))),
    "chan-wait-cancel": (0, chan(23, 5, b"")),
    # IpC objects (docs/ipc.md): a guest's GET / DETACH / RM through kxmon
    "chan-ipc-get-pipe": (0, chan(11, 6, ipc_req(1, kind=1))),
    "chan-ipc-get-msgq": (0, chan(11, 6, ipc_req(1, kind=2, flags=1, key=0x1234))),
    "chan-ipc-get-shm": (0, chan(11, 6, ipc_req(1, kind=3, flags=3, key=7, size=8192))),
    "chan-ipc-detach": (0, chan(11, 6, ipc_req(2, ends=1, obj=3))),
    "chan-ipc-rm": (0, chan(11, 6, ipc_req(3, obj=3))),
    "bad-chan-ipc-op": (0, chan(11, 6, ipc_req(4))),
    "bad-chan-ipc-kind": (0, chan(11, 6, ipc_req(1, kind=4))),
    "bad-chan-ipc-flags": (0, chan(11, 6, ipc_req(1, kind=2, flags=4))),
    "bad-chan-ipc-ends": (0, chan(11, 6, ipc_req(2, ends=4, obj=3))),
    "bad-chan-ipc-fd": (1, chan(11, 6, ipc_req(1, kind=1))),
    "bad-chan-ipc-resp": (0, chan(12, 6, b"")),
    # the policy (docs/kxd.md "Reloading the policy"): which policy, reload
    "req-policy": (0, req(10)),
    "req-reload": (0, req(11)),
    "req-reload-path": (0, req(11, argv=(b"/etc/kx/policy.kxp",))),
    "req-reload-enforce": (0, req(11, argv=(b"/etc/kx/policy.kxp",), flags=1)),
    "bad-req-reload-relative": (0, req(11, argv=(b"policy.kxp",))),
    "bad-req-reload-two": (0, req(11, argv=(b"/a.kxp", b"/b.kxp"))),
    "bad-req-reload-flags": (0, req(11, flags=2)),
    "bad-req-reload-fd": (1, req(11)),
    "bad-req-policy-args": (0, req(10, argv=(b"/a.kxp",))),
    "bad-req-reserved-8": (0, req(8)),
    # network (docs/network.md): NET_REPORT (first = kind + 1, query, proto,
    # port, addr, iface, counters, what), the NET control request
    "chan-net-report": (0, chan(51, 0, struct.pack("<IBBHII", 3, 2, 6, 80, 0x0a000001, 0) +
                                field(b"net0", 16) + bytes(16 + 8 * 12) +
                                field(b"out tcp 10.0.0.2:1 -> 10.0.0.1:80", 160))),
    "bad-chan-net-report-kind": (0, chan(51, 0, struct.pack("<IBBHII", 13, 0, 0, 0, 0, 0))),
    "req-net": (0, req(20)),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (nfds, msg) in sorted(SEEDS.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes([nfds]) + msg)


if __name__ == "__main__":
    main()
