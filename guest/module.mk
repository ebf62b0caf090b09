# guest/: the freestanding pVM runtime (libkxguest.a) and the pVM images
# built with it.  Guest code never uses the host templates or flags: it is
# compiled for CPL3 inside a pVM, with no host libc.
#
#   $(B)/guest/lib/libkxguest.a   crt0, hypercalls, printf, string, malloc
#   $(B)/guest/lib/libkxrt.a      the runtime without the mini libc (SDK)
#                                 (both KVM; guest/xen/module.mk builds the
#                                 Xen PV flavour of the runtime and images)
#   $(B)/guest/NAME.kxe           a pVM image: a static ELF executable
#                                 linked by guest/guest.ld, what kxmon loads
#   $(B)/guest/NAME.kxe           (GUEST_DYN_APPS) a dynamic image: ET_EXEC
#                                 with DT_NEEDED, linked by guest/dyn.ld with
#                                 the whole runtime exported (printf, malloc..)
#   $(B)/guest/libNAME.so         (GUEST_SOLIBS) a pVM library: -fPIC -shared,
#                                 linked by guest/dyn.ld (GOT on its own pages)
#
# A guest app: add NAME to GUEST_APPS with NAME_GUEST_SRCS (and optionally
# NAME_GUEST_LDS, a linker script instead of guest/guest.ld, and
# NAME_GUEST_LDFLAGS).  Test guests live in tests/guest/; wx and low are
# deliberately broken images the monitor must refuse.

GUEST_CC ?= gcc
GUEST_BASE_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-stack-protector \
	-fno-omit-frame-pointer -mno-red-zone -fno-asynchronous-unwind-tables \
	-fno-tree-loop-distribute-patterns -fcf-protection=none -MMD -MP $(WARN) -I.
GUEST_CFLAGS := $(GUEST_BASE_CFLAGS) -fno-pic -fno-pie
GUEST_PIC_CFLAGS := $(GUEST_BASE_CFLAGS) -fPIC
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,-z,max-page-size=4096

GUEST_OBJ := $(B)/guest/obj
guest_obj_of = $(patsubst %.S,$(GUEST_OBJ)/%.o,$(patsubst %.c,$(GUEST_OBJ)/%.o,$(1)))

# The runtime proper (boot info, hypercalls, du_resolve, signals, IpC:
# guest/kxrt.h) needs only memcpy/memset/strnlen/vsnprintf from a C library;
# kx's mini libc (start, printf, string, malloc: guest/kxguest.h) is one
# such library, musl (guest/libc/, the SDK) the other.  libkxrt.a holds the
# runtime alone, for SDK images; libkxguest.a both, for in-tree images.
# The runtime is written once over a platform interface (guest/platform.h):
# GUEST_CORE_COMMON_SRCS is the shared part, each backend adds its folder.
GUEST_CORE_COMMON_SRCS := guest/boot.c guest/hcall.c guest/signal.c guest/ipc.c \
	guest/ipc_ring.c
# KVM (the default backend): the port-I/O transport, crt0 and du_resolve.
GUEST_CORE_SRCS := $(GUEST_CORE_COMMON_SRCS) guest/kvm/hcall.c guest/kvm/du_resolve.S \
	guest/kvm/segbase.c
GUEST_MINI_SRCS := guest/start.c guest/printf.c guest/string.c guest/malloc.c
GUEST_RT_SRCS := $(GUEST_CORE_SRCS) $(GUEST_MINI_SRCS)
GUEST_CRT0 := $(GUEST_OBJ)/guest/kvm/crt0.o
GUEST_RT_LIB := $(B)/guest/lib/libkxguest.a
GUEST_CORE_LIB := $(B)/guest/lib/libkxrt.a

GUEST_APPS := tlsbase hello exit rt wild priv fault spin bigbss wx low tlb forkt
hello_GUEST_SRCS := tests/guest/hello.c
tlsbase_GUEST_SRCS := tests/guest/tlsbase.c
exit_GUEST_SRCS := tests/guest/exit.c
rt_GUEST_SRCS := tests/guest/rt.c
wild_GUEST_SRCS := tests/guest/wild.c
priv_GUEST_SRCS := tests/guest/priv.c
fault_GUEST_SRCS := tests/guest/fault.c
spin_GUEST_SRCS := tests/guest/spin.c
forkt_GUEST_SRCS := tests/guest/forkt.c
# signals (tests/cli/kvm_signal.bats) and the snapshot example
# The IpC ring (guest/ipc_ring.c) on hostile indices, built for the host.
UNIT_TESTS += test_ipc_ring
test_ipc_ring_SRCS := tests/unit/test_ipc_ring.c guest/ipc_ring.c
test_ipc_ring_LDLIBS := -lcmocka

