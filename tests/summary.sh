#!/bin/sh
# Sum the per-phase results of every build variant into one closing line.
set -u
passed=0; failed=0
for b in "$@"; do
	[ -f "$b/results" ] || continue
	while read -r _ p f; do
		passed=$((passed + p)); failed=$((failed + f))
	done < "$b/results"
done
echo "kx test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
