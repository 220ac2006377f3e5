#!/usr/bin/env bash
# Faults under the queue: a full disk, a file-size limit, a read-only queue, a
# damaged file and a locked database. Each time the operator is told plainly
# (and to call IT), the story is not lost, the kiosk does not crash, and a
# damaged file is never written over.
. "$(dirname "$0")/lib.sh"
FULL_DIR=$SK_DIR/full
LOCKER_PID=""
cleanup_faults() {
	[ -n "$LOCKER_PID" ] && kill "$LOCKER_PID" 2>/dev/null
	sk_tmux kill-server >/dev/null 2>&1
	sk_unmount "$FULL_DIR"
	sk_cleanup
}
trap cleanup_faults EXIT

# Keep the operator's own config files out of the test.
export HOME=$SK_DIR/home XDG_CONFIG_HOME=$SK_DIR/config SK_BIN
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
chmod 755 "$HOME" "$XDG_CONFIG_HOME"
MAKE_QUEUE=$SK_ROOT/tests/tools/make_queue.py
QUEUE_DB=$SK_DB

sha() { if [ -e "$1" ]; then sha256sum <"$1" | cut -d' ' -f1; else echo absent; fi; }

# Stop the kiosk in the pane (if any) with kill -9 and wait for it.
stop_kiosk() {
	local pid
	pid=$(sk_kiosk_pid) || return 0
	kill -9 "$pid"
	sk_wait_pid_gone "$pid"
}

# The story words used in the fault cases; sk_fill_story takes GOOD first.
story_to_consent() {
	sk_sign_in "Sam Carter" || return 1
	sk_fill_story "$1 the nurses were kind." || return 1
	# Under a file-size limit the draft itself may no longer fit: that is the
	# fault being tested, so only the screen is waited for then.
	[ "${2:-}" = any-draft ] || sk_wait_sql "SELECT step FROM drafts" 10
}

# ---------------------------------------------------------------------------
NAME="disk full (the queue on a small tmpfs): Yes says the disk is full, to call IT and that the story is safe; it stays on screen; with space again Ctrl-N saves it once"
if ! sk_mount_tmpfs "$FULL_DIR" 1m 0755; then
	echo "ok - $NAME # SKIP cannot mount a tmpfs here (needs root and mount permission)"
else
	sk_case "$NAME"
	SK_DB=$FULL_DIR/queue.db
	sk_respawn
	story_to_consent "Fullmarker"
	pid=$(sk_kiosk_pid)
	dd if=/dev/zero of="$FULL_DIR/fill" bs=4k >/dev/null 2>&1
	sk_eq "free blocks on the tmpfs" "$(df --output=avail "$FULL_DIR" | tail -n 1 | tr -d ' ')" 0
	sk_keys y Enter
	sk_wait_flat "full"
	sk_wait_flat "Call IT"
	sk_wait_flat "safe"
	sk_wait "Your consent"
	sk_absent "Story reference:"
	sk_eq "the same kiosk is running" "$(sk_kiosk_pid)" "$pid"
	sk_eq "stories while full" "$(sk_sql "SELECT count(*) FROM stories")" 0
	# The story is all still there: the review shows it.
	sk_keys C-p
	sk_wait "Check your story"
	sk_wait "Fullmarker the nurses were kind."
	sk_keys C-n
	sk_wait "Your consent"
	rm -f "$FULL_DIR/fill"
	sk_keys y C-n
	sk_wait "Story reference:"
	sk_eq "stories saved" "$(sk_sql "SELECT count(*) FROM stories")" 1
	sk_eq "its good answer" "$(sk_export_py 'r[0]["answers"]["good"]')" "Fullmarker the nurses were kind."
	sk_eq "drafts left" "$(sk_sql "SELECT count(*) FROM drafts")" 0
	sk_keys Enter
	sk_wait "Introduce yourself"
	# Pressed again, nothing more is saved.
	sk_keys C-n
	sk_wait "What was good?"
	sk_eq "stories after moving on" "$(sk_sql "SELECT count(*) FROM stories")" 1
	stop_kiosk
	sk_end_case
	SK_DB=$QUEUE_DB
fi

# ---------------------------------------------------------------------------
sk_case "a file-size limit (ulimit -f) on the kiosk: no crash (SIGXFSZ), a message to call IT, the story stays on screen"
rm -rf "$SK_DIR/queue"
sk_cli list >/dev/null
# The queue file's size and 16 KiB more (dash counts ulimit -f in 512-byte
# blocks): the queue file fits, its write-ahead log outgrows it while the
# story is typed, whatever the schema's size.
sk_start_sh 80 24 "ulimit -f $(( $(stat -c %s "$SK_DB") / 512 + 32 ))"
if story_to_consent "Limitmarker" any-draft; then
	sk_keys y Enter
	# Either the message or the kiosk's end, whichever comes first.
	for _ in $(seq 1 100); do
		sk_flat | grep -qF "Call IT" && break
		sk_pane_all | grep -qF "[kiosk exited" && break
		sleep 0.05
	done
