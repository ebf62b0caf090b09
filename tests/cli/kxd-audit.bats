#!/usr/bin/env bats
# kxd's audit log as an auditor meets it: the seal key made at the first
# start and kept beside the log, the chain sealed at stop and at intervals,
# `kxctl audit verify` on an intact, an edited, a cut and a rotated log, and
# a log whose file system fills up (a tmpfs this test mounts: root only).
# The pVMs are tests/data/kxd/fake-kxmon: no KVM needed.

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

setup_file() {
	kxd_fixture
	# mnt: an app with one host directory, for the mount requests' test
	mkdir -p "$FX/share"
	cat > "$FX/mnt.yaml" <<-EOF
		kx-manifest: 1
		app: mnt
		image: mnt.kxe
		memory: 16M
		keys:
		  acme: $KX_ROOT/manifests/keys/acme.pub
		files:
		  - { guest: /share, host: $FX/share, mode: rw, max: 1M }
	EOF
	"$KX_BIN/kxpolicy" compile --serial 1 -o "$FX/kx.kxp" "$FX/hello.yaml" "$FX/exit.yaml" \
		"$FX/mnt.yaml" >/dev/null
	"$KXSIGN" sign -s "$SECS/acme.sec" --name mnt --version 1.0 -o "$FX/mnt.kxe" \
		"$KX_BUILD/guest/hello.kxe" >/dev/null
}

setup() {
	export KXD_LIBDIR=$FX/lib # fake-kxmon compares what it gets with these files
}

teardown() {
	stop_kxd
	if [ -n "${MNT:-}" ] && mountpoint -q "$MNT"; then
		umount "$MNT"
	fi
}

# verify ARGS...: kxctl audit verify
verify() {
	run --separate-stderr "$KXCTL" audit verify "$@"
}

@test "seal key: made at the first start beside the log, 0600, reused later" {
	start_kxd --monitor "$FAKE" 2> "$BATS_TEST_TMPDIR/start.err"
	key=$BATS_TEST_TMPDIR/audit-seal.key
	pub=$BATS_TEST_TMPDIR/audit-seal.pub
	[ -f "$key" ] && [ -f "$pub" ] || explain "both halves beside the log"
	[ "$(stat -c %a "$key")" = 600 ] || explain "secret half 0600"
	grep -q "new audit seal key [0-9a-f]\{16\}: public half $pub" "$BATS_TEST_TMPDIR/start.err" ||
		explain "printed at the first start"
	id=$(sed -n 's/.*new audit seal key \([0-9a-f]*\).*/\1/p' "$BATS_TEST_TMPDIR/start.err")
	grep -q "\"event\":\"open\",\"key\":\"$id\"" "$AUDIT" || explain "the open record names it"
	grep -q "$id" "$pub" || explain "the public half beside the log is that key"
	stop_kxd
	sum=$(sha256sum "$key")
	start_kxd --monitor "$FAKE" 2> "$BATS_TEST_TMPDIR/start.err"
	[ "$(sha256sum "$key")" = "$sum" ] || explain "the key is kept"
	! grep -q "new audit seal key" "$BATS_TEST_TMPDIR/start.err" || explain "no new key later"
	[ "$(grep -c "\"event\":\"open\",\"key\":\"$id\"" "$AUDIT")" -eq 2 ] ||
		explain "the second run seals with the same key"
}

