# tests/redis/: redis-server, from Debian's own `redis` source package
# (pinned in .ci/debsrc.pins, cached in $(KX_SRC_CACHE)), built without a
# change to its source by its own Makefile with CC=kx-cc (issue 14;
# tests/cli/redis.bats, docs/redis.md).  Only redis-server is built, and
# only for the tests: Redis builds in its tree, so the tree is copied out of
# the shared cache first.
#
# The make flags, and why each is needed (none touches a source file):
#   MALLOC=libc USE_SYSTEMD=no BUILD_TLS=no   musl's malloc; no systemd, no OpenSSL
#   FINAL_LDFLAGS=   Redis links with -rdynamic on Linux (for backtrace()
#                    symbols, which musl has not); to kx-cc -rdynamic means a
#                    dynamic image that exports its C library.  A static
#                    image is what we want.
#   FINAL_LIBS=-lm   -ldl -lrt -pthread are parts of musl's libc.a.
#
# Guest code is the same in every build variant: built once, in
# $(OUT)build/redis; each variant copies the image.  Git must not find the
# kx repository around the copy: Redis would stamp its version with our commit.

REDIS_DIR := $(OUT)build/redis
REDIS_KX_TREE := $(REDIS_DIR)/kx
REDIS_NATIVE_TREE := $(REDIS_DIR)/native
REDIS_MAKEFLAGS := MALLOC=libc USE_SYSTEMD=no BUILD_TLS=no FINAL_LDFLAGS= FINAL_LIBS=-lm V=1
REDIS_TEST_DIR := $(B)/tests/redis

# $(call redis_tree,DIR): DIR/ is a fresh copy of the pinned source tree
redis_tree = src=$$(KX_SRC_CACHE='$(KX_SRC_CACHE)' sh .ci/debsrc.sh redis); \
	rm -rf '$(1)'; mkdir -p '$(REDIS_DIR)'; cp -R "$$src" '$(1)'

$(REDIS_KX_TREE)/src/redis-server: MAKEOVERRIDES :=
$(REDIS_KX_TREE)/src/redis-server: .ci/debsrc.pins .ci/debsrc.sh tests/redis/module.mk \
		$(SDK_STAMP)
	$(call say,REDIS,$@)set -e; $(call redis_tree,$(REDIS_KX_TREE)); \
	GIT_CEILING_DIRECTORIES='$(abspath $(REDIS_DIR))' \
	$(MAKE) --no-print-directory -C '$(REDIS_KX_TREE)/src' redis-server \
		CC='$(abspath $(SDK_CC))' $(REDIS_MAKEFLAGS) > '$(REDIS_DIR)/kx.log' 2>&1 || \
		{ tail -30 '$(REDIS_DIR)/kx.log' >&2; exit 1; }

# The same source built natively with the same flags (make bench's baseline).
$(REDIS_NATIVE_TREE)/src/redis-server: MAKEOVERRIDES :=
$(REDIS_NATIVE_TREE)/src/redis-server: .ci/debsrc.pins .ci/debsrc.sh tests/redis/module.mk
	$(call say,REDIS,$@)set -e; $(call redis_tree,$(REDIS_NATIVE_TREE)); \
	GIT_CEILING_DIRECTORIES='$(abspath $(REDIS_DIR))' \
	$(MAKE) --no-print-directory -C '$(REDIS_NATIVE_TREE)/src' redis-server \
		CC='$(GUEST_CC)' $(REDIS_MAKEFLAGS) > '$(REDIS_DIR)/native.log' 2>&1 || \
		{ tail -30 '$(REDIS_DIR)/native.log' >&2; exit 1; }

$(REDIS_TEST_DIR)/redis-server.kxe: $(REDIS_KX_TREE)/src/redis-server
	$(call say,CP,$@)mkdir -p $(@D) && cp $< $@

