# manager/hv/module.mk: the monitor's core and its backends (libkxhv.a).  The
# fuzz harness drives the hypercall decoder with arbitrary guest memory, no
# KVM needed.
LIBS += kxhv
# The core: the pVM's layout and run loop, the hypercall decoder, and one
# module per feature (internal.h).
kxhv_SRCS := manager/hv/core.c manager/hv/hcall.c manager/hv/guestmem.c manager/hv/end.c \
	manager/hv/image.c manager/hv/base.c manager/hv/link.c manager/hv/link_mod.c \
	manager/hv/proc.c \
	manager/hv/ipc.c manager/hv/signal.c manager/hv/recycle.c manager/hv/update.c \
	manager/hv/update_vars.c manager/hv/update_mod.c
kxhv_SRCS += manager/hv/posix.c # posix-mon
kxhv_SRCS += manager/hv/fs.c # posix-fs
# The packet device (docs/network.md).
kxhv_SRCS += manager/hv/net.c manager/hv/net_ring.c manager/hv/net_filter.c
# The backends: primitives only (backend.h).
kxhv_SRCS += manager/hv/kvm/kvm.c manager/hv/kvm/run.c manager/hv/kvm/mem.c \
	manager/hv/kvm/fork.c manager/hv/kvm/paging.c
kxhv_SRCS += manager/hv/skeleton/skeleton.c
# Xen: serve.c (the kx ring as hypercall exits) needs no Xen library; xen.c
# builds and runs PV domains through libxen-dev's libraries, which every
# program linking libkxhv.a then links (kxhv_LIB_LDLIBS).
kxhv_SRCS += manager/hv/xen/xen.c manager/hv/xen/pages.c manager/hv/xen/reaper.c \
	manager/hv/xen/serve.c manager/hv/xen/fork.c manager/hv/xen/share.c manager/hv/xen/cmdline.c \
	guest/xen/ring.c
kxhv_LIB_LDLIBS := -lxenctrl -lxencall -lxenforeignmemory -lxenevtchn -lxentoollog

# The Xen backend's serving end with the core behind it, a hostile ring page
# (seeds: fuzz/gen/xenserve.py).
FUZZERS += fuzz_xenserve
fuzz_xenserve_SRCS := fuzz/fuzz_xenserve.c tests/hv/hv_fake.c
fuzz_xenserve_LIBS := kxhv kxchan kxelf

FUZZERS += fuzz_hcall
fuzz_hcall_SRCS := fuzz/fuzz_hcall.c tests/hv/hv_fake.c
fuzz_hcall_LIBS := kxhv kxchan kxelf
# The pVM it runs with a manager: a dynamic image and its library.
$(B)/fuzz/fuzz_hcall: | $(B)/guest/linkt.kxe $(B)/guest/libkvmath.so


# make bench: boot to main, pVM beside a Linux process.  The Linux side runs
# a tiny static program built from the same source (KX_BENCH_EXIT).
BENCHES += bench_boot
bench_boot_SRCS := tests/bench/bench_boot.c
bench_boot_LIBS := kxhv kxchan kxelf

ifeq ($(FUZZ),)
$(B)/bench/linux_exit: tests/bench/bench_boot.c
	$(call say,LD,$@)mkdir -p $(@D) && $(CC) -DKX_BENCH_EXIT -O2 -static -nostdlib -fno-pie \
		-no-pie -o $@ $<
EXTRA_ALL += $(B)/bench/linux_exit
endif

# make bench: linking.  bench_link times a library link in the monitor
# (map + relocate + rights + shared text) beside dlopen() of the same file,
# and the first call through lazy binding beside ld.so's, with a Linux
# build of the same benchmark library and program (tests/guest/kvbench.c).
BENCHES += bench_link
bench_link_SRCS := tests/bench/bench_link.c tests/hv/hv_fake.c
bench_link_LIBS := kxhv kxchan kxelf

ifeq ($(FUZZ),)
$(B)/bench/libkvbench.so: tests/guest/kvbench.c tests/guest/kvbench.h
	$(call say,LD,$@)mkdir -p $(@D) && $(CC) -O2 -fPIC -shared -I. -Wl,-z,lazy -o $@ $<
$(B)/bench/lazyb_linux: tests/guest/lazyb.c $(B)/bench/libkvbench.so
	$(call say,LD,$@)$(CC) -O2 -DKVBENCH_HOST -I. -Wl,-z,lazy -o $@ $< \
		-L$(B)/bench -lkvbench -Wl,-rpath,'$$ORIGIN'
EXTRA_ALL += $(B)/bench/lazyb_linux
endif

# The TLB-flush check (tests/cli/kvm_link.bats): a host driver running
# tests/guest/tlb.c in-process.
kvm_tlbcheck_SRCS := tests/guest/tlbcheck.c tests/guest/hvdrive.c
kvm_tlbcheck_LIBS := kxhv kxchan kxelf
ifeq ($(FUZZ),)
$(eval $(call kx_link,$(B)/tests/kvm_tlbcheck,kvm_tlbcheck,))
EXTRA_ALL += $(B)/tests/kvm_tlbcheck
endif

