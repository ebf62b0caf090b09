#!/bin/sh
# Run every benchmark binary; each prints its figures beside the Linux
# equivalent measured in the same run, as a ratio.  A BENCH ending in .sh
# is a script, run as `sh SCRIPT BUILD_DIR`.
# usage: bench.sh BUILD_DIR BENCH...
set -u
build=$1; shift
[ "$#" -gt 0 ] || { echo "no benchmarks built"; exit 0; }
status=0
for b in "$@"; do
	case $b in
	bench_fork|bench_recycle)
		# kxd in the loop: once per audit sync mode (kxd --audit-sync)
		for mode in always group interval=100; do
			echo "== $b (audit sync $mode)"
			KX_BENCH_AUDIT_SYNC=$mode "$build/bench/$b" || status=1
		done ;;
	*.sh)
		echo "== $(basename "$b" .sh)"
		sh "$b" "$build" || status=1 ;;
	*)
		echo "== $b"
		(cd "$(pwd)" && "$build/bench/$b") || status=1 ;;
	esac
done
exit $status
