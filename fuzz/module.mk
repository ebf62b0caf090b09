# fuzz/: one harness per parser, each fuzz_NAME.c defining
# LLVMFuzzerTestOneInput, with seeds in fuzz/corpus/NAME/, regression inputs
# in fuzz/regress/NAME/ and an optional dictionary fuzz/dict/NAME.dict.
# The module that owns the parser declares the harness in its own module.mk:
#   FUZZERS += fuzz_NAME   with fuzz_NAME_SRCS / _LIBS / _LDLIBS.
# make test replays every corpus under ASan+UBSan (FUZZ=libfuzzer);
# make fuzz runs AFL++ (FUZZ=afl) for FUZZ_TIME seconds per harness.
