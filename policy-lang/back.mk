# policy-lang/back.mk: the back end of kxpolicy.
#   libkxp.a             + the table reader, lookups and the decision function
#                        (what the manager links, with libkxsig.a -lsodium)
#   libkxpolicy_tools.a  table writer, admin signing, dump, diff, graph and
#                        explain's request parser (the CLI, tests, fuzzer, bench)
#   kxpolicy             the CLI
kxp_SRCS += policy-lang/reader.c policy-lang/reader_io.c policy-lang/lookup.c policy-lang/decide.c

LIBS += kxpolicy_tools
kxpolicy_tools_SRCS := policy-lang/writer.c policy-lang/sign.c policy-lang/dump.c \
	policy-lang/diff.c policy-lang/graph.c policy-lang/explain.c

PB_LIBS := kxpolicy_tools kxp kxsig_sign kxsig
PB_LDLIBS := -lsodium

PROGS += kxpolicy
kxpolicy_SRCS := policy-lang/kxpolicy.c
kxpolicy_LIBS := kxpolicy_front $(PB_LIBS)
kxpolicy_LDLIBS := -lyaml -lsodium

UNIT_TESTS += test_policy_tables test_policy_reader test_policy_decide test_policy_diff
PB_FIXTURE := tests/unit/test_policy_fixture.c
test_policy_tables_SRCS := tests/unit/test_policy_tables.c $(PB_FIXTURE)
test_policy_reader_SRCS := tests/unit/test_policy_reader.c $(PB_FIXTURE)
test_policy_decide_SRCS := tests/unit/test_policy_decide.c $(PB_FIXTURE)
test_policy_diff_SRCS := tests/unit/test_policy_diff.c $(PB_FIXTURE)
$(foreach t,tables reader decide diff,$(eval test_policy_$(t)_LIBS := $(PB_LIBS)) \
	$(eval test_policy_$(t)_LDLIBS := $(PB_LDLIBS) -lcmocka))

FUZZERS += fuzz_kxp
fuzz_kxp_SRCS := fuzz/fuzz_kxp.c
fuzz_kxp_LIBS := kxpolicy_tools kxp kxsig
fuzz_kxp_LDLIBS := -lsodium

BENCHES += bench_policy
bench_policy_SRCS := tests/bench/bench_policy.c
bench_policy_LIBS := $(PB_LIBS)
bench_policy_LDLIBS := $(PB_LDLIBS)

# Seeds of fuzz_kxp, compiled from the example manifests.  The format is
# versioned: after a change to kxp_abi.h, run `make kxp-corpus` and commit.
# Fixed serials (the default is the time) keep the seeds reproducible.
KXP_CORPUS := fuzz/corpus/kxp
.PHONY: kxp-corpus
kxp-corpus: $(B)/bin/kxpolicy
	$(Q)mkdir -p $(KXP_CORPUS) $(B)/kxp-corpus
	$(Q)$(B)/bin/kxpolicy compile --serial 1 -o $(KXP_CORPUS)/examples.kxp manifests/*.yaml
	$(Q)$(B)/bin/kxpolicy compile --serial 1796659917 -o $(KXP_CORPUS)/examples-signed.kxp \
		-s tests/data/keys/acme.sec manifests/*.yaml
	$(Q)cp manifests/keys/webco.pub $(B)/kxp-corpus/k.pub
	$(Q)printf 'kx-manifest: 1\napp: tiny\nimage: tiny.kxe\nmemory: 1M\nkeys: {k: k.pub}\naudit: {rate: 10, burst: 50}\n' \
		> $(B)/kxp-corpus/tiny.yaml
	$(Q)cd $(B)/kxp-corpus && $(abspath $(B)/bin/kxpolicy) compile --serial 18446744073709551615 -o tiny.kxp tiny.yaml
	$(Q)cp $(B)/kxp-corpus/tiny.kxp $(KXP_CORPUS)/tiny.kxp
	$(Q)cp manifests/keys/acme.pub $(B)/kxp-corpus/a.pub
	$(Q)printf '%s\n' 'kx-manifest: 1' 'app: rot' 'image: rot.kxe' 'memory: 1M' 'keys:' \
		'  old: {file: k.pub, until: 2027-01-01}' \
		'  new: {file: a.pub, from: "2026-12-01T12:00:00Z"}' \
		'libraries: [{name: librot, signed-by: [old, new], update: allow}]' \
		> $(B)/kxp-corpus/rotation.yaml
	$(Q)cd $(B)/kxp-corpus && $(abspath $(B)/bin/kxpolicy) compile --serial 2 -o rotation.kxp \
		rotation.yaml
	$(Q)cp $(B)/kxp-corpus/rotation.kxp $(KXP_CORPUS)/rotation.kxp
