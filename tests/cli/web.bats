#!/usr/bin/env bats
# web: Debian's lighttpd, built from its source package without a change
# (tests/web/module.mk), in a pVM under kxd (issue 14, docs/web.md).  The
# manifest grants a read-only host directory (its configuration and the
# document root) and a network rule listing TCP 8080 only; the host's curl
# fetches from the test's network namespace.  Checked: a static file's exact
# bytes, status and headers; 404 for a missing file; several requests on one
# kept-alive connection; a port lighttpd listens on but the manifest does
# not list stays closed; a client connected when the operator kills the pVM
# sees ECONNRESET at once.  Needs /dev/kvm, root (network namespaces, TAPs),
# curl and python3.  Without KVM: the image's and the build tree's checks,
# and lighttpd-probe (the image's objects run natively,
# tests/web/syscall-probe.c) serving and making only system calls the layer
# implements.

bats_require_minimum_version 1.5.0

load "$KX_ROOT/tests/data/kxd/helpers"

KXE=$KX_BUILD/tests/web/lighttpd.kxe
PEER=$KX_ROOT/tests/data/net/peer.py
ADDR=10.77.16.2

setup_file() {
	local fx=$BATS_FILE_TMPDIR/fx
	mkdir -p "$fx/lib" "$fx/srv/htdocs/sub"
	cat > "$fx/web.yaml" <<-EOF
	kx-manifest: 1
	app: web
	image: web.kxe
	memory: 64M
	keys:
	  acme: $KX_ROOT/manifests/keys/acme.pub
	files:
	  - { guest: /srv, host: $fx/srv, mode: ro }
	network:
	  - iface: net0
	    address: $ADDR/24
	    gateway: 10.77.16.1
	    listen: [8080]
	EOF
	# lighttpd also listens on 8081, which the manifest does not list.
	cat > "$fx/srv/lighttpd.conf" <<-EOF
	server.document-root = "/srv/htdocs"
	server.bind = "0.0.0.0"
	server.port = 8080
	\$SERVER["socket"] == "0.0.0.0:8081" { }
	index-file.names = ( "index.html" )
	mimetype.assign = ( ".html" => "text/html", ".txt" => "text/plain",
	                    ".bin" => "application/octet-stream" )
	EOF
	printf '<!doctype html>\n<title>kx</title>\n<p>lighttpd in a pVM</p>\n' \
		> "$fx/srv/htdocs/index.html"
	printf 'plain text, one line\n' > "$fx/srv/htdocs/sub/hello.txt"
	# Larger than lwIP's send window and lighttpd's own buffers: sent in pieces.
	head -c 300000 /dev/urandom > "$fx/srv/htdocs/blob.bin"
	"$KXSIGN" sign -s "$SECS/acme.sec" --name web --version 1.4.69 -o "$fx/web.kxe" \
		"$KXE" >/dev/null
	"$KX_BIN/kxpolicy" compile --serial 1 -o "$fx/kx.kxp" "$fx/web.yaml" >/dev/null
	kvm_probe
}

# The image checks need no KVM; the others call serve.
setup() {
	:
}

# serve: what the tests of the running server need, then lighttpd in a pVM
# under a kxd whose TAPs are in a namespace of the test's own
serve() {
	need_kvm
	[ "$(id -u)" = 0 ] || skip "needs root: network namespaces and TAP devices"
	command -v curl >/dev/null || skip "needs curl"
	command -v python3 >/dev/null || skip "needs python3 for the host side"
	netns_start kxweb
	start_web
}

teardown() {
	[ -z "${RUNPID:-}" ] || stop_web 1
	netns_stop
}

# start_web: lighttpd in a pVM in the background (output in $RUNOUT);
# returns once it serves
start_web() {
	RUNOUT=$BATS_TEST_TMPDIR/run.out
	"$KXCTL" run --socket "$SOCK" "$FX/web.kxe" -D -f /srv/lighttpd.conf >"$RUNOUT" 2>&1 &
	RUNPID=$!
	wait_for grep -q "server started (lighttpd/1.4.69)" "$RUNOUT" ||
		{ output=$(cat "$RUNOUT"); explain "lighttpd started"; }
}

