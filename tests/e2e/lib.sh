# lib.sh - drive the real storykiosk binary in a private tmux server, as a
# ward user would: type, press keys, read the screen, and read the queue back.
# Sourced by tests/e2e/test_*.sh. Each test file holds one or more cases:
#   sk_case "name"; ...steps...; sk_end_case
# A failed step records the failure and prints the screen it was looking at.

set -u
SK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SK_BIN=${SK_BIN:-$SK_ROOT/storykiosk}
SK_DIR=$(mktemp -d)
chmod 755 "$SK_DIR"
SK_SOCKET="sk-$$-$(basename "$0" .sh)"
SK_DB="$SK_DIR/queue/queue.db"
SK_CASE=""
SK_CASE_FAILED=0
export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset NO_COLOR

sk_cleanup() {
	tmux -L "$SK_SOCKET" kill-server >/dev/null 2>&1
	rm -rf "$SK_DIR"
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SK_SOCKET"
}
trap sk_cleanup EXIT

sk_tmux() { tmux -L "$SK_SOCKET" "$@"; }

# Start the kiosk at WIDTH x HEIGHT with extra arguments; the pane stays after
# the program exits so its last screen and exit status can be read.
sk_start() {
	local width=$1 height=$2 i pid
	shift 2
	# A new server started while the old one is still exiting dies at once
	# ("server exited unexpectedly"): wait for the old one, and retry.
	pid=$(sk_tmux display-message -p '#{pid}' 2>/dev/null)
	sk_tmux kill-server >/dev/null 2>&1
	for i in $(seq 1 150); do
		{ [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; } || break
		sleep 0.02
	done
	local args="" arg
	for arg in "$@"; do args="$args $(printf '%q' "$arg")"; done
	for i in 1 2 3; do
		# remain-on-exit is set in the same command list as the session, so
		# a program that exits at once (a refusal) still leaves its pane.
		if sk_tmux -f /dev/null new-session -d -s k -x "$width" -y "$height" \
			"env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=${SK_TERM:-tmux-256color} ${SK_ENV:-} $(printf '%q' "$SK_BIN") --db $(printf '%q' "$SK_DB")$args" \
			\; set-option -t k remain-on-exit on >/dev/null 2>&1; then
			# Only the server failing is retried: the program has started.
			return 0
		fi
		sleep 0.3
	done
	return 1
}

sk_screen() { sk_tmux capture-pane -p -t k; }

sk_fail() {
	echo "#   $*"
	SK_CASE_FAILED=1
}

sk_show_screen() {
	echo "#   ---- screen ----"
	sk_screen | sed 's/^/#   |/'
	echo "#   ----------------"
}

# Wait until the screen shows TEXT (a fixed string); fail with the screen after
# a deadline (seconds, default 5).
sk_wait() {
	sk_poll_for sk_screen "$1" "${2:-5}" ""
}

# Poll the output of SOURCE (sk_screen or sk_flat) until it holds TEXT, for up
# to SECONDS; on the deadline fail, saying WHAT, and show the screen.
sk_poll_for() {
	local source=$1 text=$2 deadline=$(( $(date +%s%N) / 1000000 + $3 * 1000 )) what=$4
	while :; do
		if "$source" | grep -qF -- "$text"; then return 0; fi
		if [ $(( $(date +%s%N) / 1000000 )) -ge "$deadline" ]; then
			sk_fail "waited for \"$text\"$what but it never appeared"
			sk_show_screen
			return 1
		fi
		sleep 0.05
	done
}

# Wait until TEXT is no longer on the screen.
sk_wait_gone() {
	local text=$1 deadline=$(( $(date +%s%N) / 1000000 + ${2:-5} * 1000 ))
	while sk_screen | grep -qF -- "$text"; do
		if [ $(( $(date +%s%N) / 1000000 )) -ge "$deadline" ]; then
			sk_fail "\"$text\" stayed on the screen"
			sk_show_screen
			return 1
		fi
		sleep 0.05
	done
}

# The screen must not show TEXT right now.
sk_absent() {
	if sk_screen | grep -qF -- "$1"; then
		sk_fail "the screen shows \"$1\" but should not"
		sk_show_screen
		return 1
	fi
}

sk_keys() { sk_tmux send-keys -t k "$@"; }
sk_type() { sk_tmux send-keys -t k -l "$1"; }

# Wait for the program to exit; prints its exit status.
sk_exit_status() {
	local i
	for i in $(seq 1 100); do
		if [ "$(sk_tmux display-message -p -t k '#{pane_dead}')" = 1 ]; then
			sk_tmux display-message -p -t k '#{pane_dead_status}'
			return 0
		fi
		sleep 0.05
	done
	echo "still running"
}

sk_case() {
	SK_CASE=$1
	SK_CASE_FAILED=0
}

sk_end_case() {
	if [ "$SK_CASE_FAILED" -eq 0 ]; then
		echo "ok - $SK_CASE"
	else
		echo "not ok - $SK_CASE"
	fi
}

# Compare two values; label says what they are.
sk_eq() {
	local label=$1 got=$2 want=$3
	if [ "$got" != "$want" ]; then
		sk_fail "$label: got [$got], want [$want]"
		return 1
	fi
}

# Run storykiosk on the test's queue without a terminal.
sk_cli() { "$SK_BIN" --db "$SK_DB" "$@"; }

# Print a field of the export: a Python expression over the list of records r.
sk_export_py() {
	sk_cli export | python3 -c '
import json, sys
r = [json.loads(line) for line in sys.stdin if line.strip()]
print(eval(sys.argv[1]))' "$1"
}

# Sign in at the start of a shift as NAME (staff).
sk_sign_in() {
	sk_wait "please sign in" || return 1
	sk_type "$1"
	sk_keys Enter Enter
	sk_wait "Introduce yourself"
}

# Walk from the introduction to the consent step with simple, valid answers.
# Arguments override: GOOD DIFFERENT TITLE USERNAME POSTCODE SERVICE EMAIL.
sk_fill_story() {
	local good=${1:-The nurses were kind.} different=${2:-Shorter waits.}
	local title=${3:-Kind nurses} username=${4:-BlueHeron} postcode=${5:-LE1 5WW}
	local service=${6:-ward 7} email=${7:-jo.bloggs@example.org}
	sk_wait "Introduce yourself" || return 1
	sk_keys C-n; sk_wait "What was good?" || return 1
	sk_type "$good"; sk_keys C-n
	sk_wait "What could have been different?" || return 1
	sk_type "$different"; sk_keys C-n
	sk_wait "A title for your story" || return 1
	sk_type "$title"; sk_keys Enter
	sk_wait "Who is telling this story?" || return 1
	sk_keys Enter
	sk_wait "A name to post under" || return 1
	sk_type "$username"; sk_keys Enter
	sk_wait "Your postcode" || return 1
	sk_type "$postcode"; sk_keys Enter
	sk_wait "Where was your care?" || return 1
	sk_type "$service"; sk_wait "[ ]" || return 1
	sk_keys Enter; sk_wait "Chosen (1)" || return 1
	sk_keys C-n; sk_wait "Your email address" || return 1
	if [ "$email" = none ]; then
		sk_keys Down Enter
	else
		sk_type "$email"; sk_keys Enter; sk_wait "Read the address back" || return 1
		sk_keys C-n
	fi
	sk_wait "Check your story" || return 1
	sk_keys C-n; sk_wait "Your consent"
}

# ---- more helpers (added for the themed e2e files) ----

# A quick Python for the helpers below (a version manager's shim can take a
# quarter of a second to start, and some helpers run it in a polling loop).
SK_PY=${SK_PY:-$(if [ -x /usr/bin/python3 ]; then echo /usr/bin/python3; else command -v python3; fi)}

# The screen as one line: each row trimmed, rows joined by one space, runs of
# spaces squeezed. A message wrapped over two rows can then be matched whole.
sk_flat() { sk_screen | sed 's/^ *//; s/ *$//' | tr '\n' ' ' | tr -s ' '; }

# Like sk_wait, on the flattened screen.
sk_wait_flat() {
	sk_poll_for sk_flat "$1" "${2:-5}" " (even wrapped)"
}

# Like sk_absent, on the flattened screen.
sk_absent_flat() {
	if sk_flat | grep -qF -- "$1"; then
		sk_fail "the screen shows \"$1\" but should not"
		sk_show_screen
		return 1
	fi
}

# Wait until the kiosk has read every byte sent to its terminal (the pane's
# tty has nothing unread, several times in a row). Used where a key should
# change nothing on screen, so there is nothing else to wait for.
sk_input_drained() {
	local tty
	tty=$(sk_tmux display-message -p -t k '#{pane_tty}')
	"$SK_PY" - "$tty" <<'PY' || { sk_fail "the kiosk did not read its input"; return 1; }
import array, fcntl, os, sys, termios, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
quiet, deadline = 0, time.time() + 5
while time.time() < deadline:
    buf = array.array('i', [0])
    fcntl.ioctl(fd, termios.FIONREAD, buf)
    quiet = quiet + 1 if buf[0] == 0 else 0
    if quiet >= 4:
        sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
PY
}

# Wait until the program has exited; fail (with the screen) if it has not.
# Meant for $(...): prints the exit status, "signal N", or "still running"
# (and the screen, on stderr) when the program has not ended within 5
# seconds. tmux marks a pane dead when its terminal closes, before it knows
# the exit status, and now and then it leaves the ended program unreaped for
# a long time: the status is then read from the zombie's /proc/PID/stat
# (field 52, the wait status).
sk_wait_exit() {
	local i info pid stat code
	pid=$(sk_tmux display-message -p -t k '#{pane_pid}')
	for i in $(seq 1 100); do
		info=$(sk_tmux display-message -p -t k '#{pane_dead} #{pane_dead_status} #{pane_dead_signal}')
		case $info in
		"1 "[0-9]*) echo "${info#1 }" | cut -d' ' -f1; return 0 ;;
		"1  "[0-9]*) echo "signal ${info#1  }"; return 0 ;;
		esac
		stat=$(cat "/proc/$pid/stat" 2>/dev/null)
		if [ -n "$stat" ] && [ "$(echo "${stat##*) }" | cut -d' ' -f1)" = Z ]; then
			code=$(echo "${stat##*) }" | cut -d' ' -f50)
			# Exited, but tmux may not have read its last output yet: it
			# marks the pane dead once it has. Wait for that, briefly.
			for i in $(seq 1 40); do
				[ "$(sk_tmux display-message -p -t k '#{pane_dead}')" = 1 ] && break
				sleep 0.05
			done
			if [ $(( code & 127 )) -eq 0 ]; then echo $(( code >> 8 )); else echo "signal $(( code & 127 ))"; fi
			return 0
		fi
		sleep 0.05
	done
	sk_show_screen >&2
	echo "still running"
}

# TEXT must stay on the screen for SECONDS: every capture in that time shows it
# (a dialog that flickers, or a screen that is redrawn badly, fails this).
sk_steady() {
	local text=$1 end=$(( $(date +%s%N) / 1000000 + ${2:-1} * 1000 )) n=0 missed=0
	while [ $(( $(date +%s%N) / 1000000 )) -lt "$end" ]; do
		n=$((n + 1))
		sk_screen | grep -qF -- "$text" || missed=$((missed + 1))
		sleep 0.03
	done
	if [ "$missed" -gt 0 ]; then
		sk_fail "\"$text\" was missing from $missed of $n screens in ${2:-1}s"
		return 1
	fi
}

# Row N (1-based) of the screen.
sk_row() { sk_screen | sed -n "${1}p"; }

# The queue through the sqlite3 command-line tool.
sk_sql() { sqlite3 -batch "$SK_DB" "$@"; }

# Check that the queue DB's running counts by state (story_counts, what stats
# reads) match its stories, and that each delivered story's history holds a
# 'delivered' (or 'delivered (already there)'), a 'sent' for each of those,
# and an attempt for each 'sent': sync writes these in bulk, with the
# counting triggers off. Fails the case with the first differences.
sk_queue_consistent() {
	local db=$1 diff
	diff=$(sqlite3 -batch "$db" "
		SELECT 'count ' || status || '/' || posted_by_staff || ': kept ' || kept || ', actual ' || actual
		FROM (SELECT status, posted_by_staff, sum(kept) AS kept, sum(actual) AS actual FROM (
			SELECT status, posted_by_staff, stories AS kept, 0 AS actual FROM story_counts
			UNION ALL SELECT status, posted_by_staff, 0, 1 FROM stories)
		      GROUP BY status, posted_by_staff) WHERE kept <> actual
		UNION ALL
		SELECT 'history ' || s.id || ': ' || (SELECT group_concat(event, ', ') FROM audit a WHERE a.story_id = s.id)
		FROM stories s WHERE s.status = 'delivered' AND (
			(SELECT count(*) FROM audit a WHERE a.story_id = s.id AND a.event = 'sent') <
			(SELECT count(*) FROM audit a WHERE a.story_id = s.id AND a.event LIKE 'delivered%')
			OR (SELECT count(*) FROM audit a WHERE a.story_id = s.id AND a.event LIKE 'delivered%') < 1
			OR (SELECT count(*) FROM attempts t WHERE t.story_id = s.id) <
			   (SELECT count(*) FROM audit a WHERE a.story_id = s.id AND a.event = 'sent'))
		LIMIT 5") || { sk_fail "reading $db"; return 1; }
	[ -z "$diff" ] && return 0
	sk_fail "the queue's counts or histories are off"
	printf '%s\n' "$diff" | sed 's/^/#   /'
	return 1
}

# Mount a tmpfs of SIZE (e.g. 1m) with MODE on DIR, for a disk that fills:
# non-zero when this test cannot (it needs root and mount permission).
sk_mount_tmpfs() {
	local dir=$1 size=$2 mode=$3
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && mount -t tmpfs -o "size=$size,mode=$mode" tmpfs "$dir" 2>/dev/null
}

# Unmount DIR if it is mounted, waiting out a process still closing files on it.
sk_unmount() {
	if mountpoint -q "$1" 2>/dev/null; then
		for _ in $(seq 1 50); do umount "$1" 2>/dev/null && break; sleep 0.1; done
	fi
}

# Put stories straight into the queue: N_EMAIL with an email address and
# N_STAFF posted by staff (no email). The queue is created first if needed.
sk_add_stories() {
	local with=$1 without=$2 i sql="BEGIN;"
	[ -f "$SK_DB" ] || sk_cli list >/dev/null || return 1
	for i in $(seq 1 "$with"); do
		sql="$sql INSERT INTO stories (id, created_at, consented_at, form_name, form_version,
		 operator_name, operator_role, username, email, posted_by_staff, consent_given,
		 consent_version) VALUES ('e$RANDOM-$i-$with', '2024-01-01T00:00:00Z',
		 '2024-01-01T00:00:00Z', 'default', '1', 'Tester', 'staff', 'User$i',
		 'user$i@example.org', 0, 1, '1');"
	done
	for i in $(seq 1 "$without"); do
		sql="$sql INSERT INTO stories (id, created_at, consented_at, form_name, form_version,
		 operator_name, operator_role, username, email, posted_by_staff, consent_given,
		 consent_version) VALUES ('s$RANDOM-$i-$without', '2024-01-01T00:00:00Z',
		 '2024-01-01T00:00:00Z', 'default', '1', 'Tester', 'staff', 'Staff$i',
		 NULL, 1, 1, '1');"
	done
	sk_sql "$sql COMMIT;"
}

