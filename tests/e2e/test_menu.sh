#!/usr/bin/env bash
# The menu (Esc): help, start again, end shift, quit; and Ctrl-C. Anything
# that would lose words asks first, with the safe answer as the default.
. "$(dirname "$0")/lib.sh"

words="Words worth keeping"

sk_case "Esc opens the menu; '5 Back to the story' and Esc close it with nothing changed"
sk_fresh
sk_walk_to "What was good?"
sk_type "$words"
sk_keys Escape
sk_wait_dialog "Menu"
sk_wait "1 Help: the keys"
sk_wait "2 Start again: discard this story"
sk_wait "3 End shift: sign out"
sk_wait "4 Quit StoryKiosk"
sk_wait "5 Back to the story"
sk_keys 5
sk_wait_gone "5 Back to the story"
sk_wait "$words"
sk_keys Escape
sk_wait "5 Back to the story"
sk_keys Escape
sk_wait_gone "5 Back to the story"
sk_wait "Step 2 of 12"
sk_type " too"
sk_wait "$words too"
sk_end_case

sk_case "a dialog opened by quick keys ('n Enter', 'a Esc') stays on screen steadily and idles"
sk_fresh
sk_fill_story
# Both keys in one go, as a quick operator types them.
sk_keys n Enter
sk_wait "Yes, delete it"
before=$(sk_cpu_ticks)
sk_steady "Yes, delete it" 1
after=$(sk_cpu_ticks)
sk_eq "the confirmation does not spin the CPU (ticks in 1s under 10)" "$(( after - before < 10 ))" 1
sk_keys Escape
sk_wait_gone "Yes, delete it"
sk_keys C-p
sk_wait "Check your story"
sk_keys a Escape
sk_wait "5 Back to the story"
before=$(sk_cpu_ticks)
sk_steady "5 Back to the story" 1
after=$(sk_cpu_ticks)
sk_eq "the menu does not spin the CPU (ticks in 1s under 10)" "$(( after - before < 10 ))" 1
sk_end_case

sk_case "Start again asks first; 'Keep the story' keeps it; confirming leaves step 1 with empty fields"
sk_fresh
sk_walk_to "What was good?"
sk_type "$words"
sk_keys C-n
sk_wait "What could have been different?"
sk_type "Different words"
sk_keys Escape
sk_wait "2 Start again"
sk_keys 2
sk_wait_dialog "Start again?"
sk_wait_dialog "Everything typed for this story will be deleted and cannot be brought back."
sk_wait "Keep the story"
sk_wait "Delete it and start again"
sk_keys Enter
sk_wait_gone "Delete it and start again"
sk_wait "Different words"
sk_wait "Step 3 of 12"
sk_keys Escape
sk_wait "2 Start again"
sk_keys 2
sk_wait "Delete it and start again"
sk_keys Down Enter
sk_wait "Introduce yourself"
sk_wait "Step 1 of 12"
sk_keys C-n
sk_wait "What was good?"
sk_wait "0 words"
sk_absent "$words"
sk_keys C-n
sk_wait_flat "Write down what they say here."
sk_eq "nothing queued" "$(sk_cli list)" ""
sk_end_case

sk_case "End shift returns to sign-in and the next story records the new operator"
sk_fresh
sk_fill_story "First operator's story"
sk_consent_yes
sk_keys Escape
sk_wait "3 End shift"
sk_keys 3
sk_wait "please sign in"
sk_wait "not signed in"
sk_absent "Sam Carter"
sk_type "Alex Lee"
sk_keys Enter
sk_wait "( ) Volunteer"
sk_keys Down Enter
sk_wait "signed in: Alex Lee (volunteer)"
sk_wait "Hello, my name is Alex Lee."
sk_fill_story "Second operator's story"
sk_consent_yes
sk_eq "stories" "$(sk_export_py 'len(r)')" 2
sk_eq "first story's operator" "$(sk_export_py '[x["operator"] for x in r if x["answers"]["good"] == "First operator'"'"'s story"]')" "[{'name': 'Sam Carter', 'role': 'staff'}]"
sk_eq "second story's operator" "$(sk_export_py '[x["operator"] for x in r if x["answers"]["good"] == "Second operator'"'"'s story"]')" "[{'name': 'Alex Lee', 'role': 'volunteer'}]"
sk_end_case

