# common/: the lowest module (libkxcommon.a).  It includes nothing of kx;
# every program links it last (the Makefile's kx_link adds it), so any
# library may use it.
#   kxerr.h         the error convention: 0 or -errno, struct kx_error,
#                   kx_err / kx_err_wrap
#   kxfd.h          checks of received file descriptors (seals)
#   kxelf_limits.h  the ELF limits the signer and the loader share
LIBS += kxcommon
kxcommon_SRCS := common/kxerr.c common/kxfd.c

UNIT_TESTS += test_common
test_common_SRCS := tests/unit/test_common.c
test_common_LDLIBS := -lcmocka
