# kxd.sh — kxd --backend xen in dom0: the gate, the policy and the audit log
# shared with KVM, each pVM a kxmon --backend xen.  The fixture (policy,
# signed images) is tests/xen/fixture.sh's, in /kx/kxd.
. /kx/dom0/lib.sh
if kxd_start /tmp/kxd; then
	ok "kxd --backend xen: started"
else
	not_ok "kxd --backend xen: did not start: $(kxd_log)"
fi

t0=$(up)
ctl run $FX/xhello.kxe one two
echo "timing: kxctl run (kxd --backend xen) xhello: $(ms "$t0" "$(up)") ms"
if [ "$RC" = 0 ] && has_text "$OUT" "hello from a pVM on xen" && has_text "$OUT" "argv[2] = two"; then
	ok "kxd xen: a signed pVM boots, its console on kxctl's stdout, status 0"
else
	not_ok "kxd xen: signed boot: status $RC"
	show
fi

ctl run $FX/xhello.kxe fail
[ "$RC" = 7 ] && ok "kxd xen: kxctl run exits with the pVM's status 7" ||
	{ not_ok "kxd xen: status $RC, want 7"; show; }

ctl run --app xhello $FX/unsigned.kxe
if [ "$RC" = 1 ] && has_text "$ERR" "boot of xhello denied: signature unsigned"; then
	ok "kxd xen: an unsigned image is refused, saying why"
else
	not_ok "kxd xen: unsigned: status $RC"
	show
fi
ctl run $FX/wrongkey.kxe
if [ "$RC" = 1 ] && has_text "$ERR" "boot of xhello denied"; then
	ok "kxd xen: an image signed by a key the policy does not trust is refused"
else
	not_ok "kxd xen: wrong key: status $RC"
	show
fi

# a dynamic pVM: its signed library linked at boot (a copy in the domain's
# frames), every call bound lazily through du_resolve over the kx ring
t0=$(up)
ctl run $FX/linkt.kxe calls 500
echo "timing: kxctl run (kxd --backend xen) linkt calls 500: $(ms "$t0" "$(up)") ms"
if [ "$RC" = 0 ] && has_text "$OUT" "sum 500, libkvmath 1.16.2, 500 calls"; then
	ok "kxd xen: a signed library linked at boot, bound lazily: 500 calls"
else
	not_ok "kxd xen: linkt calls 500: status $RC"
	show
fi
ctl run $FX/linkt.kxe gotwrite
if [ "$RC" = 126 ] && has_text "$OUT" "writing the GOT" && ! has_text "$OUT" "survived"; then
	ok "kxd xen: the GOT is read-only to the guest (a write faults, 126)"
else
	not_ok "kxd xen: gotwrite: status $RC"
	show
fi

ctl audit --json
n_boot=$(grep -c '"op":"boot","backend":"xen"' "$OUT")
n_allow=$(grep '"op":"boot","backend":"xen"' "$OUT" | grep -c '"decision":"allow"')
n_deny=$(grep '"op":"boot","backend":"xen"' "$OUT" | grep -c '"decision":"deny"')
if [ "$n_boot" = 6 ] && [ "$n_allow" = 4 ] && [ "$n_deny" = 2 ]; then
	ok "kxd xen: the audit log: 6 boot records naming backend xen, 4 ALLOW, 2 DENY"
else
	not_ok "kxd xen: audit: $n_boot boot records, $n_allow allowed, $n_deny denied"
	show
fi
if grep '"decision":"deny"' "$OUT" | grep -q '"stage":"signature"'; then
	ok "kxd xen: the DENY of the unsigned image is audited at the signature stage"
else
	not_ok "kxd xen: no signature-stage DENY"
	show
fi

n_link=$(grep '"op":"link","backend":"xen"' "$OUT" | grep '"lib":"libkvmath"' |
	grep -c '"decision":"allow"')
[ "$n_link" = 2 ] && ok "kxd xen: 2 link records of libkvmath, ALLOW, naming backend xen" ||
	{ not_ok "kxd xen: $n_link link ALLOW records, want 2"; show; }

