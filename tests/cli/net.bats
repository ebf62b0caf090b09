#!/usr/bin/env bats
# net: the packet device end to end (docs/network.md).  kxd creates each
# pVM's TAP in a network namespace the test makes, gives it the gateway's
# address (the routed setup) and hands it to the monitor; tests/guest/
# netraw.c speaks raw ARP and UDP in the pVM; tests/data/net/peer.py is the
# host side in the namespace.  Checked: UDP from the host is echoed and
# counted; a port the manifest does not list stays closed (TCP refused by
# the monitor's reset, UDP unanswered) and the first drop is audited with
# the rule; a peer the manifest does not allow is never reached (counted,
# audited); spoofed source addresses and MACs never leave (counted); a
# guest flooding its ring does not stall its monitor or kxd; an app with no
# network rule has no interface; a host client connected to a pVM server
# sees ECONNRESET when the server exits, is killed (kxctl kill) or ended by
# SIGTERM (the monitor's resets, manager/hv/net.c); a forked child pVM has
# no interface: nothing it sends leaves, and the parent's connection it
# inherited and closed stays open.  Needs /dev/kvm, root (network
# namespaces, TAPs) and python3; skipped with the reason otherwise.

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

NETDATA=$KX_ROOT/tests/data/net
PEER=$NETDATA/peer.py

setup_file() {
	local fx=$BATS_FILE_TMPDIR/fx
	mkdir -p "$fx/lib"
	for app in netraw netnone; do
		sed -e "s|@APP@|$app|" -e "s|@KEYS@|$KX_ROOT/manifests/keys|g" -e "s|@NET@|10.77.1|g" \
			"$NETDATA/netraw.yaml.in" > "$fx/$app.yaml"
		"$KXSIGN" sign -s "$SECS/acme.sec" --name "$app" --version 1.0 -o "$fx/$app.kxe" \
			"$KX_BUILD/guest/netraw.kxe" >/dev/null
	done
	sed -i '/^network:/,$d' "$fx/netnone.yaml" # no rule, no interface
	# lwIP's test pVM (tests/guest/tcpserve.c): TCP 7 (echo) and 8080 (HTTP)
	sed -e "s|@APP@|nettcp|" -e "s|@KEYS@|$KX_ROOT/manifests/keys|g" -e "s|@NET@|10.77.2|g" \
		-e "s|listen: \[udp/7\]|listen: [7, 8080]|" "$NETDATA/netraw.yaml.in" > "$fx/nettcp.yaml"
	"$KXSIGN" sign -s "$SECS/acme.sec" --name nettcp --version 1.0 -o "$fx/nettcp.kxe" \
		"$KX_BUILD/guest/tcpserve.kxe" >/dev/null
	# BSD sockets (tests/guest/sockserve.c): TCP 7, 8080 and UDP 7
	sed -e "s|@APP@|netsock|" -e "s|@KEYS@|$KX_ROOT/manifests/keys|g" -e "s|@NET@|10.77.3|g" \
		-e "s|listen: \[udp/7\]|listen: [7, 8080, udp/7]|" "$NETDATA/netraw.yaml.in" \
		> "$fx/netsock.yaml"
	# its "fork" (a child pVM, which gets no interface)
	printf 'family:\n  fork: { max-children: 1, max-depth: 1, max-members: 2 }\n' \
		>> "$fx/netsock.yaml"
	"$KXSIGN" sign -s "$SECS/acme.sec" --name netsock --version 1.0 -o "$fx/netsock.kxe" \
		"$KX_BUILD/guest/sockserve.kxe" >/dev/null
	"$KX_BIN/kxpolicy" compile --serial 1 -o "$fx/kx.kxp" "$fx/netraw.yaml" "$fx/netnone.yaml" \
		"$fx/nettcp.yaml" "$fx/netsock.yaml" >/dev/null
	kvm_probe
}

setup() {
	need_kvm
	[ "$(id -u)" = 0 ] || skip "needs root: network namespaces and TAP devices"
	command -v python3 >/dev/null || skip "needs python3 for the host side"
	netns_start kxtest
}

