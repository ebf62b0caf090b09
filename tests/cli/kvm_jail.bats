#!/usr/bin/env bats
# kvm_jail: the monitor's jail (docs/jail.md) on real pVMs, through kxd and
# by hand: /proc/PID/status of a running kxmon (seccomp filter mode 2,
# no_new_privs, a uid and gid that are not root, no capabilities), its own
# mount/net/ipc/uts namespaces and an empty root, its cgroup and the limits
# in the cgroup's files (the manifest's memory and resources), a forked
# monitor's own cgroup, and a forbidden system call (the test-only hook
# KXMON_TEST_JAIL_FORBIDDEN) killing kxmon with SIGSYS, reported by kxd.
# Per thread: every thread of a kxmon (the vCPU thread, the network
# thread of a pVM with an interface) has the entry filter and its own, and
# a call of the other thread's list (KXMON_TEST_JAIL_THREAD) kills.
# Needs root (namespaces, cgroups, setuid): CI runs as root; elsewhere the
# tests are skipped with the reason, as they are without /dev/kvm.

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

setup_file() {
	local fx=$BATS_FILE_TMPDIR/fx
	mkdir -p "$fx/lib"
	sed -e "s|@APP@|jailt|" -e "s|@CHILDREN@|4|" -e "s|@DEPTH@|2|" -e "s|@MEMBERS@|8|" \
		-e "s|@KEYS@|$KX_ROOT/manifests/keys|g" "$DATA/fork.yaml.in" > "$fx/jailt.yaml"
	echo "resources: { cpu: 0.5, pids: 16 }" >> "$fx/jailt.yaml"
	"$KXSIGN" sign -s "$SECS/acme.sec" --name jailt --version 1.0 -o "$fx/jailt.kxe" \
		"$KX_BUILD/guest/forkt.kxe" >/dev/null
	# a pVM with an interface (tests/cli/net.bats' netraw): the network thread
	sed -e "s|@APP@|jailnet|" -e "s|@KEYS@|$KX_ROOT/manifests/keys|g" -e "s|@NET@|10.77.9|g" \
		"$KX_ROOT/tests/data/net/netraw.yaml.in" > "$fx/jailnet.yaml"
	"$KXSIGN" sign -s "$SECS/acme.sec" --name jailnet --version 1.0 -o "$fx/jailnet.kxe" \
		"$KX_BUILD/guest/netraw.kxe" >/dev/null
	"$KX_BIN/kxpolicy" compile --serial 1 -o "$fx/kx.kxp" "$fx/jailt.yaml" "$fx/jailnet.yaml" \
		>/dev/null
	kvm_probe
}

setup() {
	need_kvm
	[ "$(id -u)" -eq 0 ] || skip "the jail needs root (namespaces, cgroups, ids)"
	start_kxd
}

teardown() {
	[ -z "${RUNNER:-}" ] || kill "$RUNNER" 2>/dev/null || true
	stop_kxd
	[ -z "${NS:-}" ] || netns_stop
}

# net_kxd: kxd again, making its pVMs' TAPs in a namespace of the test's
# (the environment of this call is kxd's and its monitors')
net_kxd() {
	command -v python3 >/dev/null || skip "needs python3 for the host side"
	stop_kxd
	netns_start kxjail
}

# peer ARGS...: tests/data/net/peer.py in the test's namespace
peer() {
	run ip netns exec "$NS" python3 "$KX_ROOT/tests/data/net/peer.py" "$@"
}

# pid_of ID: pVM ID's kxmon pid (kxctl list --json)
pid_of() {
	"$KXCTL" list --socket "$SOCK" --json |
		sed -n "s/.*\"id\": $1,[^}]*\"pid\": \([0-9]*\).*/\1/p"
}

# status_field PID FIELD: a line of /proc/PID/status, value only
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}

# cg_file PID CONTROLLER FILE: the path of FILE in PID's cgroup (v1 or v2)
cg_file() {
	local path
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		path=$(sed -n 's/^0:://p' "/proc/$1/cgroup")
		echo "/sys/fs/cgroup$path/$3"
	else
		path=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++)
			if (a[i] == c) print $3 }' "/proc/$1/cgroup")
		echo "/sys/fs/cgroup/$2$path/$3"
	fi
}

