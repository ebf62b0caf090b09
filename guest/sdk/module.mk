# guest/sdk/: the SDK — kx-cc, its specs file and linker scripts, musl and
# kx's libraries and headers, kx.pc — laid out in $(B)/sdk exactly as
# `make install` puts it under PREFIX (included from guest/module.mk):
#
#   bin/kx-cc, bin/kx-nosyscall, bin/kx-pack
#   lib/kx/kx.specs, lib/kx/include/ (musl's, and kx/kxrt.h, kx/posix.h,
#          kx/kx_hcall_abi.h), lib/kx/lib/ (libc.a and musl's empty libm.a
#          ..., libkxposix.a, libkxrt.a, kxcrt1.o, kx.ld, kx-dyn.ld, and
#          for `kx-cc --backend xen` libkxrt-xen.a, kxcrt1-xen.o),
#          lib/kx/kx-xen.specs (kx.specs with the Xen start file and runtime)
#   lib/kx/kxpool.kxe (the pool placeholder image, unsigned: kxd --pool-image)
#   lib/pkgconfig/kx.pc
#
# The SDK images of the tests (tests/libc/) are built with $(SDK_CC), the
# way a user builds theirs.

SDK := $(B)/sdk
SDK_LIBDIR := $(SDK)/lib/kx
SDK_CC := $(SDK)/bin/kx-cc
SDK_VERSION := 0.13.0
SDK_STAMP := $(SDK)/.stamp

# kx's headers, installed under <kx/...>: their in-tree include paths
# become SDK paths.
SDK_KX_HEADERS := guest/kxrt.h guest/kx_hcall_abi.h guest/posix/kxposix.h

# The Xen flavour of the runtime and the start file (guest/xen/module.mk,
# read after this file, builds them).
SDK_XEN_LIBS := $(B)/guest/lib/libkxrt-xen.a $(B)/guest/lib/kxcrt1-xen.o

$(SDK_STAMP): $(LIBC_A) $(POSIX_LIB) $(POSIX_CRT) $(GUEST_CORE_LIB) $(SDK_XEN_LIBS) $(SDK_KX_HEADERS) \
		guest/sdk/kx-cc guest/sdk/kx-nosyscall guest/sdk/kx.specs guest/sdk/kx.ld \
		guest/dyn.ld guest/sdk/kx.pc.in guest/sdk/module.mk $(B)/bin/kx-pack \
		$(B)/guest/kxpool.kxe
	$(call say,SDK,$(SDK))set -e; rm -rf '$(SDK)'; \
	mkdir -p '$(SDK)/bin' '$(SDK_LIBDIR)/lib' '$(SDK_LIBDIR)/include/kx' '$(SDK)/lib/pkgconfig'; \
	cp guest/sdk/kx-cc guest/sdk/kx-nosyscall $(B)/bin/kx-pack '$(SDK)/bin/'; \
	cp guest/sdk/kx.specs '$(SDK_LIBDIR)/'; \
	sed -e 's|/lib/kxcrt1.o|/lib/kxcrt1-xen.o|' -e 's|-lkxrt |-lkxrt-xen |' \
		guest/sdk/kx.specs > '$(SDK_LIBDIR)/kx-xen.specs'; \
	cmp -s guest/sdk/kx.specs '$(SDK_LIBDIR)/kx-xen.specs' && \
		{ echo "sdk: kx-xen.specs: kx.specs changed shape" >&2; exit 1; }; \
	cp $(SDK_XEN_LIBS) '$(SDK_LIBDIR)/lib/'; \
	cp -R '$(LIBC_SYSROOT)/include/.' '$(SDK_LIBDIR)/include/'; \
	cp '$(LIBC_SYSROOT)'/lib/*.a '$(SDK_LIBDIR)/lib/'; \
	cp $(POSIX_LIB) $(GUEST_CORE_LIB) '$(SDK_LIBDIR)/lib/'; \
	cp $(POSIX_CRT) '$(SDK_LIBDIR)/lib/kxcrt1.o'; \
	cp guest/sdk/kx.ld '$(SDK_LIBDIR)/lib/kx.ld'; \
	cp guest/dyn.ld '$(SDK_LIBDIR)/lib/kx-dyn.ld'; \
	cp $(B)/guest/kxpool.kxe '$(SDK_LIBDIR)/kxpool.kxe'; \
	for h in $(SDK_KX_HEADERS); do \
		n=$$(basename $$h); [ $$n = kxposix.h ] && n=posix.h; \
		sed -e 's|#include "guest/kx_hcall_abi.h"|#include <kx/kx_hcall_abi.h>|' \
			$$h > '$(SDK_LIBDIR)/include/kx/'$$n; \
	done; \
	sed -e 's|@PREFIX@|$(abspath $(SDK))|' -e 's|@VERSION@|$(SDK_VERSION)|' guest/sdk/kx.pc.in \
		> '$(SDK)/lib/pkgconfig/kx.pc'; \
	touch $@

ifeq ($(FUZZ),)
EXTRA_ALL += $(SDK_STAMP)
endif

# make install: the SDK tree under PREFIX, kx.pc naming PREFIX (kx-cc(1)
# comes with the other man pages from docs/man).
.PHONY: install-sdk
install: install-sdk
install-sdk: $(SDK_STAMP)
	$(Q)install -d '$(DESTDIR)$(PREFIX)'
	$(Q)cd '$(SDK)' && find bin lib -type d | while read -r d; do \
		install -d '$(DESTDIR)$(PREFIX)/'"$$d" || exit 1; done
	$(Q)cd '$(SDK)' && find bin -type f | while read -r f; do \
		install -m 0755 "$$f" '$(DESTDIR)$(PREFIX)/'"$$f" || exit 1; done
	$(Q)cd '$(SDK)' && find lib -type f ! -name kx.pc | while read -r f; do \
		install -m 0644 "$$f" '$(DESTDIR)$(PREFIX)/'"$$f" || exit 1; done
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(SDK_VERSION)|' guest/sdk/kx.pc.in \
		> '$(DESTDIR)$(PREFIX)/lib/pkgconfig/kx.pc'

# kx-pack: a directory -> the read-only file tree of an image (an object to
# link in).  A host program; it checks its output with the guest's own
# reader, guest/kx_pack.c, which fuzz_pack fuzzes (seeds: fuzz/gen/pack.sh).
PROGS += kx-pack
kx-pack_SRCS := guest/sdk/kx-pack.c guest/kx_pack.c
FUZZERS += fuzz_pack
fuzz_pack_SRCS := fuzz/fuzz_pack.c guest/kx_pack.c
UNIT_TESTS += test_pack
test_pack_SRCS := tests/unit/test_pack.c guest/kx_pack.c
test_pack_LDLIBS := -lcmocka
