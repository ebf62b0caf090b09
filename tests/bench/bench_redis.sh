#!/bin/sh
# bench_redis.sh BUILD: redis-benchmark (Debian's redis-tools) against
# Redis in a pVM and against the same source built natively with the same
# flags (tests/redis/module.mk), as requests per second and their ratio;
# then the latency of BGSAVE's fork (Redis's INFO latest_fork_usec) with
# the same keys in both, a pVM fork (a child pVM through kxd) vs a Linux
# fork.
# Set up as tests/bench/bench_net.sh: the client namespace holds the pVM's
# TAP (kxd's routed setup, the pVM 10.77.15.2); the native server runs in a
# second namespace behind a veth pair (10.78.15.1 <-> 10.78.15.2), so both
# are one hop from the client.  Needs root and redis-benchmark.
set -u
build=$(cd "$1" && pwd)
root=$(pwd)
native=$(dirname "$build")/build/redis/native/src/redis-server
n=${KX_BENCH_REDIS_N:-20000}
if [ "$(id -u)" -ne 0 ] || ! command -v redis-benchmark >/dev/null || [ ! -x "$native" ]; then
	echo "bench_redis: needs root, redis-benchmark and $native: skipped"
	exit 0
fi
. "$root/tests/bench/netpair.sh"
netpair r 10.78.15
cat > "$tmp/redis.yaml" <<EOT
kx-manifest: 1
app: redis
image: redis.kxe
memory: 128M
keys:
  acme: $root/manifests/keys/acme.pub
family:
  fork: { max-children: 1, max-depth: 1, max-members: 2 }
  ipc: [pipe]
files:
  - { guest: /data, host: $tmp/pdata, mode: rw, max: 64M }
network:
  - { iface: net0, address: 10.77.15.2/24, gateway: 10.77.15.1, listen: [6379] }
EOT
# BGSAVE's RDB: the jailed monitor writes it as its jail's uid (docs/jail.md)
mkdir -p "$tmp/pdata" "$tmp/ndata" && chmod 0777 "$tmp/pdata" && chmod 0755 "$tmp"
"$build/bin/kxsign" sign -s "$root/tests/data/keys/acme.sec" --name redis --version 7.0.15 \
	-o "$tmp/redis.kxe" "$build/tests/redis/redis-server.kxe" >/dev/null
"$build/bin/kxpolicy" compile -o "$tmp/kx.kxp" "$tmp/redis.yaml" >/dev/null
"$build/bin/kxd" --policy "$tmp/kx.kxp" --socket "$tmp/s" --audit-log "$tmp/audit" \
	--net-netns "$c" 2>/dev/null || exit 1
# --enable-debug-command: DEBUG POPULATE makes the keys the fork copies
ctl run "$tmp/redis.kxe" --bind 0.0.0.0 --protected-mode no --save "" --dir /data \
	--enable-debug-command yes >"$tmp/pvm.out" 2>&1 &
(cd "$tmp" && exec ip netns exec "$l" "$native" --bind 0.0.0.0 --protected-mode no --save "" \
	--dir "$tmp/ndata" --enable-debug-command yes >"$tmp/native.out" 2>&1) &
echo $! > "$tmp/native.pid"
for i in $(seq 100); do
	grep -q "Ready to accept" "$tmp/pvm.out" && grep -q "Ready to accept" "$tmp/native.out" &&
		break
	sleep 0.1
done
# rps HOST TEST: redis-benchmark's requests per second for TEST (50 clients)
rps() {
	ip netns exec "$c" redis-benchmark -h "$1" -n "$n" -t "$2" --csv 2>/dev/null |
		awk -F'"' 'NR == 2 { print $4 }'
}
status=0
for t in set get; do
	p=$(rps 10.77.15.2 $t); q=$(rps 10.78.15.2 $t)
	if [ -z "$p" ] || [ -z "$q" ]; then
		echo "bench_redis: $t: a server did not answer"; status=1; continue
	fi
	awk -v t="$t" -v p="$p" -v q="$q" -v n="$n" 'BEGIN {
		printf "redis-benchmark %s (%d requests, 50 clients): pVM %.0f req/s, native %.0f req/s, ratio %.2f\n",
			toupper(t), n, p, q, p / q }'
done
# fork_usec HOST: BGSAVE with $keys keys; Redis's latest_fork_usec once it is done
keys=${KX_BENCH_REDIS_KEYS:-100000}
fork_usec() {
	cli() { h=$1; shift; ip netns exec "$c" timeout 60 redis-cli -h "$h" "$@"; }
	field() { cli "$1" info | tr -d '\r' | sed -n "s/^$2://p"; }
	cli "$1" flushall >/dev/null && cli "$1" debug populate "$keys" >/dev/null &&
		[ "$(cli "$1" bgsave)" = "Background saving started" ] || return 1
	for i in $(seq 300); do
		[ "$(field "$1" rdb_bgsave_in_progress)" = 0 ] && break
		sleep 0.1
	done
	[ "$(field "$1" rdb_last_bgsave_status)" = ok ] && field "$1" latest_fork_usec
}
p=$(fork_usec 10.77.15.2); q=$(fork_usec 10.78.15.2)
if [ -z "$p" ] || [ -z "$q" ]; then
	echo "bench_redis: BGSAVE: a fork latency is missing"; status=1
else
	awk -v p="$p" -v q="$q" -v k="$keys" 'BEGIN {
		printf "BGSAVE fork latency (%d keys, INFO latest_fork_usec): pVM %d us, native %d us, ratio %.2f\n",
			k, p, q, p / q }'
fi
exit $status
