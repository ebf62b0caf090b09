#!/bin/sh
# bench_web.sh BUILD: wrk (Debian's wrk) against lighttpd in a pVM and
# against the same source built natively with the same flags
# (tests/web/module.mk), as requests per second and their ratio, for a
# small page and a 64 KiB file.  Set up as tests/bench/bench_redis.sh (netpair.sh): the
# client namespace holds the pVM's TAP (kxd's routed setup, the pVM
# 10.77.17.2); the native server runs in a second namespace behind a veth
# pair (10.78.17.1 <-> 10.78.17.2), so both are one hop from the client.
# Both serve the same files with the same configuration.  Needs root and wrk.
set -u
build=$(cd "$1" && pwd)
root=$(pwd)
native=$(dirname "$build")/build/lighttpd/native/src/lighttpd
secs=${KX_BENCH_WEB_SECS:-5}
conns=${KX_BENCH_WEB_CONNS:-20}
if [ "$(id -u)" -ne 0 ] || ! command -v wrk >/dev/null || [ ! -x "$native" ]; then
	echo "bench_web: needs root, wrk and $native: skipped"
	exit 0
fi
. "$root/tests/bench/netpair.sh"
netpair w 10.78.17
mkdir -p "$tmp/srv/htdocs"
printf '<!doctype html>\n<title>kx</title>\n<p>lighttpd in a pVM</p>\n' > "$tmp/srv/htdocs/index.html"
head -c 65536 /dev/urandom > "$tmp/srv/htdocs/64k.bin"
# conf DOCROOT: the one configuration both servers run
conf() {
	printf '%s\n' "server.document-root = \"$1\"" 'server.bind = "0.0.0.0"' \
		'server.port = 8080' 'index-file.names = ( "index.html" )' \
		'mimetype.assign = ( ".html" => "text/html", ".bin" => "application/octet-stream" )'
}
conf /srv/htdocs > "$tmp/srv/lighttpd.conf"
conf "$tmp/srv/htdocs" > "$tmp/native.conf"
chmod -R a+rX "$tmp"
cat > "$tmp/web.yaml" <<EOT
kx-manifest: 1
app: web
image: web.kxe
memory: 64M
keys:
  acme: $root/manifests/keys/acme.pub
files:
  - { guest: /srv, host: $tmp/srv, mode: ro }
network:
  - { iface: net0, address: 10.77.17.2/24, gateway: 10.77.17.1, listen: [8080] }
EOT
"$build/bin/kxsign" sign -s "$root/tests/data/keys/acme.sec" --name web --version 1.4.69 \
	-o "$tmp/web.kxe" "$build/tests/web/lighttpd.kxe" >/dev/null
"$build/bin/kxpolicy" compile -o "$tmp/kx.kxp" "$tmp/web.yaml" >/dev/null
"$build/bin/kxd" --policy "$tmp/kx.kxp" --socket "$tmp/s" --audit-log "$tmp/audit" \
	--net-netns "$c" 2>/dev/null || exit 1
ctl run "$tmp/web.kxe" -D -f /srv/lighttpd.conf >"$tmp/pvm.out" 2>&1 &
ip netns exec "$l" "$native" -D -f "$tmp/native.conf" >"$tmp/native.out" 2>&1 &
echo $! > "$tmp/native.pid"
for i in $(seq 100); do
	grep -q "server started" "$tmp/pvm.out" && grep -q "server started" "$tmp/native.out" &&
		break
	sleep 0.1
done
# rps HOST PATH: wrk's requests per second (one thread, $conns connections)
rps() {
	ip netns exec "$c" wrk -t1 -c"$conns" -d"$secs"s "http://$1:8080$2" 2>/dev/null |
		awk '/^Requests\/sec:/ { print $2 }'
}
status=0
for p in /index.html /64k.bin; do
	v=$(rps 10.77.17.2 "$p"); n=$(rps 10.78.17.2 "$p")
	if [ -z "$v" ] || [ -z "$n" ]; then
		echo "bench_web: $p: a server did not answer"; status=1; continue
	fi
	awk -v p="$p" -v v="$v" -v n="$n" -v s="$secs" -v c="$conns" 'BEGIN {
		printf "wrk GET %s (%d s, %d connections): pVM %.0f req/s, native %.0f req/s, ratio %.2f\n",
			p, s, c, v, n, v / n }'
done
exit $status
