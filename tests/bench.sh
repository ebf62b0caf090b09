#!/bin/sh
# Run every benchmark binary; each prints its figures beside the Linux
# equivalent measured in the same run, as a ratio.
# usage: bench.sh BUILD_DIR BENCH...
set -u
build=$1; shift
[ "$#" -gt 0 ] || { echo "no benchmarks built"; exit 0; }
status=0
for b in "$@"; do
	echo "== $b"
	(cd "$(pwd)" && "$build/bench/$b") || status=1
done
exit $status
