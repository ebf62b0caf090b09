#!/bin/sh
# Replay each libFuzzer harness over its seed corpus and regression files.
# usage: replay.sh BUILD_DIR HARNESS...   (harness fuzz_X uses fuzz/corpus/X
# and fuzz/regress/X when present)
set -u
build=$1; shift
passed=0; failed=0
for h in "$@"; do
	name=${h#fuzz_}
	dirs=""
	for d in "fuzz/corpus/$name" "fuzz/regress/$name"; do
		[ -d "$d" ] && dirs="$dirs $d"
	done
	if [ -z "$dirs" ]; then
		echo "FAIL: $h has no corpus (fuzz/corpus/$name)"; failed=$((failed + 1)); continue
	fi
	n=$(find $dirs -type f | wc -l)
	# shellcheck disable=SC2086
	if "$build/fuzz/$h" -runs=0 $dirs > "$build/fuzz/$h.log" 2>&1; then
		echo "ok: $h replayed $n inputs"; passed=$((passed + 1))
	else
		tail -30 "$build/fuzz/$h.log"; echo "FAIL: $h"; failed=$((failed + 1))
	fi
done
echo "fuzz-replay ($build): $passed passed, $failed failed"
echo "fuzz $passed $failed" >> "$build/results"
[ "$failed" -eq 0 ]
