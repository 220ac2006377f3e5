#!/usr/bin/env bash
# The [ Back ] and [ Next ] buttons: Tab moves the focus from the field to
# Back, then Next, then the field again; Enter presses the focused button.
. "$(dirname "$0")/lib.sh"

sk_case "Tab moves the highlight to [ Back ], then [ Next ], then back to the field"
sk_fresh
sk_walk_to "What was good?"
sk_type "Good words"
sk_wait_highlight "[ Back ]" no
sk_wait_highlight "[ Next ]" no
sk_keys Tab
sk_wait_highlight "[ Back ]" yes
sk_wait_highlight "[ Next ]" no
sk_keys Tab
sk_wait_highlight "[ Next ]" yes
sk_wait_highlight "[ Back ]" no
sk_keys Tab
sk_wait_highlight "[ Next ]" no
sk_wait_highlight "[ Back ]" no
# The field has the keys again.
sk_type " here"
sk_wait "Good words here"
sk_wait "Step 2 of 12"
sk_end_case

sk_case "Enter on [ Next ] goes to the next step; Enter on [ Back ] to the previous; text kept"
sk_fresh
sk_walk_to "What was good?"
sk_type "Good words"
sk_keys Tab Tab
sk_wait_highlight "[ Next ]" yes
sk_keys Enter
sk_wait "What could have been different?"
sk_wait "Step 3 of 12"
# Enter pressed a button, so nothing was added to the text.
sk_type "Other words"
sk_keys Tab
sk_wait_highlight "[ Back ]" yes
sk_keys Enter
sk_wait "Step 2 of 12"
sk_wait "Good words"
sk_keys C-n
sk_wait "Step 3 of 12"
sk_wait "Other words"
sk_keys C-n
sk_wait "A title for your story"
sk_type "Buttons"; sk_keys Enter
sk_wait "Who is telling this story?"; sk_keys Enter
sk_wait "A name to post under"; sk_type "BlueHeron"; sk_keys Enter
sk_wait "Your postcode"; sk_type "LE1 5WW"; sk_keys Enter
sk_wait "Where was your care?"; sk_type "eye"; sk_wait "[ ] Eye Clinic"; sk_keys Enter; sk_wait "Chosen (1)"
sk_keys C-n; sk_wait "Your email address"; sk_keys Down Enter
sk_wait "Check your story"
sk_keys BTab
sk_wait_highlight "[ Next ]" yes
sk_keys Enter
sk_consent_yes
sk_eq "good kept exactly (no stray new line from Enter)" "$(sk_export_py 'r[0]["answers"]["good"]')" "Good words"
sk_eq "different kept exactly" "$(sk_export_py 'r[0]["answers"]["different"]')" "Other words"
sk_end_case

sk_case "[ Next ] is checked like Ctrl-N: an empty required answer is blocked with the message"
sk_fresh
sk_walk_to "What was good?"
sk_keys Tab Tab
sk_wait_highlight "[ Next ]" yes
sk_keys Enter
sk_wait_flat "Write down what they say here."
sk_wait "Step 2 of 12"
sk_absent "What could have been different?"
sk_end_case

sk_case "Shift-Tab goes to [ Next ] first; Left and Right move between the buttons"
sk_fresh
sk_walk_to "A title for your story"
sk_type "A title"
sk_keys BTab
sk_wait_highlight "[ Next ]" yes
sk_keys Left
sk_wait_highlight "[ Back ]" yes
sk_wait_highlight "[ Next ]" no
sk_keys Right
sk_wait_highlight "[ Next ]" yes
sk_keys BTab
sk_wait_highlight "[ Back ]" yes
sk_keys BTab
sk_wait_highlight "[ Back ]" no
sk_wait_highlight "[ Next ]" no
sk_end_case

sk_case "typing while a button has the focus goes to the field"
sk_fresh
sk_walk_to "A title for your story"
sk_type "Tea"
sk_keys Tab
sk_wait_highlight "[ Back ]" yes
sk_type "s"
sk_wait_highlight "[ Back ]" no
sk_wait "│ Teas "
sk_keys Enter
sk_wait "Who is telling this story?"
sk_end_case

sk_case "on the sign-in screen, [ Next ] with no name asks for one"
rm -rf "$SK_DIR/queue"
sk_restart 80 24
sk_wait "please sign in"
sk_keys Tab Tab
sk_wait_highlight "[ Next ]" yes
sk_keys Enter
sk_wait_flat "Type your name or staff ID first."
sk_wait "please sign in"
sk_end_case
