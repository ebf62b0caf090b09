#!/usr/bin/python3
"""peer.py: the host side of tests/cli/net.bats, run inside the test's
network namespace.
    peer.py udp HOST PORT TEXT SECS    send TEXT, print the answer or "timeout"
    peer.py tcp HOST PORT SECS         connect: "connected", "refused" or "timeout"
    peer.py tcpecho HOST PORT N SECS   send N bytes (or the word quit), print
                                       "N intact" when all came back unchanged
    peer.py listen SECS PORT...        print "PORT TEXT" for each datagram that
                                       arrives within SECS (first line: "ready")
    peer.py hold HOST PORT SECS        connect to an echo server (retrying while
                                       refused), see "hold" echoed, print
                                       "ready", then wait SECS for more: print
                                       "reset" (ECONNRESET), "eof", "timeout"
                                       or "data"
    peer.py idle HOST PORT SECS        connect, print "ready", send nothing and
                                       wait SECS: "reset", "eof", "timeout", "data"
    peer.py fork HOST PORT SECS        send "fork" to sockserve's echo port and
                                       connect a second time meanwhile; print the
                                       line that comes back, then see "after"
                                       echoed on the first connection and
                                       "second" on the second
SECS bounds how long it waits for something that must not come."""
import select, socket, sys, threading, time


def main():
    mode = sys.argv[1]
    if mode == "udp":
        host, port, text, secs = sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(secs)
        s.sendto(text.encode(), (host, port))
        try:
            print(s.recvfrom(4096)[0].decode())
        except socket.timeout:
            print("timeout")
    elif mode == "tcp":
        host, port, secs = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        s = socket.socket()
        s.settimeout(secs)
        try:
            s.connect((host, port))
            print("connected")
        except ConnectionRefusedError:
            print("refused")
        except socket.timeout:
            print("timeout")
    elif mode == "tcpecho":
        host, port, what, secs = sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
        data = b"quit" if what == "quit" else bytes(range(256)) * (int(what) // 256)
        s = socket.create_connection((host, port), timeout=secs)
        got = bytearray()

        def reader():
            try:
                while len(got) < len(data):
                    b = s.recv(65536)
                    if not b:
                        break
                    got.extend(b)
            except socket.timeout:
                pass
        t = threading.Thread(target=reader)
        t.start()
        s.sendall(data)
        t.join()
        print("%d %s" % (len(got), "intact" if bytes(got) == data else "damaged"))
    elif mode in ("hold", "idle"):
        host, port, secs = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        for _ in range(100):
            try:
                s = socket.create_connection((host, port), timeout=secs)
                break
            except ConnectionRefusedError:
                time.sleep(0.1)
        else:
            print("refused")
            return
        if mode == "hold":
            s.sendall(b"hold")
            got = b""
            while len(got) < 4:
                b = s.recv(4 - len(got))
                if not b:
                    break
                got += b
            if got != b"hold":
                print("no echo: %r" % got)
                return
        print("ready", flush=True)
        try:
            print("eof" if s.recv(4096) == b"" else "data")
        except ConnectionResetError:
            print("reset")
        except socket.timeout:
            print("timeout")
    elif mode == "fork":
        host, port, secs = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        s = socket.create_connection((host, port), timeout=secs)
        s.sendall(b"fork")
        time.sleep(0.3)  # the child is waiting on its listener now
        second = socket.socket()
        second.settimeout(secs)
        second.connect_ex((host, port))  # completes once the parent serves again
        got = b""
        try:
            while not got.endswith(b"\n"):
                b = s.recv(4096)
                if not b:
                    break
                got += b
            print(got.decode(errors="replace").rstrip("\n"))
            s.sendall(b"after")
            got = b""
            while len(got) < 5:
                b = s.recv(5 - len(got))
                if not b:
                    break
                got += b
            print(got.decode(errors="replace"))
            second.sendall(b"second")
            got = b""
            while len(got) < 6:
                b = second.recv(6 - len(got))
                if not b:
                    break
                got += b
            print(got.decode(errors="replace"))
        except (socket.timeout, ConnectionResetError, BrokenPipeError) as e:
            print("%s after %r" % (type(e).__name__, got))
    elif mode == "listen":
        secs = float(sys.argv[2])
        socks = {}
        for p in sys.argv[3:]:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", int(p)))
            socks[s] = p
        print("ready", flush=True)
        while True:
            ready, _, _ = select.select(list(socks), [], [], secs)
            if not ready:
                break
            for s in ready:
                print(socks[s], s.recv(4096).decode(errors="replace"), flush=True)


main()