teardown() {
	netns_stop
}

# in_ns CMD...: run CMD in the test's namespace ($output, $status)
in_ns() {
	run ip netns exec "$NS" "$@"
}

# start_pvm APP ARGS...: kxctl run in the background, output in $RUNOUT
start_pvm() {
	local app=$1
	shift
	RUNOUT=$BATS_TEST_TMPDIR/run.out
	"$KXCTL" run --socket "$SOCK" "$FX/$app.kxe" "$@" >"$RUNOUT" 2>&1 &
	RUNPID=$!
}

# finish_pvm: wait for the pVM's end; its status in $status, its output in $output
finish_pvm() {
	status=0
	wait "$RUNPID" || status=$?
	RUNPID=
	output=$(cat "$RUNOUT")
}

# net_row ID: the pVM's row of kxctl list's NETWORK table
net_row() {
	"$KXCTL" list --socket "$SOCK" | sed -n '/^NETWORK$/,$p' | awk -v id="$1" '$1 == id'
}

# drops ID KIND: the pVM's count of KIND drops (0 when none)
drops() {
	local n
	n=$(net_row "$1" | grep -o "$2=[0-9]*" | cut -d= -f2)
	echo "${n:-0}"
}

# serves_tcp ADDR PAGE: the page on 8080, 1 MiB echoed intact on 7, port 22
# refused; then "quit" on 7 and the pVM's end ($status, $output)
serves_tcp() {
	in_ns curl -sS -m 10 "http://$1:8080/index.html"
	[ "$status" -eq 0 ] && [ "$output" = "$2" ] || explain "the page"
	in_ns python3 "$PEER" tcpecho "$1" 7 1048576 20
	[ "$output" = "1048576 intact" ] || explain "1 MiB echoed intact"
	in_ns python3 "$PEER" tcp "$1" 22 10
	[ "$output" = "refused" ] || explain "a port it does not listen on"
	in_ns python3 "$PEER" tcpecho "$1" 7 quit 5
	finish_pvm
	[ "$status" -eq 0 ] || explain "the pVM exited 0"
}

# host_listener ARGS...: peer.py's listener (ARGS as its listen mode takes
# them) in the namespace, in the background and ready; its output in $lst,
# its pid in $lpid
host_listener() {
	lst=$BATS_TEST_TMPDIR/listen.out
	ip netns exec "$NS" python3 "$PEER" listen "$@" >"$lst" &
	lpid=$!
	wait_for grep -q ready "$lst"
}

# wait_report ID KIND N: until kxctl list shows at least N drops of KIND
# (re-read every try: wait_for runs its command again, not its arguments)
drops_at_least() { [ "$(drops "$1" "$2")" -ge "$3" ]; }
wait_report() {
	wait_for drops_at_least "$1" "$2" "$3"
}

@test "net: UDP from the host is echoed by the pVM and counted" {
	start_pvm netraw echo 30
	wait_for grep -q "echo ready" "$RUNOUT" || { output=$(cat "$RUNOUT"); explain "ready"; }
	grep -q "^net: 10.77.1.2/24 mac 02:6b:78:" "$RUNOUT" || explain "the address and MAC"
	for word in ping pong; do
		in_ns python3 "$PEER" udp 10.77.1.2 7 "$word" 10
		[ "$output" = "$word" ] || explain "echo of $word"
	done
	in_ns ip -o addr show kxp1
	[[ "$output" == *"10.77.1.1/24"* ]] || explain "the TAP has the gateway's address"
	in_ns python3 "$PEER" udp 10.77.1.2 7 quit 1
	finish_pvm
	[ "$status" -eq 0 ] || explain "the pVM exited 0"
	grep -qx "net: echoed 2" <<<"$output" || explain "two datagrams echoed"
	ctl list --json
	[[ "$output" == *'"network": {"iface": "net0", "tap": "kxp1", "address": "10.77.1.2/24", "tx": '* ]] ||
		explain "kxctl list --json shows the interface"
	row=$(net_row 1)
	read -r _ iface tap addr tx rx _ <<<"$row"
	[ "$iface $tap $addr" = "net0 kxp1 10.77.1.2/24" ] || explain "row: $row"
	[ "$tx" -ge 2 ] && [ "$rx" -ge 3 ] || explain "frames counted both ways: $row"
	ctl audit
	grep -q "net  *pvm 1 (netraw) .*iface net0 ALLOW .*netraw.yaml:" <<<"$output" ||
		explain "the attach is audited with the rule's file:line"
}

