#!/usr/bin/env bats
# redis: Debian's redis-server, built from its source package without a
# change (tests/redis/module.mk), in a pVM under kxd (issue 14,
# docs/redis.md).  The manifest gives it a network rule (TCP 6379 only) and
# a writable host directory for its RDB; the host's redis-cli (Debian's
# redis-tools) talks to it from the test's network namespace.  Checked:
# SET/GET from the host; a port Redis listens on but the manifest does not
# list stays closed; BGSAVE forks a child pVM that writes dump.rdb into the
# granted directory while the parent serves, and a new Redis pVM started on
# that directory loads the snapshot (and not what came after the fork).
# Needs /dev/kvm, root (network namespaces, TAPs), redis-cli and python3.

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

KXE=$KX_BUILD/tests/redis/redis-server.kxe
KXE_DYN=$KX_BUILD/tests/redis/redis-server-dyn.kxe
SIPHASH=$KX_BUILD/tests/redis
PEER=$KX_ROOT/tests/data/net/peer.py
ADDR=10.77.14.2

setup_file() {
	local fx=$BATS_FILE_TMPDIR/fx
	mkdir -p "$fx/lib" "$fx/data"
	# The jailed monitor writes the directory as its jail's uid (docs/jail.md).
	chmod 0777 "$fx/data"
	cat > "$fx/redis.yaml" <<-EOF
	kx-manifest: 1
	app: redis
	image: redis.kxe
	memory: 128M
	keys:
	  acme: $KX_ROOT/manifests/keys/acme.pub
	family:
	  fork: { max-children: 1, max-depth: 1, max-members: 2 }
	  ipc: [pipe]
	files:
	  - { guest: /data, host: $fx/data, mode: rw, max: 16M }
	network:
	  - iface: net0
	    address: $ADDR/24
	    gateway: 10.77.14.1
	    listen: [6379]
	EOF
	"$KXSIGN" sign -s "$SECS/acme.sec" --name redis --version 7.0.15 -o "$fx/redis.kxe" \
		"$KXE" >/dev/null
	# The dynamic variant: Redis's siphash.c as a signed pVM library that
	# an operator may replace online (docs/redis.md).
	cat > "$fx/redis-dyn.yaml" <<-EOF
	kx-manifest: 1
	app: redis-dyn
	image: redis-dyn.kxe
	memory: 128M
	keys:
	  acme: $KX_ROOT/manifests/keys/acme.pub
	libraries:
	  - name: libredis-siphash
	    signed-by: [acme]
	    version: ">= 1.0 && < 2"
	    loader: self
	    update: allow
	    bind: lazy
	files:
	  - { guest: /data, host: $fx/data, mode: rw, max: 16M }
	network:
	  - iface: net0
	    address: $ADDR/24
	    gateway: 10.77.14.1
	    listen: [6379]
	EOF
	"$KXSIGN" sign -s "$SECS/acme.sec" --name redis-dyn --version 7.0.15 -o "$fx/redis-dyn.kxe" \
		"$KXE_DYN" >/dev/null
	"$KXSIGN" sign -s "$SECS/acme.sec" --name libredis-siphash --version 1.0 \
		-o "$fx/lib/libredis-siphash.so" "$SIPHASH/v1/libredis-siphash.so" >/dev/null
	"$KXSIGN" sign -s "$SECS/acme.sec" --name libredis-siphash --version 1.1 \
		-o "$fx/libredis-siphash-1.1.so" "$SIPHASH/v2/libredis-siphash.so" >/dev/null
	"$KXSIGN" sign -s "$SECS/acme.sec" --name libredis-siphash --version 1.2 \
		-o "$fx/libredis-siphash-1.2.so" "$SIPHASH/v1/libredis-siphash.so" >/dev/null
	"$KX_BIN/kxpolicy" compile --serial 1 -o "$fx/kx.kxp" "$fx/redis.yaml" "$fx/redis-dyn.yaml" \
		>/dev/null
	kvm_probe
}

