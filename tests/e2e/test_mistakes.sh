#!/usr/bin/env bash
# Mistakes and how the kiosk helps fix them: a required answer left empty, a
# bad postcode, a bad email address, usernames that are blocked or need a
# second look. Each mistake blocks Next with a message saying how to fix it;
# the fixed answer goes through and is stored as it should be.
. "$(dirname "$0")/lib.sh"

sk_case "an empty 'What was good?' blocks Next with a how-to-fix message; typing lets it move on"
sk_fresh
sk_walk_to "What was good?"
sk_keys C-n
sk_wait_flat "Write down what they say here. If they have nothing to add, write 'Nothing to add'."
sk_wait "Step 2 of 12"
sk_absent "What could have been different?"
# Only spaces and new lines are still nothing.
sk_type "   "; sk_keys Enter; sk_type "  "
sk_wait_gone "Write down what they say here"
sk_keys C-n
sk_wait_flat "Write down what they say here."
sk_absent "What could have been different?"
sk_backspace 6
sk_type "Kind staff"
sk_keys C-n
sk_wait "What could have been different?"
sk_wait "Step 3 of 12"
sk_absent "Write down what they say here"
sk_end_case

sk_case "a bad postcode is refused with 'A postcode looks like', and the fixed one is stored normalised"
sk_fresh
sk_walk_to "Your postcode"
sk_type "LE1 5W"; sk_keys Enter
sk_wait_flat "A postcode looks like LE1 5WW. If they have none, choose 'No postcode'."
sk_wait "Step 7 of 12"
sk_wait "│ LE1 5W "
sk_absent "Where was your care?"
sk_backspace 6
sk_type "QQ1 1AA"; sk_keys Enter
sk_wait_flat "A postcode never starts with Q, V or X"
sk_wait_flat "A postcode looks like LE1 5WW."
sk_absent "Where was your care?"
sk_keys C-n
sk_wait_flat "A postcode never starts with Q, V or X"
sk_absent "Where was your care?"
sk_backspace 7
sk_type "le15ww"; sk_keys Enter
sk_wait "Where was your care?"
sk_type "ward 7"; sk_wait "[ ] Ward 7"; sk_keys Enter; sk_wait "Chosen (1)"
sk_keys C-n; sk_wait "Your email address"
sk_type "jo.bloggs@example.org"; sk_keys C-n; sk_wait "Read the address back"; sk_keys C-n
sk_wait "Check your story"
sk_wait "LE1 5WW"
sk_keys C-n
sk_consent_yes
sk_eq "postcode stored normalised" "$(sk_export_py 'r[0]["postcode"]')" "LE1 5WW"
sk_end_case

sk_case "a bad email address is refused; a good one is read back and needs Ctrl-N twice"
sk_fresh
sk_walk_to "Your email address"
sk_type "jo.bloggs@example"; sk_keys Enter
sk_wait_flat "An email address looks like name@example.org."
sk_wait "Step 9 of 12"
sk_absent "Check your story"
sk_backspace 17
sk_type "jo bloggs@example.org"; sk_keys C-n
sk_wait_flat "An email address has no spaces in it."
sk_absent "Check your story"
sk_keys Home Right Right Delete
sk_type "."
sk_wait "│ jo.bloggs@example.org"
sk_keys C-n
sk_wait_flat "Read the address back to them: jo.bloggs@example.org - is it right? Press Ctrl-N again to accept it."
sk_wait "Step 9 of 12"
sk_absent "Check your story"
sk_keys C-n
sk_wait "Check your story"
sk_keys C-n
sk_consent_yes
sk_eq "email stored" "$(sk_export_py 'r[0]["email"]')" "jo.bloggs@example.org"
sk_eq "not staff-posted" "$(sk_export_py 'r[0]["posted_by_staff"]')" "False"
sk_end_case

sk_case "a username with a blocked word is refused, even on a second Ctrl-N"
sk_fresh
sk_walk_to "A name to post under"
sk_type "WardWanker"; sk_keys C-n
sk_wait_flat "That username has a word that is not allowed here."
sk_keys C-n
sk_input_drained
sk_wait "Step 6 of 12"
sk_absent "Your postcode"
sk_absent_flat "Press Ctrl-N again to accept it."
sk_backspace 10
sk_type "Big_Shit"; sk_keys Enter
sk_wait_flat "That username has a word that is not allowed here."
sk_absent "Your postcode"
sk_backspace 8
sk_type "BlueHeron"; sk_keys C-n
sk_wait "Your postcode"
sk_end_case

sk_case "a username with an age in it (Jane82) needs Ctrl-N twice and is kept as typed"
sk_fresh
sk_walk_to "A name to post under"
sk_type "Jane82"; sk_keys C-n
sk_wait_flat "It has a number that looks like a year or age"
sk_wait_flat "Press Ctrl-N again to accept it."
sk_wait "Step 6 of 12"
sk_absent "Your postcode"
sk_keys C-n
sk_wait "Your postcode"
sk_type "LE1 5WW"; sk_keys Enter
sk_wait "Where was your care?"
sk_type "ward 7"; sk_wait "[ ] Ward 7"; sk_keys Enter; sk_wait "Chosen (1)"
sk_keys C-n; sk_wait "Your email address"
sk_keys Down Enter
sk_wait "Check your story"
sk_keys C-n
sk_consent_yes
sk_eq "username" "$(sk_export_py 'r[0]["username"]')" "Jane82"
sk_end_case

sk_case "a username holding the email's name is flagged at review, whole message shown, confirmed at its step"
sk_fresh
sk_walk_to "A name to post under"
sk_type "JoBloggs"; sk_keys C-n
sk_wait "Your postcode"
sk_type "LE1 5WW"; sk_keys Enter
sk_wait "Where was your care?"
sk_type "eye"; sk_wait "[ ] Eye Clinic"; sk_keys Enter; sk_wait "Chosen (1)"
sk_keys C-n; sk_wait "Your email address"
sk_type "jo.bloggs@example.org"; sk_keys C-n; sk_wait "Read the address back"; sk_keys C-n
sk_wait "Check your story"
sk_wait "! A name to post under"
sk_keys C-n
sk_wait_flat "It has part of their email address in it."
sk_absent "Your consent"
# Enter goes to the answer with the problem.
sk_keys Enter
sk_wait "Step 6 of 12"
sk_keys C-n
sk_wait_flat "It has part of their email address in it."
# The operator must be told how to accept it: the whole message must show.
sk_wait_flat "Press Ctrl-N again to accept it." 2
sk_keys C-n
sk_wait "Check your story"
sk_absent "! A name to post under"
sk_keys C-n
sk_consent_yes
sk_eq "username" "$(sk_export_py 'r[0]["username"]')" "JoBloggs"
sk_end_case
