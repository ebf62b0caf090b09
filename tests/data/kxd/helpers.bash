# helpers.bash — loaded by tests/cli/kxd*.bats.
#
# kxd_fixture (setup_file) builds, once per file, in $BATS_FILE_TMPDIR/fx:
#   lib/     the test libraries, each signed (or not) as its case needs
#   kx.kxp   hello.yaml.in + exit.yaml.in, filled in and compiled
#   *.kxe    guest images signed as hello / exit, and the refused ones
# start_kxd starts a kxd on a private socket and audit log in
# $BATS_TEST_TMPDIR; teardown always stops it.

# kvm_probe and need_kvm (kxmon --check, once per file; skip with the reason)
source "$KX_ROOT/tests/guest/helpers.bash"

KXD=$KX_BIN/kxd
KXCTL=$KX_BIN/kxctl
KXSIGN=$KX_BIN/kxsign
DATA=$KX_ROOT/tests/data/kxd
SECS=$KX_ROOT/tests/data/keys
FAKE=$DATA/fake-kxmon

kxd_fixture() {
	local fx=$BATS_FILE_TMPDIR/fx plain digest
	mkdir -p "$fx/lib"
	plain=$fx/plain.so
	cc -shared -fPIC -nostdlib -O1 -o "$plain" "$DATA/libkv.c"
	cc -shared -fPIC -nostdlib -O1 -DKV_ANSWER=41 -o "$fx/old.so" "$DATA/libkv.c"
	sign_as() { "$KXSIGN" sign -s "$SECS/$1.sec" --name "$2" --version "$3" -o "$4" "$5" >/dev/null; }
	sign_as libc-team libkvtest 1.2 "$fx/lib/libkvtest.so" "$plain"
	sign_as libc-team libkvnow 1.0 "$fx/lib/libkvnow.so" "$plain"
	sign_as libc-team libkvpush 1.0 "$fx/lib/libkvpush.so" "$plain"
	sign_as libc-team libkvnew 2.0 "$fx/lib/libkvnew.so" "$plain"
	sign_as webco libkvwrong 1.0 "$fx/lib/libkvwrong.so" "$plain"
	sign_as libc-team libkvold 1.0 "$fx/lib/libkvold.so" "$fx/old.so"
	cp "$plain" "$fx/lib/libkvunsigned.so"
	digest=$("$KXSIGN" digest "$fx/old.so" | cut -d' ' -f1)
	for m in hello exit; do
		sed -e "s|@KEYS@|$KX_ROOT/manifests/keys|g" -e "s|@REVOKED@|$digest|g" \
			"$DATA/$m.yaml.in" > "$fx/$m.yaml"
	done
	# Fixtures carry one fixed serial: the default (the compile time) made a
	# test that starts kxd on two fixtures compiled a second apart refuse the
	# older one as a replay.  The serial tests (kxd-reload.bats) set their own.
	"$KX_BIN/kxpolicy" compile --serial 1 -o "$fx/kx.kxp" "$fx/hello.yaml" "$fx/exit.yaml" >/dev/null
	for g in hello exit fault spin; do
		sign_as acme hello 1.0 "$fx/$g.kxe" "$KX_BUILD/guest/$g.kxe"
	done
	sign_as acme exit 1.0 "$fx/exit-app.kxe" "$KX_BUILD/guest/exit.kxe"
	sign_as webco hello 1.0 "$fx/wrongkey.kxe" "$KX_BUILD/guest/hello.kxe"
	sign_as acme nobody 1.0 "$fx/unknown.kxe" "$KX_BUILD/guest/hello.kxe"
	cp "$KX_BUILD/guest/hello.kxe" "$fx/unsigned.kxe"
}

FX=$BATS_FILE_TMPDIR/fx