# The signal-entry check (tests/cli/kvm_signal.bats): a host driver running
# hello.kxe in-process; no handler is entered while the vCPU is at CPL0.
kvm_sigcheck_SRCS := tests/guest/sigcheck.c tests/guest/hvdrive.c
kvm_sigcheck_LIBS := kxhv kxchan kxelf
ifeq ($(FUZZ),)
$(eval $(call kx_link,$(B)/tests/kvm_sigcheck,kvm_sigcheck,))
EXTRA_ALL += $(B)/tests/kvm_sigcheck
endif

# make bench: IpC round trips between two pVMs (pipe, msgq, shm) beside two
# Linux processes, same core and across cores, and the first communication
# of a non-lineal pair (tests/bench/bench_ipc.c, tests/guest/ipct.c).
BENCHES += bench_ipc
bench_ipc_SRCS := tests/bench/bench_ipc.c

# make bench: a recycled start (kxctl run --recycle) beside a cold boot of
# the same app, both through a kxd started by the bench (docs/recycle.md).
BENCHES += bench_recycle
bench_recycle_SRCS := tests/bench/bench_recycle.c
bench_recycle_LIBS := kxdproto

# KX_HC_RECYCLE_WAIT in the decoder: argv layout and every refusal.
UNIT_TESTS += test_hcall_recycle
test_hcall_recycle_SRCS := tests/unit/test_hcall_recycle.c tests/hv/hv_fake.c
test_hcall_recycle_LIBS := kxhv kxchan kxelf
test_hcall_recycle_LDLIBS := -lcmocka


# Online update: the unit tests, the bench, and libupd, the generated test
# library (tests/guest/gen_updlib.py): 111 functions + 111 variables, versions
# 1.16 and 1.18, a variant with one variable's size changed and one without a
# function the app calls; the test app updt links it (tests/cli/kvm_update.bats).
UNIT_TESTS += test_update
test_update_SRCS := tests/unit/test_update.c
test_update_LIBS := kxhv kxchan kxelf
test_update_LDLIBS := -lcmocka

# make bench: an update of libupd (111 + 111) in the monitor, by phase,
# beside dlopen + dlsym of every symbol + variable copy + GOT rewrite on
# the host, with a Linux build of the same library.
BENCHES += bench_update
bench_update_SRCS := tests/bench/bench_update.c tests/hv/hv_fake.c
bench_update_LIBS := kxhv kxchan kxelf
bench_update_LDLIBS := -ldl

UPD_GEN := tests/guest/gen_updlib.py
UPD_DIR := $(B)/guest/upd
# variant: version and --variant
UPD_VARIANTS := 116 118 size removed layout
upd_args_116 := --version 116
upd_args_118 := --version 118
upd_args_size := --version 118 --variant size
upd_args_removed := --version 118 --variant removed
upd_args_layout := --version 118 --variant layout

ifeq ($(FUZZ),)
$(UPD_DIR)/updlib.h: $(UPD_GEN)
	$(call say,GEN,$@)mkdir -p $(@D) && python3 $(UPD_GEN) --header -o $@

$(UPD_DIR)/upd-%.c: $(UPD_GEN)
	$(call say,GEN,$@)mkdir -p $(@D) && python3 $(UPD_GEN) $(upd_args_$*) -o $@

$(UPD_DIR)/upd-%.o: $(UPD_DIR)/upd-%.c
	$(call say,GUEST-CC,$<)$(GUEST_CC) $(GUEST_PIC_CFLAGS) -c -o $@ $<

# Keep the generated sources and objects (they are not intermediates to delete).
.SECONDARY: $(foreach v,$(UPD_VARIANTS),$(UPD_DIR)/upd-$(v).c $(UPD_DIR)/upd-$(v).o)

# Every variant has the soname libupd.so: it replaces the same library.
$(UPD_DIR)/libupd-%.so: $(UPD_DIR)/upd-%.o guest/dyn.ld
	$(call say,GUEST-LD,$@)$(GUEST_CC) -shared $(GUEST_DYN_LDFLAGS) -Wl,-soname,libupd.so \
		-Wl,-T,guest/dyn.ld -o $@ $<

# What the in-process stand-ins for kxd serve as updt's libupd.so: 1.16,
# signed, so that its pointer map is there for the first update.
$(B)/guest/libupd.so: $(UPD_DIR)/libupd-116.kx.so
	$(call say,CP,$@)cp $< $@

# Signed variants (libupd-V.kx.so): the pointer map an update rebases by is
# signed into the library (kxsign reads the DWARF), so the unit test and the
# bench sign every variant with a throwaway key made here.
$(UPD_DIR)/build.sec: $(B)/bin/kxsign
	$(call say,KEYGEN,$@)$(B)/bin/kxsign keygen -f --no-passphrase -p $(UPD_DIR)/build.pub \
		-s $@ >/dev/null
