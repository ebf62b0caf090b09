#!/usr/bin/env bats
# `kxpolicy check`: the manifest front end seen from the command line --
# compiler-style diagnostics (file:line:col, source line, caret, hint), every
# diagnostic of a file, exit 0 clean / 1 errors, key files relative to the
# manifest, and hostile YAML refused without a crash.
# The bad manifests and their exact diagnostics are in tests/policy/bad/
# (checked one by one in tests/unit/test_policy_front_manifest.c).

setup() {
	KXP="$KX_BIN/kxpolicy"
	BAD="$KX_ROOT/tests/policy/bad"
	cd "$KX_ROOT"
}

# Run kxpolicy check with stdout and stderr together.
check() {
	run sh -c '"$0" check "$@" 2>&1' "$KXP" "$@"
}

@test "the example manifests are clean" {
	check manifests/*.yaml
	[ "$status" -eq 0 ]
	[[ "$output" != *"error:"* ]]
	[[ "$output" != *"warning:"* ]]
}

@test "key files are found relative to the manifest, from any directory" {
	cd "$BATS_TEST_TMPDIR"
	check "$KX_ROOT"/manifests/*.yaml
	[ "$status" -eq 0 ]
}

@test "a diagnostic is file:line:col, the line, a caret and a hint" {
	check tests/policy/bad/unknown_key.yaml
	[ "$status" -eq 1 ]
	printf '%s\n' "$output" | grep -A3 -x "tests/policy/bad/unknown_key.yaml:10:5: error: unknown key 'loadr' in a library" \
		> "$BATS_TEST_TMPDIR/one"
	printf '%s\n' \
		"tests/policy/bad/unknown_key.yaml:10:5: error: unknown key 'loadr' in a library" \
		"    loadr: self" \
		"    ^" \
		"hint: did you mean 'loader'?" | diff - "$BATS_TEST_TMPDIR/one"
}

@test "every diagnostic of a file is reported, not just the first" {
	check tests/policy/bad/unknown_key.yaml
	[ "$status" -eq 1 ]
	[ "$(printf '%s\n' "$output" | grep -c ': error: ')" -eq 8 ]
	[[ "$output" == *"8 errors and 0 warnings"* ]]
}

@test "warnings alone do not fail the check" {
	check tests/policy/bad/warnings.yaml
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c ': warning: ')" -eq 7 ]
	[[ "$output" == *"loader: any and update: allow"* ]]
}

@test "trust that the peer does not declare back is refused" {
	check tests/policy/bad/trust/*.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"a.yaml:9:7: error: trust is not mutual for shm: 'b' trusts 'a' only for msgq"* ]]
	[[ "$output" == *"hint: add {app: a, ipc: [pipe]} to family.trust in tests/policy/bad/trust/c.yaml"* ]]
}

@test "a trust rule needs the peer's manifest in the same run" {
	check manifests/kvstore.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"trust names app 'kvstore-backup', which has no manifest in this policy"* ]]
}

@test "two manifests for one app are refused" {
	check manifests/kvstore.yaml manifests/kvstore-backup.yaml manifests/webcache.yaml \
		manifests/kvstore.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"error: app 'kvstore' is already defined in manifests/kvstore.yaml"* ]]
}

@test "a revoked key that is still trusted is an error" {
	mkdir -p "$BATS_TEST_TMPDIR/m"
	cp -r manifests/keys "$BATS_TEST_TMPDIR/m/"
	cp manifests/*.yaml "$BATS_TEST_TMPDIR/m/"
	sed -i 's|^  acme: keys/acme.pub|  acme: keys/acme.pub\n  old: keys/acme-2019.pub|' \
		"$BATS_TEST_TMPDIR/m/kvstore.yaml"
	check "$BATS_TEST_TMPDIR"/m/*.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"kvstore.yaml:13:8: error: key 'old' (id f297d45960afa4ff) is revoked"* ]]
}

@test "a missing or malformed key file names the file" {
	mkdir -p "$BATS_TEST_TMPDIR/m/keys"
	cp manifests/*.yaml "$BATS_TEST_TMPDIR/m/"
	cp manifests/keys/*.pub "$BATS_TEST_TMPDIR/m/keys/"
	rm "$BATS_TEST_TMPDIR/m/keys/webco.pub"
	echo garbage > "$BATS_TEST_TMPDIR/m/keys/acme.pub"
	check "$BATS_TEST_TMPDIR"/m/*.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"webcache.yaml:11:10: error: cannot read key file 'keys/webco.pub' for key 'webco'"* ]]
	[[ "$output" == *"kvstore.yaml:12:9: error: malformed key file 'keys/acme.pub' for key 'acme'"* ]]
}

@test "an empty version range points into the constraint" {
	check tests/policy/bad/version_empty.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"version_empty.yaml:11:20: error: empty version range"* ]]
	printf '%s\n' "$output" | grep -A2 -F 'version_empty.yaml:11:20:' | tail -1 | grep -qx '                   ^'
}

@test "hostile YAML is refused with a position, never a crash" {
	for f in alias_bomb deep_flow deep_block garbage invalid_utf8 nul_byte utf16 tags; do
		check "$BAD/$f.yaml"
		echo "$f: status $status"
		[ "$status" -eq 1 ]
		[[ "$output" == *"$f.yaml:"*": error: "* ]]
	done
}

@test "a manifest over 1 MiB is not read" {
	head -c 2000000 /dev/zero | tr '\0' '#' > "$BATS_TEST_TMPDIR/big.yaml"
	check "$BATS_TEST_TMPDIR/big.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"big.yaml: error: cannot read manifest: larger than the 1 MiB limit"* ]]
}

@test "escape sequences in a manifest never reach the terminal raw" {
	printf 'kx-manifest: 1\n"\\e]2;owned\\a": 1\n' > "$BATS_TEST_TMPDIR/esc.yaml"
	check "$BATS_TEST_TMPDIR/esc.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"unknown key '\\x1b]2;owned\\x07'"* ]]
	! printf '%s' "$output" | grep -q "$(printf '\033')"
}

@test "an unreadable manifest is an error naming it" {
	check "$BATS_TEST_TMPDIR/none.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"none.yaml: error: cannot read manifest: No such file or directory"* ]]
}
