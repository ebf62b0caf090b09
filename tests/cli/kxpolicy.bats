#!/usr/bin/env bats
# kxpolicy compile / verify / dump / explain / diff / graph on the example
# manifests (manifests/*.yaml).  `check` has its own suite (kxpolicy-check.bats).

setup() {
	# the default serial is the time now: pin it, so that compiles compare
	export SOURCE_DATE_EPOCH=1700000000
	K="$KX_BIN/kxpolicy"
	M="$KX_ROOT/manifests"
	P="$BATS_TEST_TMPDIR/policy.kxp"
	"$K" compile -o "$P" "$M"/kvstore.yaml "$M"/kvstore-backup.yaml "$M"/webcache.yaml
}

# key id of KEY in APP, from the canonical dump
keyid() {
	"$K" dump "$P" | awk -v app="$1" -v key="$2" '
		$1 == "app" { cur = $2 } cur == app && $1 == "key" && $2 == key { print $3; exit }'
}

# flip byte OFFSET (xor 0xff) of FILE into OUT
flip() {
	python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[int(sys.argv[2])] ^= 0xff
open(sys.argv[3], "wb").write(b)' "$1" "$2" "$3"
}

@test "usage: --help lists every verb; errors exit 2" {
	run "$K" --help
	[ "$status" -eq 0 ]
	for v in check compile verify dump explain diff graph; do
		[[ "$output" == *"kxpolicy $v"* ]]
	done
	run "$K"
	[ "$status" -eq 2 ]
	run "$K" frobnicate
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown command 'frobnicate'"* ]]
	run "$K" explain --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: kxpolicy explain"* ]]
	[[ "$output" == *"old-version="* ]]
	run "$K" compile "$M"/kvstore.yaml
	[ "$status" -eq 2 ]
	[[ "$output" == *"-o OUT.kxp is required"* ]]
	run "$K" dump --frob "$P"
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown option '--frob'"* ]]
}

@test "compile is deterministic and independent of argument order" {
	"$K" compile -o "$BATS_TEST_TMPDIR/again.kxp" "$M"/kvstore.yaml "$M"/kvstore-backup.yaml \
		"$M"/webcache.yaml
	cmp "$P" "$BATS_TEST_TMPDIR/again.kxp"
	"$K" compile -o "$BATS_TEST_TMPDIR/reordered.kxp" "$M"/webcache.yaml "$M"/kvstore.yaml \
		"$M"/kvstore-backup.yaml
	cmp "$P" "$BATS_TEST_TMPDIR/reordered.kxp"
}

@test "compile --serial: the serial is in the tables, shown by verify and dump; the default is the time" {
	"$K" compile --serial 7 -o "$BATS_TEST_TMPDIR/s7.kxp" "$M"/kvstore.yaml "$M"/kvstore-backup.yaml \
		"$M"/webcache.yaml
	run "$K" verify "$BATS_TEST_TMPDIR/s7.kxp"
	[ "$status" -eq 0 ] && [[ "$output" == *"OK: format 2, serial 7, 3 apps"* ]]
	run "$K" dump "$BATS_TEST_TMPDIR/s7.kxp"
	[[ "${lines[0]}" == "# kx policy, format 2, serial 7: 3 apps"* ]]
	run "$K" dump --json "$BATS_TEST_TMPDIR/s7.kxp"
	[[ "$output" == '{"format": 2, "serial": 7, '* ]]
	run "$K" verify "$P"
	[[ "$output" == *"serial 1700000000,"* ]] # SOURCE_DATE_EPOCH
	# the same manifests with another serial differ only in the meta table
	run "$K" diff "$P" "$BATS_TEST_TMPDIR/s7.kxp"
	[ "$status" -eq 0 ]
	! cmp -s "$P" "$BATS_TEST_TMPDIR/s7.kxp"
	before=$(date +%s)
	SOURCE_DATE_EPOCH= "$K" compile -o "$BATS_TEST_TMPDIR/now.kxp" "$M"/kvstore.yaml \
		"$M"/kvstore-backup.yaml "$M"/webcache.yaml
	after=$(date +%s)
	serial=$("$K" verify "$BATS_TEST_TMPDIR/now.kxp" | sed -n 's/.*serial \([0-9]*\),.*/\1/p')
	[ "$serial" -ge "$before" ] && [ "$serial" -le "$after" ]
	for bad in 0 -1 x 18446744073709551616 ""; do
		run "$K" compile --serial "$bad" -o "$BATS_TEST_TMPDIR/bad.kxp" "$M"/kvstore.yaml \
			"$M"/kvstore-backup.yaml "$M"/webcache.yaml
		[ "$status" -eq 2 ] && [[ "$output" == *"--serial '$bad': want a number from 1 to 18446744073709551615"* ]]
		[ ! -e "$BATS_TEST_TMPDIR/bad.kxp" ]
	done
	run "$K" compile --serial 18446744073709551615 -o "$BATS_TEST_TMPDIR/max.kxp" "$M"/kvstore.yaml \
		"$M"/kvstore-backup.yaml "$M"/webcache.yaml
	[ "$status" -eq 0 ] && [[ "$output" == *"serial 18446744073709551615, unsigned"* ]]
}

