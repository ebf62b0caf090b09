#!/usr/bin/env bats
# kvm_update: online library update on real pVMs through kxd and the gate
# (docs/update.md).  The app is tests/guest/updt.c: it sets the 106
# numbered variables of libupd (generated: 111 functions, 111 variables,
# statics; tests/guest/gen_updlib.py) to random values and calls the
# library in a loop, checking every round that variables, a static call
# counter and three kinds of pointers are what it made them — so every
# update here happens under load.  "updt until V" exits 0 once the library
# says version V and one more round passed; any mismatch exits 1.
# Skipped, with the reason, without a usable /dev/kvm.

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

upd_fixture() {
	local fx=$BATS_FILE_TMPDIR/fx u=$KX_BUILD/guest/upd zero
	mkdir -p "$fx"/{v116,v118}
	sign_as() { "$KXSIGN" sign -s "$SECS/$1.sec" --name "$2" --version "$3" "${@:6}" -o "$4" "$5" >/dev/null; }
	sign_as libc-team libupd 1.16 "$fx/v116/libupd.so" "$u/libupd-116.so"
	sign_as libc-team libupd 1.18 "$fx/v118/libupd.so" "$u/libupd-118.so"
	mkdir -p "$fx/v116-nomap"
	sign_as libc-team libupd 1.16 "$fx/v116-nomap/libupd.so" "$u/libupd-116.so" --no-ptrmap
	cp "$fx/v116/libupd.so" "$fx/libupd-1.16.so"
	cp "$fx/v118/libupd.so" "$fx/libupd-1.18.so"
	sign_as libc-team libupd 1.18 "$fx/size.so" "$u/libupd-size.so"
	sign_as libc-team libupd 1.18 "$fx/removed.so" "$u/libupd-removed.so"
	sign_as webco libupd 1.18 "$fx/wrongkey.so" "$u/libupd-116.so" # a digest not revoked
	cp "$u/libupd-118.so" "$fx/unsigned.so"
	sign_as acme updt 1.0 "$fx/updt.kxe" "$KX_BUILD/guest/updt.kxe"
	policy() { # NAME ROLLBACK REVOKED-DIGEST
		sed -e "s|@KEYS@|$KX_ROOT/manifests/keys|g" -e "s|@ROLLBACK@|$2|" -e "s|@REVOKED@|$3|" \
			"$DATA/upd.yaml.in" > "$fx/$1.yaml"
		"$KX_BIN/kxpolicy" compile --serial 1 -o "$fx/$1.kxp" "$fx/$1.yaml" 2>/dev/null >&2
	}
	zero=$(printf '0%.0s' $(seq 64))
	policy upd deny "$zero"
	policy upd-rollback allow "$zero"
	policy upd-revoked deny "$("$KXSIGN" digest "$u/libupd-118.so" | cut -d' ' -f1)"
}

setup_file() {
	upd_fixture
	kvm_probe
}

setup() {
	need_kvm
	APP_PID=
}

teardown() {
	stop_kxd
	[ -z "$APP_PID" ] || wait "$APP_PID" 2>/dev/null || true
}

# kxd_with POLICY LIBDIR: a kxd over $FX/POLICY.kxp and $FX/LIBDIR
kxd_with() {
	SOCK=$BATS_TEST_TMPDIR/kxd.sock
	AUDIT=$BATS_TEST_TMPDIR/audit.log
	"$KXD" --policy "$FX/$1.kxp" --socket "$SOCK" --audit-log "$AUDIT" --libdir "$FX/$2"
}

# start_app ARGS: kxctl run updt.kxe ARGS in the background (pVM 1 of a
# fresh kxd), its console in $APP_OUT; returns once it says it is ready.
start_app() {
	APP_OUT=$BATS_TEST_TMPDIR/app.out
	# A test may start the app more than once: the last run's "ready" must
	# not be read before the background shell truncates the file.
	rm -f "$APP_OUT" "$APP_OUT.err"
	"$KXCTL" run --socket "$SOCK" "$FX/updt.kxe" "$@" >"$APP_OUT" 2>"$APP_OUT.err" 3>&- &
	APP_PID=$!
	wait_for grep -q "updt: ready" "$APP_OUT" || { cat "$APP_OUT" "$APP_OUT.err"; return 1; }
}

# finish_app: wait for the app to end (a hang guard of 60 s, not a
# measurement); its exit status in $app_status.
finish_app() {
	local i
	for i in $(seq 600); do
		kill -0 "$APP_PID" 2>/dev/null || break
		sleep 0.1
	done
	app_status=0
	wait "$APP_PID" || app_status=$?
	APP_PID=
}

