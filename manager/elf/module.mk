# manager/elf: the ELF loader (libkxelf.a).
LIBS += kxelf
kxelf_SRCS := manager/elf/parse.c manager/elf/dynamic.c manager/elf/symbols.c \
	manager/elf/relocs.c manager/elf/map.c manager/elf/bind.c manager/elf/tree.c \
	manager/elf/rules.c


UNIT_TESTS += test_elf_regress test_elf_load test_elf_signed_reads
test_elf_regress_SRCS := tests/unit/test_elf_regress.c
test_elf_regress_LIBS := kxelf kxsig
test_elf_regress_LDLIBS := -lcmocka -lsodium
test_elf_load_SRCS := tests/unit/test_elf_load.c
test_elf_load_LIBS := kxelf kxsig
test_elf_load_LDLIBS := -lcmocka -lsodium

test_elf_signed_reads_SRCS := tests/unit/test_elf_signed_reads.c fuzz/elf_walk.c
test_elf_signed_reads_LIBS := kxelf kxsig
test_elf_signed_reads_LDLIBS := -lcmocka -lsodium

# Signer and loader share their ELF limits (common/kxelf_limits.h): every
# file the signer accepts passes the loader's, at each limit and one past.
UNIT_TESTS += test_elf_limits
test_elf_limits_SRCS := tests/unit/test_elf_limits.c
test_elf_limits_LIBS := kxelf kxsig_sign kxsig
test_elf_limits_LDLIBS := -lcmocka -lsodium

FUZZERS += fuzz_elf fuzz_elf_signed
fuzz_elf_SRCS := fuzz/fuzz_elf.c fuzz/elf_walk.c
fuzz_elf_LIBS := kxelf
# The differential fuzzer: the loader's reads against the signer's regions.
fuzz_elf_signed_SRCS := fuzz/fuzz_elf_signed.c fuzz/elf_walk.c
fuzz_elf_signed_LIBS := kxelf kxsig
fuzz_elf_signed_LDLIBS := -lsodium

# make bench: the loader beside dlopen() on a generated 111-function library.
BENCHES += bench_elf
bench_elf_SRCS := tests/bench/bench_elf.c
bench_elf_LIBS := kxelf
bench_elf_LDLIBS := -ldl
$(B)/gen/bench/libbench111.c: tests/bench/bench_elf_lib.py
	$(call say,GEN,$@)mkdir -p $(@D) && /usr/bin/python3 $< > $@.tmp && mv $@.tmp $@
$(B)/bench/libbench111.so: $(B)/gen/bench/libbench111.c
	$(call say,CC,$@)mkdir -p $(@D) && $(CC) -shared -fPIC -O2 -nostdlib \
		-Wl,-soname,libbench111.so -o $@ $<
$(B)/bench/bench_elf: | $(B)/bench/libbench111.so
