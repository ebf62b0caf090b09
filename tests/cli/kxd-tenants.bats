#!/usr/bin/env bats
# One tenant cannot starve another (issue 11 part 5), the kxd side: IpC
# keys are namespaced per family (trust opens a peer's), so there is no
# existence oracle and no squatting; IpC objects are capped per app and in
# all, and an app's keyed objects go with its last pVM unless its policy
# says they persist; a client that stops reading its answers is dropped
# after a bounded queue while kxd serves everyone else; kxd's socket
# directory must be its own and writable by nobody else; its logs are never
# opened through a symbolic link.  pVMs: tests/data/kxd/fake-kxmon, which
# speaks the channel's IpC requests (no KVM needed).

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

setup_file() {
	kxd_fixture
	local fx=$BATS_FILE_TMPDIR/fx app
	# srv and cli trust each other (msgq); lone and other trust nobody;
	# capped may have 3 objects; keep's keyed objects persist; big may have 200
	tenant() { # APP [FAMILY LINES...]
		local app=$1
		shift
		{
			printf 'kx-manifest: 1\napp: %s\nimage: x.kxe\nmemory: 16M\n' "$app"
			printf 'keys: {acme: %s/manifests/keys/acme.pub}\n' "$KX_ROOT"
			printf 'family:\n  ipc: [pipe, msgq, shm]\n'
			for l in "$@"; do printf '  %s\n' "$l"; done
		} > "$fx/t-$app.yaml"
		"$KXSIGN" sign -s "$SECS/acme.sec" --name "$app" --version 1.0 -o "$fx/t-$app.kxe" \
			"$KX_BUILD/guest/hello.kxe" >/dev/null
	}
	tenant srv 'trust: [{app: cli, ipc: [msgq]}]'
	tenant cli 'trust: [{app: srv, ipc: [msgq]}]'
	tenant lone
	tenant other
	tenant capped 'ipc-objects: 3'
	tenant keep 'ipc-persist: true'
	tenant big 'ipc-objects: 200'
	tenant big2 'ipc-objects: 200'
	"$KX_BIN/kxpolicy" compile --serial 1 -o "$fx/tenants.kxp" "$fx"/t-*.yaml >/dev/null
}

# a kxd over the tenants' policy
start_tenants() {
	start_kxd --monitor "$FAKE" --policy "$FX/tenants.kxp"
}

# hold APP OPS...: a pVM of APP that does OPS and stays; its output in
# $BATS_TEST_TMPDIR/APP.N (N counts the holders of APP)
hold() {
	local app=$1 n=0
	shift
	while [ -e "$BATS_TEST_TMPDIR/$app.$n" ]; do n=$((n + 1)); done
	"$KXCTL" run --socket "$SOCK" "$FX/t-$app.kxe" ipc "$@" hold > "$BATS_TEST_TMPDIR/$app.$n" 2>&1 &
	wait_for grep -q "^IPC ${*: -1}: " "$BATS_TEST_TMPDIR/$app.$n" ||
		explain "$app: $(cat "$BATS_TEST_TMPDIR/$app.$n")"
	HELD=$BATS_TEST_TMPDIR/$app.$n
}

# id of the object OP's answer in FILE
obj_id() {
	sed -n "s/^IPC $2: 0 id=\([0-9]*\).*/\1/p" "$1"
}

setup() {
	export KXD_LIBDIR=$FX/lib
}

teardown() {
	stop_kxd
}