# The app went on to 1.18 with every value it set intact.
app_kept_state() {
	finish_app
	[ "$app_status" -eq 0 ] || { cat "$APP_OUT" "$APP_OUT.err"; explain "want the app to end well"; }
	grep -q "^updt: now version 118, state kept (106 variables" "$APP_OUT" ||
		{ cat "$APP_OUT"; explain "want the state checked on 1.18"; }
	! grep -q MISMATCH "$APP_OUT" || explain "no mismatch"
}

# refused_then_kept FILE WHY: an update of pVM 1 (running "until 118") to
# FILE is refused saying WHY; the pVM still runs on 1.16, the next update
# goes through, and the app finds every value it set (it checks each round).
refused_then_kept() {
	ctl update 1 "$1" libupd
	[ "$status" -eq 1 ] || explain "want a refusal"
	[[ "$stderr" == *"pVM 1 keeps libupd 1.16: $2"* ]] || explain "says why"
	pvm_running 1 1.16 || explain "still running, on 1.16"
	ctl update 1 "$FX/libupd-1.18.so" libupd
	[ "$status" -eq 0 ] || explain "then the update goes through"
	app_kept_state
}

pvm_running() { # ID
	"$KXCTL" list --socket "$SOCK" | grep -q "^$1 .* running .*libupd $2 "
}

@test "update: under load, 1.16 -> 1.18 keeps every variable, the statics and the pointers" {
	kxd_with upd v116
	start_app until 118
	ctl update 1 "$FX/libupd-1.18.so" libupd
	[ "$status" -eq 0 ] || explain "want the update applied"
	[[ "$output" == "updated libupd 1.16 -> 1.18 in pVM 1: "[0-9]*" GOT entries (0 back to lazy), 116 variables (7 pointers rebased, 0 untyped copied verbatim); quiesce "*" us, load "*", commit "* ]] ||
		explain "the outcome, the counts and the phases"
	app_kept_state
	ctl list
	[[ "$output" == *"libupd 1.18 "* ]] || explain "the registry names the new version"
}

@test "update --lazy: GOT entries go back to the PLT and resolve to the new library" {
	kxd_with upd v116
	start_app until 118
	ctl update --lazy 1 "$FX/libupd-1.18.so" libupd.so
	[ "$status" -eq 0 ] || explain "want the update applied"
	[[ "$output" =~ " GOT entries ("[1-9][0-9]*" back to lazy)" ]] || explain "entries back to lazy"
	app_kept_state
}

@test "update: not quiescent until the deadline -> refused, the pVM runs on 1.16" {
	kxd_with upd v116
	start_app busy
	ctl update --deadline 300 1 "$FX/libupd-1.18.so" libupd
	[ "$status" -eq 1 ] || explain "want the update given up"
	[[ "$stderr" == *"pVM 1 keeps libupd 1.16: not quiescent: gave up after "[0-9]*" checks in "[0-9]*" ms; update: the pVM is inside libupd (address 0x"* ]] ||
		explain "says why"
	pvm_running 1 1.16 || explain "still running, on 1.16"
	ctl kill 1
}

@test "update: a deadline beyond kxmon's limit is refused by kxd; the pVM runs on" {
	kxd_with upd v116
	start_app until 118
	ctl update --deadline 65000 1 "$FX/libupd-1.18.so" libupd
	[ "$status" -eq 1 ] || explain "want a refusal"
	[[ "$stderr" == *"update deadline 65000 ms: at most 60000 ms"* ]] || explain "says why"
	pvm_running 1 1.16 || explain "still running, on 1.16 (kxmon never saw the push)"
	ctl update --deadline 60000 1 "$FX/libupd-1.18.so" libupd
	[ "$status" -eq 0 ] || explain "the longest deadline kxmon takes goes through"
	app_kept_state
}

@test "update: a variable whose size changed is refused before anything changes" {
	kxd_with upd v116
	start_app until 118
	refused_then_kept "$FX/size.so" \
		"update refused: variable 'upd_var_050' is 8 bytes in the old libupd, 4 bytes in the new one"
}

@test "update: a new version without a function the app uses is refused" {
	kxd_with upd v116
	start_app until 118
	refused_then_kept "$FX/removed.so" \
		"update refused: the new libupd has no 'upd_fn_077', which the image uses (binary compatibility)"
}