@test "net: a port the manifest does not list stays closed: refused, unanswered, audited" {
	start_pvm netraw echo 30
	wait_for grep -q "echo ready" "$RUNOUT" || { output=$(cat "$RUNOUT"); explain "ready"; }
	in_ns python3 "$PEER" tcp 10.77.1.2 22 10
	[ "$output" = "refused" ] || explain "TCP to 22: refused by the monitor's reset"
	in_ns python3 "$PEER" tcp 10.77.1.2 7 10
	[ "$output" = "refused" ] || explain "TCP to 7: only udp/7 is listed"
	in_ns python3 "$PEER" udp 10.77.1.2 8 hello 1
	[ "$output" = "timeout" ] || explain "UDP to 8: never reaches the pVM"
	in_ns python3 "$PEER" udp 10.77.1.2 7 quit 1
	finish_pvm
	grep -qx "net: echoed 0" <<<"$output" || explain "the pVM saw none of them"
	[ "$(drops 1 port)" -eq 3 ] || explain "three port drops: $(net_row 1)"
	ctl audit
	grep -q "net  *pvm 1 (netraw) .*iface net0 DENY .*the monitor dropped port: in tcp 10.77.1.1:[0-9]* -> 10.77.1.2:22" <<<"$output" ||
		explain "the first port drop is audited"
	grep -q "does not listen on tcp port 22 on net0" <<<"$output" ||
		explain "with the policy's answer"
	[ "$(grep -c 'dropped port' <<<"$output")" -eq 1 ] || explain "only the first"
}

@test "net: a pVM cannot reach a peer the manifest does not allow" {
	host_listener 3 9 10
	"$KXCTL" run --socket "$SOCK" "$FX/netraw.kxe" send 10.77.1.1 10 denied >/dev/null 2>&1
	"$KXCTL" run --socket "$SOCK" "$FX/netraw.kxe" send 10.77.1.1 9 allowed >/dev/null 2>&1
	wait "$lpid"
	output=$(cat "$lst")
	grep -qx "9 allowed" <<<"$output" || explain "the allowed peer got its datagram"
	! grep -q "^10 " <<<"$output" || explain "port 10 of the host is not a peer"
	[ "$(drops 1 peer)" -eq 1 ] || explain "counted: $(net_row 1)"
	[ "$(drops 2 peer)" -eq 0 ] || explain "nothing dropped for the allowed one: $(net_row 2)"
	ctl audit
	grep -q "net  *pvm 1 (netraw) .*DENY .*the monitor dropped peer: out udp 10.77.1.2:40000 -> 10.77.1.1:10" <<<"$output" ||
		explain "the drop is audited"
}

@test "net: spoofed source addresses and MACs are dropped and counted" {
	host_listener 3 9
	run "$KXCTL" run --socket "$SOCK" "$FX/netraw.kxe" spoof 10.77.1.1 9 legit
	[ "$status" -eq 0 ] || explain "the pVM exited 0"
	wait "$lpid"
	output=$(cat "$lst")
	[ "$output" = "$(printf 'ready\n9 legit')" ] || explain "only the legitimate datagram"
	[ "$(drops 1 spoof-ip)" -eq 1 ] && [ "$(drops 1 spoof-mac)" -eq 1 ] ||
		explain "both counted: $(net_row 1)"
	ctl audit
	grep -q "DENY .*the monitor dropped spoof-ip" <<<"$output" &&
		grep -q "DENY .*the monitor dropped spoof-mac" <<<"$output" || explain "audited"
}