@test "the admin signature covers the serial: a changed serial with a fixed-up digest is refused" {
	"$KX_BIN/kxsign" keygen --no-passphrase -p "$BATS_TEST_TMPDIR/admin.pub" \
		-s "$BATS_TEST_TMPDIR/admin.sec" >/dev/null
	S=$BATS_TEST_TMPDIR/signed.kxp
	"$K" compile --serial 5 -s "$BATS_TEST_TMPDIR/admin.sec" -o "$S" "$M"/kvstore.yaml \
		"$M"/kvstore-backup.yaml "$M"/webcache.yaml
	# raise the serial in the meta table (directory entry 13) and recompute the
	# body digest, as a replayer would: only the signature can catch it
	python3 -c 'import hashlib, struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
off = struct.unpack_from("<Q", b, 192 + 13 * 16)[0]
assert struct.unpack_from("<Q", b, off)[0] == 5
struct.pack_into("<Q", b, off, 9)
b[32:64] = hashlib.blake2b(bytes(b[192:]), digest_size=32).digest()
open(sys.argv[2], "wb").write(b)' "$S" "$BATS_TEST_TMPDIR/raised.kxp"
	run "$K" verify "$BATS_TEST_TMPDIR/raised.kxp"
	[ "$status" -eq 0 ] && [[ "$output" == *"serial 9,"* ]] # integrity alone cannot tell
	run "$K" verify -p "$BATS_TEST_TMPDIR/admin.pub" "$BATS_TEST_TMPDIR/raised.kxp"
	[ "$status" -eq 1 ] && [[ "$output" == *"does not verify"* ]]
	run "$K" verify -p "$BATS_TEST_TMPDIR/admin.pub" "$S"
	[ "$status" -eq 0 ] && [[ "$output" == *"serial 5,"* ]]
}

@test "compile with manifest errors exits 1 and leaves the old policy in place" {
	cp "$P" "$BATS_TEST_TMPDIR/before.kxp"
	printf 'kx-manifest: 1\napp: broken\nimage: x\nmemroy: 1M\n' > "$BATS_TEST_TMPDIR/bad.yaml"
	run "$K" compile -o "$P" "$BATS_TEST_TMPDIR/bad.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad.yaml:4:1: error"* ]]
	cmp "$P" "$BATS_TEST_TMPDIR/before.kxp"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep '^\.policy')" ]
}

@test "verify: a clean policy passes; every flipped byte is refused" {
	run "$K" verify "$P"
	[ "$status" -eq 0 ]
	[[ "$output" == *"OK: format 2, serial 1700000000, 3 apps"*"unsigned"* ]]
	size=$(stat -c %s "$P")
	for off in $(seq 0 37 $((size - 1))) $((size - 1)); do
		flip "$P" "$off" "$BATS_TEST_TMPDIR/flipped.kxp"
		run "$K" verify "$BATS_TEST_TMPDIR/flipped.kxp"
		[ "$status" -eq 1 ] || { echo "byte $off accepted: $output"; false; }
		[[ "$output" == *"REFUSED"* ]]
	done
	flip "$P" 300 "$BATS_TEST_TMPDIR/flipped.kxp"
	run "$K" verify "$BATS_TEST_TMPDIR/flipped.kxp"
	[[ "$output" == *"body digest mismatch"* ]]
	head -c 100 "$P" > "$BATS_TEST_TMPDIR/short.kxp"
	run "$K" verify "$BATS_TEST_TMPDIR/short.kxp"
	[ "$status" -eq 1 ]
	[[ "$output" == *"truncated: 100 bytes"* ]]
	run "$K" verify "$BATS_TEST_TMPDIR/nonexistent.kxp"
	[ "$status" -eq 2 ]
	[[ "$output" == *"nonexistent.kxp"* ]]
}

