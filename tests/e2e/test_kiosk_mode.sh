#!/usr/bin/env bash
# Kiosk mode: refused without an exit PIN; set-pin stores only an Argon2id hash
# in a private file; Ctrl-C, Ctrl-Z and Ctrl-\ do nothing; leaving and ending
# the shift need the PIN, wrong PINs are refused and slowed down.
. "$(dirname "$0")/lib.sh"

# Keep the operator's own config files out of the test.
export HOME=$SK_DIR/home XDG_CONFIG_HOME=$SK_DIR/config
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
CONF=$SK_DIR/kiosk.conf
PIN=2468

# "stopped" (SIGTSTP took hold) or "running" (sleeping counts) for process PID.
run_state() { awk '{print ($3 == "T" || $3 == "t") ? "stopped" : "running"}' "/proc/$1/stat"; }

# Is the kiosk still running? "yes" or "no".
alive() { if sk_kiosk_pid >/dev/null; then echo yes; else echo no; fi; }

sha() { if [ -e "$1" ]; then sha256sum <"$1"; else echo absent; fi; }

# A new queue and the kiosk with ARGS, signed in and typing at "What was good?".
start_typing() {
	local pid
	pid=$(sk_kiosk_pid) && kill -9 "$pid" && sk_wait_pid_gone "$pid"
	rm -rf "$SK_DIR/queue"
	sk_respawn "$@" || return 1
	sk_sign_in "Sam Carter" || return 1
	sk_keys C-n
	sk_wait "What was good?" || return 1
	sk_type "Pinmarker: the ward was calm at night."
	sk_wait "Pinmarker: the ward was calm at night."
}

# Type a PIN into the PIN dialog and press Enter.
enter_pin() {
	sk_wait_dialog "Type the exit PIN" || return 1
	sk_type "$1"
	sk_keys Enter
}

sk_case "--kiosk (or kiosk = yes) without an exit PIN refuses to start: exit 78, and says to run set-pin"
# Under a shell that stays (sk_start_sh): a pane whose program exits at once
# can lose its last output (tmux closes the pane's terminal on the exit, and
# now and then before it has read what was written).
sk_start_sh 80 24 "" --kiosk
sk_eq "exit status with --kiosk" "$(sk_sh_exit)" 78
sk_pane_all | grep -qF "storykiosk set-pin" || sk_fail "no set-pin advice on screen: $(sk_pane_all)"
sk_conf "$SK_DIR/nopin.conf" "kiosk = yes"
sk_start_sh 80 24 "" --config "$SK_DIR/nopin.conf"
sk_eq "exit status with kiosk = yes" "$(sk_sh_exit)" 78
sk_pane_all | grep -qF "storykiosk set-pin" || sk_fail "no set-pin advice on screen: $(sk_pane_all)"
# Refused before the queue is even opened: nothing is created.
[ -e "$SK_DB" ] && sk_fail "the refused kiosk created its queue file"
sk_end_case

sk_case "set-pin writes an Argon2id pin_hash to a 0600 config, keeps its other settings, and never the PIN itself"
sk_conf "$CONF" "kiosk = yes" "idle_timeout = 10m"
chmod 0644 "$CONF"
printf '%s\n%s\n' "$PIN" "$PIN" | "$SK_BIN" --config "$CONF" set-pin >"$SK_DIR/set-pin.out" 2>&1
rc=$?
sk_eq "exit status" "$rc" 0
sk_eq "pin_hash lines" "$(grep -cE '^pin_hash = \$argon2id\$v=19\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$' "$CONF")" 1
sk_eq "the PIN in the file" "$(grep -c "$PIN" "$CONF")" 0
sk_eq "file mode" "$(stat -c %a "$CONF")" 600
sk_eq "other settings kept" "$(grep -c -e '^kiosk = yes$' -e '^idle_timeout = 10m$' "$CONF")" 2
sk_eq "temporary files left" "$(ls "$SK_DIR" | grep -c 'kiosk.conf.')" 0
# Setting it again replaces the hash (one line, a new salt).
before=$(grep pin_hash "$CONF")
printf '%s\n%s\n' "$PIN" "$PIN" | "$SK_BIN" --config "$CONF" set-pin >/dev/null 2>&1
sk_eq "pin_hash lines after setting again" "$(grep -c pin_hash "$CONF")" 1
[ "$(grep pin_hash "$CONF")" != "$before" ] || sk_fail "the same hash twice: no fresh salt"
sk_end_case

