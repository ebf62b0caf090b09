#!/usr/bin/env bats
# kvm_recycle: pVM recycling on real KVM through kxctl run --recycle ->
# kxd -> a pooled kxmon (docs/recycle.md).  kxd runs with --pool-image (the
# placeholder guest/placeholder.c, signed as app kxpool) under the policy
# of tests/data/kxd/recycle.yaml.in.  Skipped, with the reason, where
# /dev/kvm is not usable.

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

# In $BATS_FILE_TMPDIR/fx: kx.kxp (one manifest per app of recycle.yaml.in),
# kxpool.kxe, the app libraries signed (or not) as each case needs, and
# lib/libkvmath.so for kvcount's DT_NEEDED.
recycle_fixture() {
	local fx=$BATS_FILE_TMPDIR/fx g=$KX_BUILD/guest
	mkdir -p "$fx/lib" "$fx/m"
	awk -v dir="$fx/m" -v keys="$KX_ROOT/manifests/keys" '
		BEGIN { f = dir "/m0.yaml" }
		/^---8<---$/ { f = dir "/m" (++n) ".yaml"; next }
		{ gsub("@KEYS@", keys); print > f }' "$DATA/recycle.yaml.in"
	"$KX_BIN/kxpolicy" compile --serial 1 -o "$fx/kx.kxp" "$fx"/m/*.yaml >/dev/null
	sign_as() { "$KXSIGN" sign -s "$SECS/$1.sec" --name "$2" --version "$3" -o "$4" "$5" >/dev/null; }
	sign_as acme kxpool 1.0 "$fx/kxpool.kxe" "$g/kxpool.kxe"
	sign_as libc-team libkvmath 1.16.2 "$fx/lib/libkvmath.so" "$g/libkvmath.so"
	sign_as acme kvcount 1.0 "$fx/libkvcount.so" "$g/libkvcount.so"
	sign_as acme recycprobe 1.0 "$fx/librecycprobe.so" "$g/librecycprobe.so"
	sign_as webco recycprobe 1.0 "$fx/wrongkey.so" "$g/librecycprobe.so"
	sign_as acme fixed 1.0 "$fx/libfixed.so" "$g/librecycprobe.so"
	cp "$g/librecycprobe.so" "$fx/unsigned.so"
	sign_as webco kxpool 1.0 "$fx/kxpool-wrongkey.kxe" "$g/kxpool.kxe"
}

setup_file() {
	recycle_fixture
	kvm_probe
}

setup() {
	need_kvm
	start_kxd --pool-image "$FX/kxpool.kxe"
}

teardown() {
	stop_kxd
}

# The ids of APP's pooled pVMs in STATE (pooled: ready; booting), one per line.
pool_ids() {
	"$KXCTL" list --socket "$SOCK" | awk -v app="pool:$1" -v st="${2:-pooled}" \
		'$2 == app && $4 == st { print $1 }'
}

# pool_ready APP N: N pVMs of APP's pool are ready.
pool_ready() {
	[ "$(pool_ids "$1" | wc -l)" -eq "$2" ]
}

@test "recycle: the app runs in a pooled pVM; its DT_NEEDED goes through the gate" {
	wait_for pool_ready kvcount 2 || explain "kvcount's pool never filled"
	pooled=$(pool_ids kvcount)
	ctl run --recycle "$FX/libkvcount.so" apple pear apple plum
	[ "$status" -eq 3 ] || explain "want the app's status (3 distinct words)"
	[ "$output" = "kvcount: 4 words, 3 distinct (libkvmath 1.16.2, 7 calls)" ] ||
		explain "the app's console"
	[ -z "$stderr" ] || explain "nothing on stderr"
	ctl list --json
	id=$(sed -n 's/.*"id": \([0-9]*\), "app": "kvcount".*/\1/p' <<<"$output")
	[ -n "$id" ] && grep -qx "$id" <<<"$pooled" || explain "the app ran in a pooled pVM"
	[[ "$output" == *'"app": "kvcount"'*'"state": "exited"'*'"status": 3'*'"name":"kvcount"'*'"name":"libkvmath"'* ]] ||
		explain "listed as a pVM of kvcount with its libraries"
	ctl audit
	grep -q "recycle pvm $id (empty) -> pvm $id <- app kvcount 1.0 ALLOW" <<<"$output" ||
		explain "the recycle decision is audited: the empty pVM loads the app itself"
	grep -q "link    pvm $id (kvcount) -> pvm $id (kvcount) lib libkvmath 1.16.2 ALLOW" \
		<<<"$output" || explain "libkvmath linked through the gate"
}