@test "net: a guest flooding its ring does not stall its monitor or kxd" {
	start_pvm netraw flood 30000 10.77.1.1 9
	# While it floods: kxd answers, and the monitor still takes frames in.
	wait_for grep -q "echo ready" "$RUNOUT" || { output=$(cat "$RUNOUT"); explain "flooded"; }
	ctl list
	[ "$status" -eq 0 ] || explain "kxd answers"
	in_ns python3 "$PEER" udp 10.77.1.2 7 still-there 10
	[ "$output" = "still-there" ] || explain "the monitor still serves the pVM"
	in_ns python3 "$PEER" udp 10.77.1.2 7 quit 1
	finish_pvm
	[ "$status" -eq 0 ] || explain "the pVM exited 0"
	grep -qx "net: flooded 30000" <<<"$output" || explain "all 30000 queued"
	row=$(net_row 1)
	read -r _ _ _ _ tx _ <<<"$row"
	[ $((tx + $(drops 1 tap-busy))) -ge 30000 ] || explain "every frame forwarded or counted: $row"
}

@test "net: lwIP in a pVM serves HTTP and a TCP echo to the host, and talks to itself" {
	start_pvm nettcp 60
	wait_for grep -q "net: serving" "$RUNOUT" || { output=$(cat "$RUNOUT"); explain "serving"; }
	grep -qx "loopback: ok" "$RUNOUT" || { output=$(cat "$RUNOUT"); explain "127.0.0.1 inside"; }
	serves_tcp 10.77.2.2 "hello from a pVM"
	# 1 MiB + "quit" + the loopback's "loop"
	grep -q "^net: served 1 pages, echoed 1048584 bytes" <<<"$output" || explain "what it served"
}

@test "net: an ordinary POSIX server on BSD sockets: poll, TCP, UDP, loopback, a datagram out" {
	host_listener 5 9
	start_pvm netsock 60 10.77.3.1
	wait_for grep -q "sent to 10.77.3.1:9" "$RUNOUT" || { output=$(cat "$RUNOUT"); explain "sent"; }
	in_ns python3 "$PEER" udp 10.77.3.2 7 over-udp 10
	[ "$output" = "over-udp" ] || explain "UDP echo"
	serves_tcp 10.77.3.2 "hello from a socket"
	grep -qx "loopback: ok" <<<"$output" || explain "a thread talked to the server over 127.0.0.1"
	grep -qx "served 1 pages, echoed 1048584 bytes, 1 datagrams" <<<"$output" ||
		explain "what it served (1 MiB + quit + the loopback's 4 bytes)"
	wait "$lpid"
	grep -qx "9 via sockets" "$lst" || { output=$(cat "$lst"); explain "the datagram to the host"; }
}

@test "net: no network rule, no interface" {
	run "$KXCTL" run --socket "$SOCK" "$FX/netnone.kxe" echo 1
	[ "$status" -eq 4 ] || explain "want 4"
	grep -qx "net: no interface: -19" <<<"$output" || explain "-KX_ENODEV"
	in_ns ip -o link
	! grep -q kxp <<<"$output" || explain "no TAP was made"
}

# hold_connection ADDR [SECS]: a host client in the namespace (peer.py
# hold) that has an open TCP connection to the pVM's echo port and waits up
# to SECS (20) s for what comes next; its output in $HOLDOUT, its pid in
# $HOLDPID
hold_connection() {
	HOLDOUT=$BATS_TEST_TMPDIR/hold.out
	ip netns exec "$NS" python3 "$PEER" hold "$1" 7 "${2:-20}" >"$HOLDOUT" 2>&1 &
	HOLDPID=$!
	wait_for grep -q ready "$HOLDOUT" || { output=$(cat "$HOLDOUT" "$RUNOUT"); explain "connected"; }
}

# held_connection_reset: the held client saw ECONNRESET (not the end of its
# 20 s wait: without the monitor's reset it would still be waiting)
held_connection_reset() {
	wait "$HOLDPID" || true
	output=$(cat "$HOLDOUT")
	[ "$output" = "$(printf 'ready\nreset')" ] || explain "the client's recv raised ECONNRESET"
}

