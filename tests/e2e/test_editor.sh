#!/usr/bin/env bash
# The story box editor: new lines, arrows, Home/End, Backspace/Delete over
# accented and non-Latin text give exactly the expected answer; a long paste
# warns past 1,000 words, wraps, scrolls and is stored whole.
. "$(dirname "$0")/lib.sh"

# The rows inside the story box (between its side borders), trimmed.
# Columns are screen cells: a wide character (看) takes two.
box_rows() {
	sk_screen | "$SK_PY" -c '
import sys, unicodedata
def cells(row):
    out = []
    for ch in row:
        out.append(ch)
        if unicodedata.east_asian_width(ch) in "WF":
            out.append("")
    return out
rows = [cells(r) for r in sys.stdin.read().split("\n")]
top = next(i for i, r in enumerate(rows) if "┌" in r)
left = rows[top].index("┌")
right = rows[top].index("┐", left)
for r in rows[top + 1:]:
    if r[left:left + 1] == ["└"]:
        break
    print("".join(r[left + 1:right]).strip())'
}

sk_case "editing keys over several lines produce exactly the expected answer"
sk_fresh
sk_walk_to "What was good?"
sk_type "Hello world"; sk_keys Enter; sk_type "Second line"
sk_wait "Second line"
sk_keys Up Home; sk_type ">> "
sk_keys End BSpace BSpace BSpace BSpace BSpace; sk_type "there"
sk_wait ">> Hello there"
sk_keys Down Home Delete Delete Delete Delete Delete Delete Delete; sk_type "Last "
sk_keys End; sk_type " café"; sk_keys BSpace; sk_type "é"
sk_keys Left Left Left Left; sk_type "au "
sk_keys End Enter; sk_type "看護師さん"
sk_keys Left Left BSpace
sk_keys End Enter BSpace
sk_wait "看護さん"
sk_eq "box rows" "$(box_rows | sed '/^$/d')" ">> Hello there
Last line au café
看護さん"
sk_keys C-n
sk_wait "What could have been different?"
# Backspace at the start and Delete at the end change nothing.
sk_type "ok"; sk_keys Home BSpace End Delete Right
sk_wait "│ ok "
sk_keys C-n
sk_wait "A title for your story"
sk_type "Edits"; sk_keys Enter
sk_wait "Who is telling this story?"; sk_keys Enter
sk_wait "A name to post under"; sk_type "BlueHeron"; sk_keys Enter
sk_wait "Your postcode"; sk_type "LE1 5WW"; sk_keys Enter
sk_wait "Where was your care?"; sk_type "eye"; sk_wait "[ ] Eye Clinic"; sk_keys Enter; sk_wait "Chosen (1)"
sk_keys C-n; sk_wait "Your email address"; sk_keys Down Enter
sk_wait "Check your story"; sk_keys C-n
sk_consent_yes
sk_eq "good, exactly" "$(sk_export_py 'repr(r[0]["answers"]["good"])')" "'>> Hello there\\nLast line au café\\n看護さん'"
sk_eq "different, exactly" "$(sk_export_py 'repr(r[0]["answers"]["different"])')" "'ok'"
sk_end_case

sk_case "a pasted story of 1,100 words warns that it is long, wraps, scrolls and is stored whole"
sk_fresh
sk_walk_to "What was good?"
paste=$SK_DIR/paste.txt
"$SK_PY" - "$paste" <<'PY'
import sys
words = ["w%04d" % i for i in range(1, 1101)]
lines = [" ".join(words[i:i + 55]) for i in range(0, 1100, 55)]
open(sys.argv[1], "w").write("\n".join(lines))
PY
sk_tmux load-buffer -b story "$paste"
sk_tmux paste-buffer -b story -t k
sk_wait "1,100 words - that is long" 10
sk_wait "1,100 words - that is long: stories are best under 1,000 words" 1
# The end of the text is in view; the start has scrolled out of the box.
sk_wait "w1099 w1100"
sk_absent "w0001 "
sk_eq "rows wrap at word boundaries (every row is whole words)" \
	"$(box_rows | grep -v '^$' | grep -cvE '^(w[0-9]{4} ?)+$')" 0
sk_eq "no row is wider than the box" \
	"$(box_rows | awk 'length > 60' | wc -l)" 0
