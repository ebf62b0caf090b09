#!/bin/sh
# Download the Debian packages of tests/xen/packages.lock into CACHE/debs
# (each checked against its pinned SHA-256), unpack them into CACHE/root and
# extract the pieces QEMU boots: CACHE/xen (Xen's multiboot ELF) and
# CACHE/vmlinux (the dom0 kernel, uncompressed: under TCG, Xen and libxc
# would spend seconds in xz).  Nothing is fetched again while CACHE/root
# matches the lock file.
#
# usage: fetch.sh CACHE            download + unpack (idempotent)
#        fetch.sh --relock         print a lock file for the current candidates
set -eu

here=$(cd "$(dirname "$0")" && pwd)
lock=$here/packages.lock

die() { echo "fetch.sh: $*" >&2; exit 1; }

# apt-get download needs package lists; a fresh machine may have none.
have_lists() { ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; }

if [ "${1:-}" = --relock ]; then
	have_lists || apt-get update -qq
	tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
	sed -n 's/^\([a-z0-9][^ ]*\) .*/\1/p' "$lock" | while read -r name; do
		case $name in linux-image-*) name=$(apt-cache depends linux-image-amd64 |
			sed -n 's/.*Depends: \(linux-image-6[^ ]*\).*/\1/p' | head -1) ;; esac
		(cd "$tmp" && apt-get download -qq "$name" >/dev/null 2>&1) || die "cannot download $name"
	done
	sed -n '1,/^[a-z0-9]/p' "$lock" | grep '^#'
	for f in "$tmp"/*.deb; do
		echo "$(dpkg-deb -f "$f" Package) $(dpkg-deb -f "$f" Version) $(sha256sum "$f" | cut -d' ' -f1)"
	done
	exit 0
fi

[ $# -eq 1 ] || die "usage: fetch.sh CACHE | --relock"
cache=$1
mkdir -p "$cache/debs"
cache=$(cd "$cache" && pwd)

# The lock file's digest names what CACHE/root was unpacked from.
stamp=$(sha256sum "$lock" | cut -d' ' -f1)
if [ -f "$cache/root.stamp" ] && [ "$(cat "$cache/root.stamp")" = "$stamp" ] &&
	[ -s "$cache/xen" ] && [ -s "$cache/vmlinux" ]; then
	exit 0
fi

rm -rf "$cache"/debs/dl.*
grep '^[a-z0-9]' "$lock" | while read -r name version sha; do
	deb=$cache/debs/$name.deb
	if [ -f "$deb" ] && echo "$sha  $deb" | sha256sum -c --status; then
		continue
	fi
	have_lists || apt-get update -qq || die "apt-get update failed"
	echo "fetch.sh: downloading $name $version" >&2
	dl=$(mktemp -d "$cache/debs/dl.XXXXXX")
	# apt's sandbox user cannot write into root-owned temporary folders.
	chmod 755 "$dl"
	if ! (cd "$dl" && apt-get download -qq "$name=$version" >/dev/null 2>&1); then
		rm -rf "$dl"
		die "cannot download $name=$version (gone from the archive? run tests/xen/fetch.sh --relock and update tests/xen/packages.lock)"
	fi
	mv "$dl"/*.deb "$deb.part" && rm -rf "$dl"
	if ! echo "$sha  $deb.part" | sha256sum -c --status; then
		rm -f "$deb.part"
		die "$name=$version does not match its pinned SHA-256 in tests/xen/packages.lock"
	fi
	mv "$deb.part" "$deb"
done

rm -rf "$cache/root" "$cache/root.stamp"
mkdir -p "$cache/root"
grep '^[a-z0-9]' "$lock" | while read -r name _ _; do
	dpkg-deb -x "$cache/debs/$name.deb" "$cache/root"
done

# Xen: QEMU's multiboot loader wants the plain ELF image.
zcat "$cache/root/boot/xen-4.17-amd64.gz" > "$cache/xen.part" && mv "$cache/xen.part" "$cache/xen"

# dom0 kernel: the bzImage's payload is xz; find its magic and unpack it.
vmlinuz=$(ls "$cache"/root/boot/vmlinuz-* | head -1)
python3 - "$vmlinuz" "$cache/vmlinux.xz" <<'EOF'
import sys
data = open(sys.argv[1], 'rb').read()
at = data.find(b'\xfd7zXZ\x00')
if at < 0:
    sys.exit('no xz payload in ' + sys.argv[1])
open(sys.argv[2], 'wb').write(data[at:])
EOF
# xz stops with an error at the bzImage's trailer after the stream: only the
# ELF header check below decides.
xz -dc "$cache/vmlinux.xz" > "$cache/vmlinux.part" 2>/dev/null || true
rm -f "$cache/vmlinux.xz"
[ "$(head -c 4 "$cache/vmlinux.part" | od -An -c | tr -d ' ')" = '177ELF' ] ||
	die "could not extract vmlinux from $vmlinuz"
mv "$cache/vmlinux.part" "$cache/vmlinux"
echo "$stamp" > "$cache/root.stamp"
