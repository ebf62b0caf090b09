#!/bin/sh
# Fuzzing as evidence: run each libFuzzer harness (ASan+UBSan, build-fuzz/)
# until it has done EXECS executions or spent SECONDS, whichever comes first,
# starting from its seeds and regression files, and write the table of
# docs/fuzzing.md (harness, execs, time, coverage, findings, date).
#
# usage: report.sh BUILD_DIR EXECS SECONDS HARNESS...
#
# Each harness works in fuzz/out/report/NAME/: corpus/ (the corpus it grew,
# kept for the next run and for `make fuzz`), crash-*, leak-*, timeout-*
# (findings: copy each one into fuzz/regress/NAME/ once fixed) and log.
# The table goes to fuzz/out/report/table.md and, atomically, into
# docs/fuzzing.md between its two marker lines.  A harness not run this
# time (not named, or its binary missing) keeps its row from the table
# already there, date and all, so `make fuzz-report FUZZ_TARGET=fuzz_x`
# updates fuzz_x's row only; rows keep their order and a harness new to
# the table is added at its end.  Exit 1 when any harness found something,
# 2 on a setup error.
set -u
build=$1; execs=$2; secs=$3; shift 3
out=fuzz/out/report
doc=docs/fuzzing.md
begin='<!-- fuzz-report: begin -->'
end='<!-- fuzz-report: end -->'
status=0
mkdir -p "$out"
date=$(date -u +%Y-%m-%d)
: > "$out/rows.new"
for h in "$@"; do
	name=${h#fuzz_}
	dir=$out/$name
	bin=$build/fuzz/$h
	[ -x "$bin" ] || { echo "report: no $bin (make FUZZ=libfuzzer fuzzers)" >&2; status=2; continue; }
	mkdir -p "$dir/corpus"
	seeds=""
	for d in "fuzz/corpus/$name" "fuzz/regress/$name"; do
		[ -d "$d" ] && seeds="$seeds $d"
	done
	dict=""
	[ -f "fuzz/dict/$name.dict" ] && dict="-dict=fuzz/dict/$name.dict"
	echo "== $h: up to $execs executions or $secs s =="
	t0=$(date +%s)
	# shellcheck disable=SC2086
	"$bin" -runs="$execs" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=4096 -artifact_prefix="$dir/" $dict "$dir/corpus" $seeds \
		> "$dir/log" 2>&1
	t1=$(date +%s)
	done_execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
	last=$(grep -E '^#[0-9]+' "$dir/log" | tail -1)
	cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\).*/\1 \/ \2/p')
	corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p')
	findings=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
		-o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	elapsed=$((t1 - t0))
	rate=$(( ${done_execs:-0} / (elapsed > 0 ? elapsed : 1) ))
	[ "$findings" -eq 0 ] || status=1
	[ -n "$done_execs" ] || { tail -20 "$dir/log"; status=2; }
	echo "| $h | ${done_execs:-?} | $elapsed | $rate | ${cov:-?} | ${corp:-?} | $findings | $date |" \
		>> "$out/rows.new"
	echo "   ${done_execs:-?} execs in $elapsed s, cov ${cov:-?}, $findings findings"
done

# The rows before this run: the table in docs/fuzzing.md (between its
# markers), else the last table.md.  Only "| fuzz_..." lines are rows.
if [ -f "$doc" ] && grep -qF "$begin" "$doc" && grep -qF "$end" "$doc"; then
	awk -v b="$begin" -v e="$end" '$0 == b { on = 1; next } $0 == e { on = 0 } on' "$doc"
elif [ -f "$out/table.md" ]; then
	cat "$out/table.md"
fi | grep '^| fuzz_' > "$out/rows.old" || :
{
	echo "| harness | execs | time (s) | execs/s | coverage (edges / features) | corpus | findings | date |"
	echo "|---|---:|---:|---:|---|---:|---:|---|"
	# This run's row replaces a harness's old one in place; other old rows
	# stay; harnesses new to the table follow, in the order they ran.
	awk 'function name(row,  f) { split(row, f, "|"); gsub(/ /, "", f[2]); return f[2] }
		FILENAME == ARGV[1] { n = name($0); if (!(n in fresh)) order[++count] = n
			fresh[n] = $0; next }
		{ n = name($0); if (n in fresh) { print fresh[n]; done[n] = 1 } else print }
		END { for (i = 1; i <= count; i++) if (!(order[i] in done)) print fresh[order[i]] }' \
		"$out/rows.new" "$out/rows.old"
} > "$out/table.md.tmp"
mv "$out/table.md.tmp" "$out/table.md"
rm -f "$out/rows.new" "$out/rows.old"

# docs/fuzzing.md: the table replaces what lies between the markers.
if [ -f "$doc" ] && grep -qF "$begin" "$doc" && grep -qF "$end" "$doc"; then
	tmp=$(mktemp "$doc.XXXXXX")
	awk -v b="$begin" -v e="$end" -v t="$out/table.md" '
		$0 == b { print; while ((getline l < t) > 0) print l; skip = 1; next }
		$0 == e { skip = 0 }
		!skip' "$doc" > "$tmp" && sync "$tmp" && mv "$tmp" "$doc" || { rm -f "$tmp"; status=2; }
	echo "report: table written to $doc"
else
	echo "report: $doc has no markers; the table is in $out/table.md" >&2
fi
exit $status
