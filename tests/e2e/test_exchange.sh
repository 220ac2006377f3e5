#!/usr/bin/env bash
# Export and import through the real command, for wards with no network:
# private output files in three formats, an import that reproduces the export
# byte for byte, a bad line that imports nothing, and --mark-exported handing
# each story over once, recorded in its history.
. "$(dirname "$0")/lib.sh"

MAKE_QUEUE=$SK_ROOT/tests/tools/make_queue.py
export SK_BIN
OUT=$SK_DIR/out

# Run storykiosk on queue DB; sets RC, and keeps stdout and stderr in
# $OUT.stdout and $OUT.stderr.
run_on() {
	local db=$1
	shift
	"$SK_BIN" --db "$db" "$@" >"$OUT.stdout" 2>"$OUT.stderr"
	RC=$?
}

# Show what the last command said, after a failed step.
report() {
	sed 's/^/#   out| /' "$OUT.stdout"
	sed 's/^/#   err| /' "$OUT.stderr"
}

mode_of() { stat -c %a "$1"; }

# A queue of 6 stories, every third posted by staff, with awkward text in one.
fresh_queue() {
	rm -rf "$SK_DIR/queue"
	python3 "$MAKE_QUEUE" "$SK_DB" 6 --no-email-every 3 >"$SK_DIR/ids" || sk_fail "make_queue.py failed"
	sk_sql "UPDATE answers SET value = '=SUM(A1) said \"thanks\" \\ twice' || char(10) || '看護師 ' || char(27) || '[31mred'
		WHERE step_key = 'different' AND story_id = (SELECT min(id) FROM stories);"
}

sk_case "export --output writes private files in jsonl, csv and text"
fresh_queue
for format in jsonl csv text; do
	run_on "$SK_DB" export --format "$format" --output "$OUT.$format"
	sk_eq "export --format $format exit status" "$RC" 0 || report
	sk_eq "$format file mode" "$(mode_of "$OUT.$format")" 600
	sk_eq "$format export leaves no partial file" "$(ls "$SK_DIR" | grep -c partial)" 0
done
sk_eq "jsonl has one line per story" "$(wc -l <"$OUT.jsonl")" 6
sk_eq "jsonl equals the plain export" "$(sk_cli export | cmp -s - "$OUT.jsonl" && echo same)" same
sk_eq "csv rows end in CRLF (header + 6)" "$(grep -c $'\r$' "$OUT.csv")" 7
sk_eq "csv header" "$(head -n 1 "$OUT.csv" | cut -d, -f1-3)" '"id","reference","created_at"'
sk_eq "csv formula neutralised" "$(grep -c "'=SUM(A1)" "$OUT.csv")" 1
sk_eq "text has a form per story" "$(grep -c '^Story reference ' "$OUT.text")" 6
sk_eq "text asks both questions" "$(grep -c -e '^What was good?$' -e '^What could have been different?$' "$OUT.text")" 12
sk_eq "text shows staff-posted stories" "$(grep -c '^Email: none — posted by staff for the patient$' "$OUT.text")" 2
for format in csv text; do
	sk_eq "no escape byte in $format" "$(grep -c $'\x1b' "$OUT.$format")" 0
done
run_on "$SK_DB" export --format xml
sk_eq "unknown format exit status" "$RC" 64
sk_end_case

sk_case "import into a second queue reproduces the export byte for byte"
second=$SK_DIR/second/queue.db
run_on "$second" import "$OUT.jsonl"
sk_eq "import exit status" "$RC" 0 || report
sk_eq "import summary" "$(cat "$OUT.stdout")" "imported 6, already here 0"
run_on "$second" export --format jsonl --output "$OUT.again.jsonl"
sk_eq "second export exit status" "$RC" 0 || report
sk_eq "second export equals the first" "$(cmp -s "$OUT.jsonl" "$OUT.again.jsonl" && echo same)" same
run_on "$second" import "$OUT.jsonl"
sk_eq "import again exit status" "$RC" 0 || report
sk_eq "import again skips every story" "$(cat "$OUT.stdout")" "imported 0, already here 6"
sk_eq "stories in the second queue" "$("$SK_BIN" --db "$second" list | wc -l)" 6
first_id=$(head -n 1 "$SK_DIR/ids")
"$SK_BIN" --db "$second" show "$first_id" >"$OUT.show"
sk_eq "show lists the import" "$(grep -c ' imported .* import$' "$OUT.show")" 1
# Withdrawn here, it must not come back with the same export.
run_on "$second" withdraw "$first_id"
sk_eq "withdraw exit status" "$RC" 0 || report
run_on "$second" import "$OUT.jsonl"
sk_eq "import after a withdrawal exit status" "$RC" 0 || report
sk_eq "import after a withdrawal leaves it out" "$(cat "$OUT.stdout")" \
	"imported 0, already here 5, left out as withdrawn here 1"
