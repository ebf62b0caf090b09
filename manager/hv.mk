# manager/hv.mk: hypervisor backends (manager/hv/, libkxhv.a) and kxmon,
# the per-pVM monitor.  The fuzz harness drives the hypercall decoder with
# arbitrary guest memory, no KVM needed.
LIBS += kxhv
kxhv_SRCS := manager/hv/hv.c manager/hv/guestmem.c manager/hv/hcall.c \
	manager/hv/layout.c manager/hv/image.c manager/hv/kvm.c

PROGS += kxmon
kxmon_SRCS := manager/kxmon.c
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
