# signal.sh — signals between a parent and its forked child on Xen (kxd
# --backend xen): kx_kill decided by the gate (family: ipc: [signal]),
# default actions ending the child, and handlers, which the guest enters at
# its next kx call (docs/xen-backend.md "Signals"), as on KVM
# (tests/cli/kvm_signal.bats).  The images are tests/guest/sigt.c and
# tests/xen/sigx.c (Xen builds), both app xsig.
. /kx/dom0/lib.sh
kxd_start /tmp/kxds || not_ok "kxd xen signal: did not start: $(kxd_log)"

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
ctl run $FX/sigx.kxe handler
if [ "$RC" = 0 ] && has "$OUT" "child: 5 signals handled, argument right, all rounds intact" &&
	has "$OUT" "parent: acks 6, argument right, child status 0"; then
	ok "xen signal: handlers run with their argument, return to the interrupted code, again and again, in a pVM blocked in kx_pause"
else
	not_ok "xen signal: handler: status $RC"
	show
fi
ctl run $FX/sigt.kxe eintr
if [ "$RC" = 0 ] && has "$OUT" "wait: -4, handler ran: yes" && has "$OUT" "nagger status 137"; then
	ok "xen signal: a signal interrupts kx_wait (-KX_EINTR) and its handler runs"
else
	not_ok "xen signal: eintr: status $RC"
	show
fi
ctl run $FX/sigt.kxe hostile
fail=
for l in "sigreturn outside a handler: -22" "signal SIGKILL: -22" "handler without trampoline: -22" \
	"handler left early: 1, 0" "sigreturn again: -22" "survived"; do
	has "$OUT" "$l" || fail="$fail [$l]"
done
if [ "$RC" = 0 ] && [ -z "$fail" ]; then
	ok "xen signal: KX_HC_SIGRETURN inside a handler does not return; outside one it is -KX_EINVAL"
else
	not_ok "xen signal: hostile: status $RC, missing$fail"
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
