# tests/xen/: make test-xen — boots Xen 4.17 + a Debian dom0 under QEMU/TCG
# (tests/xen/run.sh) with the Xen pVM images and tests/xen/dom0/*.sh as the
# payload, runs dom0/guest.sh inside, and ends with one line
#     xen (guest, Ns): N passed, N failed
# Downloads (pinned .debs, tests/xen/packages.lock) are cached in
# $(KX_XEN_CACHE), by default $(B)/xen/cache.  KX_XEN_TIMEOUT (seconds, 300)
# bounds the whole boot.

KX_XEN_CACHE ?= $(B)/xen/cache
XEN_PAYLOAD := $(B)/xen/payload
XEN_TEST_IMAGES := $(foreach a,$(GUEST_XEN_APPS),$(B)/guest/xen/$(a).kxe)

.PHONY: test-xen
test-xen: deps
	$(Q)$(MAKE) --no-print-directory $(XEN_TEST_IMAGES)
	$(Q)rm -rf $(XEN_PAYLOAD) && mkdir -p $(XEN_PAYLOAD)/guest $(XEN_PAYLOAD)/dom0
	$(Q)cp $(XEN_TEST_IMAGES) $(XEN_PAYLOAD)/guest/
	$(Q)cp tests/xen/dom0/*.sh $(XEN_PAYLOAD)/dom0/
	$(Q)sh tests/xen/run.sh -c $(KX_XEN_CACHE) -w $(B)/xen $(XEN_PAYLOAD) dom0/guest.sh
