#!/usr/bin/env bash
# Drafts: the story in progress survives kill -9 and comes back only when the
# operator chooses (resume or discard); saving at consent is atomic under
# kill -9 (the whole story or the draft, never half, never both); SIGTERM and
# SIGHUP keep the draft and leave the terminal sane; drafts never leave the
# kiosk (list, export, sync) and expire.
. "$(dirname "$0")/lib.sh"
trap 'sk_intake_stop; sk_cleanup' EXIT

# Keep the operator's own config files out of the test.
export HOME=$SK_DIR/home XDG_CONFIG_HOME=$SK_DIR/config
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
mkdir -p "$HOME" "$XDG_CONFIG_HOME"

GOOD1="Les infirmières étaient très gentilles."
GOOD2="Ça m’a aidé à guérir — merci, Zoë!"
DIFF="Moins d’attente à l’accueil, señor Müller."

# The pid of the kiosk, killed with SIGNAL; waits until it has gone.
kill_kiosk() {
	local signal=$1 pid
	pid=$(sk_kiosk_pid) || { sk_fail "no kiosk process to kill"; return 1; }
	kill "-$signal" "$pid"
	sk_wait_pid_gone "$pid"
}

# From "What could have been different?" (answered), walk on with simple answers
# and say Yes at consent; waits for the thank-you.
finish_from_different() {
	sk_walk_from "What could have been different?" "Your consent" || return 1
	sk_keys y Enter
	sk_wait "Story reference:"
}

# A new, empty queue and a kiosk signed in as Sam Carter (sk_fresh, in the
# same pane: quicker).
fresh() {
	local pid
	pid=$(sk_kiosk_pid) && kill -9 "$pid" && sk_wait_pid_gone "$pid"
	rm -rf "$SK_DIR/queue"
	sk_respawn "$@" || return 1
	sk_sign_in "Sam Carter"
}

# Quit from a screen with no words on it (the menu's 4 quits at once).
quit_kiosk() {
	sk_keys Escape
	sk_wait "4 Quit StoryKiosk" || return 1
	sk_keys 4
	sk_eq "exit status" "$(sk_wait_exit)" 0
}

sk_case "kill -9 mid-typing, restart: the Unfinished story dialog names the operator and time; Resume brings the text back intact at its step; finishing queues it once and leaves no draft"
fresh
sk_keys C-n; sk_wait "What was good?"
sk_type "$GOOD1"; sk_keys Enter; sk_type "$GOOD2"
sk_keys C-n; sk_wait "What could have been different?"
sk_type "$DIFF"
# Autosave: within a few seconds of typing, without leaving the step.
sk_wait_sql "SELECT value FROM draft_answers WHERE step_key = 'different'" "$DIFF" 8
id=$(sk_sql "SELECT id FROM drafts")
created=$(sk_sql "SELECT created_at FROM drafts")
kill_kiosk 9
sk_eq "drafts after kill -9" "$(sk_sql "SELECT count(*) FROM drafts")" 1
sk_eq "stories after kill -9" "$(sk_sql "SELECT count(*) FROM stories")" 0
sk_respawn
sk_sign_in "Jo Other"
sk_wait_dialog "Unfinished story"
sk_wait_dialog "started at $(date -d "$created" +%H:%M)"
sk_wait_dialog "by Sam Carter (staff)"
sk_wait_dialog "Resume the story"
sk_wait_dialog "Discard it"
sk_keys Enter
sk_wait_gone "Unfinished story"
sk_wait "What could have been different?"
sk_wait "Step 3 of 12"
sk_wait "$DIFF"
sk_keys C-p
sk_wait "What was good?"
sk_wait "$GOOD1"
sk_wait "$GOOD2"
sk_keys C-n
finish_from_different
sk_eq "stories queued" "$(sk_sql "SELECT count(*) FROM stories")" 1
sk_eq "the queued story keeps the draft's id" "$(sk_sql "SELECT id FROM stories")" "$id"
sk_eq "good, exactly" "$(sk_export_py 'r[0]["answers"]["good"]')" "$GOOD1
$GOOD2"
sk_eq "different, exactly" "$(sk_export_py 'r[0]["answers"]["different"]')" "$DIFF"
sk_eq "drafts left" "$(sk_sql "SELECT count(*) FROM drafts")" 0
sk_eq "draft answers left" "$(sk_sql "SELECT count(*) FROM draft_answers")" 0
sk_end_case