# From the introduction, walk to the step whose title is TITLE with valid
# answers (sk_fill_story's defaults), and stop on it.
sk_walk_to() {
	local want=$1 i
	local titles=("Introduce yourself" "What was good?" "What could have been different?"
		"A title for your story" "Who is telling this story?" "A name to post under"
		"Your postcode" "Where was your care?" "Your email address" "Check your story"
		"Your consent")
	for i in "${!titles[@]}"; do
		sk_wait "${titles[$i]}" || return 1
		[ "${titles[$i]}" = "$want" ] && return 0
		case $i in
		0 | 9) sk_keys C-n ;;
		1) sk_type "The nurses were kind."; sk_keys C-n ;;
		2) sk_type "Shorter waits."; sk_keys C-n ;;
		3) sk_type "Kind nurses"; sk_keys Enter ;;
		4) sk_keys Enter ;;
		5) sk_type "BlueHeron"; sk_keys Enter ;;
		6) sk_type "LE1 5WW"; sk_keys Enter ;;
		7) sk_type "ward 7"; sk_wait "[ ] Ward 7" || return 1
		   sk_keys Enter; sk_wait "Chosen (1)" || return 1; sk_keys C-n ;;
		8) sk_type "jo.bloggs@example.org"; sk_keys Enter
		   sk_wait "Read the address back" || return 1; sk_keys C-n ;;
		esac
	done
	sk_fail "sk_walk_to: no step called \"$want\""
	return 1
}

