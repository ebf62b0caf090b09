#!/usr/bin/env bats
# kvm: real pVMs on /dev/kvm through kxmon — boot, console, exit status,
# the guest runtime, timeouts, options and images the monitor must refuse.

bats_require_minimum_version 1.5.0

# setup_file probes /dev/kvm once; setup skips every test, with the
# reason, when it is not usable.
load "$KX_ROOT/tests/guest/helpers"

@test "boot: hello prints to the console with its argv and exits 0" {
	pvm "$GUESTS/hello.kxe" one "two words"
	[ "$status" -eq 0 ] || explain "want status 0"
	[ "$output" = "hello from a pVM
argv[0] = $GUESTS/hello.kxe
argv[1] = one
argv[2] = two words" ] || explain "unexpected console output"
	[ -z "$stderr" ] || explain "want no report on a normal exit"
}

@test "boot: the guest sets its TLS base itself (wrfsbase) when the host CPU has FSGSBASE" {
	pvm "$GUESTS/tlsbase.kxe"
	if grep -qw fsgsbase /proc/cpuinfo; then
		[ "$status" -eq 0 ] || explain "want the FS base set and readable through %fs"
		[ "$output" = "fs base set, %fs:0 reads the block" ] || explain "unexpected output"
	else
		[ "$status" -eq 3 ] || explain "without FSGSBASE the feature must not be offered"
	fi
}

@test "boot: --verbose reports a normal exit" {
	pvm --verbose "$GUESTS/hello.kxe"
	expect_end 0 "exit status 0"
}

@test "exit: the pVM's status 0..122 is kxmon's status" {
	for n in 0 1 7 42 100 122; do
		pvm "$GUESTS/exit.kxe" "$n"
		[ "$status" -eq "$n" ] || explain "exit $n from main"
		pvm "$GUESTS/exit.kxe" "$n" deep
		[ "$status" -eq "$n" ] || explain "exit($n) from nested calls"
		[ -z "$stderr" ] || explain "want no report"
	done
}

@test "exit: a status outside 0..122 is 123 with a report" {
	for n in 123 200 255 -1 100000; do
		pvm "$GUESTS/exit.kxe" "$n"
		expect_end 123 "exit status $n \(outside 0\.\.122\)"
	done
}

@test "runtime: printf, strings, malloc, clock, SSE and boot info check out inside a pVM" {
	pvm "$GUESTS/rt.kxe" a b
	[ "$status" -eq 0 ] || explain "rt failed"
	[[ "$output" != *FAIL* ]] || explain "a runtime check failed"
	for check in printf "strcpy/strlen" "memmove overlap" "malloc patterns" "malloc coalesces" \
		"realloc keeps bytes" "calloc zeroes" "calloc overflow" "clock monotonic" \
		"clock realtime" "sse arithmetic" "boot argv" "boot layout" "boot stack"; do
		grep -qx "ok $check" <<<"$output" || explain "missing: ok $check"
	done
	[[ "$output" == *"0 failures" ]] || explain "want 0 failures"
}

@test "runtime: a bad free ends the pVM with a guest panic" {
	pvm "$GUESTS/rt.kxe" badfree
	expect_end 126 "guest panic at RIP 0x[0-9a-f]+: free: 0x[0-9a-f]+ is not a heap pointer"
	pvm "$GUESTS/rt.kxe" doublefree
	expect_end 126 "guest panic at RIP 0x[0-9a-f]+: free: 0x[0-9a-f]+ was already freed"
}

@test "console: 200000 bytes in one write arrive intact (split at KX_HC_CONSOLE_MAX)" {
	"$KXMON" "$GUESTS/rt.kxe" bigwrite 200000 > "$BATS_TEST_TMPDIR/out"
	[ "$(wc -c < "$BATS_TEST_TMPDIR/out")" -eq 200000 ]
	[ "$(tr -d x < "$BATS_TEST_TMPDIR/out" | wc -c)" -eq 0 ]
}

@test "console: a failing stdout is the guest's error, not the monitor's" {
	# /dev/full: every write fails with ENOSPC; the guest sees -KX_EIO.
	run --separate-stderr sh -c '"$0" "$1" bigwrite 100 > /dev/full' "$KXMON" "$GUESTS/rt.kxe"
	[ "$status" -eq 1 ] || explain "want the guest's own failure status 1"
	[ -z "$stderr" ] || explain "want no report"
	run --separate-stderr sh -c '"$0" "$1" >&-' "$KXMON" "$GUESTS/hello.kxe"
	[ "$status" -eq 0 ] || explain "closed stdout"
}

@test "timeout: a spinning guest is ended by --timeout with exit 124" {
	pvm --timeout 1 "$GUESTS/spin.kxe"
	[ "$output" = "spinning" ] || explain "want the guest's output"
	expect_end 124 "timed out after 1 s, paused at RIP 0x[0-9a-f]+"
}

@test "memory: --memory sizes the pVM; an image that does not fit is refused" {
	pvm "$GUESTS/bigbss.kxe"
	[ "$status" -eq 0 ] && [ "$output" = "bigbss ok" ] || explain "16 MiB bss in 64M"
	pvm --memory 16M "$GUESTS/bigbss.kxe"
	[ "$status" -eq 125 ] || explain "16 MiB bss in 16M"
	[[ "$stderr" == "kxmon: $GUESTS/bigbss.kxe: image: does not fit in guest memory below the heap" ]] ||
		explain "want the reason"
	pvm --memory 8M "$GUESTS/hello.kxe"
	[ "$status" -eq 0 ] || explain "hello in 8M"
	pvm --memory 1G --stack 64K "$GUESTS/rt.kxe"
	[ "$status" -eq 0 ] || explain "rt in 1G with a 64K stack"
}

@test "options: help, version, usage errors and bad values exit 125 or 0" {
	run "$KXMON" --help
	[ "$status" -eq 0 ] && [[ "$output" == "usage: kxmon [options] IMAGE [ARG...]"* ]]
	[[ "$output" == *"--timeout SECS"* ]]
	run "$KXMON" --version
	[ "$status" -eq 0 ] && [[ "$output" == "kxmon "*"(hypercall ABI 1)" ]]
	pvm
	[ "$status" -eq 125 ] && [[ "$stderr" == "usage: kxmon"* ]]
	pvm --bogus "$GUESTS/hello.kxe"
	[ "$status" -eq 125 ]
	for bad in "--memory 7M" "--memory 3G" "--memory 65M" "--memory x" "--memory -64M" \
		"--timeout 0" "--timeout 1.5" "--stack 1000" "--stack 64M"; do
		# shellcheck disable=SC2086
		pvm $bad "$GUESTS/hello.kxe"
		[ "$status" -eq 125 ] || explain "$bad"
		[[ "$stderr" == kxmon:* ]] || explain "$bad: want a kxmon: message"
		[ -z "$output" ] || explain "$bad: the guest must not run"
	done
}

@test "images: missing, empty, garbage, truncated and non-kx files are refused with exit 125" {
	local t=$BATS_TEST_TMPDIR
	pvm "$t/nonexistent.kxe"
	[ "$status" -eq 125 ] && [ "$stderr" = "kxmon: $t/nonexistent.kxe: No such file or directory" ]
	: > "$t/empty"
	head -c 4096 /dev/urandom > "$t/random"
	echo "not an image" > "$t/text"
	head -c 300 "$GUESTS/hello.kxe" > "$t/truncated"
	pvm "$t/empty"
	[ "$stderr" = "kxmon: $t/empty: empty file" ] || explain "empty"
	for f in empty random text truncated; do
		pvm "$t/$f"
		[ "$status" -eq 125 ] || explain "$f"
		[[ "$stderr" == "kxmon: $t/$f: "* ]] || explain "$f: want the file named"
	done
	pvm "$t"
	[ "$status" -eq 125 ] && [ "$stderr" = "kxmon: $t: not a regular file" ] || explain "a directory"
}

@test "images: W+X segments, images below KX_IMAGE_MIN, libraries and dynamic executables are refused" {
	pvm "$GUESTS/wx.kxe"
	[ "$status" -eq 125 ] && [[ "$stderr" == *"writable and executable"* ]] || explain "wx"
	pvm "$GUESTS/low.kxe"
	[ "$status" -eq 125 ] && [[ "$stderr" == *"linked below KX_IMAGE_MIN (0x400000)" ]] ||
		explain "low"
	pvm /bin/sh
	[ "$status" -eq 125 ] && [[ "$stderr" == "kxmon: /bin/sh: image"* ]] || explain "/bin/sh"
	[ -z "$output" ] || explain "nothing may run"
}