@test "net: a host client of a pVM server that exits sees its connection reset" {
	start_pvm netsock 60
	hold_connection 10.77.3.2
	in_ns python3 "$PEER" tcpecho 10.77.3.2 7 quit 5
	finish_pvm
	[ "$status" -eq 0 ] || explain "the pVM exited 0"
	held_connection_reset
}

@test "net: a host client of a pVM server killed by the operator sees its connection reset" {
	start_pvm netsock 60
	hold_connection 10.77.3.2
	ctl kill 1
	[ "$status" -eq 0 ] || explain "kxctl kill"
	finish_pvm
	[ "$status" -eq 137 ] || explain "kxctl run's status: a kill's, as without a network"
	grep -q "killed by the operator" <<<"$output" || explain "kxd's report says why"
	held_connection_reset
}

@test "net: a kxmon that does not end its pVM when kxd asks is killed after the grace" {
	# KXMON_TEST_IGNORE_SIGTERM (kxd passes its environment to kxmon)
	stop_kxd
	KXMON_TEST_IGNORE_SIGTERM=1 start_kxd --net-netns "$NS"
	start_pvm netsock 60
	hold_connection 10.77.3.2 5
	ctl kill 1
	[ "$status" -eq 0 ] || explain "kxctl kill"
	finish_pvm
	[ "$status" -eq 137 ] || explain "kxctl run's status: a kill's"
	grep -q "killed by the operator" <<<"$output" || explain "kxd's report says why"
	grep -q "pVM 1 (netsock): its kxmon did not end it in 2000 ms; killed" "$SOCK.log" ||
		{ output=$(cat "$SOCK.log"); explain "kxd's log says it killed it"; }
	# Killed outright, the monitor could not reset the connection.
	wait "$HOLDPID" || true
	[ "$(cat "$HOLDOUT")" = "$(printf 'ready\ntimeout')" ] ||
		{ output=$(cat "$HOLDOUT"); explain "the client was left to its own timeout"; }
}

@test "net: a host client of a pVM server ended by SIGTERM sees its connection reset" {
	start_pvm netsock 60
	hold_connection 10.77.3.2
	ctl kill --signal 15 1
	[ "$status" -eq 0 ] || explain "kxctl kill --signal 15"
	finish_pvm
	[[ "$output" == *SIGTERM* ]] || explain "the pVM ended by SIGTERM's default action"
	held_connection_reset
}

@test "net: a forked child pVM has no interface: nothing it sends leaves, the parent's connection stays" {
	host_listener 5 9
	start_pvm netsock 60 10.77.3.1
	wait_for grep -q "sent to 10.77.3.1:9" "$RUNOUT" || { output=$(cat "$RUNOUT"); explain "sent"; }
	# The child writes "from the child" on the inherited connection: the
	# host sees only the parent's answer, then its echo on the same one;
	# a second connection made while the child waits on its copy of the
	# listener is the parent's, once it serves again.
	in_ns python3 "$PEER" fork 10.77.3.2 7 10
	[ "$output" = "$(printf 'forked 0\nafter\nsecond')" ] ||
		{ output="$output $(cat "$RUNOUT")"; explain "the parent's answer alone, the connections kept"; }
	# In the child the listener never sees a connection (no pre-forking
	# server), the write is taken by its stack, which has no device to send
	# on (the socket layer's kx_net_forked), and a datagram has no route.
	grep -qx "child: listener poll 0, write 14 (-), sendto -1 (Host is unreachable)" "$RUNOUT" ||
		{ output=$(cat "$RUNOUT"); explain "the child's calls"; }
	in_ns python3 "$PEER" tcpecho 10.77.3.2 7 quit 5
	finish_pvm
	[ "$status" -eq 0 ] || explain "the parent exited 0"
	wait "$lpid"
	[ "$(cat "$lst")" = "$(printf 'ready\n9 via sockets')" ] ||
		{ output=$(cat "$lst"); explain "only the parent's datagram reached the host"; }
	ctl list
	grep -Eq "^2 +netsock .* exited .* 0 +1 " <<<"$output" || explain "the child, pVM 2, exited 0"
}
