# ring.sh — the kx ring across domains: a pVM created paused, its ring set
# up by ringpeer (the monitor's stand-in) before it runs; console, clock and
# exit status travel as kx hypercalls, nothing goes to the PV console.
. /kx/dom0/lib.sh
G=/kx/guest

# ring_pvm NAME IMAGE [ARGS...]: xl create -p, ringpeer serves it; sets
# PEER_RC, PEER_OUT (its stdout), PEER_ERR, PEER_MS (unpause -> exit).
ring_pvm() {
	name=$1 image=$2
	shift 2
	cat > "/tmp/$name.cfg" <<CFG
name = "$name"
type = "pv"
kernel = "$image"
extra = "$(basename "$image") $*"
memory = ${KX_PVM_MEM:-32}
vcpus = 1
on_poweroff = "preserve"
on_crash = "preserve"
CFG
	CONSOLE=/var/log/xen/console/guest-$name.log
	PEER_OUT=/tmp/$name.out PEER_ERR=/tmp/$name.err
	if ! xl create -q -p "/tmp/$name.cfg" > "/tmp/$name.create" 2>&1; then
		PEER_RC=create-failed
		cat "/tmp/$name.create"
		return 1
	fi
	t0=$(up)
	ringpeer -t 60 "$(xl domid "$name")" "$image" > "$PEER_OUT" 2> "$PEER_ERR"
	PEER_RC=$?
	PEER_MS=$(ms "$t0" "$(up)")
	xl destroy "$name" >/dev/null 2>&1
}

expect_file() { # NAME FILE TEXT
	if grep -F -q -- "$3" "$2" 2>/dev/null; then
		ok "$1"
	else
		not_ok "$1: no \"$3\" in $2"
		echo "----- $2"; cat "$2" 2>/dev/null; echo "----- stderr"; cat "$PEER_ERR"; echo "-----"
	fi
}

ring_pvm rhello $G/xhello.kxe one two
echo "timing: ring xhello unpause->exit ${PEER_MS} ms, ringpeer rc $PEER_RC"
expect_file "ring: console over the kx ring" "$PEER_OUT" "hello from a pVM on xen"
expect_file "ring: argv" "$PEER_OUT" "argv[2] = two"
expect_file "ring: exit reaches the monitor" "$PEER_ERR" "ringpeer: exit 0"
[ "$PEER_RC" = 0 ] && ok "ring: status 0" || not_ok "ring: ringpeer rc $PEER_RC"
if [ -s "$CONSOLE" ]; then
	not_ok "ring: nothing on the PV console: $(head -c 200 "$CONSOLE")"
else
	ok "ring: nothing on the PV console"
fi

ring_pvm rfail $G/xhello.kxe fail
[ "$PEER_RC" = 7 ] && ok "ring: exit status 7 reaches the monitor" ||
	not_ok "ring: status $PEER_RC, want 7"

ring_pvm rrt $G/rt.kxe
if grep -q '^FAIL' "$PEER_OUT"; then
	not_ok "ring rt: $(grep '^FAIL' "$PEER_OUT" | head -3 | tr '\n' ' ')"
else
	expect_file "ring rt: every check passes over the ring" "$PEER_OUT" "0 failures"
fi
[ "$PEER_RC" = 0 ] && ok "ring rt: status 0" || not_ok "ring rt: rc $PEER_RC"

# the ring's round trip, timed by the guest (Xen's clock, no exit)
ring_pvm rcalls $G/xhello.kxe calls 200
expect_file "ring: 200 calls answered" "$PEER_OUT" "calls: 200 in"
echo "timing: ring $(grep '^calls:' "$PEER_OUT")"
