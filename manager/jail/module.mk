# manager/jail: the monitor's jail (libkxjail.a; jail.h, docs/jail.md):
# namespaces, an empty root, ids, rlimits, a cgroup per pVM (kxd makes a
# forked monitor's) and the seccomp allowlists (libseccomp).
LIBS += kxjail
kxjail_SRCS := manager/jail/jail.c manager/jail/cgroup.c manager/jail/seccomp.c \
	manager/jail/xen.c manager/jail/landlock.c
JAIL_LDLIBS := -lseccomp

# The parts that need no root: the id ranges, cgroup names, the allowlist's
# size per thread; and, in a forked child, that a loaded filter kills on a
# call outside it and lets the allowed ones through.
UNIT_TESTS += test_jail
test_jail_SRCS := tests/unit/test_jail.c
test_jail_LIBS := kxjail
test_jail_LDLIBS := $(JAIL_LDLIBS) -lcmocka