fi
status=$(sk_sh_exit 1)
if [ "$status" != "still running" ]; then
	sk_fail "the kiosk ended with status $status$([ "$status" = 153 ] && echo " (killed by SIGXFSZ)") while saving; the terminal was left: $(sk_sh_stty | grep -oE -- '-?(icanon|echo) ' | tr -d '\n')"
	sk_show_screen
else
	sk_wait_flat "Call IT"
	sk_wait_flat "safe"
	sk_wait "Your consent"
fi
sk_eq "stories" "$(sk_sql "SELECT count(*) FROM stories")" 0
sk_end_case

# ---------------------------------------------------------------------------
# Root ignores file modes: run the kiosk as nobody, on a queue nobody owns.
if [ "$(id -u)" = 0 ]; then
	RO_USER=nobody
	RO_AS="runuser -u nobody --"
else
	RO_USER=$(id -un)
	RO_AS=""
fi
RO_DIR=$SK_DIR/ro
mkdir -p "$RO_DIR" && chown "$RO_USER" "$RO_DIR" && chmod 755 "$RO_DIR"
for how in file directory; do
	NAME="a read-only queue ($how): the kiosk says the queue cannot be written and to call IT, exits cleanly, and the stories in it are untouched"
	SK_DB=$RO_DIR/queue-$how.db
	if ! $RO_AS env SK_BIN="$SK_BIN" "$SK_PY" "$MAKE_QUEUE" "$SK_DB" 3 --seed 7 >/dev/null 2>&1; then
		echo "ok - $NAME # SKIP cannot make a queue as $RO_USER"
		continue
	fi
	sk_case "$NAME"
	if [ "$how" = file ]; then
		chmod 0444 "$SK_DB"
	else
		chmod 0555 "$RO_DIR"
	fi
	before=$(sha "$SK_DB")
	SK_AS=$RO_AS sk_start_sh 80 24 ""
	status=$(sk_sh_exit 5)
	text=$(sk_pane_all)
	case $status in
	"still running")
		sk_fail "the kiosk started on a read-only queue and said nothing"
		sk_show_screen ;;
	0 | 1[3-9][0-9] | 2[0-9][0-9])
		sk_fail "exit status $status: not a clean refusal (0, or killed by a signal)" ;;
	esac
	grep -qiE "cannot be written|read-only|readonly|permission denied" <<<"$text" ||
		sk_fail "the message does not say the queue cannot be written: $text"
	grep -qF "Call IT" <<<"$text" || sk_fail "the message does not say to call IT: $text"
	grep -qF "$SK_DB" <<<"$text" || sk_fail "the message does not name the queue file: $text"
	chmod 0755 "$RO_DIR"
	sk_eq "the queue's bytes" "$(sha "$SK_DB")" "$before"
	sk_eq "stories still there" "$(sk_cli list | wc -l)" 3
	sk_tmux kill-server >/dev/null 2>&1
	sk_end_case
done
SK_DB=$QUEUE_DB
chmod 0755 "$RO_DIR"

# ---------------------------------------------------------------------------
# Three kinds of damage: a b-tree page in the middle, the file's header, and a
# file that was never a database. Opening finds the last two; PRAGMA
# quick_check finds the first, in the background while the first screen is up.
# Make a queue of 40 stories at SK_DB and damage it as $1 says.
damaged_queue() {
	mkdir -p "$(dirname "$SK_DB")"
	rm -f "$SK_DB" "$SK_DB-wal" "$SK_DB-shm"
	"$SK_PY" "$MAKE_QUEUE" "$SK_DB" 40 --seed 3 >/dev/null
	sk_sql "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	rm -f "$SK_DB-wal" "$SK_DB-shm"
	case $1 in
	page)   "$SK_PY" -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(4096 * 3)
    f.write(b"\xde\xad\xbe\xef" * 512)' "$SK_DB" ;;
	header) "$SK_PY" -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.write(b"GARBAGE!" * 12)' "$SK_DB" ;;
	text)   for i in $(seq 1 300); do echo "line $i of a file that is not a queue"; done >"$SK_DB" ;;
	esac
}

for damage in header text; do
	sk_case "a damaged queue ($damage): the kiosk refuses to start, says the file is damaged and to call IT, exits 74, and does not change a byte"
	SK_DB=$SK_DIR/q-$damage/queue.db
	damaged_queue $damage
	before=$(sha "$SK_DB")
	# Under a shell that stays: tmux can lose the last output of a pane
	# whose program exits at once.
	sk_start_sh 80 24 ""
	sk_eq "exit status" "$(sk_sh_exit)" 74
	text=$(sk_pane_all)
	grep -qi "damaged" <<<"$text" || sk_fail "the message does not say the file is damaged: $text"
	grep -qF "Call IT" <<<"$text" || sk_fail "the message does not say to call IT: $text"
	sk_eq "the file's bytes" "$(sha "$SK_DB")" "$before"
	sk_end_case
