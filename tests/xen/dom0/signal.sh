# signal.sh — signals between a parent and its forked child on Xen (kxd
# --backend xen): kx_kill decided by the gate (family: ipc: [signal]) and a
# default action ending the child, as on KVM (tests/cli/kvm_signal.bats).
# Handlers are not supported on Xen (docs/xen-backend.md).  The image is
# tests/guest/sigt.c (Xen build), app xsig.
. /kx/dom0/lib.sh
FX=/kx/kxd
SOCK=/tmp/kxds/kxd.sock
ctl() { # kxctl VERB ARGS...: sets RC, OUT, ERR
	verb=$1
	shift
	kxctl "$verb" --socket "$SOCK" "$@" > /tmp/sctl.out 2> /tmp/sctl.err
	RC=$?
	OUT=/tmp/sctl.out ERR=/tmp/sctl.err
}
has() { grep -F -q -x -- "$2" "$1"; }
show() { echo "----- stdout"; cat "$OUT"; echo "----- stderr"; cat "$ERR"; echo "-----"; }

mkdir -p /tmp/kxds
kxd --policy $FX/kx.kxp --socket $SOCK --audit-log /tmp/kxds/audit.log --backend xen --no-jail \
	--libdir $FX/lib > /tmp/kxds.log 2>&1 || not_ok "kxd xen signal: did not start: $(cat /tmp/kxds.log)"

ctl run $FX/sigt.kxe default 15
if [ "$RC" = 0 ] && has "$OUT" "kill: 0" && has "$OUT" "child status 143" &&
	grep -q "ended by signal 15 (SIGTERM) from pVM 1" "$ERR"; then
	ok "xen signal: the parent's SIGTERM ends its child without a handler (143)"
else
	not_ok "xen signal: default 15: status $RC"
	show
fi
ctl run $FX/sigt.kxe default 10
if [ "$RC" = 0 ] && has "$OUT" "child status 138"; then
	ok "xen signal: SIGUSR1's default action ends the child (138)"
else
	not_ok "xen signal: default 10: status $RC"
	show
fi
ctl audit
if grep -q "ipc     pvm 1 (xsig) -> pvm 2 (xsig) signal (family) ALLOW" "$OUT"; then
	ok "xen signal: the parent's signal is decided by the gate and audited"
else
	not_ok "xen signal: no audited signal"
	show
fi
ctl stop
sleep 1
[ "$(xl list | tail -n +2 | wc -l)" = 1 ] && ok "xen signal: no domain left but dom0" ||
	not_ok "xen signal: domains left: $(xl list)"
