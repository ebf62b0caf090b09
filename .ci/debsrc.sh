#!/bin/sh
# debsrc.sh — fetch a pinned Debian source package, verify it, unpack it.
#
# usage: .ci/debsrc.sh [-p PINS] NAME [VERSION]
#
# Prints the path of the unpacked tree (dpkg-source -x: upstream + Debian's
# patches) on stdout; everything else goes to stderr.  Nothing is unpacked
# unless every file matches its pin (.ci/debsrc.pins: NAME VERSION FILE
# SHA256, one line per file); without VERSION the package must have exactly
# one pinned version.
#
# No system configuration changes: apt-get runs with a private sources list
# (deb-src entries derived from the system's own), a private lists
# directory and a private cache, all under the cache directory, so /etc/apt
# and /var/lib/apt are only read.  Works as root (CI) and as a user.
#
# Cache ($KX_SRC_CACHE, default build/src-cache under the repository root;
# the Makefile passes its own):
#   apt/                  kx.sources, lists/, cache/ — apt's private state
#   dl/NAME_VERSION/      the downloaded files, verified against the pins
#   src/NAME_VERSION/     the unpacked tree; .kx-pins records what it came from
# A second run with the same pins touches the network not at all.
#
# Environment: KX_SRC_CACHE (above); KX_APT_SOURCES, a deb-src sources file
# to use instead of the one derived from /etc/apt; KX_SRC_OFFLINE=1, never
# download (a cache that does not match the pins is an error).
#
# Exit status: 0 done, 1 a download or check failed, 2 usage.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
pins=$root/.ci/debsrc.pins

say() { printf 'debsrc: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
usage() { echo "usage: $0 [-p PINS] NAME [VERSION]" >&2; exit 2; }

while getopts p: opt; do
	case $opt in
	p) pins=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] && [ $# -le 2 ] || usage
name=$1
version=${2:-}
case $name in *[!a-z0-9.+-]* | "") usage ;; esac
case $version in *[!A-Za-z0-9.+~:-]*) usage ;; esac
[ -r "$pins" ] || die "cannot read the pins file $pins"

# The pinned lines of NAME (and VERSION): "version file sha256".
pinned=$(awk -v n="$name" -v v="$version" \
	'$1 == n && (v == "" || $2 == v) && NF == 4 { print $2, $3, $4 }' "$pins")
[ -n "$pinned" ] || die "$name${version:+ $version}: not pinned in $pins"
versions=$(printf '%s\n' "$pinned" | awk '{ print $1 }' | sort -u)
[ "$(printf '%s\n' "$versions" | wc -l)" -eq 1 ] ||
	die "$name: several versions pinned ($(echo $versions)); name one"
version=$versions
pinned=$(printf '%s\n' "$pinned" | awk '{ print $2, $3 }')
printf '%s\n' "$pinned" | awk '
	$1 !~ /^[A-Za-z0-9._+~-]+$/ || $1 ~ /^\./ { bad = 1 }
	length($2) != 64 || $2 ~ /[^0-9a-f]/ { bad = 1 }
	END { exit bad }' || die "$name $version: malformed pin line in $pins"
dsc=$(printf '%s\n' "$pinned" | awk '$1 ~ /\.dsc$/ { print $1 }')
[ "$(printf '%s\n' "$dsc" | grep -c .)" -eq 1 ] || die "$name $version: pin exactly one .dsc"

cache=${KX_SRC_CACHE:-$root/build/src-cache}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# Version strings may hold ':' (an epoch); directory names should not.
tag=${name}_$(printf '%s' "$version" | tr ':' '%')
dl=$cache/dl/$tag
src=$cache/src/$tag

# One fetch at a time per cache (make may run two build variants at once).
exec 9>"$cache/.lock"
flock 9

# Every pinned file is in $dl with its pinned SHA-256 (and nothing else is).
verified() {
	[ -d "$dl" ] || return 1
	printf '%s\n' "$pinned" | while read -r file sum; do
		[ -f "$dl/$file" ] || exit 1
		[ "$(sha256sum < "$dl/$file" | cut -d' ' -f1)" = "$sum" ] || exit 1
	done || return 1
	[ "$(ls -A "$dl" | wc -l)" -eq "$(printf '%s\n' "$pinned" | wc -l)" ]
}

