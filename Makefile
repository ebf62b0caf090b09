# kx — top-level, non-recursive build.
#
# Each module folder contributes a `module.mk` that declares what it builds
# through the templates below (libraries, programs, unit tests, fuzzers).
#
#   make                 build everything (into build/)
#   make SANITIZE=1      the same under ASan+UBSan (into build-san/)
#   make test            the whole suite: unit + CLI, again under sanitizers,
#                        then every fuzz harness replaying its corpus
#   make demo            the README's main job
#   make fuzz            time-boxed AFL++ campaign (FUZZ_TIME=seconds, FUZZ_TARGET=name)
#   make fuzz-report     every harness to 10 M executions or 30 min under
#                        ASan+UBSan; the table of docs/fuzzing.md
#                        (FUZZ_TARGET=name: that harness's row only)
#   make bench           performance figures beside their Linux equivalents
#   make test-xen        boot Xen + dom0 under QEMU/TCG and run tests/xen/ inside
#   O=DIR                put every build directory under DIR (parallel work trees)
#
# Variants: FUZZ=libfuzzer (build-fuzz/, clang + libFuzzer + ASan/UBSan) and
# FUZZ=afl (build-afl/, afl-clang-fast) build only libraries and harnesses.

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:

V ?= 0
ifeq ($(V),0)
Q := @
say = @printf '  %-8s %s\n' '$(1)' '$(2)';
else
Q :=
say =
endif

# ---- variant ---------------------------------------------------------------
SANITIZE ?= 0
O ?=
OUT := $(if $(O),$(O)/,)
FUZZ ?=
CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wpointer-arith -Wundef -Wwrite-strings
BASE_CFLAGS = -std=gnu11 -g -MMD -MP $(WARN) -fstack-protector-strong -fPIE \
	-I. -I$(B)/gen
BASE_LDFLAGS := -pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack

ifneq ($(FUZZ),)
ifeq ($(FUZZ),libfuzzer)
B := $(OUT)build-fuzz
CC := clang
VARIANT_CFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -DKX_FUZZING
HARNESS_LDFLAGS := -fsanitize=fuzzer,address,undefined
else ifeq ($(FUZZ),afl)
B := $(OUT)build-afl
CC := afl-clang-fast
VARIANT_CFLAGS := -O2 -DKX_FUZZING
HARNESS_LDFLAGS := -fsanitize=fuzzer
else
$(error FUZZ must be libfuzzer or afl)
endif
else ifeq ($(SANITIZE),1)
B := $(OUT)build-san
VARIANT_CFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
VARIANT_LDFLAGS := -fsanitize=address,undefined
else
B := $(OUT)build
VARIANT_CFLAGS := -O2 -D_FORTIFY_SOURCE=2
endif