@test "verify: an intact log; an edited, a dropped and a cut record are named; another key fails" {
	start_kxd --monitor "$FAKE"
	ctl run "$FX/hello.kxe" exit 0
	ctl run --app hello "$FX/unsigned.kxe"
	ctl run "$FX/hello.kxe" exit 0
	stop_kxd
	tail -1 "$AUDIT" | grep -q '"event":"close"' || explain "kxd seals the log when it stops"
	verify "$AUDIT"
	[ "$status" -eq 0 ] && [[ "$output" == "ok: "*" records, 1 seals, 1 file" ]] || explain "intact"
	n=$(wc -l < "$AUDIT")
	# edited: the unsigned boot's denial turned into an allow
	sed '3s/"decision":"deny"/"decision":"allow"/' "$AUDIT" > "$BATS_TEST_TMPDIR/edited.log"
	! cmp -s "$AUDIT" "$BATS_TEST_TMPDIR/edited.log" || explain "the edit took"
	verify --key "$BATS_TEST_TMPDIR/audit-seal.pub" "$BATS_TEST_TMPDIR/edited.log"
	[ "$status" -eq 1 ] && [[ "$stderr" == *"edited.log:4: record 3 ("*"edited.log:3) was edited"* ]] ||
		explain "edited"
	sed '2d' "$AUDIT" > "$BATS_TEST_TMPDIR/dropped.log"
	verify --key "$BATS_TEST_TMPDIR/audit-seal.pub" "$BATS_TEST_TMPDIR/dropped.log"
	[ "$status" -eq 1 ] && [[ "$stderr" == *"dropped.log:2: record 2 was dropped"* ]] || explain "dropped"
	head -n $((n - 1)) "$AUDIT" > "$BATS_TEST_TMPDIR/cut.log"
	verify --key "$BATS_TEST_TMPDIR/audit-seal.pub" "$BATS_TEST_TMPDIR/cut.log"
	[ "$status" -eq 1 ] && [[ "$stderr" == *"no closing seal follows: the log was cut off"* ]] ||
		explain "cut"
	verify --key "$KX_ROOT/manifests/keys/acme.pub" "$AUDIT"
	[ "$status" -eq 1 ] && [[ "$stderr" == *"not a key given"* ]] || explain "another key"
	verify "$BATS_TEST_TMPDIR/nonexistent/audit.log"
	[ "$status" -eq 2 ] && [[ "$stderr" == *"pass --key"* ]] || explain "no key beside the log"
}

@test "stop: kxctl stop returns only once the closing seal is written" {
	# kxd used to close its clients first and seal after, so a script's
	# `kxctl stop; kxctl audit verify` could find the log unsealed.  Read
	# with a builtin (no fork) at once, several times, to meet the window.
	for i in 1 2 3 4 5 6 7 8; do
		start_kxd --monitor "$FAKE"
		ctl run "$FX/hello.kxe" exit 0
		"$KXCTL" stop --socket "$SOCK"
		mapfile -t log < "$AUDIT"
		[[ "${log[-1]}" == *'"event":"close"'* ]] ||
			explain "round $i: the last record when kxctl stop returned: ${log[-1]}"
	done
}

@test "rotate: the operator moves the log away, kxd seals it and goes on in a new file" {
	start_kxd --monitor "$FAKE" --audit-seal 1
	ctl run "$FX/hello.kxe" exit 0
	# kxd seals within its interval when records were written
	wait_for grep -q '"event":"seal"' "$AUDIT" || explain "an interval seal"
	verify --live "$AUDIT"
	[ "$status" -eq 0 ] || explain "a live log verifies with --live"
	mv "$AUDIT" "$AUDIT.1"
	run --separate-stderr "$KXCTL" audit rotate --socket "$SOCK"
	[ "$status" -eq 0 ] && [ "$output" = "$AUDIT" ] || explain "rotate"
	tail -1 "$AUDIT.1" | grep -q '"event":"rotate"' || explain "the old file ends in a seal"
	ctl run "$FX/hello.kxe" exit 0
	stop_kxd
	verify "$AUDIT.1" "$AUDIT"
	[ "$status" -eq 0 ] && [[ "$output" == *", 2 files" ]] || explain "one chain over both files"
	verify "$AUDIT" "$AUDIT.1"
	[ "$status" -eq 1 ] || explain "the files in the wrong order"
	verify "$AUDIT"
	[ "$status" -eq 0 ] && [[ "$output" == *"continues the chain of an earlier file"* ]] ||
		explain "the newer file alone says it continues"
}