sk_case "Discard on the Unfinished story dialog asks first; confirmed, the draft is gone and its words are not in the queue's bytes"
fresh
sk_keys C-n; sk_wait "What was good?"
sk_type "Discardmarker okapi story, très triste."
sk_keys C-n; sk_wait "What could have been different?"
sk_wait_sql "SELECT count(*) FROM draft_answers WHERE value LIKE 'Discardmarker%'" 1
kill_kiosk 9
sk_respawn
sk_sign_in "Sam Carter"
sk_wait_dialog "Unfinished story"
sk_keys Down Enter
sk_wait_dialog "Discard the unfinished story?"
sk_wait_dialog "Keep it"
# The safe answer is the default: Enter keeps it, and the question comes back.
sk_keys Enter
sk_wait_dialog "Unfinished story"
sk_eq "drafts after Keep it" "$(sk_sql "SELECT count(*) FROM drafts")" 1
sk_keys Down Enter
sk_wait_dialog "Discard the unfinished story?"
sk_keys Down Enter
# "Introduce yourself" is on screen behind the dialogs all along, and the
# confirmation's title is not "Unfinished story": wait for the confirmation
# itself to go, and for the delete to be in the file, before looking.
sk_wait_gone "Discard the unfinished story?"
sk_wait_gone "Unfinished story"
sk_wait "Introduce yourself"
sk_absent "Discardmarker"
sk_wait_sql "SELECT count(*) FROM drafts" 0
sk_eq "draft answers after Delete it" "$(sk_sql "SELECT count(*) FROM draft_answers")" 0
quit_kiosk
for f in "$SK_DB" "$SK_DB-wal" "$SK_DB-shm"; do
	[ -e "$f" ] || continue
	sk_eq "discarded words in $(basename "$f")" "$(grep -a -c -e Discardmarker -e okapi "$f")" 0
done
sk_end_case

sk_case "kill -9 at random moments around consent, 30 times: the queue holds the whole story xor the draft, never half, never both"
# No email address, so that nothing but consent stands between Yes and the save
# (a resumed email is read back again: see the next case).
fresh
sk_fill_story "Loopmarker the nurses were kind." "Shorter waits." "Loop title" "LoopHeron" "LE1 5WW" "ward 7" none
sk_wait_sql "SELECT step FROM drafts" 10
loop_id=$(sk_sql "SELECT id FROM drafts")
kill_kiosk 9
sk_sql "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp "$SK_DB" "$SK_DIR/snapshot.db"
# A queued story keeps its text, line and choice answers as answer rows: good,
# different, title and role (username, postcode and email are columns).
sk_eq "answers in the draft at consent" \
	"$(sk_sql "SELECT count(*) FROM draft_answers WHERE step_key IN ('good', 'different', 'title', 'role')")" 4
draft_rows=$(sk_sql "SELECT count(*) FROM draft_answers")
saved=0 drafted=0 bad=0 kills=30
for i in $(seq 1 $kills); do
	rm -f "$SK_DB" "$SK_DB-wal" "$SK_DB-shm"
	cp "$SK_DIR/snapshot.db" "$SK_DB"
	sk_respawn
	sk_sign_in "Sam Carter" || break
	sk_wait_dialog "Unfinished story" || break
	sk_keys Enter
	sk_wait "Your consent" || break
	sk_wait_gone "Unfinished story" || break
	pid=$(sk_kiosk_pid) || { sk_fail "no kiosk to kill"; break; }
	# Half the kills at once, the rest 1 to 30 ms after Yes reaches tmux.
	delay=$(( RANDOM % 2 ? 0 : 1 + RANDOM % 30 ))
	sk_keys y Enter
	[ "$delay" -gt 0 ] && sleep "$(printf '0.%03d' "$delay")"
	kill -9 "$pid"
	sk_wait_pid_gone "$pid" || break
	# stories|drafts|answers|services|good answer|draft answers|integrity
	state=$(sk_sql "SELECT (SELECT count(*) FROM stories WHERE id = '$loop_id') || '|' ||
		(SELECT count(*) FROM drafts WHERE id = '$loop_id') || '|' ||
		(SELECT count(*) FROM answers WHERE story_id = '$loop_id') || '|' ||
		(SELECT count(*) FROM story_services WHERE story_id = '$loop_id') || '|' ||
		coalesce((SELECT value FROM answers WHERE story_id = '$loop_id' AND step_key = 'good'), '') || '|' ||
		(SELECT count(*) FROM draft_answers WHERE draft_id = '$loop_id'); PRAGMA integrity_check")
	case $state in
	"1|0|4|1|Loopmarker the nurses were kind.|0"$'\n'ok) saved=$((saved + 1)) ;;
	"0|1|0|0||$draft_rows"$'\n'ok) drafted=$((drafted + 1)) ;;
	*)	bad=$((bad + 1))
		sk_fail "kill $i, ${delay} ms after Yes: stories|drafts|answers|services|good|draft answers = [$(echo $state)]; want [1|0|4|1|Loopmarker the nurses were kind.|0 ok] or [0|1|0|0||$draft_rows ok]" ;;
	esac