@test "recycle: list shows pool pVMs apart; a used one never returns, the pool refills" {
	wait_for pool_ready kvcount 2 || explain "kxd fills each pool at start"
	ctl list --json
	[[ "$output" == *'"app": null, "pool": "kvcount"'*'"state": "pooled"'* ]] ||
		explain "a pool pVM has no app in the JSON list, only its pool"
	before=$(pool_ids kvcount)
	ctl run --recycle "$FX/libkvcount.so" one
	[ "$status" -eq 1 ] || explain "run"
	wait_for pool_ready kvcount 2 || explain "the pool refilled to 2"
	after=$(pool_ids kvcount)
	[ "$(comm -12 <(sort <<<"$before") <(sort <<<"$after") | wc -l)" -eq 1 ] ||
		explain "exactly one of the two pooled pVMs was used and replaced: $before / $after"
	used=$(comm -23 <(sort <<<"$before") <(sort <<<"$after"))
	"$KXCTL" list --socket "$SOCK" | grep -q "^$used  *kvcount .* exited " ||
		explain "pVM $used is kvcount's now, and exited: it never went back to the pool"
	ctl audit
	[ "$(grep -c 'boot    operator uid [0-9]* -> app kxpool 1.0 ALLOW' <<<"$output")" -eq 5 ] ||
		explain "each pool pVM boots through the gate: kxd's check at start, 3, 1 refill"
}

@test "recycle: an idle pool pVM that is killed is replaced" {
	wait_for pool_ready kvcount 2 || explain "kxd fills each pool at start"
	before=$(pool_ids kvcount)
	victim=$(head -n 1 <<<"$before")
	ctl kill "$victim"
	[ "$status" -eq 0 ] || explain "kill"
	wait_for pool_ready kvcount 2 || explain "the pool refilled to 2 after a kill"
	after=$(pool_ids kvcount)
	! grep -qx "$victim" <<<"$after" || explain "the killed pVM is gone from the pool"
	[ "$(comm -12 <(sort <<<"$before") <(sort <<<"$after") | wc -l)" -eq 1 ] ||
		explain "the other pooled pVM stayed: $before / $after"
}

@test "recycle: a recycled pVM holds nothing of the previous app's life" {
	token=kx-secret-$RANDOM$RANDOM$RANDOM
	wait_for pool_ready recycprobe 1 || explain "pool"
	ctl run --recycle "$FX/librecycprobe.so" control "$token"
	[ "$status" -eq 1 ] && [[ "$output" == *"the secret is there"* ]] ||
		explain "the control: a scan finds a secret planted in its own pVM"
	wait_for pool_ready recycprobe 1 || explain "refill"
	first=$(pool_ids recycprobe)
	ctl run --recycle "$FX/librecycprobe.so" plant "$token"
	[ "$status" -eq 7 ] || explain "the planting app's status"
	wait_for pool_ready recycprobe 1 || explain "refill"
	second=$(pool_ids recycprobe)
	ctl run --recycle "$FX/librecycprobe.so" scan "$token"
	[ "$status" -eq 0 ] || explain "the secret survived into the next recycled start"
	[[ "$output" == *"scanned the whole heap ("*"no trace of the secret"* ]] || explain "scan"
	[ "$first" != "$second" ] || explain "the next start got a fresh pVM"
	"$KXCTL" list --socket "$SOCK" | grep -q "^$first  *recycprobe .* exited  *[^ ]*  *7 " ||
		explain "the planting pVM ended with the app"
}

