#!/usr/bin/env bats
# kvm_ipc: pipes, message queues and shared memory between real pVMs
# through kxd (docs/ipc.md): every kind within a family, inheritance across
# kx_fork, EOF / EPIPE / EIDRM when peers go, msgq between two separately
# started apps with mutual trust (audited) and a key invisible without it, a kind the trust
# rule does not name, detached segments that fault, the documented errors,
# a peer killed mid-exchange, a hostile peer breaking a ring, and the
# example app.  Skipped, with the reason, where /dev/kvm is not usable.

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

setup_file() {
	ipc_fixture
	kvm_probe
}

setup() {
	need_kvm
	start_kxd
}

teardown() {
	stop_kxd
}

@test "ipc: a pipe carries 3 MB intact across a fork, then EOF" {
	ctl run "$FX/ipcfam.kxe" pipe 3000000
	[ "$status" -eq 0 ] || explain "want 0"
	sum=$(sed -n 's/^parent wrote 3000000 bytes sum \([0-9]*\)$/\1/p' <<<"$output")
	[ -n "$sum" ] || explain "the parent wrote"
	grep -qx "child read 3000000 bytes sum $sum then 0" <<<"$output" ||
		explain "every byte arrived, in order, then end of file"
	grep -qx "child status 0" <<<"$output" || explain "child status"
	ctl audit
	grep -q "ipc  *pvm 1 (ipcfam) .*pipe.* ALLOW" <<<"$output" || explain "creation audited"
	grep -q "ipc  *pvm 2 (ipcfam) .*pipe.* ALLOW" <<<"$output" ||
		explain "inheritance decided at fork time"
}

@test "ipc: a pipe's writer gets EPIPE once no reader is left; bad descriptors" {
	ctl run "$FX/ipcfam.kxe" epipe
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "write: -32" <<<"$output" || explain "-KX_EPIPE"
	grep -qx "read on the write end: -9" <<<"$output" || explain "-KX_EBADF"
	grep -qx "close: 0" <<<"$output" && grep -qx "close again: -9" <<<"$output" ||
		explain "a closed descriptor is gone"
}

@test "ipc: message queue within a family: 200 messages in order, then removed" {
	ctl run "$FX/ipcfam.kxe" msgq
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "200 messages, 0 wrong; child status 0" <<<"$output" || explain "intact, in order"
	grep -qx "empty, nowait: -11" <<<"$output" || explain "KX_IPC_NOWAIT"
	grep -qx "child msgrcv after the removal: -43" <<<"$output" || explain "-KX_EIDRM"
}

@test "ipc: shared memory is shared both ways across a fork" {
	ctl run "$FX/ipcfam.kxe" shm
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "child sees 'from the parent' and 'end of segment'" <<<"$output" ||
		explain "parent -> child, up to the last page"
	grep -qx "parent sees 'from the child'" <<<"$output" || explain "child -> parent"
}

@test "ipc: after shmdt the segment's address faults" {
	ctl run "$FX/ipcfam.kxe" shmfault
	[ "$status" -eq 126 ] || explain "want 126: the pVM ended for what it did"
	grep -qx "shmdt: 0" <<<"$output" && grep -qx "shmdt again: -22" <<<"$output" ||
		explain "detached once"
	addr=$(sed -n 's/^touching 0x\([0-9a-f]*\)$/\1/p' <<<"$output")
	[ -n "$addr" ] || explain "the address"
	[[ "$stderr" == *"guest fault #PF"*"address 0x$(printf '%x' $((16#$addr + 1))) (unmapped page)"* ]] ||
		explain "the access faulted"
	! grep -q "not reached" <<<"$output" || explain "the write went through"
}

@test "ipc: bad ids, sizes, flags and removed objects get the documented errors" {
	ctl run "$FX/ipcfam.kxe" errors
	[ "$status" -eq 0 ] || explain "want 0"
	expect=(
		"msgget create: ok" "msgget excl again: -17" "msgget open: same id"
		"msgget missing key: -2" "msgget bad flags: -22" "msgsnd bad id: -22"
		"msgsnd too large: -7" "msgrcv small buffer: -7" "msgrcv: 16" "msgrm: 0"
		"msgsnd after rm: -22" "key free again: yes" "shmget size 0: -22"
		"shmget too large: -22" "shmget larger than the key's: -22" "shmat flags: NULL"
		"shmat wrong address: NULL" "shmat bad id: NULL" "shmdt not attached: -22"
		"window full: -28" "msgrcv timeout: -110" "read bad fd: -9")
	for e in "${expect[@]}"; do
		grep -qxF "$e" <<<"$output" || explain "missing: $e"
	done
}

