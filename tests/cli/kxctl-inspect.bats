#!/usr/bin/env bats
# kxctl inspect: the loader's report, its refusals, trees, lazy binding,
# signature status, and the command table behind --help and the man page.

setup() {
	KXCTL="$KX_BIN/kxctl"
	KXSIGN="$KX_BIN/kxsign"
	PY=/usr/bin/python3
	CORPUS="$KX_ROOT/fuzz/corpus/elf"
	REGRESS="$KX_ROOT/fuzz/regress/elf"
	cd "$BATS_TEST_TMPDIR"
}

json_get() { # json_get EXPR FILE-or-stdin: print a Python expression over the report `r`
	$PY -c 'import json,sys; r=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

@test "usage: no command, unknown command, --help, verb --help" {
	run "$KXCTL"
	[ "$status" -eq 2 ]
	[[ "$output" == *"usage: kxctl COMMAND"* ]]
	run "$KXCTL" frobnicate
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown command 'frobnicate'"* ]]
	run "$KXCTL" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"inspect   run the ELF loader and the mapper's checks over FILE"* ]]
	run "$KXCTL" inspect --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: kxctl inspect [--json]"* ]]
	[[ "$output" == *"-L, --libdir D"* ]]
	run "$KXCTL" inspect
	[ "$status" -eq 2 ]
	run "$KXCTL" inspect --bogus x
	[ "$status" -eq 2 ]
}

@test "the man page lists every command exactly as the command table does" {
	"$KXCTL" help --man > commands.roff
	[ -s commands.roff ]
	$PY -c 'import sys; sys.exit(open(sys.argv[1]).read() not in open(sys.argv[2]).read())' \
		commands.roff "$KX_ROOT/docs/man/kxctl.1"
}

@test "inspect reports type, segments, needed, exports, relocations, GOT/PLT" {
	# the corpus libraries are host-built (not with guest/dyn.ld): the
	# loader's view, the mapper's rules named as not checked
	run "$KXCTL" inspect --loader-only "$CORPUS/libkxtest.so"
	[ "$status" -eq 0 ]
	[[ "$output" == *"type:        dyn, soname libkxtest.so"* ]]
	[[ "$output" == *"needed:      libkxdep.so"* ]]
	[[ "$output" == *"LOAD"*"R E"* ]]
	[[ "$output" == *"exports:     5 functions, 3 objects, 1 TLS"* ]]
	[[ "$output" == *"R_X86_64_JUMP_SLOT 2"* ]]
	[[ "$output" == *"R_X86_64_TPOFF64 1"* ]]
	[[ "$output" == *"2 PLT slots, PLT0 0x"*"binding now"* ]]
	[[ "$output" == *"3 undefined bound to 0 (no -L)"* ]]
	[[ "$output" == *"signature:   not signed"* ]]
	[[ "$output" == *"mapper:      not checked (--loader-only): no constructors; no data object on a page holding a GOT entry"* ]]
	[[ "$output" == *"result:      accepted"* ]]
	# without --loader-only the same report, and the refusal boot would give
	run "$KXCTL" inspect "$CORPUS/libkxtest.so"
	[ "$status" -eq 1 ]
	[[ "$output" == *"mapper:      REFUSED: $CORPUS/libkxtest.so: data object 'kxtest_global' shares a page with the GOT"* ]]
	[[ "$output" == *"exports:     5 functions, 3 objects, 1 TLS"* ]]
	[[ "$output" == *"result:      rejected (mapper: boot and link refuse it)"* ]]
}

@test "inspect --json has every program header and dynamic symbol" {
	"$KXCTL" inspect --loader-only --json "$CORPUS/libkxtest.so" > r.json
	[ "$(json_get 'r["accepted"]' < r.json)" = True ]
	[ "$(json_get 'len(r["phdrs"])' < r.json)" = "$(readelf -lW "$CORPUS/libkxtest.so" | grep -c '^  [A-Z_]* *0x')" ]
	[ "$(json_get 'len(r["dynsyms"])' < r.json)" = 14 ]
	[ "$(json_get '[s["size"] for s in r["dynsyms"] if s["name"]=="kxtest_global"][0]' < r.json)" = 4 ]
	[ "$(json_get 'r["relocations"]["R_X86_64_GLOB_DAT"]' < r.json)" = 2 ]
	[ "$(json_get 'r["got"]["slots"]' < r.json)" = 2 ]
	[ "$(json_get 'r["signature"]["status"]' < r.json)" = unsigned ]
	"$KXCTL" inspect --json "$CORPUS/libkxtest.so" > r.json 2>/dev/null || true
	[ "$(json_get 'r["accepted"]' < r.json)" = False ]
	[[ "$(json_get 'r["mapper"]["error"]' < r.json)" == *"shares a page with the GOT"* ]]
}

