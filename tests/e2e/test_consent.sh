#!/usr/bin/env bash
# Consent: there is no default; No asks to confirm and then discards the story
# so that nothing of it is stored, not even in the SQLite file's bytes; "No, go
# back" keeps it.
. "$(dirname "$0")/lib.sh"

kept="Keptmarker wombat story"
declined="Declinedmarker quokka story"

sk_case "declining consent and confirming deletes the story: nothing listed, exported or in the file"
sk_fresh
sk_fill_story "$kept"
sk_keys y Enter
sk_wait "Story reference:"
sk_keys Enter
sk_fill_story "$declined" "Quokkas everywhere" "Quokka title" "Quokkalover" "NG9 8ZU" "eye" "pat.green@example.org"
sk_keys n Enter
sk_wait "They said No"
sk_wait "Their story will not be kept: everything typed will be"
sk_wait "deleted now. Is that right?"
sk_wait "Yes, delete it"
sk_wait "No, go back"
sk_keys Down Enter
sk_wait "Introduce yourself"
sk_wait "Step 1 of 12"
sk_wait_flat "The story was not kept, as they asked."
sk_eq "stories in the queue" "$(sk_cli list | wc -l)" 1
sk_eq "the kept story is the one listed" "$(sk_cli list | grep -c 'Ward 7')" 1
sk_eq "export has only the kept story" "$(sk_export_py '[x["answers"]["good"] for x in r]')" "['$kept']"
# The next person starts with nothing of it.
sk_keys C-n
sk_wait "What was good?"
sk_wait "0 words"
sk_absent "Declinedmarker"
# Quit (and if it asks, say quit: test_menu checks the asking) and look at
# the bytes on disk.
sk_keys Escape
sk_wait "4 Quit StoryKiosk"
sk_keys 4 2
sk_eq "exit status" "$(sk_wait_exit)" 0
sk_eq "the queue file exists" "$(test -s "$SK_DB" && echo yes)" yes
sk_eq "kept story's words are in the file (the check can see them)" \
	"$(cat "$SK_DB" "$SK_DB-wal" 2>/dev/null | grep -a -c 'Keptmarker')" 1
for f in "$SK_DB" "$SK_DB-wal" "$SK_DB-shm"; do
	[ -e "$f" ] || continue
	sk_eq "declined words in $(basename "$f")" "$(grep -a -c -e 'Declinedmarker' -e Quokkalover -e pat.green@example "$f")" 0
done
sk_eq "declined words anywhere in the queue directory" \
	"$(grep -a -r -l -e Declinedmarker -e Quokkalover "$SK_DIR/queue" | wc -l)" 0
sk_end_case

sk_case "declining an only story leaves an empty list and an empty export"
sk_fresh
sk_fill_story "$declined"
sk_keys n Enter
sk_wait "Yes, delete it"
sk_keys Down Enter
sk_wait_flat "The story was not kept, as they asked."
sk_eq "list prints nothing" "$(sk_cli list)" ""
sk_eq "export prints nothing" "$(sk_cli export)" ""
sk_eq "no rows in any table" "$(sk_sql 'SELECT (SELECT count(*) FROM stories) + (SELECT count(*) FROM answers) + (SELECT count(*) FROM story_services) + (SELECT count(*) FROM audit)')" 0
sk_end_case

sk_case "declining, then 'No, go back', keeps the story at consent; Yes then queues it whole"
sk_fresh
sk_fill_story "$kept"
sk_keys n Enter
sk_wait "No, go back"
# The safe choice is the default: Enter keeps the story.
sk_keys Enter
sk_wait_gone "They said No"
sk_wait "Your consent"
sk_wait "(*) No - do not keep their story"
sk_eq "nothing queued yet" "$(sk_cli list)" ""
# Esc in the dialog also goes back.
sk_keys n Enter
sk_wait "Yes, delete it"
sk_keys Escape
sk_wait_gone "They said No"
sk_wait "Your consent"
sk_keys y Enter
sk_wait "Story reference:"
sk_eq "stories" "$(sk_export_py 'len(r)')" 1
sk_eq "story kept whole" "$(sk_export_py 'r[0]["answers"]["good"]')" "$kept"
sk_eq "consent given" "$(sk_export_py 'r[0]["consent"]')" "{'given': True, 'statement_version': '1'}"
sk_end_case

