#!/bin/sh
# /init of the test dom0 (tests/xen/run.sh fills in @SCRIPT@): mount what
# the toolstack needs, load the kernel's Xen drivers, start xenstored and
# xenconsoled, run the payload's script from /kx, report, power off.
export PATH=/kx/bin:/usr/lib/xen-4.17/bin:/usr/bin:/bin:/sbin
up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "KXDOM0 $* (dom0 uptime $(up)s)"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
# xenconsoled hands out ptys for guest consoles.
mkdir -p /dev/pts && mount -t devpts -o ptmxmode=0666 devpts /dev/pts
say "init"

fail() {
	echo "KXT not ok dom0: $*"
	echo "KXDOM0 done rc=1"
	poweroff -f
	sleep 60
}

for m in xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc; do
	insmod /modules/$m.ko || fail "insmod $m"
done
mount -t xenfs xenfs /proc/xen || fail "mount xenfs"
mkdir -p /run/xen /run/xenstored /var/lib/xen /var/log/xen/console
XENSTORED_ROOTDIR=/run/xenstored xenstored --pid-file /run/xenstored.pid || fail "xenstored"
i=0
while ! xenstore-read -s / >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 300 ] && fail "xenstored did not answer in 30s"
	sleep 0.1
done
xen-init-dom0 >/dev/null || fail "xen-init-dom0"
# --log=guest: every domU's console is kept in /var/log/xen/console/guest-NAME.log
xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console ||
	fail "xenconsoled"
say "toolstack up"

cd /kx || fail "no /kx"
sh "/kx/@SCRIPT@"
rc=$?
say "script returned $rc"
echo "KXDOM0 done rc=$rc"
poweroff -f
sleep 60
