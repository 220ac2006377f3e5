# tests/fuzz/fuzz.mk - libFuzzer targets for the parsers and validators,
# included by the Makefile (STYLE.md item 14).
#   make fuzz              build the targets, fuzz each for FUZZ_SECONDS (20)
#                          on a copy of its seed corpus; fails on any crash
#   make fuzz-smoke        run each target once over its seed corpus, no
#                          mutation: quick enough for the test suite
#   make fuzz-build        only build them, into build-fuzz/
#   make fuzz-crashes      replay tests/fuzz/crashes/ (fails until the bugs
#                          they reproduce are fixed)
#   make fuzz-coverage     line coverage of src/ by each target's corpus
#   make clean-fuzz        remove build-fuzz/ (make clean does it too)
# Pick targets with FUZZ_TARGETS, e.g.
#   make fuzz FUZZ_TARGETS=fuzz_form FUZZ_SECONDS=600
# Each target is built straight from its few src/*.c files with clang,
# -fsanitize=fuzzer,address,undefined; nothing is shared with build/.

FUZZ_CC ?= clang
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 20
FUZZ_ALL = fuzz_form fuzz_catalogue fuzz_validate fuzz_config fuzz_detect
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_CFLAGS ?= -g -O1 -fno-omit-frame-pointer
FUZZ_SANITIZE = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_WARNINGS = -std=c11 -Wall -Wextra -Wpedantic -Wmissing-prototypes \
	-Wstrict-prototypes -Wwrite-strings -Wshadow -Wformat=2 -Wpointer-arith \
	-Wcast-qual -Wvla -Wnull-dereference
FUZZ_CPPFLAGS = -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=700 -Isrc -Itests/fuzz

# What each target compiles besides its own file and fuzz_common.c.
FUZZ_SRC_fuzz_form = src/form.c src/validate.c
FUZZ_SRC_fuzz_catalogue = src/catalogue.c src/validate.c
FUZZ_SRC_fuzz_validate = src/validate.c src/story.c src/form.c
FUZZ_SRC_fuzz_config = src/config.c
FUZZ_SRC_fuzz_detect = src/detect.c src/validate.c
# story.c makes UUIDs with libuuid.
FUZZ_LIBS_fuzz_validate = $(shell $(PKG_CONFIG) --cflags --libs uuid 2>/dev/null || echo -luuid)

define FUZZ_RULE
$(FUZZ_DIR)/$(1): tests/fuzz/$(1).c tests/fuzz/fuzz_common.c tests/fuzz/fuzz_common.h \
		$(FUZZ_SRC_$(1)) $(wildcard src/*.h) | fuzz-toolchain
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_WARNINGS) $(FUZZ_CFLAGS) $(FUZZ_SANITIZE) \
		-o $$@ tests/fuzz/$(1).c tests/fuzz/fuzz_common.c $(FUZZ_SRC_$(1)) \
		$(FUZZ_LIBS_$(1))
endef
$(foreach target,$(FUZZ_ALL),$(eval $(call FUZZ_RULE,$(target))))

# Line coverage of src/ by each target's working corpus (or its seeds):
# built again with clang's source-based coverage into $(FUZZ_DIR)/cov/.
FUZZ_PROFDATA ?= llvm-profdata
FUZZ_COV ?= llvm-cov
define FUZZ_COV_RULE
$(FUZZ_DIR)/cov/$(1): tests/fuzz/$(1).c tests/fuzz/fuzz_common.c tests/fuzz/fuzz_common.h \
		$(FUZZ_SRC_$(1)) $(wildcard src/*.h) | fuzz-toolchain
	@mkdir -p $(FUZZ_DIR)/cov
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_WARNINGS) -g -O1 -fsanitize=fuzzer \
		-fprofile-instr-generate -fcoverage-mapping \
		-o $$@ tests/fuzz/$(1).c tests/fuzz/fuzz_common.c $(FUZZ_SRC_$(1)) \
		$(FUZZ_LIBS_$(1))
endef
$(foreach target,$(FUZZ_ALL),$(eval $(call FUZZ_COV_RULE,$(target))))

fuzz-coverage: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/cov/%)
	@for target in $(FUZZ_TARGETS); do \
		corpus=$(FUZZ_DIR)/corpus/$$target; \
		[ -d "$$corpus" ] || corpus=tests/fuzz/corpus/$$target; \
		rm -f $(FUZZ_DIR)/cov/$$target.profraw; \
		STORYKIOSK_ROOT=$(CURDIR) LLVM_PROFILE_FILE=$(FUZZ_DIR)/cov/$$target.profraw \
			$(FUZZ_DIR)/cov/$$target -runs=0 -artifact_prefix=$(FUZZ_DIR)/cov/$$target- \
			$$corpus > $(FUZZ_DIR)/cov/$$target.log 2>&1 || \
			{ echo "$$target: see $(FUZZ_DIR)/cov/$$target.log"; exit 1; }; \
		$(FUZZ_PROFDATA) merge -sparse -o $(FUZZ_DIR)/cov/$$target.profdata \
			$(FUZZ_DIR)/cov/$$target.profraw || exit 1; \
		echo "== $$target over $$corpus"; \
		$(FUZZ_COV) report $(FUZZ_DIR)/cov/$$target \
			-instr-profile=$(FUZZ_DIR)/cov/$$target.profdata src/ | \
			awk '/\.c / { printf "  %-14s %6s of %5s lines, %6s of %4s branches\n", $$1, $$10, $$8, $$13, $$11 }'; \
	done

fuzz-toolchain:
	@sh tests/fuzz/toolchain.sh $(FUZZ_CC)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)

fuzz: fuzz-build
	@FUZZ_DIR=$(FUZZ_DIR) bash tests/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	@FUZZ_DIR=$(FUZZ_DIR) bash tests/fuzz/run.sh smoke $(FUZZ_TARGETS)

# Each file is named TARGET-what; the target replays it once.
fuzz-crashes: fuzz-build
	@status=0; for crash in tests/fuzz/crashes/*-*; do \
		[ -f "$$crash" ] || continue; \
		target=$${crash##*/}; target=$${target%%-*}; \
		if STORYKIOSK_ROOT=$(CURDIR) $(FUZZ_DIR)/$$target "$$crash" \
			> $(FUZZ_DIR)/last-crash.log 2>&1; then \
			echo "fixed   $$crash"; \
		else \
			echo "crashes $$crash"; status=1; \
		fi; \
	done; exit $$status

clean-fuzz:
	rm -rf $(FUZZ_DIR)

# make clean removes the fuzz build as well.
clean: clean-fuzz

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-crashes fuzz-coverage fuzz-toolchain clean-fuzz
