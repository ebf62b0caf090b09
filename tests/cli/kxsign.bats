#!/usr/bin/env bats
# kxsign: round trip, tampering, keys, keyrings, exit codes and help.

setup_file() {
	load "$KX_ROOT/tests/data/signer/helpers"
	signer_fixture "$BATS_FILE_TMPDIR"
}

setup() {
	load "$KX_ROOT/tests/data/signer/helpers"
	signer_scratch
}

@test "round trip: sign, verify, show" {
	run sign_demo
	[ "$status" -eq 0 ]
	[[ "$output" == *"signed libdemo.so as libdemo 1.2.3 with key $(keyid_of test.pub)"* ]]
	run "$KXSIGN" verify -p test.pub libdemo.so
	[ "$status" -eq 0 ]
	[[ "$output" == *"signature OK: libdemo 1.2.3, signed by key $(keyid_of test.pub)"* ]]
	run "$KXSIGN" show libdemo.so
	[ "$status" -eq 0 ]
	[[ "$output" == *"name:            libdemo"* ]]
	[[ "$output" == *"trusted comment: bats"* ]]
	[[ "$output" == *"PT_LOAD[0]"* ]]
	[[ "$output" == *"symbol table"* ]]
	# The library still loads and runs after signing.
	run "$PY" -c '
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.demo_hello.restype = ctypes.c_char_p
print(lib.demo_hello().decode())' ./libdemo.so
	[ "$status" -eq 0 ]
	[ "$output" = "hello from libdemo" ]
}

@test "show --json has the stable keys" {
	sign_demo >/dev/null
	run "$KXSIGN" show --json libdemo.so
	[ "$status" -eq 0 ]
	echo "$output" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
assert set(d) == {"file", "name", "version", "keyid", "timestamp", "trusted_comment",
                  "digest", "verified", "regions"}, d.keys()
assert d["name"] == "libdemo" and d["version"] == "1.2.3" and d["trusted_comment"] == "bats"
assert len(d["keyid"]) == 16 and len(d["digest"]) == 64 and d["verified"] is False
kinds = [r["kind"] for r in d["regions"]]
assert kinds[:2] == ["ELF header", "program header table"], kinds
assert "PT_LOAD" in kinds and "section header table" in kinds and "symbol table" in kinds
assert all(set(r) == {"kind", "index", "offset", "size", "hash"} for r in d["regions"])
'
}