CFLAGS_ALL = $(BASE_CFLAGS) $(VARIANT_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(BASE_LDFLAGS) $(VARIANT_LDFLAGS) $(LDFLAGS)

# ---- templates ------------------------------------------------------------
# obj_of: tree sources map to $(B)/obj/<path>.o, generated ones ($(B)/gen/...)
# to $(B)/obj/gen/<path>.o.
obj_of = $(patsubst %.c,$(B)/obj/%.o,$(patsubst $(B)/gen/%.c,$(B)/obj/gen/%.o,$(1)))
lib_of = $(foreach l,$(1),$(B)/lib/lib$(l).a)

ALL_OBJS :=

# $(call kx_lib,NAME)  uses NAME_SRCS  -> $(B)/lib/libNAME.a
define kx_lib
$(B)/lib/lib$(1).a: $(call obj_of,$($(1)_SRCS))
	$$(call say,AR,$$@)mkdir -p $$(@D) && rm -f $$@ && ar rcs $$@ $$^
ALL_OBJS += $(call obj_of,$($(1)_SRCS))
endef

# $(call kx_link,OUTPUT,NAME,EXTRA_LDFLAGS)  uses NAME_SRCS NAME_LIBS NAME_LDLIBS
# Every link ends with libkxcommon.a (common/), which any library may use.  A
# library that needs system libraries names them once in LIB_LIB_LDLIBS;
# every link using it gets them.
define kx_link
$(1): $(call obj_of,$($(2)_SRCS)) $(call lib_of,$($(2)_LIBS) kxcommon)
	$$(call say,LD,$$@)mkdir -p $$(@D) && $$(CC) $$(CFLAGS_ALL) $$(LDFLAGS_ALL) $(3) \
		-o $$@ $(call obj_of,$($(2)_SRCS)) $(call lib_of,$($(2)_LIBS) kxcommon) $($(2)_LDLIBS) \
		$(foreach l,$($(2)_LIBS),$($(l)_LIB_LDLIBS))
ALL_OBJS += $(call obj_of,$($(2)_SRCS))
endef

LIBS :=
PROGS :=
UNIT_TESTS :=
FUZZERS :=
BENCHES :=

include $(sort $(wildcard */module.mk))

ifeq ($(FUZZ),)
$(foreach l,$(LIBS),$(eval $(call kx_lib,$(l))))
$(foreach p,$(PROGS),$(eval $(call kx_link,$(B)/bin/$(p),$(p),)))
$(foreach t,$(UNIT_TESTS),$(eval $(call kx_link,$(B)/tests/$(t),$(t),)))
$(foreach t,$(BENCHES),$(eval $(call kx_link,$(B)/bench/$(t),$(t),)))
else
# Fuzz variants: libraries without the programs; harness objects get the
# fuzzer's own link flags.
$(foreach l,$(filter-out $(NOFUZZ_LIBS),$(LIBS)),$(eval $(call kx_lib,$(l))))
$(foreach f,$(FUZZERS),$(eval $(call kx_link,$(B)/fuzz/$(f),$(f),$(HARNESS_LDFLAGS))))
endif

$(B)/obj/gen/%.o: $(B)/gen/%.c
	$(call say,CC,$<)mkdir -p $(@D) && $(CC) $(CFLAGS_ALL) -c -o $@ $<

$(B)/obj/%.o: %.c
	$(call say,CC,$<)mkdir -p $(@D) && $(CC) $(CFLAGS_ALL) -c -o $@ $<

-include $(ALL_OBJS:.o=.d)

# ---- top-level targets ----------------------------------------------------
PROG_BINS := $(addprefix $(B)/bin/,$(PROGS))
UNIT_BINS := $(addprefix $(B)/tests/,$(UNIT_TESTS))
FUZZ_BINS := $(addprefix $(B)/fuzz/,$(FUZZERS))
BENCH_BINS := $(addprefix $(B)/bench/,$(BENCHES))

.PHONY: all deps progs unit-bins check test demo bench fuzzers fuzz-replay fuzz clean \
	install fuzz-report

ifeq ($(FUZZ),)
all: $(PROG_BINS) $(UNIT_BINS) $(BENCH_BINS) $(EXTRA_ALL)
else
all: fuzzers
endif

deps:
	$(Q)sh .ci/deps.sh

# Unit tests (cmocka) and CLI tests (bats) of this variant.  Each phase
# appends "passed failed" to $(B)/results for the summary line.
check: all
	$(Q)rm -f $(B)/results
	$(Q)sh tests/run-unit.sh $(B) $(UNIT_BINS)
	$(Q)sh tests/run-bats.sh $(B) tests/cli

fuzzers: $(FUZZ_BINS)

# Replays every harness over its seed corpus and regression files (run in the
# libfuzzer variant so replay happens under ASan+UBSan).
fuzz-replay: fuzzers
	$(Q)rm -f $(B)/results
	$(Q)sh fuzz/replay.sh $(B) $(FUZZERS)

FUZZ_TIME ?= 600
FUZZ_TARGET ?=
fuzz: deps
	$(Q)$(MAKE) --no-print-directory FUZZ=afl fuzzers
	$(Q)sh fuzz/campaign.sh $(OUT)build-afl $(FUZZ_TIME) $(if $(FUZZ_TARGET),$(FUZZ_TARGET),$(FUZZERS))

# Fuzzing as evidence (docs/fuzzing.md): libFuzzer under ASan+UBSan, each
# harness until FUZZ_REPORT_EXECS executions or FUZZ_REPORT_TIME seconds.
FUZZ_REPORT_EXECS ?= 10000000
FUZZ_REPORT_TIME ?= 1800
fuzz-report: deps
	$(Q)$(MAKE) --no-print-directory FUZZ=libfuzzer fuzzers
	$(Q)sh fuzz/report.sh $(OUT)build-fuzz $(FUZZ_REPORT_EXECS) $(FUZZ_REPORT_TIME) \
		$(if $(FUZZ_TARGET),$(FUZZ_TARGET),$(FUZZERS))

# The whole suite, as the README and CI run it.
test: deps
	$(Q)$(MAKE) --no-print-directory check
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 check
	$(Q)$(MAKE) --no-print-directory FUZZ=libfuzzer fuzz-replay
	$(Q)sh tests/summary.sh $(OUT)build $(OUT)build-san $(OUT)build-fuzz

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh tests/demo.sh $(B)

# BENCH_SCRIPTS: benchmarks that are shell scripts (run with the build
# directory); BENCH_DEPS: what only they need built.
bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BENCH_DEPS)
	$(Q)sh tests/bench.sh $(B) $(BENCHES) $(BENCH_SCRIPTS)

# make test-xen: Xen 4.17 + dom0 under QEMU/TCG, kx's Xen tests inside (tests/xen/).
include tests/xen/module.mk

PREFIX ?= /usr/local
install: all
	$(Q)install -d $(DESTDIR)$(PREFIX)/bin
	$(Q)install -m 0755 $(PROG_BINS) $(DESTDIR)$(PREFIX)/bin/
	$(Q)for page in docs/man/*.[1-8]; do \
		sec=$${page##*.}; install -d $(DESTDIR)$(PREFIX)/share/man/man$$sec && \
		install -m 0644 $$page $(DESTDIR)$(PREFIX)/share/man/man$$sec/ || exit 1; \
	done

clean:
	$(Q)rm -rf build build-san build-fuzz build-afl
