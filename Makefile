# postern — GNU Makefile.
#
# `make` builds every program into bin/.  Objects go to $(B) (build/ by
# default); the sanitizer, fuzz and sandbox-probe builds are the same rules
# run again with another B, BIN and EXTRA_CFLAGS, so there is one recipe for
# each thing.  Each process folder (master/ smtpd/ auth/ queue/ deliver/)
# becomes one archive of its modules; a program is that folder's main_*.c
# (or main.c) linked with its archive and lib/.

PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec/postern
SYSCONFDIR ?= /etc/postern
DESTDIR    ?=

B   ?= build
BIN ?= bin

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := libseccomp libsodium libssl libcrypto libcdb libidn2

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null || echo -lseccomp -lsodium -lssl -lcrypto -lcdb -lidn2)
# postern-queued and postern-deliver call libidn2 (U-label domains to
# A-labels).
# postern-deliver's DNS answer parser (ns_initparse, ns_parserr) is in
# libresolv; --as-needed keeps it out of every other program.
PKG_LIBS   += -lresolv

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
HARDEN := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
	-fcf-protection -fPIE
OPT ?= -O2 -g
CFLAGS ?= $(OPT)
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) $(EXTRA_CFLAGS) \
	-Ilib -DLIBEXECDIR='"$(LIBEXECDIR)"' $(PKG_CFLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack $(LDFLAGS) $(EXTRA_LDFLAGS)

DIRS := lib master smtpd auth queue deliver

# Programs: name -> folder/main file (without .c).
PROGRAMS := postern postern-smtpd
postern_MAIN       := master/main
postern-smtpd_MAIN := smtpd/main
PROGRAMS += postern-authd postern-user postern-table
postern-authd_MAIN := auth/main
postern-user_MAIN  := auth/main_user
postern-table_MAIN := master/main_table
PROGRAMS += postern-tlsd
postern-tlsd_MAIN  := smtpd/main_tlsd
PROGRAMS += postern-queued postern-queue
postern-queued_MAIN := queue/main
postern-queue_MAIN  := queue/main_queue
# postern-queue reads postern.conf (queue_dir) with the master's parser.
postern-queue_ALSO  := master
PROGRAMS += postern-deliver
postern-deliver_MAIN := deliver/main
PROGRAMS += postern-maildir
postern-maildir_MAIN := deliver/main_maildir

# Scripts installed next to the programs.
SCRIPTS := postern-setup
postern-setup_SRC := master/postern-setup.sh

# Modules of a folder: every .c but the main files.
mods = $(filter-out $(1)/main.c $(1)/main_%.c,$(wildcard $(1)/*.c))
objs = $(patsubst %.c,$(B)/%.o,$(call mods,$(1)))
ARCHIVES := $(foreach d,$(DIRS),$(if $(call mods,$(d)),$(B)/$(d).a))
# lib.a last: the process archives call into it.
LINK_ARCHIVES = -Wl,--start-group $(ARCHIVES) -Wl,--end-group

.PHONY: all programs deps check unit integration asan fuzz fuzz-long fuzz-build probes \
	install run clean bench bench-build bench-deps soak
all: programs

programs: $(addprefix $(BIN)/,$(PROGRAMS) $(SCRIPTS))

deps:
	@./build-aux/deps.sh

$(B)/%.o: %.c $(wildcard lib/*.h) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

define archive_rule
$(B)/$(1).a: $(call objs,$(1))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach d,$(DIRS),$(if $(call mods,$(d)),$(eval $(call archive_rule,$(d)))))

# A program links only its own folder's archive (plus the folders named in
# NAME_ALSO) and lib/, and only the shared libraries it calls (--as-needed):
# postern-smtpd must not even map libssl.
prog_dir = $(patsubst %/,%,$(dir $($(1)_MAIN)))
prog_archives = $(filter $(foreach d,$(call prog_dir,$(1)) $($(1)_ALSO),$(B)/$(d).a),$(ARCHIVES)) $(B)/lib.a
define program_rule
$(BIN)/$(1): $(B)/$($(1)_MAIN).o $(call prog_archives,$(1))
	@mkdir -p $$(dir $$@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $$@ $(B)/$($(1)_MAIN).o \
	  -Wl,--start-group $(call prog_archives,$(1)) -Wl,--end-group \
	  -Wl,--as-needed $(PKG_LIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

define script_rule
$(BIN)/$(1): $($(1)_SRC)
	@mkdir -p $$(dir $$@)
	cp $$< $$@ && chmod 0755 $$@
endef
$(foreach s,$(SCRIPTS),$(eval $(call script_rule,$(s))))

# ---- unit tests (cmocka): tests/unit/test_*.c, each its own program ----
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

$(B)/tests/%: tests/unit/%.c $(ARCHIVES) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(ALL_LDFLAGS) -o $@ $< $(LINK_ARCHIVES) $(PKG_LIBS) $(CMOCKA_LIBS)

unit-build: $(UNIT_BIN)

# ---- sandbox probe builds: each program with a forbidden call after
# sandbox_enter (lib/sandbox_probe.c), for tests/integration/test_sandbox.py.
PROBES := open socket execve fork
probes:
	@for p in $(PROBES); do \
	  $(MAKE) --no-print-directory B=$(B)/probe-$$p BIN=$(B)/probe-$$p/bin \
	    EXTRA_CFLAGS="$(EXTRA_CFLAGS) -DSANDBOX_PROBE=\\\"$$p\\\"" programs || exit 1; \
	done

# ---- the test suite ----
check: deps
	$(MAKE) programs unit-build probes
	POSTERN_BIN=$(CURDIR)/$(BIN) POSTERN_BUILD=$(CURDIR)/$(B) ./tests/run.sh

# Same tests on an ASan+UBSan build.  No FORTIFY: it conflicts with ASan.
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all -DPOSTERN_SANITIZER
asan: deps
	$(MAKE) B=build/asan BIN=build/asan/bin HARDEN=-fPIE CFLAGS="$(ASAN_FLAGS)" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" check

# ---- libFuzzer targets: fuzz/fuzz_*.c, built with clang ----
FUZZ_SECONDS ?= 30
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
FUZZ_FLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -DPOSTERN_SANITIZER -DPOSTERN_FUZZ
fuzz-build: deps
	$(MAKE) CC=clang B=build/fuzz HARDEN=-fPIE CFLAGS="$(FUZZ_FLAGS)" \
	  WARN="-Wall -Wextra -Werror -Wno-unused-parameter" $(FUZZ_BIN)
build/fuzz/fuzz_%: fuzz/fuzz_%.c $(ARCHIVES)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(LINK_ARCHIVES) $(PKG_LIBS)
fuzz: fuzz-build
	./fuzz/run.sh $(FUZZ_SECONDS)
# Long runs (never part of check or CI): every target FUZZ_LONG_SECONDS
# (default 600: ten CPU minutes each), coverage-raising inputs merged into
# fuzz/corpus/ for review.
FUZZ_LONG_SECONDS ?= 600
fuzz-long: fuzz-build
	FUZZ_MERGE=1 ./fuzz/run.sh $(FUZZ_LONG_SECONDS)

# ---- benchmarks (bench/README.md; never part of check): bench/*.c are stand-alone
# programs (load client, machine-limit probes), bench/run.sh runs them ----
BENCH_BIN := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))
$(B)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< -pthread -lssl -lcrypto -lsodium
bench-build: $(BENCH_BIN)
bench: programs bench-build
	BENCH_BUILD=$(CURDIR)/$(B)/bench POSTERN_BIN=$(CURDIR)/$(BIN) ./bench/run.sh
bench-deps:
	./bench/deps.sh

# ---- soak (root; never part of check, which runs a 60-message version):
# hostile recipients mixed into ordinary mail while postern-queued and the
# delivery workers are killed -9; see tests/soak/README.md ----
SOAK_MESSAGES ?= 1000
SOAK_KILLS ?= 5
soak: programs
	POSTERN_BIN=$(CURDIR)/$(BIN) /usr/bin/python3 tests/soak/hostile_mix.py \
	  --messages $(SOAK_MESSAGES) --kills $(SOAK_KILLS)

# ---- install and run ----
install: programs
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(BIN)/postern $(BIN)/postern-setup $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(BIN)/postern-smtpd $(DESTDIR)$(LIBEXECDIR)/
	install -m 0755 $(BIN)/postern-authd $(DESTDIR)$(LIBEXECDIR)/
	install -m 0755 $(BIN)/postern-user $(BIN)/postern-table $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(BIN)/postern-tlsd $(DESTDIR)$(LIBEXECDIR)/
	install -m 0755 $(BIN)/postern-queued $(DESTDIR)$(LIBEXECDIR)/
	install -m 0755 $(BIN)/postern-queue $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(BIN)/postern-deliver $(DESTDIR)$(LIBEXECDIR)/
	install -m 0755 $(BIN)/postern-maildir $(DESTDIR)$(LIBEXECDIR)/
	install -d $(DESTDIR)$(PREFIX)/share/doc/postern/examples
	cp -R etc/. $(DESTDIR)$(PREFIX)/share/doc/postern/examples/

RUN_DIR ?= $(CURDIR)/run
RUN_PORT ?= 10587
RUN_TLS_PORT ?= 10588
run: deps programs
	./$(BIN)/postern-setup --libexec $(CURDIR)/$(BIN) --port $(RUN_PORT) \
	  --tls-port $(RUN_TLS_PORT) --outbox $(RUN_DIR)
	./$(BIN)/postern -c $(RUN_DIR)

clean:
	rm -rf build bin