@test "ipc keys: another family's key is invisible without trust (no oracle) and cannot be squatted" {
	start_tenants
	hold lone get,msgq,77,c get,shm,77,c,4096
	lone_id=$(obj_id "$HELD" get,msgq,77,c)
	[ -n "$lone_id" ] || explain "lone made key 77"
	# other (no trust): key 77 looks exactly like a key nobody has
	ctl run "$FX/t-other.kxe" ipc get,msgq,77,- get,msgq,78,- get,shm,77,-,999999 get,msgq,77,cx
	[ "$status" -eq 0 ] || explain "other"
	[ "${lines[0]}" = "IPC get,msgq,77,-: -2 id=0 ipc msgq: no object has key 77" ] ||
		explain "no such key (not EACCES, not EEXIST)"
	[ "${lines[1]}" = "IPC get,msgq,78,-: -2 id=0 ipc msgq: no object has key 78" ] ||
		explain "the same as a key nobody has"
	[[ "${lines[2]}" == "IPC get,shm,77,-,999999: -2 id=0 "* ]] ||
		explain "no size oracle (lone's segment 77 is 4096 bytes)"
	[[ "${lines[3]}" =~ ^"IPC get,msgq,77,cx: 0 id="([0-9]+)$ ]] &&
		[ "${BASH_REMATCH[1]}" != "$lone_id" ] || explain "CREAT|EXCL makes other's own key 77"
	# a second family of the same app is another namespace too
	ctl run "$FX/t-lone.kxe" ipc get,msgq,77,-
	[[ "${lines[0]}" == "IPC get,msgq,77,-: -2 id=0 "* ]] || explain "another family of lone"
	# lone's own object was not touched: lone still has it as key 77
	ctl audit --json
	! grep -q '"op":"ipc".*"app":"other".*"decision":"deny"' <<<"$output" ||
		explain "nothing to decide: no denial to audit either"
	# trust opens the peer's namespace: cli sees srv's key 88, the gate decides
	hold srv get,msgq,88,c
	srv_id=$(obj_id "$HELD" get,msgq,88,c)
	ctl run "$FX/t-cli.kxe" ipc get,msgq,88,- get,msgq,88,cx
	[ "${lines[0]}" = "IPC get,msgq,88,-: 0 id=$srv_id" ] || explain "cli opens srv's queue"
	[[ "${lines[1]}" == "IPC get,msgq,88,cx: -17 id=0 ipc msgq: key 88 exists" ]] ||
		explain "a trusted peer's key exists for cli"
	ctl audit
	grep -q "ipc  *pvm [0-9]* (cli) -> pvm [0-9]* (srv) msgq .*ALLOW" <<<"$output" ||
		explain "the first communication is decided and audited"
	ctl run "$FX/t-lone.kxe" ipc get,msgq,88,-
	[[ "${lines[0]}" == "IPC get,msgq,88,-: -2 id=0 "* ]] || explain "srv's key is not lone's business"
}

@test "ipc caps: per app from the policy, and in all; the app that fills its cap does not starve others" {
	start_tenants
	hold capped get,shm,1,c get,shm,2,c get,shm,3,c
	ctl run "$FX/t-capped.kxe" ipc get,shm,4,c get,pipe,0,c
	[ "${lines[0]}" = "IPC get,shm,4,c: -28 id=0 ipc: app capped has 3 objects, its limit (family.ipc-objects)" ] ||
		explain "capped's fourth object"
	[[ "${lines[1]}" == "IPC get,pipe,0,c: -28 "* ]] || explain "pipes count too"
	ctl run "$FX/t-lone.kxe" ipc get,pipe,0,c
	[[ "${lines[0]}" == "IPC get,pipe,0,c: 0 id="* ]] || explain "another app is not starved"
	# the global cap (256 objects): big and big2 may have 200 each
	ops=$(for k in $(seq 1 200); do printf 'get,shm,%d,c ' "$k"; done)
	hold big $ops
	grep -c ": 0 id=" "$HELD" | grep -qx 200 || explain "big made 200"
	ops=$(for k in $(seq 1 60); do printf 'get,shm,%d,c ' "$k"; done)
	ctl run "$FX/t-big2.kxe" ipc $ops
	[ "$(grep -c ': 0 id=' <<<"$output")" -eq 53 ] || explain "256 - 3 (capped) - 200 (big)"
	grep -q "ipc: kxd holds 256 objects or 256 MiB, all it keeps" <<<"$output" ||
		explain "the global cap says so"
}

