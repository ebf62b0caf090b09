#!/usr/bin/env bats
# kxd's policy: the serial number that refuses a replayed policy (kept in a
# file across restarts), `kxctl reload` and SIGHUP swapping the policy while
# pVMs run, and `kxctl run --policy` against a kxd that enforces another
# one.  The pVMs are tests/data/kxd/fake-kxmon (no KVM needed).

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

setup_file() {
	kxd_fixture
	# v1: hello and exit (serial 100); v2: hello only, and the operator may
	# no longer link libkvpush (serial 200); old: v1 as serial 50
	sed -e '/name: libkvpush/,/loader:/s|loader: any|loader: self|' "$FX/hello.yaml" \
		> "$FX/hello-v2.yaml"
	"$KX_BIN/kxpolicy" compile --serial 100 -o "$FX/v1.kxp" "$FX/hello.yaml" "$FX/exit.yaml" >/dev/null
	"$KX_BIN/kxpolicy" compile --serial 200 -o "$FX/v2.kxp" "$FX/hello-v2.yaml" >/dev/null
	"$KX_BIN/kxpolicy" compile --serial 50 -o "$FX/old.kxp" "$FX/hello.yaml" "$FX/exit.yaml" >/dev/null
}

setup() {
	export KXD_LIBDIR=$FX/lib # fake-kxmon compares what it gets with these files
}

teardown() {
	stop_kxd
}

# start_kxd_with POLICY [kxd options]
start_kxd_with() {
	local policy=$1
	shift
	SOCK=$BATS_TEST_TMPDIR/kxd.sock
	AUDIT=$BATS_TEST_TMPDIR/audit.log
	"$KXD" --policy "$policy" --socket "$SOCK" --audit-log "$AUDIT" --libdir "$FX/lib" \
		--monitor "$FAKE" "$@"
}

pvm_running() {
	"$KXCTL" list --socket "$SOCK" | grep -q "^$1 .* running "
}

# pVM 1 (app hello) and pVM 2 (app exit), both waiting; their kxctl run
# consoles in c1 and c2
two_pvms() {
	"$KXCTL" run --socket "$SOCK" "$FX/hello.kxe" wait > "$BATS_TEST_TMPDIR/c1" 2>&1 &
	wait_for pvm_running 1 || explain "pVM 1 never ran"
	"$KXCTL" run --socket "$SOCK" "$FX/exit-app.kxe" wait > "$BATS_TEST_TMPDIR/c2" 2>&1 &
	wait_for pvm_running 2 || explain "pVM 2 never ran"
}

@test "reload: the new policy decides everything after it; running pVMs keep running; a vanished app is reported" {
	start_kxd_with "$FX/v1.kxp"
	two_pvms
	ctl reload "$FX/v2.kxp"
	[ "$status" -eq 0 ] || explain "reload"
	[[ "$output" == *"policy $FX/v2.kxp loaded: serial 200 (was 100)"* ]] || explain "serials"
	[[ "$output" == *"pVM 2: app exit is not in the new policy; still running"* ]] ||
		explain "the vanished app is named"
	[[ "$output" != *"pVM 1:"* ]] || explain "hello is still in the policy"
	pvm_running 1 && pvm_running 2 || explain "both pVMs keep running"
	# v2 makes libkvpush loader self: the operator's push is now denied
	ctl link 1 libkvpush.so
	[ "$status" -eq 1 ] && [[ "$stderr" == *"may not link library libkvpush"*"(rule $FX/hello-v2.yaml:"* ]] ||
		explain "the link is decided by the new policy, with its rule"
	ctl run "$FX/exit-app.kxe" exit 0
	[ "$status" -eq 1 ] && [[ "$stderr" == *"app 'exit' is not in the policy"* ]] ||
		explain "a new boot of the vanished app is denied"
	[ "$(cat "$BATS_TEST_TMPDIR/policy.serial")" = 200 ] || explain "the serial is recorded beside the audit log"
	ctl kill 1
	ctl kill 2
	wait || true
}

@test "reload --enforce ends the pVMs whose app left the policy, and only those" {
	start_kxd_with "$FX/v1.kxp"
	two_pvms
	ctl reload --enforce "$FX/v2.kxp"
	[ "$status" -eq 0 ] && [[ "$output" == *"pVM 2: app exit is not in the new policy: ended"* ]] ||
		explain "enforced"
	wait %2 || status=$?
	[ "$status" -eq 137 ] || explain "pVM 2 was ended"
	grep -q "its app left the policy" "$BATS_TEST_TMPDIR/c2" || explain "kxctl run says why"
	pvm_running 1 || explain "pVM 1 (hello) keeps running"
	ctl kill 1
	wait || true
}

