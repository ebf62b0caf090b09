#!/usr/bin/env bats
# kxd: the daemon and the kxctl verbs around it — start-up checks, the
# control socket, denied boots, the channel protocol (link requests,
# operator pushes, malformed messages) and the audit trail.  The pVM side
# is tests/data/kxd/fake-kxmon, which speaks the channel without KVM, so
# these run on any host; tests/cli/kxd-kvm.bats runs real pVMs.

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

setup_file() {
	kxd_fixture
}

setup() {
	export KXD_LIBDIR=$FX/lib # fake-kxmon compares what it gets with these files
}

teardown() {
	stop_kxd
}

# pvm_running ID: kxd lists pVM ID as running
pvm_running() {
	"$KXCTL" list --socket "$SOCK" | grep -q "^$1 .* running "
}

@test "--backend: a name that is no backend's is a usage error (2)" {
	run "$KXD" --policy "$FX/kx.kxp" --socket "$BATS_TEST_TMPDIR/s" --backend "x en"
	[ "$status" -eq 2 ] || explain "want 2"
	[[ "$output" == *"kxd: --backend: want a backend's name (kvm, xen)"* ]] || explain "message"
}

@test "start: socket 0600 in a 0700 directory it creates, audit log, stop removes the socket" {
	SOCK=$BATS_TEST_TMPDIR/run/kx/kxd.sock
	mkdir -p "$BATS_TEST_TMPDIR/run"
	run "$KXD" --policy "$FX/kx.kxp" --socket "$SOCK" --monitor "$FAKE"
	[ "$status" -eq 0 ] || explain "kxd did not start"
	[ "$(stat -c %a "$SOCK")" = 600 ] || explain "socket mode"
	[ "$(stat -c %a "$(dirname "$SOCK")")" = 700 ] || explain "directory mode"
	[ -f "$(dirname "$SOCK")/audit.log" ] || explain "default audit log beside the socket"
	run "$KXCTL" stop --socket "$SOCK"
	[ "$status" -eq 0 ] && [ ! -e "$SOCK" ] || explain "stop"
}

@test "start: a bad policy is refused with the reader's message" {
	head -c 300 /dev/urandom > "$BATS_TEST_TMPDIR/bad.kxp"
	run "$KXD" --policy "$BATS_TEST_TMPDIR/bad.kxp" --socket "$BATS_TEST_TMPDIR/s" --foreground
	[ "$status" -eq 1 ] || explain "want 1"
	[[ "$output" == "kxd: $BATS_TEST_TMPDIR/bad.kxp: "* ]] || explain "names the file"
	[ ! -e "$BATS_TEST_TMPDIR/s" ] || explain "no socket for a refused policy"
	run "$KXD" --policy "$FX/kx.kxp" --admin-key "$KX_ROOT/manifests/keys/acme.pub" \
		--socket "$BATS_TEST_TMPDIR/s" --foreground
	[ "$status" -eq 1 ] || explain "an unsigned policy with --admin-key"
	[[ "$output" == *kx.kxp:* ]] || explain "names the policy"
	run "$KXD" --socket "$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 2 ] || explain "--policy is required"
}

@test "start: refused while another kxd answers; a stale socket is replaced" {
	start_kxd --monitor "$FAKE"
	run "$KXD" --policy "$FX/kx.kxp" --socket "$SOCK" --foreground
	[ "$status" -eq 1 ] && [[ "$output" == *"another kxd answers on $SOCK"* ]] ||
		explain "second kxd"
	"$KXCTL" stop --socket "$SOCK"
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1])' "$SOCK"
	[ -S "$SOCK" ]
	start_kxd --monitor "$FAKE"
	ctl list
	[ "$status" -eq 0 ] || explain "kxd over a stale socket"
	touch "$BATS_TEST_TMPDIR/plain"
	run "$KXD" --policy "$FX/kx.kxp" --socket "$BATS_TEST_TMPDIR/plain" --foreground
	[ "$status" -eq 1 ] && [[ "$output" == *"exists and is not a socket"* ]] ||
		explain "never removes a file that is not a socket"
}