@test "flipping one byte in each covered region fails and names the region" {
	sign_demo >/dev/null
	# kind index flip-offset expected-text, one line per region (a byte that
	# changes content but not the layout: a padding byte, an alignment's high
	# byte, the last byte of a segment or symbol table, a name character).
	"$KXSIGN" show --json libdemo.so | "$PY" -c '
import json, sys
for r in json.load(sys.stdin)["regions"]:
    k, o, s = r["kind"], r["offset"], r["size"]
    flip = {"ELF header": 9, "program header table": o + 55, "section header table": o + s - 1,
            "section-name table": o + 2, "string table": o + s // 2}.get(k, o + s - 1)
    name = "PT_LOAD[%d]" % r["index"] if k == "PT_LOAD" else k
    print("%d\t%s (" % (flip, name))
' > regions.txt
	[ "$(wc -l < regions.txt)" -ge 8 ]
	while IFS="$(printf '\t')" read -r flip expect; do
		cp libdemo.so t.so
		flip_byte t.so "$flip"
		run "$KXSIGN" verify -p test.pub t.so
		echo "flip $flip: $output"
		[ "$status" -eq 1 ]
		[[ "$output" == *"verification failed: "*"$expect"*"changed"* ]]
	done < regions.txt
}

@test "changing the signed name, version or time fails" {
	sign_demo >/dev/null
	sig=$(kxsig_offset libdemo.so)
	for field in 40 104 32 136; do # name, version, timestamp, trusted comment
		cp libdemo.so t.so
		flip_byte t.so $((sig + field))
		run "$KXSIGN" verify -p test.pub t.so
		[ "$status" -eq 1 ]
		[[ "$output" == *"bad signature by key $(keyid_of test.pub)"* ]]
	done
}

@test "re-signing replaces the signature (one .kxsig, new version)" {
	sign_demo >/dev/null
	size=$(stat -c %s libdemo.so)
	run "$KXSIGN" sign -s other.sec --name libdemo --version 2.0 libdemo.so
	[ "$status" -eq 0 ]
	[ "$(stat -c %s libdemo.so)" -eq "$size" ]
	[ "$(readelf -SW libdemo.so | grep -c '\.kxsig')" -eq 1 ]
	run "$KXSIGN" verify -p other.pub libdemo.so
	[ "$status" -eq 0 ]
	[[ "$output" == *"libdemo 2.0"* ]]
}

@test "an old signature cannot pass for a newer version" {
	cp libdemo.so new.so
	sign_demo >/dev/null
	"$KXSIGN" sign -s test.sec --name libdemo --version 9.9 new.so >/dev/null
	# Graft the old section into the new file: same layout, other metadata.
	graft_section libdemo.so new.so
	run "$KXSIGN" verify -p test.pub new.so
	[ "$status" -eq 0 ]
	[[ "$output" == *"libdemo 1.2.3"* ]] # what was proven is the old version
	# ...and the old signature on a different library is rejected.
	"$KXSIGN" sign -s test.sec --name libdemo --version 1.2.3 libother.so >/dev/null
	graft_section libdemo.so libother.so
	run "$KXSIGN" verify -p test.pub libother.so
	[ "$status" -eq 1 ]
	[[ "$output" == *"changed"* ]]
}

@test "wrong key fails with both key ids" {
	sign_demo >/dev/null
	run "$KXSIGN" verify -p other.pub libdemo.so
	[ "$status" -eq 1 ]
	[[ "$output" == *"signed by key $(keyid_of test.pub), expected one of: $(keyid_of other.pub)"* ]]
}

@test "several -p keys and a keyring pick the right key" {
	sign_demo >/dev/null
	run "$KXSIGN" verify -p other.pub -p test.pub libdemo.so
	[ "$status" -eq 0 ]
	mkdir ring
	cp other.pub ring/a-other.pub
	cp test.pub ring/b-test.pub
	echo "not a key" > ring/README
	run "$KXSIGN" verify -K ring libdemo.so
	[ "$status" -eq 0 ]
	[[ "$output" == *"signed by key $(keyid_of test.pub)"* ]]
	rm ring/b-test.pub
	"$KXSIGN" keygen --no-passphrase -p ring/c.pub -s c.sec >/dev/null
	run "$KXSIGN" verify -K ring libdemo.so
	[ "$status" -eq 1 ]
	[[ "$output" == *"expected one of: $(keyid_of ring/a-other.pub), $(keyid_of ring/c.pub)"* ]]
	echo garbage > ring/d.pub
	run "$KXSIGN" verify -K ring libdemo.so
	[ "$status" -eq 2 ]
	[[ "$output" == *"ring/d.pub: bad public key"* ]]
	mkdir empty
	run "$KXSIGN" verify -K empty libdemo.so
	[ "$status" -eq 2 ]
	[[ "$output" == *"keyring holds no *.pub key"* ]]
}

@test "unsigned library: exit 1, says not signed" {
	run "$KXSIGN" verify -p test.pub libdemo.so
	[ "$status" -eq 1 ]
	[[ "$output" == *"not signed"* ]]
	run "$KXSIGN" show libdemo.so
	[ "$status" -eq 1 ]
}

@test "encrypted key: right passphrase signs, wrong one fails cleanly" {
	echo "s3cret words" > pw
	KXSIGN_PASSPHRASE_FILE=pw run "$KXSIGN" keygen -p e.pub -s e.sec
	[ "$status" -eq 0 ]
	[[ "$output" == *"passphrase-protected"* ]]
	grep -q "encrypted" e.sec
	echo "wrong" > bad
	cp libdemo.so before.so
	KXSIGN_PASSPHRASE_FILE=bad run "$KXSIGN" sign -s e.sec --name libdemo --version 1 libdemo.so
	[ "$status" -eq 2 ]
	[[ "$output" == *"e.sec: wrong passphrase"* ]]
	cmp libdemo.so before.so
	# No terminal and no passphrase file: a clear error, not a hang.
	run setsid -w "$KXSIGN" sign -s e.sec --name libdemo --version 1 libdemo.so </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"no passphrase"* ]]
	KXSIGN_PASSPHRASE_FILE=pw run "$KXSIGN" sign -s e.sec --name libdemo --version 1 libdemo.so
	[ "$status" -eq 0 ]
	run "$KXSIGN" verify -p e.pub libdemo.so
	[ "$status" -eq 0 ]
}

@test "keygen refuses to overwrite without -f" {
	cp test.sec keep.sec
	run "$KXSIGN" keygen --no-passphrase -p test.pub -s test.sec
	[ "$status" -eq 2 ]
	[[ "$output" == *"already exists (use -f to overwrite)"* ]]
	cmp test.sec keep.sec
	run "$KXSIGN" keygen --no-passphrase -f -p test.pub -s test.sec
	[ "$status" -eq 0 ]
	! cmp -s test.sec keep.sec
	[ "$(stat -c %a test.sec)" = "600" ]
	[ "$(stat -c %a test.pub)" = "644" ]
	# An empty passphrase is refused.
	echo > empty
	KXSIGN_PASSPHRASE_FILE=empty run "$KXSIGN" keygen -p n.pub -s n.sec
	[ "$status" -eq 2 ]
	[[ "$output" == *"empty passphrase"* ]]
	[ ! -e n.sec ] && [ ! -e n.pub ]
}