@test "ipc: one app cannot have more than its 64 objects in kxd" {
	ctl run "$FX/ipcfam.kxe" famcap
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "created 64, then -28" <<<"$output" || explain "-KX_ENOSPC after 64"
	grep -q "ipc: app ipcfam has 64 objects, its limit (family.ipc-objects)" "$SOCK.log" ||
		explain "kxd says why"
}

@test "ipc: a peer killed mid-exchange: the survivor reads EOF, no hang" {
	out=$BATS_TEST_TMPDIR/run.out
	"$KXCTL" run --socket "$SOCK" "$FX/ipcfam.kxe" kill >"$out" 2>&1 &
	wait_for grep -q "stalls" "$out" || explain "the child never wrote: $(cat "$out")"
	child=$(sed -n 's/^read 4; child \([0-9]*\) stalls$/\1/p' "$out")
	[ -n "$child" ] || explain "first read: $(cat "$out")"
	ctl kill "$child"
	wait_for grep -q "child status" "$out" || explain "the parent hangs: $(cat "$out")"
	grep -qx "after the kill: read 0" "$out" || explain "EOF: $(cat "$out")"
	grep -qx "child status 137" "$out" || explain "the child was killed: $(cat "$out")"
}

@test "ipc: a sender killed holding a queue's lock mid-message: the lock is freed, no half message" {
	out=$BATS_TEST_TMPDIR/run.out
	"$KXCTL" run --socket "$SOCK" "$FX/ipcfam.kxe" lockdeath >"$out" 2>&1 &
	wait_for grep -q "holds the lock" "$out" || explain "the child: $(cat "$out")"
	child=$(sed -n 's/^child \([0-9]*\) forked$/\1/p' "$out")
	[ -n "$child" ] || explain "no child id: $(cat "$out")"
	! grep -q "msgsnd after" "$out" || explain "the parent did not wait for the lock"
	ctl kill "$child"
	wait_for grep -q "child status" "$out" || explain "the parent hangs: $(cat "$out")"
	grep -qx "msgsnd after the death: 0" "$out" || explain "msgsnd: $(cat "$out")"
	grep -qx "msgrcv: 5 'whole'" "$out" || explain "only whole messages: $(cat "$out")"
}

@test "ipc: a hostile peer breaking a queue's indices gets the reader -KX_EIO, not a fault" {
	ctl run "$FX/ipcfam.kxe" corrupt
	[ "$status" -eq 0 ] || explain "want 0: the reader keeps running"
	grep -qx "msgrcv: -5" <<<"$output" && grep -qx "msgsnd: -5" <<<"$output" ||
		explain "-KX_EIO both ways"
	grep -qx "still running" <<<"$output" || explain "still running"
}

@test "ipc: hostile hypercall arguments are errors; the pVM keeps running" {
	ctl run "$FX/ipcfam.kxe" hostile
	[ "$status" -eq 0 ] || explain "want 0"
	expect=(
		"shmget open, size wraps: -22" "shmget open, size huge: -22"
		"detach, ends out of range: -22" "wait on the control page: -22"
		"wait unaligned: -22" "wait past the segment: -22" "wait on text: -22"
		"wait forever is capped: -110" "rm an id never held: -22" "shmget again: same id"
		"shmrm while attached: 0" "still mapped: 7" "shmdt: 0" "survived")
	for e in "${expect[@]}"; do
		grep -qxF "$e" <<<"$output" || explain "missing: $e"
	done
}