@test "admin signature: -s signs, verify -p checks it, without -p it says so" {
	kxsign="$KX_BIN/kxsign"
	"$kxsign" keygen --no-passphrase -p "$BATS_TEST_TMPDIR/admin.pub" -s "$BATS_TEST_TMPDIR/admin.sec"
	"$kxsign" keygen --no-passphrase -p "$BATS_TEST_TMPDIR/other.pub" -s "$BATS_TEST_TMPDIR/other.sec"
	S="$BATS_TEST_TMPDIR/signed.kxp"
	run "$K" compile -o "$S" -s "$BATS_TEST_TMPDIR/admin.sec" "$M"/kvstore.yaml \
		"$M"/kvstore-backup.yaml "$M"/webcache.yaml # the apps of $P
	[ "$status" -eq 0 ]
	[[ "$output" == *"signed"* ]]
	run "$K" verify -p "$BATS_TEST_TMPDIR/admin.pub" "$S"
	[ "$status" -eq 0 ]
	[[ "$output" == *"signature verified"* ]]
	run "$K" verify "$S"
	[ "$status" -eq 0 ]
	[[ "$output" == *"signature NOT checked (no -p given)"* ]]
	run "$K" verify -p "$BATS_TEST_TMPDIR/other.pub" "$S"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not by the admin key"* ]]
	run "$K" verify -p "$BATS_TEST_TMPDIR/admin.pub" "$P"
	[ "$status" -eq 1 ]
	[[ "$output" == *"policy is not signed"* ]]
	# the signature field itself: refused with the key
	flip "$S" 150 "$BATS_TEST_TMPDIR/badsig.kxp"
	run "$K" verify -p "$BATS_TEST_TMPDIR/admin.pub" "$BATS_TEST_TMPDIR/badsig.kxp"
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not verify"* ]]
	# the tables are identical to the unsigned compile
	cmp <(tail -c +193 "$S") <(tail -c +193 "$P")
	# an independent verifier, written from docs/policy-format.md
	python3 -c 'import base64, hashlib, struct, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
raw = base64.b64decode(open(sys.argv[2]).read().splitlines()[1])
pk, keyid = raw[10:42], raw[2:10]
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"KXPOLICY" and data[64:72] == keyid
assert hashlib.blake2b(data[192:], digest_size=32).digest() == data[32:64]
signed = data[:128]
msg = (b"KXSIG-DETACHED-SIGNATURE-V1\0" + struct.pack("<Q", len(signed)) +
       hashlib.blake2b(signed, digest_size=32).digest())
Ed25519PublicKey.from_public_bytes(pk).verify(data[128:192], msg)' \
		"$S" "$BATS_TEST_TMPDIR/admin.pub"
}

