# guest/xen/: the Xen PV platform layer of the guest runtime (guest/platform.h)
# and pVM images built with it, from the same app objects as the KVM ones.
#
#   $(B)/guest/lib/libkxguest-xen.a  the runtime core over guest/xen/ and kx's
#                                    mini libc, du_resolve over the kx ring
#   $(B)/guest/lib/libkxrt-xen.a     the same core without the mini libc, and
#   $(B)/guest/lib/kxcrt1-xen.o      the Xen entry + posix_start.c: what
#                                    `kx-cc --backend xen` links instead of
#                                    libkxrt.a and kxcrt1.o (guest/sdk/)
#   $(B)/guest/xen/NAME.kxe          a 64-bit PV kernel image: Xen ELF notes,
#                                    linked by guest/xen/xen.ld; `xl create`
#                                    boots it (tests/xen/)
#
# A Xen image: add NAME to GUEST_XEN_APPS; its sources are NAME_GUEST_SRCS,
# the same list its KVM image uses.

GUEST_XEN_CORE_SRCS := $(GUEST_CORE_COMMON_SRCS) guest/xen/xen.c guest/xen/mm.c \
	guest/xen/trap.c guest/xen/boot.c guest/xen/ring.c guest/xen/du_resolve.S \
	guest/xen/segbase.c
GUEST_XEN_RT_SRCS := $(GUEST_XEN_CORE_SRCS) $(GUEST_MINI_SRCS)
GUEST_XEN_ENTRY := $(GUEST_OBJ)/guest/xen/entry.o
GUEST_XEN_RT_LIB := $(B)/guest/lib/libkxguest-xen.a

GUEST_XEN_APPS := hello exit rt fault xhello spin forkt ipct sigt sigx pipex
xhello_GUEST_SRCS := tests/guest/xhello.c
# sigx: signal handlers on Xen (tests/xen/dom0/signal.sh), a Xen-only image
sigx_GUEST_SRCS := tests/xen/sigx.c
# pipex: cross-domain wakeups on a pipe (tests/xen/dom0/pipe.sh)
pipex_GUEST_SRCS := tests/xen/pipex.c

$(GUEST_XEN_RT_LIB): $(call guest_obj_of,$(GUEST_XEN_RT_SRCS))
	$(call say,AR,$@)mkdir -p $(@D) && rm -f $@ && ar rcs $@ $^

# The SDK's Xen flavour (guest/sdk/module.mk copies both into the SDK).
# An SDK image boots only under kx's monitor (kxmon/kxd --backend xen),
# which builds the domain itself: kx.ld drops the Xen notes, and the
# symbols of xen.ld only the `xl create` path reads are kx.ld's.
GUEST_XEN_SDK_LIB := $(B)/guest/lib/libkxrt-xen.a
GUEST_XEN_SDK_CRT := $(B)/guest/lib/kxcrt1-xen.o
$(GUEST_XEN_SDK_LIB): $(call guest_obj_of,$(GUEST_XEN_CORE_SRCS))
	$(call say,AR,$@)mkdir -p $(@D) && rm -f $@ && ar rcs $@ $^
$(GUEST_XEN_SDK_CRT): $(GUEST_XEN_ENTRY) $(call guest_obj_of,guest/xen/posix_start.c)
	$(call say,LD,$@)mkdir -p $(@D) && ld -r -o $@ $^

# Dynamic Xen images (kxd --backend xen links their libraries at boot, lazy
# binding over the kx ring): the same objects and libraries as the KVM
# dynamic image of that name, guest/dyn.ld, the Xen entry and runtime.  Only
# a kx monitor boots them (it builds the domain: xen.c's start_monitored),
# so the symbols of xen.ld that only the `xl create` path reads are 0 here.
GUEST_XEN_DYN_APPS := linkt updt

# The KVM image of the same name is a prerequisite: it builds the objects
# and libraries, which the recipe names when it runs (an app's
# NAME_GUEST_SRCS may be set by a module.mk read after this one).
define guest_xen_dyn_app
$(B)/guest/xen/$(1).kxe: $(B)/guest/$(1).kxe $(GUEST_XEN_ENTRY) $(GUEST_XEN_RT_LIB) guest/dyn.ld
	$$(call say,GUEST-LD,$$@)mkdir -p $$(@D) && $$(GUEST_CC) -no-pie $$(GUEST_DYN_LDFLAGS) \
		-Wl,--no-dynamic-linker -Wl,--export-dynamic -Wl,--defsym=kx_dyn_base=$$(KX_IMAGE_MIN) \
		-Wl,--defsym=kx_text_end=0 -Wl,--defsym=kx_rodata_end=0 -Wl,--defsym=kx_image_end=0 \
		-Wl,-T,guest/dyn.ld -o $$@ $(GUEST_XEN_ENTRY) $$(call guest_obj_of,$$($(1)_GUEST_SRCS)) \
		-Wl,--whole-archive $(GUEST_XEN_RT_LIB) -Wl,--no-whole-archive \
		$$(foreach l,$$($(1)_GUEST_SOLIBS),$(B)/guest/lib$$(l).so) -lgcc
endef

define guest_xen_app
$(B)/guest/xen/$(1).kxe: $(GUEST_XEN_ENTRY) $(call guest_obj_of,$($(1)_GUEST_SRCS)) \
		$(GUEST_XEN_RT_LIB) guest/xen/xen.ld
	$$(call say,GUEST-LD,$$@)mkdir -p $$(@D) && $$(GUEST_CC) $$(GUEST_LDFLAGS) \
		-Wl,-T,guest/xen/xen.ld -o $$@ $(GUEST_XEN_ENTRY) \
		$(call guest_obj_of,$($(1)_GUEST_SRCS)) $(GUEST_XEN_RT_LIB) -lgcc
endef

ifeq ($(FUZZ),)
$(foreach a,$(GUEST_XEN_APPS),$(eval $(call guest_xen_app,$(a))))
$(foreach a,$(GUEST_XEN_DYN_APPS),$(eval $(call guest_xen_dyn_app,$(a))))
EXTRA_ALL += $(GUEST_XEN_RT_LIB) $(foreach a,$(GUEST_XEN_APPS) $(GUEST_XEN_DYN_APPS),$(B)/guest/xen/$(a).kxe)
GUEST_XEN_OBJS := $(GUEST_XEN_ENTRY) $(call guest_obj_of,$(GUEST_XEN_RT_SRCS) guest/xen/posix_start.c) \
	$(foreach a,$(GUEST_XEN_APPS),$(call guest_obj_of,$($(a)_GUEST_SRCS)))
-include $(GUEST_XEN_OBJS:.o=.d)
endif

# Host-side tests of the platform's computations, the kx ring and the ELF
# notes of the built images (they need no Xen).
UNIT_TESTS += test_xen_boot test_xen_ring test_xen_notes
test_xen_boot_SRCS := tests/unit/test_xen_boot.c guest/xen/boot.c
test_xen_boot_LDLIBS := -lcmocka
test_xen_ring_SRCS := tests/unit/test_xen_ring.c guest/xen/ring.c
test_xen_ring_LDLIBS := -lcmocka
test_xen_notes_SRCS := tests/unit/test_xen_notes.c tests/xen/elfnote.c
test_xen_notes_LDLIBS := -lcmocka

# The monitor's end of the kx ring takes guest-written bytes: fuzzed.
FUZZERS += fuzz_xenring
fuzz_xenring_SRCS := fuzz/fuzz_xenring.c guest/xen/ring.c
