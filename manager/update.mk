# manager/update.mk: online library update (docs/update.md).
#   manager/hv/update*.c, kvm_update.c   the monitor side: quiescence, the
#                                        new library prepared, one commit
#   manager/kxmon_update.c               UPDATE_PUSH / UPDATE_DONE in kxmon
#   manager/kxd/update.c                 kxd: gate_update, the push, the answer
#   manager/kxctl_update.c               kxctl update
# and libupd, the generated test library (tests/guest/gen_updlib.py): 111
# functions + 111 variables, versions 1.16 and 1.18, a variant with one
# variable's size changed and one without a function the app calls; the
# test app updt links it.  The tests sign them (tests/cli/kvm_update.bats).
kxhv_SRCS += manager/hv/update.c manager/hv/update_vars.c manager/hv/kvm_update.c
kxmon_SRCS += manager/kxmon_update.c
kxd_SRCS += manager/kxd/update.c
kxctl_SRCS += manager/kxctl_update.c

UNIT_TESTS += test_update
test_update_SRCS := tests/unit/test_update.c
test_update_LIBS := kxhv kxelf
test_update_LDLIBS := -lcmocka

# make bench: an update of libupd (111 + 111) in the monitor, by phase,
# beside dlopen + dlsym of every symbol + variable copy + GOT rewrite on
# the host, with a Linux build of the same library.
BENCHES += bench_update
bench_update_SRCS := tests/bench/bench_update.c tests/bench/bench_memfd.c
bench_update_LIBS := kxhv kxelf
bench_update_LDLIBS := -ldl

UPD_GEN := tests/guest/gen_updlib.py
UPD_DIR := $(B)/guest/upd
# variant: version and --variant
UPD_VARIANTS := 116 118 size removed
upd_args_116 := --version 116
upd_args_118 := --version 118
upd_args_size := --version 118 --variant size
upd_args_removed := --version 118 --variant removed

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

$(B)/guest/libupd.so: $(UPD_DIR)/libupd-116.so
	$(call say,CP,$@)cp $< $@

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

EXTRA_ALL += $(foreach v,$(UPD_VARIANTS),$(UPD_DIR)/libupd-$(v).so) $(B)/guest/libupd.so \
	$(B)/guest/updt.kxe $(B)/bench/libupd-host.so
endif