# Say yes at the consent step and wait for the thank-you, then for the next
# person's introduction.
sk_consent_yes() {
	sk_wait "Your consent" || return 1
	sk_keys y Enter
	sk_wait "Story reference:" || return 1
	sk_keys Enter
	sk_wait "Introduce yourself"
}

# Press Backspace N times (to empty a one-line box).
sk_backspace() { sk_keys $(for _ in $(seq 1 "$1"); do printf 'BSpace '; done); }

# A new, empty queue and a kiosk at WIDTH x HEIGHT (80x24 by default), signed
# in as Sam Carter and standing at the introduction.
sk_fresh() {
	rm -rf "$SK_DIR/queue"
	sk_restart "${1:-80}" "${2:-24}" "${@:3}" || return 1
	sk_sign_in "${SK_OPERATOR:-Sam Carter}"
}

# sk_start, and check the new session is there (sk_start itself waits for
# the last tmux server to go, and retries a start that failed).
sk_restart() {
	sk_start "$@" && sk_tmux has-session -t k 2>/dev/null && return 0
	sk_fail "could not start the kiosk in tmux"
	return 1
}

# The text inside the dialog box on screen (title row to bottom border), as
# one line: rows trimmed and joined by one space. Empty when no dialog shows.
sk_dialog_flat() {
	sk_screen | "$SK_PY" -c '
import sys
rows = sys.stdin.read().split("\n")
out = []
for i, r in enumerate(rows):
    left = r.find("┌─")
    if left < 0:
        continue
    right = r.find("┐", left)
    out.append(r[left + 2:right].strip("─ "))
    for r2 in rows[i + 1:]:
        if r2[left:left + 1] == "└":
            break
        out.append(r2[left + 1:right].strip())
    break
print(" ".join(" ".join(out).split()))'
}

