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
