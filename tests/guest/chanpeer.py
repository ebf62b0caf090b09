#!/usr/bin/env python3
"""chanpeer.py — TEST DOUBLE for kxd's end of the kxmon channel.

NOT kxd, never installed, NO POLICY: it answers every LINK_REQ from a
library directory (ALLOW unless told to deny), so the tests can exercise the
monitor's own machinery — mapping, lazy and immediate binding, W^X, shared
text, DENY handling and malformed messages — before and apart from kxd.
The real end-to-end path (gate, signatures, audit) is `kxctl run`.

  chanpeer.py --libdir DIR [--deny NAME[=REASON]]... [--now NAME]...
              [--push NAME [--push-delay SECS]] [--bad KIND] [--runs N]
              -- KXMON IMAGE [kxmon opts] [-- ARGS]

It runs KXMON --channel FD --image-fd FD --image-name basename(IMAGE) with
the remaining arguments, N times in a row (memfds shared between runs, as
kxd shares one memfd per library), logs every message on stderr as
"peer: ..." and exits with the last kxmon's status.  --bad answers the
first LINK_REQ with a malformed message of the given KIND.
"""
import argparse
import fcntl
import os
import socket
import struct
import subprocess
import sys

MSG_SIZE = 664
HELLO, LINK_REQ, LINK_RESP, LINK_PUSH, LINK_DONE, EXIT = 1, 2, 3, 4, 5, 6
FS_MOUNT_REQ, FS_MOUNT_RESP = 40, 41  # posix-fs: host directories (none here)
BAD_KINDS = ("short", "type", "seq", "name", "nonul", "fds", "unsealed")
memfds = {}


def log(*a):
    print("peer:", *a, file=sys.stderr, flush=True)


def cstr(b):
    return b.split(b"\0", 1)[0].decode(errors="replace")


def sealed_memfd(path, seal=True):
    with open(path, "rb") as f:
        data = f.read()
    fd = os.memfd_create(os.path.basename(path), os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.write(fd, data)
    if seal:
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK |
                    fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
    return fd


def link_msg(mtype, seq, allow, bind, name, reason=""):
    body = struct.pack("<II64s32s32s512s", allow, bind, name.encode(), b"1.0", b"\0" * 32,
                       reason.encode())
    msg = struct.pack("<IIQ", mtype, MSG_SIZE, seq) + body
    return msg + b"\0" * (MSG_SIZE - len(msg))


def library_fd(args, name):
    if name not in memfds:
        memfds[name] = sealed_memfd(os.path.join(args.libdir, name))
    return memfds[name]


def answer(sock, args, seq, name, state):
    if args.bad and not state["bad_sent"]:
        state["bad_sent"] = True
        kind = args.bad
        log("sending a malformed LINK_RESP:", kind)
        msg = link_msg(LINK_RESP, seq, 1, 0, name)
        fds = [library_fd(args, name)]
        if kind == "short":
            msg = msg[:100]
        elif kind == "type":
            msg = struct.pack("<I", 99) + msg[4:]
        elif kind == "seq":
            msg = link_msg(LINK_RESP, seq + 7, 1, 0, name)
        elif kind == "name":
            msg = link_msg(LINK_RESP, seq, 1, 0, "libother.so")
        elif kind == "nonul":
            msg = msg[:16 + 8] + b"A" * 64 + msg[16 + 8 + 64:]
        elif kind == "fds":
            fds = []
        elif kind == "unsealed":
            fds = [sealed_memfd(os.path.join(args.libdir, name), seal=False)]
        socket.send_fds(sock, [msg], fds)
        return
    deny = dict(d.split("=", 1) if "=" in d else (d, "denied by the test peer")
                for d in args.deny)
    path = os.path.join(args.libdir, name)
    if name in deny or "/" in name or not os.path.isfile(path):
        reason = deny.get(name, "no such library in the test peer's directory")
        log(f"LINK_RESP {name}: DENY ({reason})")
        socket.send_fds(sock, [link_msg(LINK_RESP, seq, 0, 0, name, reason)], [])
        return
    fd = library_fd(args, name)
    bind = 1 if name in args.now else 0
    log(f"LINK_RESP {name}: ALLOW bind={'now' if bind else 'lazy'} memfd-ino={os.fstat(fd).st_ino}")
    socket.send_fds(sock, [link_msg(LINK_RESP, seq, 1, bind, name)], [fd])


def send_push(sock, args):
    log(f"LINK_PUSH {args.push}")
    socket.send_fds(sock, [link_msg(LINK_PUSH, 1000, 1, 0, args.push)],
                    [library_fd(args, args.push)])


def run_once(args, kxmon_cmd):
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    image = kxmon_cmd[1]
    image_fd = sealed_memfd(image)
    rest = kxmon_cmd[2:]
    cmd = [kxmon_cmd[0], "--channel", str(child.fileno()), "--image-fd", str(image_fd),
           "--image-name", os.path.basename(image)] + rest
    proc = subprocess.Popen(cmd, pass_fds=(child.fileno(), image_fd))
    child.close()
    os.close(image_fd)
    state = {"bad_sent": False}
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(parent, MSG_SIZE + 1, 4)
        except socket.timeout:
            parent.settimeout(None)
            send_push(parent, args)
            continue
        except ConnectionResetError:
            msg, fds = b"", []
        for fd in fds:
            os.close(fd)
        if not msg:
            break
        mtype, size, seq = struct.unpack_from("<IIQ", msg)
        if len(msg) != MSG_SIZE or size != MSG_SIZE:
            log("malformed message from kxmon")
            break
        body = msg[16:]
        if mtype == HELLO:
            version, pid = struct.unpack_from("<II", body)
            log(f"HELLO version={version} pid={pid}")
            if args.push and args.push_delay:
                parent.settimeout(args.push_delay)
            elif args.push:
                send_push(parent, args)
        elif mtype == LINK_REQ:
            name = cstr(body[:64])
            at_boot = struct.unpack_from("<I", body, 64)[0]
            log(f"LINK_REQ seq={seq} {name} at_boot={at_boot}")
            answer(parent, args, seq, name, state)
        elif mtype == FS_MOUNT_REQ:
            # No policy, no files rules: no host directory to mount.
            body = struct.pack("<iIQ", -2, 0, 0)  # -ENOENT
            reply = struct.pack("<IIQ", FS_MOUNT_RESP, MSG_SIZE, seq) + body
            parent.send(reply + b"\0" * (MSG_SIZE - len(reply)))
        elif mtype == LINK_DONE:
            result = struct.unpack_from("<i", body)[0]
            log(f"LINK_DONE seq={seq} {cstr(body[8:72])} result={result} {cstr(body[72:])}")
        elif mtype == EXIT:
            status, by_guest, rip = struct.unpack_from("<iIQ", body)
            log(f"EXIT status={status} by_guest={by_guest} report={cstr(body[16:])}")
        else:
            log(f"unknown message type {mtype}")
    parent.close()
    return proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--libdir", required=True)
    ap.add_argument("--deny", action="append", default=[])
    ap.add_argument("--now", action="append", default=[])
    ap.add_argument("--push")
    ap.add_argument("--push-delay", type=float, default=0)
    ap.add_argument("--bad", choices=BAD_KINDS)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("kxmon", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.kxmon[1:] if args.kxmon[:1] == ["--"] else args.kxmon
    if len(cmd) < 2:
        ap.error("need KXMON IMAGE")
    status = 0
    for _ in range(args.runs):
        status = run_once(args, cmd)
    return status


if __name__ == "__main__":
    sys.exit(main())
