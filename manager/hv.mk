# manager/hv.mk: hypervisor backends (manager/hv/, libkxhv.a) and kxmon,
# the per-pVM monitor.  The fuzz harness drives the hypercall decoder with
# arbitrary guest memory, no KVM needed.
LIBS += kxhv
kxhv_SRCS := manager/hv/hv.c manager/hv/guestmem.c manager/hv/hcall.c \
	manager/hv/layout.c manager/hv/image.c manager/hv/link.c manager/hv/kvm.c manager/hv/kvm_link.c \
	manager/hv/kvm_fork.c

PROGS += kxmon
kxmon_SRCS := manager/kxmon.c manager/kxmon_client.c
kxmon_LIBS := kxhv kxelf

FUZZERS += fuzz_hcall
fuzz_hcall_SRCS := fuzz/fuzz_hcall.c
fuzz_hcall_LIBS := kxhv kxelf

# make bench: boot to main, pVM beside a Linux process.  The Linux side runs
# a tiny static program built from the same source (KX_BENCH_EXIT).
BENCHES += bench_boot
bench_boot_SRCS := tests/bench/bench_boot.c
bench_boot_LIBS := kxhv kxelf

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
bench_link_SRCS := tests/bench/bench_link.c
bench_link_LIBS := kxhv kxelf

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
kvm_tlbcheck_SRCS := tests/guest/tlbcheck.c
kvm_tlbcheck_LIBS := kxhv kxelf
ifeq ($(FUZZ),)
$(eval $(call kx_link,$(B)/tests/kvm_tlbcheck,kvm_tlbcheck,))
EXTRA_ALL += $(B)/tests/kvm_tlbcheck
endif
