#!/usr/bin/env bats
# Hostile inputs kept as regression files (fuzz/regress/{sigsec,keyfile},
# made by tests/data/signer/mkcorpus.py or found by the fuzzer): each gives
# its exit status and a message naming the file, and never crashes.

setup() {
	load "$KX_ROOT/tests/data/signer/helpers"
	cd "$BATS_TEST_TMPDIR" || return 1
	REG="$KX_ROOT/fuzz/regress"
	KEY="$SIGNER_DATA/regress.pub"
}

@test "hostile ELF files: verify and show exit as named, with a reason" {
	n=0
	for f in "$REG"/sigsec/exit*.elf; do
		want=${f##*/exit}
		want=${want%%-*}
		run "$KXSIGN" verify -p "$KEY" "$f"
		echo "$f: $status: $output"
		[ "$status" -eq "$want" ]
		[[ "$output" == "kxsign: $f: "?* ]]
		run "$KXSIGN" show "$f"
		[ "$status" -eq 1 ] || [ "$status" -eq 2 ] || [ "$status" -eq 0 ]
		run "$KXSIGN" digest "$f"
		[ "$status" -eq 0 ] || [ "$status" -eq 2 ]
		n=$((n + 1))
	done
	[ "$n" -ge 30 ]
}

@test "the regression library itself verifies (the corpus key is right)" {
	run "$KXSIGN" verify -p "$KEY" "$KX_ROOT/fuzz/corpus/sigsec/min-signed.so"
	[ "$status" -eq 0 ]
	[[ "$output" == *"libmin 1.0"* ]]
}

@test "hostile key files: exit 2 with the file named, for verify and sign" {
	lib="$KX_ROOT/fuzz/corpus/sigsec/min-signed.so"
	cp "$KX_ROOT/fuzz/corpus/sigsec/min-unsigned.so" u.so
	for f in "$REG"/keyfile/pub-*; do
		run "$KXSIGN" verify -p "$f" "$lib"
		echo "$f: $status: $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"$f: bad public key: "?* ]]
	done
	for f in "$REG"/keyfile/sec-*; do
		KXSIGN_PASSPHRASE_FILE=/dev/null run "$KXSIGN" sign -s "$f" --name x --version 1 u.so
		echo "$f: $status: $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"$f: "?* ]]
	done
	cmp u.so "$KX_ROOT/fuzz/corpus/sigsec/min-unsigned.so"
}

# Hardening round 2, finding 1: a table found through p_offset outside the
# PT_LOADs could be edited after signing (signed by kxsign before the fix,
# then its relocations were cut; verify still said "signature OK").
@test "a header whose p_offset is not where its p_vaddr lies: sign and verify refuse" {
	for f in dynamic-offset-outside-load.so interp-offset-outside-load.elf \
		relro-offset-mismatch.so tls-offset-mismatch.so; do
		run "$KXSIGN" sign -s "$SIGNER_DATA/regress.sec" --name lib --version 1 -o out.so \
			"$REG/elf/$f"
		echo "$f: $status: $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"cannot sign: program header "*"are not the PT_LOAD bytes its p_vaddr"*"(they would not be signed)"* ]]
		[ ! -e out.so ]
	done
	run "$KXSIGN" verify -p "$KEY" "$REG/sigsec/exit2-presign-dynamic-outside-load.elf"
	[ "$status" -eq 2 ]
	[[ "$output" == *"program header 2 (type 0x2): file bytes at offset 0x18c0 are not the PT_LOAD bytes"* ]]
}
