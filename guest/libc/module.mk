# guest/libc/: musl for pVMs (included from guest/module.mk).
#
# musl comes from Debian's own source package, fetched and checked against
# .ci/debsrc.pins by .ci/debsrc.sh into $(KX_SRC_CACHE); nothing of it is in
# this repository.  Before the build, kx deletes the files named in
# guest/libc/remove.list and copies guest/libc/overlay/ over the tree: with
# those changes musl makes every system call as a function call,
# __kx_syscall(nr, a1..a6), into kx's syscall layer (guest/posix/) — no
# `syscall` instruction is left, and kx-nosyscall checks that on libc.a.
#
#   $(LIBC_SYSROOT)/include/     musl's headers
#   $(LIBC_SYSROOT)/lib/libc.a   (and musl's empty libm.a, libpthread.a, ...)
#
# Guest code is the same in every build variant (no sanitizers in a pVM),
# so musl is built once, in $(OUT)build/libc, and the SANITIZE=1 pass of
# `make test` reuses it.  It is rebuilt only when the pins, the overlay,
# the remove list or this file change.

KX_SRC_CACHE ?= $(OUT)build/src-cache
LIBC_DIR := $(OUT)build/libc
LIBC_SYSROOT := $(LIBC_DIR)/sysroot
LIBC_A := $(LIBC_SYSROOT)/lib/libc.a
LIBC_OVERLAY := $(shell find guest/libc/overlay -type f)
LIBC_INPUTS := .ci/debsrc.pins .ci/debsrc.sh guest/libc/module.mk guest/libc/remove.list \
	$(LIBC_OVERLAY) guest/sdk/kx-nosyscall
# As GUEST_BASE_CFLAGS: no red zone, no stack protector inside libc (musl
# sets the canary up itself, from AT_RANDOM, once TLS works), no CET.
LIBC_CFLAGS := -O2 -pipe -mno-red-zone -fno-stack-protector -fcf-protection=none

# Command-line variables of kx's build (CFLAGS=..., O=...) are not musl's.
$(LIBC_A): MAKEOVERRIDES :=
$(LIBC_A): $(LIBC_INPUTS)
	$(call say,MUSL,$(LIBC_DIR))set -e; \
	src=$$(KX_SRC_CACHE='$(KX_SRC_CACHE)' sh .ci/debsrc.sh musl); \
	rm -rf '$(LIBC_DIR)'; mkdir -p '$(LIBC_DIR)'; \
	cp -R "$$src" '$(LIBC_DIR)/src'; \
	sed -e 's/#.*//' -e '/^[[:space:]]*$$/d' guest/libc/remove.list | while read -r f; do \
		[ -f '$(LIBC_DIR)/src/'"$$f" ] || { \
			echo "guest/libc/remove.list: $$f is not in musl's tree" >&2; exit 1; }; \
		rm '$(LIBC_DIR)/src/'"$$f"; \
	done; \
	cp -R guest/libc/overlay/. '$(LIBC_DIR)/src/'; \
	cd '$(LIBC_DIR)/src' && ./configure --prefix=/ --disable-shared --disable-wrapper \
		CC='$(GUEST_CC)' CFLAGS='$(LIBC_CFLAGS)' > ../configure.log 2>&1 || \
		{ cat ../configure.log >&2; exit 1; }; \
	cd '$(CURDIR)'; \
	$(MAKE) --no-print-directory -C '$(LIBC_DIR)/src' install-libs install-headers \
		DESTDIR='$(abspath $(LIBC_SYSROOT))' > '$(LIBC_DIR)/build.log' 2>&1 || \
		{ tail -30 '$(LIBC_DIR)/build.log' >&2; exit 1; }
	$(Q)sh guest/sdk/kx-nosyscall $@