@test "dump: canonical text with provenance, stable, and valid JSON" {
	run "$K" dump "$P"
	[ "$status" -eq 0 ]
	[[ "$output" == *"app kvstore  @ $M/kvstore.yaml:"* ]]
	[[ "$output" == *"library libkvmath  @ $M/kvstore.yaml:"* ]]
	[[ "$output" == *"version '>= 1.16 && < 2' = [1.16, 2)"* ]]
	[[ "$output" == *"trust kvstore-backup msgq  @"* ]]
	[[ "$output" == *"revoked key f297d45960afa4ff  @"* ]]
	first="$output"
	run "$K" dump "$P"
	[ "$output" = "$first" ]
	"$K" dump --json "$P" > "$BATS_TEST_TMPDIR/dump.json"
	python3 -m json.tool "$BATS_TEST_TMPDIR/dump.json" > /dev/null
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
apps = {a["name"]: a for a in d["apps"]}
assert sorted(apps) == ["kvstore", "kvstore-backup", "webcache"], apps.keys()
lib = [l for l in apps["kvstore"]["libraries"] if l["name"] == "libkvmath"][0]
assert lib["loader"] == "self" and lib["update"] and not lib["allow_downgrade"]
assert lib["source"]["file"].endswith("kvstore.yaml") and lib["source"]["line"] > 0
assert apps["kvstore-backup"]["trust"][0]["kinds"] == ["msgq"]
w = apps["webcache"]
assert w["resources"]["cpu_milli"] == 1500 and w["resources"]["pids"] == 64
assert [f["guest"] for f in w["files"]] == ["/etc/webcache", "/srv/www", "/var/cache/webcache"]
assert w["files"][0]["image"] and w["files"][0]["host"] is None
assert w["files"][2]["mode"] == "rw" and w["files"][2]["max"] == 1 << 30
n = w["network"][0]
assert n["iface"] == "net0" and n["address"] == "10.0.0.4" and n["prefix"] == 24
assert [(l["proto"], l["port"]) for l in n["listen"]] == [("tcp", 80), ("tcp", 443)]
c = n["connect"][1]
assert (c["proto"], c["address"], c["prefix"], c["port"]) == ("udp", "10.0.0.1", 32, 53), c
assert apps["kvstore"]["network"] == [] and apps["kvstore"]["resources"]["cpu_milli"] == 0' \
		"$BATS_TEST_TMPDIR/dump.json"
	run "$K" dump "$P"
	[[ "$output" == *"  file /var/cache/webcache: host /var/cache/webcache, rw, max 1073741824  @ $M/webcache.yaml:47:5"* ]]
	[[ "$output" == *"  iface net0 10.0.0.4/24, gateway 10.0.0.1  @ $M/webcache.yaml:50:5"* ]]
	[[ "$output" == *"    connect udp/10.0.0.1:53  @ $M/webcache.yaml:54:33"* ]]
	[[ "$output" == *"  resources cpu 1.500, pids 64  @ $M/webcache.yaml:56:12"* ]]
}