done

sk_case "a damaged queue (page): the kiosk opens at once, but sign-in says the file is damaged and to call IT, no story is started, and not a byte of the file changes, even after the kiosk is ended"
SK_DB=$SK_DIR/q-page/queue.db
damaged_queue page
before=$(sha "$SK_DB")
[ "$(sk_sql "PRAGMA quick_check(1)" 2>&1)" != ok ] || sk_fail "the damage was not found by quick_check"
sk_respawn
sk_wait "please sign in"
sk_type "Sam Carter"
sk_keys Enter Enter
# The background check has found the damage by now: a story taken here could
# never be kept, so none is started.
sk_wait_flat "damaged"
sk_wait_flat "Call IT"
sk_wait "please sign in"
sk_absent "Introduce yourself"
sk_eq "the file's bytes while the kiosk runs" "$(sha "$SK_DB")" "$before"
# Ended by the system: closing must not fold the WAL into the damaged file.
pid=$(sk_kiosk_pid)
kill -TERM "$pid"
sk_wait_pid_gone "$pid"
sk_eq "the file's bytes after the kiosk ended" "$(sha "$SK_DB")" "$before"
sk_end_case

sk_case "a damaged queue (page): commands that write (withdraw, sync, import, export --mark-exported) say it is damaged and to call IT, exit 74, and change nothing; list still reads it"
for cmd in "withdraw 2222-2222" "sync" "import /dev/null" "export --mark-exported --output $SK_DIR/out.jsonl"; do
	# shellcheck disable=SC2086
	out=$(sk_cli $cmd 2>&1)
	status=$?
	sk_eq "exit status of $cmd" "$status" 74
	grep -qi "damaged" <<<"$out" || sk_fail "$cmd: the message does not say the file is damaged: $out"
	grep -qF "Call IT" <<<"$out" || sk_fail "$cmd: the message does not say to call IT: $out"
	sk_eq "the file's bytes after $cmd" "$(sha "$SK_DB")" "$before"
done
sk_end_case
SK_DB=$QUEUE_DB

# ---------------------------------------------------------------------------
# Another program holds the write lock (BEGIN EXCLUSIVE) for SECONDS; writes
# "locked" then "released" (each with the time in ms) to FILE.
hold_lock() {
	local seconds=$1 file=$2
	rm -f "$file"
	"$SK_PY" - "$SK_DB" "$seconds" "$file" <<'PY' &
import sqlite3, sys, time
db, seconds, flag = sys.argv[1], float(sys.argv[2]), sys.argv[3]
con = sqlite3.connect(db, isolation_level=None, timeout=10)
con.execute("BEGIN EXCLUSIVE")
con.execute("CREATE TABLE IF NOT EXISTS locker_test (x)")
with open(flag, "a") as f:
    f.write("locked %d\n" % (time.time() * 1000))
time.sleep(seconds)
con.execute("ROLLBACK")
con.close()
with open(flag, "a") as f:
    f.write("released %d\n" % (time.time() * 1000))
PY
	LOCKER_PID=$!
	local i
	for i in $(seq 1 100); do
		grep -q locked "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	sk_fail "the locking program did not get the lock"
	return 1
}

sk_case "a database locked by another program for 2.5 s: Yes waits (busy timeout) and saves the story once the lock is released"
rm -rf "$SK_DIR/queue"
sk_respawn
story_to_consent "Lockmarker"
hold_lock 2.5 "$SK_DIR/lock"
sk_keys y Enter
sk_wait "Story reference:" 10
shown=$(sk_now_ms)
wait "$LOCKER_PID"; LOCKER_PID=""
released=$(awk '/released/ {print $2}' "$SK_DIR/lock")
[ -n "$released" ] && [ "$shown" -ge "$released" ] ||
	sk_fail "the story was reported saved at $shown, before the lock was released at $released"
sk_eq "stories" "$(sk_sql "SELECT count(*) FROM stories")" 1
sk_eq "drafts" "$(sk_sql "SELECT count(*) FROM drafts")" 0
sk_absent "Call IT"
sk_end_case

sk_case "a database locked for longer than the busy timeout (12 s): a message says it is locked and to call IT, the story stays; Ctrl-N after the release saves it once"
rm -rf "$SK_DIR/queue"
sk_respawn
story_to_consent "Longlockmarker"
hold_lock 12 "$SK_DIR/lock"
sk_keys y Enter
sk_wait_flat "locked" 13
sk_wait_flat "Call IT"
sk_wait_flat "safe"
sk_wait "Your consent"
sk_eq "stories while locked" "$(sk_sql "SELECT count(*) FROM stories")" 0
wait "$LOCKER_PID"; LOCKER_PID=""
sk_keys C-n
sk_wait "Story reference:"
sk_eq "stories" "$(sk_sql "SELECT count(*) FROM stories")" 1
sk_eq "its good answer" "$(sk_export_py 'r[0]["answers"]["good"]')" "Longlockmarker the nurses were kind."
sk_end_case
