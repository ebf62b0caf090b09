#!/bin/sh
# Sum the per-phase results of every build variant into one closing line.
set -u
passed=0; failed=0; skipped=0
for b in "$@"; do
	[ -f "$b/results" ] || continue
	while read -r _ p f s; do
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
	done < "$b/results"
done
echo "kx test: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
