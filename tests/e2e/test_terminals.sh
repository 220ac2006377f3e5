#!/usr/bin/env bash
# Every terminal a ward has: the Linux console, a VT100, NO_COLOR; resizing to
# tiny and back; pasted escape sequences and a 1 MB paste; and the idle reset
# that leaves nothing of a story on the screen or in the scrollback.
. "$(dirname "$0")/lib.sh"

# Keep the operator's own config files out of the test.
export HOME=$SK_DIR/home XDG_CONFIG_HOME=$SK_DIR/config
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
FOOTER="^N Next  ^P Back  Tab Buttons  Esc Menu"

# A new, empty queue and a kiosk (ARGS) signed in as Sam Carter, in the same
# pane (or a new one at 80x24).
fresh() {
	local pid
	pid=$(sk_kiosk_pid) && kill -9 "$pid" && sk_wait_pid_gone "$pid"
	rm -rf "$SK_DIR/queue"
	sk_tmux resize-window -t k -x 80 -y 24 2>/dev/null
	sk_respawn "$@" || return 1
	sk_sign_in "Sam Carter"
}

# Resize to 40x10 ("make the window larger"), then back to 80x24, where TEXT
# (on the screen before) must be back, with the footer's keys.
tiny_and_back() {
	local text=$1
	sk_tmux resize-window -t k -x 40 -y 10
	sk_wait_flat "make this window larger" || return 1
	sk_absent "$text"
	sk_tmux resize-window -t k -x 80 -y 24
	sk_wait "$text" || return 1
	sk_wait "$FOOTER"
}

# The colour SGRs in the screen now (nothing when there are none).
colour_now() { sk_screen_e | sk_colour_sgr; }

for term in linux vt100; do
	sk_case "TERM=$term at 80x24: sign in, every step, review and consent work, the footer's keys show, and 40x10 and back redraws"
	SK_TERM=$term
	pid=$(sk_kiosk_pid) && kill -9 "$pid" && sk_wait_pid_gone "$pid"
	rm -rf "$SK_DIR/queue"
	sk_tmux resize-window -t k -x 80 -y 24 2>/dev/null
	sk_respawn
	sk_wait "please sign in"
	sk_wait "$FOOTER"
	tiny_and_back "please sign in"
	sk_sign_in "Sam Carter"
	sk_wait "$FOOTER"
	sk_walk_to "What was good?"
	sk_type "On the $term console: très bien."
	sk_wait "On the $term console: très bien."
	tiny_and_back "On the $term console: très bien."
	sk_walk_from "What was good?" "Check your story"
	sk_wait "On the $term console: très bien."
	sk_wait "BlueHeron"
	sk_wait "$FOOTER"
	sk_wait "[ Back ] [ Next ]"
	tiny_and_back "Check your story"
	sk_keys C-n
	sk_wait "Your consent"
	sk_keys y Enter
	sk_wait "Story reference:"
	sk_eq "stories" "$(sk_sql "SELECT count(*) FROM stories")" 1
	sk_eq "good" "$(sk_export_py 'r[0]["answers"]["good"]')" "On the $term console: très bien."
	[ "$term" = vt100 ] && sk_eq "colour on a monochrome VT100" "$(colour_now)" ""
	sk_end_case
done
SK_TERM=tmux-256color

sk_case "NO_COLOR=1: no colour escape on any screen, while reverse and bold still mark the selection, errors and titles (without it, colour is used)"
# Without NO_COLOR the kiosk does use colour here: the check below can see it.
fresh
[ -n "$(colour_now)" ] || sk_fail "no colour without NO_COLOR: the check would prove nothing"
SK_ENV="NO_COLOR=1"
fresh
sk_wait "$FOOTER"
coloured=""
note() { local c; c=$(colour_now); [ -n "$c" ] && coloured="$coloured [$1: $c]"; }
note "step 1"
sk_keys C-n; sk_wait "What was good?"
note "text step"
sk_keys C-n
sk_wait_flat "Write down what they say here."
note "error"
sk_tmux capture-pane -p -e -t k | grep -F "Write down what they say" | grep -qE $'\e\\[([0-9;]*;)?7[;m]' ||
	sk_fail "the error is not shown in reverse video"
sk_type "NO_COLOR story"
sk_walk_from "What was good?" "Your email address"
sk_type "jo.bloggs@example.org"; sk_keys Enter
sk_wait "Read the address back"
note "warning"
sk_keys Down
sk_wait_highlight "( ) No email address - a staff member posts it for them" yes
note "option"
sk_keys Up C-n
sk_wait "Check your story"
sk_wait_highlight "  What was good?" yes
note "review"
sk_keys Down
sk_wait_highlight "  What could have been different?" yes
sk_wait_highlight "  What was good?" no
sk_keys C-n; sk_wait "Your consent"
sk_keys Down Down
sk_wait_highlight "( ) No - do not keep their story" yes
note "consent"
sk_tmux capture-pane -p -e -t k | grep -F "Your consent" | grep -qE $'\e\\[([0-9;]*;)?1[;m]' ||
	sk_fail "the step's title is not bold"
