# posix.sh — ordinary C programs on Xen: tests/libc's conformance programs,
# built with the SDK (`kx-cc --backend xen`: musl, libkxposix, the Xen entry
# and platform), run by kxmon --backend xen.  Each run must exit 0, leave
# nothing on kxmon's stderr, pass its own checks and print exactly what the
# native build printed on the build host (staged as NAME.native by make
# xen-payload), as tests/cli/libc.bats compares them on KVM.
. /kx/dom0/lib.sh
P=/kx/posix
KXMON="/kx/bin/kxmon --no-jail"

# conform NAME MIN: the Xen image of NAME against its native output, at
# least MIN checks passing.
conform() {
	name=$1 min=$2
	out=/tmp/posix-$name.out err=/tmp/posix-$name.err
	t0=$(up)
	$KXMON --backend xen -m 64M -t 300 "$P/$name.kxe" /tmp > "$out" 2> "$err" < /dev/null
	rc=$?
	echo "timing: posix $name on xen: $(ms "$t0" "$(up)") ms"
	if [ "$rc" = 0 ]; then
		ok "xen posix $name: exit status 0"
	else
		not_ok "xen posix $name: kxmon exit $rc: $(head -c 300 "$err")"
		tail -5 "$out"
		xl dmesg | tail -10
	fi
	if [ -s "$err" ]; then
		not_ok "xen posix $name: kxmon reported: $(head -c 300 "$err")"
	else
		ok "xen posix $name: no report from kxmon"
	fi
	if cmp -s "$P/$name.native" "$out"; then
		ok "xen posix $name: the output is the native run's"
	else
		not_ok "xen posix $name: the outputs differ (native -, pVM +)"
		diff -u "$P/$name.native" "$out" | head -40
	fi
	n=$(sed -n 's/^\([0-9]*\) checks, 0 failed$/\1/p' "$out")
	if [ -n "$n" ] && [ "$n" -ge "$min" ] && ! grep -q '^FAIL' "$out"; then
		ok "xen posix $name: $n checks passed (at least $min)"
	else
		not_ok "xen posix $name: want at least $min passing checks: $(grep -E '^(FAIL|[0-9]+ checks)' "$out" | head -5 | tr '\n' ' ')"
	fi
}

# The thresholds are tests/cli/libc.bats's.
conform stdio 30
conform memory 30
conform files 55
conform timing 18
conform dirs 40
conform fdops 25
conform pipes 30

# Preemption is not supported on xen (docs/xen-backend.md): a program with a
# second thread is ended at its first tick with a clear reason, never run
# with a silent difference (the spinner would spin forever unpreempted).
out=/tmp/posix-spinner.out err=/tmp/posix-spinner.err
$KXMON --backend xen -m 64M -t 120 "$P/spinner.kxe" /tmp > "$out" 2> "$err" < /dev/null
rc=$?
if [ "$rc" = 125 ] && grep -q "cannot preempt the guest: .*not supported on xen" "$err"; then
	ok "xen posix spinner: preemption refused, the pVM ended (125) saying so"
else
	not_ok "xen posix spinner: kxmon exit $rc, want 125 and \"not supported on xen\": $(head -c 300 "$err")"
fi

# Through kxd --backend xen: the policy's gate, signed SDK images
# (tests/xen/fixture.sh: xposix is stdio, xhostdirs is hostdirs).
FX=/kx/kxd
SOCK=/tmp/kxdp/kxd.sock
ctl() { # kxctl VERB ARGS...: sets RC, OUT, ERR
	verb=$1
	shift
	kxctl "$verb" --socket "$SOCK" "$@" > /tmp/pctl.out 2> /tmp/pctl.err
	RC=$?
	OUT=/tmp/pctl.out ERR=/tmp/pctl.err
}
show() { echo "----- stdout"; head -40 "$OUT"; echo "----- stderr"; cat "$ERR"; echo "-----"; }

mkdir -p /tmp/kxdp
kxd --policy $FX/kx.kxp --socket $SOCK --audit-log /tmp/kxdp/audit.log --backend xen --no-jail \
	--libdir $FX/lib > /tmp/kxdp.log 2>&1 || not_ok "kxd xen posix: did not start: $(cat /tmp/kxdp.log)"

ctl run $FX/xposix.kxe /tmp
if [ "$RC" = 0 ] && cmp -s "$P/stdio.native" "$OUT"; then
	ok "kxd xen posix: a signed SDK image (stdio) runs, its output the native run's, status 0"
else
	not_ok "kxd xen posix: stdio through kxd: status $RC"
	diff -u "$P/stdio.native" "$OUT" | head -20
	show
fi

# Host directories (files rules), the dom0 side as tests/cli/libc.bats makes it.
top=/tmp/xhost
mkdir -p $top/data $top/conf
echo 'mode = ro' > $top/conf/app.conf
echo 'outside every mount' > $top/secret
ln -s /etc $top/data/etc
ln -s /etc/passwd $top/data/abs
ln -s .. $top/data/up
chmod 0777 $top/data
ctl run $FX/xhostdirs.kxe
n=$(sed -n 's/^\([0-9]*\) checks, 0 failed$/\1/p' "$OUT")
if [ "$RC" = 0 ] && [ -n "$n" ] && [ "$n" -ge 47 ] && ! grep -q '^FAIL' "$OUT"; then
	ok "kxd xen posix: host directories (files rules): $n checks passed (at least 47)"
else
	not_ok "kxd xen posix: hostdirs: status $RC, $(grep -E '^(FAIL|[0-9]+ checks)' "$OUT" | head -5 | tr '\n' ' ')"
	show
fi
if [ "$(cat $top/data/sub/moved.txt 2>/dev/null)" = "writ" ] && [ ! -e $top/escaped ] &&
	[ ! -e $top/evil ] && [ ! -e $top/moved.txt ] &&
	[ "$(cat $top/secret)" = "outside every mount" ] &&
	[ "$(cat $top/conf/app.conf)" = "mode = ro" ] && [ ! -e $top/conf/new ] &&
	[ ! -e $top/data/fill ] && [ ! -e $top/data/fill2 ]; then
	ok "kxd xen posix: hostdirs: the file reached dom0, nothing outside the mounts, ro intact"
else
	not_ok "kxd xen posix: hostdirs: dom0's side: $(find $top | head -20 | tr '\n' ' ')"
fi
ctl audit
if grep -q "file .*/conf.*ALLOW .*xhostdirs.yaml" "$OUT" && grep -q "file .*/data.*ALLOW .*xhostdirs.yaml" "$OUT"; then
	ok "kxd xen posix: hostdirs: both mounts audited"
else
	not_ok "kxd xen posix: hostdirs: no file ALLOW records: $(grep xhostdirs "$OUT" | head -5)"
fi
ctl stop
