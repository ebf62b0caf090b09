#!/usr/bin/env bats
# One tenant cannot starve another (issue 11 part 5), the kxd side: a
# client that stops reading its answers is dropped after a bounded queue
# while kxd serves everyone else; kxd's socket directory must be its own
# and writable by nobody else; its logs are never opened through a
# symbolic link.  pVMs: tests/data/kxd/fake-kxmon (no KVM needed).

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

setup_file() {
	kxd_fixture
}

setup() {
	export KXD_LIBDIR=$FX/lib
}

teardown() {
	stop_kxd
}

@test "control: a client that stops reading is dropped; kxd keeps serving the others" {
	start_kxd --monitor "$FAKE"
	# send LIST requests and never read: each has an answer kxd cannot deliver
	# once the socket buffer is full
	python3 - "$SOCK" > "$BATS_TEST_TMPDIR/flood" 2>&1 <<'PY' &
import socket, struct, sys, time
REQ_SIZE = 4264
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
req = struct.pack("<II", 3, REQ_SIZE).ljust(REQ_SIZE, b"\0")  # LIST
sent = 0
try:
    for sent in range(1, 20001):
        s.send(req)
except OSError as e:
    print("send stopped after %d requests: %s" % (sent, e.__class__.__name__))
# whatever was queued for us arrives, then the end: kxd dropped us
n = 0
s.settimeout(30)
while True:
    d = s.recv(2000)
    if not d:
        break
    n += 1
print("dropped after %d answers" % n)
PY
	flood=$!
	wait_for grep -q "answers not read: dropped" "$SOCK.log" || explain "the reader that stopped was dropped"
	# meanwhile, and after, everyone else is answered
	ctl list
	[ "$status" -eq 0 ] || explain "kxd still serves"
	ctl run "$FX/exit-app.kxe" exit 7
	[ "$status" -eq 7 ] || explain "and runs pVMs"
	wait "$flood"
	grep -q "dropped after [0-9]* answers" "$BATS_TEST_TMPDIR/flood" || { cat "$BATS_TEST_TMPDIR/flood"; explain "the flooder saw its connection end"; }
	n=$(sed -n 's/dropped after \([0-9]*\) answers/\1/p' "$BATS_TEST_TMPDIR/flood")
	[ "$n" -lt 20000 ] || explain "bounded: not every answer was kept for it"
}

@test "control: a slow reader that catches up gets every answer, in order" {
	start_kxd --monitor "$FAKE"
	"$KXCTL" run --socket "$SOCK" "$FX/hello.kxe" wait > /dev/null 2>&1 &
	wait_for "$KXCTL" list --socket "$SOCK" || explain "pVM 1"
	run python3 - "$SOCK" <<'PY'
import socket, struct, sys, time
REQ_SIZE, RESP_SIZE = 4264, 1136
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
req = struct.pack("<II", 3, REQ_SIZE).ljust(REQ_SIZE, b"\0")  # LIST: one PVM, then END
# 200 answers: more than the socket holds, fewer than kxd queues for a client
for _ in range(100):
    s.send(req)
time.sleep(1)  # not a threshold: only lets kxd fill the socket and queue the rest
types = []
while len(types) < 200:
    d = s.recv(RESP_SIZE + 1)
    assert len(d) == RESP_SIZE, len(d)
    types.append(struct.unpack_from("<I", d)[0])
assert types == [5, 6] * 100, types[:10]
print("200 answers in order")
PY
	[ "$status" -eq 0 ] && [ "$output" = "200 answers in order" ] || explain "every answer"
	ctl kill 1
	wait || true
}

@test "socket directory: refused when another uid owns it, others can write it, or it is a symlink" {
	[ "$(id -u)" = 0 ] || skip "chown to another uid needs root"
	d=$BATS_TEST_TMPDIR/d
	mkdir -m 0700 "$d"
	chown 65534 "$d"
	run "$KXD" --policy "$FX/kx.kxp" --socket "$d/kxd.sock" --monitor "$FAKE" --foreground
	[ "$status" -eq 1 ] && [[ "$output" == *"$d: the socket's directory belongs to uid 65534, not to kxd's uid 0"* ]] ||
		explain "another uid's directory"
	[ ! -e "$d/kxd.sock" ] && [ ! -e "$d/audit.log" ] || explain "nothing created there"
	chown 0 "$d"
	chmod 0777 "$d"
	run "$KXD" --policy "$FX/kx.kxp" --socket "$d/kxd.sock" --monitor "$FAKE" --foreground
	[ "$status" -eq 1 ] && [[ "$output" == *"writable by others (mode 777)"* ]] || explain "0777"
	chmod 1777 "$d"
	run "$KXD" --policy "$FX/kx.kxp" --socket "$d/kxd.sock" --monitor "$FAKE" --foreground
	[ "$status" -eq 1 ] && [[ "$output" == *"writable by others"* ]] || explain "sticky /tmp-like"
	chmod 0770 "$d"
	run "$KXD" --policy "$FX/kx.kxp" --socket "$d/kxd.sock" --monitor "$FAKE" --foreground
	[ "$status" -eq 1 ] && [[ "$output" == *"writable by others (mode 770)"* ]] || explain "group"
	mkdir -m 0700 "$BATS_TEST_TMPDIR/real"
	ln -s "$BATS_TEST_TMPDIR/real" "$BATS_TEST_TMPDIR/link"
	run "$KXD" --policy "$FX/kx.kxp" --socket "$BATS_TEST_TMPDIR/link/kxd.sock" --monitor "$FAKE" --foreground
	[ "$status" -eq 1 ] && [[ "$output" == *"the socket's directory is a symbolic link"* ]] ||
		explain "a symlinked directory"
	chmod 0755 "$d"
	SOCK=$d/kxd.sock
	"$KXD" --policy "$FX/kx.kxp" --socket "$SOCK" --monitor "$FAKE" || explain "0755, own: fine"
}

@test "logs: a symbolic link where kxd's log, audit log or serial file goes is never followed" {
	d=$BATS_TEST_TMPDIR/d
	mkdir -m 0700 "$d" "$BATS_TEST_TMPDIR/victim"
	SOCK=$d/kxd.sock
	# the reproduction: a link planted where kxd creates a file
	ln -s "$BATS_TEST_TMPDIR/victim/audit" "$d/audit.log"
	run "$KXD" --policy "$FX/kx.kxp" --socket "$SOCK" --monitor "$FAKE"
	[ "$status" -eq 1 ] && [[ "$output" == *"audit.log"* ]] || explain "audit log link"
	rm "$d/audit.log"
	ln -s "$BATS_TEST_TMPDIR/victim/log" "$d/kxd.sock.log"
	run "$KXD" --policy "$FX/kx.kxp" --socket "$SOCK" --monitor "$FAKE"
	[ "$status" -eq 1 ] && [[ "$output" == *"kxd.sock.log: Too many levels of symbolic links"* ]] ||
		explain "kxd's own log link"
	[ ! -S "$SOCK" ] || explain "no kxd left listening"
	rm "$d/kxd.sock.log" "$d/policy.serial"
	ln -s "$BATS_TEST_TMPDIR/victim/serial" "$d/policy.serial"
	run "$KXD" --policy "$FX/kx.kxp" --socket "$SOCK" --monitor "$FAKE" --foreground
	[ "$status" -eq 1 ] && [[ "$output" == *"policy.serial: Too many levels of symbolic links"* ]] ||
		explain "serial file link"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/victim")" ] || explain "nothing created through a link"
}
