#!/usr/bin/env bash
# The checks before consent, as the operator meets them: each finding shown
# with its passage highlighted and an offer to edit; safeguarding and patient
# safety screens with the form's own words; flags and counts in the export,
# never the matched text.
. "$(dirname "$0")/lib.sh"

# Walk a story whose "What was good?" is GOOD to the point where review checks.
to_checks() {
	sk_sign_in "Sam" || return 1
	sk_keys C-n; sk_wait "What was good?" || return 1
	sk_type "$1"; sk_keys C-n
	sk_wait "What could have been different?" || return 1
	sk_keys C-n; sk_wait "A title for your story" || return 1
	sk_type "Checked"; sk_keys Enter
	sk_wait "Who is telling this story?" || return 1
	sk_keys Enter; sk_wait "A name to post under" || return 1
	sk_type "BlueHeron"; sk_keys Enter; sk_wait "Your postcode" || return 1
	sk_type "LE1 5WW"; sk_keys Enter; sk_wait "Where was your care?" || return 1
	sk_type "ward 7"; sk_wait "[ ]" || return 1
	sk_keys Enter; sk_wait "Chosen (1)" || return 1
	sk_keys C-n; sk_wait "Your email address" || return 1
	sk_keys Down Enter
}

sk_case "a phone number is shown highlighted; Edit jumps to it, and the fixed story passes"
sk_start 80 24
to_checks "Dr Patel was kind. Ring me on 07700 900123 any time."
sk_wait "Check before they agree"
sk_wait "Found in"
sk_wait "a name after a title"
# The passage is highlighted in reverse video (SGR 7) on the dialog.
sk_tmux capture-pane -p -e -t k | grep -q $'\e\[7mDr Patel' || sk_fail "the name is not highlighted"
sk_keys 2
sk_wait "a phone number"
sk_tmux capture-pane -p -e -t k | grep -q $'\e\[7m07700 900123' || sk_fail "the number is not highlighted"
sk_keys 1
sk_wait "What was good?"
sk_wait "go back to the review"
# The cursor is at the number: delete it and its words.
sk_keys Delete Delete Delete Delete Delete Delete Delete Delete Delete Delete Delete Delete
sk_keys C-n
sk_wait "Check before they agree"
sk_wait "a name after a title"
sk_keys 3
sk_wait "Check your story"
sk_keys C-n
sk_wait "Your consent"
sk_keys y Enter
sk_wait "Story reference:"
sk_eq "the number was removed" "$(sk_export_py '"07700" in r[0]["answers"]["good"]')" False
sk_eq "findings kept as counts by kind" "$(sk_export_py 'r[0]["findings"]')" "{'name_after_title': 1}"
sk_eq "no safeguarding flag" "$(sk_export_py 'r[0]["safeguarding"]')" False
sk_cli export | grep -qF "Patel" || sk_fail "the story text should still hold the name it was left with"
sk_eq "the finding's text is not stored apart from the story" \
	"$(sqlite3 "$SK_DB" "SELECT count(*) FROM story_findings WHERE kind LIKE '%Patel%' OR kind LIKE '%0770%'")" 0
sk_end_case

sk_case "a mention of self-harm shows the form's safeguarding words once and flags the story"
rm -rf "$SK_DIR/queue"
sk_start 80 24
to_checks "The nurse was kind. Some nights I wanted to self harm and she listened."
sk_wait "Safeguarding: please read"
sk_wait "extension 4444"
sk_tmux capture-pane -p -e -t k | grep -q $'\e\[7mself harm' || sk_fail "the phrase is not highlighted"
sk_keys Enter
sk_wait "Check your story"
sk_absent "Safeguarding: please read"
sk_keys C-n
sk_wait "Your consent"
sk_keys y Enter
sk_wait "Story reference:"
sk_eq "flagged" "$(sk_export_py 'r[0]["safeguarding"]')" True
sk_eq "not a safety incident" "$(sk_export_py 'r[0]["possible_safety_incident"]')" False
sk_cli list | grep -qF "[SAFEGUARDING]" || sk_fail "list does not mark the story"
sk_cli show "$(sk_export_py 'r[0]["id"]')" | grep -qF "safeguarding: YES" || sk_fail "show does not say so"
sk_end_case

sk_case "a fall on the ward shows the follow-up words and flags a possible safety incident"
rm -rf "$SK_DIR/queue"
sk_start 80 24
to_checks "Mum had a fall on the ward and nobody came for an hour."
sk_wait "Possible patient safety incident"
sk_wait "patient safety team may contact them"
sk_keys Enter
sk_wait "Check your story"
sk_keys C-n
sk_wait "Your consent"
sk_keys y Enter
sk_wait "Story reference:"
sk_eq "flagged" "$(sk_export_py 'r[0]["possible_safety_incident"]')" True
sk_eq "no safeguarding flag" "$(sk_export_py 'r[0]["safeguarding"]')" False
sk_end_case

sk_case "near-misses raise nothing: 'harmless', 'fell asleep', a clean story goes straight to review"
rm -rf "$SK_DIR/queue"
sk_start 80 24
to_checks "The harmless chatter helped. I fell asleep at last. The nurses were kind."
sk_wait "Check your story"
sk_absent "Safeguarding"
sk_absent "Possible patient safety incident"
sk_absent "Check before they agree"
sk_end_case