sk_case "consent has no default: Enter or Ctrl-N with nothing chosen says so and stays"
sk_fresh
sk_fill_story
sk_wait "( ) Yes - they agree to their story being published"
sk_wait "( ) No - do not keep their story"
sk_keys Enter
sk_wait_flat "There is no default."
sk_wait "Step 11 of 12"
sk_absent "Story reference:"
sk_keys C-n
sk_wait_flat "Ask them, then choose Yes or No. There is no default."
sk_absent "Story reference:"
sk_absent "They said No"
sk_eq "nothing queued" "$(sk_cli list)" ""
sk_keys Up Enter
sk_wait "Story reference:"
sk_eq "queued after an explicit yes" "$(sk_export_py 'len(r)')" 1
sk_end_case

sk_case "Enter pressed twice on Yes saves exactly one story, and the next person starts empty"
sk_fresh
sk_fill_story "Only once" "Nothing" "Once" "BlueHeron" "LE1 5WW" "ward 7" "jo.bloggs@example.org"
sk_keys y Enter Enter
sk_wait "Introduce yourself"
sk_wait "Step 1 of 12"
sk_eq "one story queued" "$(sk_cli list | wc -l)" 1
sk_eq "one story in the table" "$(sk_sql 'SELECT count(*) FROM stories')" 1
# Nothing of the last person's story is on any step of the next one.
sk_keys C-n; sk_wait "What was good?"; sk_wait "0 words"
sk_keys C-n; sk_wait_flat "Write down what they say here."
sk_type "x"; sk_keys C-n
sk_wait "What could have been different?"; sk_wait "0 words"
sk_keys C-n; sk_wait "A title for your story"; sk_absent "Once"
sk_type "T"; sk_keys Enter
sk_wait "Who is telling this story?"; sk_absent "(*)"
sk_keys Enter
sk_wait "A name to post under"; sk_absent "BlueHeron"
sk_type "GreenKite"; sk_keys Enter
sk_wait "Your postcode"; sk_absent "LE1 5WW"; sk_absent "(*)"
sk_type "NG9 8ZU"; sk_keys Enter
sk_wait "Where was your care?"; sk_wait "Chosen: none yet."
sk_type "eye"; sk_wait "[ ] Eye Clinic"; sk_keys Enter; sk_wait "Chosen (1): Eye Clinic"
sk_keys C-n
sk_wait "Your email address"; sk_absent "jo.bloggs"; sk_absent "(*)"
sk_end_case

sk_case "after Yes, the thank-you screen keeps the saved story: no way back into it, no false 'will be lost'"
sk_fresh
sk_fill_story "Saved already"
sk_keys y Enter
sk_wait "Story reference:"
sk_keys C-p
sk_input_drained
sk_wait "Story reference:"
sk_wait "Step 12 of 12"
# Start again from the menu: the story is safe in the queue, so nothing
# should say it will be deleted, and the queue must keep it.
sk_keys Escape
sk_wait "2 Start again"
sk_keys 2
sk_wait "Introduce yourself" 2
sk_absent "will be deleted"
sk_eq "the saved story is still queued" "$(sk_cli list | wc -l)" 1
sk_eq "its words are kept" "$(sk_export_py 'r[0]["answers"]["good"]')" "Saved already"
sk_end_case

sk_case "quitting from the thank-you screen does not warn that the saved story will be lost"
sk_fresh
sk_fill_story "Saved already"
sk_keys y Enter
sk_wait "Story reference:"
sk_keys Escape
sk_wait "4 Quit StoryKiosk"
sk_keys 4
sk_eq "exit status, without a question" "$(sk_wait_exit 2>/dev/null)" 0
sk_absent "Keep going"
sk_eq "the story is queued" "$(sk_cli list | wc -l)" 1
sk_end_case