# Wait until the dialog on screen holds TEXT (even wrapped over rows).
sk_wait_dialog() {
	local text=$1 deadline=$(( $(date +%s%N) / 1000000 + ${2:-5} * 1000 ))
	while :; do
		if sk_dialog_flat | grep -qF -- "$text"; then return 0; fi
		if [ $(( $(date +%s%N) / 1000000 )) -ge "$deadline" ]; then
			sk_fail "waited for a dialog saying \"$text\" but it never appeared"
			sk_show_screen
			return 1
		fi
		sleep 0.05
	done
}

# CPU time (user + system, in clock ticks) the kiosk has used so far.
sk_cpu_ticks() {
	local pid
	pid=$(sk_tmux display-message -p -t k '#{pane_pid}')
	awk '{print $14 + $15}' "/proc/$pid/stat"
}

# Is TEXT shown in reverse video (the focus highlight)? Prints yes or no.
sk_highlighted() {
	sk_tmux capture-pane -p -e -t k | "$SK_PY" -c '
import re, sys
text = re.escape(sys.argv[1])
screen = sys.stdin.read()
# Reverse on (7) and not switched off before TEXT begins.
pat = "\x1b\\[(?:[0-9;]*;)?7(?:;[0-9;]*)?m(?:\x1b\\[(?!0m|27m|m)[0-9;]*m)*" + text
print("yes" if re.search(pat, screen) else "no")' "$1"
}