# IpC (docs/ipc.md): the test guest of tests/cli/kvm_ipc.bats and the example app
GUEST_APPS += ipct workers
ipct_GUEST_SRCS := tests/guest/ipct.c
workers_GUEST_SRCS := guest/examples/workers.c
GUEST_APPS += sigt snapshot
sigt_GUEST_SRCS := tests/guest/sigt.c
snapshot_GUEST_SRCS := guest/examples/snapshot.c
bigbss_GUEST_SRCS := tests/guest/bigbss.c
tlb_GUEST_SRCS := tests/guest/tlb.c
wx_GUEST_SRCS := tests/guest/hello.c
wx_GUEST_LDS := tests/guest/wx.ld
wx_GUEST_LDFLAGS := -Wl,--no-warn-rwx-segments
low_GUEST_SRCS := tests/guest/hello.c
low_GUEST_LDFLAGS := -Wl,--defsym=kx_image_base=0x200000

$(GUEST_OBJ)/%.o: %.c
	$(call say,GUEST-CC,$<)mkdir -p $(@D) && $(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_OBJ)/%.o: %.S
	$(call say,GUEST-AS,$<)mkdir -p $(@D) && $(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_RT_LIB): $(call guest_obj_of,$(GUEST_RT_SRCS))
	$(call say,AR,$@)mkdir -p $(@D) && rm -f $@ && ar rcs $@ $^

$(GUEST_CORE_LIB): $(call guest_obj_of,$(GUEST_CORE_SRCS))
	$(call say,AR,$@)mkdir -p $(@D) && rm -f $@ && ar rcs $@ $^

define guest_app
$(B)/guest/$(1).kxe: $(GUEST_CRT0) $(call guest_obj_of,$($(1)_GUEST_SRCS)) $(GUEST_RT_LIB) \
		$(or $($(1)_GUEST_LDS),guest/guest.ld)
	$$(call say,GUEST-LD,$$@)$$(GUEST_CC) $$(GUEST_LDFLAGS) $($(1)_GUEST_LDFLAGS) \
		-Wl,-T,$(or $($(1)_GUEST_LDS),guest/guest.ld) -o $$@ \
		$(GUEST_CRT0) $(call guest_obj_of,$($(1)_GUEST_SRCS)) $(GUEST_RT_LIB) -lgcc
GUEST_OBJS += $(call guest_obj_of,$($(1)_GUEST_SRCS))
endef

# pVM libraries and the dynamic images that link them (docs/kvm-backend.md,
# "Libraries").  The examples fit manifests/kvstore.yaml: libkvmath (lazy,
# DT_NEEDED) and libacme-log (kx_dlopen at run time).
GUEST_SOLIBS := kvmath acme-log kvbench
kvmath_SO_SRCS := guest/examples/kvmath.c
acme-log_SO_SRCS := guest/examples/acmelog.c
kvbench_SO_SRCS := tests/guest/kvbench.c

GUEST_DYN_APPS := kvstore linkt lazyb
kvstore_GUEST_SRCS := guest/examples/kvstore.c
kvstore_GUEST_SOLIBS := kvmath
linkt_GUEST_SRCS := tests/guest/linkt.c
linkt_GUEST_SOLIBS := kvmath
lazyb_GUEST_SRCS := tests/guest/lazyb.c
lazyb_GUEST_SOLIBS := kvbench

GUEST_DYN_LDFLAGS := -nostdlib -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 \
	-Wl,-z,lazy -Wl,-z,norelro
GUEST_PIC := $(B)/guest/pic
guest_pic_of = $(patsubst %.c,$(GUEST_PIC)/%.o,$(1))

$(GUEST_PIC)/%.o: %.c
	$(call say,GUEST-CC,$<)mkdir -p $(@D) && $(GUEST_CC) $(GUEST_PIC_CFLAGS) -c -o $@ $<

define guest_solib
$(B)/guest/lib$(1).so: $(call guest_pic_of,$($(1)_SO_SRCS)) guest/dyn.ld
	$$(call say,GUEST-LD,$$@)$$(GUEST_CC) -shared $(GUEST_DYN_LDFLAGS) \
		-Wl,-soname,lib$(1).so -Wl,-T,guest/dyn.ld -o $$@ $(call guest_pic_of,$($(1)_SO_SRCS))
GUEST_OBJS += $(call guest_pic_of,$($(1)_SO_SRCS))
endef

