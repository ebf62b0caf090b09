# guest/net/: the guest's side of the packet device (netdev.c; docs/network.md)
# and netraw, the raw-Ethernet test pVM of tests/cli/kvm_net.bats.
netraw_GUEST_SRCS := tests/guest/netraw.c guest/net/netdev.c
$(eval $(call guest_app,netraw))
EXTRA_ALL += $(B)/guest/netraw.kxe