setup() {
	need_kvm
	[ "$(id -u)" = 0 ] || skip "needs root: network namespaces and TAP devices"
	command -v redis-cli >/dev/null || skip "needs redis-cli (Debian's redis-tools)"
	command -v python3 >/dev/null || skip "needs python3 for the host side"
	rm -f "$FX/data"/*
	netns_start kxredis
}

teardown() {
	netns_stop
}

# cli ARGS...: redis-cli against the pVM from the namespace ($output, $status)
cli() {
	run ip netns exec "$NS" timeout 20 redis-cli -h "$ADDR" "$@"
}

# start_redis NAME ARGS...: a Redis pVM in the background, serving /data
# (the image $IMAGE: redis.kxe unless a test says otherwise); output in
# $RUNOUT; returns once it accepts connections
start_redis() {
	RUNOUT=$BATS_TEST_TMPDIR/run.$1.out
	shift
	"$KXCTL" run --socket "$SOCK" "$FX/${IMAGE:-redis.kxe}" --bind 0.0.0.0 --protected-mode no \
		--dir /data --save "" "$@" >"$RUNOUT" 2>&1 &
	RUNPID=$!
	wait_for grep -q "Ready to accept connections" "$RUNOUT" ||
		{ output=$(cat "$RUNOUT"); explain "Redis is ready"; }
}

# stop_redis ID: SIGTERM (Redis shuts down cleanly, without saving: no
# save points); the pVM exits 0
stop_redis() {
	"$KXCTL" kill --socket "$SOCK" --signal 15 "$1"
	status=0
	wait "$RUNPID" || status=$?
	RUNPID=
	[ "$status" -eq 0 ] || { output=$(cat "$RUNOUT"); explain "Redis exited 0"; }
}

# port_drops: pVM 1's count of port drops (kxctl list)
port_drops() {
	local n
	n=$("$KXCTL" list --socket "$SOCK" | grep -o "port=[0-9]*" | head -1 | cut -d= -f2)
	echo "${n:-0}"
}

# info_field NAME: the field of INFO persistence
info_field() {
	ip netns exec "$NS" timeout 20 redis-cli -h "$ADDR" info persistence |
		tr -d '\r' | sed -n "s/^$1://p"
}

@test "redis: the server is Debian's 7.0.15 built unmodified, and its image holds no syscall" {
	[ -f "$KXE" ] || explain "redis-server.kxe is built"
	run "$KX_BUILD/sdk/bin/kx-nosyscall" "$KXE"
	[ "$status" -eq 0 ] || explain "no system call instruction in the image"
	run "$KX_BIN/kxmon" -m 64M "$KXE" --version
	[ "$status" -eq 0 ] || explain "--version"
	[[ "$output" == "Redis server v=7.0.15 "*"malloc=libc bits=64"* ]] || explain "the version"
}

@test "redis: redis-cli on the host SETs and GETs keys in the pVM" {
	start_redis a
	cli set greeting "hello from a pVM"
	[ "$output" = "OK" ] || explain "SET"
	cli get greeting
	[ "$output" = "hello from a pVM" ] || explain "GET"
	cli incrby counter 41
	cli incr counter
	[ "$output" = "42" ] || explain "INCR"
	cli rpush list a b c
	cli lrange list 0 -1
	[ "$output" = "$(printf 'a\nb\nc')" ] || explain "a list"
	cli dbsize
	[ "$output" = "3" ] || explain "three keys"
	ctl list --json
	[[ "$output" == *'"app": "redis"'*'"unimplemented": []'* ]] ||
		explain "Redis met no system call the layer lacks"
	stop_redis 1
	grep -q "Redis is now ready to exit, bye bye" "$RUNOUT" ||
		{ output=$(cat "$RUNOUT"); explain "a clean shutdown"; }
}

@test "redis: a port Redis listens on but the manifest does not list stays closed" {
	start_redis b --port 6380
	in_ns_peer() { run ip netns exec "$NS" python3 "$PEER" tcp "$ADDR" "$1" 10; }
	in_ns_peer 6380
	[ "$output" = "refused" ] || explain "TCP 6380: refused by the monitor"
	cli -p 6380 ping
	[ "$status" -ne 0 ] && [[ "$output" == *"refused"* ]] || explain "redis-cli cannot reach it"
	in_ns_peer 6379
	[ "$output" = "refused" ] || explain "6379: nothing listens"
	# The first drop is reported at once; later counts ride on the
	# monitor's next report, which an idle pVM may not make soon.
	drops_counted() { [ "$(port_drops)" -ge 1 ]; }
	wait_for drops_counted || { ctl list; explain "the SYNs to 6380 counted"; }
	ctl audit
	grep -q "DENY .*the monitor dropped port: in tcp 10.77.14.1:[0-9]* -> $ADDR:6380" <<<"$output" ||
		explain "the first drop is audited"
	stop_redis 1
}

@test "redis: BGSAVE forks a child pVM that writes dump.rdb while the parent serves; a new Redis loads it" {
	# Each key takes the child 1 s to save (a Redis test setting), so the
	# save is still running while the parent answers below.
	start_redis c --rdb-key-save-delay 1000000
	for k in k1 k2 k3; do
		cli set "$k" "value of $k"
		[ "$output" = "OK" ] || explain "SET $k"
	done
	cli bgsave
	[ "$output" = "Background saving started" ] || explain "BGSAVE"
	[ "$(info_field rdb_bgsave_in_progress)" = 1 ] || explain "the save runs"
	# The parent serves while its child saves: reads, and a write the
	# snapshot (taken at the fork) does not hold.
	cli get k2
	[ "$output" = "value of k2" ] || explain "GET during the save"
	cli set during "after the fork"
	[ "$output" = "OK" ] || explain "SET during the save"
	ctl list
	row=$(awk '$2 == "redis" && $7 == "1"' <<<"$output")
	[ -n "$row" ] || explain "a child pVM of pVM 1 (kxctl list)"
	# (wait_for tries for 10 s; the save takes about 3.  A function:
	# wait_for's arguments are expanded once, before it starts.)
	save_ended() { [ "$(info_field rdb_bgsave_in_progress)" = 0 ]; }
	wait_for save_ended || wait_for save_ended || explain "the save ends"
	[ "$(info_field rdb_last_bgsave_status)" = ok ] ||
		{ output=$(cat "$RUNOUT"); explain "the save succeeded"; }
	[ -s "$FX/data/dump.rdb" ] || explain "dump.rdb is in the granted host directory"
	[ "$(head -c 9 "$FX/data/dump.rdb")" = "REDIS0010" ] || explain "an RDB version 10 file"
	[ -z "$(ls "$FX/data" | grep -v '^dump.rdb$')" ] || explain "no temporary file left"
	grep -q "Background saving terminated with success" "$RUNOUT" || explain "the parent reaped it"
	stop_redis 1
	# A new Redis pVM on the same directory loads the snapshot.
	start_redis d
	grep -q "DB loaded from disk" "$RUNOUT" || { output=$(cat "$RUNOUT"); explain "loaded"; }
	cli mget k1 k2 k3 during
	[ "$output" = "$(printf 'value of k1\nvalue of k2\nvalue of k3')" ] || explain "the three keys"
	cli exists during
	[ "$output" = "0" ] || explain "not the key set after the fork"
	stop_redis 3
}

# info_stat NAME: a field of INFO stats
info_stat() {
	ip netns exec "$NS" timeout 20 redis-cli -h "$ADDR" info stats |
		tr -d '\r' | sed -n "s/^$1://p"
}

# served_beyond N: Redis has processed more than N commands
served_beyond() { [ "$(info_stat total_commands_processed)" -gt "$1" ]; }

# bench_start: redis-benchmark from the host in the background (20
# clients, 200000 SETs then 200000 GETs over 100000 keys; $BENCH_PID, its
# output in $BENCH); returns once Redis has served 20000 of its commands.
bench_start() {
	local before
	BENCH=$BATS_TEST_TMPDIR/bench.out
	before=$(info_stat total_commands_processed)
	ip netns exec "$NS" redis-benchmark -h "$ADDR" -t set,get -n 200000 -c 20 -r 100000 \
		--csv >"$BENCH" 2>&1 3>&- &
	BENCH_PID=$!
	wait_for served_beyond $((before + 20000)) ||
		{ output=$(cat "$BENCH"); explain "the benchmark runs"; }
}

# bench_finish: redis-benchmark exits 1 at the first error reply or broken
# connection (redis-benchmark.c, readHandler): its status 0, with both
# results printed, is "no failed request".  Redis counted no error either.
bench_finish() {
	status=0
	wait "$BENCH_PID" || status=$?
	output=$(cat "$BENCH")
	[ "$status" -eq 0 ] || explain "redis-benchmark: no failed request"
	grep -q '^"SET","[0-9.]*"' <<<"$output" && grep -q '^"GET","[0-9.]*"' <<<"$output" ||
		explain "both tests ran to the end"
	echo "# $(tr '\n' ' ' <<<"$output")" >&3
	[ "$(info_stat total_error_replies)" = 0 ] || explain "Redis answered no error"
}

# update_under_load FROM TO FILE [OPTIONS]: kxctl update of pVM 1's
# libredis-siphash FROM -> TO while the benchmark runs: applied, said so,
# and the benchmark still running when it returns.
update_under_load() {
	ctl update "${@:4}" 1 "$3" libredis-siphash
	local update_status=$status update_out=$output
	kill -0 "$BENCH_PID" 2>/dev/null || { output=$(cat "$BENCH"); explain "the update came under load"; }
	status=$update_status output=$update_out
	[ "$status" -eq 0 ] || explain "the update is applied"
	[[ "$output" == "updated libredis-siphash $1 -> $2 in pVM 1: "*" GOT entries "*"; quiesce "* ]] ||
		explain "says what it did"
	echo "# $output" >&3
}

@test "redis (dynamic): redis-server links Redis's own siphash.c as a pVM library" {
	[ -f "$KXE_DYN" ] || explain "redis-server-dyn.kxe is built"
	run readelf -dW "$KXE_DYN"
	[[ "$output" == *"(NEEDED)"*"Shared library: [libredis-siphash.so]"* ]] ||
		explain "DT_NEEDED libredis-siphash.so"
	run readelf -sW --dyn-syms "$KXE_DYN"
	grep -Eq " UND siphash$" <<<"$output" || explain "siphash comes from the library"
	! grep -Eq "FUNC +GLOBAL +DEFAULT +[0-9]+ siphash$" <<<"$output" ||
		explain "the image has no siphash of its own"
	run "$KX_BUILD/sdk/bin/kx-nosyscall" "$KXE_DYN"
	[ "$status" -eq 0 ] || explain "no system call instruction in the image"
	run cmp -s "$SIPHASH/v1/libredis-siphash.so" "$SIPHASH/v2/libredis-siphash.so"
	[ "$status" -eq 1 ] || explain "the two versions differ"
}

@test "redis (dynamic): libredis-siphash is updated online under redis-benchmark, no request fails" {
	IMAGE=redis-dyn.kxe start_redis e --enable-debug-command yes
	ctl list
	[[ "$output" == *"libredis-siphash 1.0 "* ]] || explain "linked at boot: 1.0"
	# Keys hashed by 1.0 before the update; found through 1.1 after it.
	cli debug populate 10000 key
	[ "$output" = "OK" ] || explain "DEBUG POPULATE"
	cli set greeting "hashed by 1.0"
	[ "$output" = "OK" ] || explain "SET"
	bench_start
	update_under_load 1.0 1.1 "$FX/libredis-siphash-1.1.so"
	bench_finish
	cli get greeting
	[ "$output" = "hashed by 1.0" ] || explain "a key set before the update"
	cli mget key:0 key:4999 key:9999
	[ "$output" = "$(printf 'value:0\nvalue:4999\nvalue:9999')" ] || explain "populated keys"
	cli set after "hashed by 1.1"
	cli get after
	[ "$output" = "hashed by 1.1" ] || explain "a key set after the update"
	ctl list
	[[ "$output" == *"libredis-siphash 1.1 "* ]] || explain "the registry names 1.1"
	ctl audit
	grep -q " update  operator .* lib libredis-siphash 1.0 -> 1.1 ALLOW " <<<"$output" ||
		explain "the update is audited"
	stop_redis 1
}

@test "redis (dynamic): two updates under one benchmark, the first --lazy (resolved on the next calls)" {
	IMAGE=redis-dyn.kxe start_redis f
	cli set greeting "hashed by 1.0"
	bench_start
	update_under_load 1.0 1.1 "$FX/libredis-siphash-1.1.so" --lazy
	[[ "$output" =~ " GOT entries ("[1-9][0-9]*" back to lazy)" ]] || explain "entries back to lazy"
	# Every command calls both (siphash_nocase looks the command up,
	# siphash the key): after some, both slots are bound again, lazily,
	# into 1.1 -- which the next update finds and moves.
	wait_for served_beyond $(($(info_stat total_commands_processed) + 1000)) ||
		explain "Redis serves after a lazy update"
	# 1.2 is 1.0's code again: forward in version, back in code
	update_under_load 1.1 1.2 "$FX/libredis-siphash-1.2.so"
	[[ "$output" == *": 2 GOT entries (0 back to lazy)"* ]] || explain "both slots bound into 1.1"
	bench_finish
	cli get greeting
	[ "$output" = "hashed by 1.0" ] || explain "a key set before both updates"
	ctl list
	[[ "$output" == *"libredis-siphash 1.2 "* ]] || explain "the registry names 1.2"
	ctl audit
	[ "$(grep -c " update  operator .* lib libredis-siphash .* ALLOW " <<<"$output")" -eq 2 ] ||
		explain "both updates audited"
	stop_redis 1
}
