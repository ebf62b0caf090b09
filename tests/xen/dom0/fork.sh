# fork.sh — kx_fork on Xen through kxd --backend xen: the child a new
# domain whose memory starts as a copy of the parent's, decided by gate_fork
# as on KVM (tests/cli/kvm_fork.bats has the same cases on KVM).  The image
# is tests/guest/forkt.c (Xen build), app xforkd: max-depth 2.
. /kx/dom0/lib.sh
kxd_start /tmp/kxdf || not_ok "kxd xen fork: did not start: $(kxd_log)"

# copy at the fork, then each side's writes its own
t0=$(up)
ctl run $FX/forkt.kxe cow
echo "timing: kxctl run (kxd --backend xen) forkt cow: $(ms "$t0" "$(up)") ms"
if [ "$RC" = 0 ] && has "$OUT" "parent forked child 2" &&
	has "$OUT" "child sees value 1 heap before" && has "$OUT" "child wrote value 2 heap child" &&
	has "$OUT" "parent sees value 3 heap parent child status 7" && has "$OUT" "second wait: -10"; then
	ok "xen fork: the child starts from the parent's memory, each side's writes stay its own, kx_wait gets 7"
else
	not_ok "xen fork: cow: status $RC"
	show
fi
ctl list
if grep -Eq '^2 +xforkd +[0-9]+ +exited +[^ ]+ +7 +1 ' "$OUT"; then
	ok "xen fork: kxctl list shows the child (pVM 2, status 7) in pVM 1's family"
else
	not_ok "xen fork: list"
	show
fi

# gate_fork decides: max-depth 2 allows two generations and denies a third
ctl run $FX/forkt.kxe deep
if [ "$RC" = 0 ] && [ "$(sed -n 1p "$OUT")" = "depth 1: running" ] &&
	[ "$(sed -n 2p "$OUT")" = "depth 2: running" ] &&
	[ "$(sed -n 3p "$OUT")" = "depth 2: fork: -13" ]; then
	ok "xen fork: max-depth 2 allows two generations, denies the third (-KX_EACCES)"
else
	not_ok "xen fork: deep: status $RC"
	show
fi
ctl audit
if grep -q "fork    pvm 5 (xforkd) -> fork (children 0, members 3) DENY .*/xforkd.yaml:14: .*max-depth is 2" "$OUT"; then
	ok "xen fork: the denial is audited with its rule"
else
	not_ok "xen fork: no audited DENY"
	show
fi
ctl audit --json
n_fork=$(grep '"op":"fork"' "$OUT" | grep -c '"backend":"xen"')
[ "$n_fork" -ge 4 ] && ok "xen fork: $n_fork fork records naming backend xen" ||
	{ not_ok "xen fork: $n_fork fork records naming xen, want 4"; show; }

# a faulting child: its own domain crashes, the parent's does not
ctl run $FX/forkt.kxe fault
if [ "$RC" = 0 ] && has "$OUT" "faulting child status 126"; then
	ok "xen fork: a child's fault ends the child only (126 through kx_wait)"
else
	not_ok "xen fork: fault: status $RC"
	show
fi
ctl stop
sleep 1
[ "$(xl list | tail -n +2 | wc -l)" = 1 ] && ok "xen fork: no domain left but dom0" ||
	not_ok "xen fork: domains left: $(xl list)"
