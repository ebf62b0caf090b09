#!/usr/bin/env bats
# An independent verifier (tests/interop/verify.py: Python hashlib +
# python3-cryptography, written only from docs/signature-format.md) accepts
# what kxsign signs and rejects what kxsign rejects.

setup_file() {
	load "$KX_ROOT/tests/data/signer/helpers"
	signer_fixture "$BATS_FILE_TMPDIR"
}

setup() {
	load "$KX_ROOT/tests/data/signer/helpers"
	signer_scratch
	VERIFY_PY="$KX_ROOT/tests/interop/verify.py"
}

@test "python verifies a fresh kxsign signature and agrees on the digest" {
	before=$("$KXSIGN" digest libdemo.so | cut -d' ' -f1)
	sign_demo >/dev/null
	run "$PY" "$VERIFY_PY" test.pub libdemo.so
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "valid libdemo 1.2.3 $(keyid_of test.pub) $before" ]
}

@test "python verifies signed executables and re-signed libraries" {
	printf 'int main(void) { return 0; }\n' > m.c
	cc -o m m.c
	"$KXSIGN" sign -s test.sec --name m --version 3 m >/dev/null
	run "$PY" "$VERIFY_PY" test.pub m
	[ "$status" -eq 0 ]
	sign_demo >/dev/null
	"$KXSIGN" sign -s other.sec --name libdemo --version 4 libdemo.so >/dev/null
	run "$PY" "$VERIFY_PY" other.pub libdemo.so
	[ "$status" -eq 0 ]
	[[ "$output" == "valid libdemo 4 "* ]]
}

@test "python rejects a tampered library, a wrong key and altered metadata" {
	sign_demo >/dev/null
	cp libdemo.so t.so
	# The last byte of the second PT_LOAD (.text): code changed after signing.
	off=$("$KXSIGN" show --json t.so | "$PY" -c '
import json, sys
r = [r for r in json.load(sys.stdin)["regions"] if r["kind"] == "PT_LOAD"][1]
print(r["offset"] + r["size"] - 1)')
	flip_byte t.so "$off"
	run "$PY" "$VERIFY_PY" test.pub t.so
	[ "$status" -eq 1 ]
	[[ "$output" == "invalid: region kind 3 index 1 "* ]]
	run "$KXSIGN" verify -p test.pub t.so
	[ "$status" -eq 1 ]
	run "$PY" "$VERIFY_PY" other.pub libdemo.so
	[ "$status" -eq 1 ]
	cp libdemo.so v.so
	flip_byte v.so $(($(kxsig_offset v.so) + 104)) # the version
	run "$PY" "$VERIFY_PY" test.pub v.so
	[ "$status" -eq 1 ]
	[ "$output" = "invalid: bad Ed25519 signature" ]
}
