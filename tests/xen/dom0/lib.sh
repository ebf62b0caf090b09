# lib.sh — helpers for test scripts that run inside the test dom0
# (tests/xen/run.sh), sourced by busybox sh.  Results go to the console as
# `KXT ok NAME` / `KXT not ok NAME: why`, which run.sh counts.

ok() { echo "KXT ok $*"; }
not_ok() { echo "KXT not ok $*"; }
up() { cut -d' ' -f1 /proc/uptime; }

# ms between two /proc/uptime readings
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }

# domain_state NAME: the xl state flags (r b p s c d), or "gone".
domain_state() {
	xl list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }' | grep . || echo gone
}

# boot_pvm NAME IMAGE [ARGS...]: create a PV domain from IMAGE with the
# command line "IMAGE_BASENAME ARGS", keep it when it shuts down or
# crashes, and wait (at most 60 s) until it has.  Sets STATE (xl flags),
# CONSOLE (its console log), CREATE_MS and RUN_MS (create -> shut down).
boot_pvm() {
	name=$1 image=$2
	shift 2
	cat > "/tmp/$name.cfg" <<CFG
name = "$name"
type = "pv"
kernel = "$image"
extra = "$(basename "$image") $*"
memory = ${KX_PVM_MEM:-32}
vcpus = 1
on_poweroff = "preserve"
on_crash = "preserve"
on_reboot = "destroy"
CFG
	CONSOLE=/var/log/xen/console/guest-$name.log
	rm -f "$CONSOLE"
	t0=$(up)
	if ! xl create -q "/tmp/$name.cfg" > "/tmp/$name.create" 2>&1; then
		STATE=create-failed
		cat "/tmp/$name.create"
		return 1
	fi
	t1=$(up)
	CREATE_MS=$(ms "$t0" "$t1")
	i=0
	while :; do
		STATE=$(domain_state "$name")
		case $STATE in *s*|gone) break ;; esac
		i=$((i + 1))
		[ $i -gt 600 ] && break
		sleep 0.1
	done
	RUN_MS=$(ms "$t1" "$(up)")
	# xenconsoled may still be writing the last bytes
	sleep 0.3
	return 0
}

# end_pvm NAME: destroy the domain (preserved after shutdown).
end_pvm() {
	xl destroy "$1" >/dev/null 2>&1 || true
}

# expect_console NAME TEXT: the console holds a line with TEXT (fixed string).
expect_console() {
	if grep -F -q -- "$2" "$CONSOLE" 2>/dev/null; then
		ok "$1"
	else
		not_ok "$1: no \"$2\" on the console"
		echo "----- $CONSOLE"
		cat "$CONSOLE" 2>/dev/null
		echo "-----"
	fi
}

# ---- kxd --backend xen with tests/xen/fixture.sh's policy and images (/kx/kxd)

FX=/kx/kxd

# kxd_start DIR [LIBDIR]: start kxd --backend xen (unjailed monitors: fork
# needs them) with its socket, audit log and log in DIR, libraries from
# LIBDIR (default $FX/lib); sets SOCK and AUDIT for ctl.  kxd's status: 0
# once it listens (it daemonizes).
kxd_start() {
	KXD_DIR=$1
	mkdir -p "$KXD_DIR"
	SOCK=$KXD_DIR/kxd.sock AUDIT=$KXD_DIR/audit.log
	kxd --policy $FX/kx.kxp --socket "$SOCK" --audit-log "$AUDIT" --backend xen --no-jail \
		--libdir "${2:-$FX/lib}" > "$KXD_DIR/kxd.log" 2>&1
}

# The log of the last kxd_start, for a failure message.
kxd_log() { cat "$KXD_DIR/kxd.log"; }

# ctl VERB ARGS...: kxctl VERB --socket $SOCK ARGS; sets RC, OUT, ERR (files).
ctl() {
	verb=$1
	shift
	kxctl "$verb" --socket "$SOCK" "$@" > "$KXD_DIR/ctl.out" 2> "$KXD_DIR/ctl.err"
	RC=$?
	OUT=$KXD_DIR/ctl.out ERR=$KXD_DIR/ctl.err
}

# has FILE LINE: FILE holds LINE (whole line, fixed string); has_text: anywhere.
has() { grep -F -q -x -- "$2" "$1"; }
has_text() { grep -F -q -- "$2" "$1"; }
show() { echo "----- stdout"; cat "$OUT"; echo "----- stderr"; cat "$ERR"; echo "-----"; }