done
echo "#   $((saved + drafted + bad)) kills: $saved left the whole story, $drafted left the draft, $bad broke the rule"
sk_eq "kills checked" "$((saved + drafted + bad))" $kills
sk_end_case

sk_case "a story resumed at consent with an email address can be saved (the read-back is accepted with Ctrl-N, as on its own step)"
fresh
sk_fill_story "Emailmarker the nurses were kind."
sk_wait_sql "SELECT step FROM drafts" 10
kill_kiosk 9
sk_respawn
sk_sign_in "Sam Carter"
sk_wait_dialog "Unfinished story"
sk_keys Enter
sk_wait "Your consent"
sk_keys y Enter
sk_input_drained
if sk_flat | grep -qF "Read the address back"; then
	# Offered as a warning: a second Ctrl-N accepts it everywhere else.
	sk_keys C-n
fi
sk_wait "Story reference:"
sk_eq "stories queued" "$(sk_sql "SELECT count(*) FROM stories")" 1
sk_eq "drafts left" "$(sk_sql "SELECT count(*) FROM drafts")" 0
sk_end_case

for sig in TERM HUP; do
	sk_case "SIG$sig saves the draft, restores the terminal and exits 0"
	rm -rf "$SK_DIR/queue"
	sk_start_sh 80 24 ""
	sk_sign_in "Sam Carter"
	sk_keys C-n; sk_wait "What was good?"
	sk_type "Sig${sig}marker: déjà vu"
	sk_wait "Sig${sig}marker: déjà vu"
	sk_eq "alternate screen while running" "$(sk_tmux display-message -p -t k '#{alternate_on}')" 1
	# Sent at once: the typing is younger than the autosave's 3 seconds.
	kill_kiosk "$sig"
	sk_eq "exit status" "$(sk_sh_exit)" 0
	sk_eq "the draft holds the words" \
		"$(sk_sql "SELECT value FROM draft_answers WHERE step_key = 'good'")" "Sig${sig}marker: déjà vu"
	sk_eq "stories" "$(sk_sql "SELECT count(*) FROM stories")" 0
	sk_eq "alternate screen after" "$(sk_tmux display-message -p -t k '#{alternate_on}')" 0
	sk_eq "cursor visible after" "$(sk_tmux display-message -p -t k '#{cursor_flag}')" 1
	sk_eq "keypad mode off after" "$(sk_tmux display-message -p -t k '#{keypad_cursor_flag}')" 0
	term=$(sk_sh_stty)
	for mode in icanon echo icrnl isig; do
		if ! grep -qE "(^| )$mode( |$)" <<<"$term"; then
			sk_fail "the terminal was left without $mode: $term"
		fi
	done
	sk_end_case
done