# stop_web ID: SIGTERM; lighttpd stops cleanly and the pVM exits 0
stop_web() {
	"$KXCTL" kill --socket "$SOCK" --signal 15 "$1"
	status=0
	wait "$RUNPID" || status=$?
	RUNPID=
	[ "$status" -eq 0 ] || { output=$(cat "$RUNOUT"); explain "lighttpd exited 0"; }
	grep -q "server stopped" "$RUNOUT" || { output=$(cat "$RUNOUT"); explain "a clean stop"; }
}

# fetch ARGS...: curl in the namespace ($output, $status)
fetch() {
	run --separate-stderr ip netns exec "$NS" timeout 20 curl -sS "$@"
}

@test "web: the image is Debian's lighttpd 1.4.69, static, and holds no syscall instruction" {
	[ -f "$KXE" ] || explain "lighttpd.kxe is built"
	run "$KX_BUILD/sdk/bin/kx-nosyscall" "$KXE"
	[ "$status" -eq 0 ] || explain "no system call instruction in the image"
	run readelf -lW "$KXE"
	[ "$status" -eq 0 ] && [[ "$output" != *INTERP* ]] && [[ "$output" != *DYNAMIC* ]] ||
		explain "a static image (no interpreter, no dynamic section)"
	grep -q "lighttpd/1.4.69" "$KXE" || explain "lighttpd 1.4.69's version string"
	# The static build's modules: what serving files needs, compiled in.
	local m
	for m in mod_staticfile mod_indexfile mod_dirlisting mod_access; do
		grep -q "${m}_plugin_init" <(nm "$KXE") || explain "$m is compiled in"
	done
}