# kx_dlopen: a library mapped into the running pVM (its pages a copy of the
# sealed file, rights set in the domain's page tables after boot, the
# guest's TLB flushed after its next kx call)
ctl run $FX/linkt.kxe dlopen libacme-log.so
if [ "$RC" = 0 ] && has_text "$OUT" "dlopen libacme-log.so: 0" && has_text "$OUT" "dlsym acme_log: found" &&
	has_text "$OUT" "[acme-log 3.3.0 #1] linkt: answer = 42"; then
	ok "kxd xen: kx_dlopen links a signed library into the running pVM, its function runs"
else
	not_ok "kxd xen: dlopen: status $RC"
	show
fi
ctl run $FX/linkt.kxe textwrite
if [ "$RC" = 126 ] && ! has_text "$OUT" "survived"; then
	ok "kxd xen: the library's text is read-only to the guest (a write faults, 126)"
else
	not_ok "kxd xen: textwrite: status $RC"
	show
fi

ctl list --json
[ "$(cat "$OUT")" = "[]" ] || grep -q '"state": "exited"' "$OUT" &&
	ok "kxd xen: no pVM left running" || { not_ok "kxd xen: list"; show; }
ctl stop
[ "$RC" = 0 ] && ok "kxd xen: stop" || { not_ok "kxd xen: stop: $RC"; show; }

# the same library unsigned: the link is refused, the pVM never runs, audited
kxd_start /tmp/kxd $FX/badlib || not_ok "kxd xen: restart: $(kxd_log)"
ctl run $FX/linkt.kxe calls 5
if [ "$RC" = 125 ] && has_text "$ERR" "link of libkvmath.so into pVM 1 (xlinkt) denied: signature unsigned" &&
	! has_text "$OUT" "sum"; then
	ok "kxd xen: an unsigned library is refused, the pVM never runs (125)"
else
	not_ok "kxd xen: unsigned library: status $RC"
	show
fi
ctl audit --json
if grep '"op":"link","backend":"xen"' "$OUT" | grep '"lib":"libkvmath"' |
	grep '"decision":"deny"' | grep -q '"stage":"signature"'; then
	ok "kxd xen: the unsigned library's DENY is audited (signature stage)"
else
	not_ok "kxd xen: no audited DENY of the unsigned library"
	show
fi
ctl stop
[ "$(xl list | tail -n +2 | wc -l)" = 1 ] && ok "kxd xen: only dom0 is left" ||
	not_ok "kxd xen: domains left: $(xl list)"

# online update: libupd 1.16 -> 1.18 under a running updt (its state checked
# every round), the new text mapped and the rights changed in the running
# domain; a fresh kxd, so updt is pVM 1
kxd_start /tmp/kxd || not_ok "kxd xen: restart: $(kxd_log)"
kxctl run --socket $SOCK $FX/updt.kxe until 118 > /tmp/updt.out 2>&1 &
run_pid=$!
i=0
while ! grep -q "updt: ready" /tmp/updt.out && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
t0=$(up)
ctl update 1 $FX/libupd-1.18.so libupd
echo "timing: kxctl update (kxd --backend xen) libupd 1.16 -> 1.18: $(ms "$t0" "$(up)") ms"
[ "$RC" = 0 ] && ok "kxd xen: kxctl update of libupd 1.16 -> 1.18 in a running pVM" ||
	{ not_ok "kxd xen: update: status $RC"; show; }
wait $run_pid
rc=$?
if [ "$rc" = 0 ] && grep -q "updt: now version 118, state kept (106 variables" /tmp/updt.out; then
	ok "kxd xen: updt runs on with 1.18, its state kept"
else
	not_ok "kxd xen: updt: status $rc"
	cat /tmp/updt.out
fi
ctl audit --json
if grep '"op":"update","backend":"xen"' "$OUT" | grep -q '"decision":"allow"'; then
	ok "kxd xen: the update is audited, naming backend xen"
else
	not_ok "kxd xen: no update record"
	show
fi
ctl stop
[ "$(xl list | tail -n +2 | wc -l)" = 1 ] && ok "kxd xen: only dom0 is left at the end" ||
	not_ok "kxd xen: domains left: $(xl list)"
