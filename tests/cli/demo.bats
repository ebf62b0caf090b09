#!/usr/bin/env bats
# The README's main job: tests/demo.sh runs every step and exits 0.  Without
# a usable /dev/kvm it stops after the signing and policy parts (exit 3), and
# this test is skipped with that reason, never passed.

@test "demo: sign, compile policy, run pVMs with gated libraries, audit" {
	run sh "$KX_ROOT/tests/demo.sh" "$KX_BUILD"
	echo "$output"
	if [ "$status" -eq 3 ]; then
		skip "no usable /dev/kvm: $("$KX_BIN/kxmon" --check 2>&1)"
	fi
	[ "$status" -eq 0 ]
	# Part 1: signing, and a tampered copy named by region.
	[[ "$output" == *"signature OK: libdemo"* ]]
	[[ "$output" == *"verification failed: PT_LOAD"*"changed"* ]]
	# Part 2: the example policy compiles and explains.
	[[ "$output" == *"3 manifests: 3 apps, no errors"* ]]
	[[ "$output" == *"ALLOW link"*"rule: policy/kvstore.yaml:"* ]]
	# Part 3: the pVM ran, called its lazily bound library and the dlopen'ed one.
	[[ "$output" == *"kvstore: apples=42 pears=42 plums=84"* ]]
	[[ "$output" == *"[acme-log 3.3.0 #1] kvstore: plums = 84"* ]]
	[[ "$output" == *"boot denied: libkvmath.so"*"signature tampered"* ]]
	[[ "$output" == *"boot denied: libkvmath.so"*"not signed"* ]]
	[[ "$output" == *"kvstore: libacme-log.so not linked (-13)"* ]]
	# Part 4: the audit log has every decision, denials with their rule.
	[[ "$output" == *"lib libkvmath 1.16.2 ALLOW policy/kvstore.yaml:"* ]]
	[[ "$output" == *"lib libacme-log DENY policy/kvstore.yaml:"*"which app kvstore revokes"* ]]
	[[ "$output" == *"demo: all steps behaved as expected"* ]]
}