@test "recycle: unsigned, wrong-key and misnamed libraries are denied; the pool pVM stays" {
	wait_for pool_ready recycprobe 1 || explain "pool"
	pooled=$(pool_ids recycprobe)
	ctl run --recycle --app recycprobe "$FX/unsigned.so" scan 12345678
	[ "$status" -eq 1 ] || explain "unsigned: kxctl's 1"
	[[ "$stderr" == *"recycle of pVM $pooled into recycprobe denied"*"not signed"* ]] ||
		explain "unsigned: the reason"
	ctl run --recycle "$FX/wrongkey.so" scan 12345678
	[ "$status" -eq 1 ] && [[ "$stderr" == *"denied"*"which app recycprobe does not trust"* ]] ||
		explain "wrong key"
	ctl run --recycle --app recycprobe "$FX/libkvcount.so" one
	[ "$status" -eq 1 ] && [[ "$stderr" == *"signed as 'kvcount', not as app 'recycprobe'"* ]] ||
		explain "a library signed for another app"
	[ "$(pool_ids recycprobe)" = "$pooled" ] || explain "the pooled pVM stays in the pool"
	ctl audit
	[ "$(grep -c "recycle pvm $pooled (empty) -> pvm $pooled <- app recycprobe.* DENY" <<<"$output")" -eq 3 ] ||
		explain "three DENY records for the pooled pVM"
	ctl run --recycle "$FX/librecycprobe.so" scan 12345678
	[ "$status" -eq 0 ] || explain "the same pooled pVM still takes a good app"
	"$KXCTL" list --socket "$SOCK" | grep -q "^$pooled  *recycprobe .* exited  *[^ ]*  *0 " ||
		explain "... in pVM $pooled"
}

@test "recycle: an app without a pool is a clear error, nothing is booted for it" {
	ctl run --recycle "$FX/libfixed.so" scan 12345678
	[ "$status" -eq 1 ] || explain "kxctl's 1"
	[[ "$stderr" == *"no pooled pVM of app fixed is ready"*"start it without --recycle"* ]] ||
		explain "the reason"
	! "$KXCTL" list --socket "$SOCK" | grep -q "pool:fixed" || explain "no pool for fixed"
}

@test "recycle: pools off (--pool-max 0), a placeholder the policy does not trust" {
	stop_kxd
	start_kxd --pool-image "$FX/kxpool.kxe" --pool-max 0
	ctl run --recycle "$FX/libkvcount.so" one
	[ "$status" -eq 1 ] && [[ "$stderr" == *"no pooled pVM of app kvcount"* ]] ||
		explain "no pools with --pool-max 0"
	ctl list
	[[ "$output" != *pool:* ]] || explain "nothing pooled"
	stop_kxd
	run --separate-stderr "$KXD" --policy "$FX/kx.kxp" --socket "$SOCK" \
		--audit-log "$AUDIT" --pool-image "$FX/kxpool-wrongkey.kxe"
	[ "$status" -eq 1 ] || explain "kxd refuses to start"
	[[ "$stderr" == *"--pool-image $FX/kxpool-wrongkey.kxe: boot of the pool placeholder kxpool denied"* ]] ||
		explain "... saying why"
}

@test "recycle: kxd --pvm-timeout counts from the recycled start, not from the pool boot" {
	stop_kxd
	start_kxd --pool-image "$FX/kxpool.kxe" --pvm-timeout 2
	wait_for pool_ready recycprobe 1 || explain "pool"
	sleep 3 # longer than the timeout: a pool pVM's idle time does not count
	pool_ready recycprobe 1 || explain "the idle pool pVM was ended"
	# (a hang guard only: kxctl killed after 60 s would be 137, not 124)
	run --separate-stderr timeout --preserve-status -s KILL 60 "$KXCTL" run --socket "$SOCK" \
		--recycle "$FX/librecycprobe.so" spin 12345678
	[ "$status" -eq 124 ] || explain "the recycled app times out like any pVM (kxmon's 124)"
	[[ "$output" == *"recycprobe: spinning"* ]] || explain "it ran first"
	[[ "$stderr" == *"timed out after 2 s"* ]] || explain "kxmon's report on the client's stderr"
}
