#!/bin/sh
# Run the bats CLI suites against the binaries of one build variant.
# usage: run-bats.sh BUILD_DIR BATS_DIR
set -u
build=$1; dir=$2
KX_BUILD=$(cd "$build" && pwd); export KX_BUILD
KX_BIN=$KX_BUILD/bin; export KX_BIN
KX_ROOT=$(pwd); export KX_ROOT
files=$(ls "$dir"/*.bats 2>/dev/null)
if [ -z "$files" ]; then
	echo "cli ($build): no bats files"; echo "cli 0 0 0" >> "$build/results"; exit 0
fi
out=$(bats --tap $files 2>&1); rc=$?
printf '%s\n' "$out"
# A skipped test (TAP "ok N name # skip reason") is neither passed nor failed.
s=$(printf '%s\n' "$out" | grep -c '^ok .* # skip')
p=$(( $(printf '%s\n' "$out" | grep -c '^ok ') - s ))
f=$(printf '%s\n' "$out" | grep -c '^not ok ')
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
echo "cli ($build): $p passed, $f failed, $s skipped"
echo "cli $p $f $s" >> "$build/results"
[ "$f" -eq 0 ]
