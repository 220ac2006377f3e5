#!/usr/bin/env bash
# Going back: from the review to any answer and straight back to the review,
# and Ctrl-P between steps without losing what was typed.
. "$(dirname "$0")/lib.sh"

sk_case "review: Up/Down to the title, Enter changes it, Ctrl-N returns to review; export has the change"
sk_fresh
sk_walk_to "Check your story"
sk_wait "Kind nurses"
# Down to the title (the third answer), and a wasted Up/Down on the way.
sk_keys Down Down Down Up Enter
sk_wait "A title for your story"
sk_wait "Step 4 of 12"
sk_wait_flat "Change the answer, then press Ctrl-N to go back to the review."
sk_wait "│ Kind nurses "
sk_type " on Ward 7"
sk_keys C-n
sk_wait "Check your story"
sk_wait "Step 10 of 12"
sk_absent "Are you telling this story as:"
sk_wait "Kind nurses on Ward 7"
sk_keys C-n
sk_wait "Your consent"
sk_keys y Enter
sk_wait "Story reference:"
sk_eq "title changed from review" "$(sk_export_py 'r[0]["title"]')" "Kind nurses on Ward 7"
sk_eq "answer kept" "$(sk_export_py 'r[0]["answers"]["good"]')" "The nurses were kind."
sk_end_case

sk_case "review: Enter on 'What was good?' edits the story box and Ctrl-N goes straight back to review"
sk_fresh
sk_walk_to "Check your story"
sk_keys Enter
sk_wait "Step 2 of 12"
sk_wait "The nurses were kind."
sk_keys End
sk_type " Especially Zoë."
sk_keys C-n
# Not "What could have been different?": straight back to the review.
sk_wait "Check your story"
sk_wait "The nurses were kind. Especially Zoë."
sk_keys C-n
sk_wait "Your consent"
sk_keys y Enter
sk_wait "Story reference:"
sk_eq "good answer" "$(sk_export_py 'r[0]["answers"]["good"]')" "The nurses were kind. Especially Zoë."
sk_eq "different answer untouched" "$(sk_export_py 'r[0]["answers"]["different"]')" "Shorter waits."
sk_end_case

sk_case "review: changing the role from review stores the new role"
sk_fresh
sk_walk_to "Check your story"
sk_wait "The patient themselves"
sk_keys Down Down Down Enter
sk_wait "Who is telling this story?"
sk_wait "Step 5 of 12"
sk_keys Down Down Enter
sk_wait "Check your story"
sk_wait "A relative"
sk_absent "The patient themselves"
sk_keys C-n
sk_wait "Your consent"
sk_keys y Enter
sk_wait "Story reference:"
sk_eq "role" "$(sk_export_py 'r[0]["role"]')" "relative"
sk_end_case

sk_case "Ctrl-P keeps what was typed: back and forward, the text is still there"
sk_fresh
sk_walk_to "What was good?"
sk_type "Zoë held my hand."
sk_keys C-n
sk_wait "What could have been different?"
sk_type "Tea was cold."
sk_keys C-p
sk_wait "Step 2 of 12"
sk_wait "Zoë held my hand."
sk_wait "4 words"
sk_keys C-p
sk_wait "Introduce yourself"
sk_keys C-p
sk_wait_flat "This is the first step."
sk_keys C-n
sk_wait "Zoë held my hand."
sk_keys C-n
sk_wait "What could have been different?"
sk_wait "Tea was cold."
sk_keys C-n
sk_wait "A title for your story"
sk_type "Hand held"
sk_keys C-p
sk_wait "Tea was cold."
sk_keys C-n
sk_wait "│ Hand held "
sk_keys Enter
sk_wait "Who is telling this story?"
sk_keys Enter
sk_wait "A name to post under"
sk_type "BlueHeron"; sk_keys Enter
sk_wait "Your postcode"
sk_type "LE1 5WW"; sk_keys C-p
sk_wait "│ BlueHeron "
sk_keys C-n
sk_wait "│ LE1 5WW "
sk_keys Enter
sk_wait "Where was your care?"
sk_type "ward 7"; sk_wait "[ ] Ward 7"; sk_keys Enter; sk_wait "Chosen (1)"
sk_keys C-p
sk_wait "Your postcode"
sk_keys C-n
sk_wait "Chosen (1): Ward 7"
sk_keys C-n
sk_wait "Your email address"
sk_keys Down Enter
sk_wait "Check your story"
sk_keys C-n
sk_consent_yes
sk_eq "good" "$(sk_export_py 'r[0]["answers"]["good"]')" "Zoë held my hand."
sk_eq "different" "$(sk_export_py 'r[0]["answers"]["different"]')" "Tea was cold."
sk_eq "title" "$(sk_export_py 'r[0]["title"]')" "Hand held"
sk_eq "postcode" "$(sk_export_py 'r[0]["postcode"]')" "LE1 5WW"
sk_end_case