@test "run: denied boots (unsigned, wrong key, unknown app) say why, exit 1, and are audited" {
	start_kxd --monitor "$FAKE"
	ctl run --app hello "$FX/unsigned.kxe"
	[ "$status" -eq 1 ] && [[ "$stderr" == *"boot of hello denied: signature unsigned"* ]] ||
		explain "unsigned"
	ctl run "$FX/wrongkey.kxe"
	[ "$status" -eq 1 ] && [[ "$stderr" == *"boot of hello denied: "*"99995c1484c2b896"*"does not trust"*"(rule $FX/hello.yaml:"[0-9]*")" ]] ||
		explain "wrong key: names the key, the rule and its line"
	ctl run "$FX/unknown.kxe"
	[ "$status" -eq 1 ] && [[ "$stderr" == *"boot of nobody denied: app 'nobody' is not in the policy"* ]] ||
		explain "unknown app"
	ctl audit --json
	[ "$status" -eq 0 ] || explain "audit"
	[ "$(grep -c '"op":"boot"' <<<"$output")" -eq 3 ] || explain "three boot records"
	[ "$(grep -c '"decision":"deny"' <<<"$output")" -eq 3 ] || explain "all denied"
	ctl list --json
	[ "$output" = "[]" ] || explain "a denied boot leaves no pVM"
}

@test "link at boot: an allowed library is a sealed memfd of exactly its bytes, with bind and version" {
	start_kxd --monitor "$FAKE"
	ctl run "$FX/hello.kxe" link libkvtest.so libkvnow.so
	[ "$status" -eq 0 ] || explain "want 0"
	[[ "${lines[0]}" == "ALLOW libkvtest.so 1.2 bind=0 size="*" sealed=1 same=1 ino="* ]] ||
		explain "libkvtest: lazy, 1.2, sealed, same bytes"
	[[ "${lines[1]}" == "ALLOW libkvnow.so 1.0 bind=1 "*" sealed=1 same=1 "* ]] ||
		explain "libkvnow: bind now"
	ctl audit
	[[ "$output" == *"link    pvm 1 (hello) -> pvm 1 (hello) lib libkvtest 1.2 ALLOW $FX/hello.yaml:"* ]] ||
		explain "the link is audited with the pVM as subject"
	ctl list
	[[ "$output" == *"libkvtest 1.2 "*", libkvnow 1.0 "* ]] || explain "the registry keeps the libraries"
}

@test "link at boot: unsigned, wrong-key, revoked and out-of-range libraries are denied and audited" {
	start_kxd --monitor "$FAKE"
	ctl run "$FX/hello.kxe" link libkvunsigned.so libkvwrong.so libkvold.so libkvnew.so
	[ "$status" -eq 0 ] || explain "the fake exits 0"
	[[ "${lines[0]}" == "DENY libkvunsigned.so: link of libkvunsigned.so into pVM 1 (hello) denied: signature unsigned"* ]] ||
		explain "unsigned"
	[[ "${lines[1]}" == "DENY libkvwrong.so: "*"signed by key 99995c1484c2b896, which app hello does not trust"*"(rule $FX/hello.yaml:31)" ]] ||
		explain "wrong key, with the rule's line"
	[[ "${lines[2]}" == "DENY libkvold.so: "*"which app hello revokes (rule $FX/hello.yaml:"[0-9]*")" ]] ||
		explain "revoked digest"
	[[ "${lines[3]}" == "DENY libkvnew.so: "*"version 2.0 of library libkvnew is outside '>= 1 && < 2' (rule $FX/hello.yaml:27)" ]] ||
		explain "out of range"
	ctl audit --json
	[ "$(grep -c '"op":"link".*"decision":"deny"' <<<"$output")" -eq 4 ] || explain "four denials recorded"
}