@test "disk full: no torn record, boots denied, and the loss is told once there is room" {
	[ "$(id -u)" -eq 0 ] || skip "mounting a tmpfs needs root"
	MNT=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$MNT"
	mount -t tmpfs -o size=64k tmpfs "$MNT" || skip "cannot mount a tmpfs here"
	SOCK=$BATS_TEST_TMPDIR/kxd.sock
	AUDIT=$MNT/audit.log
	"$KXD" --policy "$FX/kx.kxp" --socket "$SOCK" --audit-log "$AUDIT" --libdir "$FX/lib" \
		--monitor "$FAKE"
	ctl run "$FX/hello.kxe" exit 0
	[ "$status" -eq 0 ] || explain "a boot with room"
	dd if=/dev/zero of="$MNT/filler" bs=1k count=64 2>/dev/null || true
	# the log's last page may still take a few records
	for i in $(seq 20); do
		before=$(stat -c %s "$AUDIT")
		ctl run "$FX/hello.kxe" exit 0
		[ "$status" -eq 0 ] || break
	done
	[ "$status" -eq 1 ] && [[ "$stderr" == *"could not be written"* ]] || explain "denied: no room"
	[ "$(stat -c %s "$AUDIT")" -eq "$before" ] || explain "the log is cut back: nothing torn"
	ctl run "$FX/hello.kxe" exit 0
	[ "$status" -eq 1 ] || explain "denied again"
	[ "$(stat -c %s "$AUDIT")" -eq "$before" ] || explain "cut back again"
	rm "$MNT/filler"
	ctl run "$FX/hello.kxe" exit 0
	[ "$status" -eq 0 ] || explain "room again: allowed"
	run --separate-stderr "$KXCTL" audit --log "$AUDIT"
	[ "$status" -eq 0 ] || explain "no corrupt line"
	[[ "$output" == *"audit   unlogged 2: 2 decisions were denied because their records could not be written (No space left on device)"* ]] ||
		explain "the first record says what was lost"
	stop_kxd
	verify "$AUDIT"
	[ "$status" -eq 0 ] || explain "the chain is whole"
}

@test "audit with no kxd says to use --log" {
	SOCK=$BATS_TEST_TMPDIR/none.sock
	ctl audit
	[ "$status" -eq 2 ] && [[ "$stderr" == *"no kxd answers on $SOCK"*"use --log PATH"* ]] ||
		explain "names --log"
}

@test "kx_dlopen of a hostile or missing name: audited, and kxd's own log cannot be forged" {
	start_kxd --monitor "$FAKE"
	ctl run "$FX/hello.kxe" link $'lib\nALLOW link fake' nothere.so ../x.so
	[ "$status" -eq 0 ] || explain "want 0"
	ctl audit
	[[ "$output" == *"link    pvm 1 (hello) -> pvm 1 (hello) lib lib\x0aALLOW link fake DENY - (request)"* ]] ||
		explain "the hostile name, audited and shown inert"
	[[ "$output" == *"lib nothere.so DENY - (request): library nothere.so: not found in any --libdir"* ]] ||
		explain "a missing library is audited"
	[[ "$output" == *"lib ../x.so DENY - (request): library name '../x.so' refused"* ]] ||
		explain "a refused name is audited"
	stop_kxd
	grep -q 'lib\\x0aALLOW link fake' "$SOCK.log" || explain "kxd's log escapes the name"
	! grep -v '^kxd: ' "$SOCK.log" || explain "every line of kxd's log is its own"
}

@test "one persistent default log: kxd by hand and kxd started by kxctl run write the same file" {
	[ "$(id -u)" -eq 0 ] || skip "a private /run and /var/log need root (unshare -m)"
	unshare -m true 2>/dev/null || skip "no mount namespaces here"
	# a private /run and /var/log: the host's are not touched
	cat > "$BATS_TEST_TMPDIR/inside.sh" <<-INSIDE
	set -e
	mount --make-rprivate /
	mount -t tmpfs tmpfs /run
	mount -t tmpfs tmpfs /var/log
	"$KXD" --policy "$FX/kx.kxp" --libdir "$FX/lib" --monitor "$FAKE"
	"$KXCTL" run "$FX/hello.kxe" exit 0
	"$KXCTL" stop
	"$KXCTL" audit 2>&1 || true
	"$KXCTL" run --policy "$FX/kx.kxp" --libdir "$FX/lib" --kxd "$KXD" "$FX/hello.kxe" exit 0 || true
	"$KXCTL" audit --json > "$BATS_TEST_TMPDIR/via-socket.log"
	"$KXCTL" stop
	cp /var/log/kx/audit.log "$BATS_TEST_TMPDIR/persistent.log"
	ls /run/kx > "$BATS_TEST_TMPDIR/run-kx.txt"
	INSIDE
	run --separate-stderr unshare -m bash "$BATS_TEST_TMPDIR/inside.sh"
	[ "$status" -eq 0 ] || explain "inside the namespace"
	[[ "$output" == *"no kxd answers on /run/kx/kxd.sock"*"use --log PATH"* ]] ||
		explain "kxctl audit with no kxd names --log"
	[ "$(grep -c '"event":"open"' "$BATS_TEST_TMPDIR/persistent.log")" -eq 2 ] ||
		explain "both kxds opened /var/log/kx/audit.log"
	[ "$(grep -c '"op":"boot"' "$BATS_TEST_TMPDIR/persistent.log")" -eq 2 ] ||
		explain "both boots are in it"
	cmp <(head -n "$(wc -l < "$BATS_TEST_TMPDIR/via-socket.log")" "$BATS_TEST_TMPDIR/persistent.log") \
		"$BATS_TEST_TMPDIR/via-socket.log" || explain "kxctl audit reads that file"
	! grep -q audit.log "$BATS_TEST_TMPDIR/run-kx.txt" || explain "nothing in /run/kx"
}

