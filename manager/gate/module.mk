# manager/gate/module.mk: the gate (manager/gate/, libkxgate.a): every boot, link,
# update, fork, IpC and recycle decision goes through it, and into the audit
# log.  Programs link it before libkxp.a and libkxsig.a, with -lsodium.
LIBS += kxgate
kxgate_SRCS := manager/gate/gate.c manager/gate/sigcheck.c manager/gate/audit_write.c \
	manager/gate/json.c manager/gate/audit_read.c manager/gate/audit_format.c \
	manager/gate/audit_verify.c manager/gate/audit_event.c \
	manager/gate/audit_sync.c
GATE_LDLIBS := -lsodium -lpthread

# Unit tests, over a policy compiled from tests/data/gate/ by the kxpolicy
# just built, libraries built from C sources there and signed in the tests:
#   test_gate        the six ops, decision and audit record, case by case
#   test_gate_cache  the signature cache
#   test_gate_audit  the log: escaping, durability failures, the reader, the
#                    human view
#   test_gate_chain  the hash chain and seals against every kind of tampering,
#                    rotation, and a log that fills up (RLIMIT_FSIZE)
GATE_TESTS := test_gate test_gate_cache test_gate_audit test_gate_chain
UNIT_TESTS += $(GATE_TESTS)
$(foreach t,$(GATE_TESTS),$(eval $(t)_SRCS := tests/unit/$(t).c tests/unit/test_gate_fixture.c) \
	$(eval $(t)_LIBS := kxgate kxp kxsig_sign kxsig) \
	$(eval $(t)_LDLIBS := $(GATE_LDLIBS) -lcmocka))

# make bench: kxd's host side of a link (read the file + gate_link: the
# signature verified or cached, the decision, the audit record) beside
# dlopen() of the same file, over the unit tests' policy and library.
BENCHES += bench_gate
bench_gate_SRCS := tests/bench/bench_gate.c
bench_gate_LIBS := kxgate kxp kxsig_sign kxsig
bench_gate_LDLIBS := $(GATE_LDLIBS) -ldl

FUZZERS += fuzz_audit
fuzz_audit_SRCS := fuzz/fuzz_audit.c
fuzz_audit_LIBS := kxgate kxsig
fuzz_audit_LDLIBS := $(GATE_LDLIBS)

# ---- test data: $(B)/gate-data/ -------------------------------------------------
# Libraries and an app image from C sources (plain cc, no sanitizers: they are
# only read and signed, never run); the manifests get the absolute path of the
# example keys and the content digest of revoked.so, which no one can know
# before the compiler has built it; then kxpolicy compiles them.
ifeq ($(FUZZ),)
GATE_DATA := $(B)/gate-data
GATE_SRC := tests/data/gate
GATE_SOS := $(addprefix $(GATE_DATA)/,good.so other.so revoked.so)
GATE_SECS := $(addprefix $(GATE_DATA)/,acme.sec acme-2019.sec libc-team.sec backup-team.sec)
GATE_FILES := $(GATE_SOS) $(GATE_SECS) $(GATE_DATA)/app.kxe $(GATE_DATA)/gate.kxp

$(GATE_SOS): $(GATE_DATA)/%.so: $(GATE_SRC)/%.c
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) -shared -fPIC -O1 -o $@ $<

# the example keys' secret halves (tests/data/keys/README.md), beside the rest
$(GATE_SECS): $(GATE_DATA)/%.sec: tests/data/keys/%.sec
	$(call say,CP,$@)mkdir -p $(@D) && cp $< $@

$(GATE_DATA)/app.kxe: $(GATE_SRC)/app.c
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) -static -nostdlib -fno-pie -no-pie -O1 -o $@ $<

$(GATE_DATA)/%.yaml: $(GATE_SRC)/%.yaml.in $(GATE_DATA)/revoked.so $(B)/bin/kxsign
	$(call say,GEN,$@)digest=$$($(B)/bin/kxsign digest $(GATE_DATA)/revoked.so | cut -d' ' -f1) \
		&& sed -e 's|@KEYS@|$(abspath manifests/keys)|g' -e "s|@REVOKED_DIGEST@|$$digest|g" \
		$< > $@.tmp && mv $@.tmp $@

$(GATE_DATA)/gate.kxp: $(GATE_DATA)/notes.yaml $(GATE_DATA)/sync.yaml $(B)/bin/kxpolicy
	$(call say,KXP,$@)$(B)/bin/kxpolicy compile -o $@ $(GATE_DATA)/notes.yaml \
		$(GATE_DATA)/sync.yaml > $@.log 2>&1 || { cat $@.log; exit 1; }

$(addprefix $(B)/tests/,$(GATE_TESTS)) $(B)/bench/bench_gate: $(GATE_FILES)
endif
