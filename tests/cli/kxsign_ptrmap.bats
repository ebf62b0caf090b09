#!/usr/bin/env bats
# kxsign's pointer map (docs/signature-format.md §10): which words of each
# writable variable are pointers, recorded from DWARF at signing time and
# signed, so an online update rebases those words only (hardening round 2,
# finding 7).  The library is tests/elf/src/kxptrmap.c, built here with -g.

setup_file() {
	load "$KX_ROOT/tests/data/signer/helpers"
	signer_fixture "$BATS_FILE_TMPDIR"
	cc -shared -fPIC -g -O0 -o "$BATS_FILE_TMPDIR/libptr.so" "$KX_ROOT/tests/elf/src/kxptrmap.c"
}

setup() {
	load "$KX_ROOT/tests/data/signer/helpers"
	signer_scratch
}

sign_ptr() { # [OPTIONS...] FILE
	"$KXSIGN" sign -s test.sec --name libptr --version 1.0 "$@"
}

@test "ptrmap: the types' pointer words, from DWARF, listed by kxsign ptrmap" {
	run sign_ptr -o signed.so libptr.so
	[ "$status" -eq 0 ]
	[[ "$output" == *"pointer map: "*" variables, 24 pointer words, 1 maybe, "* ]]
	run "$KXSIGN" ptrmap signed.so
	[ "$status" -eq 0 ]
	# struct conf { long id; long *slot; void (*hook)(void); long values[3]; }
	[[ "$output" =~ " conf "\ +"pointer +8 x2 step 8"$'\n' ]]
	[[ "$output" =~ " gp "\ +"pointer +0"$'\n' ]]
	[[ "$output" =~ " ops "\ +"pointer +0 x4 step 8"$'\n' ]]
	# struct pair { void *a; long b; } pairs[10]: every a, no b
	[[ "$output" =~ " pairs "\ +"pointer +0 x10 step 16"$'\n' ]]
	[[ "$output" =~ " grid "\ +"pointer +0 x6 step 8"$'\n' ]]
	# union word { long n; void *p; }
	[[ "$output" =~ " w "\ +"maybe +0"$'\n' ]]
	# a function's static local, from .symtab
	[[ "$output" =~ " local_ptr.0 "\ +"pointer +0" ]]
	run "$KXSIGN" ptrmap --all signed.so
	[[ "$output" =~ " x "\ +"no pointers"$'\n' ]]
	[[ "$output" =~ " bits "\ +"no pointers"$'\n' ]]
	[[ "$output" =~ " counter "\ +"no pointers" ]]
}

@test "ptrmap: compiler-made objects without DWARF are untyped and named" {
	run sign_ptr -o signed.so libptr.so
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 untyped (e.g. 'completed.0')"* ]]
	run "$KXSIGN" ptrmap signed.so
	[[ "$output" =~ " completed.0 "\ +"untyped" ]]
}

@test "ptrmap: the map is signed: a changed byte fails verification, naming it" {
	sign_ptr -o signed.so libptr.so >/dev/null
	run "$KXSIGN" verify -p test.pub signed.so
	[ "$status" -eq 0 ]
	off=$("$KXSIGN" show --json signed.so | "$PY" -c '
import json, sys
r = [r for r in json.load(sys.stdin)["regions"] if r["kind"] == "pointer map"]
print(r[0]["offset"] + 16)')
	flip_byte signed.so "$off"
	run "$KXSIGN" verify -p test.pub signed.so
	[ "$status" -eq 1 ]
	[[ "$output" == *"pointer map (section "*"changed"* ]]
	# the independent verifier agrees on the intact file's regions
	sign_ptr -o again.so libptr.so >/dev/null
	run "$PY" "$KX_ROOT/tests/interop/verify.py" test.pub again.so
	[ "$status" -eq 0 ]
}

@test "ptrmap: signing adds the map but leaves the content digest alone" {
	before=$("$KXSIGN" digest libptr.so | cut -d' ' -f1)
	sign_ptr libptr.so >/dev/null
	after=$("$KXSIGN" digest libptr.so | cut -d' ' -f1)
	[ "$before" = "$after" ]
}

@test "ptrmap: no DWARF: signed without a map, and a note says what that means" {
	strip -o stripped.so libptr.so
	run sign_ptr stripped.so
	[ "$status" -eq 0 ]
	[[ "$output" == *"note: no DWARF debug information (build with -g, or give --debug-file): no pointer map; an online update of this library will copy its variables verbatim, rebasing none"* ]]
	run "$KXSIGN" ptrmap stripped.so
	[ "$status" -eq 2 ]
	[[ "$output" == *"no pointer map (signed without DWARF, or not signed)"* ]]
}

@test "ptrmap: --debug-file reads the DWARF of a separate debug file of the same build" {
	objcopy --only-keep-debug libptr.so libptr.debug
	strip -o stripped.so libptr.so
	run sign_ptr --debug-file libptr.debug stripped.so
	[ "$status" -eq 0 ]
	[[ "$output" == *"pointer map: "*" 23 pointer words, 1 maybe"* ]] # .dynsym only: no static local
	run "$KXSIGN" ptrmap stripped.so
	[[ "$output" =~ " conf "\ +"pointer +8 x2 step 8" ]]
	# another build's debug file is refused, nothing is written
	cc -shared -fPIC -g -O2 -o other.so "$KX_ROOT/tests/elf/src/kxptrmap.c"
	strip -o stripped2.so libptr.so
	run sign_ptr --debug-file other.so -o out.so stripped2.so
	[ "$status" -eq 2 ]
	[[ "$output" == *"not the same build"* ]]
	[ ! -e out.so ]
}

@test "ptrmap: --no-ptrmap, and re-signing keeps the map or refuses another" {
	run sign_ptr --no-ptrmap -o plain.so libptr.so
	[ "$status" -eq 0 ]
	[[ "$output" != *"pointer map"* ]]
	run sign_ptr --debug-file libptr.so --no-ptrmap libptr.so
	[ "$status" -eq 2 ]
	[[ "$output" == *"--debug-file and --no-ptrmap contradict each other"* ]]
	# re-signing a file signed with a map: same map, fine
	sign_ptr -o signed.so libptr.so >/dev/null
	run "$KXSIGN" sign -s test.sec --name libptr --version 1.1 signed.so
	[ "$status" -eq 0 ]
	# a file signed without one cannot gain one by re-signing
	run "$KXSIGN" sign -s test.sec --name libptr --version 1.1 plain.so
	[ "$status" -eq 2 ]
	[[ "$output" == *"signed already, without a pointer map; re-signing keeps its layout"* ]]
	run "$KXSIGN" sign -s test.sec --name libptr --version 1.1 --no-ptrmap plain.so
	[ "$status" -eq 0 ]
}
