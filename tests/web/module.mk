# tests/web/: lighttpd, from Debian's own `lighttpd` source package (pinned
# in .ci/debsrc.pins, cached in $(KX_SRC_CACHE)), built without a change to
# its source by its own configure and Makefile with CC=kx-cc (issue 14;
# tests/cli/web.bats, docs/web.md).  Only the server is built, and only
# for the tests and make bench.
#
# lighttpd's static build mode (its INSTALL, "static build using make"):
# LIGHTTPD_STATIC=yes at configure time compiles every module into the one
# binary, and src/plugin-static.h (which the build mode asks the builder to
# write, one PLUGIN_INIT line per module) lists those the server may load.
# The list: what serving static files needs, and the modules lighttpd adds
# to every configuration by itself (indexfile, dirlisting, staticfile).
#
# The configure flags, and why (none touches a source file):
#   --host=x86_64-linux-musl   kx-cc's images do not run on the build host
#                              (no system call instruction in them):
#                              configure must not try to run them
#   CC_FOR_BUILD=gcc           lemon, lighttpd's parser generator, runs here
#   --enable-static --disable-shared   one static image, no modules to dlopen
#   --without-pcre2 --without-zlib --without-bzip2   libraries kx has not
#                              (no regex conditionals, no mod_deflate)
#   CPPFLAGS=-idirafter build/lighttpd/include   for <sys/queue.h>, which
#                              lighttpd's HPACK code (ls-hpack) includes and
#                              musl has not: the one of Debian's libc6-dev,
#                              macros only, copied there from /usr/include
# and the make override: lighttpd_LDFLAGS= drops -export-dynamic, which to
# kx-cc means a dynamic image exporting its C library (as Redis's -rdynamic,
# tests/redis/module.mk).
#
# The same tree built natively with gcc and the same flags is make bench's
# baseline (tests/bench/bench_web.sh).  lighttpd builds in its tree (its
# parser is generated beside its source), so the tree is copied out of the
# shared cache first (with its times: make must not think configure.ac
# newer than configure and rerun autotools); git must not find the kx
# repository around the copy.

WEB_DIR := $(OUT)build/lighttpd
WEB_KX_TREE := $(WEB_DIR)/kx
WEB_NATIVE_TREE := $(WEB_DIR)/native
WEB_PLUGINS := mod_access mod_accesslog mod_alias mod_dirlisting mod_expire mod_indexfile \
	mod_setenv mod_staticfile
WEB_CONFIGURE := --enable-static --disable-shared --without-pcre2 --without-zlib \
	--without-bzip2
WEB_TEST_DIR := $(B)/tests/web
WEB_QUEUE_H := /usr/include/x86_64-linux-gnu/sys/queue.h
WEB_KX_INCLUDE := $(WEB_DIR)/include

# $(call web_build,TREE,CC,HOST-FLAGS,LOG): lighttpd configured and built in TREE
web_build = set -e; src=$$(KX_SRC_CACHE='$(KX_SRC_CACHE)' sh .ci/debsrc.sh lighttpd); \
	rm -rf '$(1)'; mkdir -p '$(WEB_DIR)'; cp -Rp "$$src" '$(1)'; \
	for m in $(WEB_PLUGINS); do echo "PLUGIN_INIT($$m)"; done > '$(1)/src/plugin-static.h'; \
	cd '$(1)'; \
	LIGHTTPD_STATIC=yes ./configure $(3) CC='$(2)' CC_FOR_BUILD='$(GUEST_CC)' \
		$(WEB_CONFIGURE) > '$(abspath $(WEB_DIR))/$(4).log' 2>&1 || \
		{ tail -30 '$(abspath $(WEB_DIR))/$(4).log' >&2; exit 1; }; \
	GIT_CEILING_DIRECTORIES='$(abspath $(WEB_DIR))' $(MAKE) --no-print-directory -C src \
		parsers versionstamp >> '$(abspath $(WEB_DIR))/$(4).log' 2>&1 && \
	$(MAKE) --no-print-directory -C src lighttpd lighttpd_LDFLAGS= \
		>> '$(abspath $(WEB_DIR))/$(4).log' 2>&1 || \
		{ tail -30 '$(abspath $(WEB_DIR))/$(4).log' >&2; exit 1; }

$(WEB_KX_TREE)/src/lighttpd: MAKEOVERRIDES :=
$(WEB_KX_TREE)/src/lighttpd: .ci/debsrc.pins .ci/debsrc.sh tests/web/module.mk $(SDK_STAMP)
	$(call say,LIGHTTPD,$@)mkdir -p '$(WEB_KX_INCLUDE)/sys' && \
	cp '$(WEB_QUEUE_H)' '$(WEB_KX_INCLUDE)/sys/queue.h' && \
	$(call web_build,$(WEB_KX_TREE),$(abspath $(SDK_CC)),\
		--host=x86_64-linux-musl --build=x86_64-pc-linux-gnu \
		CPPFLAGS='-idirafter $(abspath $(WEB_KX_INCLUDE))',kx)

$(WEB_NATIVE_TREE)/src/lighttpd: MAKEOVERRIDES :=
$(WEB_NATIVE_TREE)/src/lighttpd: .ci/debsrc.pins .ci/debsrc.sh tests/web/module.mk
	$(call say,LIGHTTPD,$@)$(call web_build,$(WEB_NATIVE_TREE),$(GUEST_CC),,native)

$(WEB_TEST_DIR)/lighttpd.kxe: $(WEB_KX_TREE)/src/lighttpd
	$(call say,CP,$@)mkdir -p $(@D) && cp $< $@

# The probe: the very objects of lighttpd.kxe, with kx's musl, linked with
# tests/web/syscall-probe.c instead of the POSIX layer: a native program
# that reports every system call number it makes (tests/cli/web.bats checks
# each against the layer's table, no /dev/kvm needed).
$(WEB_TEST_DIR)/lighttpd-probe: $(WEB_KX_TREE)/src/lighttpd tests/web/syscall-probe.c $(LIBC_A)
	$(call say,LD,$@)mkdir -p $(@D) && \
	$(GUEST_CC) -O2 -c -o $(WEB_DIR)/syscall-probe.o tests/web/syscall-probe.c && \
	$(GUEST_CC) -static -nostdlib -no-pie -o $@ $(LIBC_SYSROOT)/lib/crt1.o \
		$(LIBC_SYSROOT)/lib/crti.o $(WEB_KX_TREE)/src/lighttpd-*.o \
		$(WEB_KX_TREE)/src/ls-hpack/lighttpd-*.o $(WEB_DIR)/syscall-probe.o $(LIBC_A) \
		$$($(GUEST_CC) -print-libgcc-file-name) $(LIBC_SYSROOT)/lib/crtn.o

ifeq ($(FUZZ),)
EXTRA_ALL += $(WEB_TEST_DIR)/lighttpd.kxe $(WEB_TEST_DIR)/lighttpd-probe
# make bench: wrk, lighttpd in a pVM vs native (tests/bench/bench_web.sh)
BENCH_DEPS += $(WEB_NATIVE_TREE)/src/lighttpd
BENCH_SCRIPTS += tests/bench/bench_web.sh
endif
