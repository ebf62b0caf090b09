#!/usr/bin/env bats
# kvm_fork: kx_fork and kx_wait on real pVMs through kxd (kxctl run -> kxd
# -> kxmon): copy-on-write both ways, the policy's fork limits at each
# bound (audited), exit statuses through kx_wait, the family in kxctl
# list, and the orphan rule (a pVM's children end with it).  Skipped, with
# the reason, where /dev/kvm is not usable.

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

setup_file() {
	fork_fixture
	kvm_probe
}

setup() {
	need_kvm
	start_kxd
}

teardown() {
	stop_kxd
}

# ID STATUS PARENT: kxctl list shows pVM ID exited with STATUS, forked from PARENT
listed() {
	"$KXCTL" list --socket "$SOCK" |
		grep -Eq "^$1 +fork. +[0-9]+ +exited +[^ ]+ +$2 +$3 "
}

@test "fork: the child's writes stay in the child, the parent's in the parent" {
	ctl run "$FX/forkw.kxe" cow
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "parent forked child 2" <<<"$output" || explain "the child's id in the parent"
	# The child started from the parent's memory at the fork, and the
	# parent's later writes (value 3, "parent") never reached it.
	grep -qx "child sees value 1 heap before" <<<"$output" || explain "parent -> child"
	grep -qx "child wrote value 2 heap child" <<<"$output" || explain "the child wrote"
	# ... nor the child's (it ended before kx_wait returned) the parent.
	grep -qx "parent sees value 3 heap parent child status 7" <<<"$output" ||
		explain "child -> parent, and its exit status"
	grep -qx "second wait: -10" <<<"$output" || explain "a child is waited for once"
	listed 1 0 - || explain "the root"
	listed 2 7 1 || explain "the child, in its parent's family"
	ctl list --json
	[[ "$output" == *'"id": 2,'*'"status": 7,'*'"parent": 1}'* ]] || explain "json parent"
}

@test "fork: max-children allows the bound and denies one past it" {
	ctl run "$FX/forkc.kxe" wide 3
	[ "$status" -eq 0 ] || explain "want 0"
	[ "${lines[0]}" = "fork 1: 2" ] && [ "${lines[1]}" = "fork 2: 3" ] || explain "two allowed"
	[ "${lines[2]}" = "fork 3: -13" ] || explain "the third denied with -KX_EACCES"
	ctl audit
	grep -q "fork    pvm 1 (forkc) -> fork (children 1, members 2) ALLOW .*/forkc.yaml:14" \
		<<<"$output" || explain "the second fork audited"
	grep -q "fork    pvm 1 (forkc) -> fork (children 2, members 3) DENY .*/forkc.yaml:14: .*max-children is 2" \
		<<<"$output" || explain "the denial audited with its rule"
}

@test "fork: max-depth allows the bound and denies one past it" {
	ctl run "$FX/forkd.kxe" deep
	[ "$status" -eq 0 ] || explain "want 0"
	[ "${lines[0]}" = "depth 1: running" ] && [ "${lines[1]}" = "depth 2: running" ] ||
		explain "depth 2 allowed"
	[ "${lines[2]}" = "depth 2: fork: -13" ] || explain "depth 3 denied"
	ctl audit
	grep -q "fork    pvm 3 (forkd) -> fork (children 0, members 3) DENY .*/forkd.yaml:14: .*max-depth is 2" \
		<<<"$output" || explain "the denial audited with its rule"
	listed 3 0 2 && listed 2 0 1 || explain "a chain of three generations"
}

@test "fork: max-members allows the bound and denies one past it" {
	ctl run "$FX/forkm.kxe" wide 3
	[ "$status" -eq 0 ] || explain "want 0"
	[ "${lines[1]}" = "fork 2: 3" ] || explain "the third member allowed"
	[ "${lines[2]}" = "fork 3: -13" ] || explain "the fourth denied"
	ctl audit
	grep -q "fork    pvm 1 (forkm) -> fork (children 2, members 3) DENY .*/forkm.yaml:14: .*max-members is 3" \
		<<<"$output" || explain "the denial audited with its rule"
}

@test "wait: a faulting child reports 126 to its parent" {
	ctl run "$FX/forkw.kxe" fault
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "faulting child status 126" <<<"$output" || explain "the child's status"
	[[ "$stderr" == *"page fault"* ]] || explain "the child's fault report"
	listed 2 126 1 || explain "listed"
}

@test "wait: an id that is not a child is -KX_ECHILD" {
	ctl run "$FX/forkw.kxe" badwait
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "wait 999: -10" <<<"$output" || explain "-KX_ECHILD"
}

@test "orphans: a pVM's children end when it ends" {
	ctl run "$FX/forkw.kxe" orphan
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "orphan child 2" <<<"$output" || explain "forked"
	wait_for listed 2 137 1 || explain "the child was not ended (SIGKILL: 137)"
	pid=$("$KXCTL" list --socket "$SOCK" --json | sed -n 's/.*"id": 2,.*"pid": \([0-9]*\).*/\1/p')
	[ -n "$pid" ] || explain "no pid"
	! kill -0 "$pid" 2>/dev/null || explain "its kxmon $pid still runs"
}

@test "fork: kxmon without kxd answers -KX_EPERM" {
	run --separate-stderr "$KX_BIN/kxmon" "$KX_BUILD/guest/forkt.kxe" cow
	[ "$status" -eq 3 ] || explain "want 3"
	[ "$output" = "fork failed: -1" ] || explain "-KX_EPERM"
}

@test "fork: ended children not yet waited for count toward max-children (zombies)" {
	ctl run "$FX/forkc.kxe" zombie
	[ "$status" -eq 0 ] || explain "want 0"
	grep -qx "both ended, none waited for: fork -13" <<<"$output" || explain "zombies count"
	grep -qx "one waited for: fork allowed" <<<"$output" || explain "a wait frees the slot"
	ctl audit
	grep -q "fork    pvm 1 (forkc) -> fork (children 2, members 3) DENY .*max-children is 2" \
		<<<"$output" || explain "the denial counted both ended children"
}

@test "timeout: kxd --pvm-timeout ends a parent blocked in kx_wait, and its forked child" {
	stop_kxd
	start_kxd --pvm-timeout 2
	# Without the timeout both would run forever: the child spins, the
	# parent waits for it.  The child keeps its parent's deadline; whichever
	# kxmon notices first, neither outlives it.
	ctl run "$FX/forkw.kxe" spinwait
	[ "$status" -eq 124 ] || explain "want 124 (timed out)"
	grep -qx "waiting for child 2" <<<"$output" || explain "forked"
	[[ "$stderr" == *"timed out after 2 s"* ]] || explain "the report"
	wait_for listed 2 '(124|137)' 1 || explain "the child must end too"
}
