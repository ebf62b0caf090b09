# boot2.sh — the second boot of make test-xen: the jailed Xen monitor
# (jail.sh), then checks kept out of the first boot for its time (more.sh).
sh /kx/dom0/jail.sh
sh /kx/dom0/more.sh