@test "ipc lifetime: an app's keyed objects go with its last pVM, unless it persists them" {
	start_tenants
	hold srv get,msgq,5,c
	srv1=$!
	id=$(obj_id "$HELD" get,msgq,5,c)
	hold srv get,msgq,6,c # a second srv pVM, its own family
	ctl run "$FX/t-cli.kxe" ipc get,msgq,5,-
	[ "${lines[0]}" = "IPC get,msgq,5,-: 0 id=$id" ] || explain "key 5 while srv runs"
	ctl kill 1
	wait "$srv1" || true
	ctl run "$FX/t-cli.kxe" ipc get,msgq,5,-
	[ "${lines[0]}" = "IPC get,msgq,5,-: 0 id=$id" ] ||
		explain "another srv pVM still runs: srv's objects stay"
	ctl kill 2
	wait || true
	wait_for grep -q "app srv has no pVM left: its 2 keyed IpC objects removed" "$SOCK.log" ||
		explain "srv's last pVM ended"
	ctl run "$FX/t-cli.kxe" ipc get,msgq,5,- get,msgq,6,-
	[[ "${lines[0]}" == "IPC get,msgq,5,-: -2 "* && "${lines[1]}" == "IPC get,msgq,6,-: -2 "* ]] ||
		explain "both keys are gone"
	# keep: ipc-persist: true; its key survives all its pVMs (visible to keep's
	# own later families? no: to nobody without trust -- so count it in kxd's log)
	ctl run "$FX/t-keep.kxe" ipc get,shm,9,c
	[[ "${lines[0]}" == "IPC get,shm,9,c: 0 id="* ]] || explain "keep's segment"
	! grep -q "app keep has no pVM left" "$SOCK.log" || explain "keep's objects persist"
	# ... and still count against keep's cap (64 by default)
	ops=$(for k in $(seq 10 80); do printf 'get,shm,%d,c ' "$k"; done)
	ctl run "$FX/t-keep.kxe" ipc $ops
	[ "$(grep -c ': 0 id=' <<<"$output")" -eq 63 ] || explain "63 more, 64 in all"
}

@test "ipc: five runs of one app no longer exhaust kxd for the others (the reproduction)" {
	start_tenants
	for run in 1 2 3 4 5; do
		ops=$(for k in $(seq 1 64); do printf 'get,shm,%d,c ' "$k"; done)
		ctl run "$FX/t-lone.kxe" ipc $ops
		[ "$(grep -c ': 0 id=' <<<"$output")" -eq 64 ] || explain "run $run made its 64"
	done
	ctl run "$FX/t-other.kxe" ipc get,pipe,0,c
	[[ "${lines[0]}" == "IPC get,pipe,0,c: 0 id="* ]] || explain "other's pipe"
}

@test "audit rate: allowed requests cost too, so a pipe loop cannot fill the log with ALLOW records" {
	# A tenth of a token each: with a burst of 2, about a dozen pipes go
	# through (plus the refill), the rest are refused and counted.  Before,
	# only refusals cost and all 50 were decided and recorded.
	start_kxd --monitor "$FAKE" --policy "$FX/tenants.kxp" --audit-rate 1/2
	ctl run "$FX/t-big.kxe" ipc $(for i in $(seq 50); do printf 'get,pipe,0,c '; done)
	made=$(grep -c ': 0 id=' <<<"$output" || true)
	refused=$(grep -c "over the pVM's audit rate" <<<"$output" || true)
	[ "$((made + refused))" -eq 50 ] || explain "every request answered"
	[ "$made" -ge 10 ] && [ "$made" -le 30 ] && [ "$refused" -ge 20 ] ||
		explain "a dozen or so made ($made), the rest refused ($refused)"
	stop_kxd
	[ "$(grep -c '"op":"ipc"' "$AUDIT")" -eq "$made" ] || explain "one record per pipe made"
	grep -q "\"event\":\"suppressed\",.*\"count\":$refused," "$AUDIT" ||
		explain "the refusals in one suppressed record"
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
    try:
        d = s.recv(2000)
    except ConnectionResetError:  # kxd closed with our requests unread
        break
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
