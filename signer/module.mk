# signer/: libkxsig.a (verify-only, linked by the manager), libkxsig_sign.a
# (secret keys and signing), and the kxsign tool.
LIBS += kxsig
kxsig_SRCS := signer/util.c

UNIT_TESTS += test_signer_util
test_signer_util_SRCS := tests/unit/test_signer_util.c
test_signer_util_LIBS := kxsig
test_signer_util_LDLIBS := -lcmocka
