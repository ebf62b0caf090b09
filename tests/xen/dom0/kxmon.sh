# kxmon.sh — the Xen backend (manager/hv/xen/) end to end in dom0: kxmon
# --backend xen builds a PV domain itself (no xl, no XenStore), the core
# loads the image and lays it out as on KVM, and every kx hypercall arrives
# over the kx ring.  Images in /kx/guest/, kxmon in /kx/bin/.
. /kx/dom0/lib.sh
G=/kx/guest
# The Xen backend has no jail profile yet (docs/jail.md): kxmon refuses to
# run it jailed, so these tests say --no-jail.
KXMON="/kx/bin/kxmon --no-jail"

domains() { xl list 2>/dev/null | tail -n +2 | wc -l; }

if $KXMON --backend xen --check > /tmp/check.out 2>&1; then
	ok "kxmon xen: --check: $(cat /tmp/check.out)"
else
	not_ok "kxmon xen: --check: $(cat /tmp/check.out)"
fi

# kx NAME ARGS...: kxmon --backend xen ARGS; sets RC, OUT, ERR, MS.
kx() {
	name=$1
	shift
	OUT=/tmp/kx-$name.out ERR=/tmp/kx-$name.err
	t0=$(up)
	$KXMON --backend xen -m 32M -t 90 "$@" > "$OUT" 2> "$ERR"
	RC=$?
	MS=$(ms "$t0" "$(up)")
}

expect() { # NAME FILE TEXT
	if grep -F -q -- "$3" "$2" 2>/dev/null; then
		ok "$1"
	else
		not_ok "$1: no \"$3\" in $2"
		echo "----- $2"; cat "$2"; echo "----- stdout"; cat "$OUT"; echo "----- stderr"
		cat "$ERR"; echo "-----"
		xl dmesg | tail -20
	fi
}

expect_rc() { # NAME WANT
	if [ "$RC" = "$2" ]; then
		ok "$1"
	else
		not_ok "$1: kxmon exit $RC, want $2: $(head -c 300 "$ERR")"
		xl dmesg | tail -20
	fi
}

before=$(domains)
kx hello $G/xhello.kxe one two
echo "timing: kxmon --backend xen xhello: ${MS} ms (create, load, boot, run, destroy)"
expect "kxmon xen: console over the kx ring" "$OUT" "hello from a pVM on xen"
expect "kxmon xen: argv from the core" "$OUT" "argv[2] = two"
expect "kxmon xen: clocks from Xen's time info" "$OUT" "clock: monotonic ok, realtime after 2020: yes"
expect_rc "kxmon xen: exit status 0" 0
[ "$(domains)" = "$before" ] && ok "kxmon xen: the domain is gone after the exit" ||
	not_ok "kxmon xen: $(domains) domains left, had $before: $(xl list)"

kx fail $G/xhello.kxe fail
expect_rc "kxmon xen: the pVM's exit status 7" 7

kx rt $G/rt.kxe
if grep -q '^FAIL' "$OUT"; then
	not_ok "kxmon xen rt: $(grep '^FAIL' "$OUT" | head -3 | tr '\n' ' ')"
else
	expect "kxmon xen rt: the runtime's checks (the core's layout)" "$OUT" "0 failures"
fi
expect_rc "kxmon xen rt: status 0" 0

# W^X from the backend's page tables; the guest's handler reports over the ring
kx ftext $G/fault.kxe text_write
expect_rc "kxmon xen: a write to text ends the pVM (126)" 126
expect "kxmon xen: text_write reported" "$ERR" "guest fault #PF page fault (vector 14, error 0x3: kernel write, protection violation)"
kx fnull $G/fault.kxe null_read
expect_rc "kxmon xen: a NULL read ends the pVM (126)" 126
expect "kxmon xen: null_read reported" "$ERR" "error 0x0: kernel read, page not present"

kx calls $G/xhello.kxe calls 200
expect "kxmon xen: 200 kx calls answered by the core" "$OUT" "calls: 200 in"
echo "timing: kxmon xen $(grep '^calls:' "$OUT")"

# --timeout: SIGALRM pauses the domain through the run loop's self-pipe
kx timeout -t 3 $G/spin.kxe
expect_rc "kxmon xen: --timeout ends a spinning pVM (124)" 124
expect "kxmon xen: the spinning pVM ran" "$OUT" "spinning"

# a killed monitor takes its domain along (its reaper destroys it)
$KXMON --backend xen -m 32M $G/spin.kxe > /tmp/kx-kill.out 2>&1 &
pid=$!
i=0
while [ "$(domains)" = "$before" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(domains)" != "$before" ] && ok "kxmon xen: the spinning pVM's domain exists" ||
	not_ok "kxmon xen: no domain for the spinning pVM"
kill -9 $pid
wait $pid 2>/dev/null
i=0
while [ "$(domains)" != "$before" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(domains)" = "$before" ] && ok "kxmon xen: kill -9 of kxmon: its domain is destroyed" ||
	not_ok "kxmon xen: kill -9 of kxmon left: $(xl list)"

[ "$(domains)" = "$before" ] && ok "kxmon xen: no domain left behind" ||
	not_ok "kxmon xen: domains left: $(xl list)"
