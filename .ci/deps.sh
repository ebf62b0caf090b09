#!/bin/sh
# Check for the Debian packages kx needs; install the missing ones when run
# as root (apt-get update first), otherwise print the exact command to run.
# Both README commands (make demo, make test) call this first.
set -eu

PACKAGES="make gcc clang llvm libclang-rt-14-dev pkg-config binutils \
libsodium-dev libyaml-dev libdw-dev flex bison libcmocka-dev bats afl++ libxen-dev \
python3 python3-cryptography graphviz dpkg-dev xz-utils qemu-system-x86 cpio"
# posix-fs: tclsh makes SQLite's amalgamation (tests/sqlite/)
PACKAGES="$PACKAGES tcl"

# redis: redis-cli and redis-benchmark on the host side (tests/cli/redis.bats)
PACKAGES="$PACKAGES redis-tools"

# web: curl fetches from lighttpd in a pVM (tests/cli/web.bats); wrk is make
# bench's HTTP load generator (tests/bench/bench_web.sh)
PACKAGES="$PACKAGES curl wrk"

# jail (manager/jail): the monitor's seccomp allowlists.
PACKAGES="$PACKAGES libseccomp-dev"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "kx: missing Debian packages:$missing" >&2
	echo "kx: run as root:  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi

echo "kx: installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
