#!/usr/bin/env bash
# make install / uninstall honour DESTDIR and PREFIX, and the installed binary
# finds its forms and data outside the source tree.
. "$(dirname "$0")/lib.sh"

stage=$SK_DIR/stage
prefix=/opt/storykiosk-test

sk_case "make install puts binary, forms, data and man pages under DESTDIR/PREFIX"
# A private build: the tree's own ./storykiosk is shared with the tests running
# beside this one and must not be relinked under them.
build=(BUILD="$SK_DIR/build" PROGRAM="$SK_DIR/build/storykiosk")
make -s -C "$SK_ROOT" "${build[@]}" install DESTDIR="$stage" PREFIX="$prefix" >"$SK_DIR/install.log" 2>&1 ||
	{ sk_fail "make install failed"; cat "$SK_DIR/install.log"; }
for file in bin/storykiosk share/storykiosk/forms/default.form share/storykiosk/forms/discharge.form \
	share/storykiosk/data/services.txt share/storykiosk/data/username-blocked.txt \
	share/storykiosk/data/username-warn.txt share/man/man1/storykiosk.1 \
	share/man/man5/storykiosk-form.5 share/man/man5/storykiosk-services.5 \
	share/man/man5/storykiosk.conf.5 lib/systemd/system/storykiosk-sync.service \
	lib/systemd/system/storykiosk-sync.timer libexec/storykiosk/storykiosk-sync; do
	[ -f "$stage$prefix/$file" ] || sk_fail "missing $prefix/$file"
done
[ -x "$stage$prefix/bin/storykiosk" ] || sk_fail "binary not executable"
grep -qF "ExecStart=$prefix/bin/storykiosk sync" "$stage$prefix/lib/systemd/system/storykiosk-sync.service" ||
	sk_fail "the service does not run the installed binary"
strings "$stage$prefix/bin/storykiosk" | grep -qF "$prefix/share/storykiosk" ||
	sk_fail "the installed binary does not look in $prefix/share/storykiosk"
strings "$stage$prefix/bin/storykiosk" | grep -qF "$prefix/libexec/storykiosk" ||
	sk_fail "the installed binary does not look for storykiosk-sync in $prefix/libexec/storykiosk"
# The kiosk itself must not load the network libraries (start-up time and memory).
ldd "$stage$prefix/bin/storykiosk" | grep -E 'libpq|libcurl' && sk_fail "storykiosk links libpq or libcurl"
ldd "$stage$prefix/libexec/storykiosk/storykiosk-sync" | grep -q libpq || sk_fail "storykiosk-sync lacks libpq"
sk_end_case

sk_case "storykiosk hands sync and status to the installed storykiosk-sync, and says so when it is missing"
real=$SK_DIR/real
make -s -C "$SK_ROOT" BUILD="$SK_DIR/build-real" PROGRAM="$SK_DIR/build-real/storykiosk" install \
	PREFIX="$real" >"$SK_DIR/install-real.log" 2>&1 || { sk_fail "make install failed"; cat "$SK_DIR/install-real.log"; }
out=$(cd / && "$real/bin/storykiosk" status --db "$SK_DIR/real.db" 2>&1); rc=$?
sk_eq "status through the helper: exit" "$rc" 0
sk_eq "status through the helper: output" "$(printf '%s\n' "$out" | grep -c '^  queued  *0$')" 1
mv "$real/libexec/storykiosk/storykiosk-sync" "$SK_DIR/hidden-helper"
out=$(cd / && "$real/bin/storykiosk" sync --db "$SK_DIR/real.db" 2>&1); rc=$?
sk_eq "sync without the helper: exit" "$rc" 69
sk_eq "sync without the helper: says where it looked" \
	"$(printf '%s\n' "$out" | grep -c -F "cannot run $real/libexec/storykiosk/storykiosk-sync for 'sync'")" 1
"$real/bin/storykiosk" list --db "$SK_DIR/real.db" >/dev/null 2>&1 || sk_fail "list needs no helper, yet failed"
mv "$SK_DIR/hidden-helper" "$real/libexec/storykiosk/storykiosk-sync"
make -s -C "$SK_ROOT" BUILD="$SK_DIR/build-real" PROGRAM="$SK_DIR/build-real/storykiosk" uninstall \
	PREFIX="$real" >/dev/null 2>&1 || sk_fail "make uninstall failed"
sk_eq "files left after uninstall" "$(find "$real" -type f | wc -l)" 0
sk_end_case

sk_case "the installed binary runs the kiosk from its installed data"
SK_BIN=$stage$prefix/bin/storykiosk
SK_ENV="STORYKIOSK_DATA_DIR=$stage$prefix/share/storykiosk"
(cd / && sk_start 80 24 --form discharge)
sk_sign_in "Installed"
sk_wait "Step 1 of"
sk_keys C-n; sk_keys C-n; sk_keys C-n
sk_wait "Focus:"
SK_ENV=""
SK_BIN=$SK_ROOT/storykiosk
sk_end_case

sk_case "make uninstall removes what install put there"
make -s -C "$SK_ROOT" "${build[@]}" uninstall DESTDIR="$stage" PREFIX="$prefix" >"$SK_DIR/uninstall.log" 2>&1 ||
	sk_fail "make uninstall failed"
left=$(find "$stage" -type f | wc -l)
sk_eq "files left after uninstall" "$left" 0
sk_end_case
