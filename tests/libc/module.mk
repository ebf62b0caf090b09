# tests/libc/: the libc conformance programs (included from guest/module.mk).
# Each is built natively with the host's gcc and glibc, and as a pVM image
# with the SDK's kx-cc, the way an app developer builds one; the same flags
# for both.  tests/cli/libc.bats runs both and compares their output.

LIBC_TESTS := stdio memory files dirs pipes fdops threads timing signals epoll
# posix-mon
LIBC_TESTS += clockloop sleeper spinner forker alarms stdin
# web: sendfile (lighttpd sends files with it)
LIBC_TESTS += sendfile
# issue 13: sigaltstack and SA_ONSTACK
LIBC_TESTS += altstack
# issue 13: eventfd and timerfd
LIBC_TESTS += fdevents
# issue 13: signalfd
LIBC_TESTS += sigfd
LIBC_KX_ONLY := kxonly imagetree hostdirs
# bench13
LIBC_KX_ONLY += pipewake
LIBC_TEST_DIR := $(B)/tests/libc
LIBC_TEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-result -D_GNU_SOURCE \
	-pthread

$(LIBC_TEST_DIR)/native/%: tests/libc/%.c tests/libc/check.h
	$(call say,NATIVE,$@)mkdir -p $(@D) && $(CC) $(LIBC_TEST_CFLAGS) -o $@ $< -lm

$(LIBC_TEST_DIR)/kx/%.kxe: tests/libc/%.c tests/libc/check.h $(SDK_STAMP)
	$(call say,KX-CC,$@)mkdir -p $(@D) && $(SDK_CC) $(LIBC_TEST_CFLAGS) -o $@ $< -lm

ifeq ($(FUZZ),)
EXTRA_ALL += $(foreach t,$(LIBC_TESTS),$(LIBC_TEST_DIR)/native/$(t) $(LIBC_TEST_DIR)/kx/$(t).kxe) \
	$(foreach t,$(LIBC_KX_ONLY),$(LIBC_TEST_DIR)/kx/$(t).kxe)
endif

# imagetree: the image's read-only file tree (kx-pack), from tests/libc/tree,
# mounted at /srv/tree.
LIBC_TREE_FILES := $(shell find tests/libc/tree -type f 2>/dev/null)
$(LIBC_TEST_DIR)/kx/imagetree-tree.o: $(LIBC_TREE_FILES) $(SDK_STAMP)
	$(call say,KX-PACK,$@)mkdir -p $(@D) && $(SDK)/bin/kx-pack -m /srv/tree -o $@ tests/libc/tree
$(LIBC_TEST_DIR)/kx/imagetree.kxe: tests/libc/imagetree.c tests/libc/check.h \
		$(LIBC_TEST_DIR)/kx/imagetree-tree.o $(SDK_STAMP)
	$(call say,KX-CC,$@)mkdir -p $(@D) && $(SDK_CC) $(LIBC_TEST_CFLAGS) -o $@ $< \
		$(LIBC_TEST_DIR)/kx/imagetree-tree.o -lm
# posix-mon: make bench's system-call loop (tests/bench/posix_loop.c), built
# natively and with kx-cc like the conformance programs; bench_posix runs both.
BENCHES += bench_posix
bench_posix_SRCS := tests/bench/bench_posix.c
$(B)/bench/posix_loop: tests/bench/posix_loop.c
	$(call say,NATIVE,$@)mkdir -p $(@D) && $(CC) $(LIBC_TEST_CFLAGS) -o $@ $<
$(B)/bench/posix_loop.kxe: tests/bench/posix_loop.c $(SDK_STAMP)
	$(call say,KX-CC,$@)mkdir -p $(@D) && $(SDK_CC) $(LIBC_TEST_CFLAGS) -o $@ $<
ifeq ($(FUZZ),)
EXTRA_ALL += $(B)/bench/posix_loop $(B)/bench/posix_loop.kxe
endif
# bench13: the calls that need kxd (a granted host directory, pipes shared
# between pVMs), tests/bench/posix_kxd_loop.c, run by bench_posix_kxd.sh.
BENCH_SCRIPTS += tests/bench/bench_posix_kxd.sh
$(B)/bench/posix_kxd_loop: tests/bench/posix_kxd_loop.c
	$(call say,NATIVE,$@)mkdir -p $(@D) && $(CC) $(LIBC_TEST_CFLAGS) -o $@ $<
$(B)/bench/posix_kxd_loop.kxe: tests/bench/posix_kxd_loop.c $(SDK_STAMP)
	$(call say,KX-CC,$@)mkdir -p $(@D) && $(SDK_CC) $(LIBC_TEST_CFLAGS) -o $@ $<
ifeq ($(FUZZ),)
EXTRA_ALL += $(B)/bench/posix_kxd_loop $(B)/bench/posix_kxd_loop.kxe
endif
