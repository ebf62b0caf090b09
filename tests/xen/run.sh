#!/bin/sh
# The Xen runner: boot Xen 4.17 + a Debian dom0 under QEMU (TCG) with a
# payload directory, run one script of it inside dom0, and give back the
# serial log and a verdict.  Reusable: make test-xen is one payload, a later
# kx host backend test is another.
#
# usage: run.sh [-c CACHE] [-w WORK] [-t SECONDS] [-n NAME] PAYLOAD_DIR SCRIPT
#
#   PAYLOAD_DIR  copied to /kx in dom0 (images, binaries, test scripts);
#                dom0's PATH has /kx/bin first, and the libraries the ELF
#                executables in /kx/bin need are copied along (ldd)
#   SCRIPT       path inside PAYLOAD_DIR, run by busybox sh in /kx once
#                the toolstack is up (xenstored, xenconsoled; `xl` works)
#   -c CACHE     downloaded packages ($KX_XEN_CACHE, else WORK/cache)
#   -w WORK      initramfs, logs (default: ./build/xen)
#   -t SECONDS   wall-clock limit for the whole boot ($KX_XEN_TIMEOUT, else 600)
#   -n NAME      a label for the verdict line (default: the script's name)
#
# Protocol on the serial console: the script prints `KXT ok NAME` or
# `KXT not ok NAME: why` per test; dom0's /init prints `KXDOM0 done rc=N`
# once the script returned.  The verdict line is
#     xen (NAME): N passed, N failed
# and the exit status 0 only when every test passed, none failed, and dom0
# finished in time (a missing `KXDOM0 done` counts as one failure, named).
# The serial log is WORK/NAME.serial.log.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
work=./build/xen
cache=${KX_XEN_CACHE:-}
limit=${KX_XEN_TIMEOUT:-600}
name=
while getopts c:w:t:n: opt; do
	case $opt in
	c) cache=$OPTARG ;;
	w) work=$OPTARG ;;
	t) limit=$OPTARG ;;
	n) name=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || { echo "usage: run.sh [-c CACHE] [-w WORK] [-t SECS] [-n NAME] PAYLOAD_DIR SCRIPT" >&2; exit 2; }
