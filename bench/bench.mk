# bench/bench.mk - `make bench`: StoryKiosk against its floors and its
# alternatives (issue 6). Included by the main Makefile. It builds the harness
# into build-bench/ (never build/), uses the tree's own ./storykiosk, prints
# the table and writes bench/results.md. A few minutes on a 2-core machine.
# Settings are environment variables (BENCH_RUNS=15, BENCH_KEYS=5000, ...):
# see bench/README.md.

# Keep the main Makefile's default goal whatever the order of inclusion.
bench_saved_goal := $(.DEFAULT_GOAL)

BENCH_BUILD = build-bench
BENCH_PKG_CONFIG ?= pkg-config
BENCH_CFLAGS ?= -O2 -g -Wall -Wextra
BENCH_NCURSES = $(shell $(BENCH_PKG_CONFIG) --cflags --libs ncursesw 2>/dev/null)
BENCH_SQLITE = $(shell $(BENCH_PKG_CONFIG) --cflags --libs sqlite3 2>/dev/null)
# The libraries the kiosk links, linked the same way (the main Makefile's
# UI_LIBS and CORE_LIBS), for the "floor with the kiosk's libraries" diagnostic.
BENCH_KIOSK_LIBS = $(UI_LIBS) $(CORE_LIBS)
BENCH_TOOLS = $(BENCH_BUILD)/ptyrun $(BENCH_BUILD)/floor $(BENCH_BUILD)/floor_libs \
	$(BENCH_BUILD)/floor_screen $(BENCH_BUILD)/floor_pq \
	$(BENCH_BUILD)/floor_commit $(BENCH_BUILD)/intake_min $(BENCH_BUILD)/runstat

bench: bench-deps $(BENCH_TOOLS)
	@$(MAKE) --no-print-directory -s storykiosk storykiosk-sync
	@bash bench/bench.sh

bench-deps:
	@sh tests/deps.sh bench

$(BENCH_BUILD)/ptyrun: bench/ptyrun.c
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) -o $@ $< -lutil

$(BENCH_BUILD)/floor: bench/floor.c
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(BENCH_NCURSES)

$(BENCH_BUILD)/floor_screen: bench/floor_screen.c
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(BENCH_NCURSES)

$(BENCH_BUILD)/floor_pq: bench/floor_pq.c
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) $(shell $(BENCH_PKG_CONFIG) --cflags libpq libcurl 2>/dev/null) -o $@ $< \
		-Wl,--no-as-needed $(NET_LIBS)

$(BENCH_BUILD)/floor_libs: bench/floor.c
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) $(shell $(BENCH_PKG_CONFIG) --cflags ncursesw 2>/dev/null) -o $@ $< \
		-Wl,--no-as-needed $(BENCH_KIOSK_LIBS)

$(BENCH_BUILD)/floor_commit: bench/floor_commit.c
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(BENCH_SQLITE)

$(BENCH_BUILD)/intake_min: bench/intake_min.c
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

$(BENCH_BUILD)/runstat: bench/runstat.c
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

bench-clean:
	rm -rf $(BENCH_BUILD)

.PHONY: bench bench-deps bench-clean

.DEFAULT_GOAL := $(bench_saved_goal)
