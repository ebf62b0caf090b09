#!/bin/sh
# bench_posix_kxd.sh BUILD: the system calls of an SDK program that need
# kxd (bench13, #13), in a pVM beside the same program as a Linux process:
# tests/bench/posix_kxd_loop.c built natively and with kx-cc.  The pVM runs
# under a private kxd whose policy grants a host directory (a `files` rule,
# mode rw) at /data and lets the app fork and share pipes; the native run
# uses a directory beside it.  Prints ns per call for both, their ratio,
# and the pVM's exits per call.  Run from the repository root (make bench).
set -eu
build=$(cd "$1" && pwd)
root=$(pwd)
tmp=$(mktemp -d /tmp/kxbpXXXXXX)
ctl() { v=$1; shift; "$build/bin/kxctl" "$v" --socket "$tmp/s" "$@"; }
trap '[ -S "$tmp/s" ] && ctl stop >/dev/null 2>&1; rm -rf "$tmp"' EXIT
if ! "$build/bin/kxmon" --check >/dev/null 2>&1; then
	echo "bench_posix_kxd: /dev/kvm is not usable: skipped"
	exit 0
fi
# The jailed monitor works on the directory as its jail's uid (docs/jail.md).
mkdir "$tmp/host" "$tmp/native"
chmod 0777 "$tmp/host"
sed -e "s|@APP@|kxbench|" -e "s|@KEYS@|$root/manifests/keys|g" \
	"$root/tests/data/kxd/libc.yaml.in" > "$tmp/kxbench.yaml"
cat >> "$tmp/kxbench.yaml" <<EOT
files:
  - { guest: /data, host: $tmp/host, mode: rw, max: 1M }
EOT
"$build/bin/kxsign" sign -s "$root/tests/data/keys/acme.sec" --name kxbench --version 1.0 \
	-o "$tmp/kxbench.kxe" "$build/bench/posix_kxd_loop.kxe" >/dev/null
"$build/bin/kxpolicy" compile -o "$tmp/kx.kxp" "$tmp/kxbench.yaml" >/dev/null
"$build/bin/kxd" --policy "$tmp/kx.kxp" --socket "$tmp/s" --audit-log "$tmp/audit" 2>/dev/null
"$build/bench/posix_kxd_loop" "$tmp/native" > "$tmp/linux.out" ||
	{ echo "bench_posix_kxd: the Linux run failed"; exit 1; }
ctl run "$tmp/kxbench.kxe" /data > "$tmp/pvm.out" ||
	{ echo "bench_posix_kxd: the pVM run failed"; exit 1; }
awk 'NR == FNR { lin[$1] = $2; next }
	FNR == 1 { printf "%-18s %12s %12s %9s %14s\n", "system call", "Linux ns", "pVM ns",
		"pVM/Linux", "pVM exits/call" }
	($1 in lin) { printf "%-18s %12.1f %12.1f %9.2f %14.2f\n", $1, lin[$1], $2,
		$2 / (lin[$1] > 0 ? lin[$1] : 1), $3; n++ }
	END { exit n == 5 ? 0 : 1 }' "$tmp/linux.out" "$tmp/pvm.out" ||
	{ echo "bench_posix_kxd: a run printed too few rows"; exit 1; }
