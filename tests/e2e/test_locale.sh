#!/usr/bin/env bash
# Locale and terminal: started under a non-UTF-8 locale (LANG=C, LC_ALL=C, or
# a locale that is not installed) the kiosk falls back to C.UTF-8 and shows
# and stores accented and non-Latin text exactly; the CLI prints it intact.
# Other terminal types (linux, vt100) still work end to end.
. "$(dirname "$0")/lib.sh"

name="Zoë Ångström"
good="Zoë — 看護師さん «merci» — café"

for env in "LANG=C LC_ALL=C" "LANG=C LC_ALL= LC_CTYPE=" "LANG=POSIX LC_ALL=POSIX" "LANG=xx_YY.UTF-8 LC_ALL=xx_YY.UTF-8"; do
	sk_case "under $env the kiosk shows and stores UTF-8 text exactly"
	SK_ENV="$env" SK_OPERATOR="$name" sk_fresh
	sk_wait "signed in: $name (staff)"
	sk_wait "Hello, my name is $name."
	sk_keys C-n
	sk_wait "What was good?"
	sk_wait "You said you felt safe"
	sk_type "$good"
	sk_wait "│ $good "
	sk_wait "6 words"
	# Backspace takes off one whole character, however many bytes it is.
	sk_keys BSpace
	sk_wait "│ ${good%é} "
	sk_type "é"
	sk_keys C-n
	sk_wait "What could have been different?"
	sk_keys C-n
	sk_wait "A title for your story"; sk_type "Ünïcödé"; sk_keys Enter
	sk_wait "Who is telling this story?"; sk_keys Enter
	sk_wait "A name to post under"; sk_type "BlueHeron"; sk_keys Enter
	sk_wait "Your postcode"; sk_type "LE1 5WW"; sk_keys Enter
	sk_wait "Where was your care?"; sk_type "renée"; sk_wait "[ ] Renée Clarke Breast Care Unit"; sk_keys Enter
	sk_wait "Chosen (1): Renée Clarke Breast Care Unit"
	sk_keys C-n; sk_wait "Your email address"; sk_keys Down Enter
	sk_wait "Check your story"
	sk_wait "$good"
	sk_keys C-n
	sk_consent_yes
	sk_eq "operator" "$(sk_export_py 'r[0]["operator"]["name"]')" "$name"
	sk_eq "good" "$(sk_export_py 'r[0]["answers"]["good"]')" "$good"
	sk_eq "title" "$(sk_export_py 'r[0]["title"]')" "Ünïcödé"
	sk_end_case
done

sk_case "the CLI under LC_ALL=C prints stored UTF-8 text intact"
id=$(sk_export_py 'r[0]["id"]')
show=$(LANG=C LC_ALL=C sk_cli show "$id")
sk_eq "show status" "$?" 0
sk_eq "show: operator" "$(echo "$show" | grep -c "^Operator *$name (staff)$")" 1
sk_eq "show: story words" "$(echo "$show" | grep -cF "$good")" 1
sk_eq "list: service name" "$(LANG=C LC_ALL=C sk_cli list | grep -c 'Renée Clarke Breast Care Unit')" 1
sk_eq "export: same bytes as under UTF-8" "$(LANG=C LC_ALL=C sk_cli export | md5sum)" "$(sk_cli export | md5sum)"
sk_end_case

for term in linux vt100; do
	sk_case "with TERM=$term a story is taken and exported exactly"
	SK_TERM=$term sk_fresh
	sk_wait "^N Next"
	sk_fill_story "$good"
	sk_wait "( ) Yes - they agree"
	sk_keys y Enter
	sk_wait "Story reference:"
	sk_eq "good" "$(sk_export_py 'r[0]["answers"]["good"]')" "$good"
	sk_end_case
done