@test "serial: an older policy is refused naming both serials, at reload and at start; the old one stays" {
	start_kxd_with "$FX/v1.kxp"
	ctl reload "$FX/old.kxp"
	[ "$status" -eq 1 ] &&
		[[ "$stderr" == *"$FX/old.kxp: serial 50 is older than serial 100 already loaded"*"refused as a replay"* ]] ||
		explain "replay refused"
	ctl run "$FX/exit-app.kxe" exit 3
	[ "$status" -eq 3 ] || explain "v1 still decides: exit boots"
	ctl reload
	[ "$status" -eq 0 ] && [[ "$output" == *"serial 100 (was 100)"* ]] ||
		explain "re-reading the same policy is fine"
	"$KXCTL" stop --socket "$SOCK"
	# the serial outlives kxd
	run "$KXD" --policy "$FX/old.kxp" --socket "$SOCK" --audit-log "$BATS_TEST_TMPDIR/audit.log" \
		--monitor "$FAKE" --foreground
	[ "$status" -eq 1 ] && [[ "$output" == *"serial 50 is older than serial 100"* ]] ||
		explain "a restarted kxd refuses the replay too"
	[ ! -e "$SOCK" ] || explain "no socket for a refused policy"
	# a serial file that is not one number is an error, never 'no serial yet'
	printf 'garbage\n' > "$BATS_TEST_TMPDIR/policy.serial"
	run "$KXD" --policy "$FX/v1.kxp" --socket "$SOCK" --audit-log "$BATS_TEST_TMPDIR/audit.log" \
		--monitor "$FAKE" --foreground
	[ "$status" -eq 1 ] && [[ "$output" == *"policy.serial is not one serial number"* ]] ||
		explain "corrupt serial file"
	# --serial-file puts it elsewhere; a symlink there is not followed
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$BATS_TEST_TMPDIR/link.serial"
	run "$KXD" --policy "$FX/v1.kxp" --socket "$SOCK" --audit-log "$BATS_TEST_TMPDIR/audit.log" \
		--serial-file "$BATS_TEST_TMPDIR/link.serial" --monitor "$FAKE" --foreground
	[ "$status" -eq 1 ] && [[ "$output" == *"link.serial: "* ]] || explain "symlinked serial file"
	start_kxd_with "$FX/v2.kxp" --serial-file "$BATS_TEST_TMPDIR/mine.serial"
	[ "$(cat "$BATS_TEST_TMPDIR/mine.serial")" = 200 ] || explain "--serial-file"
}

@test "reload: a corrupt or wrongly signed policy is refused and the old one stays" {
	start_kxd_with "$FX/v1.kxp"
	head -c 300 /dev/urandom > "$BATS_TEST_TMPDIR/bad.kxp"
	ctl reload "$BATS_TEST_TMPDIR/bad.kxp"
	[ "$status" -eq 1 ] && [[ "$stderr" == *"$BATS_TEST_TMPDIR/bad.kxp"* ]] || explain "corrupt"
	ctl reload "$BATS_TEST_TMPDIR/missing.kxp"
	[ "$status" -eq 2 ] || explain "a missing file is kxctl's usage error"
	ctl run "$FX/exit-app.kxe" exit 4
	[ "$status" -eq 4 ] || explain "the old policy still decides"
	"$KXCTL" stop --socket "$SOCK"
	# with --admin-key, a reload must be signed by it like the first policy
	"$KX_BIN/kxpolicy" compile --serial 300 -s "$SECS/acme.sec" -o "$BATS_TEST_TMPDIR/signed.kxp" \
		"$FX/hello.yaml" "$FX/exit.yaml" >/dev/null
	start_kxd_with "$BATS_TEST_TMPDIR/signed.kxp" --admin-key "$KX_ROOT/manifests/keys/acme.pub"
	ctl reload "$FX/v2.kxp"
	[ "$status" -eq 1 ] && [[ "$stderr" == *"$FX/v2.kxp"*"not signed"* ]] ||
		explain "an unsigned policy is refused by a kxd with an admin key"
}

@test "SIGHUP re-reads the policy file; a broken one is logged and the old one stays" {
	cp "$FX/v1.kxp" "$BATS_TEST_TMPDIR/cur.kxp"
	start_kxd_with "$BATS_TEST_TMPDIR/cur.kxp"
	pid=$(pgrep -f -- "--socket $SOCK") || explain "kxd's pid"
	cp "$FX/v2.kxp" "$BATS_TEST_TMPDIR/cur.kxp"
	kill -HUP "$pid"
	wait_for grep -q "serial 200 (was 100)" "$SOCK.log" || explain "reloaded on SIGHUP"
	ctl run "$FX/exit-app.kxe" exit 0
	[ "$status" -eq 1 ] && [[ "$stderr" == *"app 'exit' is not in the policy"* ]] || explain "v2 decides"
	cp "$FX/old.kxp" "$BATS_TEST_TMPDIR/cur.kxp"
	kill -HUP "$pid"
	wait_for grep -q "SIGHUP: policy not reloaded, the old one stays: .*serial 50 is older than serial 200" "$SOCK.log" ||
		explain "a replay on SIGHUP is refused and logged"
	ctl list
	[ "$status" -eq 0 ] || explain "kxd still serves"
}

@test "run --policy: a kxd already running another policy is an error naming kxctl reload" {
	start_kxd_with "$FX/v1.kxp"
	run --separate-stderr "$KXCTL" run --policy "$FX/v2.kxp" --socket "$SOCK" "$FX/hello.kxe" exit 0
	[ "$status" -eq 2 ] || explain "want 2"
	[[ "$stderr" == *"kxd on $SOCK already runs policy $FX/v1.kxp (serial 100), not $FX/v2.kxp: to switch, run \`kxctl reload $FX/v2.kxp\`"* ]] ||
		explain "names both policies and kxctl reload"
	run --separate-stderr "$KXCTL" run --policy "$FX/v1.kxp" --socket "$SOCK" "$FX/hello.kxe" exit 5
	[ "$status" -eq 5 ] || explain "the same policy: the run goes on"
	ctl list --json
	[[ "$output" != *'"id": 2'* ]] || explain "the refused run started nothing"
}
