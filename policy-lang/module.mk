# policy-lang/: kxpolicy.
#   libkxp.a             the table reader and the decision function (and
#                        versions): what the manager links.  back.mk
#   libkxpolicy_front.a  manifest reader (libyaml), expression language
#                        (flex/bison), checker, diagnostics.  front.mk
#   kxpolicy             the CLI.  back.mk
LIBS += kxp
kxp_SRCS := policy-lang/version.c policy-lang/syntax.c policy-lang/date.c

UNIT_TESTS += test_policy_version
test_policy_version_SRCS := tests/unit/test_policy_version.c
test_policy_version_LIBS := kxp
test_policy_version_LDLIBS := -lcmocka

-include policy-lang/front.mk
-include policy-lang/back.mk