@test "explain: allow and deny for every op, with the rule's file:line" {
	libc=$(keyid kvstore libc-team)
	webco=$(keyid webcache webco)
	[ -n "$libc" ] && [ -n "$webco" ]
	# op | attributes | exit | text in the output
	while IFS='|' read -r op attrs want text; do
		run "$K" explain "$P" $op $attrs
		[ "$status" -eq "$want" ] || { echo "$op $attrs: exit $status: $output"; false; }
		[[ "$output" == *"$text"* ]] || { echo "$op $attrs: $output"; false; }
		[[ "$output" == *"rule: "* ]]
	done <<EOF
boot|app=kvstore signer=$libc|0|ALLOW boot
boot|app=kvstore signer=f297d45960afa4ff|1|revoked key f297d45960afa4ff of app kvstore
link|app=kvstore lib=libkvmath version=1.17 signer=$libc|0|rule: $M/kvstore.yaml:
link|app=kvstore lib=libkvmath version=2.0 signer=$libc|1|is outside '>= 1.16 && < 2'
link|app=webcache lib=libcompress version=1.3 signer=$webco requester=kvstore|0|loader 'any' is within class 'any'
link|app=webcache lib=libhttp version=2.6 signer=$webco requester=kvstore|1|(loader class 'self')
update|app=kvstore lib=libkvmath version=1.18 old-version=1.17 signer=$libc|0|not a downgrade
update|app=kvstore lib=libkvmath version=1.17 old-version=1.18 signer=$libc|1|anti-rollback
fork|app=kvstore children=15 depth=2 members=63|0|16/16 children
fork|app=kvstore-backup|1|max-children is 0
ipc|app=kvstore peer=kvstore-backup kind=msgq|0|allowed by mutual trust
ipc|app=kvstore-backup peer=webcache kind=shm|1|do not trust each other
recycle|app=kvstore signer=$libc|0|may be recycled (pool 4)
recycle|app=kvstore-backup signer=$libc|1|may not be recycled
file|app=webcache guest=/srv/www host=/srv/www|0|may mount host /srv/www at /srv/www read-only
file|app=webcache guest=/srv/www/img host=/srv/www/img mode=ro|0|at /srv/www/img read-only
file|app=webcache guest=/srv/www host=/srv/www mode=rw|1|/srv/www is read-only (mode: ro)
file|app=webcache guest=/var/cache/webcache host=/var/cache/webcache mode=rw|0|read-write, at most 1073741824 bytes
file|app=webcache guest=/etc/webcache image=true|0|the image's own tree at /etc/webcache
file|app=webcache guest=/etc/webcache host=/etc/webcache|1|is the image's own tree
file|app=kvstore guest=/data host=/var/lib/kvstore|1|app kvstore has no files rule for guest path /data
net|app=webcache iface=net0|0|may have interface net0, address 10.0.0.4/24 (2 listen ports, 2 peers)
net|app=webcache iface=net0 listen=443|0|may accept on tcp port 443 on net0
net|app=webcache iface=net0 listen=udp/443|1|does not listen on udp port 443 on net0
net|app=webcache iface=net0 connect=10.0.0.17:6379|0|(connect 10.0.0.0/24:6379)
net|app=webcache iface=net0 connect=10.0.0.17:6380|1|may not reach 10.0.0.17:6380 from net0
net|app=webcache iface=net0 connect=udp/10.0.0.1:53|0|(connect udp/10.0.0.1:53)
net|app=kvstore iface=net0|1|app kvstore has no network interface net0
EOF
	run "$K" explain "$P" link app=kvstore lib=libkvmath version=1.17 signer=$libc
	[[ "$output" == *"rule: $M/kvstore.yaml:15:5: library libkvmath of app kvstore"* ]]
	# the deciding rule of a per-frame question is the listen port or peer itself
	run "$K" explain "$P" net app=webcache iface=net0 listen=443
	[[ "$output" == *"rule: $M/webcache.yaml:53:18: listen tcp/443 on net0 of app webcache"* ]]
	run "$K" explain "$P" net app=webcache iface=net0 connect=10.0.0.9:6379
	[[ "$output" == *"rule: $M/webcache.yaml:54:15: connect 10.0.0.0/24:6379 on net0 of app webcache"* ]]
	run "$K" explain "$P" file app=webcache guest=/srv/www host=/srv/www
	[[ "$output" == *"rule: $M/webcache.yaml:46:5: files rule /srv/www of app webcache"* ]]
}

@test "explain file and net: malformed requests exit 2" {
	run "$K" explain "$P" file app=webcache guest=/srv/../etc host=/etc
	[ "$status" -eq 2 ]
	[[ "$output" == *"absolute normalised paths, no '..'"* ]]
	run "$K" explain "$P" file app=webcache guest=/srv/www
	[ "$status" -eq 2 ]
	[[ "$output" == *"host= or image=true"* ]]
	run "$K" explain "$P" net app=webcache listen=80
	[ "$status" -eq 2 ]
	[[ "$output" == *"net needs iface="* ]]
	for bad in listen=0 listen=65536 listen=sctp/80 connect=10.0.0.0/24:80 connect=10.0.0.1:* \
		connect=10.0.0.1 mode=wr image=yes; do
		run "$K" explain "$P" net app=webcache iface=net0 "$bad"
		[ "$status" -eq 2 ] || { echo "$bad: $status $output"; false; }
		[[ "$output" == *"$bad: bad value"* ]]
	done
}

@test "explain: --json, and errors exit 2" {
	libc=$(keyid kvstore libc-team)
	"$K" explain --json "$P" boot app=kvstore signer="$libc" > "$BATS_TEST_TMPDIR/e.json"
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["decision"] == "ALLOW" and d["op"] == "boot", d
assert d["rule"]["file"].endswith("kvstore.yaml") and d["rule"]["line"] > 0' "$BATS_TEST_TMPDIR/e.json"
	run "$K" explain --json "$P" boot app=nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *'"rule": null'* ]]
	run "$K" explain "$P" reboot app=kvstore
	[ "$status" -eq 2 ]
	run "$K" explain "$P" link app=kvstore bogus=1
	[ "$status" -eq 2 ]
	[[ "$output" == *"bogus=1: not an attribute"* ]]
	run "$K" explain "$P" link app=kvstore lib=libc
	[ "$status" -eq 2 ]
	[[ "$output" == *"needs lib= and a valid version="* ]]
	echo garbage > "$BATS_TEST_TMPDIR/garbage.kxp"
	run "$K" explain "$BATS_TEST_TMPDIR/garbage.kxp" fork app=kvstore
	[ "$status" -eq 2 ]
}