# Page Up all the way shows the start again.
sk_keys PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage PPage
sk_wait "w0001 w0002"
sk_absent "w1100"
# Long is a warning, not a block.
sk_keys C-n
sk_wait "What could have been different?"
sk_keys C-p
sk_wait "1,100 words - that is long"
sk_keys C-n
sk_wait "What could have been different?"
sk_keys C-n
sk_wait "A title for your story"
sk_type "Long"; sk_keys Enter
sk_wait "Who is telling this story?"; sk_keys Enter
sk_wait "A name to post under"; sk_type "BlueHeron"; sk_keys Enter
sk_wait "Your postcode"; sk_type "LE1 5WW"; sk_keys Enter
sk_wait "Where was your care?"; sk_type "eye"; sk_wait "[ ] Eye Clinic"; sk_keys Enter; sk_wait "Chosen (1)"
sk_keys C-n; sk_wait "Your email address"; sk_keys Down Enter
# Before review the text is checked: over 1,000 words is found, and may be left.
sk_wait "Check before they agree"
sk_wait "Found in"
sk_keys 3
sk_wait_gone "Check before they agree"
sk_wait "Check your story"; sk_keys C-n
sk_consent_yes
sk_eq "the length was recorded as a finding" "$(sk_export_py 'r[0]["findings"].get("too_long")')" 1
sk_eq "stored exactly as pasted" "$(sk_export_py 'r[0]["answers"]["good"] == open("'"$paste"'").read()')" True
sk_eq "1,100 words stored" "$(sk_export_py 'len(r[0]["answers"]["good"].split())')" 1100
sk_end_case

sk_case "a long line typed in the box wraps at word boundaries and keeps every word"
sk_fresh
sk_walk_to "What was good?"
long="The ward sister, Zoë, explained every step of the operation to my daughter and me, and she came back after her shift to check that we were both all right before we went home."
sk_type "$long"
sk_wait "went home."
sk_eq "rows joined give the text back" "$(box_rows | grep -v '^$' | paste -sd' ')" "$long"
sk_eq "more than one row used" "$(( $(box_rows | grep -vc '^$') > 2 ))" 1
sk_eq "word count" "$(sk_screen | grep -o '[0-9,]* words (stories')" "$(echo "$long" | wc -w) words (stories"
sk_end_case

sk_case "a one-line answer stops at its limit and says so; control and direction marks are not stored"
sk_fresh
sk_walk_to "A title for your story"
sk_type "$(printf 'x%.0s' $(seq 1 118))abcdef"
sk_wait_flat "This answer has reached its limit of 120 characters."
sk_keys C-n
sk_wait "Who is telling this story?"
sk_keys C-p
sk_wait "A title for your story"
sk_keys End
sk_wait "xab"
sk_absent "xabc"
sk_backspace 120
sk_type "$(printf 'Kind\u202e nurses\u2066 here')"
sk_keys Enter
sk_wait "Who is telling this story?"; sk_keys Enter
sk_wait "A name to post under"; sk_type "BlueHeron"; sk_keys Enter
sk_wait "Your postcode"; sk_type "LE1 5WW"; sk_keys Enter
sk_wait "Where was your care?"; sk_type "eye"; sk_wait "[ ] Eye Clinic"; sk_keys Enter; sk_wait "Chosen (1)"
sk_keys C-n; sk_wait "Your email address"; sk_keys Down Enter
sk_wait "Check your story"; sk_keys C-n
sk_consent_yes
sk_eq "direction overrides dropped" "$(sk_export_py 'r[0]["title"]')" "Kind nurses here"
sk_end_case

# Typing redraws only the rows an edit re-wraps: a word pulled up to the row
# above, or text typed after a resize, must still land where a full redraw
# would put it.
sk_case "deleting inside a word pulls it up a row; typing after a resize wraps as before"
sk_fresh
sk_walk_to "What was good?"
sk_type "Everyone on the ward was kind and they explained everything to us both very clearly."
sk_wait "clearly."
sk_eq "rows as typed" "$(box_rows | sed '/^$/d')" "Everyone on the ward was kind and they
explained everything to us both very
clearly."
# Cut "explained" to "expl": it fits on the row above now, and "clearly." moves up.
sk_keys Up Home
sk_keys Right Right Right Right
sk_keys Delete Delete Delete Delete Delete
sk_wait "they expl"
sk_eq "rows after the cut" "$(box_rows | sed '/^$/d')" "Everyone on the ward was kind and they expl
everything to us both very clearly."
sk_wait "15 words (stories"
sk_tmux resize-window -t k -x 40 -y 10
sk_wait "make this window larger"
sk_tmux resize-window -t k -x 80 -y 24
sk_wait "What was good?"
sk_keys Down Down
sk_type " After the resize the words still wrap at the same place and every word stays whole."
sk_wait "stays whole."
sk_eq "rows after the resize" "$(box_rows | sed '/^$/d')" "Everyone on the ward was kind and they expl
everything to us both very clearly. After
the resize the words still wrap at the same
place and every word stays whole."
sk_wait "31 words (stories"
sk_end_case