@test "flooding: a pVM over its audit rate gets errors, one suppressed record, and kxctl list shows it" {
	start_kxd --monitor "$FAKE" --audit-rate 1/10
	ctl run "$FX/hello.kxe" dlopen $(for i in $(seq 40); do printf 'nothere.so '; done)
	[ "$status" -eq 0 ] || explain "want 0"
	refused=$(grep -c "over the pVM's audit rate" <<<"$output")
	recorded=$(grep -c "not found in any --libdir" <<<"$output")
	[ "$((refused + recorded))" -eq 40 ] || explain "every request answered"
	[ "$refused" -ge 25 ] && [ "$recorded" -ge 10 ] || explain "the burst, then refusals"
	ctl list
	[[ "$output" == *"(audit: $refused requests over its rate refused)"* ]] || explain "list"
	ctl list --json
	[[ "$output" == *"\"audit_suppressed\": $refused"* ]] || explain "list --json"
	stop_kxd
	[ "$(grep -c '"op":"link"' "$AUDIT")" -eq "$recorded" ] || explain "one record per decided link"
	grep -q "\"event\":\"suppressed\",\"subject\":{\"kind\":\"pvm\",\"pvm\":1,[^}]*},\"count\":$refused," "$AUDIT" ||
		explain "one suppressed record with the count"
	grep -q "pVM 1 (hello): over its audit rate" "$SOCK.log" || explain "kxd's log says so"
	verify "$AUDIT"
	[ "$status" -eq 0 ] || explain "the chain is whole"
}

# burst MODE N: N denied boots (unsigned images) sent while kxd is stopped,
# so that all of them are waiting when it goes on; every client's request
# is in its socket (ss: Send-Q, bytes sent and not yet read) before kxd is
# let go.  kxd runs in the foreground here: its pid, and its log in
# $BATS_TEST_TMPDIR/kxd.err.
burst() {
	local mode=$1 n=$2 pids=() i p
	SOCK=$BATS_TEST_TMPDIR/kxd.sock
	AUDIT=$BATS_TEST_TMPDIR/audit.log
	"$KXD" --foreground --policy "$FX/kx.kxp" --socket "$SOCK" --audit-log "$AUDIT" \
		--libdir "$FX/lib" --monitor "$FAKE" --audit-sync "$mode" \
		2> "$BATS_TEST_TMPDIR/kxd.err" &
	KXD_PID=$!
	wait_for test -S "$SOCK"
	wait_for "$KXCTL" list --socket "$SOCK" >/dev/null 2>&1
	kill -STOP "$KXD_PID"
	for i in $(seq "$n"); do
		"$KXCTL" run --socket "$SOCK" --app hello "$FX/unsigned.kxe" \
			> "$BATS_TEST_TMPDIR/run.$i" 2>&1 &
		pids+=($!)
	done
	sent() {
		local p
		for p in "${pids[@]}"; do
			ss -xapH | grep "pid=$p," | awk '$4 > 0 { found = 1 } END { exit !found }' ||
				return 1
		done
	}
	wait_for sent || { kill -CONT "$KXD_PID"; explain "the clients did not send"; }
	kill -CONT "$KXD_PID"
	for p in "${pids[@]}"; do
		wait "$p" || true
	done
	"$KXCTL" stop --socket "$SOCK"
	wait "$KXD_PID"
}

# flushes: M of kxd's "audit log PATH: N records, M flushes" at its stop
flushes() {
	sed -n 's/.*audit log .*: [0-9]* records, \([0-9]*\) flushes$/\1/p' "$BATS_TEST_TMPDIR/kxd.err"
}

@test "group commit: decisions that arrive together share one fdatasync, each answered after it" {
	burst group 6
	for i in $(seq 6); do
		grep -q "denied" "$BATS_TEST_TMPDIR/run.$i" || explain "client $i got its refusal"
	done
	[ "$(grep -c '"op":"boot".*"decision":"deny"' "$AUDIT")" -eq 6 ] ||
		explain "six boot records"
	# the open record's flush, then one for the six
	[ "$(flushes)" = 2 ] || { cat "$BATS_TEST_TMPDIR/kxd.err"; explain "flushes: $(flushes)"; }
	verify "$AUDIT"
	[ "$status" -eq 0 ] || explain "the chain is whole"
}

