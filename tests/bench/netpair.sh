# netpair.sh — sourced by bench_redis.sh and bench_web.sh: a scratch
# directory, kxctl against a kxd on its socket, and two network namespaces
# one hop apart — the client's (where kxd's routed TAP of the pVM will be)
# and the native server's, joined by a veth pair SUBNET.1 <-> SUBNET.2 —
# all removed at exit (and a kxd on the socket stopped, a native server
# whose pid is in $tmp/native.pid killed).
#
# usage: netpair TAG SUBNET    (TAG: 2 letters naming the bench; SUBNET: a.b.c)
# sets: tmp (the directory), c (client namespace), l (native server namespace)
# defines: ctl VERB ARGS... (kxctl VERB --socket $tmp/s ARGS...)
# exits 1 when the namespaces cannot be made.
ctl() { v=$1; shift; "$build/bin/kxctl" "$v" --socket "$tmp/s" "$@"; }
netpair_cleanup() {
	[ -S "$tmp/s" ] && ctl stop >/dev/null 2>&1
	[ -f "$tmp/native.pid" ] && kill "$(cat "$tmp/native.pid")" 2>/dev/null
	ip netns del "$c" 2>/dev/null; ip netns del "$l" 2>/dev/null
	rm -rf "$tmp"
}
netpair() {
	tmp=$(mktemp -d "/tmp/kxb$1XXXXXX")
	c=kx$1c-$(basename "$tmp"); l=kx$1l-$(basename "$tmp")
	trap netpair_cleanup EXIT
	ip netns add "$c" && ip netns add "$l" || exit 1
	ip netns exec "$c" ip link set lo up; ip netns exec "$l" ip link set lo up
	ip link add "kx$1v0" netns "$c" type veth peer name "kx$1v1" netns "$l"
	ip netns exec "$c" ip addr add "$2.1/24" dev "kx$1v0"
	ip netns exec "$l" ip addr add "$2.2/24" dev "kx$1v1"
	ip netns exec "$c" ip link set "kx$1v0" up; ip netns exec "$l" ip link set "kx$1v1" up
}
