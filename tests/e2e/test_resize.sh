#!/usr/bin/env bash
# Resizing the terminal mid-story: too small asks for a larger window and
# ignores keys; larger again shows the same story laid out for the new size;
# the story is exported exactly as typed. Also the smallest supported size.
. "$(dirname "$0")/lib.sh"

good='Zoë told me — «merci» — about 看護師 care.'

# Python over the screen rows (list s) for layout checks.
screen_py() { sk_screen | "$SK_PY" -c 'import sys; s = sys.stdin.read().split("\n"); print(eval(sys.argv[1]))' "$1"; }

sk_case "resize 80x24 -> 40x10 -> 120x40 mid-story: asks for a larger window, ignores keys, keeps the text"
sk_fresh 80 24
sk_walk_to "What was good?"
sk_type "$good"
sk_wait "$good"
sk_tmux resize-window -t k -x 40 -y 10
sk_wait "make this window larger"
sk_absent "What was good?"
# Keys while too small change nothing: not the text, not the step, no menu.
sk_type "XYZ"
sk_keys BSpace BSpace BSpace BSpace BSpace C-n Escape Enter
sk_input_drained
sk_tmux resize-window -t k -x 120 -y 40
sk_wait "What was good?"
sk_wait_gone "make this window larger"
sk_wait "Step 2 of 12"
sk_wait "$good"
sk_absent "XYZ"
sk_absent "5 Back to the story"
sk_absent "What could have been different?"
sk_eq "word count unchanged" "$(sk_screen | grep -o '[0-9]* words (stories' )" "9 words (stories"
# Laid out for 120 columns: the rules and the box use the width, the buttons
# sit at the right edge, the hints are beside the box.
sk_eq "bottom rule is full width" "$(screen_py 'len(s[38].rstrip())')" 120
sk_eq "buttons at the right edge" "$(screen_py 's[39].rstrip().endswith("[ Back ] [ Next ]") and len(s[39].rstrip()) > 110')" True
sk_eq "box wider than at 80 columns" "$(screen_py 'max(len(r.rstrip()) for r in s if "┌" in r) > 100')" True
sk_eq "hints beside the box" "$(screen_py 'any(r.find("Ask, if it helps:") > 85 for r in s)')" True
sk_keys C-n
sk_wait "What could have been different?"
sk_type "Nothing"; sk_keys C-n
sk_wait "A title for your story"
sk_type "Resized"; sk_keys Enter
sk_wait "Who is telling this story?"; sk_keys Enter
sk_wait "A name to post under"; sk_type "BlueHeron"; sk_keys Enter
sk_wait "Your postcode"; sk_type "LE1 5WW"; sk_keys Enter
sk_wait "Where was your care?"; sk_type "ward 7"; sk_wait "[ ] Ward 7"; sk_keys Enter; sk_wait "Chosen (1)"
sk_keys C-n; sk_wait "Your email address"; sk_keys Down Enter
sk_wait "Check your story"; sk_keys C-n
sk_consent_yes
sk_eq "exported exactly as typed" "$(sk_export_py 'r[0]["answers"]["good"]')" "$good"
sk_eq "title" "$(sk_export_py 'r[0]["title"]')" "Resized"
sk_end_case

