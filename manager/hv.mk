# manager/hv.mk: hypervisor backends (manager/hv/, libkxhv.a) and kxmon,
# the per-pVM monitor.  The fuzz harness drives the hypercall decoder with
# arbitrary guest memory, no KVM needed.
LIBS += kxhv
kxhv_SRCS := manager/hv/hv.c manager/hv/guestmem.c manager/hv/hcall.c \
	manager/hv/layout.c manager/hv/image.c manager/hv/link.c manager/hv/kvm.c manager/hv/kvm_run.c manager/hv/kvm_link.c \
	manager/hv/kvm_fork.c
# IpC objects: the hypercalls and the KVM window they map into (docs/ipc.md)
kxhv_SRCS += manager/hv/ipc_hcall.c manager/hv/kvm_ipc.c
# recycling: a pooled pVM's placeholder waits for its app (docs/recycle.md)
kxhv_SRCS += manager/hv/kvm_recycle.c
# signals: entering a handler, KX_HC_SIGRETURN (docs/signals.md)
kxhv_SRCS += manager/hv/kvm_signal.c

PROGS += kxmon
kxmon_SRCS := manager/kxmon.c manager/kxmon_client.c
kxmon_SRCS += manager/kxmon_recycle.c
kxmon_SRCS += manager/kxmon_signal.c
kxmon_SRCS += manager/kxmon_ipc.c
kxmon_LIBS := kxhv kxelf

FUZZERS += fuzz_hcall
fuzz_hcall_SRCS := fuzz/fuzz_hcall.c
fuzz_hcall_LIBS := kxhv kxelf

# kxmon's check of every message from kxd (fuzz/fuzz_kxmon.c): the client
# code of kxmon without its main.  Deferred (=): update.mk adds to kxmon_SRCS.
FUZZERS += fuzz_kxmon
fuzz_kxmon_SRCS = fuzz/fuzz_kxmon.c $(filter-out manager/kxmon.c,$(kxmon_SRCS))
fuzz_kxmon_LIBS := kxhv kxelf

# The same check over the corpus, whose names say the verdicts.
UNIT_TESTS += test_kxmon_check
test_kxmon_check_SRCS = tests/unit/test_kxmon_check.c $(filter-out manager/kxmon.c,$(kxmon_SRCS))
test_kxmon_check_LIBS := kxhv kxelf
test_kxmon_check_LDLIBS := -lcmocka

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
bench_link_SRCS := tests/bench/bench_link.c tests/bench/bench_memfd.c
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
kvm_tlbcheck_SRCS := tests/guest/tlbcheck.c tests/guest/hvdrive.c
kvm_tlbcheck_LIBS := kxhv kxelf
ifeq ($(FUZZ),)
$(eval $(call kx_link,$(B)/tests/kvm_tlbcheck,kvm_tlbcheck,))
EXTRA_ALL += $(B)/tests/kvm_tlbcheck
endif

# The signal-entry check (tests/cli/kvm_signal.bats): a host driver running
# hello.kxe in-process; no handler is entered while the vCPU is at CPL0.
kvm_sigcheck_SRCS := tests/guest/sigcheck.c tests/guest/hvdrive.c
kvm_sigcheck_LIBS := kxhv kxelf
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
test_hcall_recycle_SRCS := tests/unit/test_hcall_recycle.c
test_hcall_recycle_LIBS := kxhv kxelf
test_hcall_recycle_LDLIBS := -lcmocka

# kxmon: a RECYCLE_* message outside the pool's wait breaks the channel.
UNIT_TESTS += test_kxmon_recycle
test_kxmon_recycle_SRCS = tests/unit/test_kxmon_recycle.c $(filter-out manager/kxmon.c,$(kxmon_SRCS))
test_kxmon_recycle_LIBS := kxhv kxelf kxdproto
test_kxmon_recycle_LDLIBS := -lcmocka