@test "diff: same meaning is the same; changes show as +/- facts" {
	W="$BATS_TEST_TMPDIR/m"
	mkdir -p "$W"
	cp -r "$M"/keys "$M"/kvstore.yaml "$M"/kvstore-backup.yaml "$M"/webcache.yaml "$W"/
	run "$K" diff "$P" "$P"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# renamed key, comments moving every line: same permissions
	sed -i -e 's/libc-team:/libc-core:/' -e 's/libc-team]/libc-core]/' \
		-e '1i # a comment that moves every line' "$W"/kvstore.yaml
	"$K" compile -o "$W/same.kxp" "$W"/*.yaml
	run "$K" diff "$P" "$W/same.kxp"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# a wider loader class and a narrower version range
	sed -i -e 's/loader: self   /loader: app    /' -e 's/">= 1.16 \&\& < 2"/">= 1.17 \&\& < 2"/' \
		"$W"/kvstore.yaml
	"$K" compile -o "$W/changed.kxp" "$W"/*.yaml
	run "$K" diff "$P" "$W/changed.kxp"
	[ "$status" -eq 1 ]
	[[ "$output" == *"- app kvstore: lib libkvmath: loader self"* ]]
	[[ "$output" == *"+ app kvstore: lib libkvmath: loader app"* ]]
	[[ "$output" == *"- app kvstore: lib libkvmath: version >= 1.16 && < 2"* ]]
	[[ "$output" == *"+ app kvstore: lib libkvmath: version >= 1.17 && < 2"* ]]
	[ "$(echo "$output" | wc -l)" -eq 4 ]
	# files, network and resources are facts too
	cp "$M"/webcache.yaml "$M"/kvstore.yaml "$W"/
	sed -i -e 's/listen: \[80, 443\]/listen: [443]/' -e 's/mode: rw, max: 1G/mode: rw, max: 2G/' \
		-e 's/cpu: 1.5,/cpu: 2,/' "$W"/webcache.yaml
	"$K" compile -o "$W/io.kxp" "$W"/*.yaml
	run "$K" diff "$P" "$W/io.kxp"
	[ "$status" -eq 1 ]
	[[ "$output" == *"- app webcache: iface net0: listen tcp/80"* ]]
	[[ "$output" == *"- app webcache: file /var/cache/webcache: host /var/cache/webcache, rw, max 1073741824"* ]]
	[[ "$output" == *"+ app webcache: file /var/cache/webcache: host /var/cache/webcache, rw, max 2147483648"* ]]
	[[ "$output" == *"- app webcache: resources cpu 1.500"* ]]
	[[ "$output" == *"+ app webcache: resources cpu 2.000"* ]]
	[ "$(echo "$output" | wc -l)" -eq 5 ]
	run "$K" diff "$P" "$BATS_TEST_TMPDIR/nonexistent.kxp"
	[ "$status" -eq 2 ]
}

@test "graph: DOT that dot renders" {
	run "$K" graph "$P"
	[ "$status" -eq 0 ]
	[[ "$output" == "graph kxpolicy {"* ]]
	[[ "$output" == *'label="trust: msgq"'* ]]
	[[ "$output" == *'label="loader any", style=dashed'* ]]
	[[ "$output" == *'[label="/var/cache/webcache rw", style=bold]'* ]]
	[[ "$output" == *'[shape=diamond, label="net0\n10.0.0.4/24\nlisten 2, connect 2"]'* ]]
	"$K" graph "$P" | dot -Tsvg > "$BATS_TEST_TMPDIR/g.svg"
	grep -q '<svg' "$BATS_TEST_TMPDIR/g.svg"
	grep -q 'kvstore&#45;backup' "$BATS_TEST_TMPDIR/g.svg"
}