@test "lazy binding leaves JUMP_SLOTs to the PLT; -z now libraries bind now anyway" {
	run "$KXCTL" inspect --loader-only --lazy -L "$CORPUS" "$CORPUS/libkxtest.so"
	[ "$status" -eq 0 ]
	[[ "$output" == *"binding lazy"* ]]
	[[ "$output" == *"2 left lazy"* ]]
	run "$KXCTL" inspect --loader-only --lazy -L "$CORPUS" "$CORPUS/libkxrelr.so"
	[ "$status" -eq 0 ]
	[[ "$output" == *"binding now"* ]]
	[[ "$output" == *"R_X86_64_RELATIVE(RELR) 1"* ]]
}

@test "-L loads the DT_NEEDED tree: executable with a COPY relocation" {
	run "$KXCTL" inspect --loader-only -L "$CORPUS" "$CORPUS/kxpie.elf"
	[ "$status" -eq 0 ]
	[[ "$output" == *"type:        pie"* ]]
	[[ "$output" == *"R_X86_64_COPY 1"* ]]
	[[ "$output" == *"modules:     $CORPUS/kxpie.elf@0x40000000 libkxtest.so@0x"*" libkxdep.so@0x"* ]]
	[[ "$output" == *"0 undefined bound to 0"* ]]
}

@test "a DT_NEEDED loop and a missing library are rejected" {
	run "$KXCTL" inspect -L "$CORPUS" "$CORPUS/libloopa.so"
	[ "$status" -eq 1 ]
	[[ "$output" == *"rejected (loop): DT_NEEDED loop: $CORPUS/libloopa.so -> libloopb.so -> $CORPUS/libloopa.so"* ]]
	run "$KXCTL" inspect -L "$BATS_TEST_TMPDIR" "$CORPUS/libkxtest.so"
	[ "$status" -eq 1 ]
	[[ "$output" == *"rejected (open): libkxdep.so: not found in any -L directory"* ]]
}