# jailed PID: everything /proc says about a jailed kxmon
jailed() {
	local pid=$1 uid
	[ "$(status_field "$pid" Seccomp)" = 2 ] || { echo "Seccomp"; return 1; }
	[ "$(status_field "$pid" NoNewPrivs)" = 1 ] || { echo "NoNewPrivs"; return 1; }
	uid=$(status_field "$pid" Uid | awk '{ print $1 }')
	[ "$uid" -ne 0 ] || { echo "uid 0"; return 1; }
	status_field "$pid" Uid | grep -Eq "^$uid[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid$" ||
		{ echo "real/effective/saved/fs uid differ"; return 1; }
	status_field "$pid" Gid | grep -Eq "^$uid[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid$" ||
		{ echo "gid"; return 1; }
	[ -z "$(status_field "$pid" Groups)" ] || { echo "groups"; return 1; }
	[ "$(status_field "$pid" CapEff)" = 0000000000000000 ] || { echo "CapEff"; return 1; }
	[ "$(status_field "$pid" CapPrm)" = 0000000000000000 ] || { echo "CapPrm"; return 1; }
	for ns in mnt net ipc uts; do
		[ "$(readlink "/proc/$pid/ns/$ns")" != "$(readlink "/proc/self/ns/$ns")" ] ||
			{ echo "shares the $ns namespace"; return 1; }
	done
	[ -z "$(ls -A "/proc/$pid/root/")" ] || { echo "its root is not empty"; return 1; }
	grep -Eq "^Max core file size +0 +0 " "/proc/$pid/limits" || { echo "core"; return 1; }
	grep -Eq "^Max locked memory +0 +0 " "/proc/$pid/limits" || { echo "memlock"; return 1; }
	grep -Eq "^Max open files +1024 +1024 " "/proc/$pid/limits" || { echo "files"; return 1; }
}

# own_filters PID N: PID has N threads of its own, each under the entry
# filter and one of its own (Seccomp_filters counts the filters a thread
# runs under).  The kernel's workers inside the process (PF_USER_WORKER,
# 0x4000 in stat's flags: KVM's kvm-nx-lpage-recovery since Linux 6.13)
# never run user code and are not counted.
own_filters() {
	local t n=0 flags
	for t in /proc/$1/task/*; do
		flags=$(sed 's/.*) //' "$t/stat" | awk '{ print $7 }')
		if (( flags & 0x4000 )); then
			continue
		fi
		[ "$(sed -n 's/^Seccomp:[[:space:]]*//p' "$t/status")" = 2 ] ||
			{ echo "thread ${t##*/}: no filter"; return 1; }
		[ "$(sed -n 's/^Seccomp_filters:[[:space:]]*//p' "$t/status")" = 2 ] ||
			{ echo "thread ${t##*/}: $(grep Seccomp_filters "$t/status"), want 2"; return 1; }
		n=$((n + 1))
	done
	[ "$n" -eq "$2" ] || { echo "$n threads, want $2"; return 1; }
}

# start_spin: pVM 1 runs forkt spinwait (it forks pVM 2, which spins, and
# waits for it) in the background; waits until both run.
start_spin() {
	"$KXCTL" run --socket "$SOCK" "$FX/jailt.kxe" spinwait > "$BATS_TEST_TMPDIR/out" 2>&1 &
	RUNNER=$!
	wait_for grep -q "waiting for child 2" "$BATS_TEST_TMPDIR/out" || explain "no fork"
	P1=$(pid_of 1)
	P2=$(pid_of 2)
	[ -n "$P1" ] && [ -n "$P2" ] || explain "no pids"
}

@test "jail: a kxmon kxd started runs jailed (seccomp, no_new_privs, own ids, namespaces, empty root)" {
	start_spin
	msg=$(jailed "$P1") || explain "pVM 1: $msg"
	# no interface: one thread, the vCPU's, narrowed to its own list
	msg=$(own_filters "$P1" 1) || explain "pVM 1: $msg"
	# the ids come from kxd's default range, never an existing user's
	uid=$(status_field "$P1" Uid | awk '{ print $1 }')
	[ "$uid" -ge 1879048192 ] && [ "$uid" -le 1879113727 ] || explain "uid $uid off the range"
}