# Wait until TEXT is (want=yes) or is not (want=no) highlighted.
sk_wait_highlight() {
	local text=$1 want=$2 deadline=$(( $(date +%s%N) / 1000000 + ${3:-5} * 1000 ))
	while [ "$(sk_highlighted "$text")" != "$want" ]; do
		if [ $(( $(date +%s%N) / 1000000 )) -ge "$deadline" ]; then
			sk_fail "\"$text\" highlighted: wanted $want"
			sk_tmux capture-pane -p -e -t k | tail -3 | cat -v | sed 's/^/#   |/'
			return 1
		fi
		sleep 0.05
	done
}

# ---- storykiosk sync, for the sync test files ----

# Run "storykiosk sync" on queue DB with $SK_CONF and extra arguments. Sets
# SYNC_RC, SYNC_SUMMARY (the last line of stdout) and SYNC_MS; the output is
# kept in $SK_DIR/sync.out and $SK_DIR/sync.err.
sk_sync() {
	local db=$1 started
	shift
	started=$(date +%s%N)
	"$SK_BIN" --db "$db" --config "$SK_CONF" sync "$@" >"$SK_DIR/sync.out" 2>"$SK_DIR/sync.err"
	SYNC_RC=$?
	SYNC_MS=$(( ($(date +%s%N) - started) / 1000000 ))
	SYNC_SUMMARY=$(tail -n 1 "$SK_DIR/sync.out")
}