sk_eq "stories in the second queue" "$("$SK_BIN" --db "$second" list | wc -l)" 5
sk_end_case

sk_case "a bad line 3 is reported by line and field, and nothing is imported"
bad=$SK_DIR/bad.jsonl
python3 - "$OUT.jsonl" "$bad" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
records = [json.loads(l) for l in lines]
with_email = [r for r in records if r["email"]]
record = with_email[0]
record["email"] = "leaky.person.example.org"  # no @: not an address
out = [lines[0], "", json.dumps(record, ensure_ascii=False), lines[1]]
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(out) + "\n")
PY
third=$SK_DIR/third/queue.db
run_on "$third" import "$bad"
sk_eq "bad import exit status" "$RC" 65
sk_eq "message names file, line and field" \
	"$(grep -c -F "$bad:3: email: not a valid address" "$OUT.stderr")" 1 || report
sk_eq "message says nothing was imported" "$(grep -c -F 'Nothing was imported.' "$OUT.stderr")" 1
sk_eq "message does not repeat the address" "$(grep -c leaky "$OUT.stderr")" 0
sk_eq "nothing imported" "$("$SK_BIN" --db "$third" list | wc -l)" 0
run_on "$third" import "$SK_DIR/no-such-file.jsonl"
sk_eq "missing file exit status" "$RC" 66
sk_end_case

sk_case "--mark-exported twice: the second exports nothing; show lists the hand-over"
fresh_queue
run_on "$SK_DB" export --format jsonl --mark-exported --output "$OUT.mark1.jsonl"
sk_eq "first marked export exit status" "$RC" 0 || report
sk_eq "first marked export count" "$(wc -l <"$OUT.mark1.jsonl")" 6
sk_eq "first marked export says so" "$(grep -c 'exported 6 stories and marked them exported' "$OUT.stderr")" 1 || report
sk_eq "first marked file mode" "$(mode_of "$OUT.mark1.jsonl")" 600
run_on "$SK_DB" export --format csv --mark-exported --output "$OUT.mark2.csv"
sk_eq "second marked export exit status" "$RC" 0 || report
sk_eq "second marked export says 0" "$(grep -c 'exported 0 stories' "$OUT.stderr")" 1 || report
sk_eq "second marked export has only the header" "$(wc -l <"$OUT.mark2.csv")" 1
sk_eq "stories marked exported" "$(sk_sql "SELECT count(*) FROM stories WHERE exported_at IS NOT NULL")" 6
sk_eq "one audit row per story" "$(sk_sql "SELECT count(*) FROM audit WHERE event = 'exported'")" 6
sk_cli show "$(head -n 1 "$SK_DIR/ids")" >"$OUT.show"
sk_eq "show lists the exported event" "$(grep -c -E '^  [0-9TZ:-]+  exported ' "$OUT.show")" 1 || sed 's/^/#   /' "$OUT.show"
# A plain export still has every story: marking only guards against repeats.
sk_eq "plain export after marking" "$(sk_cli export | wc -l)" 6
sk_end_case

sk_case "withdrawn stories are never exported"
fresh_queue
sk_sql "UPDATE stories SET status = 'withdrawn' WHERE id = '$(head -n 1 "$SK_DIR/ids")';"
for format in jsonl csv text; do
	sk_eq "withdrawn story absent from $format" \
		"$(sk_cli export --format "$format" | grep -c -F "$(head -n 1 "$SK_DIR/ids")")" 0
done
sk_eq "the others are there" "$(sk_cli export | wc -l)" 5
sk_end_case