# The dynamic variant (docs/redis.md, "A library updated under load"): Redis's
# own src/siphash.c -- the hash every dict lookup calls (dict.c's
# dictGenHashFunction; the seed stays in dict.c) -- as a pVM library, and
# redis-server linked against it instead of siphash.o.  Still no source
# change: two versions of the library are built from the same file (a
# different -O, so different code; the same function, so the same hashes)
# for kxctl update to swap under redis-benchmark.  redis-server is relinked
# in a copy of the static tree (cp -a keeps the objects up to date), with
# make variables only: REDIS_SERVER_OBJ without siphash.o, and the library
# on FINAL_LIBS (to kx-cc a *.so input makes a dynamic image: DT_NEEDED
# libredis-siphash.so, linked by kxd through the gate).
# Like the tree, the libraries are guest code: built once, in $(REDIS_DIR).
REDIS_DYN_TREE := $(REDIS_DIR)/kx-dyn
REDIS_SIPHASH := $(REDIS_DIR)/siphash
REDIS_SIPHASH_CFLAGS := -std=c99 -g -fno-omit-frame-pointer

$(REDIS_SIPHASH)/v1/libredis-siphash.so: $(REDIS_KX_TREE)/src/redis-server
	$(call say,KXCC,$@)mkdir -p $(@D) && \
	$(abspath $(SDK_CC)) -shared -O2 $(REDIS_SIPHASH_CFLAGS) -o $@ $(REDIS_KX_TREE)/src/siphash.c
$(REDIS_SIPHASH)/v2/libredis-siphash.so: $(REDIS_KX_TREE)/src/redis-server
	$(call say,KXCC,$@)mkdir -p $(@D) && \
	$(abspath $(SDK_CC)) -shared -O1 $(REDIS_SIPHASH_CFLAGS) -o $@ $(REDIS_KX_TREE)/src/siphash.c
$(REDIS_TEST_DIR)/v%/libredis-siphash.so: $(REDIS_SIPHASH)/v%/libredis-siphash.so
	$(call say,CP,$@)mkdir -p $(@D) && cp $< $@

$(REDIS_DYN_TREE)/src/redis-server: MAKEOVERRIDES :=
$(REDIS_DYN_TREE)/src/redis-server: $(REDIS_KX_TREE)/src/redis-server \
		$(REDIS_SIPHASH)/v1/libredis-siphash.so
	$(call say,REDIS,$@)set -e; rm -rf '$(REDIS_DYN_TREE)'; \
	cp -a '$(REDIS_KX_TREE)' '$(REDIS_DYN_TREE)'; rm -f '$@'; \
	objs=$$(sed -n 's/^REDIS_SERVER_OBJ=//p' '$(REDIS_DYN_TREE)/src/Makefile' | \
		tr ' ' '\n' | grep -vx 'siphash.o' | tr '\n' ' '); \
	case " $$objs " in *" dict.o "*) ;; *) echo "no REDIS_SERVER_OBJ in Redis's Makefile" >&2; exit 1;; esac; \
	GIT_CEILING_DIRECTORIES='$(abspath $(REDIS_DIR))' \
	$(MAKE) --no-print-directory -C '$(REDIS_DYN_TREE)/src' redis-server \
		CC='$(abspath $(SDK_CC))' $(REDIS_MAKEFLAGS) REDIS_SERVER_OBJ="$$objs" \
		FINAL_LIBS='-lm $(abspath $(REDIS_SIPHASH)/v1/libredis-siphash.so)' \
		> '$(REDIS_DIR)/kx-dyn.log' 2>&1 || \
		{ tail -30 '$(REDIS_DIR)/kx-dyn.log' >&2; exit 1; }

$(REDIS_TEST_DIR)/redis-server-dyn.kxe: $(REDIS_DYN_TREE)/src/redis-server
	$(call say,CP,$@)mkdir -p $(@D) && cp $< $@

ifeq ($(FUZZ),)
EXTRA_ALL += $(REDIS_TEST_DIR)/redis-server.kxe $(REDIS_TEST_DIR)/redis-server-dyn.kxe \
	$(REDIS_TEST_DIR)/v1/libredis-siphash.so $(REDIS_TEST_DIR)/v2/libredis-siphash.so
# make bench: redis-benchmark, pVM vs native (tests/bench/bench_redis.sh)
BENCH_DEPS += $(REDIS_NATIVE_TREE)/src/redis-server
BENCH_SCRIPTS += tests/bench/bench_redis.sh
endif