# Show the last sync's output, and the test intake's log when one has run.
sk_sync_report() {
	sed 's/^/#   out| /' "$SK_DIR/sync.out"
	sed 's/^/#   err| /' "$SK_DIR/sync.err"
	if [ -n "${SK_INTAKE_DIR:-}" ] && [ -f "$SK_INTAKE_DIR/log" ]; then
		tail -n 5 "$SK_INTAKE_DIR/log" | sed 's/^/#   intake| /'
	fi
}

# ---- the test HTTP intake (tests/tools/intake.py), for the sync tests ----
# A test file using these ends with the intake stopped: trap 'sk_intake_stop; sk_cleanup' EXIT

SK_INTAKE_PID=""
SK_INTAKE_DIR=""
SK_INTAKE_PORT=""

# Start a fresh intake on 127.0.0.1 storing into DIR (emptied first), with
# intake.py's other options (--tls CERT KEY, --token-file F); sets
# SK_INTAKE_PORT once it listens. Its log is DIR/log.
sk_intake_start() {
	local dir=$1 i
	shift
	sk_intake_stop
	rm -rf "$dir" && mkdir -p "$dir" || return 1
	SK_INTAKE_DIR=$dir
	"$SK_PY" "$SK_ROOT/tests/tools/intake.py" --port-file "$dir/port" --store "$dir" \
		--lifetime 240 "$@" 2>>"$dir/log" &
	SK_INTAKE_PID=$!
	for i in $(seq 1 100); do
		if [ -s "$dir/port" ]; then
			SK_INTAKE_PORT=$(cat "$dir/port")
			return 0
		fi
		sleep 0.05
	done
	sk_fail "the test intake did not start"
	sed 's/^/#   log| /' "$dir/log"
	return 1
}

# Stop the intake started by sk_intake_start (if any) and wait for it.
sk_intake_stop() {
	[ -n "$SK_INTAKE_PID" ] || return 0
	kill "$SK_INTAKE_PID" 2>/dev/null
	wait "$SK_INTAKE_PID" 2>/dev/null
	SK_INTAKE_PID=""
}

# Set the intake's behaviour: one line per argument (see intake.py).
sk_intake_mode() { printf '%s\n' "$@" >"$SK_INTAKE_DIR/mode"; }

# A number from the intake's stats.json by dotted path ("requests",
# "statuses.201"); 0 when absent. Lists print one item a line.
sk_intake_stat() {
	"$SK_PY" -c '
import json, sys
value = json.load(open(sys.argv[1]))
for part in sys.argv[2].split("."):
    value = value.get(part, 0) if isinstance(value, dict) else 0
print("\n".join(map(str, value)) if isinstance(value, list) else value)' \
		"$SK_INTAKE_DIR/stats.json" "$1"
}

# How many stories the intake holds.
sk_intake_stories() { find "$SK_INTAKE_DIR" -maxdepth 1 -name '*.json' ! -name stats.json | wc -l; }

# ---- helpers for the kiosk-hardening files (drafts, kiosk mode, faults, terminals) ----

