#!/usr/bin/env bats
# SQLite's command-line shell from Debian's own source package, built with
# kx-cc without a change to its source (tests/sqlite/module.mk), runs a SQL
# script in a pVM and prints exactly what the native shell (the same
# amalgamation, built with the host's gcc) prints: against a database in
# the pVM's tmpfs, and in a host directory granted by a `files` rule under
# kxd — where the host's own shell then reads the database the pVM wrote.

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/guest/helpers"

KXE=$KX_BUILD/tests/sqlite/sqlite3.kxe
# Built once for every variant (guest code has no sanitizers).
NATIVE=$(dirname "$KX_BUILD")/build/sqlite/sqlite3-native
SCRIPT=$KX_ROOT/tests/sqlite/script.sql

teardown() {
	if [ -n "${SOCK:-}" ] && [ -S "$SOCK" ]; then
		"$KX_BIN/kxctl" stop --socket "$SOCK" || true
	fi
}

# The native shell's output for the script, on a fresh database.
native_output() {
	run --separate-stderr "$NATIVE" -init /dev/null "$BATS_TEST_TMPDIR/native.db" \
		".read $SCRIPT"
	[ "$status" -eq 0 ] || explain "the native shell failed"
	want=$output
	[[ "$want" == *"502|41791774|k99"* ]] || explain "the script's first result"
	[[ "$want" == *"ok" ]] || explain "integrity_check"
}

@test "sqlite: the shell is the unmodified Debian source, and its image holds no syscall" {
	[ -x "$NATIVE" ] && [ -f "$KXE" ] || explain "both shells are built"
	run "$KX_BUILD/sdk/bin/kx-nosyscall" "$KXE"
	[ "$status" -eq 0 ] || explain "no system call instruction in the image"
	run strings "$KXE"
	[[ "$output" == *"3.40.1"* ]] || explain "SQLite 3.40.1"
}

@test "sqlite: a SQL script against a database in tmpfs prints what the native shell prints" {
	native_output
	pvm -m 128M "$KXE" -init /dev/null /tmp/test.db ".read /sql/script.sql"
	[ "$status" -eq 0 ] || explain "the pVM's shell failed"
	if [ "$output" != "$want" ]; then
		diff <(echo "$want") <(echo "$output") || true
		explain "the outputs differ (native <, pVM >)"
	fi
}

@test "sqlite: the same against a database in a granted host directory, read back on the host" {
	native_output
	cd "$BATS_TEST_TMPDIR"
	# the jailed monitor writes as its jail's uid (docs/jail.md)
	mkdir -m 0777 data
	"$KX_BIN/kxsign" keygen -p me.pub -s me.sec --no-passphrase >/dev/null
	cat > sqlite.yaml <<-EOF
	kx-manifest: 1
	app: sqlite
	image: sqlite.kxe
	memory: 128M
	keys:
	  me: me.pub
	files:
	  - { guest: /data, host: $BATS_TEST_TMPDIR/data, mode: rw, max: 16M }
	EOF
	"$KX_BIN/kxsign" sign -s me.sec --name sqlite --version 3.40.1 -o sqlite.kxe "$KXE" >/dev/null
	"$KX_BIN/kxpolicy" compile --serial 1 -o sqlite.kxp sqlite.yaml >/dev/null
	SOCK=$BATS_TEST_TMPDIR/kxd.sock
	run --separate-stderr "$KX_BIN/kxctl" run --socket "$SOCK" --policy sqlite.kxp sqlite.kxe \
		-init /dev/null /data/test.db ".read /sql/script.sql"
	[ "$status" -eq 0 ] || explain "the pVM's shell failed"
	if [ "$output" != "$want" ]; then
		diff <(echo "$want") <(echo "$output") || true
		explain "the outputs differ (native <, pVM >)"
	fi
	# The database is on the host, whole, and the host's shell agrees.
	[ -s data/test.db ] || explain "the database file is on the host"
	[ ! -e data/test.db-journal ] || explain "no journal left behind"
	run "$NATIVE" -init /dev/null data/test.db "PRAGMA integrity_check; SELECT count(*), sum(v) FROM kv;"
	[ "$output" = "ok
502|41791774" ] || explain "the host reads what the pVM wrote"
	run "$KX_BIN/kxctl" audit --socket "$SOCK"
	[[ "$output" == *"file "*"/data"*"ALLOW sqlite.yaml:8"* ]] || explain "the mount audited"
}
