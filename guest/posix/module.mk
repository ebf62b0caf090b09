# guest/posix/: the guest half of the syscall layer (included from
# guest/module.mk).  Compiled against musl's headers (guest/libc/), with
# the guest's flags and no stack protector (it runs before TLS exists).
#
#   $(B)/guest/lib/libkxposix.a   __kx_syscall and everything behind it
#   $(B)/guest/lib/kxcrt1.o       _start of an SDK image

GUEST_GCC_INC := $(shell $(GUEST_CC) -print-file-name=include)
POSIX_CFLAGS := -std=gnu11 -O2 -g -nostdinc -isystem $(LIBC_SYSROOT)/include \
	-isystem $(GUEST_GCC_INC) -D_GNU_SOURCE -fno-stack-protector -fno-omit-frame-pointer \
	-mno-red-zone -fno-asynchronous-unwind-tables -fcf-protection=none -MMD -MP $(WARN) -I.

POSIX_SRCS := guest/posix/syscall.c guest/posix/start.c guest/posix/mem.c \
	guest/posix/kalloc.c guest/posix/fd.c guest/posix/console.c guest/posix/tmpfs.c \
	guest/posix/fs.c guest/posix/imagefs.c guest/posix/hostfs.c guest/posix/epoll.c guest/kx_pack.c guest/posix/pipe.c guest/posix/poll.c guest/posix/time.c \
	guest/posix/thread.c guest/posix/futex.c guest/posix/signal.c guest/posix/proc.c guest/posix/sendfile.c \
	guest/posix/eventfd.c guest/posix/timerfd.c guest/posix/signalfd.c
POSIX_OBJ := $(B)/guest/posix-obj
posix_obj_of = $(patsubst %.S,$(POSIX_OBJ)/%.o,$(patsubst %.c,$(POSIX_OBJ)/%.o,$(1)))
POSIX_LIB := $(B)/guest/lib/libkxposix.a
POSIX_CRT := $(B)/guest/lib/kxcrt1.o

# musl's headers must exist before anything here compiles.
$(POSIX_OBJ)/%.o: %.c | $(LIBC_A)
	$(call say,POSIX-CC,$<)mkdir -p $(@D) && $(GUEST_CC) $(POSIX_CFLAGS) -c -o $@ $<

$(POSIX_OBJ)/%.o: %.S | $(LIBC_A)
	$(call say,POSIX-AS,$<)mkdir -p $(@D) && $(GUEST_CC) $(POSIX_CFLAGS) -c -o $@ $<

$(POSIX_LIB): $(call posix_obj_of,$(POSIX_SRCS))
	$(call say,AR,$@)mkdir -p $(@D) && rm -f $@ && ar rcs $@ $^

$(POSIX_CRT): $(call posix_obj_of,guest/posix/crt1.S)
	$(call say,CP,$@)mkdir -p $(@D) && cp $< $@

ifeq ($(FUZZ),)
EXTRA_ALL += $(POSIX_LIB) $(POSIX_CRT)
endif
-include $(patsubst %.o,%.d,$(call posix_obj_of,$(POSIX_SRCS) guest/posix/crt1.S))
