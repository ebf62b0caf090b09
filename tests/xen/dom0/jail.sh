# jail.sh — the monitor's jail on the Xen backend (docs/jail.md, "The Xen
# backend"): kxmon --backend xen WITHOUT --no-jail, in dom0.  Its profile
# (manager/jail/xen.c: the KVM monitor's calls, the privcmd and evtchn
# ioctl codes instead of KVM's) must let a pVM boot, run, time out and end
# with its domain gone, and a call outside it must kill the monitor, the
# reaper still taking its domain along.  /proc/PID/status of a running
# jailed monitor shows the filter, no_new_privs, a uid that is not root.
# Images in /kx/guest/, kxmon in /kx/bin/.  The jail needs a cgroup
# hierarchy: dom0's /init mounts none, so this script mounts cgroup v2 and
# delegates memory, cpu and pids from its root, as an init system would.
. /kx/dom0/lib.sh
G=/kx/guest
KXMON=/kx/bin/kxmon

domains() { xl list 2>/dev/null | tail -n +2 | wc -l; }
field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }

if ! grep -q ' /sys/fs/cgroup ' /proc/mounts; then
	mount -t cgroup2 none /sys/fs/cgroup ||
		not_ok "jail xen: cannot mount cgroup2 on /sys/fs/cgroup"
fi
if [ -f /sys/fs/cgroup/cgroup.subtree_control ]; then
	echo "+memory +cpu +pids" > /sys/fs/cgroup/cgroup.subtree_control ||
		not_ok "jail xen: cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
fi

# Not a test: the calls the unjailed monitor makes, when strace is in
# /kx/bin (a local run adds it to find what a new list needs).
if command -v strace > /dev/null; then
	strace -f -qq -o /tmp/jail-trace $KXMON --no-jail --backend xen -m 32M -t 90 \
		$G/xhello.kxe calls 20 > /dev/null 2>&1
	echo "jail-trace: calls: $(sed -e 's/^[0-9]* *//' -e 's/(.*//' /tmp/jail-trace |
		sort | uniq -c | tr -s ' \n' ' ')"
	echo "jail-trace: ioctls: $(grep -o 'ioctl([0-9]*, [A-Z_0-9x]*' /tmp/jail-trace |
		sed 's/.*, //' | sort | uniq -c | tr -s ' \n' ' ')"
fi

# kx NAME ARGS...: kxmon --backend xen, jailed; sets RC, OUT, ERR
kx() {
	name=$1
	shift
	OUT=/tmp/jail-$name.out ERR=/tmp/jail-$name.err
	$KXMON --backend xen -m 32M -t 90 "$@" > "$OUT" 2> "$ERR"
	RC=$?
}

# why: what a failed test shows (the kernel's seccomp record names the call)
why() {
	echo "----- stdout"; cat "$OUT"; echo "----- stderr"; cat "$ERR"; echo "-----"
	dmesg | grep 'type=1326' | tail -3
}

check() { # NAME WANT-RC TEXT-IN-STDOUT
	if [ "$RC" = "$2" ] && { [ -z "$3" ] || grep -F -q -- "$3" "$OUT"; }; then
		ok "$1"
	else
		not_ok "$1: kxmon exit $RC, want $2$([ -n "$3" ] && echo " and \"$3\"")"
		why
	fi
}

before=$(domains)
kx hello $G/xhello.kxe one two
check "jail xen: a jailed monitor boots and serves a pVM (console, argv)" 0 "argv[2] = two"
kx fail $G/xhello.kxe fail
check "jail xen: the pVM's exit status 7 through the jail" 7 ""
kx calls $G/xhello.kxe calls 200
check "jail xen: 200 kx calls answered jailed (ring, event channel)" 0 "calls: 200 in"
kx rt $G/rt.kxe
check "jail xen: the runtime's checks pass jailed" 0 "0 failures"
kx timeout -t 3 $G/spin.kxe
check "jail xen: --timeout ends a spinning pVM jailed (124)" 124 "spinning"
kx ftext $G/fault.kxe text_write
check "jail xen: a guest fault is reported jailed (126)" 126 ""
[ "$(domains)" = "$before" ] && ok "jail xen: every domain is gone after its jailed monitor" ||
	not_ok "jail xen: domains left: $(xl list)"

