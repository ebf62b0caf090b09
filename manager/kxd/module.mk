# manager/kxd/module.mk: kxd, the mapper (manager/kxd/), and the control protocol
# it shares with kxctl (libkxdproto.a).
LIBS += kxdproto
kxdproto_SRCS := manager/kxd/proto.c

PROGS += kxd
kxd_SRCS := manager/kxd/main.c manager/kxd/control.c manager/kxd/registry.c \
	manager/kxd/chan.c manager/kxd/libstore.c
kxd_SRCS += manager/kxd/signal.c
kxd_SRCS += manager/kxd/ipc.c
kxd_SRCS += manager/kxd/pool.c manager/kxd/recycle.c
kxd_SRCS += manager/kxd/update.c
kxd_SRCS += manager/kxd/policy.c
kxd_SRCS += manager/kxd/audit.c manager/kxd/audit_commit.c
kxd_SRCS += manager/kxd/jail.c
kxd_SRCS += manager/kxd/files.c # posix-fs
kxd_SRCS += manager/kxd/net.c # network
kxd_LIBS := kxdproto kxchan kxgate kxp kxsig_sign kxsig kxjail
kxd_LDLIBS := -lsodium -lpthread $(JAIL_LDLIBS)

# The protocol checks (control requests and answers, channel messages) on
# hostile datagrams.
UNIT_TESTS += test_kxd_proto
test_kxd_proto_SRCS := tests/unit/test_kxd_proto.c
test_kxd_proto_LIBS := kxdproto kxchan
test_kxd_proto_LDLIBS := -lcmocka

# Every check above on arbitrary bytes and fd counts (fuzz/fuzz_kxd.c);
# seeds from fuzz/gen/kxd.py.
FUZZERS += fuzz_kxd
fuzz_kxd_SRCS := fuzz/fuzz_kxd.c
fuzz_kxd_LIBS := kxdproto kxchan

# make bench: pVM fork latency and signal round trips beside Linux, through
# a private kxd running tests/guest/sigt.c (docs/signals.md).
BENCHES += bench_fork bench_signal
bench_fork_SRCS := tests/bench/bench_fork.c tests/bench/bench_fork_kxd.c
bench_signal_SRCS := tests/bench/bench_signal.c tests/bench/bench_fork_kxd.c