@test "update: a downgrade is refused, unless the rule says rollback: allow" {
	kxd_with upd v118
	start_app until 116
	ctl update 1 "$FX/libupd-1.16.so" libupd
	[ "$status" -eq 1 ] || explain "want the downgrade denied"
	[[ "$stderr" == *"update of libupd 1.18 in pVM 1 (updt) denied: "*"older"*"(rule $FX/upd.yaml:16)"* ]] ||
		explain "names the rule"
	ctl kill 1
	finish_app
	stop_kxd
	kxd_with upd-rollback v118
	start_app until 116
	ctl update 1 "$FX/libupd-1.16.so" libupd
	[ "$status" -eq 0 ] || explain "rollback: allow"
	finish_app
	[ "$app_status" -eq 0 ] && grep -q "^updt: now version 116, state kept" "$APP_OUT" ||
		explain "the state survives a rollback too"
}

@test "update: unsigned, wrong-key and revoked libraries are refused by the gate, each audited" {
	kxd_with upd-revoked v116
	start_app until 118
	ctl update 1 "$FX/unsigned.so" libupd
	[ "$status" -eq 1 ] && [[ "$stderr" == *"denied: signature unsigned"* ]] || explain "unsigned"
	ctl update 1 "$FX/wrongkey.so" libupd
	[ "$status" -eq 1 ] && [[ "$stderr" == *"which app updt does not trust"* ]] || explain "wrong key"
	ctl update 1 "$FX/libupd-1.18.so" libupd
	[ "$status" -eq 1 ] && [[ "$stderr" == *"which app updt revokes"* ]] || explain "revoked"
	pvm_running 1 1.16 || explain "still running, on 1.16"
	ctl audit
	[ "$(grep -c "^.* update  operator uid [0-9]* -> pvm 1 (updt) lib libupd 1.16.* DENY " <<<"$output")" -eq 3 ] ||
		explain "three audited denials"
	ctl kill 1
}

@test "update: a failure injected at each step leaves the pVM on 1.16 with its state" {
	for step in quiesce load resolve variables share got unmap; do
		KXMON_TEST_FAIL_UPDATE=$step kxd_with upd v116
		start_app until 118
		refused_then_kept "$FX/libupd-1.18.so" "update: injected failure at step '$step' (test hook)"
		ctl audit
		[ "$(grep -c " update  operator .* ALLOW " <<<"$output")" -eq 2 ] ||
			explain "$step: both decisions audited"
		stop_kxd
		rm -f "$AUDIT"
	done
}

# Hardening round 2, finding 7: which words are pointers comes from the
# signed pointer map, not from values.  A library signed without one still
# updates, rebasing nothing, and says so; the app then finds its pointers
# into the library stale (what the map is for).
@test "update: a library signed without a pointer map updates with nothing rebased, and says so" {
	kxd_with upd v116-nomap
	start_app until 999
	ctl update 1 "$FX/libupd-1.18.so" libupd
	[ "$status" -eq 0 ] || explain "want the update applied"
	[[ "$output" == *" 116 variables (copied verbatim: the old library has no pointer map); quiesce "* ]] ||
		explain "says that nothing was rebased, and why"
	finish_app
	grep -q "^updt: MISMATCH pointers" "$APP_OUT" || explain "the stale pointers are seen"
}

# Each update keeps the old library's file and module (the window is not
# compacted): a pVM takes a bounded number of updates, then a clean refusal.
@test "update: back and forth until the module limit; a clean refusal, state kept, fds bounded" {
	kxd_with upd-rollback v116
	start_app until 999
	local n v mon fds0 done=0
	# this test's own kxd (others may run on the machine): by its socket
	mon=$(pgrep -P "$(pgrep -o -f -- "--socket $SOCK")" -x kxmon)
	fds0=$(ls "/proc/$mon/fd" | wc -l)
	for n in $(seq 100); do
		if [ $((n % 2)) -eq 1 ]; then v=1.18; else v=1.16; fi
		ctl update 1 "$FX/libupd-$v.so" libupd
		[ "$status" -eq 0 ] || { done=$n; break; }
	done
	[ "$done" -gt 50 ] || explain "want some fifty updates before the limit"
	[[ "$stderr" == *"update: too many modules in this pVM"* ]] || explain "a clean refusal"
	[ "$(ls "/proc/$mon/fd" | wc -l)" -le $((fds0 + done)) ] || explain "one kept file per update"
	pvm_running 1 "$([ $((done % 2)) -eq 1 ] && echo 1.16 || echo 1.18)" || explain "runs on"
	ctl kill 1
	finish_app
	! grep -q MISMATCH "$APP_OUT" || explain "no mismatch after $((done - 1)) updates"
	[ "$(grep -c "^updt: now version 1[16][68], state kept" "$APP_OUT")" -ge 2 ] || explain "checked"
}
