#!/bin/sh
# bench_net.sh start|stop BUILD TMP: the servers of bench_net
# (tests/bench/bench_net.c).  start: a namespace TMP's "c" side (kxbc-PID)
# where the client runs; the pVM's TAP in it (kxd's routed setup, the pVM
# 10.77.9.2 running tests/guest/sockserve.c); a second namespace (kxbl-PID)
# behind a veth pair (10.78.9.1 <-> 10.78.9.2) running the same program built
# for Linux.  Prints "ready CLIENT_NS" once both answer.  stop: tears it down.
set -eu
what=$1; build=$(cd "$2" && pwd); tmp=$3
root=$(pwd)
c=kxbc-$(basename "$tmp"); l=kxbl-$(basename "$tmp")
ctl() { v=$1; shift; "$build/bin/kxctl" "$v" --socket "$tmp/s" "$@"; }
if [ "$what" = stop ]; then
	[ -S "$tmp/s" ] && ctl stop >/dev/null 2>&1 || true
	[ -f "$tmp/linux.pid" ] && kill "$(cat "$tmp/linux.pid")" 2>/dev/null || true
	ip netns del "$c" 2>/dev/null || true
	ip netns del "$l" 2>/dev/null || true
	exit 0
fi
ip netns add "$c"; ip netns add "$l"
ip netns exec "$c" ip link set lo up; ip netns exec "$l" ip link set lo up
ip link add kxbv0 netns "$c" type veth peer name kxbv1 netns "$l"
ip netns exec "$c" ip addr add 10.78.9.1/24 dev kxbv0
ip netns exec "$l" ip addr add 10.78.9.2/24 dev kxbv1
ip netns exec "$c" ip link set kxbv0 up; ip netns exec "$l" ip link set kxbv1 up
sed -e "s|@APP@|netbench|" -e "s|@KEYS@|$root/manifests/keys|g" -e "s|@NET@|10.77.9|g" \
	-e "s|listen: \[udp/7\]|listen: [7, 8080, udp/7]|" "$root/tests/data/net/netraw.yaml.in" \
	> "$tmp/netbench.yaml"
"$build/bin/kxsign" sign -s "$root/tests/data/keys/acme.sec" --name netbench --version 1.0 \
	-o "$tmp/netbench.kxe" "$build/guest/sockserve.kxe" >/dev/null
"$build/bin/kxpolicy" compile -o "$tmp/kx.kxp" "$tmp/netbench.yaml" >/dev/null
"$build/bin/kxd" --policy "$tmp/kx.kxp" --socket "$tmp/s" --audit-log "$tmp/audit" \
	--net-netns "$c" 2>/dev/null
ctl run "$tmp/netbench.kxe" 600 >"$tmp/pvm.out" 2>&1 &
ip netns exec "$l" "$build/bench/sockserve_linux" 600 >"$tmp/linux.out" 2>&1 &
echo $! > "$tmp/linux.pid"
echo "ready $c"
