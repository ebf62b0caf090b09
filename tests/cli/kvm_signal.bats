#!/usr/bin/env bats
# kvm_signal: signals between real pVMs through kxd (docs/signals.md):
# handlers that leave the interrupted code intact, default actions and
# their statuses, KX_SIGKILL, the gate's `signal` decision inside a family
# and across families (with and without mutual trust, audited), -ESRCH,
# kx_wait interrupted, SIGCHLD, kx_waitx (any child, no-hang, timeout) and
# `kxctl kill --signal`.  The guest is tests/guest/sigt.c, signed as the
# apps of tests/data/kxd/sig.yaml.in.  Skipped, with the reason, where
# /dev/kvm is not usable.

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

setup_file() {
	local fx=$BATS_FILE_TMPDIR/fx app peer trust
	mkdir -p "$fx/lib"
	for app in sigx:sigy sigy:sigx sigz:; do
		peer=${app#*:} app=${app%%:*} trust=
		[ -n "$peer" ] && trust="trust: [{app: $peer, ipc: [signal]}]"
		sed -e "s|@APP@|$app|" -e "s|@TRUST@|$trust|" -e "s|@KEYS@|$KX_ROOT/manifests/keys|" \
			"$DATA/sig.yaml.in" > "$fx/$app.yaml"
		"$KXSIGN" sign -s "$SECS/acme.sec" --name "$app" --version 1.0 -o "$fx/$app.kxe" \
			"$KX_BUILD/guest/sigt.kxe" >/dev/null
	done
	"$KX_BIN/kxpolicy" compile --serial 1 -o "$fx/kx.kxp" "$fx"/sig?.yaml >/dev/null
	kvm_probe
}

setup() {
	need_kvm
	start_kxd
}

teardown() {
	stop_kxd
}

# bg NAME APP MODE...: `kxctl run` in the background; its output in $BATS_TEST_TMPDIR/NAME.out
bg() {
	local name=$1 app=$2
	shift 2
	"$KXCTL" run --socket "$SOCK" "$FX/$app.kxe" "$@" >"$BATS_TEST_TMPDIR/$name.out" 2>&1 &
}

said() { grep -qx "$2" "$BATS_TEST_TMPDIR/$1.out"; }

# ID STATE [STATUS]: kxctl list shows pVM ID in STATE (with STATUS)
listed() {
	"$KXCTL" list --socket "$SOCK" | grep -Eq "^$1 +sig. +[0-9]+ +$2 +[^ ]+ +${3:-[-0-9]+} "
}

@test "signal: a handler runs and the interrupted code goes on intact" {
	ctl run "$FX/sigx.kxe" handler
	[ "$status" -eq 0 ] || explain "want 0"
	# Every round of the child's checksum loop, interrupted by five
	# handlers that clobber general and SSE registers, matched the first.
	grep -qx "child: 5 signals handled, all rounds intact" <<<"$output" || explain "child"
	grep -qx "parent: acks 6, child status 0" <<<"$output" || explain "parent"
	ctl audit
	grep -q "ipc     pvm 1 (sigx) -> pvm 2 (sigx) signal (family) ALLOW" <<<"$output" ||
		explain "the parent's signals audited"
	grep -q "ipc     pvm 2 (sigx) -> pvm 1 (sigx) signal (family) ALLOW" <<<"$output" ||
		explain "the child's acks audited"
}

@test "signal: without a handler the default action ends the pVM with 128+N" {
	ctl run "$FX/sigx.kxe" default 15
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "child status 143" <<<"$output" || explain "SIGTERM: 143"
	[[ "$stderr" == *"ended by signal 15 (SIGTERM) from pVM 1"* ]] || explain "report"
	listed 2 exited 143 || explain "kxctl list"
	ctl run "$FX/sigx.kxe" default 10
	grep -qx "child status 138" <<<"$output" || explain "SIGUSR1: 138"
}

@test "signal: SIGKILL can be neither caught nor ignored" {
	ctl run "$FX/sigx.kxe" kill9
	[ "$status" -eq 0 ] || explain "want 0"
	[ "${lines[0]}" = "catch SIGKILL: -22" ] && [ "${lines[1]}" = "ignore SIGKILL: -22" ] ||
		explain "-KX_EINVAL"
	[ "${lines[2]}" = "signal 32: -22" ] || explain "out of range"
	grep -qx "child status 137" <<<"$output" || explain "ended: 137"
}

@test "signal: across families without mutual trust: -EACCES, audited, target unaffected" {
	bg target sigz linger
	wait_for said target ready || explain "the target never started"
	ctl run "$FX/sigx.kxe" send 1 10
	[ "$status" -eq 0 ] || explain "want 0"
	[ "$output" = "kill 1 10: -13" ] || explain "-KX_EACCES"
	ctl audit
	grep -q "ipc     pvm 2 (sigx) -> pvm 1 (sigz) signal DENY .*/sigx.yaml:[0-9]*: apps sigx and sigz do not trust each other" \
		<<<"$output" || explain "the denial audited with its rule"
	listed 1 running || explain "the target must still run"
	ctl kill 1
}

@test "signal: across families with mutual trust: delivered" {
	bg target sigy target
	wait_for said target ready || explain "the target never started"
	ctl run "$FX/sigx.kxe" send 1 10
	[ "$output" = "kill 1 10: 0" ] || explain "allowed"
	wait_for listed 1 exited 0 || explain "the target did not end by itself"
	said target "target: handled signal 10" || explain "$(cat "$BATS_TEST_TMPDIR/target.out")"
	ctl audit
	grep -q "ipc     pvm 2 (sigx) -> pvm 1 (sigy) signal ALLOW .*/sigx.yaml:[0-9]*" <<<"$output" ||
		explain "audited"
}

@test "signal: an unknown target is -ESRCH; so is the parent of a family's root" {
	ctl run "$FX/sigx.kxe" send 999 10
	[ "$output" = "kill 999 10: -3" ] || explain "-KX_ESRCH"
	ctl run "$FX/sigx.kxe" send 0 10
	[ "$output" = "kill 0 10: -3" ] || explain "a root has no parent"
}

@test "signal: a signal interrupts kx_wait with -EINTR" {
	ctl run "$FX/sigx.kxe" eintr
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "wait: -4, handler ran: yes" <<<"$output" || explain "-KX_EINTR"
	grep -qx "nagger status 137" <<<"$output" || explain "cleanup"
}

@test "signal: SIGCHLD when a child ends; ignored by default" {
	ctl run "$FX/sigx.kxe" chld
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "signal 17 from the child" <<<"$output" || explain "SIGCHLD"
	grep -qx "wait: 0 status 5" <<<"$output" || explain "status"
	ctl run "$FX/sigx.kxe" default 15 # its parent gets SIGCHLD without a handler
	[ "$status" -eq 0 ] || explain "the default SIGCHLD must not end the parent"
}

@test "signal: bad numbers and SIGRETURN outside a handler are -EINVAL; the pVM goes on" {
	ctl run "$FX/sigx.kxe" hostile
	[ "$status" -eq 0 ] || explain "want 0"
	expect=(
		"sigreturn outside a handler: -22" "signal 0: -22" "signal 32: -22"
		"signal SIGKILL: -22" "signal 2^32+10: -22" "handler without trampoline: -22"
		"kill signal 64: -22" "kill signal -1: -22" "handler left early: 1, 0"
		"sigreturn again: -22" "survived")
	for e in "${expect[@]}"; do
		grep -qxF "$e" <<<"$output" || explain "missing: $e"
	done
}

@test "signal: no handler is entered while the vCPU is at CPL0 (a kick inside a fault stub)" {
	# kvm_sigcheck puts the vCPU at CPL0 at a safe point, as a kick landing
	# in a ring-0 fault stub finds it: the handler must wait (-EBUSY), and
	# be entered, then left intact, once the vCPU is back at CPL3.
	run --separate-stderr "$KX_BUILD/tests/kvm_sigcheck" "$KX_BUILD/guest"
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "at CPL0: refused, rip kept" <<<"$output" || explain "no handler at CPL0"
	grep -qx "at CPL3: entered" <<<"$output" && grep -qx "sigreturn: restored" <<<"$output" ||
		explain "delivery at CPL3 still works"
}

@test "wait: any child, no-hang, timeout, and -ECHILD when none are left" {
	ctl run "$FX/sigx.kxe" waitany
	[ "$status" -eq 0 ] || explain "want 0"
	[ "${lines[0]}" = "no-hang: 0" ] || explain "no-hang"
	[ "${lines[1]}" = "timeout: -110" ] || explain "-KX_ETIMEDOUT"
	[ "${lines[2]}" = "any: the quick child status 4" ] || explain "any"
	[ "${lines[3]}" = "any: the pauser status 137" ] || explain "any, killed"
	[ "${lines[4]}" = "none left: -10" ] || explain "-KX_ECHILD"
}

@test "kxctl kill --signal: to a handler, a default action, SIGKILL, and bad numbers" {
	bg handled sigx target
	wait_for said handled ready || explain "not started"
	ctl kill --signal 10 1
	[ "$status" -eq 0 ] || explain "sent"
	wait_for listed 1 exited 0 || explain "the handler ran and it exited"
	said handled "target: handled signal 10" || explain "handler"
	bg term sigx linger
	wait_for said term ready || explain "not started"
	ctl kill --signal 15 2
	wait_for listed 2 exited 143 || explain "SIGTERM: 143"
	bg killed sigx target
	wait_for said killed ready || explain "not started"
	ctl kill --signal 9 3
	wait_for listed 3 exited 137 || explain "SIGKILL: 137"
	ctl kill --signal 32 1
	[ "$status" -eq 2 ] && [[ "$stderr" == *"--signal 32: not a signal number 1..31"* ]] ||
		explain "usage"
	ctl kill --signal 10 99
	[ "$status" -ne 0 ] && [[ "$stderr" == *"no running pVM 99"* ]] || explain "no such pVM"
}

@test "snapshot example: the child's snapshot is the table at the fork; the parent moved on" {
	local fx=$BATS_TEST_TMPDIR/snap
	mkdir -p "$fx"
	stop_kxd
	"$KX_BIN/kxpolicy" compile --serial 1 -o "$fx/snap.kxp" "$KX_ROOT/manifests/snapshot.yaml" >/dev/null
	"$KXSIGN" sign -s "$SECS/acme.sec" --name snapshot --version 1.0 -o "$fx/snapshot.kxe" \
		"$KX_BUILD/guest/snapshot.kxe" >/dev/null
	SOCK=$BATS_TEST_TMPDIR/kxd.sock
	"$KXD" --policy "$fx/snap.kxp" --socket "$SOCK" --audit-log "$BATS_TEST_TMPDIR/audit.log"
	ctl run "$fx/snapshot.kxe"
	[ "$status" -eq 0 ] || explain "want 0: the parent's own check"
	at_fork=$(sed -n 's/^parent: state at fork, checksum \([0-9a-f]*\)$/\1/p' <<<"$output")
	snap=$(sed -n 's/^child: snapshot of 1048576 entries, first 0, checksum \([0-9a-f]*\)$/\1/p' \
		<<<"$output")
	[ -n "$at_fork" ] && [ "$snap" = "$at_fork" ] || explain "the snapshot's full checksum"
	grep -q "^parent: the snapshot matches the state at fork; the table moved on to " \
		<<<"$output" || explain "the parent's verdict"
	moved=$(sed -n 's/.*the table moved on to \([0-9a-f]*\)$/\1/p' <<<"$output")
	[ -n "$moved" ] && [ "$moved" != "$at_fork" ] || explain "the parent's table changed"
}
