#!/usr/bin/env bash
# Forms: the shipped discharge form (a theme and an extra step) is used end to
# end; a malformed or missing form stops the kiosk before the screen starts,
# naming the file, the line and the problem; capture needs a terminal.
. "$(dirname "$0")/lib.sh"

# Run storykiosk ARGS... under a pseudo-terminal (script), as a person at a
# terminal would; the typescript (everything written to the terminal) goes
# to $SK_DIR/typescript and the exit status is printed.
under_tty() {
	local cmd="env TERM=xterm LANG=C.UTF-8 LC_ALL=C.UTF-8 $(printf '%q' "$SK_BIN") --db $(printf '%q' "$SK_DB")" arg
	for arg in "$@"; do cmd="$cmd $(printf '%q' "$arg")"; done
	script -qec "$cmd" "$SK_DIR/typescript" </dev/null >/dev/null 2>&1
	echo $?
}

# Did the program take over the screen (alternate screen or a clear)?
took_screen() {
	if grep -a -q -e $'\e\[?1049h' -e $'\e\[H\e\[2J' -e $'\e\[2J' "$SK_DIR/typescript"; then echo yes; else echo no; fi
}

# "yes" when the typescript shows the screen taken, then given back (rmcup),
# and only then the text $1: what a person sees is the message, on the
# ordinary screen.
message_after_screen() {
	python3 - "$SK_DIR/typescript" "$1" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
taken = data.find(b"\x1b[?1049h")
given_back = data.rfind(b"\x1b[?1049l")
said = data.rfind(sys.argv[2].encode())
print("yes" if 0 <= taken < given_back < said else "no")
PY
}

sk_case "--form discharge shows its theme and extra step, and the export names the form"
sk_fresh 80 24 --form discharge
sk_wait "Step 1 of 13"
sk_keys C-n
sk_wait "What was good?"
sk_wait "Focus: Leaving hospital (discharge)"
sk_type "Kind staff on the ward."
sk_keys C-n
sk_wait "What could have been different?"
sk_wait "Focus: Leaving hospital (discharge)"
sk_keys C-n
sk_wait "Leaving hospital"
sk_wait "Step 4 of 13"
sk_wait "How was leaving hospital for you?"
sk_wait "Were your medicines"
sk_type "They explained my medicines — all of them."
sk_keys C-n
sk_wait "A title for your story"
sk_type "Going home"; sk_keys Enter
sk_wait "Who is telling this story?"; sk_keys Enter
sk_wait "A name to post under"; sk_type "BlueHeron"; sk_keys Enter
sk_wait "Your postcode"; sk_type "LE1 5WW"; sk_keys Enter
sk_wait "Where was your care?"; sk_type "discharge"; sk_wait "[ ] Discharge Lounge"; sk_keys Enter; sk_wait "Chosen (1)"
sk_keys C-n; sk_wait "Your email address"; sk_keys Down Enter
sk_wait "Check your story"
sk_wait "Leaving hospital"
sk_keys C-n
sk_consent_yes
sk_eq "form" "$(sk_export_py 'r[0]["form"]')" "{'name': 'discharge', 'version': '1'}"
sk_eq "extra step's answer" "$(sk_export_py 'r[0]["answers"]["discharge"]')" "They explained my medicines — all of them."
sk_eq "answer keys in form order" "$(sk_export_py 'list(r[0]["answers"])')" "['good', 'different', 'discharge', 'title', 'role']"
sk_eq "service" "$(sk_export_py 'r[0]["services"][0]["code"]')" "LVH-DIS"
sk_end_case

sk_case "the default form has no theme line and 12 steps, and its name is stored"
sk_fresh 80 24
sk_wait "Step 1 of 12"
sk_fill_story
sk_absent "Focus:"
sk_keys y Enter
sk_wait "Story reference:"
sk_eq "form" "$(sk_export_py 'r[0]["form"]')" "{'name': 'default', 'version': '1'}"
sk_end_case

