# policy-lang/front.mk: libkxpolicy_front.a, the manifest front end (YAML
# reader, version-constraint language, checker, diagnostics), its unit tests
# and its fuzz harnesses.  Programs link it before libkxp.a (versions)
# and libkxsig.a (key files), with -lyaml -lsodium.
PM_GEN := $(B)/gen/policy-lang

LIBS += kxpolicy_front
kxpolicy_front_SRCS := policy-lang/diag.c policy-lang/manifest.c policy-lang/range.c \
	policy-lang/schema.c policy-lang/app.c policy-lang/library.c policy-lang/check.c policy-lang/files.c \
	policy-lang/mount.c policy-lang/network.c \
	$(PM_GEN)/expr.tab.c $(PM_GEN)/expr.lex.c

PM_FRONT_LIBS := kxpolicy_front kxp kxsig
PM_FRONT_LDLIBS := -lyaml -lsodium

# Generated parser and scanner.  Bison writes the header the scanner
# includes; both land in $(B)/gen, which is on the include path.
$(PM_GEN)/expr.tab.c $(PM_GEN)/expr.tab.h &: policy-lang/expr.y
	$(call say,BISON,$<)mkdir -p $(@D) && \
		bison -Wall -Werror --defines=$(PM_GEN)/expr.tab.h -o $(PM_GEN)/expr.tab.c $<
$(PM_GEN)/expr.lex.c: policy-lang/expr.l
	$(call say,FLEX,$<)mkdir -p $(@D) && flex -o $@ $<
$(call obj_of,$(PM_GEN)/expr.lex.c): $(PM_GEN)/expr.tab.h

PM_FRONT_TESTS := test_policy_front_expr test_policy_front_manifest test_policy_front_diag
UNIT_TESTS += $(PM_FRONT_TESTS)
$(foreach t,$(PM_FRONT_TESTS),$(eval $(t)_SRCS := tests/unit/$(t).c) \
	$(eval $(t)_LIBS := $(PM_FRONT_LIBS)) $(eval $(t)_LDLIBS := $(PM_FRONT_LDLIBS) -lcmocka))

# Allocation-failure injection: kx code's allocations go through wrappers.
UNIT_TESTS += test_policy_front_oom
test_policy_front_oom_SRCS := tests/unit/test_policy_front_oom.c
test_policy_front_oom_LIBS := $(PM_FRONT_LIBS)
test_policy_front_oom_LDLIBS := $(PM_FRONT_LDLIBS) -lcmocka \
	$(foreach f,malloc calloc realloc strdup,-Wl,--wrap=$(f))

PM_FRONT_FUZZERS := fuzz_manifest fuzz_expr
FUZZERS += $(PM_FRONT_FUZZERS)
$(foreach f,$(PM_FRONT_FUZZERS),$(eval $(f)_SRCS := fuzz/$(f).c) \
	$(eval $(f)_LIBS := $(PM_FRONT_LIBS)) $(eval $(f)_LDLIBS := $(PM_FRONT_LDLIBS)))
