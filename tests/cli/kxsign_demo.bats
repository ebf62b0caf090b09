#!/usr/bin/env bats
# The README's main job: tests/demo.sh runs and exits 0, showing each step.

@test "demo: keygen, sign, verify, show, tampered copy rejected" {
	run sh "$KX_ROOT/tests/demo.sh" "$KX_BUILD"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"signature OK: libdemo"* ]]
	[[ "$output" == *"verification failed: PT_LOAD"*"changed"* ]]
	[[ "$output" == *"demo: all steps behaved as expected"* ]]
}