sk_case "set-pin with two different PINs, a 3-character PIN or no PIN exits 64 and changes nothing"
for input in "$PIN\n1357\n" "246\n246\n" "" "$PIN\n"; do
	for file in "$CONF" "$SK_DIR/none.conf"; do
		before=$(sha "$file")
		printf "$input" | "$SK_BIN" --config "$file" set-pin >"$SK_DIR/bad.out" 2>&1
		rc=$?
		sk_eq "exit status for input [$input] into $(basename "$file")" "$rc" 64
		sk_eq "$(basename "$file") after input [$input]" "$(sha "$file")" "$before"
		grep -q "nothing changed" "$SK_DIR/bad.out" || sk_fail "no 'nothing changed' for [$input]: $(cat "$SK_DIR/bad.out")"
	done
done
sk_eq "temporary files left" "$(ls "$SK_DIR" | grep -c '\.conf\.')" 0
sk_end_case

sk_case "in kiosk mode Ctrl-C, Ctrl-Z and Ctrl-\\ (and SIGINT, SIGQUIT, SIGTSTP) do nothing: same process, same screen, story intact"
start_typing --config "$CONF"
pid=$(sk_kiosk_pid)
sk_input_drained
before=$(sk_screen)
for key in C-c C-z 'C-\' ; do
	sk_keys "$key"
	sk_input_drained
	sk_eq "screen after $key" "$(sk_screen)" "$before" || sk_show_screen
	sk_eq "process after $key" "$(sk_kiosk_pid)" "$pid"
	sk_eq "process state after $key" "$(run_state "$pid")" running
done
for sig in INT QUIT TSTP; do
	kill "-$sig" "$pid"
	sk_steady "Pinmarker: the ward was calm at night." 1
	sk_eq "process after SIG$sig" "$(sk_kiosk_pid)" "$pid"
	sk_eq "process state after SIG$sig" "$(run_state "$pid")" running
done
sk_eq "screen after the signals" "$(sk_screen)" "$before"
# Still working: the story goes on.
sk_keys C-n
sk_wait "What could have been different?"
sk_keys C-p
sk_wait "Pinmarker: the ward was calm at night."
sk_end_case

sk_case "Esc, Quit asks for the PIN; a wrong PIN is refused with Wrong PIN and a growing wait (keys typed meanwhile are dropped); the right PIN quits with exit 0"
start_typing --config "$CONF"
sk_keys Escape
sk_wait "4 Quit StoryKiosk"
sk_keys 4
sk_wait_dialog "Leaving StoryKiosk needs the exit PIN."
sk_type 1357
sk_wait_dialog "PIN: ****"
t0=$(sk_now_ms)
sk_keys Enter
sk_wait_flat "Wrong PIN. Wait 1 second"
sk_wait_dialog "PIN:" 10
waited=$(( $(sk_now_ms) - t0 ))
[ "$waited" -ge 950 ] || sk_fail "the PIN prompt came back after $waited ms, before the 1 s wait"
sk_absent_flat "PIN: *"
# The second wrong PIN waits longer; the right PIN typed during the wait is
# thrown away, not taken.
enter_pin 9999
t0=$(sk_now_ms)
sk_wait_flat "Wrong PIN. Wait 2 seconds"
sk_type "$PIN"; sk_keys Enter
sk_wait_dialog "PIN:" 10
waited=$(( $(sk_now_ms) - t0 ))
[ "$waited" -ge 1800 ] || sk_fail "the PIN prompt came back after $waited ms, before the 2 s wait"
sk_input_drained
sk_eq "still running after keys typed during the wait" "$(alive)" yes
sk_absent_flat "PIN: *"
enter_pin "$PIN"
sk_wait_dialog "Quit StoryKiosk?"
sk_keys Down Enter
sk_eq "exit status" "$(sk_wait_exit)" 0
sk_eq "the story kept as a draft" \
	"$(sk_sql "SELECT count(*) FROM draft_answers WHERE value = 'Pinmarker: the ward was calm at night.'")" 1
sk_end_case

sk_case "Esc cancels the PIN prompt (Quit and End shift); End shift needs the PIN and then signs out"
start_typing --config "$CONF"
sk_keys Escape
sk_wait "4 Quit StoryKiosk"
sk_keys 4
sk_wait_dialog "Leaving StoryKiosk needs the exit PIN."
sk_type 12
sk_keys Escape
sk_wait_gone "Exit PIN"
sk_wait "Pinmarker: the ward was calm at night."
sk_keys Escape
sk_wait "3 End shift: sign out"
sk_keys 3
sk_wait_dialog "Ending the shift needs the exit PIN."
sk_keys Escape
sk_wait_gone "Exit PIN"
sk_wait "Pinmarker: the ward was calm at night."
sk_wait "signed in: Sam Carter"
sk_keys Escape
sk_wait "3 End shift: sign out"
sk_keys 3
enter_pin "$PIN"
sk_wait_dialog "End your shift?"
sk_keys Down Enter
sk_wait "please sign in"
sk_wait "not signed in"
sk_absent "Pinmarker"
sk_eq "still running" "$(alive)" yes
sk_end_case