sk_case "a story at 120x40 from the start, shrunk to 80x24 at the services step, is exported whole"
sk_fresh 120 40
sk_walk_to "What was good?"
sk_eq "hints beside the box" "$(screen_py 'any(r.find("Ask, if it helps:") > 85 for r in s)')" True
sk_type "$good"
sk_keys C-n
sk_wait "What could have been different?"
sk_keys C-n
sk_wait "A title for your story"; sk_type "Big screen"; sk_keys Enter
sk_wait "Who is telling this story?"; sk_keys Down Enter
sk_wait "A name to post under"; sk_type "RiversideWalker"; sk_keys Enter
sk_wait "Your postcode"; sk_type "ng18 4xw"; sk_keys Enter
sk_wait "Where was your care?"
sk_type "ward"
sk_wait "[ ] Cedar Ward"
sk_tmux resize-window -t k -x 80 -y 24
sk_wait_gone "Cedar Ward"
sk_wait "│ ward "
sk_wait "[ ] Ward 7"
sk_type " 8"
sk_wait "[ ] Ward 8 – Stroke Unit"
sk_keys Enter
sk_wait "Chosen (1): Ward 8 – Stroke Unit"
sk_tmux resize-window -t k -x 120 -y 40
sk_wait "Chosen (1): Ward 8 – Stroke Unit"
sk_keys C-n
sk_wait "Your email address"; sk_type "pat@example.org"; sk_keys Enter
sk_wait "Read the address back"; sk_keys Enter
sk_wait "Check your story"
sk_wait "Ward 8 – Stroke Unit"
sk_wait "A carer"
sk_keys C-n
sk_consent_yes
sk_eq "good" "$(sk_export_py 'r[0]["answers"]["good"]')" "$good"
sk_eq "different left empty" "$(sk_export_py 'r[0]["answers"].get("different") in (None, "")')" "True"
sk_eq "role" "$(sk_export_py 'r[0]["role"]')" "carer"
sk_eq "service" "$(sk_export_py 'r[0]["services"]')" "[{'code': 'LVH-W8', 'name': 'Ward 8 – Stroke Unit'}]"
sk_eq "postcode" "$(sk_export_py 'r[0]["postcode"]')" "NG18 4XW"
sk_end_case

sk_case "too small: the request for a larger window shows the size needed in full"
sk_fresh 80 24
sk_tmux resize-window -t k -x 40 -y 10
sk_wait "make this window larger"
sk_wait_flat "at least 60 x 18" 2
sk_end_case

sk_case "keys pressed in a dialog while the window is too small change nothing"
sk_fresh 80 24
sk_walk_to "What was good?"
sk_type "Precious words"
sk_keys Escape
sk_wait "5 Back to the story"
sk_tmux resize-window -t k -x 40 -y 10
sk_wait "make this window larger"
# Blind keys: "2 Start again", then Down and Enter on "Delete it and start again".
sk_keys 2
sk_keys Down Enter
sk_input_drained
sk_tmux resize-window -t k -x 80 -y 24
sk_wait_gone "make this window larger"
# Still the menu, still the same story: nothing was chosen blind.
sk_wait "5 Back to the story" 2
sk_absent "Delete it and start again"
sk_wait "Step 2 of 12"
sk_keys Escape
sk_wait_gone "5 Back to the story"
sk_wait "Precious words" 2
sk_wait "Step 2 of 12"
sk_end_case

sk_case "at the smallest size (60x18) the footer shows every key"
sk_fresh 60 18
sk_wait "^N Next"
sk_wait "Esc Menu" 2
sk_end_case

sk_case "at 60x18 the sign-in screen shows its 'You are:' label and both roles"
rm -rf "$SK_DIR/queue"
sk_restart 60 18
sk_wait "please sign in"
sk_wait "( ) Staff member"
sk_wait "( ) Volunteer"
sk_wait "You are:" 2
sk_end_case

sk_case "at 60x18 the story box shows only what was typed"
sk_fresh 60 18
sk_walk_to "What was good?"
sk_type "Good"
sk_wait "Good"
sk_wait "1 word"
sk_eq "rows inside the box hold only the typed text" \
	"$(sk_screen | "$SK_PY" -c '
import sys
rows = sys.stdin.read().split("\n")
top = next(i for i, r in enumerate(rows) if "┌" in r)
bottom = next(i for i, r in enumerate(rows) if "└" in r and i > top)
inner = [r[r.index("│") + 1:r.rindex("│")].strip() for r in rows[top + 1:bottom]]
print([x for x in inner if x])')" "['Good']"
sk_end_case

sk_case "at 60x18 the whole consent statement can be read before answering"
sk_fresh 60 18
sk_fill_story
sk_wait "( ) Yes - they agree"
# Shown at once, or reachable with Page Down (which must not answer for them).
sk_flat | grep -qF "You can withdraw your story at any time" || sk_keys NPage
sk_wait_flat "You can withdraw your story at any time" 2
sk_wait_flat "Do you agree to your story being published?" 2
sk_wait "( ) Yes - they agree"
sk_eq "nothing queued" "$(sk_cli list)" ""
sk_end_case