payload=$(cd "$1" && pwd)
script=$2
[ -f "$payload/$script" ] || { echo "run.sh: no $script in $payload" >&2; exit 2; }
name=${name:-$(basename "$script" .sh)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
cache=${cache:-$work/cache}
# Absolute: ldd prints library paths as found, and only absolute ones are copied.
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# QEMU's shape (PLATFORM.md): TCG, an SVM-capable qemu64 with RDRAND (dom0's
# RNG is ready at once, so `xl create` never stalls on it); dom0 small.
QEMU_MEM=${KX_XEN_QEMU_MEM:-1024}
QEMU_SMP=${KX_XEN_QEMU_SMP:-2}
DOM0_MEM=${KX_XEN_DOM0_MEM:-384M}

command -v qemu-system-x86_64 >/dev/null ||
	{ echo "run.sh: qemu-system-x86_64 is missing (apt-get install qemu-system-x86)" >&2; exit 2; }
command -v cpio >/dev/null || { echo "run.sh: cpio is missing" >&2; exit 2; }

sh "$here/fetch.sh" "$cache"
root=$cache/root
xenbin=/usr/lib/xen-4.17/bin

# ---- dom0 initramfs ---------------------------------------------------------
ir=$work/$name.dom0
rm -rf "$ir"
mkdir -p "$ir"/bin "$ir"/sbin "$ir"/proc "$ir"/sys "$ir"/dev "$ir"/tmp "$ir"/run \
	"$ir"/etc/xen "$ir"/var/lib/xen "$ir"/var/log/xen/console "$ir"/lib/x86_64-linux-gnu \
	"$ir"/lib64 "$ir"/usr/lib "$ir"/modules "$ir"/kx
ln -s ../lib/x86_64-linux-gnu "$ir/usr/lib/x86_64-linux-gnu"
ln -s ../run "$ir/var/run"
cp "$root/bin/busybox" "$ir/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$ir/bin/$applet"
done

# An ELF file and the shared libraries it needs, the unpacked packages'
# copies first, the host's (same Debian release) for the rest.
libpath=$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu:$root/usr/lib/xen-4.17/lib/x86_64-linux-gnu
add_elf() { # SRC DEST_IN_INITRD
	mkdir -p "$ir$(dirname "$2")"
	cp -L "$1" "$ir$2"
	if LD_LIBRARY_PATH=$libpath ldd "$1" 2>/dev/null | grep -q 'not found'; then
		echo "run.sh: $1 needs a library that is not there:" >&2
		LD_LIBRARY_PATH=$libpath ldd "$1" | grep 'not found' >&2
		exit 2
	fi
	LD_LIBRARY_PATH=$libpath ldd "$1" 2>/dev/null |
		sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/lib64\/[^ ]*\) .*/\1/p' |
		while read -r lib; do
			case $lib in
			/lib64/*) cp -L "$lib" "$ir/lib64/" ;;
			*) [ -e "$ir/lib/x86_64-linux-gnu/$(basename "$lib")" ] ||
				cp -L "$lib" "$ir/lib/x86_64-linux-gnu/" ;;
			esac
		done
}
for b in xl xenstored xenconsoled xen-init-dom0 xenctx readnotes; do
	add_elf "$root$xenbin/$b" "$xenbin/$b"
done
for b in xenstore-read xenstore-write xenstore-ls; do
	add_elf "$root/usr/bin/$b" "/usr/bin/$b"
done
# xl's pthread_cancel dlopen()s libgcc_s, which no ldd lists (PLATFORM.md).
cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$ir/lib/x86_64-linux-gnu/"
: > "$ir/etc/xen/xl.conf"

# The kernel's Xen drivers are modules in Debian's build.
kver=$(ls "$root/lib/modules" | sort -V | tail -1)
for m in drivers/xen/xen-privcmd.ko drivers/xen/xenfs/xenfs.ko drivers/xen/xen-evtchn.ko \
	drivers/xen/xen-gntdev.ko drivers/xen/xen-gntalloc.ko; do
	cp "$root/lib/modules/$kver/kernel/$m" "$ir/modules/"
done

cp -R "$payload/." "$ir/kx/"
if [ -d "$payload/bin" ]; then
	for f in "$payload"/bin/*; do
		[ -f "$f" ] && [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] &&
			add_elf "$f" "/kx/bin/$(basename "$f")"
	done
fi

sed "s|@SCRIPT@|$script|" "$here/dom0-init.sh" > "$ir/init"
chmod 755 "$ir/init"
# Uncompressed: gunzip inside TCG would cost seconds.
(cd "$ir" && find . | cpio -o -H newc --quiet) > "$work/$name.initrd"

# ---- boot ---------------------------------------------------------------------
log=$work/$name.serial.log
rm -f "$log"
start=$(date +%s)
set +e
timeout --foreground -k 10 "$limit" qemu-system-x86_64 \
	-accel tcg,thread=multi -cpu qemu64,+svm,+rdrand -m "$QEMU_MEM" -smp "$QEMU_SMP" \
	-display none -no-reboot -monitor none -serial "file:$log" \
	-kernel "$cache/xen" \
	-append "console=com1 com1=115200 scrub-domheap dom0_mem=$DOM0_MEM,max:$DOM0_MEM dom0_max_vcpus=$QEMU_SMP console_timestamps=boot guest_loglvl=all noreboot" \
	-initrd "$cache/vmlinux console=hvc0 earlyprintk=xen rdinit=/init quiet loglevel=3 cryptomgr.notests,$work/$name.initrd" \
	< /dev/null > "$work/$name.qemu.log" 2>&1
qrc=$?
set -e
secs=$(( $(date +%s) - start ))

# ---- verdict --------------------------------------------------------------------
tr -d '\r' < "$log" > "$log.tmp" && mv "$log.tmp" "$log"
passed=$(grep -a -c '^KXT ok ' "$log" || true)
failed=$(grep -a -c '^KXT not ok ' "$log" || true)
grep -a -E '^KXT |^KXDOM0 ' "$log" || true
if ! grep -a -q '^KXDOM0 done' "$log"; then
	if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		echo "KXT not ok dom0: did not finish within ${limit}s (serial log: $log)"
	else
		echo "KXT not ok dom0: QEMU ended (status $qrc) before dom0 finished (serial log: $log)"
		tail -20 "$work/$name.qemu.log" >&2 || true
	fi
	failed=$((failed + 1))
fi
echo "xen ($name, ${secs}s): $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