apt_dir=$cache/apt
# apt reads a *.sources file as deb822 and a *.list file as one-line entries.
apt_sources() { ls "$apt_dir"/kx.sources "$apt_dir"/kx.list 2>/dev/null | head -1; }
apt_get() {
	apt-get -q -o Dir::Etc::sourcelist="$(apt_sources)" -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache" \
		-o APT::Get::Only-Source=true "$@"
}

apt_update() {
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
	rm -f "$apt_dir/kx.sources" "$apt_dir/kx.list"
	if [ -n "${KX_APT_SOURCES:-}" ]; then
		case $KX_APT_SOURCES in
		*.sources) cp "$KX_APT_SOURCES" "$apt_dir/kx.sources" ;;
		*) cp "$KX_APT_SOURCES" "$apt_dir/kx.list" ;;
		esac
	elif [ -r /etc/apt/sources.list.d/debian.sources ]; then
		sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
			> "$apt_dir/kx.sources"
	elif [ -r /etc/apt/sources.list ]; then
		sed -n 's/^deb \(.*\)$/deb-src \1/p' /etc/apt/sources.list > "$apt_dir/kx.list"
	else
		die "no apt sources found; set KX_APT_SOURCES to a deb-src sources file"
	fi
	say "updating the private source index ($apt_dir)"
	apt_get -qq update >&2 || die "apt-get update failed"
}

fetch() {
	tmp=$cache/dl/.tmp.$$
	rm -rf "$tmp" && mkdir -p "$tmp"
	# As root, apt downloads as its unprivileged _apt user when that user
	# may write the target directory: let it.
	if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
		chown _apt "$tmp"
	fi
	# A fresh clone has no index yet; a stale index may lack the version.
	if ! ls "$apt_dir"/lists/*_Sources* >/dev/null 2>&1; then
		apt_update
	fi
	if ! (cd "$tmp" && apt_get -qq source --download-only "$name=$version" >&2); then
		apt_update
		(cd "$tmp" && apt_get -qq source --download-only "$name=$version" >&2) ||
			{ rm -rf "$tmp"; die "$name $version: apt-get source failed"; }
	fi
	rm -rf "$dl" && mv "$tmp" "$dl"
}

# Say which files do not match their pins.
report() {
	printf '%s\n' "$pinned" | while read -r file sum; do
		got=$( [ -f "$dl/$file" ] && sha256sum < "$dl/$file" | cut -d' ' -f1 || echo missing)
		[ "$got" = "$sum" ] || say "$file: sha256 $got, pinned $sum"
	done
	for f in $( [ -d "$dl" ] && ls -A "$dl"); do
		printf '%s\n' "$pinned" | grep -q "^$f " || say "$f: in the cache but not pinned"
	done
}

if ! verified; then
	if [ -n "${KX_SRC_OFFLINE:-}" ]; then
		report
		die "$name $version: not in the cache as pinned, and KX_SRC_OFFLINE is set"
	fi
	say "fetching $name $version"
	fetch
	if ! verified; then
		report
		rm -rf "$dl"
		die "$name $version: the download does not match the pins; nothing unpacked"
	fi
fi

# Unpack once per set of pins; a changed pin unpacks afresh.
stamp=$(printf '%s %s\n%s\n' "$name" "$version" "$pinned")
if [ ! -f "$src/.kx-pins" ] || [ "$(cat "$src/.kx-pins")" != "$stamp" ]; then
	say "unpacking $name $version"
	work=$cache/src/.tmp.$$
	rm -rf "$src" "$work"
	mkdir -p "$work"
	# dpkg-source checks every file against the (pinned) .dsc again; it
	# leaves a link to the upstream tarball beside the tree, hence $work.
	# Its output (gpgv has no Debian keyring here) is shown on failure only.
	if ! dpkg-source -q -x "$dl/$dsc" "$work/tree" > "$work.log" 2>&1; then
		cat "$work.log" >&2
		rm -rf "$work" "$work.log"
		die "$name $version: dpkg-source -x failed"
	fi
	printf '%s\n' "$stamp" > "$work/tree/.kx-pins"
	mv "$work/tree" "$src"
	rm -rf "$work" "$work.log"
fi
printf '%s\n' "$src"
