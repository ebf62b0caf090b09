# bench.sh — make bench-xen: kx's Xen backend beside plain Xen in one TCG
# boot.  Every figure is emulated (QEMU/TCG on a shared machine): only the
# ratios between figures of this run mean anything.  Prints one "bench:"
# line per figure and per ratio; the median of N runs each.
. /kx/dom0/lib.sh
G=/kx/guest
N=${KX_BENCH_N:-5}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# kxmon --backend xen: create, populate + map, load, page tables, boot, run to exit, destroy
: > /tmp/b-kx
for i in $(seq "$N"); do
	t0=$(up)
	/kx/bin/kxmon --no-jail --backend xen -m 32M $G/xhello.kxe > /dev/null 2>&1 || not_ok "bench: kxmon run $i"
	echo "$(ms "$t0" "$(up)")" >> /tmp/b-kx
done
# xl create of the same image (libxl, XenStore, a console), created -> shut down -> destroyed
: > /tmp/b-xl
for i in $(seq "$N"); do
	t0=$(up)
	boot_pvm bxl $G/xhello.kxe > /dev/null 2>&1
	end_pvm bxl
	echo "$(ms "$t0" "$(up)")" >> /tmp/b-xl
done
kx=$(median < /tmp/b-kx)
xl=$(median < /tmp/b-xl)
echo "bench: boot to exit, kxmon --backend xen: $kx ms (median of $N)"
echo "bench: boot to exit, xl create + destroy: $xl ms (median of $N)"
awk -v a="$kx" -v b="$xl" 'BEGIN { printf "bench: ratio kx / xl create: %.2f\n", b ? a / b : 0 }'

# one kx hypercall over the ring, answered by the core (200 in a row, timed in the guest)
/kx/bin/kxmon --no-jail --backend xen -m 32M $G/xhello.kxe calls 200 > /tmp/b-calls 2>&1
echo "bench: kx call round trip (kxmon --backend xen): $(sed -n 's/^calls: //p' /tmp/b-calls)"
# the same calls answered by a plain function in the guest (no monitor: -KX_EPERM)
boot_pvm bcalls $G/xhello.kxe calls 200 > /dev/null 2>&1
echo "bench: the same without a monitor (a function call): $(sed -n 's/^calls: //p' "$CONSOLE")"
end_pvm bcalls
# fork through kxd --backend xen: a child domain built from a copy of the
# parent's memory (no copy-on-write on PV), the child exits, the parent waits;
# timed in the guest, beside fork + exit + wait of a process in dom0
mkdir -p /tmp/kxdb
if kxd --policy /kx/kxd/kx.kxp --socket /tmp/kxdb/kxd.sock --audit-log /tmp/kxdb/audit.log \
	--backend xen --no-jail --libdir /kx/kxd/lib > /tmp/kxdb.log 2>&1; then
	kxctl run --socket /tmp/kxdb/kxd.sock /kx/kxd/forkt.kxe time "$N" > /tmp/b-fork 2>&1 ||
		not_ok "bench: forkt time: $(cat /tmp/b-fork)"
	kxctl stop --socket /tmp/kxdb/kxd.sock > /dev/null 2>&1
else
	not_ok "bench: kxd did not start: $(cat /tmp/kxdb.log)"
fi
# a pipe round trip between parent and child (one byte each way, the ring
# in frames both domains map; timed in the guest), beside one kx call
kxd --policy /kx/kxd/kx.kxp --socket /tmp/kxdb/kxd.sock --audit-log /tmp/kxdb/audit.log \
	--backend xen --no-jail --libdir /kx/kxd/lib > /tmp/kxdb.log 2>&1 &&
	kxctl run --socket /tmp/kxdb/kxd.sock /kx/kxd/ipct.kxe rttpipe 50 > /tmp/b-rtt 2>&1 ||
	not_ok "bench: ipct rttpipe: $(cat /tmp/b-rtt /tmp/kxdb.log)"
kxctl stop --socket /tmp/kxdb/kxd.sock > /dev/null 2>&1
rtt_ns=$(sed -n 's/^rtt pipe \([0-9]*\)$/\1/p' /tmp/b-rtt)
echo "bench: pipe round trip parent <-> child, kx on xen (timed in the guest): $(awk -v a="${rtt_ns:-0}" 'BEGIN { printf "%.1f", a / 1000 }') us (mean of 50)"
fork_us=$(sed -n 's/^fork+exit+wait: \([0-9]*\) us.*/\1/p' /tmp/b-fork)
echo "bench: fork + exit + wait, kx on xen (16 MiB pVM, timed in the guest): ${fork_us:-?} us (median of $N)"
# /proc/uptime ticks in 10 ms: 50 in a row, the mean
t0=$(up)
for i in $(seq 50); do /bin/busybox true; done
dfork=$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.2f", (b - a) * 1000 / 50 }')
echo "bench: fork + exec + exit + wait of a dom0 process (busybox true): $dfork ms (mean of 50)"
awk -v a="${fork_us:-0}" -v b="$dfork" 'BEGIN { printf "bench: ratio kx fork / dom0 process: %.1f\n", b ? a / 1000 / b : 0 }'
ok "bench-xen: figures printed"
