#!/bin/sh
# Time-boxed AFL++ campaign over one or more harnesses.
# usage: campaign.sh AFL_BUILD_DIR SECONDS HARNESS...
# Findings land in fuzz/out/<harness>/; each harness gets SECONDS.
set -u
build=$1; secs=$2; shift 2
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
status=0
for h in "$@"; do
	name=${h#fuzz_}
	in="fuzz/corpus/$name"; out="fuzz/out/$name"
	[ -d "$in" ] || { echo "no corpus for $h" >&2; status=2; continue; }
	dict=""; [ -f "fuzz/dict/$name.dict" ] && dict="-x fuzz/dict/$name.dict"
	mkdir -p "$out"
	echo "== $h: $secs s =="
	# shellcheck disable=SC2086
	afl-fuzz -V "$secs" -i "$in" -o "$out" $dict -- "$build/fuzz/$h" >"$out/afl.log" 2>&1
	stats="$out/default/fuzzer_stats"
	if [ -f "$stats" ]; then
		grep -E '^(execs_done|execs_per_sec|corpus_count|bitmap_cvg|saved_crashes|saved_hangs)' "$stats"
		c=$(sed -n 's/^saved_crashes *: *//p' "$stats"); hg=$(sed -n 's/^saved_hangs *: *//p' "$stats")
		[ "${c:-0}" -eq 0 ] && [ "${hg:-0}" -eq 0 ] || status=1
	else
		tail -20 "$out/afl.log"; status=2
	fi
done
exit $status
