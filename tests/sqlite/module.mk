# tests/sqlite/: SQLite's command-line shell, from Debian's own `sqlite3`
# source package (pinned in .ci/debsrc.pins, cached in $(KX_SRC_CACHE)),
# built without a change to its source: its configure generates the
# amalgamation (sqlite3.c, shell.c; needs tclsh), which kx-cc compiles into
# a pVM image and the host's gcc into a native shell, with the same flags.
# tests/cli/sqlite.bats runs tests/sqlite/script.sql with both, against a
# database in tmpfs and in a host directory granted by a `files` rule.
#
# Guest code is the same in every build variant: the amalgamation and the
# two shells' objects are made once, in $(OUT)build/sqlite; each variant
# only links its image (with the script packed into it at /sql by kx-pack).

SQLITE_DIR := $(OUT)build/sqlite
SQLITE_AMALG := $(SQLITE_DIR)/bld/sqlite3.c
# What `configure --disable-threadsafe --disable-load-extension` gives the
# shell; -O1 keeps the build short.
SQLITE_CFLAGS := -O1 -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DHAVE_USLEEP=1 \
	-DHAVE_ISNAN=1 -w
SQLITE_TEST_DIR := $(B)/tests/sqlite

$(SQLITE_AMALG): MAKEOVERRIDES :=
$(SQLITE_AMALG): .ci/debsrc.pins .ci/debsrc.sh tests/sqlite/module.mk
	$(call say,SQLITE,$(SQLITE_DIR))set -e; \
	src=$$(KX_SRC_CACHE='$(KX_SRC_CACHE)' sh .ci/debsrc.sh sqlite3); \
	rm -rf '$(SQLITE_DIR)'; mkdir -p '$(SQLITE_DIR)/bld'; \
	cd '$(SQLITE_DIR)/bld' && "$$src/configure" --disable-tcl --disable-readline \
		--disable-editline > ../configure.log 2>&1 || \
		{ cat ../configure.log >&2; exit 1; }; \
	cd '$(CURDIR)'; \
	$(MAKE) --no-print-directory -C '$(SQLITE_DIR)/bld' sqlite3.c shell.c \
		> '$(SQLITE_DIR)/amalgamation.log' 2>&1 || \
		{ tail -30 '$(SQLITE_DIR)/amalgamation.log' >&2; exit 1; }

$(SQLITE_DIR)/kx-%.o: $(SQLITE_AMALG) $(LIBC_A) | $(SDK_STAMP)
	$(call say,KX-CC,$@)$(SDK_CC) $(SQLITE_CFLAGS) -c -o $@ $(SQLITE_DIR)/bld/$*.c

$(SQLITE_DIR)/sqlite3-native: $(SQLITE_AMALG)
	$(call say,NATIVE,$@)$(GUEST_CC) $(SQLITE_CFLAGS) -o $@ $(SQLITE_DIR)/bld/shell.c \
		$(SQLITE_DIR)/bld/sqlite3.c -lm

$(SQLITE_TEST_DIR)/tree.o: tests/sqlite/script.sql $(SDK_STAMP)
	$(call say,KX-PACK,$@)mkdir -p $(@D)/tree && cp tests/sqlite/script.sql $(@D)/tree/ && \
		$(SDK)/bin/kx-pack -m /sql -o $@ $(@D)/tree

$(SQLITE_TEST_DIR)/sqlite3.kxe: $(SQLITE_DIR)/kx-shell.o $(SQLITE_DIR)/kx-sqlite3.o \
		$(SQLITE_TEST_DIR)/tree.o $(SDK_STAMP)
	$(call say,KX-CC,$@)$(SDK_CC) -o $@ $(SQLITE_DIR)/kx-shell.o $(SQLITE_DIR)/kx-sqlite3.o \
		$(SQLITE_TEST_DIR)/tree.o -lm

ifeq ($(FUZZ),)
EXTRA_ALL += $(SQLITE_TEST_DIR)/sqlite3.kxe $(SQLITE_DIR)/sqlite3-native
endif
