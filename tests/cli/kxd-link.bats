#!/usr/bin/env bats
# kxd-link: real pVMs that link signed libraries through kxd and the gate —
# a lazily bound DT_NEEDED library, kx_dlopen at run time, the operator's
# push into a running pVM, and boots denied for an unsigned, wrong-key, revoked or
# out-of-range library, each with its audit record.  The images and
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