$(UPD_DIR)/libupd-%.kx.so: $(UPD_DIR)/libupd-%.so $(UPD_DIR)/build.sec $(B)/bin/kxsign
	$(call say,SIGN,$@)$(B)/bin/kxsign sign -s $(UPD_DIR)/build.sec --name libupd \
		--version $* -o $@ $< >/dev/null

updt_GUEST_SRCS := tests/guest/updt.c
updt_GUEST_SOLIBS := upd
$(GUEST_OBJ)/tests/guest/updt.o: GUEST_CFLAGS += -I$(UPD_DIR)
$(GUEST_OBJ)/tests/guest/updt.o: $(UPD_DIR)/updlib.h
$(eval $(call guest_dyn_app,updt))

# The same library for Linux (the bench's host floor).  kx_clock_monotonic_ns
# is the guest runtime's: an alias here (the bench never calls upd_busy), so
# that RTLD_NOW binds everything as the pVM's default mode does.
$(B)/bench/libupd-host.so: $(UPD_DIR)/upd-118.c
	$(call say,LD,$@)mkdir -p $(@D) && $(CC) -O2 -fPIC -shared -o $@ $< \
		-Wl,--defsym=kx_clock_monotonic_ns=upd_calls

EXTRA_ALL += $(foreach v,$(UPD_VARIANTS),$(UPD_DIR)/libupd-$(v).so $(UPD_DIR)/libupd-$(v).kx.so) \
	$(B)/guest/libupd.so \
	$(B)/guest/updt.kxe $(B)/bench/libupd-host.so
endif

# The Xen backend's transport (serve.c) with the real core, no Xen: a test
# backend with the kx ring in plain memory and a scripted guest.
UNIT_TESTS += test_xen_serve
test_xen_serve_SRCS := tests/unit/test_xen_serve.c
test_xen_serve_LIBS := kxhv kxchan kxelf
test_xen_serve_LDLIBS := -lcmocka
# Signals through a backend that cannot redirect the vCPU (signal_mark, as
# Xen's): the core on the fake backend, a scripted kxd.
UNIT_TESTS += test_xen_cmdline
test_xen_cmdline_SRCS := tests/unit/test_xen_cmdline.c
test_xen_cmdline_LIBS := kxhv kxchan kxelf
test_xen_cmdline_LDLIBS := -lcmocka

UNIT_TESTS += test_xen_signal
test_xen_signal_SRCS := tests/unit/test_xen_signal.c tests/hv/hv_fake.c
test_xen_signal_LIBS := kxhv kxchan kxelf
test_xen_signal_LDLIBS := -lcmocka

# The core over the skeleton backend: found by name, "not implemented" cleanly.
UNIT_TESTS += test_hv_skeleton
test_hv_skeleton_SRCS := tests/unit/test_hv_skeleton.c
test_hv_skeleton_LIBS := kxhv kxchan kxelf
test_hv_skeleton_LDLIBS := -lcmocka

# The one host-to-guest errno map, alone and through every call that passes
# the manager's answer on (the core over the fake backend).
UNIT_TESTS += test_guest_errno
test_guest_errno_SRCS := tests/unit/test_guest_errno.c tests/hv/hv_fake.c
test_guest_errno_LIBS := kxhv kxchan kxelf
test_guest_errno_LDLIBS := -lcmocka

# posix-mon: the POSIX services (posix.c) in the decoder: the clock page,
# halt, preemption at a tick, entropy, unimplemented-call reports.
UNIT_TESTS += test_hcall_posix
test_hcall_posix_SRCS := tests/unit/test_hcall_posix.c tests/hv/hv_fake.c
test_hcall_posix_LIBS := kxhv kxchan kxelf
test_hcall_posix_LDLIBS := -lcmocka
# posix-fs: host directories (fs.c) — escapes, read-only mounts, the size
# cap and malformed blocks, over the fake backend and a scripted kxd.
UNIT_TESTS += test_hv_fs
test_hv_fs_SRCS := tests/unit/test_hv_fs.c tests/hv/hv_fake.c
test_hv_fs_LIBS := kxhv kxchan kxelf kxjail
test_hv_fs_LDLIBS := -lseccomp -lcmocka
# The packet device (docs/network.md): the per-frame policy, the rings,
# and the module through the core with a socketpair for a TAP.
UNIT_TESTS += test_net_filter test_net_ring test_hcall_net
test_net_filter_SRCS := tests/unit/test_net_filter.c
test_net_filter_LIBS := kxhv kxchan kxelf
test_net_filter_LDLIBS := -lcmocka
test_net_ring_SRCS := tests/unit/test_net_ring.c
test_net_ring_LIBS := kxhv kxchan kxelf
test_net_ring_LDLIBS := -lcmocka
test_hcall_net_SRCS := tests/unit/test_hcall_net.c tests/hv/hv_fake.c
test_hcall_net_LIBS := kxhv kxchan kxelf
test_hcall_net_LDLIBS := -lcmocka -lpthread

# The packet device's rings and per-frame policy against hostile bytes
# (seeds: fuzz/gen/net.py).
FUZZERS += fuzz_net
fuzz_net_SRCS := fuzz/fuzz_net.c
fuzz_net_LIBS := kxhv kxchan kxelf