@test "ipc: 2000 pipes and queues made and dropped leave kxd as it was" {
	# 4000 allowed IpC decisions in a second or two: kxd's default audit
	# rate (20/100, an allowed request a tenth of a token) would rightly
	# refuse most of them (docs/audit-log.md); this test is about leaks, so
	# its kxd may write that many records.
	stop_kxd
	start_kxd --audit-rate 100/1000
	kxd_pid=$(pgrep -o -f -- "--socket $SOCK") || explain "no kxd"
	ctl run "$FX/ipcfam.kxe" churn 10
	fds_before=$(ls "/proc/$kxd_pid/fd" | wc -l)
	maps_before=$(grep -c kx-ipc "/proc/$kxd_pid/maps" || true)
	ctl run "$FX/ipcfam.kxe" churn 2000
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "churn 2000, 0 failed" <<<"$output" || explain "every call succeeded"
	[ "$(ls "/proc/$kxd_pid/fd" | wc -l)" -eq "$fds_before" ] ||
		explain "kxd leaked descriptors: $fds_before -> $(ls "/proc/$kxd_pid/fd" | wc -l)"
	[ "$(grep -c kx-ipc "/proc/$kxd_pid/maps" || true)" -eq "$maps_before" ] ||
		explain "kxd leaked object mappings"
}

# serve KEY in the background as ipcsrv; its output in $BATS_TEST_TMPDIR/srv.out
serve() {
	"$KXCTL" run --socket "$SOCK" "$FX/ipcsrv.kxe" serve "$1" >"$BATS_TEST_TMPDIR/srv.out" 2>&1 &
	wait_for grep -q "serving: ok" "$BATS_TEST_TMPDIR/srv.out" ||
		explain "the server: $(cat "$BATS_TEST_TMPDIR/srv.out")"
}

@test "ipc: msgq between two separately started apps with mutual trust" {
	serve 4242
	ctl run "$FX/ipccli.kxe" ask 4242
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "msgget: 1" <<<"$output" || explain "opened"
	grep -qx "client got 'pong'" <<<"$output" || explain "the answer"
	wait_for grep -q "server got 'bye'" "$BATS_TEST_TMPDIR/srv.out" || explain "server"
	grep -qx "server got 'ping'" "$BATS_TEST_TMPDIR/srv.out" || explain "the request"
	ctl audit
	grep -q "ipc  *pvm 2 (ipccli) -> pvm 1 (ipcsrv) msgq .*ALLOW .*/ipccli.yaml:" <<<"$output" ||
		explain "the first communication, allowed by the trust rule"
}

@test "ipc: the key of an app without mutual trust does not exist for it, and stays untouched" {
	serve 4343
	ctl run "$FX/ipclone.kxe" ask 4343
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "msgget: -2" <<<"$output" || explain "-KX_ENOENT: no oracle (not -KX_EACCES)"
	ctl audit
	! grep -q "ipc  *pvm 2 (ipclone) -> pvm 1 (ipcsrv)" <<<"$output" ||
		explain "ipclone never reaches ipcsrv's queue: nothing to decide"
	# The queue is untouched: the trusted client still talks to the server.
	ctl run "$FX/ipccli.kxe" ask 4343
	grep -qx "client got 'pong'" <<<"$output" || explain "the queue still works"
}

@test "ipc: trust for msgq does not cover shm; pipes need the kind too" {
	ctl run "$FX/ipcsrv.kxe" shmkey 4444
	grep -qx "shmget: 1" <<<"$output" || explain "the server's segment"
	ctl run "$FX/ipccli.kxe" shmkey 4444
	grep -qx "shmget: -13" <<<"$output" || explain "another kind: denied"
	ctl run "$FX/ipclone.kxe" epipe
	[ "$status" -eq 1 ] && grep -qx "pipe: -13" <<<"$output" ||
		explain "no pipes in ipclone's family"
	ctl audit
	grep -q "ipc  *pvm 2 (ipccli) -> pvm 1 (ipcsrv) shm .*DENY" <<<"$output" ||
		explain "the shm denial audited"
	grep -q "ipc  *pvm 3 (ipclone) -> pvm 3 (ipclone) pipe (family) DENY" <<<"$output" ||
		explain "the pipe denial audited"
}

@test "ipc: the example app: workers over msgq, shm and a pipe" {
	ctl run "$FX/workers.kxe" 30
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "workers reported 30 jobs done" <<<"$output" || explain "the pipe"
	grep -qx "collatz(27) = 111 steps" <<<"$output" || explain "a result"
	grep -qx "result table: 30/30 correct" <<<"$output" || explain "the table"
	ctl audit
	[ "$(grep -c "ipc  *pvm [0-9]* (workers) .* ALLOW" <<<"$output")" -eq 12 ] ||
		explain "3 objects created + 3 inherited by each of 3 workers"
}
