#!/bin/sh
# Run cmocka unit-test binaries; record "passed failed" in BUILD/results.
# usage: run-unit.sh BUILD_DIR TEST_BIN...
set -u
build=$1; shift
passed=0; failed=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	p=${p:-0}; f=${f:-0}
	# A binary that died before its summary, or exited non-zero without
	# reporting a failure, counts as one failure.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "FAIL: $t exited $rc"; fi
	passed=$((passed + p)); failed=$((failed + f))
done
echo "unit ($build): $passed passed, $failed failed"
echo "unit $passed $failed" >> "$build/results"
[ "$failed" -eq 0 ]
