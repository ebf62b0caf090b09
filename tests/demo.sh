#!/bin/sh
# kx demo (the README's main job): sign a library and watch kx's signer
# accept it and reject a tampered copy.
# usage: tests/demo.sh BUILD_DIR      (make demo runs it)
# Exits 0 when every step behaves as expected, non-zero otherwise.
set -u

build=${1:?usage: tests/demo.sh BUILD_DIR}
kxsign="$build/bin/kxsign"
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/kx-demo.XXXXXX") || exit 2
trap 'rm -rf "$scratch"' EXIT INT TERM

step=0
say() {
	step=$((step + 1))
	printf '\n== %d. %s\n' "$step" "$*"
}
# Show a command, run it, and require the exit status given first.
expect() {
	want=$1
	shift
	printf '$ %s\n' "$*"
	"$@" 2>&1
	got=$?
	if [ "$got" -ne "$want" ]; then
		printf 'demo: FAILED: expected exit %d, got %d\n' "$want" "$got"
		exit 1
	fi
}

[ -x "$kxsign" ] || { echo "demo: $kxsign not built (run make first)"; exit 2; }
cd "$scratch" || exit 2

say "build a demo shared library"
expect 0 cc -shared -fPIC -O1 -o libdemo.so "$root/tests/data/signer/libdemo.c"

say "generate a development key pair (unencrypted: --no-passphrase)"
expect 0 "$kxsign" keygen --no-passphrase -c "demo key" -p demo.pub -s demo.sec

say "sign the library with its name and version"
expect 0 "$kxsign" sign -s demo.sec --name libdemo --version 1.0.0 \
	-t "built by tests/demo.sh" libdemo.so

say "verify it against the public key"
expect 0 "$kxsign" verify -p demo.pub libdemo.so

say "show what the signature says"
expect 0 "$kxsign" show libdemo.so

say "tamper with one byte of the code in a copy"
cp libdemo.so tampered.so
text=$(readelf -SW tampered.so | sed 's/^ *\[ *[0-9]*\] *//' | awk '$1 == ".text" { print $4 }')
[ -n "$text" ] || { echo "demo: FAILED: no .text section found"; exit 1; }
offset=$((0x$text + 1))
old=$(od -An -tx1 -j "$offset" -N1 tampered.so | tr -d ' ')
if [ "$old" = "cc" ]; then new='\220'; else new='\314'; fi
printf "$new" | dd of=tampered.so bs=1 seek="$offset" conv=notrunc 2>/dev/null
printf 'byte at offset %d (in .text): 0x%s -> 0x%s\n' "$offset" "$old" \
	"$(od -An -tx1 -j "$offset" -N1 tampered.so | tr -d ' ')"

say "verify the tampered copy: rejected, naming the changed region"
expect 1 "$kxsign" verify -p demo.pub tampered.so

say "the original still verifies"
expect 0 "$kxsign" verify -p demo.pub libdemo.so

printf '\ndemo: all steps behaved as expected\n'
exit 0
