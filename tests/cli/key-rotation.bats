#!/usr/bin/env bats
# Key rotation: a manifest trusts a key `until` a date and its successor
# `from` an earlier one (the overlap); `kxsign resign` moves a library to the
# new key keeping its name and version; the gate refuses the old key after
# its date and `kxpolicy explain` names the key a decision relied on.  kxd
# runs real dates here (the old key ended in 2020, the new one began in
# 2019); the boundaries themselves are tested on an injected clock in
# tests/unit/test_gate.c and test_policy_decide.c.  pVMs: fake-kxmon.

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

setup_file() {
	kxd_fixture
	local fx=$BATS_FILE_TMPDIR/fx
	mkdir -p "$fx/rot-lib"
	cat > "$fx/rot.yaml" <<YAML
kx-manifest: 1
app: hello
image: hello.kxe
memory: 16M
keys:
  acme: $KX_ROOT/manifests/keys/acme.pub
  old-libc: {file: $KX_ROOT/manifests/keys/libc-team.pub, until: 2020-01-01}
  new-libc: {file: $KX_ROOT/manifests/keys/webco.pub, from: 2019-06-01}
libraries:
  - name: libkvtest
    signed-by: [old-libc, new-libc]
    version: ">= 1 && < 2"
YAML
	"$KX_BIN/kxpolicy" compile --serial 1 -o "$fx/rot.kxp" "$fx/rot.yaml" >/dev/null
	cp "$fx/lib/libkvtest.so" "$fx/rot-lib/libkvtest.so" # signed by libc-team
}

setup() {
	export KXD_LIBDIR=$BATS_TEST_TMPDIR/lib # this test's copy: it may be re-signed
	cp -r "$FX/rot-lib" "$KXD_LIBDIR"
}

teardown() {
	stop_kxd
}

# a kxd over the rotation policy and its one libdir
start_rot_kxd() {
	SOCK=$BATS_TEST_TMPDIR/kxd.sock
	"$KXD" --policy "$FX/rot.kxp" --socket "$SOCK" --audit-log "$BATS_TEST_TMPDIR/audit.log" \
		--libdir "$KXD_LIBDIR" --monitor "$FAKE"
}

@test "kxsign resign: the same name, version, content and pointer map under the new key" {
	f=$BATS_TEST_TMPDIR/lib.so
	cp "$FX/lib/libkvtest.so" "$f"
	before_digest=$("$KXSIGN" digest "$f" | cut -d' ' -f1)
	before_map=$("$KXSIGN" ptrmap --all "$f" 2>&1 || true)
	run "$KXSIGN" resign -s "$SECS/webco.sec" -p "$KX_ROOT/manifests/keys/libc-team.pub" "$f"
	[ "$status" -eq 0 ] || explain "resign"
	[[ "$output" == "re-signed $f as libkvtest 1.2: key "*" -> 99995c1484c2b896 -> $f" ]] ||
		explain "names both keys"
	run "$KXSIGN" verify -p "$KX_ROOT/manifests/keys/webco.pub" "$f"
	[ "$status" -eq 0 ] && [[ "$output" == *"signature OK: libkvtest 1.2, signed by key 99995c1484c2b896"* ]] ||
		explain "verifies under the new key, same name and version"
	run "$KXSIGN" verify -p "$KX_ROOT/manifests/keys/libc-team.pub" "$f"
	[ "$status" -eq 1 ] || explain "no longer under the old key"
	[ "$("$KXSIGN" digest "$f" | cut -d' ' -f1)" = "$before_digest" ] || explain "same content digest"
	[ "$("$KXSIGN" ptrmap --all "$f" 2>&1 || true)" = "$before_map" ] || explain "same pointer map"
}

