#!/usr/bin/env bats
# fuzz/report.sh (issue #11 §8): `make fuzz-report FUZZ_TARGET=fuzz_x`
# runs one harness and must update that harness's row of the table in
# docs/fuzzing.md only: the rows of harnesses not run this time stay as
# they were (their own numbers and dates), in their order; a harness new to
# the table is added at its end; one whose binary is missing keeps its row.
# The harnesses here are stand-ins that print what libFuzzer prints, run
# in a scratch tree (report.sh works on fuzz/ and docs/ of its cwd), so the
# test needs no libFuzzer build.

# A stand-in harness NAME that reports EXECS executions, COV edges and a
# corpus of CORP inputs, the way libFuzzer prints them.
harness() {
	printf '#!/bin/sh\n%s\n%s\n%s\n' \
		"echo '#2	INITED cov: 10 ft: 12 corp: 3/30b exec/s: 0 rss: 30Mb'" \
		"echo '#$2	DONE   cov: $3 ft: 99 corp: $4/40b lim: 4 exec/s: 0 rss: 31Mb'" \
		"echo 'stat::number_of_executed_units: $2'" > "build/fuzz/$1"
	chmod +x "build/fuzz/$1"
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	mkdir -p build/fuzz docs
	harness fuzz_a 1000 44 5
	harness fuzz_b 777 55 6
	harness fuzz_c 888 66 7
	cat > docs/fuzzing.md <<-'EOF'
	# Fuzzing

	<!-- fuzz-report: begin -->
	| harness | execs | time (s) | execs/s | coverage (edges / features) | corpus | findings | date |
	|---|---:|---:|---:|---|---:|---:|---|
	| fuzz_a | 10000000 | 900 | 11111 | 500 / 900 | 40 | 0 | 2026-01-01 |
	| fuzz_b | 20000000 | 1800 | 11111 | 600 / 1000 | 50 | 0 | 2026-01-02 |
	<!-- fuzz-report: end -->

	After the table.
	EOF
	today=$(date -u +%Y-%m-%d)
	ROW_A='| fuzz_a | 10000000 | 900 | 11111 | 500 / 900 | 40 | 0 | 2026-01-01 |'
}

report() {
	run sh "$KX_ROOT/fuzz/report.sh" build 1000 5 "$@"
}

# The table between the markers, rows only.
rows() {
	sed -n '/^| fuzz_/p' docs/fuzzing.md
}

@test "fuzz-report: one harness run replaces its row only; the others keep theirs, in order" {
	report fuzz_b
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$(rows | wc -l)" -eq 2 ]
	[ "$(rows | sed -n 1p)" = "$ROW_A" ]
	[[ "$(rows | sed -n 2p)" == "| fuzz_b | 777 | "*" | 55 / 99 | 6 | 0 | $today |" ]]
	# The rest of the document is untouched.
	grep -qx 'After the table.' docs/fuzzing.md
	[ "$(grep -c 'fuzz-report: begin' docs/fuzzing.md)" -eq 1 ]
	[ "$(sed -n 1p fuzz/out/report/table.md)" = "$(sed -n 4p docs/fuzzing.md)" ]
}

@test "fuzz-report: a harness new to the table is added at its end" {
	report fuzz_c
	[ "$status" -eq 0 ]
	[ "$(rows | wc -l)" -eq 3 ]
	[ "$(rows | sed -n 1p)" = "$ROW_A" ]
	[[ "$(rows | sed -n 2p)" == "| fuzz_b | 20000000 | 1800 |"*"| 2026-01-02 |" ]]
	[[ "$(rows | sed -n 3p)" == "| fuzz_c | 888 | "*" | 66 / 99 | 7 | 0 | $today |" ]]
}

@test "fuzz-report: a harness whose binary is missing keeps its row (and the run says so)" {
	rm build/fuzz/fuzz_a
	report fuzz_a fuzz_b
	[ "$status" -eq 2 ]
	[[ "$output" == *"no build/fuzz/fuzz_a"* ]]
	[ "$(rows | sed -n 1p)" = "$ROW_A" ]
	[[ "$(rows | sed -n 2p)" == "| fuzz_b | 777 | "* ]]
}

@test "fuzz-report: without markers in docs/fuzzing.md the last table.md is the one updated" {
	printf '# Fuzzing\n\nNo table here.\n' > docs/fuzzing.md
	report fuzz_b
	[ "$status" -eq 0 ]
	report fuzz_c
	[ "$status" -eq 0 ]
	[[ "$output" == *"has no markers"* ]]
	[ "$(grep -c '^| fuzz_' fuzz/out/report/table.md)" -eq 2 ]
	[[ "$(sed -n 3p fuzz/out/report/table.md)" == "| fuzz_b | 777 | "* ]]
	[[ "$(sed -n 4p fuzz/out/report/table.md)" == "| fuzz_c | 888 | "* ]]
	! grep -q '^| fuzz_' docs/fuzzing.md
}