@test "group commit: always still flushes once per decision (the same burst)" {
	burst always 6
	[ "$(grep -c '"op":"boot".*"decision":"deny"' "$AUDIT")" -eq 6 ] ||
		explain "six boot records"
	[ "$(flushes)" = 7 ] || { cat "$BATS_TEST_TMPDIR/kxd.err"; explain "flushes: $(flushes)"; }
}

# policy_with_audit RATE BURST: $BATS_TEST_TMPDIR/kx.kxp, the fixture's
# policy with hello's manifest given `audit: {rate: RATE, burst: BURST}`
policy_with_audit() {
	{ cat "$FX/hello.yaml"; printf 'audit: {rate: %s, burst: %s}\n' "$1" "$2"; } \
		> "$BATS_TEST_TMPDIR/hello.yaml"
	"$KX_BIN/kxpolicy" compile --serial 1 -o "$BATS_TEST_TMPDIR/kx.kxp" \
		"$BATS_TEST_TMPDIR/hello.yaml" "$FX/exit.yaml" >/dev/null
}

# start_kxd_on NAME [kxd options]: a kxd on the test's kx.kxp, its own socket and log
start_kxd_on() {
	SOCK=$BATS_TEST_TMPDIR/$1.sock
	AUDIT=$BATS_TEST_TMPDIR/$1.log
	shift
	"$KXD" --policy "$BATS_TEST_TMPDIR/kx.kxp" --socket "$SOCK" --audit-log "$AUDIT" \
		--libdir "$FX/lib" --monitor "$FAKE" "$@"
}

# flood: hello asks for 40 libraries that do not exist (a refusal each)
flood() {
	ctl run "$FX/hello.kxe" dlopen $(for i in $(seq 40); do printf 'nothere.so '; done)
	[ "$status" -eq 0 ] || explain "want 0"
	refused=$(grep -c "over the pVM's audit rate" <<<"$output" || true)
	recorded=$(grep -c "not found in any --libdir" <<<"$output" || true)
	[ "$((refused + recorded))" -eq 40 ] || explain "every request answered"
}

@test "audit rate from the policy: a manifest's low rate suppresses a flooder sooner than kxd's default" {
	# kxd's default (20 a second, 100 at once): forty refusals are all recorded
	start_kxd --monitor "$FAKE"
	flood
	[ "$refused" -eq 0 ] && [ "$recorded" -eq 40 ] || explain "default: none suppressed"
	stop_kxd
	# the same kxd defaults, hello's manifest says 1 a second, 5 at once
	policy_with_audit 1 5
	run "$KX_BIN/kxpolicy" dump "$BATS_TEST_TMPDIR/kx.kxp"
	[[ "$output" == *"  audit rate 1 a second, burst 5  @ "*"hello.yaml:"* ]] || explain "dump shows it"
	run "$KX_BIN/kxpolicy" dump --json "$BATS_TEST_TMPDIR/kx.kxp"
	[[ "$output" == *'"audit": {"rate": 1, "burst": 5}'* ]] || explain "dump --json shows it"
	run "$KX_BIN/kxpolicy" explain "$BATS_TEST_TMPDIR/kx.kxp" boot app=hello
	[[ "$output" == *"audit: hello's pVMs: 1 refusals a second, 5 at once"* ]] ||
		explain "explain shows it"
	run "$KX_BIN/kxpolicy" explain "$BATS_TEST_TMPDIR/kx.kxp" boot app=exit
	[[ "$output" == *"audit: exit's pVMs: kxd's --audit-rate"* ]] || explain "exit sets none"
	start_kxd_on low
	flood
	[ "$recorded" -ge 5 ] && [ "$refused" -ge 1 ] || explain "the manifest's burst of 5, then refusals"
	stop_kxd
	grep -q '"event":"suppressed".*"reason":"[^"]*pVM 1 was over its audit rate (1 a second, at most 5)"' "$AUDIT" ||
		explain "the suppressed record names the manifest's rate"
}

