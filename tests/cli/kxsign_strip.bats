#!/usr/bin/env bats
# docs/signature-format.md §8: strip invalidates a signature; sign after strip.

setup_file() {
	load "$KX_ROOT/tests/data/signer/helpers"
	signer_fixture "$BATS_FILE_TMPDIR"
}

setup() {
	load "$KX_ROOT/tests/data/signer/helpers"
	signer_scratch
}

@test "strip after signing invalidates the signature (exit 1, names regions)" {
	sign_demo >/dev/null
	for how in "" "--strip-debug" "--strip-unneeded"; do
		cp libdemo.so s.so
		strip $how s.so
		run "$KXSIGN" verify -p test.pub s.so
		echo "strip $how: $output"
		[ "$status" -eq 1 ]
		[[ "$output" == *"section header table"* ]]
	done
	cp libdemo.so s.so
	strip s.so
	run "$KXSIGN" verify -p test.pub s.so
	[[ "$output" == *"symbol table"*"no longer in the file"* ]]
}

@test "strip before signing: the stripped library verifies" {
	strip libdemo.so
	run sign_demo
	[ "$status" -eq 0 ]
	run "$KXSIGN" verify -p test.pub libdemo.so
	[ "$status" -eq 0 ]
	# A stripped library has no symbol table: the signature covers no
	# SYMTAB region, and verify still passes.
	run "$KXSIGN" show libdemo.so
	[[ "$output" != *"symbol table"* ]]
}