define guest_dyn_app
$(B)/guest/$(1).kxe: $(GUEST_CRT0) $(call guest_obj_of,$($(1)_GUEST_SRCS)) $(GUEST_RT_LIB) \
		$(foreach l,$($(1)_GUEST_SOLIBS),$(B)/guest/lib$(l).so) guest/dyn.ld
	$$(call say,GUEST-LD,$$@)$$(GUEST_CC) -no-pie $(GUEST_DYN_LDFLAGS) -Wl,--no-dynamic-linker \
		-Wl,--export-dynamic -Wl,--defsym=kx_dyn_base=$(KX_IMAGE_MIN) -Wl,-T,guest/dyn.ld -o $$@ \
		$(GUEST_CRT0) $(call guest_obj_of,$($(1)_GUEST_SRCS)) \
		-Wl,--whole-archive $(GUEST_RT_LIB) -Wl,--no-whole-archive \
		$(foreach l,$($(1)_GUEST_SOLIBS),$(B)/guest/lib$(l).so) -lgcc
GUEST_OBJS += $(call guest_obj_of,$($(1)_GUEST_SRCS))
endef
KX_IMAGE_MIN := 0x400000

# A test library the monitor must refuse: libkvmath linked with ld's default
# layout, where .got.plt shares its page with .data/.bss.
GUEST_GOTDATA_LIB := $(B)/guest/gotdata/libkvmath.so
$(GUEST_GOTDATA_LIB): $(call guest_pic_of,$(kvmath_SO_SRCS))
	$(call say,GUEST-LD,$@)mkdir -p $(@D) && $(GUEST_CC) -shared -nostdlib -Wl,-z,lazy \
		-Wl,-z,max-page-size=4096 -Wl,-soname,libkvmath.so -o $@ $^

# Recycling (docs/recycle.md): kxpool, the placeholder every pooled pVM
# runs (a dynamic image exporting the runtime, no DT_NEEDED), and apps
# built as libraries with app_entry, each with its own DT_NEEDED.
GUEST_DYN_APPS += kxpool kvcount
kxpool_GUEST_SRCS := guest/placeholder.c
kvcount_GUEST_SRCS := guest/examples/kvcount.c guest/examples/kvcount_main.c
kvcount_GUEST_SOLIBS := kvmath
GUEST_APP_LIBS := kvcount recycprobe
kvcount_APPLIB_SRCS := guest/examples/kvcount.c
kvcount_APPLIB_NEEDED := kvmath
recycprobe_APPLIB_SRCS := tests/guest/recycprobe.c

define guest_app_lib
$(B)/guest/lib$(1).so: $(call guest_pic_of,$($(1)_APPLIB_SRCS)) \
		$(foreach l,$($(1)_APPLIB_NEEDED),$(B)/guest/lib$(l).so) guest/dyn.ld
	$$(call say,GUEST-LD,$$@)$$(GUEST_CC) -shared $(GUEST_DYN_LDFLAGS) -Wl,-soname,lib$(1).so \
		-Wl,-T,guest/dyn.ld -o $$@ $(call guest_pic_of,$($(1)_APPLIB_SRCS)) \
		$(foreach l,$($(1)_APPLIB_NEEDED),$(B)/guest/lib$(l).so)
endef

GUEST_OBJS := $(GUEST_CRT0) $(call guest_obj_of,$(GUEST_RT_SRCS))
# The rules in every variant (the hypercall fuzz harness runs a guest image);
# built by `all` only in the main ones.
$(foreach a,$(GUEST_APPS),$(eval $(call guest_app,$(a))))
$(foreach l,$(GUEST_SOLIBS),$(eval $(call guest_solib,$(l))))
$(foreach a,$(GUEST_DYN_APPS),$(eval $(call guest_dyn_app,$(a))))
ifeq ($(FUZZ),)
EXTRA_ALL += $(GUEST_RT_LIB) $(GUEST_CORE_LIB) $(foreach a,$(GUEST_APPS) $(GUEST_DYN_APPS),$(B)/guest/$(a).kxe) \
	$(foreach l,$(GUEST_SOLIBS),$(B)/guest/lib$(l).so) $(GUEST_GOTDATA_LIB)
endif
ifeq ($(FUZZ),)
$(foreach a,$(GUEST_APP_LIBS),$(eval $(call guest_app_lib,$(a))))
EXTRA_ALL += $(foreach a,$(GUEST_APP_LIBS),$(B)/guest/lib$(a).so)
GUEST_OBJS += $(foreach a,$(GUEST_APP_LIBS),$(call guest_pic_of,$($(a)_APPLIB_SRCS)))
endif
-include $(GUEST_OBJS:.o=.d)

# musl (guest/libc/), the POSIX syscall layer (guest/posix/) and the SDK
# (guest/sdk/: kx-cc, kx.pc, install).
include guest/libc/module.mk
include guest/posix/module.mk
include guest/sdk/module.mk
include guest/net/module.mk
include tests/libc/module.mk
include tests/sqlite/module.mk # posix-fs: SQLite's shell, unmodified
include tests/redis/module.mk # redis: redis-server, unmodified
include tests/web/module.mk # web: lighttpd, unmodified

# The Xen PV platform layer, its images and its host-side tests.
include guest/xen/module.mk