# start_kxd [kxd options]: a kxd in the background on $SOCK (ready when it returns)
start_kxd() {
	SOCK=$BATS_TEST_TMPDIR/kxd.sock
	AUDIT=$BATS_TEST_TMPDIR/audit.log
	"$KXD" --policy "$FX/kx.kxp" --socket "$SOCK" --audit-log "$AUDIT" --libdir "$FX/lib" "$@"
}

stop_kxd() {
	if [ -n "${SOCK:-}" ] && [ -S "$SOCK" ]; then
		"$KXCTL" stop --socket "$SOCK" || true
	fi
}

# kxctl VERB ... on the test's kxd; stdout in $output, stderr in $stderr
ctl() {
	local verb=$1
	shift
	run --separate-stderr "$KXCTL" "$verb" --socket "$SOCK" "$@"
}

# Fail with the whole picture.
explain() {
	echo "$1"
	echo "status: $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
	[ -f "${SOCK:-/nonexistent}.log" ] && { echo "kxd log:"; cat "$SOCK.log"; }
	return 1
}

# wait_for CMD...: retry CMD for up to 10 s (a pVM starting, a link landing)
wait_for() {
	local i
	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# kxd_link_fixture (setup_file of kxd-link.bats): the example pVM libraries
# of guest/module.mk, signed into one libdir per case, and two policies from
# kvlink.yaml.in: kv.kxp (revokes nothing), kv-revoked.kxp (revokes
# libkvmath's content digest), and kv-self.kxp / kv-app.kxp where
# libacme-log's loader class is self / app instead of any (kxctl link --as).
kxd_link_fixture() {
	local fx=$BATS_FILE_TMPDIR/fx g=$KX_BUILD/guest d
	mkdir -p "$fx"/{ok,unsigned,wrongkey,range}
	sign_as() { "$KXSIGN" sign -s "$SECS/$1.sec" --name "$2" --version "$3" -o "$4" "$5" >/dev/null; }
	sign_as libc-team libkvmath 1.17 "$fx/ok/libkvmath.so" "$g/libkvmath.so"
	sign_as acme libacme-log 3.3 "$fx/ok/libacme-log.so" "$g/libacme-log.so"
	cp "$g/libkvmath.so" "$fx/unsigned/libkvmath.so"
	sign_as webco libkvmath 1.17 "$fx/wrongkey/libkvmath.so" "$g/libkvmath.so"
	sign_as libc-team libkvmath 2.0 "$fx/range/libkvmath.so" "$g/libkvmath.so"
	for d in unsigned wrongkey range; do
		cp "$fx/ok/libacme-log.so" "$fx/$d/"
	done
	policy() { # NAME DIGEST [ACME-LOG-LOADER]
		sed -e "s|@KEYS@|$KX_ROOT/manifests/keys|g" -e "s|@REVOKED@|$2|g" \
			-e "/name: libacme-log/,/bind:/s|loader: any .*|loader: ${3:-any}|" \
			"$DATA/kvlink.yaml.in" > "$fx/$1.yaml"
		"$KX_BIN/kxpolicy" compile --serial 1 -o "$fx/$1.kxp" "$fx/$1.yaml" >/dev/null
	}
	policy kv "$(printf '0%.0s' $(seq 64))"
	policy kv-revoked "$("$KXSIGN" digest "$g/libkvmath.so" | cut -d' ' -f1)"
	policy kv-self "$(printf '0%.0s' $(seq 64))" self
	policy kv-app "$(printf '0%.0s' $(seq 64))" app
	for d in kvstore linkt spin; do
		sign_as acme kvstore 1.0 "$fx/$d.kxe" "$g/$d.kxe"
	done
}

# fork_fixture (setup_file of kvm_fork.bats): in $BATS_FILE_TMPDIR/fx, one
# app per fork bound from fork.yaml.in, each running tests/guest/forkt.c:
#   forkc  max-children 2    forkd  max-depth 2    forkm  max-members 3
#   forkw  wide limits (8, 8, 16)
fork_fixture() {
	local fx=$BATS_FILE_TMPDIR/fx app
	mkdir -p "$fx/lib"
	fork_app() { # APP CHILDREN DEPTH MEMBERS
		sed -e "s|@APP@|$1|" -e "s|@CHILDREN@|$2|" -e "s|@DEPTH@|$3|" \
			-e "s|@MEMBERS@|$4|" -e "s|@KEYS@|$KX_ROOT/manifests/keys|g" \
			"$DATA/fork.yaml.in" > "$fx/$1.yaml"
		"$KXSIGN" sign -s "$SECS/acme.sec" --name "$1" --version 1.0 -o "$fx/$1.kxe" \
			"$KX_BUILD/guest/forkt.kxe" >/dev/null
	}
	fork_app forkc 2 8 16
	fork_app forkd 8 2 16
	fork_app forkm 8 8 3
	fork_app forkw 8 8 16
	"$KX_BIN/kxpolicy" compile --serial 1 -o "$fx/kx.kxp" "$fx"/fork?.yaml >/dev/null
}

# ipc_fixture (setup_file of kvm_ipc.bats): in $BATS_FILE_TMPDIR/fx, apps
# from ipc.yaml.in running tests/guest/ipct.c, and the example app:
#   ipcfam   pipe, msgq, shm in the family
#   ipcsrv   msgq, shm; mutual msgq trust with ipccli
#   ipccli   msgq, shm; mutual msgq trust with ipcsrv
#   ipclone  msgq, shm; trusts nobody (and no pipes)
#   workers  manifests/workers.yaml, guest/examples/workers.c
ipc_fixture() {
	local fx=$BATS_FILE_TMPDIR/fx
	mkdir -p "$fx/lib"
	ipc_app() { # APP KINDS [PEER]
		sed -e "s|@APP@|$1|" -e "s|@KINDS@|$2|" -e "s|@KEYS@|$KX_ROOT/manifests/keys|g" \
			"$DATA/ipc.yaml.in" > "$fx/$1.yaml"
		[ -z "${3:-}" ] || sed -e "/^#/d" -e "s|@PEER@|$3|" "$DATA/ipc-trust.yaml.in" >> "$fx/$1.yaml"
		"$KXSIGN" sign -s "$SECS/acme.sec" --name "$1" --version 1.0 -o "$fx/$1.kxe" \
			"$KX_BUILD/guest/ipct.kxe" >/dev/null
	}
	ipc_app ipcfam "pipe, msgq, shm"
	ipc_app ipcsrv "msgq, shm" ipccli
	ipc_app ipccli "msgq, shm" ipcsrv
	ipc_app ipclone "msgq, shm"
	"$KXSIGN" sign -s "$SECS/acme.sec" --name workers --version 1.0 -o "$fx/workers.kxe" \
		"$KX_BUILD/guest/workers.kxe" >/dev/null
	"$KX_BIN/kxpolicy" compile --serial 1 -o "$fx/kx.kxp" "$fx"/ipc*.yaml "$KX_ROOT/manifests/workers.yaml" \
		>/dev/null
}

# netns_start PREFIX [KXD ARGS...]: a network namespace of the test's own
# (PREFIX-pid-test) and a kxd that makes its pVMs' TAPs there ($NS).
netns_start() {
	local prefix=$1
	shift
	NS=$prefix-$$-$BATS_TEST_NUMBER
	ip netns add "$NS" || skip "cannot create a network namespace"
	ip netns exec "$NS" ip link set lo up
	start_kxd --net-netns "$NS" "$@"
	RUNPID=
}

# netns_stop: kxd, the pVM run in the background ($RUNPID), the namespace.
netns_stop() {
	stop_kxd
	[ -z "${RUNPID:-}" ] || wait "$RUNPID" 2>/dev/null || true
	[ -z "${NS:-}" ] || ip netns del "$NS" 2>/dev/null || true
}
