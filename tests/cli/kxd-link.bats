#!/usr/bin/env bats
# kxd-link: real pVMs that link signed libraries through kxd and the gate —
# a lazily bound DT_NEEDED library, kx_dlopen at run time, the operator's
# push into a running pVM (and one asked for by another pVM: kxctl link --as,
# decided by the loader class for that relation), and boots denied for an
# unsigned, wrong-key, revoked or out-of-range library, each with its
# audit record.  The images and
# libraries are guest/examples (libkvmath, libacme-log, kvstore) and
# tests/guest/linkt.c.  Skipped, with the reason, without a usable /dev/kvm.

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

setup_file() {
	kxd_link_fixture
	kvm_probe
}

setup() {
	need_kvm
}

teardown() {
	stop_kxd
}

pvm_running() { # ID
	"$KXCTL" list --socket "$SOCK" | grep -q "^$1 .* running "
}

# kxd_with POLICY LIBDIR: a kxd over $FX/POLICY.kxp and $FX/LIBDIR
kxd_with() {
	SOCK=$BATS_TEST_TMPDIR/kxd.sock
	AUDIT=$BATS_TEST_TMPDIR/audit.log
	"$KXD" --policy "$FX/$1.kxp" --socket "$SOCK" --audit-log "$AUDIT" --libdir "$FX/$2"
}

@test "boot: kvstore runs with its lazily bound libkvmath, and links libacme-log at run time" {
	kxd_with kv ok
	ctl run "$FX/kvstore.kxe"
	[ "$status" -eq 0 ] || explain "want 0"
	[[ "$output" == *"kvstore: apples=42 pears=42 plums=84"* ]] || explain "libkvmath called"
	[[ "$output" == *"[acme-log 3.3.0 #1] kvstore: plums = 84"* ]] || explain "libacme-log called"
	ctl audit
	[[ "$output" == *"link    pvm 1 (kvstore) -> pvm 1 (kvstore) lib libkvmath 1.17 ALLOW $FX/kv.yaml:16"* ]] ||
		explain "the DT_NEEDED link, audited"
	[[ "$output" == *"lib libacme-log 3.3 ALLOW $FX/kv.yaml:21"* ]] || explain "the kx_dlopen link, audited"
	ctl list
	[[ "$output" == *"libkvmath 1.17 "*", libacme-log 3.3 "* ]] || explain "registry"
}

@test "run time: kx_dlopen of a library that is not there fails in the guest, the pVM goes on" {
	kxd_with kv ok
	ctl run "$FX/linkt.kxe" dlopen libnone.so
	[ "$status" -eq 3 ] || explain "linkt exits 3 when kx_dlopen fails"
	[ "${lines[0]}" = "dlopen libnone.so: -13" ] || explain "-EACCES to the guest"
	ctl run "$FX/linkt.kxe" calls 5
	[ "$status" -eq 0 ] && [[ "$output" == "sum 5, libkvmath "*", 5 calls" ]] || explain "lazy calls"
}

@test "denied boot: unsigned, wrong-key, revoked and out-of-range libkvmath, each audited" {
	check_denied() { # POLICY LIBDIR REASON-GLOB
		kxd_with "$1" "$2"
		ctl run "$FX/kvstore.kxe"
		[ "$status" -eq 125 ] || explain "$2: the pVM does not start"
		[[ "$stderr" == *"libkvmath.so: link of libkvmath.so into pVM 1 (kvstore) denied: "$3 ]] ||
			explain "$2: names the library and why"
		[[ "$output" != *apples* ]] || explain "$2: the app never ran"
		ctl audit --json
		grep -q '"op":"link".*"lib":"libkvmath".*"decision":"deny"' <<<"$output" ||
			explain "$2: audit record"
		stop_kxd
		rm -f "$AUDIT"
	}
	check_denied kv unsigned "signature unsigned"*
	check_denied kv wrongkey *"99995c1484c2b896, which app kvstore does not trust"*"(rule $FX/kv.yaml:16)"*
	check_denied kv-revoked ok *"which app kvstore revokes (rule $FX/kv-revoked.yaml:"[0-9]*")"*
	check_denied kv range *"version 2.0 of library libkvmath is outside '>= 1.16 && < 2' (rule $FX/kv.yaml:16)"*
}

