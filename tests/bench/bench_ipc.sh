#!/bin/sh
# bench_ipc.sh BUILD RUNS [CPU]: the pVM half of bench_ipc
# (tests/bench/bench_ipc.c): every kxmon runs on CPU 0, each forked one on
# CPU (default 0) once it appears: the guest pauses after each fork for it.  Two apps with mutual msgq trust (tests/data/kxd/ipc*.yaml.in) under
# a private kxd; prints "rtt KIND NS" (tests/guest/ipct.c rtt) and
# "first NS" / "again NS" (a non-lineal pair's first msgget vs a repeated one).
set -eu
build=$(cd "$1" && pwd); runs=$2; cpu=${3:-0}
root=$(pwd); data=$root/tests/data/kxd
tmp=$(mktemp -d)
ctl() { v=$1; shift; "$build/bin/kxctl" "$v" --socket "$tmp/s" "$@"; }
trap '[ -S "$tmp/s" ] && ctl stop >/dev/null 2>&1; rm -rf "$tmp"' EXIT
for app in ipcsrv:ipccli ipccli:ipcsrv; do
	a=${app%%:*}; peer=${app#*:}
	sed -e "s|@APP@|$a|" -e "s|@KINDS@|pipe, msgq, shm|" -e "s|@KEYS@|$root/manifests/keys|g" \
		"$data/ipc.yaml.in" > "$tmp/$a.yaml"
	sed -e "/^#/d" -e "s|@PEER@|$peer|" "$data/ipc-trust.yaml.in" >> "$tmp/$a.yaml"
	"$build/bin/kxsign" sign -s "$root/tests/data/keys/acme.sec" --name "$a" --version 1.0 \
		-o "$tmp/$a.kxe" "$build/guest/ipct.kxe" >/dev/null
done
"$build/bin/kxpolicy" compile -o "$tmp/kx.kxp" "$tmp"/*.yaml >/dev/null
"$build/bin/kxd" --policy "$tmp/kx.kxp" --socket "$tmp/s" --audit-log "$tmp/audit" 2>/dev/null
# Pin each monitor as it appears in kxctl list: the root on 0, forks on $cpu.
pinner() {
	while [ ! -e "$tmp/done" ]; do
		ctl list 2>/dev/null | awk 'NR > 1 && $4 == "running" { print $3, ($7 == "-" ? 0 : 1) }' |
			while read -r pid forked; do
				[ -e "$tmp/pinned.$pid" ] && continue
				taskset -p -c "$([ "$forked" = 1 ] && echo "$cpu" || echo 0)" "$pid" >/dev/null &&
					touch "$tmp/pinned.$pid"
			done
		sleep 0.05
	done
}
taskset -p -c 0 $$ >/dev/null
pinner &
ctl run "$tmp/ipcsrv.kxe" rtt "$runs" 700
touch "$tmp/done"; wait
ctl run "$tmp/ipcsrv.kxe" mkq 7070
ctl run "$tmp/ipccli.kxe" firstcomm 7070