# A running jailed monitor, as /proc sees it; its cgroup is a cgroup v2
# group (the KVM tests run on v1 hosts: this is where v2 runs).
$KXMON --backend xen -m 32M -t 60 --jail-cpu 500 --jail-pids 20 $G/spin.kxe \
	> /tmp/jail-spin.out 2>&1 &
pid=$!
i=0
while kill -0 $pid 2>/dev/null && [ "$(field $pid Seccomp 2>/dev/null)" != 2 ] &&
	[ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
uid=$(field $pid Uid | awk '{ print $1 }')
if [ "$(field $pid Seccomp)" = 2 ] && [ "$(field $pid NoNewPrivs)" = 1 ] &&
	[ -n "$uid" ] && [ "$uid" != 0 ] && [ "$(field $pid CapEff)" = 0000000000000000 ] &&
	[ "$(readlink /proc/$pid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] &&
	[ -z "$(ls -A /proc/$pid/root/ 2>/dev/null)" ]; then
	ok "jail xen: the running monitor is jailed (Seccomp 2, NoNewPrivs, uid $uid, own mounts, empty root)"
else
	not_ok "jail xen: /proc/$pid/status: $(grep -E '^(Uid|Seccomp|NoNewPrivs|CapEff)' /proc/$pid/status | tr '\n' ' ')"
	cat /tmp/jail-spin.out
fi
cg=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/$pid/cgroup)
mem=$(cat "$cg/memory.max" 2>/dev/null) cpu=$(cat "$cg/cpu.max" 2>/dev/null)
pids=$(cat "$cg/pids.max" 2>/dev/null)
if [ "$cg" = /sys/fs/cgroup/kx/kxmon-$pid ] && [ "$mem" = $(((32 + 64) << 20)) ] &&
	[ "$cpu" = "50000 100000" ] && [ "$pids" = 20 ]; then
	ok "jail xen: cgroup v2: the monitor is in kx/kxmon-$pid with memory.max, cpu.max, pids.max"
else
	not_ok "jail xen: cgroup v2: group '$cg', memory.max '$mem' (want 32 MiB + 64), cpu.max '$cpu', pids.max '$pids'"
fi
i=0
while kill -0 $pid 2>/dev/null && [ "$(domains)" = "$before" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -9 $pid
wait $pid 2>/dev/null
i=0
while [ "$(domains)" != "$before" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(domains)" = "$before" ] && ok "jail xen: kill -9 of a jailed monitor: its domain is destroyed" ||
	not_ok "jail xen: kill -9 of a jailed monitor left: $(xl list)"

# The test-only hook: a call outside the profile right after the jail.
OUT=/tmp/jail-forbidden.out ERR=/tmp/jail-forbidden.err
KXMON_TEST_JAIL_FORBIDDEN=1 $KXMON --backend xen -m 32M -t 60 $G/xhello.kxe > "$OUT" 2> "$ERR"
RC=$?
if [ "$RC" = 159 ] && ! grep -q "hello from a pVM" "$OUT"; then
	ok "jail xen: a call outside the profile kills the monitor (SIGSYS) before the guest runs"
else
	not_ok "jail xen: forbidden call: exit $RC, want 159 (128 + SIGSYS)"
	why
fi
i=0
while [ "$(domains)" != "$before" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(domains)" = "$before" ] && ok "jail xen: the killed monitor's domain is destroyed (its reaper)" ||
	not_ok "jail xen: a killed monitor left: $(xl list)"

# kxd --backend xen, its monitors jailed (no --no-jail): tests/xen/fixture.sh's
# policy and signed images in /kx/kxd, as kxd.sh uses them.
FX=/kx/kxd
SOCK=/tmp/kxd-jail/kxd.sock
mkdir -p /tmp/kxd-jail
if kxd --policy $FX/kx.kxp --socket $SOCK --audit-log /tmp/kxd-jail/audit.log --backend xen \
	--libdir $FX/lib > /tmp/kxd-jail/kxd.log 2>&1; then
	OUT=/tmp/jail-kxd.out ERR=/tmp/jail-kxd.err
	kxctl run --socket $SOCK $FX/xhello.kxe one two > "$OUT" 2> "$ERR"
	RC=$?
	check "jail xen: kxd --backend xen runs its pVM's monitor jailed" 0 "argv[2] = two"
	kxctl stop --socket $SOCK > /dev/null 2>&1
else
	not_ok "jail xen: kxd --backend xen (jailed monitors) did not start: $(cat /tmp/kxd-jail/kxd.log)"
fi