@test "every hostile file is rejected with exit 1 and its reason, in text and JSON" {
	for f in "$REGRESS"/*; do
		run "$KXCTL" inspect "$f"
		[ "$status" -eq 1 ] || { echo "$f: exit $status"; return 1; }
		[[ "$output" == "kxctl inspect: $f: rejected ("* ]] || { echo "$output"; return 1; }
	done
	run "$KXCTL" inspect "$REGRESS/filesz-gt-memsz.so"
	[[ "$output" == *"rejected (malformed): program header 1: p_filesz 0x11d0 > p_memsz 0x1d0"* ]]
	run "$KXCTL" inspect "$REGRESS/wx-segment.so"
	[[ "$output" == *"program header 0: segment is writable and executable (W+X refused)"* ]]
	"$KXCTL" inspect --json "$REGRESS/reloc-symbol-index.so" > r.json 2>/dev/null || true
	[ "$(json_get 'r["accepted"]' < r.json)" = False ]
	[ "$(json_get 'r["error"]["message"]' < r.json)" = "relocation 2 (.rela.dyn): symbol index 65535 >= symbol count 14" ]
}

@test "I/O errors exit 2 and name the file" {
	run "$KXCTL" inspect "$BATS_TEST_TMPDIR/missing.so"
	[ "$status" -eq 2 ]
	[[ "$output" == *"missing.so"* ]]
	run "$KXCTL" inspect "$BATS_TEST_TMPDIR"
	[ "$status" -eq 2 ]
}

@test "signature: valid with the key, unverified without, invalid once tampered" {
	# libkxtest.so is host-built: the signature's view, not the mapper's rules
	"$KXSIGN" keygen -p k.pub -s k.sec --no-passphrase >/dev/null
	"$KXSIGN" sign -s k.sec --name libkxtest --version 1.0 -o signed.so "$CORPUS/libkxtest.so" >/dev/null
	keyid=$("$KXSIGN" show --json signed.so | json_get 'r["keyid"]')
	run "$KXCTL" inspect --loader-only -p k.pub signed.so
	[ "$status" -eq 0 ]
	[[ "$output" == *"signature:   valid: libkxtest 1.0 signed by key $keyid"* ]]
	mkdir keys && cp k.pub keys/
	run "$KXCTL" inspect --loader-only -K keys signed.so
	[ "$status" -eq 0 ]
	[[ "$output" == *"valid: libkxtest 1.0"* ]]
	run "$KXCTL" inspect --loader-only signed.so
	[ "$status" -eq 0 ]
	[[ "$output" == *"signed by key $keyid (not verified: no key given; "*" covered regions intact)"* ]]
	# One byte of kxtest_add's code (first PT_LOAD: file offset == address).
	off=$("$KXCTL" inspect --loader-only --json signed.so | json_get '[s["value"] for s in r["dynsyms"] if s["name"]=="kxtest_add"][0]')
	cp signed.so tampered.so
	printf '\314' | dd of=tampered.so bs=1 seek="$off" conv=notrunc 2>/dev/null
	run "$KXCTL" inspect --loader-only -p k.pub tampered.so
	[ "$status" -eq 1 ]
	[[ "$output" == *"signature:   invalid (tampered): "* ]]
	[[ "$output" == *"result:      rejected (signature)"* ]]
	run "$KXCTL" inspect --loader-only tampered.so
	[ "$status" -eq 1 ]
	[[ "$output" == *"signed by key $keyid, but 1 covered region(s) changed, first PT_LOAD[0]"* ]]
	# Unsigned file against a key: the mapper would refuse it.
	run "$KXCTL" inspect --loader-only -p k.pub "$CORPUS/libkxtest.so"
	[ "$status" -eq 1 ]
	[[ "$output" == *"signature:   not signed"* ]]
}

@test "a library signed with its PT_DYNAMIC outside the PT_LOADs is rejected, key or not" {
	f="$KX_ROOT/fuzz/regress/sigsec/exit2-presign-dynamic-outside-load.elf"
	for key in "" "-p $KX_ROOT/tests/data/signer/regress.pub"; do
		# shellcheck disable=SC2086
		run "$KXCTL" inspect $key "$f"
		echo "$output"
		[ "$status" -eq 1 ]
		[[ "$output" == *"rejected (malformed): program header 2: PT_DYNAMIC p_offset 0x18c0 is not where p_vaddr 0x1e60 lies in the file (0xe60): only the PT_LOADs' bytes are signed"* ]]
	done
}

@test "mapper rules: inspect refuses what boot refuses (data on a GOT page, constructors)" {
	# gotdata/libkvmath.so: ld's default layout puts .got.plt beside .bss;
	# kxmon refuses it at link time (kvm_link.bats), and so must inspect
	run "$KXCTL" inspect "$KX_BUILD/guest/gotdata/libkvmath.so"
	[ "$status" -eq 1 ]
	[[ "$output" == *"rejected (invalid argument): "*"data object 'kvm_calls' shares a page with the GOT (link pVM libraries with guest/dyn.ld)"* ]]
	st=0
	out=$("$KXCTL" inspect --json "$KX_BUILD/guest/gotdata/libkvmath.so" 2>/dev/null) || st=$?
	[ "$st" -eq 1 ]
	[ "$(json_get 'r["accepted"]' <<<"$out")" = False ]
	# the same library linked with guest/dyn.ld passes, and says what was not checked
	run "$KXCTL" inspect "$KX_BUILD/guest/libkvmath.so"
	[ "$status" -eq 0 ]
	[[ "$output" == *"mapper:      ok: no constructors; no data object on a page holding a GOT entry; not checked: the pVM's window"* ]]
	out=$("$KXCTL" inspect --json "$KX_BUILD/guest/libkvmath.so")
	[[ "$(json_get 'r["mapper"]["not_checked"]' <<<"$out")" == *"window"* ]]
	printf 'int x;\n__attribute__((constructor)) static void init(void) { x = 1; }\n' > ctor.c
	cc -shared -fPIC -nostdlib -O1 -o libctor.so ctor.c
	run "$KXCTL" inspect libctor.so
	[ "$status" -eq 1 ]
	[[ "$output" == *"libctor.so: has constructors; not supported"* ]]
}
