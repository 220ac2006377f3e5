# StoryKiosk - capture patients' stories of care on a ward terminal.
# make            build ./storykiosk
# make run        install missing packages (or say how), build, start the kiosk
# make check      install missing packages (or say how), build, run every test,
#                 then run them all again under ASan + UBSan
# make asan       the same tests under AddressSanitizer + UndefinedBehaviorSanitizer

VERSION = 0.1.0

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATAROOTDIR ?= $(PREFIX)/share
DATADIR ?= $(DATAROOTDIR)/storykiosk
LIBEXECDIR ?= $(PREFIX)/libexec/storykiosk
MANPREFIX ?= $(DATAROOTDIR)/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DESTDIR ?=
PKG_CONFIG ?= pkg-config
INSTALL ?= install

CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -Wall -Wextra -Wpedantic -Wmissing-prototypes \
	-Wstrict-prototypes -Wwrite-strings -Wshadow -Wformat=2 \
	-Wpointer-arith -Wcast-qual -Wvla -Wnull-dereference
# pkg-config's ncursesw flags pin _XOPEN_SOURCE=600; we ask for 700 ourselves.
PKG_CFLAGS := $(filter-out -D_XOPEN_SOURCE=% -D_DEFAULT_SOURCE,\
	$(shell $(PKG_CONFIG) --cflags ncursesw sqlite3 uuid libpq libcurl libsodium 2>/dev/null))
CPPFLAGS += -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=700 -DNCURSES_WIDECHAR=1 \
	-DSTORYKIOSK_VERSION=\"$(VERSION)\" -I$(BUILD) -Isrc $(PKG_CFLAGS)
# sqlite3, libsodium and libuuid are linked statically by default: resolving
# their symbols at every exec cost the kiosk a third of a millisecond at
# start-up (bench/results.md). A SQLite or libsodium security fix then needs a
# rebuild; LINK_STATIC=no links them as shared libraries instead.
LINK_STATIC ?= yes
CORE_PKGS = sqlite3 libsodium uuid
ifeq ($(LINK_STATIC),yes)
CORE_LIBS := $(shell $(PKG_CONFIG) --libs-only-L $(CORE_PKGS) 2>/dev/null) \
	-Wl,-Bstatic $(shell $(PKG_CONFIG) --libs-only-l $(CORE_PKGS) 2>/dev/null) -Wl,-Bdynamic \
	-Wl,--as-needed $(filter-out $(shell $(PKG_CONFIG) --libs-only-l $(CORE_PKGS) 2>/dev/null),\
		$(shell $(PKG_CONFIG) --static --libs-only-l $(CORE_PKGS) 2>/dev/null))
else
CORE_LIBS := $(shell $(PKG_CONFIG) --libs $(CORE_PKGS) 2>/dev/null)
endif
# libpq and libcurl are only in storykiosk-sync, the delivery half.
NET_LIBS := $(shell $(PKG_CONFIG) --libs libpq libcurl 2>/dev/null)
UI_LIBS := $(shell $(PKG_CONFIG) --libs ncursesw 2>/dev/null)

