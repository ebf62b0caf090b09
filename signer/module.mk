# signer/: libkxsig.a (verify-only, linked by the manager; with the atomic
# file writer, which kxd uses for its policy serial), libkxsig_sign.a (secret
# keys and signing), and the kxsign tool.
LIBS += kxsig kxsig_sign
kxsig_SRCS := signer/util.c signer/elf.c signer/pubkey.c signer/verify.c signer/atomic.c
kxsig_sign_SRCS := signer/seckey.c signer/passphrase.c signer/sign.c signer/ptrmap.c

UNIT_TESTS += test_signer_util
test_signer_util_SRCS := tests/unit/test_signer_util.c
test_signer_util_LIBS := kxsig
test_signer_util_LDLIBS := -lcmocka -lsodium

PROGS += kxsign
kxsign_SRCS := signer/kxsign.c signer/kxsign_show.c signer/kxsign_ptrmap.c
kxsign_LIBS := kxsig_sign kxsig
kxsign_LDLIBS := -lsodium -ldw -lelf

FUZZERS += fuzz_sigsec fuzz_keyfile
fuzz_sigsec_SRCS := fuzz/fuzz_sigsec.c
fuzz_sigsec_LIBS := kxsig_sign kxsig
fuzz_sigsec_LDLIBS := -lsodium
fuzz_keyfile_SRCS := fuzz/fuzz_keyfile.c
fuzz_keyfile_LIBS := kxsig_sign kxsig
fuzz_keyfile_LDLIBS := -lsodium

UNIT_TESTS += test_signer_sigsec test_signer_keyfile
test_signer_sigsec_SRCS := tests/unit/test_signer_sigsec.c
test_signer_sigsec_LIBS := kxsig_sign kxsig
test_signer_sigsec_LDLIBS := -lcmocka -lsodium
test_signer_keyfile_SRCS := tests/unit/test_signer_keyfile.c
test_signer_keyfile_LIBS := kxsig_sign kxsig
test_signer_keyfile_LDLIBS := -lcmocka -lsodium