tiny_and_back "Your consent"
note "after resizing"
sk_wait_highlight "( ) No - do not keep their story" yes
sk_eq "colour escapes with NO_COLOR" "$coloured" ""
SK_ENV=""
sk_end_case

sk_case "an escape sequence and a bidi override pasted into a story are neutralised: never red, no title change, none in the queue, export or show"
fresh
title_before=$(sk_tmux display-message -p -t k '#{pane_title}')
sk_walk_to "What was good?"
printf 'Before \033[31mRED\033[0m\033]0;pwned\007 \342\200\256evil after' >"$SK_DIR/paste"
sk_tmux load-buffer -b esc "$SK_DIR/paste"
sk_tmux paste-buffer -b esc -t k
red=0
for _ in $(seq 1 20); do
	sk_screen_e | grep -qE $'\e\\[([0-9;]*;)?31[;m]' && red=$((red + 1))
	sleep 0.05
done
sk_wait "Before"
sk_wait "after"
sk_eq "screens showing red" "$red" 0
sk_eq "pane title" "$(sk_tmux display-message -p -t k '#{pane_title}')" "$title_before"
sk_screen | grep -q $'\u202e' && sk_fail "the screen holds the bidi override"
sk_walk_from "What was good?" "Your consent"
sk_keys y Enter
sk_wait "Story reference:"
ref=$(sk_sql "SELECT reference FROM stories")
sk_eq "escape, BEL or bidi override in the stored answers" \
	"$(sk_sql "SELECT count(*) FROM answers WHERE instr(value, char(27)) OR instr(value, char(7)) OR instr(value, char(8238))")" 0
sk_eq "the words around the escapes are kept" \
	"$(sk_sql "SELECT count(*) FROM answers WHERE step_key = 'good' AND value LIKE 'Before%after%'")" 1