BUILD ?= build
# Every module but main.c is plain C with no curses; src/ui/ is the only curses code.
# NET_SRC is the delivery half (sync, withdraw, status, unseal), built only into
# storykiosk-sync with libpq and libcurl; storykiosk hands those commands to it.
NET_SRC = src/sync.c src/sync_pg.c src/sync_http.c src/sync_targets.c src/unseal.c
CORE_SRC = $(filter-out src/main.c $(NET_SRC),$(wildcard src/*.c))
UI_SRC = $(wildcard src/ui/*.c)
MAIN_SRC = src/main.c
CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/%.o)
UI_OBJ = $(UI_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ = $(MAIN_SRC:%.c=$(BUILD)/%.o)
NET_OBJ = $(NET_SRC:%.c=$(BUILD)/%.o)
MAIN_NET_OBJ = $(BUILD)/src/main-net.o
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# The program; the sanitizer build puts its own copy under build-asan/.
PROGRAM ?= storykiosk
# The delivery half always sits beside the program (storykiosk looks there first).
HELPER ?= $(patsubst ./%,%,$(dir $(PROGRAM))storykiosk-sync)

all: $(PROGRAM) $(HELPER)

$(PROGRAM): $(MAIN_OBJ) $(UI_OBJ) $(CORE_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(UI_LIBS) $(CORE_LIBS) $(LDLIBS)

$(HELPER): $(MAIN_NET_OBJ) $(UI_OBJ) $(CORE_OBJ) $(NET_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(UI_LIBS) $(NET_LIBS) $(CORE_LIBS) $(LDLIBS)

$(MAIN_NET_OBJ): src/main.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DSTORYKIOSK_NETWORK=1 $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(CORE_OBJ) $(NET_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests/unit -o $@ $< $(CORE_OBJ) $(NET_OBJ) $(NET_LIBS) \
		$(CORE_LIBS) $(LDLIBS)

# paths.c bakes in DATADIR: rebuild it whenever PREFIX or DATADIR changes, so
# "make; sudo make install PREFIX=/usr" installs a binary that looks in /usr.
$(BUILD)/datadir.h: FORCE
	@mkdir -p $(BUILD)
	@{ echo '#define STORYKIOSK_DATADIR "$(DATADIR)"'; \
	   echo '#define STORYKIOSK_LIBEXECDIR "$(LIBEXECDIR)"'; } > $@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv -f $@.new $@

$(BUILD)/src/paths.o: $(BUILD)/datadir.h

FORCE:

-include $(CORE_OBJ:.o=.d) $(UI_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(NET_OBJ:.o=.d) $(MAIN_NET_OBJ:.o=.d)

deps:
	@sh tests/deps.sh build

deps-test:
	@sh tests/deps.sh test

run: deps
	@$(MAKE) --no-print-directory storykiosk storykiosk-sync
	./storykiosk

unit: $(UNIT_BIN)

# Every test twice: as built, then under ASan + UBSan (see tests/run.sh).
check: deps-test
	@$(MAKE) --no-print-directory $(PROGRAM) $(HELPER) unit
	@$(MAKE) --no-print-directory asan-build
	@STORYKIOSK_ASAN_PASS=1 bash tests/run.sh

# One pass only, as built: quicker while working.
check-quick: deps-test
	@$(MAKE) --no-print-directory $(PROGRAM) $(HELPER) unit
	@bash tests/run.sh

asan-build:
	@$(MAKE) --no-print-directory BUILD=build-asan PROGRAM=build-asan/storykiosk \
		CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" build-asan/storykiosk \
		build-asan/storykiosk-sync unit

ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

asan: deps-test
	@$(MAKE) --no-print-directory asan-build
	@SK_BIN=$(CURDIR)/build-asan/storykiosk STORYKIOSK_UNIT_DIR=build-asan/tests \
		STORYKIOSK_DATA_DIR=$(CURDIR) \
		ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 bash tests/run.sh

install: $(PROGRAM) $(HELPER)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR)/forms \
		$(DESTDIR)$(DATADIR)/data $(DESTDIR)$(MANPREFIX)/man1 \
		$(DESTDIR)$(MANPREFIX)/man5
	$(INSTALL) -m 0755 $(PROGRAM) $(DESTDIR)$(BINDIR)/storykiosk
	$(INSTALL) -m 0755 $(HELPER) $(DESTDIR)$(LIBEXECDIR)/storykiosk-sync
	$(INSTALL) -m 0644 forms/*.form $(DESTDIR)$(DATADIR)/forms/
	$(INSTALL) -m 0644 data/*.txt $(DESTDIR)$(DATADIR)/data/
	$(INSTALL) -m 0644 man/*.1 $(DESTDIR)$(MANPREFIX)/man1/
	$(INSTALL) -m 0644 man/*.5 $(DESTDIR)$(MANPREFIX)/man5/
	$(INSTALL) -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' data/systemd/storykiosk-sync.service \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/storykiosk-sync.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/storykiosk-sync.service
	$(INSTALL) -m 0644 data/systemd/storykiosk-sync.timer $(DESTDIR)$(SYSTEMDUNITDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/storykiosk
	rm -f $(DESTDIR)$(LIBEXECDIR)/storykiosk-sync
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null
	rm -rf $(DESTDIR)$(DATADIR)
	rm -f $(DESTDIR)$(MANPREFIX)/man1/storykiosk.1
	rm -f $(DESTDIR)$(MANPREFIX)/man5/storykiosk-form.5 \
		$(DESTDIR)$(MANPREFIX)/man5/storykiosk-services.5 \
		$(DESTDIR)$(MANPREFIX)/man5/storykiosk.conf.5
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/storykiosk-sync.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/storykiosk-sync.timer

clean:
	rm -rf $(BUILD) build-asan storykiosk storykiosk-sync

.PHONY: FORCE all deps deps-test run unit check check-quick asan asan-build install uninstall clean

# libFuzzer targets for every parser and validator: make fuzz (a bounded run).
-include tests/fuzz/fuzz.mk

# make bench: the kiosk against its floors and alternatives (bench/README.md).
-include bench/bench.mk
