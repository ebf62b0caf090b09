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