@test "link at boot: names with '/' or a leading '.', and missing files, are refused" {
	start_kxd --monitor "$FAKE"
	ctl run "$FX/hello.kxe" link ../libkvtest.so .libkvtest.so lib/x.so nothere.so
	[ "$status" -eq 0 ] || explain "want 0"
	[[ "${lines[0]}" == "DENY ../libkvtest.so: library name '../libkvtest.so' refused"* ]] || explain ".."
	[[ "${lines[1]}" == "DENY .libkvtest.so: library name"*refused* ]] || explain "leading dot"
	[[ "${lines[2]}" == "DENY lib/x.so: library name"*refused* ]] || explain "slash"
	[[ "${lines[3]}" == "DENY nothere.so: library nothere.so: not found in any --libdir" ]] ||
		explain "missing"
}

@test "library store: one sealed memfd per content, shared by every pVM that links it" {
	start_kxd --monitor "$FAKE"
	ctl run "$FX/hello.kxe" link libkvtest.so
	first=$(sed -n 's/.* ino=//p' <<<"$output")
	ctl run "$FX/hello.kxe" link libkvtest.so libkvnow.so
	[ -n "$first" ] && [ "$(sed -n '1s/.* ino=//p' <<<"$output")" = "$first" ] ||
		explain "the same memfd for the same library"
	[ "$(sed -n '2s/.* ino=//p' <<<"$output")" != "$first" ] || explain "another one for another file"
}

@test "kxctl link: the operator's push is decided as class any, mapped, and listed" {
	start_kxd --monitor "$FAKE"
	"$KXCTL" run --socket "$SOCK" "$FX/hello.kxe" wait > "$BATS_TEST_TMPDIR/console" 2>&1 &
	wait_for pvm_running 1 || explain "pVM 1 never ran"
	ctl link 1 libkvtest.so
	[ "$status" -eq 1 ] && [[ "$stderr" == *"link of libkvtest.so into pVM 1 (hello) denied: a loader of relation 'any' may not link library libkvtest"*"(rule $FX/hello.yaml:"* ]] ||
		explain "libkvtest is loader self: the operator may not"
	ctl link 1 libkvpush.so
	[ "$status" -eq 0 ] && [ "$output" = "linked libkvpush 1.0 into pVM 1" ] || explain "push"
	wait_for grep -q "^PUSH ALLOW libkvpush.so 1.0 bind=0 .* sealed=1 same=1" "$BATS_TEST_TMPDIR/console" ||
		{ cat "$BATS_TEST_TMPDIR/console"; explain "the pVM got the sealed library"; }
	ctl list
	[[ "$output" == *"libkvpush 1.0"* ]] || explain "listed"
	ctl audit
	[[ "$output" == *"link    operator uid $(id -u) -> pvm 1 (hello) lib libkvpush 1.0 ALLOW"* ]] ||
		explain "audited with the operator as subject"
	ctl link 7 libkvpush.so
	[ "$status" -eq 1 ] && [[ "$stderr" == *"no running pVM 7"* ]] || explain "unknown id"
	ctl link 1 ../x
	[ "$status" -eq 2 ] || explain "a bad name is a usage error"
	ctl kill 1
	[ "$status" -eq 0 ] || explain "kill"
	wait %1 || status=$?
	[ "$status" -eq 137 ] || explain "kxctl run exits 128+SIGKILL for a killed pVM"
	ctl kill 1
	[ "$status" -eq 1 ] || explain "already ended"
}

