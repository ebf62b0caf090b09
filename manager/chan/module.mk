# manager/chan: the kxd<->kxmon channel (libkxchan.a): chan.h is the message
# layout both ends include, check.c the checks of both directions.
LIBS += kxchan
kxchan_SRCS := manager/chan/check.c

# kxmon's check of every message from kxd (fuzz/fuzz_kxmon.c; fuzz_kxd, in
# manager/kxd, covers the other direction).
FUZZERS += fuzz_kxmon
fuzz_kxmon_SRCS := fuzz/fuzz_kxmon.c
fuzz_kxmon_LIBS := kxchan

# The same check over the corpus, whose names say the verdicts.
UNIT_TESTS += test_kxmon_check
test_kxmon_check_SRCS := tests/unit/test_kxmon_check.c
test_kxmon_check_LIBS := kxchan
test_kxmon_check_LDLIBS := -lcmocka