@test "web: the build tree's sources are the pinned Debian package's, unchanged" {
	# The variant-neutral build tree and the source cache (tests/web/module.mk)
	local shared cache src tree f
	shared=$(dirname "$KX_BUILD")/build
	cache=${KX_SRC_CACHE:-$shared/src-cache}
	tree=$shared/lighttpd/kx
	[ -d "$cache/dl" ] || skip "no source cache at $cache (built with another KX_SRC_CACHE)"
	run --separate-stderr env KX_SRC_CACHE="$cache" KX_SRC_OFFLINE=1 \
		sh "$KX_ROOT/.ci/debsrc.sh" lighttpd
	[ "$status" -eq 0 ] && [ -d "$output/src" ] || explain "the pinned lighttpd source"
	src=$output
	for f in "$src"/src/*.[chy] "$src"/src/ls-hpack/*.[ch]; do
		f=${f#"$src"/src/}
		# lemon writes the parser beside its grammar (configparser.y, compared)
		case $f in configparser.[ch]) continue ;; esac
		cmp -s "$src/src/$f" "$tree/src/$f" || explain "src/$f differs from Debian's"
	done
	# The one file the static build mode asks the builder to write
	[ "$(cat "$tree/src/plugin-static.h")" = "$(printf 'PLUGIN_INIT(%s)\n' mod_access \
		mod_accesslog mod_alias mod_dirlisting mod_expire mod_indexfile mod_setenv \
		mod_staticfile)" ] || explain "plugin-static.h lists the modules"
}

# implemented_nrs: the numbers of the system calls the POSIX layer
# implements, from its own list (guest/posix/syscalls.h), one a line
implemented_nrs() {
	printf '%s\n' '#include <sys/syscall.h>' '#include "guest/posix/syscalls.h"' \
		'#define NR(n) SYS_##n' '#define NRA(nr, fn) SYS_##nr' 'kx_list: KX_SYSCALLS(NR, NRA)' |
		cc -E -P -I"$KX_ROOT" -x c - | sed -n 's/^kx_list: //p' | tr -s ' ' '\n' | grep .
}

@test "web: lighttpd's objects with kx's musl, run natively, serve and make only calls the layer implements" {
	# tests/web/syscall-probe.c: the image's objects linked with a
	# __kx_syscall that makes each call on the host and reports its number.
	local probe=$KX_BUILD/tests/web/lighttpd-probe dir=$BATS_TEST_TMPDIR/probe
	local port=$((20000 + $$ % 20000)) u nrs nr pid
	[ -x "$probe" ] || explain "lighttpd-probe is built"
	mkdir -p "$dir"
	sed -e "s|/srv/htdocs|$FX/srv/htdocs|" -e 's|"0.0.0.0"|"127.0.0.1"|' -e "s|8080|$port|" \
		-e '/8081/d' "$FX/srv/lighttpd.conf" > "$dir/lighttpd.conf"
	"$probe" -D -f "$dir/lighttpd.conf" 99>"$dir/nrs" 2>"$dir/log" &
	pid=$!
	wait_for grep -q "server started (lighttpd/1.4.69)" "$dir/log" ||
		{ kill -9 $pid; output=$(cat "$dir/log"); explain "the probe started"; }
	u=http://127.0.0.1:$port
	run curl -sS -w '%{http_code} %{num_connects} %{size_download}\n' -o /dev/null "$u/" \
		-o /dev/null "$u/blob.bin" -o /dev/null "$u/missing" -o /dev/null "$u/sub/hello.txt"
	local got=$output
	run curl -sS "$u/blob.bin" -o "$dir/blob"
	run curl -sS -r 6-9 "$u/sub/hello.txt"
	local range=$output
	kill -9 $pid
	wait $pid || true
	[ "$(cut -d' ' -f1,2 <<<"$got")" = "$(printf '200 1\n200 0\n404 0\n200 0')" ] ||
		{ output=$got; explain "four answers on one connection"; }
	cmp "$FX/srv/htdocs/blob.bin" "$dir/blob" || explain "blob.bin's exact bytes"
	[ "$range" = "text" ] || explain "a byte range"
	nrs=$(sed -n 's/^nr //p' "$dir/nrs")
	[ -n "$nrs" ] && grep -qx 40 <<<"$nrs" || { output=$nrs; explain "the probe saw the calls (sendfile is 40)"; }
	local have
	have=$(implemented_nrs)
	[ "$(wc -l <<<"$have")" -gt 100 ] || { output=$have; explain "the layer's list"; }
	for nr in $nrs; do
		grep -qx "$nr" <<<"$have" || { output=$nrs; explain "system call $nr: not in the layer"; }
	done
}

@test "web: lighttpd -v in a pVM" {
	need_kvm
	run "$KX_BIN/kxmon" -m 64M "$KXE" -v
	[ "$status" -eq 0 ] || explain "-v"
	[[ "$output" == "lighttpd/1.4.69"* ]] || explain "the version"
}

@test "web: curl gets a static file's exact bytes, status and headers" {
	serve
	fetch -i "http://$ADDR:8080/"
	[ "$status" -eq 0 ] || explain "curl /"
	local head body
	head=$(sed -n '1,/^\r$/p' <<<"$output" | tr -d '\r')
	body=$(sed '1,/^\r$/d' <<<"$output")
	[ "$(head -1 <<<"$head")" = "HTTP/1.1 200 OK" ] || explain "200 for /"
	grep -qx "Content-Type: text/html" <<<"$head" || explain "its type"
	grep -qx "Content-Length: $(stat -c %s "$FX/srv/htdocs/index.html")" <<<"$head" ||
		explain "its length"
	grep -q "^Last-Modified: " <<<"$head" && grep -q "^ETag: " <<<"$head" ||
		explain "the validators of a static file"
	grep -qx "Server: lighttpd/1.4.69" <<<"$head" || explain "lighttpd answered"
	[ "$body" = "$(cat "$FX/srv/htdocs/index.html")" ] || explain "index.html's bytes"
	run ip netns exec "$NS" timeout 20 curl -sS -o "$BATS_TEST_TMPDIR/blob" \
		-w '%{http_code} %{content_type} %{size_download}' "http://$ADDR:8080/blob.bin"
	[ "$output" = "200 application/octet-stream 300000" ] || explain "blob.bin: 200, its type, size"
	cmp "$FX/srv/htdocs/blob.bin" "$BATS_TEST_TMPDIR/blob" || explain "blob.bin's exact bytes"
	fetch "http://$ADDR:8080/sub/hello.txt"
	[ "$output" = "plain text, one line" ] || explain "a file in a subdirectory"
	fetch -r 6-9 "http://$ADDR:8080/sub/hello.txt"
	[ "$output" = "text" ] || explain "a byte range"
}

@test "web: a missing file gets 404" {
	serve
	fetch -o /dev/null -w '%{http_code}' "http://$ADDR:8080/no-such-file.html"
	[ "$output" = "404" ] || explain "404"
	fetch -o /dev/null -w '%{http_code}' "http://$ADDR:8080/"
	[ "$output" = "200" ] || explain "still serving"
}

@test "web: several requests on one kept-alive connection" {
	serve
	local u=http://$ADDR:8080
	fetch -w '%{http_code} %{num_connects} %{size_download}\n' \
		-o /dev/null "$u/" -o /dev/null "$u/sub/hello.txt" -o /dev/null "$u/blob.bin" \
		-o /dev/null "$u/missing" -o /dev/null "$u/sub/hello.txt"
	[ "$(cut -d' ' -f1,2 <<<"$output")" = "$(printf '200 1\n200 0\n200 0\n404 0\n200 0')" ] ||
		explain "five answers on one connection (num_connects 1, then 0)"
	[ "$(awk 'NR != 4 { print $3 }' <<<"$output")" = \
		"$(printf '%s\n' "$(stat -c %s "$FX/srv/htdocs/index.html")" 21 300000 21)" ] ||
		explain "each answer's whole body"
}

@test "web: a port lighttpd listens on but the manifest does not list stays closed" {
	serve
	run ip netns exec "$NS" python3 "$PEER" tcp "$ADDR" 8081 10
	[ "$output" = "refused" ] || explain "TCP 8081: refused by the monitor"
	fetch -o /dev/null "http://$ADDR:8081/"
	[ "$status" -ne 0 ] || explain "curl cannot fetch from 8081"
	fetch -o /dev/null -w '%{http_code}' "http://$ADDR:8080/"
	[ "$output" = "200" ] || explain "8080 serves"
	wait_for bash -c "'$KXCTL' list --socket '$SOCK' | grep -q 'port=[1-9]'" ||
		{ ctl list; explain "the SYNs to 8081 counted"; }
	ctl audit
	grep -q "DENY .*the monitor dropped port: in tcp 10.77.16.1:[0-9]* -> $ADDR:8081" <<<"$output" ||
		explain "the first drop is audited"
}

@test "web: a client connected to lighttpd sees its connection reset when the operator kills the pVM" {
	serve
	local out=$BATS_TEST_TMPDIR/idle.out pid
	ip netns exec "$NS" python3 "$PEER" idle "$ADDR" 8080 20 >"$out" 2>&1 &
	pid=$!
	wait_for grep -q ready "$out" || { output=$(cat "$out"); explain "connected"; }
	ctl kill 1
	[ "$status" -eq 0 ] || explain "kxctl kill"
	status=0
	wait "$RUNPID" || status=$?
	RUNPID=
	[ "$status" -eq 137 ] || { output=$(cat "$RUNOUT"); explain "kxctl run: a kill's 137"; }
	wait "$pid" || true
	# Without the monitor's reset (network.md) it would sit out its 20 s.
	[ "$(cat "$out")" = "$(printf 'ready\nreset')" ] ||
		{ output=$(cat "$out"); explain "the client's recv raised ECONNRESET"; }
}