sk_case "End shift with a story in progress asks first; confirming signs out and keeps nothing"
sk_fresh
sk_walk_to "What was good?"
sk_type "$words"
sk_keys Escape
sk_wait "3 End shift"
sk_keys 3
sk_wait_dialog "End your shift?"
sk_wait "End shift and delete it"
sk_keys Enter
sk_wait_gone "End shift and delete it"
sk_wait "$words"
sk_keys Escape; sk_wait "3 End shift"; sk_keys 3
sk_wait "End shift and delete it"
sk_keys Down Enter
sk_wait "please sign in"
sk_absent "$words"
sk_eq "nothing queued" "$(sk_cli list)" ""
sk_end_case

# Whether quitting loses the story or keeps a draft to resume is the
# program's choice; here: it asks, the safe answer keeps going, and quitting
# exits 0 without queueing anything.
sk_case "Quit with a story in progress asks; 'Keep going' keeps it; quitting exits 0 and queues nothing"
sk_fresh
sk_walk_to "What was good?"
sk_type "$words"
sk_keys Escape
sk_wait "4 Quit StoryKiosk"
sk_keys 4
sk_wait_dialog "Quit StoryKiosk?"
sk_wait_dialog "The story in progress"
sk_wait "Keep going"
sk_keys Enter
sk_wait_gone "Keep going"
sk_wait "$words"
sk_eq "still running" "$(sk_tmux display-message -p -t k '#{pane_dead}')" 0
sk_keys Escape; sk_wait "4 Quit StoryKiosk"; sk_keys 4
sk_wait "Keep going"
sk_keys Down Enter
sk_eq "exit status" "$(sk_wait_exit)" 0
sk_eq "nothing queued" "$(sk_cli list)" ""
sk_end_case

sk_case "with nothing typed on a story box, Quit does not ask and exits 0"
sk_fresh
sk_walk_to "What was good?"
sk_wait "0 words"
sk_keys Escape
sk_wait "4 Quit StoryKiosk"
sk_keys 4
sk_eq "exit status without a question" "$(sk_wait_exit)" 0
sk_absent "Keep going"
sk_end_case

sk_case "Help shows the keys, and closing it goes back to the story"
sk_fresh
sk_walk_to "What was good?"
sk_type "$words"
sk_keys Escape
sk_wait "1 Help"
sk_keys 1
sk_wait_dialog "Help"
sk_wait_dialog "Ctrl-N: next step"
sk_wait_dialog "Ctrl-P: previous step"
sk_wait_dialog "Tab: move to the Back and Next buttons."
sk_wait_dialog "Esc: this menu."
sk_wait_dialog "Home/End"
sk_wait "Close"
sk_keys Enter
sk_wait_gone "Ctrl-N: next step"
sk_wait "$words"
sk_wait "Step 2 of 12"
sk_end_case

sk_case "Ctrl-C asks before quitting; 'Keep going' keeps the story; confirming exits 0"
sk_fresh
sk_walk_to "What was good?"
sk_type "$words"
sk_keys C-c
sk_wait_dialog "Quit StoryKiosk?"
sk_wait "Keep going"
sk_keys Enter
sk_wait_gone "Keep going"
sk_wait "$words"
sk_eq "still running" "$(sk_tmux display-message -p -t k '#{pane_dead}')" 0
sk_keys C-c
sk_wait "Keep going"
sk_keys Down Enter
sk_eq "exit status" "$(sk_wait_exit)" 0
sk_end_case

sk_case "at sign-in, the menu offers help and quit; Ctrl-C there quits at once with 0"
rm -rf "$SK_DIR/queue"
sk_restart 80 24
sk_wait "please sign in"
sk_keys Escape
sk_wait_dialog "Sign in to start taking stories."
sk_wait "2 Quit StoryKiosk"
sk_keys 3
sk_wait_gone "2 Quit StoryKiosk"
sk_wait "please sign in"
sk_keys C-c
sk_eq "exit status" "$(sk_wait_exit)" 0
sk_end_case

sk_case "sign-in needs a name and a role; the name is trimmed and recorded on the story"
rm -rf "$SK_DIR/queue"
sk_restart 80 24
sk_wait "please sign in"
sk_keys C-n
sk_wait_flat "Type your name or staff ID first."
sk_type "   "
sk_keys C-n
sk_wait_flat "Type your name or staff ID first."
sk_type "Nurse 4411  "
sk_keys C-n
sk_wait_flat "Choose whether you are a staff member or a volunteer."
sk_wait "please sign in"
sk_keys Down Down Enter
sk_wait "signed in: Nurse 4411 (volunteer)"
sk_wait "Hello, my name is Nurse 4411."
sk_fill_story
sk_consent_yes
sk_eq "operator recorded, trimmed" "$(sk_export_py 'r[0]["operator"]')" "{'name': 'Nurse 4411', 'role': 'volunteer'}"
sk_end_case
