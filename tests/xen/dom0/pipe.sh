# pipe.sh — a pipe between a parent and its forked child on Xen (kxd
# --backend xen): the pipe's data area is frames of the parent's domain
# that the child's page tables name too, its control page a copy each
# monitor refreshes from kxd's file.  The image is tests/guest/ipct.c
# (Xen build), app xipc (family ipc: [pipe]).
. /kx/dom0/lib.sh
FX=/kx/kxd
SOCK=/tmp/kxdp/kxd.sock
ctl() { # kxctl VERB ARGS...: sets RC, OUT, ERR
	verb=$1
	shift
	kxctl "$verb" --socket "$SOCK" "$@" > /tmp/pctl.out 2> /tmp/pctl.err
	RC=$?
	OUT=/tmp/pctl.out ERR=/tmp/pctl.err
}
has() { grep -F -q -x -- "$2" "$1"; }
show() { echo "----- stdout"; cat "$OUT"; echo "----- stderr"; cat "$ERR"; echo "-----"; }

mkdir -p /tmp/kxdp
kxd --policy $FX/kx.kxp --socket $SOCK --audit-log /tmp/kxdp/audit.log --backend xen --no-jail \
	--libdir $FX/lib > /tmp/kxdp.log 2>&1 || not_ok "kxd xen pipe: did not start: $(cat /tmp/kxdp.log)"

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
ctl audit --json
n_pipe=$(grep '"op":"ipc"' "$OUT" | grep '"backend":"xen"' | grep -c '"decision":"allow"')
[ "$n_pipe" -ge 3 ] && ok "xen pipe: $n_pipe IpC records naming backend xen, ALLOW" ||
	{ not_ok "xen pipe: $n_pipe IpC ALLOW records naming xen"; show; }
ctl stop
sleep 1
[ "$(xl list | tail -n +2 | wc -l)" = 1 ] && ok "xen pipe: no domain left but dom0" ||
	not_ok "xen pipe: domains left: $(xl list)"