# Milliseconds since the epoch.
sk_now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Like sk_restart, with the pane running the shell command CMD instead of the
# kiosk (the pane stays after CMD ends, as with sk_start).
sk_restart_cmd() {
	local width=$1 height=$2 cmd=$3 i pid
	pid=$(sk_tmux display-message -p '#{pid}' 2>/dev/null)
	sk_tmux kill-server >/dev/null 2>&1
	for i in $(seq 1 150); do
		{ [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; } || break
		sleep 0.02
	done
	for i in 1 2 3; do
		if sk_tmux -f /dev/null new-session -d -s k -x "$width" -y "$height" "$cmd" \
			\; set-option -t k remain-on-exit on >/dev/null 2>&1 &&
		   sk_tmux has-session -t k 2>/dev/null; then
			return 0
		fi
		sleep 0.3
	done
	sk_fail "could not start the pane in tmux"
	return 1
}

# Start the kiosk at WIDTH x HEIGHT (with --db and ARGS) from a shell script:
# PRE (shell code, like "ulimit -f 64", or "") runs first. When the kiosk ends
# the shell prints "[kiosk exited N]" and the terminal's "stty -a" on one
# line, then waits, so a test can see how the terminal was left. SK_AS="runuser -u USER --" runs the
# kiosk as another user. The kiosk's own pid: sk_kiosk_pid.
sk_start_sh() {
	local width=$1 height=$2 pre=$3 args="" arg
	shift 3
	for arg in "$@"; do args="$args $(printf '%q' "$arg")"; done
	cat >"$SK_DIR/pane.sh" <<PANE
printf '\\033c'
$pre
${SK_AS:-} env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=${SK_TERM:-tmux-256color} ${SK_ENV:-} $(printf '%q' "$SK_BIN") --db $(printf '%q' "$SK_DB")$args
echo "[kiosk exited \$?]"
echo "[stty \$(stty -a | tr '\n' ' ')]"
exec sleep 3600
PANE
	# In the same pane when there is one (quicker than a new tmux server).
	if sk_tmux has-session -t k 2>/dev/null; then
		sk_tmux resize-window -t k -x "$width" -y "$height" >/dev/null 2>&1
		sk_tmux clear-history -t k
		sk_tmux respawn-pane -k -t k "sh $(printf '%q' "$SK_DIR/pane.sh")" && return 0
	fi
	sk_restart_cmd "$width" "$height" "sh $(printf '%q' "$SK_DIR/pane.sh")"
}

# The exit status the pane script printed (sk_start_sh), waiting up to
# SECONDS (default 5); "still running" when it has not ended.
sk_sh_exit() {
	local deadline=$(( $(sk_now_ms) + ${1:-5} * 1000 )) line
	while [ "$(sk_now_ms)" -lt "$deadline" ]; do
		line=$(sk_tmux capture-pane -p -J -t k -S -200 | grep -o '\[kiosk exited [0-9]*\]' | tail -n 1)
		if [ -n "$line" ]; then
			line=${line#\[kiosk exited }
			echo "${line%\]}"
			return 0
		fi
		sleep 0.05
	done
	echo "still running"
}

# The terminal settings the pane script printed after the kiosk ended.
sk_sh_stty() { sk_tmux capture-pane -p -J -t k -S -200 | grep -o '\[stty .*' | tail -n 1; }

# The pid of the storykiosk process in the pane (the pane's own process or a
# descendant of it: a shell, runuser). Empty when there is none.
sk_kiosk_pid() {
	local todo pid next=""
	todo=$(sk_tmux display-message -p -t k '#{pane_pid}' 2>/dev/null)
	while [ -n "$todo" ]; do
		next=""
		for pid in $todo; do
			if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = storykiosk ] &&
			   [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
				echo "$pid"
				return 0
			fi
			next="$next $(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ')"
		done
		todo=$(echo $next)
	done
	return 1
}

# Wait until process PID has ended (gone or a zombie); fail after SECONDS.
sk_wait_pid_gone() {
	local pid=$1 deadline=$(( $(sk_now_ms) + ${2:-5} * 1000 ))
	while [ -d "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
		if [ "$(sk_now_ms)" -ge "$deadline" ]; then
			sk_fail "process $pid is still running"
			return 1
		fi
		sleep 0.02
	done
}

# Wait until the query SQL on the queue prints WANT; fail after SECONDS
# (default 5) with what it printed last.
sk_wait_sql() {
	local sql=$1 want=$2 deadline=$(( $(sk_now_ms) + ${3:-5} * 1000 )) got
	while :; do
		got=$(sk_sql "$sql" 2>&1)
		[ "$got" = "$want" ] && return 0
		if [ "$(sk_now_ms)" -ge "$deadline" ]; then
			sk_fail "waited for [$sql] to give [$want]; it gives [$got]"
			return 1
		fi
		sleep 0.1
	done
}

# Write a config file FILE with the given "key = value" lines.
sk_conf() {
	local file=$1
	shift
	printf '%s\n' "# written by $(basename "$0")" "$@" >"$file"
}

# The screen with attributes (capture-pane -e), and its history when FROM
# (a -S start line, like -1000) is given.
sk_screen_e() { sk_tmux capture-pane -p -e -t k ${1:+-S "$1"}; }

# Does the text hold an SGR escape that sets a colour (30-37, 38, 40-47, 48,
# 90-97, 100-107)? Prints the first such sequence, or nothing.
sk_colour_sgr() {
	"$SK_PY" -c '
import re, sys
for m in re.finditer(r"\x1b\[([0-9;:]*)m", sys.stdin.read()):
    params = [p for p in re.split("[;:]", m.group(1)) if p]
    for p in params:
        n = int(p)
        if 30 <= n <= 38 or 40 <= n <= 48 or 90 <= n <= 97 or 100 <= n <= 107:
            print(repr(m.group(0)))
            sys.exit(0)'
}

# Start the kiosk again (with --db and ARGS) in the same tmux pane, its screen
# and history wiped: much quicker than sk_restart (a tmux server takes over a
# second to exit). A kiosk still running there gets SIGHUP first. Falls back
# to sk_restart at 80x24 when there is no pane.
sk_respawn() {
	local args="" arg
	for arg in "$@"; do args="$args $(printf '%q' "$arg")"; done
	if ! sk_tmux has-session -t k 2>/dev/null; then
		sk_restart 80 24 "$@"
		return
	fi
	sk_tmux clear-history -t k
	# A full reset (ESC c) first: the new output starts at the top of a clean
	# pane, not below the last program's "Pane is dead" line.
	sk_tmux respawn-pane -k -t k "printf '\\033c'; exec env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=${SK_TERM:-tmux-256color} ${SK_ENV:-} $(printf '%q' "$SK_BIN") --db $(printf '%q' "$SK_DB")$args" ||
		{ sk_fail "could not respawn the kiosk's pane"; return 1; }
}

# All the pane shows and its history (tmux scrolls a dead pane's last screen
# up a row to say "Pane is dead"), wrapped rows joined, as one line like
# sk_flat. For what a program printed before it exited.
sk_pane_all() { sk_tmux capture-pane -p -J -t k -S -2000 | sed 's/^ *//; s/ *$//' | tr '\n' ' ' | tr -s ' '; }

# Like sk_walk_to, but starting on the step titled FROM, whose answer is
# already there: it is left as it is (Ctrl-N, or Enter on one-line steps), and
# the steps after it get sk_walk_to's answers until the step titled TO.
sk_walk_from() {
	local from=$1 want=$2 i started=0
	local titles=("Introduce yourself" "What was good?" "What could have been different?"
		"A title for your story" "Who is telling this story?" "A name to post under"
		"Your postcode" "Where was your care?" "Your email address" "Check your story"
		"Your consent")
	for i in "${!titles[@]}"; do
		if [ "$started" -eq 0 ]; then
			[ "${titles[$i]}" = "$from" ] || continue
			started=1
			sk_wait "$from" || return 1
			[ "$from" = "$want" ] && return 0
			case $i in
			0 | 1 | 2 | 7 | 9) sk_keys C-n ;;
			*) sk_keys Enter ;;
			esac
			continue
		fi
		sk_wait "${titles[$i]}" || return 1
		[ "${titles[$i]}" = "$want" ] && return 0
		case $i in
		2) sk_type "Shorter waits."; sk_keys C-n ;;
		3) sk_type "Kind nurses"; sk_keys Enter ;;
		4) sk_keys Enter ;;
		5) sk_type "BlueHeron"; sk_keys Enter ;;
		6) sk_type "LE1 5WW"; sk_keys Enter ;;
		7) sk_type "ward 7"; sk_wait "[ ] Ward 7" || return 1
		   sk_keys Enter; sk_wait "Chosen (1)" || return 1; sk_keys C-n ;;
		8) sk_type "jo.bloggs@example.org"; sk_keys Enter
		   sk_wait "Read the address back" || return 1; sk_keys C-n ;;
		9) sk_keys C-n ;;
		esac
	done
	sk_fail "sk_walk_from: no step called \"$from\" or \"$want\" after it"
	return 1
}
