# common/: the lowest module (libkxcommon.a).  It includes nothing of kx;
# every program links it last (the Makefile's kx_link adds it), so any
# library may use it.
#   kxerr.h         the error convention: 0 or -errno, struct kx_error,
#                   kx_err / kx_err_wrap
#   kxfd.h          checks of received file descriptors (seals)
#   kxelf_limits.h  the ELF limits the signer and the loader share
#   kxptrmap.h      the pointer map format: the signer writes it, the loader
#                   and the online update read it
LIBS += kxcommon
kxcommon_SRCS := common/kxerr.c common/kxfd.c common/kxptrmap.c

UNIT_TESTS += test_common
test_common_SRCS := tests/unit/test_common.c
test_common_LDLIBS := -lcmocka

# The pointer map's decoder: its own harness (seeds: fuzz/gen/ptrmap.py) and
# unit test (hostile maps with exact diagnostics, the loader's checks).
FUZZERS += fuzz_ptrmap
fuzz_ptrmap_SRCS := fuzz/fuzz_ptrmap.c

UNIT_TESTS += test_ptrmap
test_ptrmap_SRCS := tests/unit/test_ptrmap.c
test_ptrmap_LIBS := kxelf kxsig_sign kxsig
test_ptrmap_LDLIBS := -lcmocka -lsodium
