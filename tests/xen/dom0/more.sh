# more.sh — checks of make test-xen's second boot (after jail.sh), kept out
# of the first boot for its time: kxd --backend xen (unjailed monitors, as
# fork needs) with tests/xen/fixture.sh's images.  Forks leave no zombie
# reapers; a new pVM's memory is zero while frames another live pVM gave
# back sit unscrubbed in Xen's heap; an IpC object another pVM's domain
# holds is -KX_EOPNOTSUPP to the guest (docs/xen-backend.md).
. /kx/dom0/lib.sh
kxd_start /tmp/kxdm || not_ok "kxd xen more: did not start: $(kxd_log)"

# every fork's child domain has a reaper, a process of the parent's monitor:
# once the child ended, the monitor must wait for it, or each fork leaves a
# zombie in dom0 (pipex forks: N rounds, then it waits to be killed).
# Counted as the zombies it adds: earlier ones (an orphan /init did not
# collect) are not its doing.  At most one: the parent's monitor waits for
# a reaper at a turn of its run loop, and once the guest blocks in
# kx_pause, the last child's reaper may still be destroying its domain
# (without the wait: one per fork).
kxmon_zombies() { cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 == "(kxmon)" && $3 == "Z"' | wc -l; }
z0=$(kxmon_zombies)
kxctl run --socket "$SOCK" $FX/pipex.kxe forks 8 > "$KXD_DIR/forks.out" 2>&1 &
i=0
while ! grep -q "^forked 8, pvm " "$KXD_DIR/forks.out" && [ $i -lt 900 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 1 # the last child's reaper ends, the run loop turns (every 100 ms)
zombies=$(($(kxmon_zombies) - z0))
if grep -q "^forked 8, pvm " "$KXD_DIR/forks.out" && [ "$zombies" -le 1 ]; then
	ok "xen fork: 8 forks leave no zombie reapers behind in dom0 ($zombies pending)"
else
	not_ok "xen fork: $zombies zombie kxmon processes after 8 forks"
	cat "$KXD_DIR/forks.out"
fi
ctl kill "$(sed -n 's/^forked 8, pvm //p' "$KXD_DIR/forks.out")"

# a fresh pVM's memory is zero, as on KVM, even while frames another live
# pVM gave back unscrubbed are in Xen's heap: pipex leak fills a segment
# with a marker, detaches it while its child holds it (the frames go back
# when the child ends) and stays alive; pipex zeroheap then scans its heap
kxctl run --socket "$SOCK" $FX/pipex.kxe leak > "$KXD_DIR/leak.out" 2>&1 &
i=0
while ! grep -q "^ready " "$KXD_DIR/leak.out" && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
ctl run $FX/pipex.kxe zeroheap
if [ "$RC" = 0 ] && grep -q "^shmdt: 0$" "$KXD_DIR/leak.out" &&
	grep -q "^heap: [1-9][0-9]* KiB scanned, 0 nonzero words, 0 marker words$" "$OUT"; then
	ok "xen memory: a new pVM's heap is all zero after another pVM gave frames back"
else
	not_ok "xen memory: zeroheap: status $RC"
	cat "$KXD_DIR/leak.out"
	show
fi
ctl kill "$(sed -n 's/^ready //p' "$KXD_DIR/leak.out")"

# a queue another pVM's domain holds (xsrv made it, xcli opens it by key, as
# their policies allow): Xen cannot map it, and the guest reads why
kxctl run --socket "$SOCK" $FX/xsrv.kxe serve 4242 > "$KXD_DIR/srv.out" 2>&1 &
i=0
while ! grep -q "serving: ok" "$KXD_DIR/srv.out" && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
ctl run $FX/xcli.kxe ask 4242
if [ "$RC" = 0 ] && has "$OUT" "msgget: -95"; then
	ok "xen msgq: opening a queue another pVM holds is -KX_EOPNOTSUPP (95), not -KX_ENOSPC"
else
	not_ok "xen msgq: open by key: status $RC"
	cat "$KXD_DIR/srv.out"
	show
fi
ctl stop
sleep 1
[ "$(xl list | tail -n +2 | wc -l)" = 1 ] && ok "xen more: no domain left but dom0" ||
	not_ok "xen more: domains left: $(xl list)"