sk_cli show "$ref" >"$SK_DIR/show.out" 2>&1 || sk_fail "show $ref failed: $(cat "$SK_DIR/show.out")"
for format in jsonl csv text; do sk_cli export --format "$format" >"$SK_DIR/export.$format"; done
for out in show.out export.jsonl export.csv export.text; do
	bad=$("$SK_PY" -c '
import sys
data = open(sys.argv[1], "rb").read()
print(data.count(b"\x1b") + data.count(b"\x07") + data.count("\u202e".encode()) + data.count(b"\\u001b") + data.count(b"\\u202e"))' "$SK_DIR/$out")
	sk_eq "ESC, BEL or bidi override bytes in $out" "$bad" 0
done
grep -q "Before" "$SK_DIR/show.out" || sk_fail "show does not print the story"
sk_end_case

sk_case "a paste holding ESC and digits does not drive the menu: the story typed before it stays (ESC 3 2 would end the shift and delete it)"
fresh
sk_walk_to "What was good?"
sk_type "Handtyped words stay."
sk_wait "Handtyped words stay."
for seq in '\03332' '\03322' '\033[2J'; do
	printf " pasted $seq more" >"$SK_DIR/paste"
	sk_tmux load-buffer -b menu "$SK_DIR/paste"
	sk_tmux paste-buffer -b menu -t k
	sk_input_drained
	if sk_screen | grep -qE '┌─[^─]'; then
		sk_fail "pasting [ pasted $seq more] left a dialog open: $(sk_screen | grep -oE '┌─[^─]+' | head -n 1)"
		sk_keys Escape Escape
		sk_input_drained
	fi
	if ! sk_screen | grep -qF "Handtyped words stay." || ! sk_screen | grep -qF "signed in: Sam Carter"; then
		sk_fail "after pasting [ pasted $seq more] the story is gone from the screen (and the operator signed out?)"
		sk_show_screen
		break
	fi
done
sk_keys C-n
sk_wait "What could have been different?"
sk_eq "the draft keeps the typed words" \
	"$(sk_sql "SELECT count(*) FROM draft_answers WHERE step_key = 'good' AND value LIKE 'Handtyped words stay.%'")" 1
sk_end_case

sk_case "a 1 MB paste: the kiosk keeps up (a key after it is handled within 15 s), caps the answer at 20,000 characters with a message, and stores exactly the cap"
fresh
sk_walk_to "What was good?"
"$SK_PY" -c '
import sys
unit = "Les infirmières étaient très gentilles, merci Zoë. "
text = unit * ((1 << 20) // len(unit.encode()) + 1)
data = text.encode()[:1 << 20].decode("utf-8", "ignore")
open(sys.argv[1], "w").write(data)' "$SK_DIR/big"
sk_tmux load-buffer -b big "$SK_DIR/big"
t0=$(sk_now_ms)
sk_tmux paste-buffer -b big -t k
sk_wait_flat "reached its limit of 20000 characters" 15
# Typed after the paste: it waits behind the whole megabyte.
sk_keys C-n
sk_wait "What could have been different?" 15
took=$(( $(sk_now_ms) - t0 ))
echo "#   1 MB paste and the next key handled in $took ms"
sk_eq "characters in the draft's answer" \
	"$(sk_sql "SELECT length(value) FROM draft_answers WHERE step_key = 'good'")" 20000
sk_walk_from "What could have been different?" "Check your story"
sk_keys C-n
# 20,000 characters are far more words than a story should have: the kiosk
# may ask to check them first. Leave them.
for _ in $(seq 1 10); do
	sk_input_drained
	if sk_screen | grep -qF "3 Leave all of them"; then
		sk_keys 3
	elif sk_screen | grep -qF "Check your story"; then
		sk_keys C-n
	else
		break
	fi
done
sk_wait "Your consent"
sk_keys y Enter
sk_wait "Story reference:" 10
sk_eq "stored answer is the paste's first 20,000 characters" \
	"$(sk_export_py 'r[0]["answers"]["good"] == open("'"$SK_DIR/big"'", encoding="utf-8").read()[:20000]')" True
sk_eq "stored answer's length" "$(sk_export_py 'len(r[0]["answers"]["good"])')" 20000
sk_end_case

IDLE_CONF=$SK_DIR/idle.conf
sk_conf "$IDLE_CONF" "idle_timeout = 5s" "still_there = 2s"

sk_case "idle: 'Are you still there?' comes after idle_timeout; a key during its countdown keeps the story as it was"
pid=$(sk_kiosk_pid) && kill -9 "$pid" && sk_wait_pid_gone "$pid"
rm -rf "$SK_DIR/queue"
# Lines in the pane's scrollback before the kiosk starts: the reset must clear them too.
sk_start_sh 80 24 "seq -f 'Scrollmark %g' 1 40" --config "$IDLE_CONF"
sk_sign_in "Sam Carter"
sk_keys C-n; sk_wait "What was good?"
sk_type "Idlemarker zebra crossing story"
sk_wait "Idlemarker zebra crossing story"
t0=$(sk_now_ms)
sk_wait_dialog "Are you still there?" 9
waited=$(( $(sk_now_ms) - t0 ))
[ "$waited" -ge 4000 ] || sk_fail "the countdown came after $waited ms, before idle_timeout (5 s)"
sk_wait_dialog "Press any key to carry on."
sk_keys Right
sk_wait_gone "Are you still there?"
sk_wait "Idlemarker zebra crossing story"
sk_wait "Step 2 of 12"
[ "$(sk_tmux capture-pane -p -t k -S -1000 | grep -c 'Scrollmark')" -gt 0 ] ||
	sk_fail "no Scrollmark lines in the scrollback to begin with: the reset's check would prove nothing"
sk_end_case

sk_case "idle: no key during the countdown: back to step 1, nothing of the story on screen or in the scrollback, the draft kept; the next key offers it"
sk_wait_dialog "Are you still there?" 9
sk_wait "Introduce yourself" 5
sk_wait "Step 1 of 12"
sk_wait_gone "Are you still there?"
sk_absent "Idlemarker"
sk_absent "zebra"
sk_eq "story words in screen and scrollback" \
	"$(sk_tmux capture-pane -p -t k -S -1000 | grep -c -e Idlemarker -e zebra)" 0
sk_eq "earlier lines in the scrollback" "$(sk_tmux capture-pane -p -t k -S -1000 | grep -c Scrollmark)" 0
sk_eq "the draft" "$(sk_sql "SELECT value FROM draft_answers WHERE step_key = 'good'")" "Idlemarker zebra crossing story"
sk_eq "stories" "$(sk_sql "SELECT count(*) FROM stories")" 0
sk_wait "signed in: Sam Carter"
sk_keys Space
sk_wait_dialog "Unfinished story"
sk_wait_dialog "by Sam Carter (staff)"
sk_keys Enter
sk_wait "Idlemarker zebra crossing story"
sk_end_case

sk_case "idle with idle_action = discard: the story is reset and no draft remains; the next key offers nothing"
sk_conf "$SK_DIR/discard.conf" "idle_timeout = 5s" "still_there = 2s" "idle_action = discard"
fresh --config "$SK_DIR/discard.conf"
sk_keys C-n; sk_wait "What was good?"
sk_type "Discardidle walrus words"
sk_keys C-n; sk_wait "What could have been different?"
sk_wait_sql "SELECT count(*) FROM drafts" 1
sk_wait_dialog "Are you still there?" 9
sk_wait "Introduce yourself" 5
sk_wait_gone "Are you still there?"
sk_absent "walrus"
sk_eq "drafts" "$(sk_sql "SELECT count(*) FROM drafts")" 0
sk_eq "draft answers" "$(sk_sql "SELECT count(*) FROM draft_answers")" 0
sk_keys Space
sk_input_drained
sk_absent "Unfinished story"
sk_eq "story words in screen and scrollback" \
	"$(sk_tmux capture-pane -p -t k -S -1000 | grep -c walrus)" 0
sk_end_case