# Under script rather than tmux: tmux can lose the last output of a program
# that exits at once, and the typescript also shows any screen take-over.
sk_case "a malformed form exits 65 with file:line: problem and never takes the screen"
bad=$SK_DIR/bad.form
printf 'name = bad\nversion = 1\n\n[intro]\ntype = info\ntitle = Hi\ntext = Hello\nthis line is not an attribute\n' > "$bad"
sk_eq "exit status" "$(under_tty --form "$bad")" 65
sk_eq "message names file and line" "$(grep -a -c -F "storykiosk: $bad:8:" "$SK_DIR/typescript")" 1
sk_eq "screen taken over" "$(took_screen)" no
printf 'name = bad\nversion = 1\n\n[intro]\ntype = bogus\ntitle = Hi\ntext = Hello\n' > "$bad"
sk_eq "exit status" "$(under_tty --form "$bad")" 65
sk_eq "message names file, line and problem" \
	"$(grep -a -c -F "$bad:5: unknown step type 'bogus'" "$SK_DIR/typescript")" 1
sk_eq "screen taken over" "$(took_screen)" no
sk_end_case

# storykiosk-form(5): LINE "is 0 when the problem belongs to no single line".
sk_case "a form missing a required step is refused (65): FILE:0: and what is missing"
printf 'name = bad\nversion = 1\n\n[intro]\ntype = info\ntitle = Hi\ntext = Hello\n' > "$bad"
sk_eq "exit status" "$(under_tty --form "$bad")" 65
sk_eq "message as the man page gives it" \
	"$(grep -a -c -F "storykiosk: $bad:0: the form has no username step" "$SK_DIR/typescript")" 1
sk_eq "screen taken over" "$(took_screen)" no
sk_end_case

sk_case "a form file that does not exist exits 66 and names it"
sk_eq "exit status" "$(under_tty --form "$SK_DIR/missing.form")" 66
sk_eq "message names the file" "$(grep -a -c -F "storykiosk: $SK_DIR/missing.form" "$SK_DIR/typescript")" 1
sk_eq "screen taken over" "$(took_screen)" no
sk_end_case

sk_case "capture refuses to start without a terminal (78) and says why"
sk_cli </dev/null >"$SK_DIR/out" 2>"$SK_DIR/err"
sk_eq "exit status" "$?" 78
sk_eq "says it needs a terminal" "$(grep -c 'needs a terminal' "$SK_DIR/err")" 1
sk_eq "nothing on stdout" "$(wc -c <"$SK_DIR/out")" 0
sk_cli capture </dev/null >/dev/null 2>&1
sk_eq "'capture' too" "$?" 78
sk_end_case

sk_case "--services FILE uses another catalogue; a malformed one exits 65 naming file and line, on the screen it gave back"
cat > "$SK_DIR/services.txt" <<'CAT'
# a test catalogue
TST-1 | Test Ward Alpha | LE1 5WW
TST-2 | Test Clinic Beta |
CAT
sk_fresh 80 24 --services "$SK_DIR/services.txt"
sk_walk_to "Where was your care?"
sk_wait "[ ] Test Ward Alpha"
sk_wait "[ ] Test Clinic Beta"
sk_absent "Eye Clinic"
sk_type "beta"
sk_wait "[ ] Test Clinic Beta"
sk_absent "Test Ward Alpha"
sk_keys Enter
sk_wait "Chosen (1): Test Clinic Beta"
sk_keys C-n; sk_wait "Your email address"; sk_keys Down Enter
sk_wait "Check your story"; sk_keys C-n
sk_consent_yes
sk_eq "service from the other catalogue" "$(sk_export_py 'r[0]["services"]')" "[{'code': 'TST-2', 'name': 'Test Clinic Beta'}]"
printf 'TST-1 | Test Ward Alpha | LE1 5WW\nthis is not a service line\n' > "$SK_DIR/bad-services.txt"
sk_eq "exit status" "$(under_tty --services "$SK_DIR/bad-services.txt")" 65
sk_eq "message names file and line" "$(grep -a -c -F "$SK_DIR/bad-services.txt:2:" "$SK_DIR/typescript")" 1
# The services are read once the sign-in screen is up (start-up time, issue 6),
# so a bad file closes the kiosk at once and says why after giving the screen back.
sk_eq "message after the screen is given back" "$(message_after_screen "$SK_DIR/bad-services.txt:2:")" yes
sk_end_case