@test "sign refuses what is not an ELF64 x86-64 shared object or executable" {
	echo "int x;" > x.c
	cc -c -o x.o x.c
	run "$KXSIGN" sign -s test.sec --name x --version 1 x.o
	[ "$status" -eq 2 ]
	[[ "$output" == *"x.o: cannot sign: ELF type 1 is not a shared object or an executable"* ]]
	head -c 200 "$SIGNER_DATA/libdemo.c" > text
	run "$KXSIGN" sign -s test.sec --name x --version 1 text
	[ "$status" -eq 2 ]
	[[ "$output" == *"text: cannot sign: not an ELF file"* ]]
	cp "$KX_ROOT/fuzz/regress/sigsec/exit2-elf32.elf" e32
	run "$KXSIGN" sign -s test.sec --name x --version 1 e32
	[ "$status" -eq 2 ]
	[[ "$output" == *"32-bit ELF"* ]]
	run "$KXSIGN" sign -s test.sec --name "bad name" --version 1 libdemo.so
	[ "$status" -eq 2 ]
	[[ "$output" == *"library name must be"* ]]
}

@test "executables can be signed and still run" {
	printf 'int main(void) { return 7; }\n' > m.c
	cc -o m m.c
	run "$KXSIGN" sign -s test.sec --name m --version 1 m
	[ "$status" -eq 0 ]
	[ -x m ]
	run ./m
	[ "$status" -eq 7 ]
	run "$KXSIGN" verify -p test.pub m
	[ "$status" -eq 0 ]
}

@test "writes are atomic: -o leaves the input, failures leave nothing behind" {
	cp libdemo.so orig.so
	chmod 0750 libdemo.so
	run sign_demo -o out/signed.so libdemo.so
	[ "$status" -eq 2 ] # out/ does not exist
	[ ! -e out ]
	run sign_demo -o signed.so libdemo.so
	[ "$status" -eq 0 ]
	cmp libdemo.so orig.so
	[ "$(stat -c %a signed.so)" = "750" ]
	mkdir ro
	cp libdemo.so ro/lib.so
	chmod 0555 ro
	if [ "$(id -u)" -ne 0 ]; then # root ignores directory permissions
		run sign_demo ro/lib.so
		[ "$status" -eq 2 ]
		cmp ro/lib.so orig.so
	fi
	[ "$(ls -A ro)" = "lib.so" ]
	chmod 0755 ro
	[ -z "$(ls -A | grep '^\.' || true)" ] # no temporary files left
}

@test "help is complete and usage errors exit 2" {
	run "$KXSIGN" --help
	[ "$status" -eq 0 ]
	top=$output
	for cmd in keygen sign verify show digest; do
		[[ "$top" == *"kxsign $cmd"* ]]
		run "$KXSIGN" "$cmd" --help
		[ "$status" -eq 0 ]
		[[ "$output" == "usage: kxsign $cmd"* ]]
	done
	run "$KXSIGN" sign --help
	for opt in --secret --name --version --trusted-comment --output; do
		[[ "$output" == *"$opt"* ]]
	done
	run "$KXSIGN"
	[ "$status" -eq 2 ]
	run "$KXSIGN" frobnicate
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown command 'frobnicate'"* ]]
	run "$KXSIGN" verify libdemo.so
	[ "$status" -eq 2 ]
	[[ "$output" == *"usage: kxsign verify"* ]]
	run "$KXSIGN" sign -s test.sec libdemo.so
	[ "$status" -eq 2 ]
	run "$KXSIGN" verify -p missing.pub libdemo.so
	[ "$status" -eq 2 ]
	[[ "$output" == *"missing.pub"* ]]
	run "$KXSIGN" verify -p test.pub missing.so
	[ "$status" -eq 2 ]
	[[ "$output" == *"missing.so: cannot open"* ]]
}

@test "content digest is the same before and after signing" {
	before=$("$KXSIGN" digest libdemo.so | cut -d' ' -f1)
	sign_demo >/dev/null
	after=$("$KXSIGN" digest libdemo.so | cut -d' ' -f1)
	[ "${#before}" -eq 64 ]
	[ "$before" = "$after" ]
	run "$KXSIGN" verify -p test.pub libdemo.so
	[[ "$output" == *"content digest $before"* ]]
	other=$("$KXSIGN" digest libother.so | cut -d' ' -f1)
	[ "$other" != "$before" ]
}

@test "libkxsig.a (what the manager links) holds no secret-key code" {
	lib="$KX_BUILD/lib/libkxsig.a"
	[ -f "$lib" ]
	run nm -u "$lib"
	[ "$status" -eq 0 ]
	[[ "$output" == *"crypto_sign_verify_detached"* ]]
	[[ "$output" != *"crypto_sign_detached"* ]]
	[[ "$output" != *"crypto_pwhash"* ]]
	[[ "$output" != *"secretbox"* ]]
	[[ "$output" != *"crypto_sign_keypair"* ]]
}
