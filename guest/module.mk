# guest/: the freestanding pVM runtime (libkxguest.a) and the pVM images
# built with it.  Guest code never uses the host templates or flags: it is
# compiled for CPL3 inside a pVM, with no host libc.
#
#   $(B)/guest/lib/libkxguest.a   crt0, hypercalls, printf, string, malloc
#   $(B)/guest/NAME.kxe           a pVM image: a static ELF executable
#                                 linked by guest/guest.ld, what kxmon loads
#
# A guest app: add NAME to GUEST_APPS with NAME_GUEST_SRCS (and optionally
# NAME_GUEST_LDS, a linker script instead of guest/guest.ld, and
# NAME_GUEST_LDFLAGS).  Test guests live in tests/guest/; wx and low are
# deliberately broken images the monitor must refuse.

GUEST_CC ?= gcc
GUEST_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-stack-protector -fno-pic -fno-pie \
	-fno-omit-frame-pointer -mno-red-zone -fno-asynchronous-unwind-tables \
	-fno-tree-loop-distribute-patterns -fcf-protection=none -MMD -MP $(WARN) -I.
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,-z,max-page-size=4096

GUEST_OBJ := $(B)/guest/obj
guest_obj_of = $(patsubst %.S,$(GUEST_OBJ)/%.o,$(patsubst %.c,$(GUEST_OBJ)/%.o,$(1)))

GUEST_RT_SRCS := guest/start.c guest/hcall.c guest/printf.c guest/string.c guest/malloc.c
GUEST_CRT0 := $(GUEST_OBJ)/guest/crt0.o
GUEST_RT_LIB := $(B)/guest/lib/libkxguest.a

GUEST_APPS := hello exit rt wild priv fault spin bigbss wx low
hello_GUEST_SRCS := tests/guest/hello.c
exit_GUEST_SRCS := tests/guest/exit.c
rt_GUEST_SRCS := tests/guest/rt.c
wild_GUEST_SRCS := tests/guest/wild.c
priv_GUEST_SRCS := tests/guest/priv.c
fault_GUEST_SRCS := tests/guest/fault.c
spin_GUEST_SRCS := tests/guest/spin.c
bigbss_GUEST_SRCS := tests/guest/bigbss.c
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

define guest_app
$(B)/guest/$(1).kxe: $(GUEST_CRT0) $(call guest_obj_of,$($(1)_GUEST_SRCS)) $(GUEST_RT_LIB) \
		$(or $($(1)_GUEST_LDS),guest/guest.ld)
	$$(call say,GUEST-LD,$$@)$$(GUEST_CC) $$(GUEST_LDFLAGS) $($(1)_GUEST_LDFLAGS) \
		-Wl,-T,$(or $($(1)_GUEST_LDS),guest/guest.ld) -o $$@ \
		$(GUEST_CRT0) $(call guest_obj_of,$($(1)_GUEST_SRCS)) $(GUEST_RT_LIB) -lgcc
GUEST_OBJS += $(call guest_obj_of,$($(1)_GUEST_SRCS))
endef

GUEST_OBJS := $(GUEST_CRT0) $(call guest_obj_of,$(GUEST_RT_SRCS))
ifeq ($(FUZZ),)
$(foreach a,$(GUEST_APPS),$(eval $(call guest_app,$(a))))
EXTRA_ALL += $(GUEST_RT_LIB) $(foreach a,$(GUEST_APPS),$(B)/guest/$(a).kxe)
endif
-include $(GUEST_OBJS:.o=.d)