sk_case "drafts never appear in list, show, export (jsonl, csv, text) or sync"
fresh
sk_fill_story "Keptmarker the ward was calm."
sk_consent_yes
sk_keys C-n; sk_wait "What was good?"
sk_type "Draftonlymarker wallaby words"
sk_keys C-n; sk_wait "What could have been different?"
sk_wait_sql "SELECT count(*) FROM drafts" 1
draft_id=$(sk_sql "SELECT id FROM drafts")
sk_keys Escape; sk_wait "4 Quit StoryKiosk"
sk_keys 4
sk_wait_dialog "Quit StoryKiosk?"
sk_keys Down Enter
sk_eq "exit status" "$(sk_wait_exit)" 0
sk_eq "drafts kept at quit" "$(sk_sql "SELECT count(*) FROM drafts")" 1
sk_eq "list lines" "$(sk_cli list | wc -l)" 1
sk_eq "list mentions the draft" "$(sk_cli list | grep -c -e "$draft_id" -e Draftonly)" 0
sk_cli show "$draft_id" >"$SK_DIR/show.out" 2>&1
sk_eq "show of the draft's id finds nothing" "$(grep -c Draftonlymarker "$SK_DIR/show.out")" 0
[ "$(sk_export_py 'len(r)')" = 1 ] || sk_fail "export has $(sk_export_py 'len(r)') records, want 1"
for format in jsonl csv text; do
	sk_cli export --format "$format" >"$SK_DIR/export.$format"
	sk_eq "$format export holds the kept story" "$(grep -c Keptmarker "$SK_DIR/export.$format")" 1
	sk_eq "$format export holds the draft" "$(grep -c -e Draftonlymarker -e wallaby -e "$draft_id" "$SK_DIR/export.$format")" 0
done
if sk_intake_start "$SK_DIR/intake"; then
	"$SK_BIN" --db "$SK_DB" sync "http://127.0.0.1:$SK_INTAKE_PORT/stories" >"$SK_DIR/sync.out" 2>&1
	sk_eq "sync summary" "$(tail -n 1 "$SK_DIR/sync.out")" "delivered 1, already there 0, failed 0, left 0"
	sk_eq "stories at the intake" "$(sk_intake_stories)" 1
	sk_eq "draft words at the intake" "$(grep -r -l -e Draftonlymarker -e "$draft_id" "$SK_DIR/intake" | wc -l)" 0
	sk_intake_stop
fi
sk_eq "the draft is still kept after sync" "$(sk_sql "SELECT count(*) FROM drafts")" 1
sk_end_case

sk_case "Esc on the Unfinished story dialog leaves the draft in place, and it is offered again"
fresh
sk_keys C-n; sk_wait "What was good?"
sk_type "Escmarker the porter sang."
sk_keys C-n; sk_wait "What could have been different?"
sk_wait_sql "SELECT count(*) FROM drafts" 1
kill_kiosk 9
sk_respawn
sk_sign_in "Sam Carter"
sk_wait_dialog "Unfinished story"
sk_keys Escape
sk_wait_gone "Unfinished story"
sk_wait "Introduce yourself"
sk_absent "Escmarker"
sk_eq "drafts after Esc" "$(sk_sql "SELECT count(*) FROM drafts")" 1
sk_eq "draft words after Esc" "$(sk_sql "SELECT count(*) FROM draft_answers WHERE value = 'Escmarker the porter sang.'")" 1
quit_kiosk
sk_eq "drafts after quitting" "$(sk_sql "SELECT count(*) FROM drafts")" 1
sk_respawn
sk_sign_in "Sam Carter"
sk_wait_dialog "Unfinished story"
sk_end_case

sk_case "an expired draft (draft_expiry = 60s) is deleted at start and not offered; a recent one is kept"
conf=$SK_DIR/expiry.conf
sk_conf "$conf" "draft_expiry = 60s"
# The Esc case left one recent draft: with the same setting it stays and is offered.
sk_respawn --config "$conf"
sk_sign_in "Sam Carter"
sk_wait_dialog "Unfinished story"
sk_keys Escape
sk_wait_gone "Unfinished story"
quit_kiosk
sk_eq "a recent draft survives the start" "$(sk_sql "SELECT count(*) FROM drafts")" 1
sk_sql "UPDATE drafts SET updated_at = '$(date -u -d '-10 minutes' +%Y-%m-%dT%H:%M:%SZ)'"
sk_respawn --config "$conf"
sk_wait "please sign in"
sk_wait_sql "SELECT count(*) FROM drafts" 0
sk_eq "its answers" "$(sk_sql "SELECT count(*) FROM draft_answers")" 0
sk_sign_in "Sam Carter"
sk_input_drained
sk_absent "Unfinished story"
sk_keys C-n; sk_wait "What was good?"
sk_absent "Escmarker"
sk_end_case
