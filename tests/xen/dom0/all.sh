# all.sh — every test script of make test-xen, in one dom0 boot.
sh /kx/dom0/guest.sh
sh /kx/dom0/ring.sh
sh /kx/dom0/kxmon.sh
sh /kx/dom0/kxd.sh
sh /kx/dom0/fork.sh
sh /kx/dom0/pipe.sh
sh /kx/dom0/signal.sh
sh /kx/dom0/posix.sh
