#!/bin/sh
# fuzz/gen/elf_signed.sh: writes fuzz_elf_signed's seeds into
# fuzz/corpus/elf_signed/: the test libraries of fuzz/corpus/elf, unsigned
# and signed with the regression key (tests/data/signer/regress.sec), so the
# differential fuzzer starts from files with a .kxsig section as the gate
# sees them.  Run from the repository root after `make`:
#     sh fuzz/gen/elf_signed.sh build/bin/kxsign
set -eu
kxsign=${1:-build/bin/kxsign}
out=fuzz/corpus/elf_signed
mkdir -p "$out"
for f in fuzz/corpus/elf/*; do
	name=${f##*/}
	case $name in regress-*) continue ;; esac
	cp "$f" "$out/$name"
	SOURCE_DATE_EPOCH=1700000000 "$kxsign" sign -s tests/data/signer/regress.sec \
		--name "${name%%.*}" --version 1.0 -t seed -o "$out/signed-$name" "$f" >/dev/null
done
cp fuzz/corpus/sigsec/min-signed.so "$out/signed-min.so"
echo "wrote $(ls "$out" | wc -l) seeds to $out"
