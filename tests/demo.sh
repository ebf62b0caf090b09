#!/bin/sh
# kx demo — the README's main job (make demo runs it):
#   1. a library author signs a library; a tampered copy is rejected;
#   2. an app owner compiles the example policy (with fresh dev keys);
#   3. an operator runs the kvstore pVM on KVM through kxd: it calls into a
#      lazily bound signed library and links another at run time; tampered,
#      unsigned and revoked-key libraries are refused;
#   4. an auditor reads every decision, with the manifest line behind it;
#   then an online update, recycling, SQLite and Redis in pVMs (each a part).
# usage: tests/demo.sh BUILD_DIR
# Exits 0 when every step behaves as expected, 1 when one does not, 2 when
# the build is missing, 3 when /dev/kvm is not usable (said plainly).
set -u

build=${1:?usage: tests/demo.sh BUILD_DIR}
build=$(cd "$build" && pwd) || exit 2
bin=$build/bin
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/kx-demo.XXXXXX") || exit 2
sock=$scratch/kxd.sock
cleanup() {
	[ -S "$sock" ] && "$bin/kxctl" stop --socket "$sock" >/dev/null 2>&1
	[ -S "$scratch/kxd-upd.sock" ] && "$bin/kxctl" stop --socket "$scratch/kxd-upd.sock" >/dev/null 2>&1
	[ -S "$scratch/kxd-recycle.sock" ] &&
		"$bin/kxctl" stop --socket "$scratch/kxd-recycle.sock" >/dev/null 2>&1
	[ -S "$scratch/kxd-posix.sock" ] &&
		"$bin/kxctl" stop --socket "$scratch/kxd-posix.sock" >/dev/null 2>&1
	[ -S "$scratch/kxd-redis.sock" ] &&
		"$bin/kxctl" stop --socket "$scratch/kxd-redis.sock" >/dev/null 2>&1
	[ -n "${redis_ns:-}" ] && ip netns del "$redis_ns" 2>/dev/null
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

step=0
say() {
	step=$((step + 1))
	printf '\n== %d. %s\n' "$step" "$*"
}
now_us() {
	echo $(($(date +%s%N) / 1000))
}
# expect STATUS CMD...: show the command, run it, print how long it took, and
# require the exit status given.
expect() {
	want=$1
	shift
	printf '$ %s\n' "$*"
	t0=$(now_us)
	"$@" 2>&1
	got=$?
	t1=$(now_us)
	printf '   [exit %d, %d.%03d ms]\n' "$got" $(((t1 - t0) / 1000)) $(((t1 - t0) % 1000))
	if [ "$got" -ne "$want" ]; then
		printf 'demo: FAILED: expected exit %d, got %d\n' "$want" "$got"
		exit 1
	fi
}
# flip_text_byte FILE: change one byte of the code of FILE
flip_text_byte() {
	text=$(readelf -SW "$1" | sed 's/^ *\[ *[0-9]*\] *//' | awk '$1 == ".text" { print $4 }')
	[ -n "$text" ] || { echo "demo: FAILED: no .text in $1"; exit 1; }
	offset=$((0x$text + 1))
	old=$(od -An -tx1 -j "$offset" -N1 "$1" | tr -d ' ')
	if [ "$old" = "cc" ]; then new='\220'; else new='\314'; fi
	printf "$new" | dd of="$1" bs=1 seek="$offset" conv=notrunc 2>/dev/null
	printf 'changed the byte at offset %d (in .text) of %s: 0x%s -> 0x%s\n' "$offset" \
		"$(basename "$1")" "$old" "$(od -An -tx1 -j "$offset" -N1 "$1" | tr -d ' ')"
}

for tool in kxsign kxpolicy kxctl kxd kxmon; do
	[ -x "$bin/$tool" ] || { echo "demo: $bin/$tool not built (run make first)"; exit 2; }
done
cd "$scratch" || exit 2
kxsign=$bin/kxsign

printf '#### Part 1: a library author signs a library\n'

say "generate a development key pair (unencrypted: --no-passphrase)"
expect 0 "$kxsign" keygen --no-passphrase -c "demo key" -p demo.pub -s demo.sec

say "build a shared library and sign it with its name and version"
expect 0 cc -shared -fPIC -O1 -o libdemo.so "$root/tests/data/signer/libdemo.c"
expect 0 "$kxsign" sign -s demo.sec --name libdemo --version 1.0.0 \
	-t "built by tests/demo.sh" libdemo.so

say "verify it, and show what the signature says"
expect 0 "$kxsign" verify -p demo.pub libdemo.so
expect 0 "$kxsign" show libdemo.so

say "tamper with one byte of the code in a copy: rejected, naming the changed region"
cp libdemo.so tampered.so
flip_text_byte tampered.so
expect 1 "$kxsign" verify -p demo.pub tampered.so

printf '\n#### Part 2: the app owners compile the example policy\n'

say "a fresh dev key for every key the example manifests (manifests/*.yaml) trust"
mkdir -p policy/keys libs
cp "$root"/manifests/*.yaml policy/
for pub in "$root"/manifests/keys/*.pub; do
	name=$(basename "$pub" .pub)
	"$kxsign" keygen --no-passphrase -c "demo $name" -p "policy/keys/$name.pub" \
		-s "$name.sec" >/dev/null || { echo "demo: FAILED: keygen $name"; exit 1; }
	printf '%-12s key id %s\n' "$name" "$(sed -n '1s/.* \([0-9a-f]\{16\}\)$/\1/p' "policy/keys/$name.pub")"
done
# kvstore.yaml revokes the retired acme-2019 key by id: point that at the new one.
old_id=$(sed -n '1s/.* \([0-9a-f]\{16\}\)$/\1/p' "$root/manifests/keys/acme-2019.pub")
new_id=$(sed -n '1s/.* \([0-9a-f]\{16\}\)$/\1/p' policy/keys/acme-2019.pub)
sed -i "s/$old_id/$new_id/" policy/kvstore.yaml

say "check and compile the manifests into checked tables"
expect 0 "$bin/kxpolicy" check policy/kvstore.yaml policy/kvstore-backup.yaml policy/webcache.yaml
expect 0 "$bin/kxpolicy" compile -o kx.kxp policy/kvstore.yaml policy/kvstore-backup.yaml \
	policy/webcache.yaml

say "sign the example pVM libraries and the kvstore image (built by make in $build/guest)"
expect 0 "$kxsign" sign -s libc-team.sec --name libkvmath --version 1.16.2 \
	-o libs/libkvmath.so "$build/guest/libkvmath.so"
expect 0 "$kxsign" sign -s acme.sec --name libacme-log --version 3.3.0 \
	-o libs/libacme-log.so "$build/guest/libacme-log.so"
expect 0 "$kxsign" sign -s acme.sec --name kvstore --version 1.0 -o kvstore.kxe \
	"$build/guest/kvstore.kxe"
cp libs/libkvmath.so libkvmath.signed
cp libs/libacme-log.so libacme-log.signed

say "ask the policy, as an auditor would, whether kvstore may link libkvmath 1.16.2"
libc_id=$(sed -n '1s/.* \([0-9a-f]\{16\}\)$/\1/p' policy/keys/libc-team.pub)
expect 0 "$bin/kxpolicy" explain kx.kxp link app=kvstore lib=libkvmath version=1.16.2 \
	signer="$libc_id" loader=self

printf '\n#### Part 3: an operator runs pVMs on KVM\n'

if ! "$bin/kxmon" --check; then
	printf '\ndemo: /dev/kvm is not usable here, so no pVM can run: stopping.\n'
	printf 'demo: parts 1 and 2 behaved as expected.\n'
	exit 3
fi

say "run kvstore: kxd starts, the gate checks the image and every library it links"
printf '(libkvmath by DT_NEEDED, bound lazily; libacme-log by kx_dlopen at run time)\n'
expect 0 "$bin/kxctl" run --socket "$sock" --policy kx.kxp --libdir libs kvstore.kxe

say "run it again: signatures are now cached by content"
expect 0 "$bin/kxctl" run --socket "$sock" kvstore.kxe

say "a tampered libkvmath: the pVM does not start"
flip_text_byte libs/libkvmath.so
expect 125 "$bin/kxctl" run --socket "$sock" kvstore.kxe

say "an unsigned libkvmath: the pVM does not start"
cp "$build/guest/libkvmath.so" libs/libkvmath.so
expect 125 "$bin/kxctl" run --socket "$sock" kvstore.kxe

say "libacme-log signed by the revoked acme-2019 key: kx_dlopen is refused in the guest"
cp libkvmath.signed libs/libkvmath.so
expect 0 "$kxsign" sign -s acme-2019.sec --name libacme-log --version 3.3.0 \
	-o libs/libacme-log.so "$build/guest/libacme-log.so"
printf '(kvstore exits 3 when its kx_dlopen is denied)\n'
expect 3 "$bin/kxctl" run --socket "$sock" kvstore.kxe

printf '\n#### Part 4: the auditor reads every decision\n'

say "kxctl audit: one line per decision, with the rule's manifest line"
expect 0 "$bin/kxctl" audit --socket "$sock"

# Online update (docs/update.md): updt calls libupd (generated: 111
# functions, 111 variables) in a loop while libupd 1.16 is replaced by 1.18
# under it, its state kept; then a downgrade is refused by the gate.
part_update() {
	usock=$scratch/kxd-upd.sock
	printf '\n#### Online update: a library replaced under a running pVM\n'

	say "sign libupd 1.16 and 1.18 and the updt app; compile updt's manifest"
	mkdir -p upd
	expect 0 "$kxsign" sign -s libc-team.sec --name libupd --version 1.16 -o upd/libupd.so \
		"$build/guest/upd/libupd-116.so"
	expect 0 "$kxsign" sign -s libc-team.sec --name libupd --version 1.18 -o libupd-1.18.so \
		"$build/guest/upd/libupd-118.so"
	cp upd/libupd.so libupd-1.16.so
	expect 0 "$kxsign" sign -s acme.sec --name updt --version 1.0 -o updt.kxe "$build/guest/updt.kxe"
	sed -e "s|@KEYS@|$scratch/policy/keys|g" -e "s|@ROLLBACK@|deny|" \
		-e "s|@REVOKED@|$(printf '0%.0s' $(seq 64))|" "$root/tests/data/kxd/upd.yaml.in" > updt.yaml
	expect 0 "$bin/kxpolicy" compile -o upd.kxp updt.yaml

	say "start updt: it sets libupd's variables to random values and calls it in a loop"
	"$bin/kxd" --policy upd.kxp --socket "$usock" --audit-log upd-audit.log --libdir upd ||
		{ echo "demo: FAILED: kxd"; exit 1; }
	"$bin/kxctl" run --socket "$usock" updt.kxe until 118 >updt.out 2>&1 &
	run_pid=$!
	for i in $(seq 100); do grep -q "updt: ready" updt.out && break; sleep 0.1; done
	cat updt.out

	say "update libupd 1.16 -> 1.18 in pVM 1: the gate decides, the monitor swaps it at a safe point"
	expect 0 "$bin/kxctl" update --socket "$usock" 1 libupd-1.18.so libupd
	wait "$run_pid" || { echo "demo: FAILED: updt did not keep its state"; cat updt.out; exit 1; }
	cat updt.out

	say "a downgrade to 1.16 is refused (the rule says rollback: deny); the pVM keeps 1.18"
	cp libupd-1.18.so upd/libupd.so
	"$bin/kxctl" run --socket "$usock" updt.kxe until 116 >updt2.out 2>&1 &
	run_pid=$!
	for i in $(seq 100); do grep -q "updt: ready" updt2.out && break; sleep 0.1; done
	expect 1 "$bin/kxctl" update --socket "$usock" 2 libupd-1.16.so libupd
	"$bin/kxctl" kill --socket "$usock" 2
	wait "$run_pid"

	say "the audit log: every update decision, with its rule"
	expect 0 "$bin/kxctl" audit --socket "$usock"
	"$bin/kxctl" stop --socket "$usock" >/dev/null 2>&1
}
part_update

# Recycling (docs/recycle.md): kxd keeps empty pVMs booted (each runs only
# the signed placeholder); kvcount, an app built as a library, starts in
# one of them; a library signed by a key kvcount does not trust is refused.
part_recycle() {
	rsock=$scratch/kxd-recycle.sock
	printf '\n#### Recycling: an app started in an already booted, empty pVM\n'

	say "sign the pool placeholder (as app kxpool) and kvcount as a library and as an image"
	expect 0 "$kxsign" sign -s acme.sec --name kxpool --version 1.0 -o kxpool.kxe \
		"$build/guest/kxpool.kxe"
	expect 0 "$kxsign" sign -s acme.sec --name kvcount --version 1.0 -o libkvcount.so \
		"$build/guest/libkvcount.so"
	expect 0 "$kxsign" sign -s acme.sec --name kvcount --version 1.0 -o kvcount.kxe \
		"$build/guest/kvcount.kxe"
	expect 0 "$bin/kxpolicy" compile -o recycle.kxp policy/kxpool.yaml policy/kvcount.yaml

	say "start kxd with pools: it boots kvcount's pool (recycle: {pool: 2}) through the gate"
	"$bin/kxd" --policy recycle.kxp --socket "$rsock" --audit-log recycle-audit.log \
		--libdir libs --pool-image kxpool.kxe || { echo "demo: FAILED: kxd"; exit 1; }
	for i in $(seq 100); do
		[ "$("$bin/kxctl" list --socket "$rsock" | grep -c ' pooled ')" -eq 2 ] && break
		sleep 0.1
	done
	expect 0 "$bin/kxctl" list --socket "$rsock"

	say "kvcount in a pooled pVM (kxctl run --recycle), then cold-booted from its image"
	expect 3 "$bin/kxctl" run --socket "$rsock" --recycle libkvcount.so apple pear apple plum
	expect 3 "$bin/kxctl" run --socket "$rsock" kvcount.kxe apple pear apple plum

	say "kvcount signed by webco, a key kvcount does not trust: refused, the pool pVM stays"
	expect 0 "$kxsign" sign -s webco.sec --name kvcount --version 1.0 -o libkvcount-webco.so \
		"$build/guest/libkvcount.so"
	expect 1 "$bin/kxctl" run --socket "$rsock" --recycle libkvcount-webco.so apple

	say "the used pVM is kvcount's for good; the pool was topped up; every decision audited"
	sleep 0.2
	expect 0 "$bin/kxctl" list --socket "$rsock"
	expect 0 "$bin/kxctl" audit --socket "$rsock"
	"$bin/kxctl" stop --socket "$rsock" >/dev/null 2>&1
}
part_recycle

# An ordinary C program (docs/posix.md, docs/sdk.md): SQLite's shell from
# Debian's source package, built unmodified with kx-cc, runs a SQL script
# (packed into its signed image) against a database in a host directory
# that a files rule grants; kxd decides the mount and audits it.
part_posix() {
	ssock=$scratch/kxd-posix.sock
	printf '\n#### An ordinary program: SQLite, unmodified, with a host directory under policy\n'

	say "sign SQLite's shell (built by make with kx-cc); its manifest grants one host directory"
	expect 0 "$kxsign" sign -s acme.sec --name sqlite --version 3.40.1 -o sqlite.kxe \
		"$build/tests/sqlite/sqlite3.kxe"
	# the jailed monitor writes as its jail's uid (docs/jail.md)
	mkdir -m 0777 sqldata
	cat > sqlite.yaml <<-EOF
	kx-manifest: 1
	app: sqlite
	image: sqlite.kxe
	memory: 128M
	keys:
	  acme: $scratch/policy/keys/acme.pub
	files:
	  - { guest: /data, host: $scratch/sqldata, mode: rw, max: 16M }
	EOF
	expect 0 "$bin/kxpolicy" compile -o sqlite.kxp sqlite.yaml

	say "run the shell in a pVM: the script it ships creates and queries /data/demo.db"
	"$bin/kxd" --policy sqlite.kxp --socket "$ssock" --audit-log sqlite-audit.log ||
		{ echo "demo: FAILED: kxd"; exit 1; }
	expect 0 "$bin/kxctl" run --socket "$ssock" sqlite.kxe -init /dev/null /data/demo.db \
		".read /sql/script.sql"

	say "the database is an ordinary file on the host: the native shell reads it back"
	# (the native shell is built once, in build/sqlite beside every variant's tree)
	expect 0 "$(dirname "$build")/build/sqlite/sqlite3-native" sqldata/demo.db \
		"PRAGMA integrity_check;"

	say "the mount was a decision of the gate, audited with its rule"
	expect 0 "$bin/kxctl" audit --socket "$ssock"
	"$bin/kxctl" stop --socket "$ssock" >/dev/null 2>&1
}
part_posix

# Redis in a pVM (docs/redis.md): Debian's redis-server, built unmodified
# with kx-cc and linked against a kx-signed pVM library made of Redis's own
# siphash.c (the hash every key lookup calls), serves the host's redis-cli
# over the one TCP port its manifest's network rule lists; a SYN to any
# other port is answered with a reset by the monitor and audited; then the
# library is updated online while redis-benchmark runs, with no failed
# request.  The pVM's TAP lives in a network namespace of the demo's own
# (kxd --net-netns, docs/network.md), which needs root; make demo runs as
# root in CI.
part_redis() {
	dsock=$scratch/kxd-redis.sock
	printf '\n#### Redis, unmodified, in a pVM: redis-cli on its one port, a library updated under load\n'
	if [ "$(id -u)" -ne 0 ] || ! command -v redis-cli >/dev/null ||
		! command -v redis-benchmark >/dev/null; then
		printf 'demo: the Redis part needs root (a network namespace, a TAP), redis-cli and\n'
		printf 'demo: redis-benchmark (Debian redis-tools, installed by .ci/deps.sh): skipped here\n'
		return 0
	fi
	redis_ns=kxdemo-$$
	addr=10.77.14.2
	rcli() { ip netns exec "$redis_ns" redis-cli -h "$addr" "$@"; }

	say "sign Redis (built by make with kx-cc, linked against libredis-siphash) and the library"
	printf '(libredis-siphash: Redis'"'"'s own src/siphash.c, built twice with kx-cc -shared: 1.0 and 1.1)\n'
	mkdir -p redislib
	expect 0 "$kxsign" sign -s acme.sec --name redis --version 7.0.15 -o redis.kxe \
		"$build/tests/redis/redis-server-dyn.kxe"
	expect 0 "$kxsign" sign -s acme.sec --name libredis-siphash --version 1.0 \
		-o redislib/libredis-siphash.so "$build/tests/redis/v1/libredis-siphash.so"
	expect 0 "$kxsign" sign -s acme.sec --name libredis-siphash --version 1.1 \
		-o libredis-siphash-1.1.so "$build/tests/redis/v2/libredis-siphash.so"
	cat > redis.yaml <<-EOF
	kx-manifest: 1
	app: redis
	image: redis.kxe
	memory: 128M
	keys:
	  acme: $scratch/policy/keys/acme.pub
	libraries:
	  - name: libredis-siphash
	    signed-by: [acme]
	    version: ">= 1.0 && < 2"
	    loader: self
	    update: allow
	    bind: lazy
	network:
	  - iface: net0
	    address: $addr/24
	    gateway: 10.77.14.1
	    listen: [6379]
	EOF
	printf 'redis.yaml: TCP 6379 only; libredis-siphash signed by acme, 1.x, update: allow\n'
	expect 0 "$bin/kxpolicy" compile -o redis.kxp redis.yaml

	say "start Redis in a pVM (its TAP in the network namespace $redis_ns); kxd links libredis-siphash 1.0"
	ip netns add "$redis_ns" || { echo "demo: FAILED: ip netns add"; exit 1; }
	ip netns exec "$redis_ns" ip link set lo up
	"$bin/kxd" --policy redis.kxp --socket "$dsock" --audit-log redis-audit.log \
		--libdir redislib --net-netns "$redis_ns" || { echo "demo: FAILED: kxd"; exit 1; }
	"$bin/kxctl" run --socket "$dsock" redis.kxe --bind 0.0.0.0 --protected-mode no \
		--save "" >redis.out 2>&1 &
	run_pid=$!
	for i in $(seq 100); do grep -q "Ready to accept connections" redis.out && break; sleep 0.1; done
	grep "Ready to accept connections" redis.out || { echo "demo: FAILED: Redis"; cat redis.out; exit 1; }
	expect 0 "$bin/kxctl" list --socket "$dsock"

	say "the host's redis-cli SETs and GETs through the pVM's one port"
	printf '(rcli: ip netns exec %s redis-cli -h %s)\n' "$redis_ns" "$addr"
	expect 0 rcli set greeting "hello from a pVM"
	expect 0 rcli get greeting
	[ "$(rcli get greeting)" = "hello from a pVM" ] || { echo "demo: FAILED: GET"; exit 1; }

	say "port 6380 is not in the manifest: the monitor refuses the connection and audits it"
	expect 1 rcli -p 6380 ping
	for i in $(seq 100); do
		"$bin/kxctl" audit --socket "$dsock" | grep -q "dropped port: in tcp .*:6380" && break
		sleep 0.1
	done
	"$bin/kxctl" audit --socket "$dsock" | grep "DENY .*dropped port: in tcp .*:6380" ||
		{ echo "demo: FAILED: the refused port is not audited"; exit 1; }

	say "update libredis-siphash 1.0 -> 1.1 while redis-benchmark runs (20 clients, SET then GET)"
	ip netns exec "$redis_ns" redis-benchmark -h "$addr" -t set,get -n 100000 -c 20 \
		-r 100000 --csv >bench.out 2>&1 &
	bench_pid=$!
	served() { rcli info stats | tr -d '\r' | sed -n 's/^total_commands_processed://p'; }
	for i in $(seq 100); do [ "$(served)" -gt 10000 ] && break; sleep 0.1; done
	printf '(Redis has served %s commands)\n' "$(served)"
	expect 0 "$bin/kxctl" update --socket "$dsock" 1 libredis-siphash-1.1.so libredis-siphash
	kill -0 "$bench_pid" 2>/dev/null || { echo "demo: FAILED: the benchmark ended first"; exit 1; }
	printf '(redis-benchmark was still running when the update returned)\n'
	printf '(redis-benchmark exits 1 at the first error reply or broken connection)\n'
	wait "$bench_pid" || { echo "demo: FAILED: redis-benchmark"; cat bench.out; exit 1; }
	cat bench.out
	expect 0 rcli get greeting
	[ "$(rcli get greeting)" = "hello from a pVM" ] || { echo "demo: FAILED: GET after"; exit 1; }
	expect 0 "$bin/kxctl" list --socket "$dsock"
	"$bin/kxctl" audit --socket "$dsock" | grep " update "

	say "SIGTERM: Redis's own handler shuts it down cleanly"
	expect 0 "$bin/kxctl" kill --socket "$dsock" --signal 15 1
	wait "$run_pid" || { echo "demo: FAILED: Redis did not exit 0"; cat redis.out; exit 1; }
	"$bin/kxctl" stop --socket "$dsock" >/dev/null 2>&1
	ip netns del "$redis_ns"
	redis_ns=
}
part_redis

printf '\ndemo: all steps behaved as expected\n'
exit 0
