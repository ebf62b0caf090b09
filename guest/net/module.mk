# guest/net/: the guest's side of the packet device (netdev.c; docs/network.md)
# and netraw, the raw-Ethernet test pVM of tests/cli/kvm_net.bats.
netraw_GUEST_SRCS := tests/guest/netraw.c guest/net/netdev.c
$(eval $(call guest_app,netraw))
EXTRA_ALL += $(B)/guest/netraw.kxe

# lwIP (docs/network.md): Debian's `lwip` source package, fetched and checked
# against .ci/debsrc.pins by .ci/debsrc.sh (never stored here), compiled as
# part of the syscall layer (libkxposix.a: the POSIX layer's flags, musl's
# headers) with guest/net/lwipopts.h (NO_SYS, IPv4, ARP, TCP, UDP, loopback),
# under the BSD sockets of guest/posix/socket.c; kxnet.c and netdev.c too.
#   $(B)/guest/net/lwip/include/   lwIP's headers (kx-cc apps may use its raw API)
# tcpserve: the lwIP raw-API test pVM of tests/cli/net.bats.
LWIP_DIR := $(B)/guest/net/lwip
LWIP_STAMP := $(LWIP_DIR)/.stamp
LWIP_SRCS := core/def.c core/inet_chksum.c core/init.c core/ip.c core/mem.c core/memp.c \
	core/netif.c core/pbuf.c core/stats.c core/sys.c core/tcp.c core/tcp_in.c \
	core/tcp_out.c core/timeouts.c core/udp.c core/ipv4/etharp.c core/ipv4/icmp.c \
	core/ipv4/ip4.c core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c netif/ethernet.c
LWIP_INC := -Iguest/net -I$(LWIP_DIR)/include
LWIP_INPUTS := .ci/debsrc.pins .ci/debsrc.sh guest/net/module.mk guest/net/lwipopts.h \
	guest/net/arch/cc.h
LWIP_OBJS := $(patsubst %.c,$(POSIX_OBJ)/lwip/%.o,$(LWIP_SRCS))
NET_POSIX_SRCS := guest/posix/socket.c guest/posix/sockcall.c guest/net/kxnet.c guest/net/netdev.c

$(LWIP_STAMP): $(LWIP_INPUTS)
	$(call say,LWIP,$(LWIP_DIR))set -e; \
	src=$$(KX_SRC_CACHE='$(KX_SRC_CACHE)' sh .ci/debsrc.sh lwip); \
	rm -rf '$(LWIP_DIR)'; mkdir -p '$(LWIP_DIR)'; \
	cp -R "$$src/src" '$(LWIP_DIR)/src'; cp -R "$$src/src/include" '$(LWIP_DIR)/include'; \
	touch $@

# lwIP's own code: the layer's flags without the warnings-as-errors.
$(POSIX_OBJ)/lwip/%.o: $(LWIP_STAMP) | $(LIBC_A)
	$(call say,POSIX-CC,lwip/$*.c)mkdir -p $(@D) && $(GUEST_CC) \
		$(filter-out $(WARN) -MMD -MP,$(POSIX_CFLAGS)) -w $(LWIP_INC) -c -o $@ $(LWIP_DIR)/src/$*.c

$(call posix_obj_of,$(NET_POSIX_SRCS)): POSIX_CFLAGS += $(LWIP_INC)
$(call posix_obj_of,$(NET_POSIX_SRCS)): | $(LWIP_STAMP)
$(POSIX_LIB): $(LWIP_OBJS) $(call posix_obj_of,$(NET_POSIX_SRCS))
-include $(patsubst %.o,%.d,$(call posix_obj_of,$(NET_POSIX_SRCS)))

$(B)/guest/tcpserve.kxe: tests/guest/tcpserve.c guest/net/kxnet.h guest/net/netdev.h $(SDK_STAMP)
	$(call say,KX-CC,$@)$(SDK_CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -I. $(LWIP_INC) \
		-o $@ tests/guest/tcpserve.c

ifeq ($(FUZZ),)
EXTRA_ALL += $(B)/guest/tcpserve.kxe
endif

# sockserve: an ordinary POSIX server over the BSD sockets, built as any app is.
$(B)/guest/sockserve.kxe: tests/guest/sockserve.c $(SDK_STAMP)
	$(call say,KX-CC,$@)$(SDK_CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
		-pthread -o $@ tests/guest/sockserve.c

ifeq ($(FUZZ),)
EXTRA_ALL += $(B)/guest/sockserve.kxe
endif

# make bench: a TCP round trip to sockserve in a pVM behind its TAP beside
# the same program as a Linux process behind a veth (tests/bench/bench_net.c).
BENCHES += bench_net
bench_net_SRCS := tests/bench/bench_net.c
ifeq ($(FUZZ),)
$(B)/bench/sockserve_linux: tests/guest/sockserve.c
	$(call say,LD,$@)mkdir -p $(@D) && $(CC) -std=gnu11 -O2 -D_GNU_SOURCE -pthread -o $@ $<
EXTRA_ALL += $(B)/bench/sockserve_linux
endif
