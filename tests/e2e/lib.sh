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
}
trap sk_cleanup EXIT

sk_tmux() { tmux -L "$SK_SOCKET" "$@"; }

# Start the kiosk at WIDTH x HEIGHT with extra arguments; the pane stays after
# the program exits so its last screen and exit status can be read.
sk_start() {
	local width=$1 height=$2
	shift 2
	sk_tmux kill-server >/dev/null 2>&1
	local args="" arg
	for arg in "$@"; do args="$args $(printf '%q' "$arg")"; done
	sk_tmux -f /dev/null new-session -d -s k -x "$width" -y "$height" \
		"env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=${SK_TERM:-tmux-256color} ${SK_ENV:-} $(printf '%q' "$SK_BIN") --db $(printf '%q' "$SK_DB")$args" || return 1
	sk_tmux set-option -t k remain-on-exit on >/dev/null
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
	local text=$1 deadline=$(( $(date +%s%N) / 1000000 + ${2:-5} * 1000 ))
	while :; do
		if sk_screen | grep -qF -- "$text"; then return 0; fi
		if [ $(( $(date +%s%N) / 1000000 )) -ge "$deadline" ]; then
			sk_fail "waited for \"$text\" but it never appeared"
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