@test "kxsign resign: a file whose signature does not verify is never re-signed" {
	f=$BATS_TEST_TMPDIR/lib.so
	cp "$FX/lib/libkvtest.so" "$f"
	cp "$f" "$BATS_TEST_TMPDIR/orig.so"
	run "$KXSIGN" resign -s "$SECS/webco.sec" -p "$KX_ROOT/manifests/keys/acme.pub" "$f"
	[ "$status" -eq 1 ] && [[ "$output" == *"not re-signed: the current signature does not verify"* ]] ||
		explain "wrong old key"
	cmp "$f" "$BATS_TEST_TMPDIR/orig.so" || explain "the file is untouched"
	cp "$FX/lib/libkvunsigned.so" "$f"
	run "$KXSIGN" resign -s "$SECS/webco.sec" -p "$KX_ROOT/manifests/keys/libc-team.pub" "$f"
	[ "$status" -ne 0 ] && cmp "$f" "$FX/lib/libkvunsigned.so" || explain "an unsigned file"
	python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[9] ^= 1  # ELF header padding: covered
open(sys.argv[1], "wb").write(b)' "$BATS_TEST_TMPDIR/orig.so"
	run "$KXSIGN" resign -s "$SECS/webco.sec" -p "$KX_ROOT/manifests/keys/libc-team.pub" \
		-o "$BATS_TEST_TMPDIR/out.so" "$BATS_TEST_TMPDIR/orig.so"
	[ "$status" -eq 1 ] && [[ "$output" == *"ELF header"*"changed"* ]] &&
		[ ! -e "$BATS_TEST_TMPDIR/out.so" ] || explain "a tampered file"
	run "$KXSIGN" resign -s "$SECS/webco.sec" "$f"
	[ "$status" -eq 2 ] || explain "the old key is required"
}

@test "rotation: the old key is refused after its date, the re-signed copy is accepted, explain names the key" {
	start_rot_kxd
	ctl run "$FX/hello.kxe" link libkvtest.so
	[ "$status" -eq 0 ] || explain "run"
	[[ "${lines[0]}" == "DENY libkvtest.so: "*"signed by key "*" (old-libc), which app hello trusted until 2020-01-01 (now "*"): re-sign it with a current key (kxsign resign)"* ]] ||
		explain "the old key expired"
	"$KXCTL" stop --socket "$SOCK"
	"$KXSIGN" resign -s "$SECS/webco.sec" -p "$KX_ROOT/manifests/keys/libc-team.pub" \
		"$KXD_LIBDIR/libkvtest.so" >/dev/null
	start_rot_kxd
	ctl run "$FX/hello.kxe" link libkvtest.so
	[[ "${lines[0]}" == "ALLOW libkvtest.so 1.2 "*"same=1"* ]] || explain "the re-signed copy"
	ctl audit
	[[ "$output" == *"lib libkvtest 1.2 ALLOW"* ]] || explain "audited"
	# explain: which key, and its period; at a date inside the overlap both are accepted
	old=$("$KX_BIN/kxpolicy" dump "$FX/rot.kxp" | awk '$1 == "key" && $2 == "old-libc" { print $3 }')
	[ -n "$old" ] || explain "old-libc's key id"
	run "$KX_BIN/kxpolicy" explain "$FX/rot.kxp" link app=hello lib=libkvtest version=1.2 \
		signer=99995c1484c2b896 now=2019-09-01
	[ "$status" -eq 0 ] && [[ "$output" == *"key: new-libc 99995c1484c2b896, trusted from 2019-06-01"* ]] ||
		explain "explain names the new key"
	run "$KX_BIN/kxpolicy" explain "$FX/rot.kxp" link app=hello lib=libkvtest version=1.2 \
		signer="$old" now=2019-09-01
	[ "$status" -eq 0 ] && [[ "$output" == *"key: old-libc $old, trusted until 2020-01-01"* ]] ||
		explain "in the overlap the old key still counts"
	run "$KX_BIN/kxpolicy" explain --json "$FX/rot.kxp" link app=hello lib=libkvtest \
		version=1.2 signer="$old" now=2020-01-01
	[ "$status" -eq 1 ] &&
		[[ "$output" == *'"key": {"name": "old-libc", "id": "'"$old"'", "from": null, "until": "2020-01-01"}'* ]] ||
		explain "refused at its until date, and says which key"
	run "$KX_BIN/kxpolicy" dump "$FX/rot.kxp"
	[[ "$output" == *"key old-libc $old "*" until 2020-01-01"* ]] || explain "dump shows the period"
}
