#!/usr/bin/env bash
# The command line: help, version, usage errors and their exit codes; list,
# show, stats and export over a queue filled through the real kiosk; contact
# details never printed by list or show; private files and directories.
. "$(dirname "$0")/lib.sh"

email="jo.bloggs@example.org"

sk_case "--help and --version exit 0 and print to stdout"
out=$("$SK_BIN" --help 2>"$SK_DIR/err"); status=$?
sk_eq "--help status" "$status" 0
sk_eq "--help usage line" "$(echo "$out" | head -1)" "Usage: storykiosk [OPTIONS] [COMMAND]"
sk_eq "--help lists export" "$(echo "$out" | grep -c '^  export')" 1
sk_eq "--help stderr empty" "$(wc -c <"$SK_DIR/err")" 0
"$SK_BIN" -h >/dev/null; sk_eq "-h status" "$?" 0
"$SK_BIN" help >/dev/null; sk_eq "help command status" "$?" 0
out=$("$SK_BIN" --version); status=$?
sk_eq "--version status" "$status" 0
sk_eq "--version format" "$(echo "$out" | grep -cE '^storykiosk [0-9]+\.[0-9]+')" 1
sk_end_case

sk_case "usage errors exit 64 with a message on stderr"
"$SK_BIN" --db "$SK_DB" frobnicate >"$SK_DIR/out" 2>"$SK_DIR/err"
sk_eq "unknown command status" "$?" 64
sk_eq "unknown command named" "$(grep -c "unknown command 'frobnicate'" "$SK_DIR/err")" 1
sk_eq "nothing on stdout" "$(wc -c <"$SK_DIR/out")" 0
"$SK_BIN" --db "$SK_DB" --no-such-option list >/dev/null 2>&1
sk_eq "unknown option status" "$?" 64
"$SK_BIN" --db "$SK_DB" show >/dev/null 2>"$SK_DIR/err"
sk_eq "show without an id" "$?" 64
sk_eq "says what is missing" "$(grep -c 'show needs' "$SK_DIR/err")" 1
"$SK_BIN" --db "$SK_DB" export --format xml >/dev/null 2>&1
sk_eq "unknown export format" "$?" 64
"$SK_BIN" --db "$SK_DB" list extra-word >/dev/null 2>&1
sk_eq "unexpected argument" "$?" 64
sk_end_case

# Two stories through the real kiosk: one with email and postcode, one posted
# by staff with "No postcode" (the service's postcode is kept, not shown).
sk_case "list, show, stats and export over two stories taken at the kiosk"
sk_fresh
sk_fill_story "Zoë was kind" "Nothing" "First story" "BlueHeron" "NG9 8ZU" "ward 7" "$email"
sk_keys y Enter
sk_wait "Story reference:"
sk_keys Enter
sk_wait "Introduce yourself"
sk_keys C-n; sk_wait "What was good?"; sk_type "Second story words"; sk_keys C-n
sk_wait "What could have been different?"; sk_keys C-n
sk_wait "A title for your story"; sk_type "Second story"; sk_keys Enter
sk_wait "Who is telling this story?"; sk_keys Enter
sk_wait "A name to post under"; sk_type "GreenKite"; sk_keys Enter
sk_wait "Your postcode"; sk_keys Down Enter
sk_wait "Where was your care?"; sk_type "eye"; sk_wait "[ ] Eye Clinic"; sk_keys Enter; sk_wait "Chosen (1)"
sk_keys C-n; sk_wait "Your email address"; sk_keys Down Enter
sk_wait "Check your story"; sk_keys C-n
sk_consent_yes
first=$(sk_export_py '[x["id"] for x in r if x["title"] == "First story"][0]')
second=$(sk_export_py '[x["id"] for x in r if x["title"] == "Second story"][0]')
sk_eq "two v4 UUIDs" "$(echo "$first $second" | grep -cE '^([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}( |$)){2}$')" 1
sk_eq "times are UTC ISO 8601" "$(sk_export_py 'sorted(set(len(x[k]) == 20 and x[k].endswith("Z") and x[k][10] == "T" for x in r for k in ("created_at", "consented_at")))')" "[True]"
sk_eq "started before consented" "$(sk_export_py 'all(x["created_at"] <= x["consented_at"] for x in r)')" True

list=$(sk_cli list); status=$?
sk_eq "list status" "$status" 0
sk_eq "list lines" "$(echo "$list" | wc -l)" 2
sk_eq "list shows both ids" "$(echo "$list" | grep -c -e "$first" -e "$second")" 2
sk_eq "list shows services" "$(echo "$list" | grep -c -e "Ward 7" -e "Eye Clinic")" 2
sk_eq "list never shows email or postcode" \
	"$(echo "$list" | grep -ci -e jo.bloggs -e example.org -e 'NG9 8ZU' -e NG98ZU -e 'NG18 4XW')" 0

show=$(sk_cli show "${first:0:8}"); status=$?
sk_eq "show by 8-character prefix" "$status" 0
sk_eq "show names the story" "$(echo "$show" | grep -c "$first")" 1
sk_eq "show has the title" "$(echo "$show" | grep -c '^Title  *First story$')" 1
sk_eq "show has the words" "$(echo "$show" | grep -c 'Zoë was kind')" 1
sk_eq "show has the username" "$(echo "$show" | grep -c 'BlueHeron')" 1
sk_eq "show never prints email or postcode" \
	"$(echo "$show" | grep -ci -e jo.bloggs -e example.org -e 'NG9 8ZU' -e NG98ZU)" 0