@test "jail: kxd --jail-ids puts the monitors' ids in the given range" {
	stop_kxd
	start_kxd --jail-ids 3000000-3000009
	start_spin
	uid=$(status_field "$P1" Uid | awk '{ print $1 }')
	[ "$uid" -ge 3000000 ] && [ "$uid" -le 3000009 ] || explain "uid $uid off the range"
	run "$KXD" --policy "$FX/kx.kxp" --socket "$BATS_TEST_TMPDIR/x.sock" --jail-ids 0-5
	[ "$status" -eq 2 ] || explain "root in the range must be refused"
}

@test "jail: a pVM's cgroup carries the manifest's memory and resources, and goes with it" {
	start_spin
	# memory: 16M of guest + the monitor's 64 MiB (docs/jail.md)
	f=$(cg_file "$P1" memory memory.limit_in_bytes)
	[[ "$f" == */kx/kxd-*-1/memory.limit_in_bytes ]] || explain "pVM 1's group: $f"
	[ "$(cat "$f")" = $(( (16 + 64) << 20 )) ] || explain "memory limit $(cat "$f")"
	f=$(cg_file "$P1" pids pids.max)
	[ "$(cat "$f")" = 16 ] || explain "pids.max $(cat "$f")"
	f=$(cg_file "$P1" cpu cpu.cfs_quota_us)
	[ "$(cat "$f")" = 50000 ] && [ "$(cat "${f%/*}/cpu.cfs_period_us")" = 100000 ] ||
		explain "cpu: 0.5 CPU"
	dir=${f%/*}
	"$KXCTL" kill --socket "$SOCK" 1
	wait "$RUNNER" || true
	RUNNER=
	wait_for test ! -d "$dir" || explain "pVM 1's group $dir outlived it"
}

@test "jail: a forked monitor is jailed too, in a cgroup of its own that kxd made" {
	start_spin
	msg=$(jailed "$P2") || explain "pVM 2: $msg"
	# the filters are the parent's, inherited (none loaded again); the ids
	# the family's
	msg=$(own_filters "$P2" 1) || explain "pVM 2: $msg"
	[ "$(status_field "$P2" Uid)" = "$(status_field "$P1" Uid)" ] || explain "family ids"
	f=$(cg_file "$P2" pids pids.max)
	[[ "$f" == */kx/kxd-*-2/pids.max ]] || explain "pVM 2's group: $f"
	[ "$(cat "$f")" = 16 ] || explain "the app's pids limit"
	f=$(cg_file "$P2" memory memory.limit_in_bytes)
	[[ "$f" == */kx/kxd-*-2/* ]] && [ "$(cat "$f")" = $(( (16 + 64) << 20 )) ] ||
		explain "pVM 2's memory limit"
	# kxd's, by CLONE_PARENT: no middle process
	[ "$(awk '{ print $4 }' "/proc/$P2/stat")" = "$(awk '{ print $4 }' "/proc/$P1/stat")" ] ||
		explain "pVM 2's parent is not kxd"
}

@test "jail: a forbidden system call kills kxmon (SIGSYS) and kxd reports it" {
	stop_kxd
	export KXMON_TEST_JAIL_FORBIDDEN=1
	start_kxd
	unset KXMON_TEST_JAIL_FORBIDDEN
	ctl run "$FX/jailt.kxe" cow
	[ "$status" -eq 159 ] || explain "want 159 (128 + SIGSYS)"
	[[ "$stderr" == *"killed by its jail: a system call outside kxmon's allowlist (SIGSYS)"* ]] ||
		explain "kxctl run says why"
	ctl list
	grep -Eq "^1 +jailt +[0-9]+ +exited +[^ ]+ +159 " <<<"$output" || explain "kxctl list"
	grep -q "pVM 1 (jailt): killed by its jail" "$SOCK.log" || explain "kxd's log"
}

@test "jail: the vCPU thread and the network thread each run under their own filter" {
	net_kxd
	"$KXCTL" run --socket "$SOCK" "$FX/jailnet.kxe" echo 30 > "$BATS_TEST_TMPDIR/out" 2>&1 &
	RUNNER=$!
	wait_for grep -q "echo ready" "$BATS_TEST_TMPDIR/out" ||
		{ output=$(cat "$BATS_TEST_TMPDIR/out"); explain "ready"; }
	P1=$(pid_of 1)
	[ -n "$P1" ] || explain "no pid"
	msg=$(jailed "$P1") || explain "$msg"
	msg=$(own_filters "$P1" 2) || explain "$msg"
	# the network thread serves under its 8 calls: frames both ways
	peer udp 10.77.9.2 7 ping 10
	[ "$output" = ping ] || explain "echoed through the network thread"
	peer udp 10.77.9.2 7 quit 1
	status=0
	wait "$RUNNER" || status=$?
	RUNNER=
	output=$(cat "$BATS_TEST_TMPDIR/out")
	[ "$status" -eq 0 ] || explain "the pVM exited 0 (the network thread ended inside its list)"
	! grep -q "killed by its jail" "$SOCK.log" || explain "no kill"
}

@test "jail: the network thread may not make the vCPU thread's calls; kxd reports the kill" {
	export KXMON_TEST_JAIL_THREAD=net
	net_kxd
	unset KXMON_TEST_JAIL_THREAD
	ctl run "$FX/jailnet.kxe" echo 30
	[ "$status" -eq 159 ] || explain "want 159 (128 + SIGSYS)"
	[[ "$stderr" == *"killed by its jail: a system call outside kxmon's allowlist (SIGSYS)"* ]] ||
		explain "kxctl run says why"
	grep -q "pVM 1 (jailnet): killed by its jail" "$SOCK.log" || explain "kxd's log"
}

@test "jail: the vCPU thread, narrowed, may not make the network thread's calls" {
	stop_kxd
	export KXMON_TEST_JAIL_THREAD=vcpu
	start_kxd
	unset KXMON_TEST_JAIL_THREAD
	ctl run "$FX/jailt.kxe" cow
	[ "$status" -eq 159 ] || explain "want 159 (128 + SIGSYS)"
	grep -q "pVM 1 (jailt): killed by its jail" "$SOCK.log" || explain "kxd's log"
	# the hook fires only on the narrowed thread: the net hook on a pVM
	# with no network thread changes nothing
	stop_kxd
	export KXMON_TEST_JAIL_THREAD=net
	start_kxd
	unset KXMON_TEST_JAIL_THREAD
	ctl run "$FX/jailt.kxe" cow
	[ "$status" -eq 0 ] && [[ "$output" == *"child status 7"* ]] ||
		explain "no network thread, no kill: the fork ran"
}

@test "jail: kxmon run by hand jails itself the same way" {
	"$KX_BIN/kxmon" --timeout 20 "$KX_BUILD/guest/spin.kxe" > /dev/null 2>&1 &
	RUNNER=$!
	filtered() { [ "$(status_field "$RUNNER" Seccomp 2>/dev/null)" = 2 ]; }
	wait_for filtered || explain "no filter"
	msg=$(jailed "$RUNNER") || explain "$msg"
	f=$(cg_file "$RUNNER" pids pids.max)
	[[ "$f" == */kx/kxmon-$RUNNER/pids.max ]] && [ "$(cat "$f")" = 64 ] || explain "cgroup $f"
	# no cpu limit asked: no cpu group (one more level of the scheduler)
	[ -f /sys/fs/cgroup/cgroup.controllers ] || [[ "$(cg_file "$RUNNER" cpu x)" != */kx/* ]] ||
		explain "a cpu group without a cpu limit"
	kill "$RUNNER"
	RUNNER=
	run -159 env KXMON_TEST_JAIL_FORBIDDEN=1 "$KX_BIN/kxmon" "$KX_BUILD/guest/hello.kxe"
	[ -z "$output" ] || explain "killed before the guest ran"
	# no kxd, no interface: the vCPU thread narrows at once, before the guest
	run -159 env KXMON_TEST_JAIL_THREAD=vcpu "$KX_BIN/kxmon" "$KX_BUILD/guest/hello.kxe"
	[ -z "$output" ] || explain "narrowed before the guest ran"
}

@test "jail: kxmon --no-jail (debugging only) runs unfiltered" {
	run -0 "$KX_BIN/kxmon" --no-jail "$KX_BUILD/guest/hello.kxe"
	run -0 env KXMON_TEST_JAIL_FORBIDDEN=1 "$KX_BIN/kxmon" --no-jail "$KX_BUILD/guest/hello.kxe"
	[ "${lines[0]}" = "hello from a pVM" ] || explain "the hook only fires in the jail"
	run -0 env KXMON_TEST_JAIL_THREAD=vcpu "$KX_BIN/kxmon" --no-jail "$KX_BUILD/guest/hello.kxe"
	[ "${lines[0]}" = "hello from a pVM" ] || explain "the thread hook only fires in the jail"
}
