#!/usr/bin/env bats
# kxd-kvm: real pVMs on /dev/kvm through kxctl run -> kxd -> kxmon: the
# console on kxctl's terminal, exit statuses, faults, kill, and the end of
# a pVM whose kxctl run went away.  Skipped, with the reason, where /dev/kvm
# is not usable (kxmon --check).

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

setup_file() {
	kxd_fixture
	kvm_probe
}

setup() {
	need_kvm
	start_kxd
}

teardown() {
	stop_kxd
}

pvm_state() { # ID STATE: kxd lists pVM ID in STATE
	"$KXCTL" list --socket "$SOCK" | grep -q "^$1 .* $2 "
}

@test "run: the console streams to kxctl's stdout, with the arguments given" {
	ctl run "$FX/hello.kxe" one "two words"
	[ "$status" -eq 0 ] || explain "want 0"
	[ "${lines[0]}" = "hello from a pVM" ] || explain "console"
	[ "${lines[2]}" = "argv[1] = one" ] && [ "${lines[3]}" = "argv[2] = two words" ] ||
		explain "arguments"
	[ -z "$stderr" ] || explain "nothing on stderr for a normal exit"
	ctl list --json
	[[ "$output" == *'"app": "hello"'*'"state": "exited"'*'"status": 0'* ]] || explain "listed"
	ctl audit --json
	[[ "$output" == *'"op":"boot","backend":"kvm","subject"'* ]] ||
		explain "the boot record names the backend (kvm: the default)"
}

@test "run: kxctl exits with the app's status" {
	for n in 0 1 42 122; do
		ctl run "$FX/exit-app.kxe" "$n"
		[ "$status" -eq "$n" ] || explain "exit $n"
	done
	ctl audit
	[ "$(grep -c "boot    operator uid $(id -u) -> app exit 1.0 ALLOW" <<<"$output")" -eq 4 ] ||
		explain "each boot audited"
}

@test "run: a faulting pVM ends with kxmon's 126 and its report" {
	ctl run "$FX/fault.kxe" null_read
	[ "$status" -eq 126 ] || explain "want 126"
	[[ "$stderr" == *"page fault"* ]] || explain "the fault report"
	ctl run "$FX/exit-app.kxe" 5
	[ "$status" -eq 5 ] || explain "kxd goes on"
}

@test "kill: ends a running pVM; its kxctl run exits 137" {
	"$KXCTL" run --socket "$SOCK" "$FX/spin.kxe" > "$BATS_TEST_TMPDIR/console" 2>&1 &
	wait_for pvm_state 1 running || explain "never ran"
	wait_for grep -q spinning "$BATS_TEST_TMPDIR/console" || explain "console"
	ctl kill 1
	[ "$status" -eq 0 ] || explain "kill"
	wait %1 || status=$?
	[ "$status" -eq 137 ] || explain "kxctl run's status"
	grep -q "killed by the operator" "$BATS_TEST_TMPDIR/console" || explain "said why"
	pvm_state 1 exited || explain "listed as exited"
}

@test "orphans: when kxctl run goes away, kxd ends its pVM" {
	"$KXCTL" run --socket "$SOCK" "$FX/spin.kxe" > /dev/null 2>&1 &
	client=$!
	wait_for pvm_state 1 running || explain "never ran"
	pid=$("$KXCTL" list --socket "$SOCK" --json | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
	kill -TERM "$client"
	wait_for pvm_state 1 exited || explain "kxd did not end it"
	! kill -0 "$pid" 2>/dev/null || explain "kxmon $pid still runs"
}

@test "stop: ends every pVM" {
	"$KXCTL" run --socket "$SOCK" "$FX/spin.kxe" > /dev/null 2>&1 &
	wait_for pvm_state 1 running || explain "never ran"
	pid=$("$KXCTL" list --socket "$SOCK" --json | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
	"$KXCTL" stop --socket "$SOCK"
	! kill -0 "$pid" 2>/dev/null || explain "kxmon $pid survived kxd"
	[ ! -e "$SOCK" ] || explain "socket left behind"
}
