#!/usr/bin/env bats
# libc_proc (posix-mon): SDK programs whose processes are pVMs — fork,
# pipes shared with the children, waitpid/waitid, kill — run through kxd
# (kxctl run -> kxd -> kxmon), their output compared with the native run
# of the same source (tests/libc/).  Also: getpid/getppid are kxd's pVM
# ids, and an unimplemented system call shows in kxctl list and kxd's log.

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

LIBC=$KX_BUILD/tests/libc

setup_file() {
	local fx=$BATS_FILE_TMPDIR/fx app
	mkdir -p "$fx/lib"
	for app in forker kxonly pipewake; do
		sed -e "s|@APP@|$app|" -e "s|@KEYS@|$KX_ROOT/manifests/keys|g" \
			"$DATA/libc.yaml.in" > "$fx/$app.yaml"
		"$KXSIGN" sign -s "$SECS/acme.sec" --name "$app" --version 1.0 -o "$fx/$app.kxe" \
			"$LIBC/kx/$app.kxe" >/dev/null
	done
	"$KX_BIN/kxpolicy" compile --serial 1 -o "$fx/kx.kxp" "$fx"/*.yaml >/dev/null
	kvm_probe
}

setup() {
	need_kvm
	start_kxd
}

teardown() {
	stop_kxd
}

@test "processes: fork + pipe workers + waitpid, kill, waitid: the same output as Linux" {
	run --separate-stderr "$LIBC/native/forker" "$BATS_TEST_TMPDIR"
	[ "$status" -eq 0 ] || explain "the native run failed"
	native=$output
	ctl run "$FX/forker.kxe" /tmp
	[ "$status" -eq 0 ] || explain "the pVM run failed"
	if [ "$output" != "$native" ]; then
		diff <(echo "$native") <(echo "$output") || true
		explain "the outputs differ (native <, pVM >)"
	fi
	! grep -q '^FAIL' <<<"$output" || explain "a check failed"
	grep -qx "15 checks, 0 failed" <<<"$output" || explain "want 15 checks"
	# Every process was a pVM of the family, collected with its status.
	ctl list
	grep -Eq "^2 +forker +[0-9]+ +exited +[^ ]+ +10 +1 " <<<"$output" || explain "worker 0"
	grep -Eq "^4 +forker +[0-9]+ +exited +[^ ]+ +12 +1 " <<<"$output" || explain "worker 2"
	grep -Eq "^5 +forker +[0-9]+ +exited +[^ ]+ +143 +1 " <<<"$output" ||
		explain "the child killed by SIGTERM (128 + 15)"
}

@test "environment: kxctl run --env reaches the pVM's environ through kxd" {
	ctl run --env GREETING=hi --env "TWO=a b" "$FX/kxonly.kxe" env
	[ "$status" -eq 0 ] || explain "want 0"
	[ "$output" = "env: GREETING=hi
env: TWO=a b
getenv: ADDED=yes EMPTY=(unset) PATH=(unset)" ] || explain "unexpected environment"
	ctl run --env =bad "$FX/kxonly.kxe" env
	[ "$status" -eq 2 ] && [[ "$stderr" == *"-e wants NAME=VALUE"* ]] || explain "refused"
}

@test "processes: an unimplemented system call shows in kxctl list and kxd's log, once" {
	ctl run "$FX/kxonly.kxe"
	[ "$status" -eq 0 ] || explain "kxonly failed"
	ctl list
	# mount (165) twice, fork (57) answered, execve (59) ENOSYS...
	grep -Eq "^1 +kxonly .*ENOSYS:.* 59( |$)" <<<"$output" || explain "execve listed"
	grep -Eq "^1 +kxonly .*ENOSYS:.* 165( |$)" <<<"$output" || explain "mount listed"
	ctl list --json
	[[ "$output" == *'"unimplemented": ['*'165'*']'* ]] || explain "json"
	[ "$(grep -c 'system call 165 is not implemented' "$SOCK.log")" -eq 1 ] ||
		explain "kxd logs it once"
}

@test "halt: a pVM whose threads all wait, or that polls or epolls, is woken by another pVM's pipe write through the futex word, not by polling" {
	ctl run "$FX/pipewake.kxe"
	[ "$status" -eq 0 ] || explain "the pVM run failed"
	! grep -q '^FAIL' <<<"$output" || explain "a check failed"
	grep -q '^ok the reader got the child.s bytes$' <<<"$output" || explain "the bytes"
	grep -q '^ok woken by the write, not by polling' <<<"$output" || explain "polled"
	grep -q '^ok a halt ended by the pipe.s watched word$' <<<"$output" || explain "no watch wake"
	grep -q '^ok poll: woken by the write, not by polling' <<<"$output" || explain "poll polled"
	grep -q '^ok epoll: woken by the write, not by polling' <<<"$output" || explain "epoll polled"
	grep -q '^ok the poll ends with POLLNVAL, the pVM lives$' <<<"$output" || explain "close"
	grep -qx "28 checks, 0 failed" <<<"$output" || explain "want 28 checks"
}
