# manager/kxmon: the per-pVM monitor.  libkxmonitor.a holds everything but
# main(), so the tests and fuzz harnesses link it instead of rebuilding its
# sources.
LIBS += kxmonitor
kxmonitor_SRCS := manager/kxmon/client.c

PROGS += kxmon
kxmon_SRCS := manager/kxmon/main.c
kxmon_LIBS := kxmonitor kxhv kxchan kxelf kxjail
kxmon_LDLIBS := $(JAIL_LDLIBS)

# kxmon: a RECYCLE_* message outside the pool's wait breaks the channel.
UNIT_TESTS += test_kxmon_recycle
test_kxmon_recycle_SRCS := tests/unit/test_kxmon_recycle.c tests/hv/hv_fake.c
test_kxmon_recycle_LIBS := kxmonitor kxhv kxchan kxelf kxdproto
test_kxmon_recycle_LDLIBS := -lcmocka