@test "audit rate from the policy: kxd's --audit-rate is the ceiling" {
	policy_with_audit 1000 1000
	start_kxd_on ceiling --audit-rate 1/10
	flood
	[ "$recorded" -ge 10 ] && [ "$refused" -ge 1 ] || explain "the flag's burst of 10, then refusals"
	stop_kxd
	grep -q "over its audit rate (1 a second, at most 10)" "$AUDIT" ||
		explain "the flag's rate and burst, not the manifest's"
}

# A monitor asks its host directories once, at boot, in order, until kxd's
# "no more" (files.c); each is an audited decision the policy's rules bound,
# so they are not charged to the audit rate.  A request after that (a
# monitor its guest took over, asking for a directory fd outside its
# Landlock wall, or flooding the log with decisions) is malformed: the pVM
# ends and nothing is decided or audited.
@test "host directories: mounts are asked once, in order, at boot; a later request ends the pVM unaudited" {
	start_kxd --monitor "$FAKE"
	ctl run "$FX/mnt.kxe" mount 0 1
	[ "$status" -eq 0 ] || explain "the boot's requests"
	[ "${lines[0]}" = "MOUNT 0: 0 /share rw=1 fds=1" ] && [ "${lines[1]}" = "MOUNT 1: -2 " ] ||
		explain "granted, then no more"
	[ "$(grep -c '"op":"file"' "$AUDIT")" -eq 1 ] || explain "one decision audited"
	# again after "no more": the boot is over
	ctl run "$FX/mnt.kxe" mount 0 1 0
	[ "$status" -eq 137 ] && [[ "$stderr" == *"FS_MOUNT_REQ out of order, or after the pVM's mounts were settled"* ]] ||
		explain "a request after the mounts were settled ends the pVM"
	[ "${lines[0]}" = "MOUNT 0: 0 /share rw=1 fds=1" ] && [ "${#lines[@]}" -eq 2 ] ||
		explain "answered up to the refused one"
	# out of order: the first, or the one granted asked again
	ctl run "$FX/mnt.kxe" mount 1
	[ "$status" -eq 137 ] && [ "${#lines[@]}" -eq 0 ] || explain "mount 1 first"
	ctl run "$FX/mnt.kxe" mount 0 0
	[ "$status" -eq 137 ] && [ "${#lines[@]}" -eq 1 ] || explain "mount 0 twice"
	# an app without host directories: "no more" at once, then nothing
	ctl run "$FX/hello.kxe" mount 0 0
	[ "$status" -eq 137 ] && [ "${lines[0]}" = "MOUNT 0: -2 " ] || explain "hello"
	[ "$(grep -c '"op":"file"' "$AUDIT")" -eq 3 ] || explain "only the expected requests decided"
	[ "$(grep -c 'malformed message on its channel: FS_MOUNT_REQ' "$SOCK.log")" -eq 4 ] ||
		explain "each refusal logged"
	ctl run "$FX/mnt.kxe" mount 0 1
	[ "$status" -eq 0 ] || explain "kxd still serves"
}

# Boot links (the image's DT_NEEDED tree) are not charged to the audit rate:
# the signed image bounds them.  But "at boot" is the monitor's word, so kxd
# takes such a request only before the mounts are settled (the monitor links
# first, then asks for its mounts) and at most 64 of them (a pVM's modules);
# a monitor its guest took over could otherwise write uncharged records
# without end.  Before: every such request was decided and audited.
@test "boot links: only before the mounts are settled, at most 64; more ends the pVM" {
	start_kxd --monitor "$FAKE"
	ctl run "$FX/mnt.kxe" mount link:nothere.so 0 1 link:nothere.so
	[ "$status" -eq 137 ] || explain "a boot link after the mounts ends the pVM"
	[[ "${lines[0]}" == "DENY nothere.so: "* ]] && [ "${lines[1]}" = "MOUNT 0: 0 /share rw=1 fds=1" ] &&
		[ "${#lines[@]}" -eq 3 ] || explain "the first boot link answered, the last not"
	[ "$(grep -c 'nothere.so' "$AUDIT")" -eq 1 ] || explain "one link decided"
	names=$(for i in $(seq 65); do printf 'nothere.so '; done)
	ctl run "$FX/hello.kxe" link $names
	[ "$status" -eq 137 ] && [ "${#lines[@]}" -eq 64 ] || explain "64 answered, the 65th ends it"
	[ "$(grep -c 'malformed message on its channel: LINK_REQ at boot' "$SOCK.log")" -eq 2 ] ||
		explain "each refusal logged"
	ctl run "$FX/hello.kxe" link nothere.so
	[ "$status" -eq 0 ] || explain "kxd still serves"
}
