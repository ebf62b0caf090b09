#!/bin/sh
# fuzz/gen/pack.sh: writes fuzz_pack's seeds into fuzz/corpus/pack/: packs
# made by kx-pack (the libc test tree, an empty tree, a one-file tree, a
# deep and a wide one) and, into fuzz/regress/pack/, hostile packs the
# reader must refuse (a file's bytes past the end, an orphan entry, an
# unsorted table).  Run from the repository root after `make`:
#     sh fuzz/gen/pack.sh build/bin/kx-pack
set -eu
pack=${1:-build/bin/kx-pack}
out=fuzz/corpus/pack
reg=fuzz/regress/pack
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out" "$reg"
"$pack" --blob -m /srv/tree -o "$out/libc-tree.pack" tests/libc/tree
mkdir "$tmp/empty"
"$pack" --blob -o "$out/empty.pack" "$tmp/empty"
mkdir "$tmp/one" && printf 'x' > "$tmp/one/f"
"$pack" --blob -m /a/b/c -o "$out/one.pack" "$tmp/one"
mkdir -p "$tmp/deep/a/b/c/d/e" && echo deep > "$tmp/deep/a/b/c/d/e/f"
"$pack" --blob -o "$out/deep.pack" "$tmp/deep"
mkdir "$tmp/wide"
for i in 0 1 2 3 4 5 6 7 8 9 a-b a.b a_b; do echo "$i" > "$tmp/wide/$i"; done
mkdir "$tmp/wide/a" && echo in > "$tmp/wide/a/x"
"$pack" --blob -o "$out/wide.pack" "$tmp/wide"
# Hostile: one.pack's only entry (table entry 0) claims 2 GiB of bytes.
cp "$out/one.pack" "$reg/data-past-end.pack"
printf '\377\377\377\177' | dd of="$reg/data-past-end.pack" bs=1 seek=$((32 + 24)) \
	conv=notrunc 2>/dev/null
# deep.pack's entries are a, a/b, a/b/c...: entry 0's path becomes "b",
# which sorts after "a/b".
cp "$out/deep.pack" "$reg/unsorted.pack"
off=$(od -An -tu4 -j32 -N4 "$out/deep.pack" | tr -d ' ')
printf 'b' | dd of="$reg/unsorted.pack" bs=1 seek="$off" conv=notrunc 2>/dev/null
echo "wrote $(ls "$out" | wc -l) seeds to $out, $(ls "$reg" | wc -l) to $reg"