show=$(sk_cli show "$second"); status=$?
sk_eq "show by full id" "$status" 0
sk_eq "show of staff-posted story hides the service's postcode too" \
	"$(echo "$show" | grep -c -e 'NG18 4XW' -e NG184XW)" 0
sk_eq "show says it was posted by staff" "$(echo "$show" | grep -ci 'posted by a staff member')" 1
show=$(sk_cli show "$(echo "${first:0:8}" | tr a-f A-F)"); status=$?
sk_eq "show with an upper-case prefix" "$status" 0

sk_cli show ffffffff >"$SK_DIR/out" 2>"$SK_DIR/err"
sk_eq "show of an unknown id" "$?" 1
sk_eq "unknown id: message on stderr" "$(grep -c 'storykiosk:' "$SK_DIR/err")" 1
sk_eq "unknown id: nothing on stdout" "$(wc -c <"$SK_DIR/out")" 0
sk_cli show 'zz' >/dev/null 2>&1
sk_eq "show of a malformed id" "$?" 1

stats=$(sk_cli stats); status=$?
sk_eq "stats status" "$status" 0
sk_eq "stats: queued" "$(echo "$stats" | grep -E '^ +queued +2$' | wc -l)" 1
sk_eq "stats: total" "$(echo "$stats" | grep -E '^ +total +2$' | wc -l)" 1
sk_eq "stats: by service" "$(echo "$stats" | grep -E '^ +1 +(LVH-W7|MGH-EYE) ' | wc -l)" 2
sk_eq "stats: staff-posted share" "$(echo "$stats" | grep 'Posted by staff')" \
	"Posted by staff for the patient (no email): 1 of 2 (50.0%) - guidance says fewer than 5%"

sk_eq "export: 2 JSON lines" "$(sk_export_py 'len(r)')" 2
sk_eq "export: first's email and postcode" "$(sk_export_py '[(x["email"], x["postcode"]) for x in r if x["id"] == "'"$first"'"]')" \
	"[('$email', 'NG9 8ZU')]"
sk_eq "export: second's email and postcode" "$(sk_export_py '[(x["email"], x["postcode"], x["posted_by_staff"]) for x in r if x["id"] == "'"$second"'"]')" \
	"[(None, 'NG18 4XW', True)]"
(umask 022 && sk_cli export --output "$SK_DIR/export.jsonl" 2>/dev/null)
sk_eq "export --output status" "$?" 0
sk_eq "export file mode (even with umask 022)" "$(stat -c %a "$SK_DIR/export.jsonl")" 600
sk_cli export > "$SK_DIR/stdout.jsonl"
sk_eq "export file equals export to stdout" "$(cmp -s "$SK_DIR/export.jsonl" "$SK_DIR/stdout.jsonl" && echo same)" same
sk_eq "no partial files left" "$(ls "$SK_DIR" | grep -c partial)" 0
# Overwriting an existing, world-readable file leaves a private one.
echo old > "$SK_DIR/old.jsonl"; chmod 644 "$SK_DIR/old.jsonl"
sk_cli export --output "$SK_DIR/old.jsonl" 2>/dev/null
sk_eq "overwritten export mode" "$(stat -c %a "$SK_DIR/old.jsonl")" 600
sk_eq "overwritten export content" "$(cmp -s "$SK_DIR/old.jsonl" "$SK_DIR/stdout.jsonl" && echo same)" same
sk_cli export --output "$SK_DIR/no/such/dir/x.jsonl" 2>/dev/null
sk_eq "export to a missing directory" "$?" 73
sk_end_case

sk_case "the queue directory is 0700 and the files 0600, even with umask 022"
rm -rf "$SK_DIR/queue"
(umask 022 && sk_cli list >/dev/null)
sk_eq "queue directory mode" "$(stat -c %a "$SK_DIR/queue")" 700
sk_eq "queue file mode" "$(stat -c %a "$SK_DB")" 600
# After a story is taken at the kiosk (which writes the WAL), all still private.
rm -rf "$SK_DIR/queue"
SK_ENV="sh -c 'umask 022; exec \"\$0\" \"\$@\"'" sk_fresh
sk_fill_story
sk_keys y Enter
sk_wait "Story reference:"
sk_eq "queue directory mode after capture" "$(stat -c %a "$SK_DIR/queue")" 700
for f in "$SK_DB" "$SK_DB-wal" "$SK_DB-shm"; do
	[ -e "$f" ] && sk_eq "mode of $(basename "$f")" "$(stat -c %a "$f")" 600
done
sk_eq "no other files in the queue directory" "$(find "$SK_DIR/queue" -type f ! -perm 600 | wc -l)" 0
sk_end_case

sk_case "STORYKIOSK_DB picks the queue when --db is not given; --db wins over it"
rm -rf "$SK_DIR/env" "$SK_DIR/flag"
STORYKIOSK_DB="$SK_DIR/env/q.db" "$SK_BIN" list >/dev/null
sk_eq "queue made where STORYKIOSK_DB says" "$(test -f "$SK_DIR/env/q.db" && echo yes)" yes
STORYKIOSK_DB="$SK_DIR/env/q.db" "$SK_BIN" --db "$SK_DIR/flag/q.db" list >/dev/null
sk_eq "--db wins" "$(test -f "$SK_DIR/flag/q.db" && echo yes)" yes
XDG_DATA_HOME="$SK_DIR/xdg" STORYKIOSK_DB= "$SK_BIN" list >/dev/null
sk_eq "default under XDG_DATA_HOME/storykiosk" "$(test -f "$SK_DIR/xdg/storykiosk/queue.db" && echo yes)" yes
sk_eq "default directory private" "$(stat -c %a "$SK_DIR/xdg/storykiosk")" 700
sk_end_case
