# tests/xen/: make test-xen — boots Xen 4.17 + a Debian dom0 under QEMU/TCG
# (tests/xen/run.sh) with the Xen pVM images and tests/xen/dom0/*.sh as the
# payload, runs dom0/all.sh inside (guest.sh: images under plain xl create;
# ring.sh: the same images served over the kx ring by tests/xen/ringpeer;
# kxmon.sh: kxmon --backend xen, the real backend on the core; kxd.sh: kxd
# --backend xen, signed and refused boots, the audit log; fork.sh: kx_fork
# through kxd --backend xen, decided by gate_fork; pipe.sh: a pipe between
# parent and child; signal.sh: kx_kill between them; posix.sh: SDK
# programs built with kx-cc --backend xen against their native output),
# then, in a second boot, boot2.sh: jail.sh (the jailed Xen monitor) and
# more.sh (zombie reapers, zeroed frames, an object another domain holds),
# and ends with one line
#     xen (kx, Ns): N passed, N failed
# Downloads (pinned .debs, tests/xen/packages.lock) are cached in
# $(KX_XEN_CACHE), by default $(B)/xen/cache.  KX_XEN_TIMEOUT (seconds, 600)
# bounds the whole boot (600: a loaded machine took 180 s, a very loaded one
# 447 s with fork and pipe).

KX_XEN_CACHE ?= $(B)/xen/cache
XEN_PAYLOAD := $(B)/xen/payload
XEN_TEST_IMAGES := $(foreach a,$(GUEST_XEN_APPS),$(B)/guest/xen/$(a).kxe)

# ringpeer: a test stand-in for the monitor's end of the kx ring, run in
# dom0 (libxenctrl, libxenforeignmemory, libxenevtchn from libxen-dev).
XEN_RINGPEER := $(B)/xen/bin/ringpeer
XEN_RINGPEER_SRCS := tests/xen/ringpeer.c tests/xen/elfnote.c guest/xen/ring.c
$(XEN_RINGPEER): $(XEN_RINGPEER_SRCS) guest/xen/ring.h guest/kx_ring_abi.h tests/xen/elfnote.h
	$(call say,LD,$@)mkdir -p $(@D) && $(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -MF $@.d -o $@ \
		$(XEN_RINGPEER_SRCS) -lxenctrl -lxenforeignmemory -lxenevtchn -lxentoollog

# SDK programs on Xen (dom0/posix.sh): tests/libc's conformance programs
# that need no threads and no signal handlers, linked by `kx-cc --backend xen` from
# the same source and flags as their KVM images; beside each, NAME.native:
# what the native build prints on this host (fresh scratch directory, stdin
# empty, no fd above 2 open, as tests/cli/libc.bats runs it).
XEN_POSIX_TESTS := stdio memory files timing dirs fdops pipes
# No native output: spinner (its threads need preemption, which xen
# refuses) and hostdirs (signed by fixture.sh; files granted through kxd).
XEN_POSIX_IMAGES := $(foreach t,$(XEN_POSIX_TESTS) spinner hostdirs,$(LIBC_TEST_DIR)/xen/$(t).kxe)
XEN_POSIX_NATIVE := $(foreach t,$(XEN_POSIX_TESTS),$(LIBC_TEST_DIR)/native/$(t))
$(LIBC_TEST_DIR)/xen/%.kxe: tests/libc/%.c tests/libc/check.h $(SDK_STAMP)
	$(call say,KX-CC,$@)mkdir -p $(@D) && $(SDK_CC) --backend xen $(LIBC_TEST_CFLAGS) -o $@ $< -lm
ifeq ($(FUZZ),)
EXTRA_ALL += $(XEN_POSIX_IMAGES)
endif

# kx itself in dom0: kxmon --backend xen (dom0/kxmon.sh), kxd --backend xen
# and kxctl (dom0/kxd.sh, with tests/xen/fixture.sh's policy and images).
XEN_KX_BINS := $(B)/bin/kxmon $(B)/bin/kxd $(B)/bin/kxctl

.PHONY: test-xen bench-xen xen-payload
xen-payload: deps
	$(Q)$(MAKE) --no-print-directory $(XEN_TEST_IMAGES) $(XEN_RINGPEER) $(XEN_KX_BINS) \
		$(XEN_POSIX_IMAGES) $(XEN_POSIX_NATIVE)
	$(Q)rm -rf $(XEN_PAYLOAD) && mkdir -p $(XEN_PAYLOAD)/guest $(XEN_PAYLOAD)/dom0 \
		$(XEN_PAYLOAD)/bin $(XEN_PAYLOAD)/posix
	$(Q)cp $(XEN_TEST_IMAGES) $(XEN_PAYLOAD)/guest/
	$(Q)cp $(XEN_POSIX_IMAGES) $(XEN_PAYLOAD)/posix/
	$(Q)for t in $(XEN_POSIX_TESTS); do \
		scratch=$$(mktemp -d) && \
		bash -c 'cd / && for fd in /proc/$$BASHPID/fd/*; do n=$${fd##*/}; \
			[ "$$n" -gt 2 ] && eval "exec $$n>&-"; done 2>/dev/null; \
			exec "$$0" "$$1" </dev/null' "$(abspath $(LIBC_TEST_DIR))/native/$$t" "$$scratch" \
			> $(XEN_PAYLOAD)/posix/$$t.native; rc=$$?; rm -rf "$$scratch"; \
		[ $$rc -eq 0 ] || { echo "xen-payload: the native $$t failed ($$rc)" >&2; exit 1; }; \
	done
	$(Q)cp $(XEN_RINGPEER) $(XEN_KX_BINS) $(XEN_PAYLOAD)/bin/
	$(Q)sh tests/xen/fixture.sh $(B) $(XEN_PAYLOAD)/kxd
	$(Q)cp tests/xen/dom0/*.sh $(XEN_PAYLOAD)/dom0/

# Two boots: everything unjailed (all.sh), then the jailed monitor
# (boot2.sh: jail.sh, the Xen profile of docs/jail.md, and more.sh), each
# within KX_XEN_TIMEOUT;
# both run, and either failing fails the target.
test-xen: xen-payload
	$(Q)rc=0; \
	sh tests/xen/run.sh -c $(KX_XEN_CACHE) -w $(B)/xen -n kx $(XEN_PAYLOAD) dom0/all.sh || rc=1; \
	sh tests/xen/run.sh -c $(KX_XEN_CACHE) -w $(B)/xen -n boot2 $(XEN_PAYLOAD) dom0/boot2.sh || rc=1; \
	exit $$rc

# make bench-xen: boot to exit through kxmon --backend xen beside xl create of
# the same image, and the kx ring's round trip, in one TCG boot (ratios only:
# every figure is emulated).  The figures are the log's "bench:" lines.
bench-xen: xen-payload
	$(Q)sh tests/xen/run.sh -c $(KX_XEN_CACHE) -w $(B)/xen -n bench $(XEN_PAYLOAD) \
		dom0/bench.sh; rc=$$?; grep '^bench:' $(B)/xen/bench.serial.log; exit $$rc