@test "kxctl link --as: decided for the requesting pVM (self, or another app: any), audited as it" {
	start_kxd --monitor "$FAKE"
	"$KXCTL" run --socket "$SOCK" "$FX/hello.kxe" wait > "$BATS_TEST_TMPDIR/console" 2>&1 &
	wait_for pvm_running 1 || explain "pVM 1 never ran"
	"$KXCTL" run --socket "$SOCK" "$FX/exit-app.kxe" wait > "$BATS_TEST_TMPDIR/console2" 2>&1 &
	wait_for pvm_running 2 || explain "pVM 2 never ran"
	ctl link --as 9 1 libkvtest.so
	[ "$status" -eq 1 ] && [ "$stderr" = "kxctl: no pVM 9" ] || explain "unknown requester"
	ctl link --as x 1 libkvtest.so
	[ "$status" -eq 2 ] || explain "a bad requester id is a usage error"
	ctl link --as 2 1 libkvtest.so
	[ "$status" -eq 1 ] && [[ "$stderr" == *"denied: a loader of relation 'any' may not link library libkvtest"* ]] ||
		explain "pVM 2 runs another app (exit): relation any, libkvtest is loader self"
	ctl link --as 1 1 libkvtest.so
	[ "$status" -eq 0 ] && [ "$output" = "linked libkvtest 1.2 into pVM 1" ] || explain "self push"
	wait_for grep -q "^PUSH ALLOW libkvtest.so 1.2 .* sealed=1 same=1" "$BATS_TEST_TMPDIR/console" ||
		{ cat "$BATS_TEST_TMPDIR/console"; explain "the pVM got the library"; }
	ctl audit
	[[ "$output" == *"link    pvm 2 (exit) -> pvm 1 (hello) lib libkvtest "*"DENY"* ]] ||
		explain "the denial, audited with pVM 2 as subject"
	[[ "$output" == *"link    pvm 1 (hello) -> pvm 1 (hello) lib libkvtest 1.2 ALLOW"* ]] ||
		explain "the push, audited with pVM 1 as its own requester"
	ctl kill 2
	[ "$status" -eq 0 ] || explain "kill 2"
	wait %2 || true # its kxctl run returns once kxd reaped it
	ctl link --as 2 1 libkvpush.so
	[ "$status" -eq 1 ] && [ "$stderr" = "kxctl: no pVM 2" ] || explain "an ended pVM asks nothing"
}

@test "channel: a malformed message ends that pVM only, and is logged" {
	start_kxd --monitor "$FAKE"
	for kind in short type nul fd; do
		ctl run "$FX/hello.kxe" garbage "$kind"
		[ "$status" -eq 137 ] || explain "$kind: the pVM is ended"
		[[ "$stderr" == *"ended by kxd: malformed channel message"* ]] || explain "$kind: said why"
	done
	ctl run "$FX/hello.kxe" exit 7
	[ "$status" -eq 7 ] || explain "kxd still serves"
	[ "$(grep -c 'malformed message on its channel' "$SOCK.log")" -eq 4 ] || explain "logged"
}

@test "run: the first kxctl run starts kxd with its options, later ones reuse it" {
	SOCK=$BATS_TEST_TMPDIR/auto.sock
	run --separate-stderr "$KXCTL" run --socket "$SOCK" "$FX/hello.kxe" exit 3
	[ "$status" -eq 2 ] && [[ "$stderr" == *"give --policy to start one"* ]] || explain "no policy"
	run --separate-stderr "$KXCTL" run --policy "$FX/kx.kxp" --libdir "$FX/lib" --socket "$SOCK" \
		--kxd "$KXD" "$FX/hello.kxe" exit 3
	# kxd's default monitor is the real kxmon beside it: no KVM needed to be refused
	[ -S "$SOCK" ] || explain "kxd started"
	ctl audit --json
	[[ "$output" == *'"op":"boot"'*'"decision":"allow"'* ]] || explain "the boot went through that kxd"
}

@test "audit: --follow prints records as they are appended; corrupt lines are reported" {
	start_kxd --monitor "$FAKE"
	"$KXCTL" audit --follow --socket "$SOCK" > "$BATS_TEST_TMPDIR/follow" &
	follower=$!
	ctl run "$FX/hello.kxe" exit 0
	wait_for grep -q "boot .* ALLOW" "$BATS_TEST_TMPDIR/follow" || explain "followed"
	kill "$follower"
	printf '{"v":1,"broken\n' >> "$AUDIT"
	ctl audit
	[ "$status" -eq 1 ] && [[ "$stderr" == *"audit log line 3: corrupt"* ]] || explain "corrupt line"
	[[ "$output" == *"boot    operator uid"* ]] || explain "the good record is still shown"
}

