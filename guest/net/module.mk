# guest/net/: the guest's side of the packet device (netdev.c; docs/network.md)
# and netraw, the raw-Ethernet test pVM of tests/cli/kvm_net.bats.
netraw_GUEST_SRCS := tests/guest/netraw.c guest/net/netdev.c
$(eval $(call guest_app,netraw))
EXTRA_ALL += $(B)/guest/netraw.kxe

# lwIP (docs/network.md): Debian's `lwip` source package, fetched and checked
# against .ci/debsrc.pins by .ci/debsrc.sh (never stored here), built with the
# SDK's kx-cc against musl with guest/net/lwipopts.h (NO_SYS, IPv4, TCP, UDP):
#   $(B)/guest/net/lwip/liblwip.a     the stack
#   $(B)/guest/net/lwip/include/      its headers
# tcpserve: the lwIP test pVM of tests/cli/net.bats (TCP echo, HTTP-ish, loopback).
LWIP_DIR := $(B)/guest/net/lwip
LWIP_A := $(LWIP_DIR)/liblwip.a
LWIP_SRCS := core/def.c core/inet_chksum.c core/init.c core/ip.c core/mem.c core/memp.c \
	core/netif.c core/pbuf.c core/stats.c core/sys.c core/tcp.c core/tcp_in.c \
	core/tcp_out.c core/timeouts.c core/udp.c core/ipv4/etharp.c core/ipv4/icmp.c \
	core/ipv4/ip4.c core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c netif/ethernet.c
LWIP_CFLAGS := -std=gnu11 -O2 -g -I. -Iguest/net -I$(LWIP_DIR)/include
LWIP_INPUTS := .ci/debsrc.pins .ci/debsrc.sh guest/net/module.mk guest/net/lwipopts.h \
	guest/net/arch/cc.h

$(LWIP_A): MAKEOVERRIDES :=
$(LWIP_A): $(LWIP_INPUTS) $(SDK_STAMP)
	$(call say,LWIP,$(LWIP_DIR))set -e; \
	src=$$(KX_SRC_CACHE='$(KX_SRC_CACHE)' sh .ci/debsrc.sh lwip); \
	rm -rf '$(LWIP_DIR)'; mkdir -p '$(LWIP_DIR)/obj'; \
	cp -R "$$src/src/include" '$(LWIP_DIR)/include'; \
	for f in $(LWIP_SRCS); do \
		$(SDK_CC) $(LWIP_CFLAGS) -c -o '$(LWIP_DIR)/obj/'"$$(echo $$f | tr / _ | sed 's/\.c$$/.o/')" \
			"$$src/src/$$f" || exit 1; \
	done; \
	ar rcs $@ '$(LWIP_DIR)'/obj/*.o

$(B)/guest/tcpserve.kxe: tests/guest/tcpserve.c guest/net/kxnet.c guest/net/kxnet.h \
		guest/net/netdev.c guest/net/netdev.h $(LWIP_A) $(SDK_STAMP)
	$(call say,KX-CC,$@)$(SDK_CC) $(LWIP_CFLAGS) -Wall -Wextra -Werror -o $@ \
		tests/guest/tcpserve.c guest/net/kxnet.c guest/net/netdev.c $(LWIP_A)

ifeq ($(FUZZ),)
EXTRA_ALL += $(LWIP_A) $(B)/guest/tcpserve.kxe
endif