@test "kxctl link: the operator pushes libacme-log into a running pVM, which calls it" {
	kxd_with kv ok
	"$KXCTL" run --socket "$SOCK" "$FX/linkt.kxe" wait-push acme_log > "$BATS_TEST_TMPDIR/console" 2>&1 &
	wait_for pvm_running 1 || explain "never ran"
	ctl link 1 libkvmath.so
	[ "$status" -eq 1 ] && [[ "$stderr" == *"relation 'any' may not link library libkvmath"* ]] ||
		explain "libkvmath is the pVM's own business (loader self)"
	ctl link 1 libacme-log.so
	[ "$status" -eq 0 ] && [ "$output" = "linked libacme-log 3.3 into pVM 1" ] || explain "push"
	wait %1 || { status=$?; cat "$BATS_TEST_TMPDIR/console"; explain "linkt wait-push failed"; }
	grep -q "^\[acme-log 3.3.0 #1\] linkt: pushed = 7" "$BATS_TEST_TMPDIR/console" ||
		{ cat "$BATS_TEST_TMPDIR/console"; explain "the guest called the pushed library"; }
	ctl list
	[[ "$output" == *"libkvmath 1.17 "*", libacme-log 3.3 "* ]] || explain "listed"
	ctl audit
	[[ "$output" == *"link    operator uid $(id -u) -> pvm 1 (kvstore) lib libacme-log 3.3 ALLOW $FX/kv.yaml:21"* ]] ||
		explain "audited with the operator as subject"
}

# two_pvms: pVM 1 waits for a pushed acme_log (its kxctl run: $WAITER),
# pVM 2 spins (both kvstore)
two_pvms() {
	"$KXCTL" run --socket "$SOCK" "$FX/linkt.kxe" wait-push acme_log > "$BATS_TEST_TMPDIR/console" 2>&1 &
	WAITER=$!
	wait_for pvm_running 1 || explain "pVM 1 never ran"
	"$KXCTL" run --socket "$SOCK" "$FX/linkt.kxe" spin > "$BATS_TEST_TMPDIR/console2" 2>&1 &
	wait_for pvm_running 2 || explain "pVM 2 never ran"
}

# pushed_and_called: pVM 1 got libacme-log, called it and ended with 0
pushed_and_called() {
	[ "$status" -eq 0 ] && [ "$output" = "linked libacme-log 3.3 into pVM 1" ] || explain "push"
	wait "$WAITER" || { status=$?; cat "$BATS_TEST_TMPDIR/console"; explain "linkt wait-push failed"; }
	grep -q "^\[acme-log 3.3.0 #1\] linkt: pushed = 7" "$BATS_TEST_TMPDIR/console" ||
		{ cat "$BATS_TEST_TMPDIR/console"; explain "the guest called the pushed library"; }
}

# link_denied RELATION LIB [--as REQ]: linking LIB into pVM 1 is denied for RELATION
link_denied() {
	ctl link "${@:3}" 1 "$2"
	[ "$status" -eq 1 ] && [[ "$stderr" == *"relation '$1' may not link library ${2%.so}"* ]] ||
		explain "relation $1 may not link $2"
}

# audited GLOB WHAT: kxctl audit shows a line matching *GLOB*
audited() {
	ctl audit
	[[ "$output" == *"$1"* ]] || explain "audited: $2"
}

@test "kxctl link --as: pVM 2 asks for pVM 1 (relation app): loader self denied, loader any pushed" {
	kxd_with kv ok
	two_pvms
	link_denied app libkvmath.so --as 2 # loader self: not another pVM of kvstore
	[[ "$stderr" == *"(rule $FX/kv.yaml:16)"* ]] || explain "the denial names the rule"
	ctl link --as 3 1 libacme-log.so
	[ "$status" -eq 1 ] && [ "$stderr" = "kxctl: no pVM 3" ] || explain "the requester must be a running pVM"
	ctl link --as 0 1 libacme-log.so
	[ "$status" -eq 2 ] || explain "0 is no pVM id"
	ctl link --as 2 1 libacme-log.so
	pushed_and_called
	ctl audit
	[[ "$output" == *"link    pvm 2 (kvstore) -> pvm 1 (kvstore) lib libkvmath "*"DENY $FX/kv.yaml:16"* ]] ||
		explain "the denial, audited with pVM 2 as subject"
	[[ "$output" == *"link    pvm 2 (kvstore) -> pvm 1 (kvstore) lib libacme-log 3.3 ALLOW $FX/kv.yaml:21"* ]] ||
		explain "the push, audited with pVM 2 as subject"
	pvm_running 2 || explain "pVM 2 goes on"
}

@test "kxctl link --as: loader self admits only the pVM itself, loader app its app's pVMs" {
	kxd_with kv-self ok
	two_pvms
	link_denied app libacme-log.so --as 2 # another pVM of the app
	link_denied any libacme-log.so        # the operator
	ctl link --as 1 1 libacme-log.so
	pushed_and_called
	audited "link    pvm 1 (kvstore) -> pvm 1 (kvstore) lib libacme-log 3.3 ALLOW $FX/kv-self.yaml:21" \
		"self: pVM 1 as its own requester"
	stop_kxd
	rm -f "$AUDIT"

	kxd_with kv-app ok
	two_pvms
	link_denied any libacme-log.so # the operator
	ctl link --as 2 1 libacme-log.so
	pushed_and_called
	audited "link    pvm 2 (kvstore) -> pvm 1 (kvstore) lib libacme-log 3.3 ALLOW $FX/kv-app.yaml:21" \
		"app: pVM 2 as subject"
}