@test "audit: a log much larger than one read comes out whole; an overlong line is one corrupt line" {
	start_kxd --monitor "$FAKE"
	ctl run "$FX/hello.kxe" link libkvtest.so libkvnow.so
	big=$BATS_TEST_TMPDIR/big.log
	for i in $(seq 300); do cat "$AUDIT"; done > "$big"
	[ "$(stat -c %s "$big")" -gt 300000 ] || explain "the log is not big enough to test chunking"
	run "$KXCTL" audit --json --log "$big"
	[ "$status" -eq 0 ] || explain "want 0"
	cmp <(printf '%s\n' "$output") "$big" || explain "--json prints every record as written"
	{ head -c 70000 /dev/zero | tr '\0' x; echo; cat "$AUDIT"; } > "$big"
	run --separate-stderr "$KXCTL" audit --log "$big"
	[ "$status" -eq 1 ] && [[ "$stderr" == *"line 1: corrupt"* ]] || explain "overlong line"
	[ "${#lines[@]}" -eq "$(wc -l < "$AUDIT")" ] || explain "every record after it"
}

@test "kxctl: list/link/kill/stop/audit with no kxd, and bad ids" {
	SOCK=$BATS_TEST_TMPDIR/none.sock
	for verb in list stop; do
		ctl "$verb"
		[ "$status" -eq 1 ] && [[ "$stderr" == *"no kxd answers on $SOCK"* ]] || explain "$verb"
	done
	ctl kill 0
	[ "$status" -ne 0 ] || explain "kill 0"
	ctl kill
	[ "$status" -eq 2 ] || explain "kill without an id"
	run "$KXCTL" kill --help
	[ "$status" -eq 0 ] && [[ "$output" == "usage: kxctl kill [--socket S] [--signal N] ID"* ]] || explain "help"
}

# A forked pVM's HELLO comes from a monitor kxd did not fork.  kxd moves
# that process into the child's cgroup and kills it when the child ends, so
# the pid is the one the kernel names as the sender (SO_PASSCRED), never the
# message's: a monitor its guest took over used to name any pid — here an
# unrelated process, then kxd itself — and have root kxd move and kill it.
@test "fork: a child's HELLO naming a pid other than its sender's is refused; the process named lives" {
	fx=$BATS_TEST_TMPDIR
	sed -e "s|@APP@|forkfake|" -e "s|@KEYS@|$KX_ROOT/manifests/keys|" -e "s|@CHILDREN@|4|" \
		-e "s|@DEPTH@|2|" -e "s|@MEMBERS@|8|" "$KX_ROOT/tests/data/kxd/fork.yaml.in" \
		| sed "s|image: forkt.kxe|image: forkfake.kxe|" > "$fx/forkfake.yaml"
	"$KX_BIN/kxpolicy" compile --serial 1 -o "$fx/fork.kxp" "$fx/forkfake.yaml" >/dev/null
	"$KXSIGN" sign -s "$SECS/acme.sec" --name forkfake --version 1.0 -o "$fx/forkfake.kxe" \
		"$KX_BUILD/guest/hello.kxe" >/dev/null
	start_kxd --monitor "$FAKE" --policy "$fx/fork.kxp"
	setsid sleep 600 &
	victim=$!
	ctl run "$fx/forkfake.kxe" forkpid "$victim"
	[ "$output" = "child: channel closed" ] || explain "no JAIL_READY for a forged pid"
	kill -0 "$victim" || explain "kxd killed the process the HELLO named"
	kill "$victim"
	grep -q "malformed message on its channel: HELLO's pid is not its sender's" "$SOCK.log" ||
		explain "the refusal logged"
	kxd_pid=$(pgrep -o -f -- "--socket $SOCK")
	ctl run "$fx/forkfake.kxe" forkpid "$kxd_pid"
	ctl list
	[ "$status" -eq 0 ] || explain "kxd still serves after a HELLO that named kxd"
}
