# pipe.sh — a pipe between a parent and its forked child on Xen (kxd
# --backend xen): the pipe's data area is frames of the parent's domain
# that the child's page tables name too, its control page a copy each
# monitor refreshes from kxd's file.  The image is tests/guest/ipct.c
# (Xen build) and tests/xen/pipex.c, app xipc (family ipc: [pipe, msgq, shm]).
. /kx/dom0/lib.sh
kxd_start /tmp/kxdp || not_ok "kxd xen pipe: did not start: $(kxd_log)"

# child writes, parent reads (each byte checked by the guest), end of file
# once the child ended: kxd's writer count reaches the parent's control page
t0=$(up)
ctl run $FX/ipct.kxe pipeup 300000
echo "timing: kxctl run (kxd --backend xen) ipct pipeup 300000: $(ms "$t0" "$(up)") ms"
if [ "$RC" = 0 ] && grep -q "^parent read 300000 bytes sum [0-9]* then 0$" "$OUT" &&
	has "$OUT" "child status 0"; then
	ok "xen pipe: the child writes 300000 bytes, the parent reads them all, then end of file"
else
	not_ok "xen pipe: pipeup: status $RC"
	show
fi
# parent writes more than the ring holds, the child reads (both sides block
# and wake), end of file once the parent closed its end
ctl run $FX/ipct.kxe pipe 300000
if [ "$RC" = 0 ] && grep -q "^child read 300000 bytes sum [0-9]* then 0$" "$OUT" &&
	grep -q "^parent wrote 300000 bytes sum" "$OUT" && has "$OUT" "child status 0" &&
	[ "$(sed -n 's/^child read 300000 bytes sum \([0-9]*\).*/\1/p' "$OUT")" = \
	  "$(sed -n 's/^parent wrote 300000 bytes sum \([0-9]*\)/\1/p' "$OUT")" ]; then
	ok "xen pipe: the parent writes 300000 bytes, the child reads the same sum, then end of file"
else
	not_ok "xen pipe: pipe: status $RC"
	show
fi
# the child closes its read end and exits: the parent's write is -KX_EPIPE
ctl run $FX/ipct.kxe epipe
if [ "$RC" = 0 ] && has "$OUT" "write: -32"; then
	ok "xen pipe: a write with no reader left is -KX_EPIPE"
else
	not_ok "xen pipe: epipe: status $RC"
	show
fi
# cross-domain wakeups: a side asleep in KX_HC_NOTIFY_WAIT is woken by the
# other's write (a doorbell both monitors map), not by its wait's time
# limit; the monitors count both endings (pipex.c).  Without the wake every
# sleep ends at the limit: at least one per round trip.
ctl run $FX/pipex.kxe rtt 20
woken=0 timed=0
for who in parent child; do
	l=$(grep "^$who: 20 round trips, waits woken " "$OUT")
	w=$(echo "$l" | sed -n 's/.*woken \([0-9]*\),.*/\1/p')
	t=$(echo "$l" | sed -n 's/.*timed out \([0-9]*\)$/\1/p')
	woken=$((woken + ${w:-0}))
	timed=$((timed + ${t:-20}))
done
if [ "$RC" = 0 ] && has "$OUT" "child status 0" && [ "$woken" -ge 10 ] && [ "$timed" -lt 20 ]; then
	ok "xen pipe: 20 round trips, sleepers woken across domains ($woken woken, $timed at the time limit)"
else
	not_ok "xen pipe: rtt: status $RC, $woken woken, $timed at the time limit"
	show
fi
# message queues both ways and a shared segment between parent and child
# (the same path as the pipe: the data area is the parent's frames)
ctl run $FX/pipex.kxe msgq 10
if [ "$RC" = 0 ] && has "$OUT" "msgq: 10 messages each way, 0 wrong, child status 0" &&
	has "$OUT" "msgrm: 0 0"; then
	ok "xen msgq: 10 messages parent -> child and back, every byte right"
else
	not_ok "xen msgq: status $RC"
	show
fi
ctl run $FX/ipct.kxe shm
if [ "$RC" = 0 ] && has "$OUT" "child sees 'from the parent' and 'end of segment'" &&
	has "$OUT" "parent sees 'from the child'" && has "$OUT" "child status 0"; then
	ok "xen shm: each side sees the other's writes in one segment"
else
	not_ok "xen shm: status $RC"
	show
fi
ctl audit --json
n_pipe=$(grep '"op":"ipc"' "$OUT" | grep '"backend":"xen"' | grep -c '"decision":"allow"')
[ "$n_pipe" -ge 3 ] && ok "xen pipe: $n_pipe IpC records naming backend xen, ALLOW" ||
	{ not_ok "xen pipe: $n_pipe IpC ALLOW records naming xen"; show; }
ctl stop
sleep 1
[ "$(xl list | tail -n +2 | wc -l)" = 1 ] && ok "xen pipe: no domain left but dom0" ||
	not_ok "xen pipe: domains left: $(xl list)"
